/* delivery.c — consumer groups: a durable subscriber name on a stream with one cursor, shared by its member
 * subscriptions (competing consumers). Deliveries stay in a seq-ordered ring until settled (inflight.c); acks
 * advance the cursor over the settled prefix; nacks and visibility timeouts make an entry wait for redelivery with
 * backoff; too many attempts make it a dead letter. The broker never sends a member more than its window (credit).
 * Only the member holding a delivery may settle it; every delivery is recorded for the audit of reads (read_audit.h);
 * a group belongs to the party that created it (group_rules.h). The journal is read and written through typed calls
 * (store/cursors.h, store/entries.h, store/dead_letters.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/log.h"
#include "core/broker.h"
#include "core/frames.h"
#include "deliver/delivery.h"
#include "deliver/delivery_cache.h"
#include "deliver/group_rules.h"
#include "deliver/handlers.h"
#include "deliver/inflight.h"
#include "deliver/read_audit.h"
#include "deliver/op_retry.h"
#include "deliver/party_ref.h"
#include "store/cursors.h"
#include "store/dead_letters.h"
#include "store/entries.h"
#include "store/streams.h"
#include "deliver/streams.h"

#define READ_BATCH 512
/* Seqs a durable group may send beyond what it persisted as delivered: after a crash everything up to the lease is
 * flagged attempt > 1, so the lease is renewed (journaled) before it is used up, never per delivery. */
#define LEASE_SPAN 8192
/* A failed cursor/lease write waits this long before it is tried again, doubling per failure up to the maximum. */
#define CURSOR_RETRY_FIRST_MS 100
#define CURSOR_RETRY_MAX_MS   10000

/* ---- cursor persistence ----------------------------------------------------------------------------------- */

typedef struct cursor_op {
    knoop_jop_t op;
    knoop_group_t *group; /* borrowed: groups live until the broker closes, after the journal */
    int64_t stream_id;
    char name[72];
    uint64_t acked, delivered;
    bool create_stream; /* a stream without messages yet: its row keeps the id the cursor names */
    char stream[64];
    char owner[KNOOP_OWNER_MAX];
} cursor_op_t;

static int apply_cursor(knoop_jtx_t *tx, knoop_jop_t *op)
{
    cursor_op_t *c = (cursor_op_t *)op;
    int64_t now_us = (int64_t)knoop_now_us();
    if (c->create_stream && knoop_store_stream_insert(tx, c->stream_id, c->stream, now_us) != 0)
        return -EIO;
    return knoop_store_cursor_put(tx, c->stream_id, c->name, c->owner, c->acked, c->delivered, now_us);
}

static uint64_t cursor_backoff_ms(uint32_t failures)
{
    uint64_t d = CURSOR_RETRY_FIRST_MS;
    for (uint32_t i = 1; i < failures && d < CURSOR_RETRY_MAX_MS; i++)
        d *= 2;
    return d < CURSOR_RETRY_MAX_MS ? d : CURSOR_RETRY_MAX_MS;
}

/* A failed cursor or lease write is tried again after a backoff (the tick does), never from here: resubmitting at
 * once is a loop as fast as the disk can say it is full. Meanwhile deliveries go on past the lease (a lease is a
 * hint for attempt > 1 after a crash; the cursor, not the lease, is what keeps a message from being lost). */
static void cursor_failed(knoop_broker_t *b, knoop_group_t *g, const cursor_op_t *c, int status)
{
    g->cursor_failures++;
    uint64_t delay = cursor_backoff_ms(g->cursor_failures);
    g->cursor_retry_ms = knoop_now_ms() + delay;
    if (b->stopping) {
        g->cursor_given_up = true;
        knoop_log_error("delivery.cursor_given_up",
                        "stream=%s subscriber=%s acked=%" PRIu64 " stored=%" PRIu64 " error=\"%s\" "
                        "note=\"the broker stops; what was acked after the stored cursor is delivered again\"",
                        g->stream->name, g->name, c->acked, g->persisted_acked == UINT64_MAX ? 0 : g->persisted_acked,
                        strerror(-status));
        return;
    }
    if (!(g->cursor_failures & (g->cursor_failures - 1))) /* 1, 2, 4, 8 ...: a few lines however long it lasts */
        knoop_log_error("delivery.cursor_write_failed",
                        "stream=%s subscriber=%s error=\"%s\" failures=%" PRIu32 " retry_in_ms=%" PRIu64,
                        g->stream->name, g->name, strerror(-status), g->cursor_failures, delay);
}

static void done_cursor(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    cursor_op_t *c = (cursor_op_t *)op;
    knoop_group_t *g = c->group;
    g->cursor_op_pending = false;
    if (status != 0 && c->create_stream)
        g->stream->persisted = false;
    if (status == 0) {
        g->persisted_acked = c->acked;
        g->persisted_delivered = c->delivered;
        if (c->delivered > g->lease_seq)
            g->lease_seq = c->delivered;
        if (g->cursor_failures)
            knoop_log_info("delivery.cursor_write_recovered", "stream=%s subscriber=%s failures=%" PRIu32,
                           g->stream->name, g->name, g->cursor_failures);
        g->cursor_failures = 0;
    } else {
        cursor_failed(b, g, c, status);
    }
    free(c);
    if (g->lease_wait) {
        g->lease_wait = false;
        knoop_group_pump(b, g); /* a failure lets it go on past the lease; its retry waits for the backoff */
    }
}

static bool ephemeral(const knoop_group_t *g)
{
    return g->name[0] == '~';
}

/* Writes the cursor; with want_lease also a new delivery lease (the delivered_seq column) reaching LEASE_SPAN
 * beyond what the stream holds now. */
static void flush_cursor_lease(knoop_broker_t *b, knoop_group_t *g, bool want_lease)
{
    if (ephemeral(g) || g->cursor_given_up)
        return;
    if (g->cursor_op_pending) {
        if (want_lease)
            g->lease_wait = true; /* done_cursor pumps, and the pump asks again */
        return;
    }
    /* After a failure: not before the backoff is over — except once when the broker stops, for the last cursor. */
    if (g->cursor_failures && !b->stopping && knoop_now_ms() < g->cursor_retry_ms)
        return;
    uint64_t delivered = g->lease_seq > g->delivered_seq ? g->lease_seq : g->delivered_seq;
    if (want_lease) {
        uint64_t base = g->stream->last_seq > g->next_seq ? g->stream->last_seq : g->next_seq;
        delivered = base + LEASE_SPAN;
    }
    if (g->acked_seq == g->persisted_acked && delivered == g->persisted_delivered && !g->touch)
        return;
    cursor_op_t *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->op.apply = apply_cursor;
    c->op.done = done_cursor;
    c->group = g;
    c->stream_id = g->stream->id;
    snprintf(c->name, sizeof c->name, "%s", g->name);
    c->acked = g->acked_seq;
    c->delivered = delivered;
    c->create_stream = !g->stream->persisted;
    g->stream->persisted = true;
    snprintf(c->stream, sizeof c->stream, "%s", g->stream->name);
    snprintf(c->owner, sizeof c->owner, "%s", g->owner);
    g->cursor_op_pending = true;
    g->touch = false;
    knoop_journal_submit(b->journal, &c->op);
}

static void flush_cursor(knoop_broker_t *b, knoop_group_t *g)
{
    flush_cursor_lease(b, g, false);
}

/* ---- groups and members ------------------------------------------------------------------------------------ */

static int take_back_retry(void *ctx, int64_t id, uint64_t seq, uint32_t attempts)
{
    knoop_ring_requeue(ctx, seq, id, attempts, knoop_now_ms());
    return 0;
}

/* Dead letters an operator retried (state 'retrying') survive restarts: the group takes them back when it loads. */
static void load_retries(knoop_broker_t *b, knoop_group_t *g)
{
    if (knoop_store_dead_letters_retrying(b->journal, g->stream->name, g->name, take_back_retry, g) != 0)
        knoop_log_error("delivery.retries_not_loaded", "stream=%s subscriber=%s", g->stream->name, g->name);
}

int knoop_group_requeue(knoop_broker_t *b, knoop_group_t *g, uint64_t seq, int64_t dl_id, uint32_t attempts)
{
    int rc = knoop_ring_requeue(g, seq, dl_id, attempts, knoop_now_ms());
    if (rc == 0)
        knoop_group_pump(b, g);
    return rc;
}

uint64_t knoop_seq_at_time(knoop_broker_t *b, int64_t time_us)
{
    return knoop_store_seq_at_time(b->journal, time_us, knoop_journal_last_seq(b->journal));
}

void knoop_group_touch(knoop_broker_t *b, knoop_group_t *g)
{
    g->touch = true; /* written now, or after the write in flight */
    flush_cursor(b, g);
}

knoop_group_t *knoop_group_get(knoop_broker_t *b, knoop_stream_t *s, const char *name, const char *owner,
                               Knoop__StartAt start, uint64_t start_seq, int64_t start_time_us, bool *created)
{
    knoop_group_t *g = knoop_strmap_get(s->groups, name);
    *created = false;
    if (g) {
        if (!g->owner[0] && owner && owner[0]) { /* made before groups had owners: the first party claims it */
            snprintf(g->owner, sizeof g->owner, "%s", owner);
            knoop_log_info("subscriber.claimed", "stream=%s subscriber=%s owner=%s", s->name, name, g->owner);
            knoop_group_touch(b, g);
        }
        return g;
    }
    uint64_t durable = 0, delivered = 0;
    char stored_owner[KNOOP_OWNER_MAX] = "";
    int found =
        name[0] == '~' ? 0 : knoop_store_cursor_get(b->journal, s->id, name, &durable, &delivered, stored_owner);
    if (found < 0) {
        /* Starting such a group anywhere would overwrite its stored cursor: refuse until the journal reads again. */
        knoop_log_error("delivery.cursor_not_read", "stream=%s subscriber=%s", s->name, name);
        return NULL;
    }
    g = calloc(1, sizeof *g);
    if (!g || !(g->name = strdup(name)) || knoop_strmap_put(s->groups, name, g) != 0) {
        if (g)
            free(g->name);
        free(g);
        return NULL;
    }
    *created = true;
    g->stream = s;
    snprintf(g->owner, sizeof g->owner, "%s", stored_owner[0] ? stored_owner : owner ? owner : "");
    /* A stored cursor wins over `start` (docs/protocol.md): a client that always subscribes "from the earliest"
     * must not replay its stream at every reconnect. Moving a stored cursor is the operator's `subscriber rewind`. */
    uint64_t pos;
    switch (found ? KNOOP__START_AT__DURABLE : start) {
    case KNOOP__START_AT__EARLIEST:
        pos = 0;
        break;
    case KNOOP__START_AT__LATEST:
        pos = s->last_seq;
        break;
    case KNOOP__START_AT__SEQ:
        pos = start_seq ? start_seq - 1 : 0;
        break;
    case KNOOP__START_AT__TIME:
        pos = knoop_seq_at_time(b, start_time_us) - 1;
        break;
    default:
        pos = found ? durable : 0;
        break;
    }
    g->acked_seq = pos;
    g->next_seq = pos + 1;
    /* Nothing journaled after start-up was delivered before it: the lease never flags those as redeliveries. */
    if (delivered > b->boot_last_seq)
        delivered = b->boot_last_seq;
    g->delivered_seq = delivered;
    g->lease_seq = delivered;
    g->persisted_acked = found ? durable : UINT64_MAX; /* UINT64_MAX: not yet in the journal */
    if (found && !stored_owner[0] && g->owner[0]) {    /* made before groups had owners: the first party claims it */
        g->touch = true;
        knoop_log_info("subscriber.claimed", "stream=%s subscriber=%s owner=%s", s->name, name, g->owner);
    }
    g->persisted_delivered = delivered;
    flush_cursor(b, g);
    if (!ephemeral(g)) {
        knoop_attempts_load(b, g);
        load_retries(b, g);
    }
    return g;
}

knoop_group_t *knoop_group_find(knoop_broker_t *b, knoop_stream_t *s, const char *name)
{
    knoop_group_t *g = knoop_strmap_get(s->groups, name);
    if (g || name[0] == '~')
        return g;
    uint64_t acked, delivered;
    bool created;
    if (knoop_store_cursor_get(b->journal, s->id, name, &acked, &delivered, NULL) != 1)
        return NULL;
    return knoop_group_get(b, s, name, NULL, KNOOP__START_AT__DURABLE, 0, 0, &created);
}

void knoop_group_free(knoop_group_t *g)
{
    knoop_env_cache_destroy(&g->stream->cache); /* the stream's groups change: it is rebuilt when needed */
    free(g->stored_attempts);
    free(g->ring);
    free(g->name);
    free(g);
}

/* What one connection holds unacked is capped over all its subscriptions (docs/delivery.md): a consumer that does not
 * read costs at most connection_max_unacked_bytes (plus one delivery) in knoopd's queues; the rest waits in the
 * journal. A connection whose answers could not be queued (send_full) is ending: nothing more goes to it. */
static bool connection_has_room(const knoop_broker_t *b, const knoop_peer_t *p)
{
    const knoop_settings_t *s = &b->config->settings;
    return !p->gone && !p->send_full && p->deliveries_out < s->connection_max_unacked &&
           p->delivery_bytes_out < s->connection_max_unacked_bytes;
}

static knoop_sub_t *pick_member(knoop_broker_t *b, knoop_group_t *g)
{
    knoop_sub_t *start = g->rr && g->rr->next_in_group ? g->rr->next_in_group : g->members;
    knoop_sub_t *m = start;
    do {
        if (!m)
            m = g->members;
        if (m->in_flight < m->window && connection_has_room(b, m->peer)) {
            g->rr = m;
            return m;
        }
        m = m->next_in_group ? m->next_in_group : g->members;
    } while (m != start);
    return NULL;
}

static int send_entry(knoop_broker_t *b, knoop_group_t *g, knoop_sub_t *m, knoop_inflight_t *e, const void *env,
                      size_t env_len)
{
    /* The client reference as this member's party sees it (party_ref.h), never the internal one. */
    long at = knoop_envelope_client_ref_at(env, env_len);
    uint8_t stackbuf[2048], *view = NULL;
    if (at >= 0) {
        view = env_len <= sizeof stackbuf ? stackbuf : malloc(env_len);
        if (!view)
            return -ENOMEM;
        knoop_envelope_for_party(b->pseudonym_key, m->peer->party, env, env_len, at, view);
    }
    int rc = knoop_send_deliver(b, m->peer, g->stream->name, e->seq, e->attempt + 1, view ? view : env, env_len);
    if (view && view != stackbuf)
        free(view);
    if (rc != 0)
        return rc;
    e->attempt++;
    knoop_read_audit_add(b, g, m->peer, e->seq, e->attempt, env, env_len); /* who received which message, when */
    e->state = INFLIGHT_SENT;
    e->member = m;
    e->bytes = env_len > UINT32_MAX ? UINT32_MAX : (uint32_t)env_len;
    e->due_ms = knoop_now_ms() + b->config->settings.visibility_timeout_ms;
    m->in_flight++;
    m->bytes_out += e->bytes;
    m->peer->deliveries_out++;
    m->peer->delivery_bytes_out += e->bytes;
    g->delivered++;
    b->stats.delivered++;
    knoop_metrics_count_out(&b->metrics, m->peer->party, env, env_len, e->attempt);
    if (e->attempt > 1)
        g->redeliveries++;
    if (e->seq > g->delivered_seq)
        g->delivered_seq = e->seq;
    return 0;
}

/* ---- reading the stream ------------------------------------------------------------------------------------ */

/* Delivery's reader on the journal, opened on first use and closed by the broker before the journal. */
static knoop_store_entries_t *entries(knoop_broker_t *b)
{
    if (!b->entries_reader && knoop_store_entries_open(b->journal, &b->entries_reader) != 0) {
        knoop_log_error("delivery.reader_failed", "the journal's stream entries cannot be read");
        return NULL;
    }
    return b->entries_reader;
}

typedef struct resend_ctx {
    knoop_broker_t *b;
    knoop_group_t *g;
    knoop_sub_t *m;
    knoop_inflight_t *e;
} resend_ctx_t;

static int resend_envelope(void *ctx, uint64_t seq, const void *env, size_t len)
{
    resend_ctx_t *r = ctx;
    (void)seq;
    return send_entry(r->b, r->g, r->m, r->e, env, len);
}

/* Redelivery needs the envelope again: read one message by seq. -ENOENT: purged by retention while waiting. */
static int resend(knoop_broker_t *b, knoop_group_t *g, knoop_sub_t *m, knoop_inflight_t *e)
{
    knoop_store_entries_t *r = entries(b);
    resend_ctx_t c = {b, g, m, e};
    return r ? knoop_store_entries_envelope(r, e->seq, resend_envelope, &c) : -EIO;
}

static void pump_waiting(knoop_broker_t *b, knoop_group_t *g, uint64_t now)
{
    for (size_t i = 0; i < g->ring_len && g->waiting; i++) {
        knoop_inflight_t *e = knoop_ring_at(g, i);
        if (e->state != INFLIGHT_WAITING || e->due_ms > now)
            continue;
        knoop_sub_t *m = pick_member(b, g);
        if (!m)
            return;
        int rc = resend(b, g, m, e);
        if (rc == 0 || rc == -ENOENT) {
            g->waiting--;
            if (rc == -ENOENT) { /* nothing left to deliver */
                e->state = INFLIGHT_ACKED;
                knoop_attempts_forget(b, g, e);
            }
        } else {
            return; /* the peer cannot take it now; the next tick tries again */
        }
    }
    knoop_ring_settle(g);
}

/* One row for the group: 0 sent (or parked for a retry), 1 the lease is used up, 2 nobody can take it now. */
static int deliver_row(knoop_broker_t *b, knoop_group_t *g, uint64_t seq, const void *env, size_t len)
{
    if (!ephemeral(g) && seq > g->lease_seq && !g->cursor_failures)
        return 1; /* journal a new lease first; done_cursor pumps again (a failing journal: go on, see cursor_failed) */
    knoop_sub_t *m = pick_member(b, g);
    if (!m || knoop_ring_push(g, seq) != 0)
        return 2;
    knoop_inflight_t *e = knoop_ring_at(g, g->ring_len - 1);
    /* Sent before a restart (or before a rewind): this delivery is a redelivery. */
    e->attempt = seq <= g->delivered_seq ? 1 : 0;
    uint32_t stored = g->stored_attempts_len ? knoop_attempts_stored(g, seq) : 0;
    if (stored > e->attempt) { /* it came back before the restart: the count goes on */
        e->attempt = stored;
        e->attempts_row = true;
    }
    if (send_entry(b, g, m, e, env, len) != 0) {
        /* Its queue is full (or it just went): the row stays in the journal and is read again on a later pump,
         * instead of waiting in memory. */
        knoop_ring_unpush(g);
        return 2;
    }
    g->next_seq = seq + 1;
    return 0;
}

/* Fan-out streams (two groups or more) keep their latest envelopes in memory: each row is read once, not per group. */
#define CACHE_ENTRIES 8192
#define CACHE_BYTES   (8u << 20)

/* Two groups or more with members: a group nobody is connected to reads nothing, and a cache for it would only hold
 * memory after its consumers left. */
static bool fan_out(const knoop_stream_t *s)
{
    size_t pos = 0, n = 0;
    void *v;
    while (knoop_strmap_next(s->groups, &pos, NULL, &v))
        if (((knoop_group_t *)v)->members && ++n >= 2)
            return true;
    return false;
}

static knoop_env_cache_t *stream_cache(knoop_stream_t *s)
{
    if (!s->cache && fan_out(s))
        s->cache = knoop_env_cache_new(CACHE_ENTRIES, CACHE_BYTES);
    return s->cache;
}

void knoop_delivery_cache_clear(knoop_broker_t *b)
{
    size_t pos = 0;
    void *v;
    while (knoop_strmap_next(b->streams, &pos, NULL, &v))
        if (((knoop_stream_t *)v)->cache)
            knoop_env_cache_clear(((knoop_stream_t *)v)->cache);
}

/* Serves up to `limit` rows from the cache; returns deliver_row's stop code, or 0 with *served rows. */
static int pump_cached(knoop_broker_t *b, knoop_group_t *g, knoop_env_cache_t *c, uint64_t limit, uint64_t *served)
{
    size_t avail;
    *served = 0;
    const knoop_env_entry_t *e = knoop_env_cache_from(c, g->next_seq, &avail);
    for (; e && *served < limit; e = knoop_env_cache_next(c, e)) {
        int rc = deliver_row(b, g, e->seq, e->data, e->len);
        if (rc != 0)
            return rc;
        (*served)++;
    }
    if (*served < limit && g->next_seq <= knoop_env_cache_hi(c))
        g->next_seq = knoop_env_cache_hi(c) + 1; /* complete up to hi: nothing else there */
    return 0;
}

typedef struct journal_read {
    knoop_broker_t *b;
    knoop_group_t *g;
    knoop_env_cache_t *c;
    bool extend;   /* the rows continue the cache: they go into it */
    uint64_t rows; /* rows the group is done with (sent or parked) */
} journal_read_t;

static int journal_row(void *ctx, uint64_t seq, const void *env, size_t len)
{
    journal_read_t *r = ctx;
    if (r->extend && knoop_env_cache_append(r->c, seq, env, len) != 0) {
        knoop_env_cache_clear(r->c);
        r->extend = false;
    }
    int rc = deliver_row(r->b, r->g, seq, env, len);
    if (rc != 1)
        r->rows++;
    return rc;
}

/* Reads up to `limit` rows from the journal; returns deliver_row's stop code, 0 with *rows, or -EIO. */
static int pump_journal(knoop_broker_t *b, knoop_group_t *g, knoop_env_cache_t *c, uint64_t limit, uint64_t *rows)
{
    knoop_store_entries_t *reader = entries(b);
    *rows = 0;
    if (!reader)
        return -EIO;
    uint64_t last = g->stream->last_seq; /* committed, hence visible to this read */
    journal_read_t r = {b, g, c, c && knoop_env_cache_extends(c, g->next_seq), 0};
    int rc = knoop_store_entries_read(reader, g->stream->id, g->next_seq, limit, journal_row, &r);
    *rows = r.rows;
    if (rc < 0) {
        knoop_log_error("delivery.read_failed", "stream=%s subscriber=%s from_seq=%" PRIu64, g->stream->name, g->name,
                        g->next_seq);
        return rc; /* the next pump reads again from next_seq; what the cache took is complete as far as it goes */
    }
    if (rc == 0 && *rows < limit) {
        /* Everything up to last is committed, hence visible: the stream is read to its end. */
        if (r.extend)
            knoop_env_cache_complete_to(c, last);
        if (g->next_seq <= last)
            g->next_seq = last + 1;
    }
    return rc;
}

static void pump_new(knoop_broker_t *b, knoop_group_t *g)
{
    if (knoop_read_audit_behind(b))
        return; /* the record of reads is this far behind: the tick pumps again once it caught up */
    knoop_env_cache_t *c = stream_cache(g->stream);
    int rc = 0;
    while (rc == 0 && g->next_seq <= g->stream->last_seq) {
        uint64_t room = 0, n = 0;
        for (knoop_sub_t *m = g->members; m; m = m->next_in_group)
            if (connection_has_room(b, m->peer) && m->window > m->in_flight)
                room += m->window - m->in_flight;
        if (room == 0)
            break;
        uint64_t limit = room < READ_BATCH ? room : READ_BATCH;
        if (c && knoop_env_cache_covers(c, g->next_seq))
            rc = pump_cached(b, g, c, limit, &n);
        else
            rc = pump_journal(b, g, c, limit, &n);
    }
    if (rc == 1) {
        flush_cursor_lease(b, g, true);
        g->lease_wait = true;
        return;
    }
    if (!ephemeral(g) && g->next_seq + LEASE_SPAN / 2 > g->lease_seq && !g->cursor_op_pending)
        flush_cursor_lease(b, g, true); /* renew early so the group does not stall on it */
    knoop_ring_settle(g);
}

void knoop_group_pump(knoop_broker_t *b, knoop_group_t *g)
{
    if (!g->members || !b->journal)
        return;              /* no journal: the last peers are freed after it closed (finish_stop) */
    if (g->attempts_stale) { /* it rested (rest_group): the counts it let go of are in the journal */
        g->attempts_stale = false;
        knoop_attempts_load(b, g);
    }
    if (g->waiting)
        pump_waiting(b, g, knoop_now_ms());
    pump_new(b, g);
}

/* The last member left a durable group: what it had out came back (WAITING, due now, counts journaled by
 * knoop_attempts_record). Rather than keep those entries in memory until someone subscribes again — for a consumer
 * that never read, connection_max_unacked of them — the group forgets them and reads them from the journal again;
 * the next pump with a member reloads their counts. Not when the ring holds what the journal cannot give back: an
 * ack above a gap, a dead letter being retried, or a nack's delay still running. The stream's envelope cache goes
 * too when it no longer serves two connected groups. */
static void rest_group(knoop_broker_t *b, knoop_group_t *g)
{
    uint64_t now = knoop_now_ms();
    if (g->stream->cache && !fan_out(g->stream))
        knoop_env_cache_destroy(&g->stream->cache);
    for (size_t i = 0; i < g->ring_len; i++) {
        const knoop_inflight_t *e = knoop_ring_at(g, i);
        if (e->state != INFLIGHT_WAITING || e->dl_id > 0 || e->due_ms > now)
            return;
    }
    if (g->ring_len == 0)
        return;
    (void)b;
    g->ring_len = 0;
    g->waiting = 0;
    g->next_seq = g->acked_seq + 1;
    g->attempts_stale = true;
    knoop_ring_settle(g); /* frees a large ring */
}

void knoop_sub_detach(knoop_broker_t *b, knoop_sub_t *sub)
{
    knoop_group_t *g = sub->group;
    uint64_t now = knoop_now_ms();
    for (size_t i = 0; i < g->ring_len; i++) {
        knoop_inflight_t *e = knoop_ring_at(g, i);
        if (e->state == INFLIGHT_SENT && e->member == sub) {
            knoop_ring_release_member(e);
            e->state = INFLIGHT_WAITING; /* returns at once: the attempt was not the consumer's fault */
            e->due_ms = now;
            e->member = NULL;
            g->waiting++;
            snprintf(e->reason, sizeof e->reason, "subscriber left");
            knoop_attempts_record(b, g, e);
        }
    }
    for (knoop_sub_t **pp = &g->members; *pp; pp = &(*pp)->next_in_group)
        if (*pp == sub) {
            *pp = sub->next_in_group;
            break;
        }
    for (knoop_sub_t **pp = &sub->peer->subs; *pp; pp = &(*pp)->next_on_peer)
        if (*pp == sub) {
            *pp = sub->next_on_peer;
            break;
        }
    if (g->rr == sub)
        g->rr = NULL;
    free(sub);
    if (ephemeral(g) && !g->members) {
        /* Its cursor is nobody's: an ended ephemeral subscription leaves no group behind. */
        knoop_strmap_remove(g->stream->groups, g->name);
        knoop_group_free(g);
        return;
    }
    if (!g->members && !b->stopping)
        knoop_group_touch(b, g); /* the row's updated_us says since when nobody is connected (idle expiry) */
    if (!g->members)
        rest_group(b, g);
    knoop_group_pump(b, g);
}

/* ---- settling -------------------------------------------------------------------------------------------- */

knoop_sub_t *knoop_sub_for(knoop_peer_t *p, const char *stream)
{
    for (knoop_sub_t *s = p->subs; s; s = s->next_on_peer)
        if (strcmp(s->group->stream->name, stream) == 0)
            return s;
    return NULL;
}

/* Settling frees room; the refill waits for the end of this wake-up (streams.c pumps dirty streams once per loop
 * iteration), so a burst of acks costs one journal read of many rows instead of one read per ack. */
void knoop_group_pump_later(knoop_broker_t *b, knoop_group_t *g)
{
    knoop_stream_t *s = g->stream;
    if (!s->dirty) {
        s->dirty = true;
        s->next_dirty = b->dirty_streams;
        b->dirty_streams = s;
    }
}

knoop_sub_t *knoop_sub_required(knoop_broker_t *b, knoop_peer_t *p, const char *stream, const char *frame)
{
    knoop_sub_t *sub = knoop_sub_for(p, stream);
    if (!sub)
        knoop_send_stream_error(b, p, KNOOP__ERROR_CODE__UNKNOWN_STREAM, stream,
                                "%s for stream '%.64s' without a subscription on this connection", frame, stream);
    return sub;
}

/* Only the subscription a delivery was sent to may settle it: another member of the group (or a connection that
 * guesses seqs) is ignored — counted, and logged at debug level — so it cannot ack away what someone else holds.
 * A seq that is not out at all is left to the caller (a late ack after a timeout is harmless). */
static bool holds(knoop_broker_t *b, knoop_sub_t *sub, uint64_t seq, const char *frame)
{
    knoop_inflight_t *e = knoop_ring_find(sub->group, seq);
    if (!e || e->state != INFLIGHT_SENT || e->member == sub)
        return true;
    b->stats.settles_ignored++;
    knoop_log_debug("delivery.settle_ignored",
                    "frame=%s party=%s stream=%s subscriber=%s seq=%" PRIu64
                    " reason=\"not the holder of this delivery\"",
                    frame, sub->peer->party, sub->group->stream->name, sub->group->name, seq);
    return false;
}

void knoop_handle_ack(knoop_broker_t *b, knoop_peer_t *p, Knoop__Ack *m)
{
    knoop_sub_t *sub = knoop_sub_required(b, p, m->stream, "Ack");
    if (!sub)
        return;
    knoop_group_t *g = sub->group;
    if (!holds(b, sub, m->seq, "Ack"))
        return;
    knoop_inflight_t *e = knoop_ring_ack(g, m->seq);
    if (!e)
        return; /* already settled, or returned after a timeout: at-least-once allows the late ack */
    knoop_attempts_forget(b, g, e);
    if (e->dl_id > 0) {
        knoop_dead_letter_retried(b, e->dl_id);
        e->dl_id = 0;
    }
    g->acks++; /* last_ack_us follows on the tick: no clock read per ack */
    b->stats.acked++;
    knoop_ring_settle(g);
    knoop_group_pump_later(b, g);
}

/* A delivery that comes back (nack or timeout): wait and resend, or give up after the maximum attempts. */
static void return_entry(knoop_broker_t *b, knoop_group_t *g, knoop_inflight_t *e, uint64_t delay_ms, const char *why)
{
    if (knoop_ring_return(g, e, b->config->settings.redelivery_max_attempts, knoop_now_ms() + delay_ms, why)) {
        knoop_attempts_forget(b, g, e);
        knoop_dead_letter_submit(b, g, e);
        knoop_ring_settle(g);
        return;
    }
    knoop_attempts_record(b, g, e);
}

void knoop_handle_nack(knoop_broker_t *b, knoop_peer_t *p, Knoop__Nack *m)
{
    knoop_sub_t *sub = knoop_sub_required(b, p, m->stream, "Nack");
    if (!sub)
        return;
    knoop_group_t *g = sub->group;
    if (!holds(b, sub, m->seq, "Nack"))
        return;
    knoop_inflight_t *e = knoop_ring_find(g, m->seq);
    if (!e || e->state != INFLIGHT_SENT)
        return;
    b->stats.nacked++;
    return_entry(b, g, e,
                 m->delay_ms ? m->delay_ms : knoop_backoff_ms(b->config->settings.redelivery_backoff_ms, e->attempt),
                 m->reason && m->reason[0] ? m->reason : "nack");
    knoop_group_pump_later(b, g);
}

int knoop_group_rewind(knoop_broker_t *b, knoop_group_t *g, uint64_t acked_seq)
{
    for (size_t i = 0; i < g->ring_len; i++)
        if (knoop_ring_at(g, i)->state == INFLIGHT_SENT)
            knoop_ring_release_member(knoop_ring_at(g, i));
    g->ring_len = 0;
    g->waiting = 0;
    g->acked_seq = acked_seq;
    g->next_seq = acked_seq + 1;
    flush_cursor(b, g);
    if (!ephemeral(g))
        load_retries(b, g);
    knoop_group_pump(b, g);
    return 0;
}

void knoop_delivery_tick(knoop_broker_t *b)
{
    uint64_t now = knoop_now_ms();
    knoop_group_iter_t it = {0};
    for (knoop_group_t *g; (g = knoop_group_next(b, &it));) {
        if (g->acks != g->acks_at_tick) {
            g->acks_at_tick = g->acks;
            g->last_ack_us = knoop_now_us();
        }
        for (size_t i = 0; i < g->ring_len; i++) {
            knoop_inflight_t *e = knoop_ring_at(g, i);
            if (e->state == INFLIGHT_SENT && e->due_ms <= now)
                return_entry(b, g, e, 0, "visibility timeout");
        }
        knoop_group_pump(b, g);
        flush_cursor_lease(b, g, g->lease_wait);
    }
    knoop_read_audit_tick(b);
    knoop_group_expiry_tick(b);
    knoop_op_retry_tick(b);
}
