/* delivery.c — consumer groups: a durable subscriber name on a stream with one cursor, shared by its member
 * subscriptions (competing consumers). Deliveries stay in a seq-ordered ring until settled; acks advance the
 * cursor over the settled prefix; nacks and visibility timeouts make an entry wait for redelivery with backoff;
 * too many attempts make it a dead letter. The broker never sends a member more than its window (credit). */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/journal_sql.h"
#include "core/broker.h"
#include "deliver/delivery_cache.h"
#include "base/log.h"
#include "base/clock.h"
#include "deliver/delivery.h"
#include "ingest/handlers.h"
#include "core/frames.h"

#define READ_BATCH 512
/* Seqs a durable group may send beyond what it persisted as delivered: after a crash everything up to the lease is
 * flagged attempt > 1, so the lease is renewed (journaled) before it is used up, never per delivery. */
#define LEASE_SPAN 8192

/* ---- the ring of unsettled deliveries ---------------------------------------------------------------- */

/* i < ring_len <= ring_cap and ring_head < ring_cap: one conditional subtraction instead of a division (this runs
 * several times per ack). */
static knoop_inflight_t *ring_at(knoop_group_t *g, size_t i)
{
    size_t k = g->ring_head + i;
    return &g->ring[k >= g->ring_cap ? k - g->ring_cap : k];
}

static int ring_push(knoop_group_t *g, uint64_t seq)
{
    if (g->ring_len == g->ring_cap) {
        size_t ncap = g->ring_cap ? g->ring_cap * 2 : 64;
        knoop_inflight_t *n = malloc(ncap * sizeof *n);
        if (!n)
            return -ENOMEM;
        for (size_t i = 0; i < g->ring_len; i++)
            n[i] = *ring_at(g, i);
        free(g->ring);
        g->ring = n;
        g->ring_cap = ncap;
        g->ring_head = 0;
    }
    knoop_inflight_t *e = ring_at(g, g->ring_len++);
    memset(e, 0, sizeof *e);
    e->seq = seq;
    return 0;
}

static knoop_inflight_t *ring_find(knoop_group_t *g, uint64_t seq)
{
    if (g->ring_len == 0)
        return NULL;
    /* A stream whose seqs are dense (the usual case for a busy stream) finds it at once. */
    uint64_t first = ring_at(g, 0)->seq;
    if (seq >= first && seq - first < g->ring_len && ring_at(g, (size_t)(seq - first))->seq == seq)
        return ring_at(g, (size_t)(seq - first));
    size_t lo = 0, hi = g->ring_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint64_t s = ring_at(g, mid)->seq;
        if (s == seq)
            return ring_at(g, mid);
        if (s < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Pops the settled prefix; the cursor is the last settled seq (or, with nothing unsettled, all that was read). */
static void advance_cursor(knoop_group_t *g)
{
    while (g->ring_len && ring_at(g, 0)->state == INFLIGHT_ACKED) {
        if (ring_at(g, 0)->seq > g->acked_seq) /* a requeued dead letter lies below the cursor */
            g->acked_seq = ring_at(g, 0)->seq;
        g->ring_head = g->ring_head + 1 == g->ring_cap ? 0 : g->ring_head + 1;
        g->ring_len--;
    }
    if (g->ring_len == 0 && g->next_seq > 0 && g->next_seq - 1 > g->acked_seq)
        g->acked_seq = g->next_seq - 1;
}

/* ---- cursor persistence ----------------------------------------------------------------------------------- */

typedef struct cursor_op {
    knoop_jop_t op;
    knoop_group_t *group; /* borrowed: groups live until the broker closes, after the journal */
    int64_t stream_id;
    char name[72];
    uint64_t acked, delivered;
    bool create_stream; /* a stream without messages yet: its row keeps the id the cursor names */
    char stream[64];
} cursor_op_t;

static int apply_cursor(knoop_jtx_t *tx, knoop_jop_t *op)
{
    cursor_op_t *c = (cursor_op_t *)op;
    sqlite3_stmt *st;
    if (c->create_stream) {
        st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO streams(id, name, created_us) VALUES(?,?,?)");
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, c->stream_id);
        sqlite3_bind_text(st, 2, c->stream, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)knoop_now_us());
        if (sqlite3_step(st) != SQLITE_DONE)
            return -EIO;
    }
    st = knoop_jtx_stmt(tx, "INSERT INTO subscribers(stream_id, name, acked_seq, delivered_seq, updated_us) "
                            "VALUES(?,?,?,?,?) ON CONFLICT(stream_id, name) DO UPDATE SET "
                            "acked_seq = excluded.acked_seq, delivered_seq = excluded.delivered_seq, "
                            "updated_us = excluded.updated_us");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, c->stream_id);
    sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c->acked);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->delivered);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)knoop_now_us());
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

static void done_cursor(void *ctx, knoop_jop_t *op, int status)
{
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
    }
    free(c);
    if (g->lease_wait) {
        g->lease_wait = false;
        knoop_group_pump(ctx, g);
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
    if (ephemeral(g))
        return;
    if (g->cursor_op_pending) {
        if (want_lease)
            g->lease_wait = true; /* done_cursor pumps, and the pump asks again */
        return;
    }
    uint64_t delivered = g->lease_seq > g->delivered_seq ? g->lease_seq : g->delivered_seq;
    if (want_lease) {
        uint64_t base = g->stream->last_seq > g->next_seq ? g->stream->last_seq : g->next_seq;
        delivered = base + LEASE_SPAN;
    }
    if (g->acked_seq == g->persisted_acked && delivered == g->persisted_delivered)
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
    g->cursor_op_pending = true;
    knoop_journal_submit(b->journal, &c->op);
}

static void flush_cursor(knoop_broker_t *b, knoop_group_t *g)
{
    flush_cursor_lease(b, g, false);
}

/* ---- groups and members ------------------------------------------------------------------------------------ */

/* Inserts seq in order (a requeued dead letter lies below the cursor, before everything unsettled). */
static knoop_inflight_t *ring_insert(knoop_group_t *g, uint64_t seq)
{
    knoop_inflight_t *e = ring_find(g, seq);
    if (e)
        return e;
    if (ring_push(g, seq) != 0)
        return NULL;
    ring_at(g, g->ring_len - 1)->state = INFLIGHT_ACKED; /* settled until requeue says otherwise */
    for (size_t i = g->ring_len - 1; i > 0 && ring_at(g, i - 1)->seq > seq; i--) {
        knoop_inflight_t t = *ring_at(g, i - 1);
        *ring_at(g, i - 1) = *ring_at(g, i);
        *ring_at(g, i) = t;
    }
    return ring_find(g, seq);
}

static int requeue(knoop_group_t *g, uint64_t seq, int64_t dl_id, uint32_t attempts)
{
    knoop_inflight_t *e = ring_insert(g, seq);
    if (!e)
        return -ENOMEM;
    if (e->state == INFLIGHT_WAITING)
        return 0;
    if (e->state == INFLIGHT_SENT)
        return -EBUSY;
    e->state = INFLIGHT_WAITING;
    e->due_ms = knoop_now_ms();
    e->member = NULL;
    e->dl_id = dl_id;
    if (attempts > e->attempt)
        e->attempt = attempts;
    e->attempt_floor = e->attempt;
    g->waiting++;
    return 0;
}

/* Dead letters an operator retried (state 'retrying') survive restarts: the group takes them back when it loads. */
static void load_retries(knoop_broker_t *b, knoop_group_t *g)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            knoop_journal_reader(b->journal),
            "SELECT id, seq, attempts FROM dead_letters WHERE state = 'retrying' AND source = 'delivery' "
            "AND stream = ? AND subscriber = ? ORDER BY seq",
            -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, g->stream->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, g->name, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW)
        requeue(g, (uint64_t)sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 0),
                (uint32_t)sqlite3_column_int(st, 2));
    sqlite3_finalize(st);
}

int knoop_group_requeue(knoop_broker_t *b, knoop_group_t *g, uint64_t seq, int64_t dl_id, uint32_t attempts)
{
    int rc = requeue(g, seq, dl_id, attempts);
    if (rc == 0)
        knoop_group_pump(b, g);
    return rc;
}

uint64_t knoop_seq_at_time(knoop_broker_t *b, int64_t time_us)
{
    sqlite3 *db = knoop_journal_reader(b->journal);
    sqlite3_stmt *st;
    uint64_t lo = 1, hi = knoop_journal_last_seq(b->journal) + 1; /* answer in [lo, hi] */
    if (sqlite3_prepare_v2(db, "SELECT seq, accepted_us FROM messages WHERE seq >= ? ORDER BY seq LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK)
        return hi;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)mid);
        if (sqlite3_step(st) != SQLITE_ROW) {
            hi = mid;
        } else {
            uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
            if (sqlite3_column_int64(st, 1) >= time_us)
                hi = mid;
            else
                lo = seq + 1;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return lo;
}

knoop_group_t *knoop_group_get(knoop_broker_t *b, knoop_stream_t *s, const char *name, Knoop__StartAt start,
                               uint64_t start_seq, int64_t start_time_us, bool *created)
{
    knoop_group_t *g = knoop_strmap_get(s->groups, name);
    *created = false;
    if (g)
        return g;
    g = calloc(1, sizeof *g);
    if (!g || !(g->name = strdup(name)) || knoop_strmap_put(s->groups, name, g) != 0) {
        if (g)
            free(g->name);
        free(g);
        return NULL;
    }
    *created = true;
    g->stream = s;
    bool found = false;
    uint64_t durable = 0, delivered = 0;
    sqlite3_stmt *st;
    if (!ephemeral(g) &&
        sqlite3_prepare_v2(knoop_journal_reader(b->journal),
                           "SELECT acked_seq, delivered_seq FROM subscribers WHERE stream_id = ? AND name = ?", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, s->id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            found = true;
            durable = (uint64_t)sqlite3_column_int64(st, 0);
            delivered = (uint64_t)sqlite3_column_int64(st, 1);
        }
        sqlite3_finalize(st);
    }
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
    sqlite3_stmt *st;
    bool known = false;
    if (sqlite3_prepare_v2(knoop_journal_reader(b->journal),
                           "SELECT 1 FROM subscribers WHERE stream_id = ? AND name = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, s->id);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        known = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    bool created;
    return known ? knoop_group_get(b, s, name, KNOOP__START_AT__DURABLE, 0, 0, &created) : NULL;
}

void knoop_group_free(knoop_group_t *g)
{
    knoop_env_cache_destroy(&g->stream->cache); /* the stream's groups change: it is rebuilt when needed */
    free(g->stored_attempts);
    free(g->ring);
    free(g->name);
    free(g);
}

static knoop_sub_t *pick_member(knoop_group_t *g)
{
    knoop_sub_t *start = g->rr && g->rr->next_in_group ? g->rr->next_in_group : g->members;
    knoop_sub_t *m = start;
    do {
        if (!m)
            m = g->members;
        if (m->in_flight < m->window && !m->peer->gone) {
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
    int rc = knoop_send_deliver(b, m->peer, g->stream->name, e->seq, e->attempt + 1, env, env_len);
    if (rc != 0)
        return rc;
    e->attempt++;
    e->state = INFLIGHT_SENT;
    e->member = m;
    e->due_ms = knoop_now_ms() + b->config->settings.visibility_timeout_ms;
    m->in_flight++;
    g->delivered++;
    b->stats.delivered++;
    if (e->attempt > 1)
        g->redeliveries++;
    if (e->seq > g->delivered_seq)
        g->delivered_seq = e->seq;
    return 0;
}

/* Redelivery needs the envelope again: read one message by seq. */
static int resend(knoop_broker_t *b, knoop_group_t *g, knoop_sub_t *m, knoop_inflight_t *e)
{
    sqlite3_stmt *st;
    int rc = -EIO;
    if (sqlite3_prepare_v2(knoop_journal_reader(b->journal), "SELECT envelope FROM messages WHERE seq = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)e->seq);
    if (sqlite3_step(st) == SQLITE_ROW)
        rc = send_entry(b, g, m, e, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    else
        rc = -ENOENT; /* purged by retention while waiting: nothing left to deliver */
    sqlite3_finalize(st);
    return rc;
}

static void pump_waiting(knoop_broker_t *b, knoop_group_t *g, uint64_t now)
{
    for (size_t i = 0; i < g->ring_len && g->waiting; i++) {
        knoop_inflight_t *e = ring_at(g, i);
        if (e->state != INFLIGHT_WAITING || e->due_ms > now)
            continue;
        knoop_sub_t *m = pick_member(g);
        if (!m)
            return;
        int rc = resend(b, g, m, e);
        if (rc == 0 || rc == -ENOENT) {
            g->waiting--;
            if (rc == -ENOENT) {
                e->state = INFLIGHT_ACKED;
                knoop_attempts_forget(b, g, e);
            }
        } else {
            return; /* the peer cannot take it now; the next tick tries again */
        }
    }
    advance_cursor(g);
}

/* One row for the group: 0 sent (or parked for a retry), 1 the lease is used up, 2 nobody can take it now. */
static int deliver_row(knoop_broker_t *b, knoop_group_t *g, uint64_t seq, const void *env, size_t len)
{
    if (!ephemeral(g) && seq > g->lease_seq)
        return 1; /* journal a new lease first; done_cursor pumps again */
    knoop_sub_t *m = pick_member(g);
    if (!m || ring_push(g, seq) != 0)
        return 2;
    knoop_inflight_t *e = ring_at(g, g->ring_len - 1);
    /* Sent before a restart (or before a rewind): this delivery is a redelivery. */
    e->attempt = seq <= g->delivered_seq ? 1 : 0;
    uint32_t stored = g->stored_attempts_len ? knoop_attempts_stored(g, seq) : 0;
    if (stored > e->attempt) { /* it came back before the restart: the count goes on */
        e->attempt = stored;
        e->attempts_row = true;
    }
    g->next_seq = seq + 1;
    if (send_entry(b, g, m, e, env, len) != 0) {
        e->state = INFLIGHT_WAITING;
        e->due_ms = knoop_now_ms() + 100;
        g->waiting++;
        return 2;
    }
    return 0;
}

/* Fan-out streams (two groups or more) keep their latest envelopes in memory: each row is read once, not per group. */
#define CACHE_ENTRIES 8192
#define CACHE_BYTES   (8u << 20)

static knoop_env_cache_t *stream_cache(knoop_stream_t *s)
{
    if (!s->cache && knoop_strmap_size(s->groups) >= 2)
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

static int pump_journal(knoop_broker_t *b, knoop_group_t *g, knoop_env_cache_t *c, uint64_t limit, uint64_t *rows)
{
    sqlite3_stmt *st = b->read_entries;
    uint64_t last = g->stream->last_seq; /* committed, hence visible to this read */
    bool extend = c && knoop_env_cache_extends(c, g->next_seq);
    sqlite3_bind_int64(st, 1, g->stream->id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)g->next_seq);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    int rc = 0;
    *rows = 0;
    while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        const void *env = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (extend && knoop_env_cache_append(c, seq, env, len) != 0) {
            knoop_env_cache_clear(c);
            extend = false;
        }
        rc = deliver_row(b, g, seq, env, len);
        if (rc != 1)
            (*rows)++;
    }
    sqlite3_reset(st);
    if (rc == 0 && *rows < limit) {
        /* Everything up to last is committed, hence visible: the stream is read to its end. */
        if (extend)
            knoop_env_cache_complete_to(c, last);
        if (g->next_seq <= last)
            g->next_seq = last + 1;
    }
    return rc;
}

static void pump_new(knoop_broker_t *b, knoop_group_t *g)
{
    if (!b->read_entries &&
        sqlite3_prepare_v3(knoop_journal_reader(b->journal),
                           "SELECT e.seq, m.envelope FROM stream_entries e JOIN messages m ON m.seq = e.seq "
                           "WHERE e.stream_id = ? AND e.seq >= ? ORDER BY e.seq LIMIT ?",
                           -1, SQLITE_PREPARE_PERSISTENT, &b->read_entries, NULL) != SQLITE_OK)
        return;
    knoop_env_cache_t *c = stream_cache(g->stream);
    int rc = 0;
    while (rc == 0 && g->next_seq <= g->stream->last_seq) {
        uint64_t room = 0, n = 0;
        for (knoop_sub_t *m = g->members; m; m = m->next_in_group)
            if (!m->peer->gone)
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
    advance_cursor(g);
}

void knoop_group_pump(knoop_broker_t *b, knoop_group_t *g)
{
    if (!g->members || !b->journal)
        return; /* no journal: the last peers are freed after it closed (finish_stop) */
    if (g->waiting)
        pump_waiting(b, g, knoop_now_ms());
    pump_new(b, g);
}

void knoop_sub_detach(knoop_broker_t *b, knoop_sub_t *sub)
{
    knoop_group_t *g = sub->group;
    uint64_t now = knoop_now_ms();
    for (size_t i = 0; i < g->ring_len; i++) {
        knoop_inflight_t *e = ring_at(g, i);
        if (e->state == INFLIGHT_SENT && e->member == sub) {
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

void knoop_handle_ack(knoop_broker_t *b, knoop_peer_t *p, Knoop__Ack *m)
{
    knoop_sub_t *sub = knoop_sub_required(b, p, m->stream, "Ack");
    if (!sub)
        return;
    knoop_group_t *g = sub->group;
    knoop_inflight_t *e = ring_find(g, m->seq);
    if (!e || e->state != INFLIGHT_SENT)
        return; /* already settled, or returned after a timeout: at-least-once allows the late ack */
    if (e->member)
        e->member->in_flight--;
    e->state = INFLIGHT_ACKED;
    e->member = NULL;
    knoop_attempts_forget(b, g, e);
    if (e->dl_id > 0) {
        knoop_dead_letter_retried(b, e->dl_id);
        e->dl_id = 0;
    }
    g->acks++; /* last_ack_us follows on the tick: no clock read per ack */
    b->stats.acked++;
    advance_cursor(g);
    knoop_group_pump_later(b, g);
}

static uint64_t backoff_ms(const knoop_broker_t *b, uint32_t attempt)
{
    uint64_t base = b->config->settings.redelivery_backoff_ms;
    uint64_t d = base << (attempt > 16 ? 16 : attempt - 1);
    if (d > 3600000)
        d = 3600000;
    return d / 2 + (d ? randombytes_uniform((uint32_t)(d / 2 + 1)) : 0); /* jitter: [d/2, d] */
}

/* A delivery that comes back (nack or timeout): wait and resend, or give up after the maximum attempts. */
static void return_entry(knoop_broker_t *b, knoop_group_t *g, knoop_inflight_t *e, uint64_t delay_ms, const char *why)
{
    if (e->member)
        e->member->in_flight--;
    e->member = NULL;
    snprintf(e->reason, sizeof e->reason, "%s", why);
    if (e->attempt - e->attempt_floor >= b->config->settings.redelivery_max_attempts) {
        e->state = INFLIGHT_ACKED;
        knoop_attempts_forget(b, g, e);
        knoop_dead_letter_submit(b, g, e);
        advance_cursor(g);
        return;
    }
    e->state = INFLIGHT_WAITING;
    e->due_ms = knoop_now_ms() + delay_ms;
    g->waiting++;
    knoop_attempts_record(b, g, e);
}

void knoop_handle_nack(knoop_broker_t *b, knoop_peer_t *p, Knoop__Nack *m)
{
    knoop_sub_t *sub = knoop_sub_required(b, p, m->stream, "Nack");
    if (!sub)
        return;
    knoop_group_t *g = sub->group;
    knoop_inflight_t *e = ring_find(g, m->seq);
    if (!e || e->state != INFLIGHT_SENT)
        return;
    b->stats.nacked++;
    return_entry(b, g, e, m->delay_ms ? m->delay_ms : backoff_ms(b, e->attempt),
                 m->reason && m->reason[0] ? m->reason : "nack");
    knoop_group_pump_later(b, g);
}

int knoop_group_rewind(knoop_broker_t *b, knoop_group_t *g, uint64_t acked_seq)
{
    for (knoop_sub_t *m = g->members; m; m = m->next_in_group)
        m->in_flight = 0;
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
    size_t pos = 0;
    void *sv;
    while (knoop_strmap_next(b->streams, &pos, NULL, &sv)) {
        knoop_stream_t *s = sv;
        size_t gpos = 0;
        void *gv;
        while (knoop_strmap_next(s->groups, &gpos, NULL, &gv)) {
            knoop_group_t *g = gv;
            if (g->acks != g->acks_at_tick) {
                g->acks_at_tick = g->acks;
                g->last_ack_us = knoop_now_us();
            }
            for (size_t i = 0; i < g->ring_len; i++) {
                knoop_inflight_t *e = ring_at(g, i);
                if (e->state == INFLIGHT_SENT && e->due_ms <= now)
                    return_entry(b, g, e, 0, "visibility timeout");
            }
            knoop_group_pump(b, g);
            flush_cursor(b, g);
        }
    }
}
