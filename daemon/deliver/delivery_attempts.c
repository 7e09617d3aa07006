/* delivery_attempts.c — attempts that survive a restart: a delivery that came back (nack, visibility timeout, its
 * member left) journals its attempt count in delivery_attempts; settling it removes the row; a group loading its
 * cursor reads the rows above it, so the count — and the dead-letter limit — goes on where it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/journal_sql.h"
#include "core/broker.h"
#include "base/log.h"
#include "deliver/delivery.h"

typedef struct attempt_op {
    knoop_jop_t op;
    int64_t stream_id;
    char name[72];
    uint64_t seq;
    uint32_t attempts; /* 0: forget the row */
    char reason[64];
} attempt_op_t;

static int apply_attempt(knoop_jtx_t *tx, knoop_jop_t *op)
{
    attempt_op_t *a = (attempt_op_t *)op;
    sqlite3_stmt *st =
        a->attempts ? knoop_jtx_stmt(tx, "INSERT INTO delivery_attempts(stream_id, name, seq, attempts, last_reason) "
                                         "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(stream_id, name, seq) DO UPDATE SET "
                                         "attempts = excluded.attempts, last_reason = excluded.last_reason")
                    : knoop_jtx_stmt(tx, "DELETE FROM delivery_attempts WHERE stream_id = ?1 AND name = ?2 "
                                         "AND seq = ?3");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, a->stream_id);
    sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)a->seq);
    if (a->attempts) {
        sqlite3_bind_int(st, 4, (int)a->attempts);
        sqlite3_bind_text(st, 5, a->reason, -1, SQLITE_STATIC);
    }
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

static void done_attempt(void *ctx, knoop_jop_t *op, int status)
{
    (void)ctx;
    if (status != 0)
        knoop_log_warn("delivery.attempts_not_stored", "seq=%llu", (unsigned long long)((attempt_op_t *)op)->seq);
    free(op);
}

static void submit(knoop_broker_t *b, knoop_group_t *g, uint64_t seq, uint32_t attempts, const char *reason)
{
    if (g->name[0] == '~' || !b->journal || b->stopping)
        return; /* ephemeral, or deliveries returned by the daemon's own stop: not the message's fault */
    attempt_op_t *a = calloc(1, sizeof *a);
    if (!a)
        return;
    a->op.apply = apply_attempt;
    a->op.done = done_attempt;
    a->stream_id = g->stream->id;
    snprintf(a->name, sizeof a->name, "%s", g->name);
    a->seq = seq;
    a->attempts = attempts;
    snprintf(a->reason, sizeof a->reason, "%s", reason ? reason : "");
    knoop_journal_submit(b->journal, &a->op);
}

void knoop_attempts_record(knoop_broker_t *b, knoop_group_t *g, knoop_inflight_t *e)
{
    submit(b, g, e->seq, e->attempt ? e->attempt : 1, e->reason);
    e->attempts_row = true;
}

void knoop_attempts_forget(knoop_broker_t *b, knoop_group_t *g, knoop_inflight_t *e)
{
    if (!e->attempts_row)
        return;
    submit(b, g, e->seq, 0, NULL);
    e->attempts_row = false;
}

void knoop_attempts_load(knoop_broker_t *b, knoop_group_t *g)
{
    sqlite3_stmt *st;
    if (g->name[0] == '~' ||
        sqlite3_prepare_v2(knoop_journal_reader(b->journal),
                           "SELECT seq, attempts FROM delivery_attempts WHERE stream_id = ? AND name = ? AND seq > ? "
                           "ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, g->stream->id);
    sqlite3_bind_text(st, 2, g->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)g->acked_seq);
    size_t cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (g->stored_attempts_len == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            knoop_stored_attempt_t *n = realloc(g->stored_attempts, ncap * sizeof *n);
            if (!n)
                break;
            g->stored_attempts = n;
            cap = ncap;
        }
        g->stored_attempts[g->stored_attempts_len].seq = (uint64_t)sqlite3_column_int64(st, 0);
        g->stored_attempts[g->stored_attempts_len++].attempts = (uint32_t)sqlite3_column_int(st, 1);
    }
    sqlite3_finalize(st);
}

uint32_t knoop_attempts_stored(const knoop_group_t *g, uint64_t seq)
{
    size_t lo = 0, hi = g->stored_attempts_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g->stored_attempts[mid].seq == seq)
            return g->stored_attempts[mid].attempts;
        if (g->stored_attempts[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}
