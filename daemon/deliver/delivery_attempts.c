/* delivery_attempts.c — attempts that survive a restart: a delivery that came back (nack, visibility timeout, its
 * member left) journals its attempt count in delivery_attempts; settling it removes the row; a group loading its
 * cursor reads the rows above it, so the count — and the dead-letter limit — goes on where it was. The rows are
 * written and read through store/attempts.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "core/broker.h"
#include "deliver/delivery.h"
#include "deliver/op_retry.h"
#include "store/attempts.h"

typedef struct attempt_op {
    knoop_retry_op_t retry; /* first: the jop, tried again after a backoff when it fails (op_retry.h) */
    int64_t stream_id;
    char name[72];
    uint64_t seq;
    uint32_t attempts; /* 0: forget the row */
    char reason[64];
} attempt_op_t;

static int apply_attempt(knoop_jtx_t *tx, knoop_jop_t *op)
{
    attempt_op_t *a = (attempt_op_t *)op;
    return a->attempts ? knoop_store_attempts_put(tx, a->stream_id, a->name, a->seq, a->attempts, a->reason)
                       : knoop_store_attempts_delete(tx, a->stream_id, a->name, a->seq);
}

/* A count that could not be stored: after a restart this delivery counts from its lease again (attempt 2). */
static void give_up_attempt(knoop_broker_t *b, knoop_retry_op_t *r)
{
    (void)b;
    knoop_log_debug("delivery.attempts_not_stored", "seq=%llu", (unsigned long long)((attempt_op_t *)r)->seq);
    free(r);
}

static void done_attempt(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    if (status != 0) {
        knoop_op_retry_later(b, (knoop_retry_op_t *)op, status);
        return;
    }
    knoop_op_retry_succeeded(b);
    free(op);
}

static void submit(knoop_broker_t *b, knoop_group_t *g, uint64_t seq, uint32_t attempts, const char *reason)
{
    if (g->name[0] == '~' || !b->journal || b->stopping)
        return; /* ephemeral, or deliveries returned by the daemon's own stop: not the message's fault */
    attempt_op_t *a = calloc(1, sizeof *a);
    if (!a)
        return;
    a->retry.op.apply = apply_attempt;
    a->retry.op.done = done_attempt;
    a->retry.what = "attempts";
    a->retry.give_up = give_up_attempt;
    a->stream_id = g->stream->id;
    snprintf(a->name, sizeof a->name, "%s", g->name);
    a->seq = seq;
    a->attempts = attempts;
    snprintf(a->reason, sizeof a->reason, "%s", reason ? reason : "");
    knoop_journal_submit(b->journal, &a->retry.op);
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

typedef struct load {
    knoop_group_t *g;
    size_t cap;
} load_t;

static int load_one(void *ctx, uint64_t seq, uint32_t attempts)
{
    load_t *l = ctx;
    knoop_group_t *g = l->g;
    if (g->stored_attempts_len == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        knoop_stored_attempt_t *n = realloc(g->stored_attempts, ncap * sizeof *n);
        if (!n)
            return -ENOMEM;
        g->stored_attempts = n;
        l->cap = ncap;
    }
    g->stored_attempts[g->stored_attempts_len].seq = seq;
    g->stored_attempts[g->stored_attempts_len++].attempts = attempts;
    return 0;
}

void knoop_attempts_load(knoop_broker_t *b, knoop_group_t *g)
{
    if (g->name[0] == '~')
        return;
    free(g->stored_attempts); /* a reload replaces what was read */
    g->stored_attempts = NULL;
    g->stored_attempts_len = 0;
    load_t l = {.g = g};
    int rc = knoop_store_attempts_each(b->journal, g->stream->id, g->name, g->acked_seq, load_one, &l);
    if (rc != 0) /* the rows read count on; the others start again from the lease (attempt 2) */
        knoop_log_warn("delivery.attempts_not_loaded", "stream=%s subscriber=%s error=%d", g->stream->name, g->name,
                       rc);
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
