/* inflight.c — the ring of unsettled deliveries of one consumer group (ascending seq, head..head+len) and the rules
 * for settling and returning an entry. The cursor only moves over a settled prefix, so an ack out of order waits in
 * the ring until everything below it is settled too. */
#include "deliver/inflight.h"
#include "base/textfmt.h"
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_CAP_MS 3600000u
#define RING_KEEP      1024 /* entries an empty ring keeps allocated; a larger one is freed when it empties */

int knoop_ring_push(knoop_group_t *g, uint64_t seq)
{
    if (g->ring_len == g->ring_cap) {
        size_t ncap = g->ring_cap ? g->ring_cap * 2 : 64;
        knoop_inflight_t *n = malloc(ncap * sizeof *n);
        if (!n)
            return -ENOMEM;
        for (size_t i = 0; i < g->ring_len; i++)
            n[i] = *knoop_ring_at(g, i);
        free(g->ring);
        g->ring = n;
        g->ring_cap = ncap;
        g->ring_head = 0;
    }
    knoop_inflight_t *e = knoop_ring_at(g, g->ring_len++);
    memset(e, 0, sizeof *e);
    e->seq = seq;
    return 0;
}

knoop_inflight_t *knoop_ring_find(knoop_group_t *g, uint64_t seq)
{
    if (g->ring_len == 0)
        return NULL;
    /* A stream whose seqs are dense (the usual case for a busy stream) finds it at once. */
    uint64_t first = knoop_ring_at(g, 0)->seq;
    if (seq >= first && seq - first < g->ring_len && knoop_ring_at(g, (size_t)(seq - first))->seq == seq)
        return knoop_ring_at(g, (size_t)(seq - first));
    size_t lo = 0, hi = g->ring_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint64_t s = knoop_ring_at(g, mid)->seq;
        if (s == seq)
            return knoop_ring_at(g, mid);
        if (s < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

knoop_inflight_t *knoop_ring_insert(knoop_group_t *g, uint64_t seq)
{
    knoop_inflight_t *e = knoop_ring_find(g, seq);
    if (e)
        return e;
    if (knoop_ring_push(g, seq) != 0)
        return NULL;
    knoop_ring_at(g, g->ring_len - 1)->state = INFLIGHT_ACKED; /* settled until requeue says otherwise */
    for (size_t i = g->ring_len - 1; i > 0 && knoop_ring_at(g, i - 1)->seq > seq; i--) {
        knoop_inflight_t t = *knoop_ring_at(g, i - 1);
        *knoop_ring_at(g, i - 1) = *knoop_ring_at(g, i);
        *knoop_ring_at(g, i) = t;
    }
    return knoop_ring_find(g, seq);
}

void knoop_ring_settle(knoop_group_t *g)
{
    while (g->ring_len && knoop_ring_at(g, 0)->state == INFLIGHT_ACKED) {
        if (knoop_ring_at(g, 0)->seq > g->acked_seq) /* a requeued dead letter lies below the cursor */
            g->acked_seq = knoop_ring_at(g, 0)->seq;
        g->ring_head = g->ring_head + 1 == g->ring_cap ? 0 : g->ring_head + 1;
        g->ring_len--;
    }
    if (g->ring_len == 0 && g->next_seq > 0 && g->next_seq - 1 > g->acked_seq)
        g->acked_seq = g->next_seq - 1;
    if (g->ring_len == 0 && g->ring_cap > RING_KEEP) { /* a burst is over: its memory goes back */
        free(g->ring);
        g->ring = NULL;
        g->ring_cap = g->ring_head = 0;
    }
}

void knoop_ring_release_member(knoop_inflight_t *e)
{
    knoop_sub_t *m = e->member;
    if (m) {
        m->in_flight--;
        m->bytes_out -= e->bytes;
        if (m->peer) {
            m->peer->deliveries_out--;
            m->peer->delivery_bytes_out -= e->bytes;
        }
    }
    e->member = NULL;
    e->bytes = 0;
}

void knoop_ring_unpush(knoop_group_t *g)
{
    if (g->ring_len)
        g->ring_len--;
}

knoop_inflight_t *knoop_ring_ack(knoop_group_t *g, uint64_t seq)
{
    knoop_inflight_t *e = knoop_ring_find(g, seq);
    if (!e || e->state != INFLIGHT_SENT)
        return NULL;
    knoop_ring_release_member(e);
    e->state = INFLIGHT_ACKED;
    return e;
}

bool knoop_ring_return(knoop_group_t *g, knoop_inflight_t *e, uint64_t max_attempts, uint64_t due_ms, const char *why)
{
    knoop_ring_release_member(e);
    /* kept to the buffer between characters: a cut one would make the dead letter's row unreadable as JSON */
    size_t n = knoop_utf8_whole(why, strnlen(why, sizeof e->reason - 1));
    memcpy(e->reason, why, n);
    e->reason[n] = '\0';
    if (e->attempt - e->attempt_floor >= max_attempts) {
        e->state = INFLIGHT_ACKED;
        return true;
    }
    e->state = INFLIGHT_WAITING;
    e->due_ms = due_ms;
    g->waiting++;
    return false;
}

int knoop_ring_requeue(knoop_group_t *g, uint64_t seq, int64_t dl_id, uint32_t attempts, uint64_t due_ms)
{
    knoop_inflight_t *e = knoop_ring_insert(g, seq);
    if (!e)
        return -ENOMEM;
    if (e->state == INFLIGHT_WAITING)
        return 0;
    if (e->state == INFLIGHT_SENT)
        return -EBUSY;
    e->state = INFLIGHT_WAITING;
    e->due_ms = due_ms;
    e->member = NULL;
    e->dl_id = dl_id;
    if (attempts > e->attempt)
        e->attempt = attempts;
    e->attempt_floor = e->attempt;
    g->waiting++;
    return 0;
}

uint64_t knoop_backoff_max_ms(uint64_t base_ms, uint32_t attempt)
{
    unsigned shift = attempt <= 1 ? 0 : attempt > 16 ? 16 : attempt - 1; /* base_ms <= 1 h: no overflow at << 16 */
    uint64_t d = base_ms << shift;
    return d > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : d;
}

uint64_t knoop_backoff_ms(uint64_t base_ms, uint32_t attempt)
{
    uint64_t d = knoop_backoff_max_ms(base_ms, attempt);
    return d / 2 + (d ? randombytes_uniform((uint32_t)(d / 2 + 1)) : 0); /* [d/2, d] */
}
