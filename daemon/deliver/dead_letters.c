/* dead_letters.c — delivery's dead letters in the journal: a message a group failed redelivery_max_attempts times
 * becomes a dead_letters row plus an entry on the deadletters stream (one journal op, store/dead_letters.h); a retried
 * one settles or opens its row again. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/log.h"
#include "core/broker.h"
#include "deliver/delivery.h"
#include "deliver/op_retry.h"
#include "deliver/streams.h"
#include "store/dead_letters.h"
#include "store/entries.h"
#include "store/streams.h"

int knoop_dead_letter_state_apply(knoop_jtx_t *tx, int64_t id, const char *state, const char *reason, int attempts)
{
    return knoop_store_dead_letter_set_state(tx, id, state, reason, attempts, (int64_t)knoop_now_us());
}

/* A retried dead letter that its group settled: the row says so. */
typedef struct dl_state_op {
    knoop_jop_t op;
    int64_t id;
} dl_state_op_t;

static int apply_dl_retried(knoop_jtx_t *tx, knoop_jop_t *op)
{
    return knoop_dead_letter_state_apply(tx, ((dl_state_op_t *)op)->id, "retried", NULL, -1);
}

static void done_free(void *ctx, knoop_jop_t *op, int status)
{
    (void)ctx, (void)status;
    free(op);
}

void knoop_dead_letter_retried(knoop_broker_t *b, int64_t id)
{
    dl_state_op_t *d = calloc(1, sizeof *d);
    if (!d)
        return;
    d->op.apply = apply_dl_retried;
    d->op.done = done_free;
    d->id = id;
    knoop_journal_submit(b->journal, &d->op);
}

typedef struct dead_letter_op {
    knoop_retry_op_t retry; /* first: the jop, tried again after a backoff when it fails (op_retry.h) */
    int64_t dl_id;          /* > 0: a retried dead letter failed again: its row opens again */
    uint64_t seq;
    int64_t deadletters_stream_id;
    bool create_stream;
    char stream[64], subscriber[72], reason[128];
    uint32_t attempts;
    knoop_stream_t *dl_stream;
} dead_letter_op_t;

static int apply_dead_letter(knoop_jtx_t *tx, knoop_jop_t *op)
{
    dead_letter_op_t *d = (dead_letter_op_t *)op;
    if (d->dl_id > 0)
        return knoop_dead_letter_state_apply(tx, d->dl_id, "open", d->reason, (int)d->attempts);
    int64_t now_us = (int64_t)knoop_now_us();
    if (knoop_store_dead_letter_insert(tx, d->seq, d->stream, d->subscriber, "delivery", d->reason, d->attempts, now_us,
                                       NULL) != 0)
        return -EIO;
    if (d->create_stream && knoop_store_stream_insert(tx, d->deadletters_stream_id, "deadletters", now_us) != 0)
        return -EIO;
    return knoop_store_entry_add(tx, d->deadletters_stream_id, d->seq);
}

/* The broker stops (or too many writes wait) before the dead letter could be stored: say which message it was. */
static void give_up_dead_letter(knoop_broker_t *b, knoop_retry_op_t *r)
{
    (void)b;
    dead_letter_op_t *d = (dead_letter_op_t *)r;
    knoop_log_error("delivery.dead_letter_failed",
                    "seq=%" PRIu64 " stream=%s subscriber=%s note=\"not stored: the message stays in the journal "
                    "but not on deadletters\"",
                    d->seq, d->stream, d->subscriber);
    free(d);
}

static void done_dead_letter(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    dead_letter_op_t *d = (dead_letter_op_t *)op;
    if (status != 0) {
        knoop_op_retry_later(b, &d->retry, status);
        return;
    }
    knoop_op_retry_succeeded(b);
    b->stats.dead_lettered++;
    if (d->dl_id <= 0)
        knoop_stream_appended(b, d->dl_stream, d->seq);
    free(d);
}

void knoop_dead_letter_submit(knoop_broker_t *b, knoop_group_t *g, const knoop_inflight_t *e)
{
    knoop_stream_t *dl = knoop_stream_get(b, "deadletters", true);
    dead_letter_op_t *d = calloc(1, sizeof *d);
    if (!d || !dl) {
        free(d);
        return;
    }
    d->retry.op.apply = apply_dead_letter;
    d->retry.op.done = done_dead_letter;
    d->retry.what = "dead_letter";
    d->retry.give_up = give_up_dead_letter;
    d->seq = e->seq;
    d->dl_id = e->dl_id;
    d->dl_stream = dl;
    d->deadletters_stream_id = dl->id;
    d->create_stream = !dl->persisted && e->dl_id <= 0;
    if (e->dl_id <= 0)
        dl->persisted = true;
    snprintf(d->stream, sizeof d->stream, "%s", g->stream->name);
    snprintf(d->subscriber, sizeof d->subscriber, "%s", g->name);
    snprintf(d->reason, sizeof d->reason, "%s", e->reason[0] ? e->reason : "visibility timeout");
    d->attempts = e->attempt;
    g->dead_letters++;
    knoop_log_warn("delivery.dead_letter", "stream=%s subscriber=%s seq=%" PRIu64 " attempts=%u reason=\"%s\"",
                   d->stream, d->subscriber, d->seq, d->attempts, d->reason);
    knoop_journal_submit(b->journal, &d->retry.op);
}
