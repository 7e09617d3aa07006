/* read_audit.c — the audit of reads, batched. A delivery costs the loop one record (seq, time, reader, attempt and the
 * client reference read from the envelope it sent) in the open batch; the reader (party, stream, subscriber) is looked up in the batch's short list, with the
 * last one as a hint because a pump sends runs to one group. The batch is the journal operation: on the tick (or
 * when full) it goes to the writer, which resolves each reader to its id once and writes a row per delivery (multi-row
 * inserts: store/audit_reads.h). A crash loses at most the deliveries of the
 * last tick from the record, never the other way round: a row exists only for a delivery that was sent. */
#include "deliver/read_audit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/log.h"
#include "deliver/party_ref.h"
#include "store/audit.h"
#include "store/audit_reads.h"

#define READ_AUDIT_BATCH  16384u   /* deliveries per operation at most: one commit's worth at full speed */
#define READ_AUDIT_BEHIND 1048576u /* unwritten deliveries at which delivery waits for the writer */
#define RUN_CLOCK         64       /* deliveries of one pump that share a clock reading (microseconds apart) */
#define AUDIT_EXPIRE_BATCH                                                                                             \
    10000u /* rows of each audit table one retention pass deletes at most; a full pass is
                                        * followed by the next on the next tick */

typedef struct read_reader {
    char party[16], stream[64], subscriber[72];
} read_reader_t;

typedef knoop_store_read_t read_rec_t; /* .reader: an index into the batch's readers */

struct knoop_read_batch {
    knoop_jop_t op;
    read_reader_t *readers; /* owned */
    int64_t *reader_ids;    /* owned, writer: their audit_readers ids */
    size_t nreaders, readers_cap;
    read_rec_t *recs; /* owned */
    size_t n, cap;
    const knoop_group_t *hint_group; /* the last reader's group and peer: compared by content before use */
    const knoop_peer_t *hint_peer;
    uint32_t hint;
    int64_t now_us; /* the clock, read again for each run of RUN_CLOCK deliveries and for each new reader */
    uint32_t clock_uses;
};

static void batch_free(struct knoop_read_batch *rb)
{
    free(rb->readers);
    free(rb->reader_ids);
    free(rb->recs);
    free(rb);
}

static int apply_reads(knoop_jtx_t *tx, knoop_jop_t *op)
{
    struct knoop_read_batch *rb = (struct knoop_read_batch *)op;
    if (!rb->reader_ids && !(rb->reader_ids = malloc(rb->nreaders * sizeof *rb->reader_ids)))
        return -ENOMEM;
    for (size_t i = 0; i < rb->nreaders; i++) {
        read_reader_t *r = &rb->readers[i];
        int rc = knoop_store_audit_reader(tx, r->party, r->stream, r->subscriber, &rb->reader_ids[i]);
        if (rc != 0)
            return rc;
    }
    return knoop_store_audit_reads(tx, rb->recs, rb->n, rb->reader_ids);
}

static void done_reads(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    struct knoop_read_batch *rb = (struct knoop_read_batch *)op;
    b->read_audit_unwritten -= rb->n;
    if (status != 0)
        knoop_log_error("audit.reads_failed", "deliveries=%zu status=%d note=\"these deliveries have no audit row\"",
                        rb->n, status);
    batch_free(rb);
}

static bool same_reader(const read_reader_t *r, const knoop_group_t *g, const knoop_peer_t *to)
{
    return strcmp(r->subscriber, g->name) == 0 && strcmp(r->party, to->party) == 0 &&
           strcmp(r->stream, g->stream->name) == 0;
}

/* The index of (to's party, g's stream, g's name) in the batch, added when new; -1 when out of memory. */
static long reader_of(struct knoop_read_batch *rb, const knoop_group_t *g, const knoop_peer_t *to)
{
    if (rb->hint_group == g && rb->hint_peer == to && same_reader(&rb->readers[rb->hint], g, to))
        return rb->hint;
    rb->clock_uses = RUN_CLOCK; /* another reader: read the clock again */
    size_t i = 0;
    while (i < rb->nreaders && !same_reader(&rb->readers[i], g, to))
        i++;
    if (i == rb->nreaders) {
        if (rb->nreaders == rb->readers_cap) {
            size_t cap = rb->readers_cap ? rb->readers_cap * 2 : 8;
            read_reader_t *bigger = realloc(rb->readers, cap * sizeof *bigger);
            if (!bigger)
                return -1;
            rb->readers = bigger;
            rb->readers_cap = cap;
        }
        read_reader_t *r = &rb->readers[rb->nreaders++];
        snprintf(r->party, sizeof r->party, "%s", to->party);
        snprintf(r->stream, sizeof r->stream, "%s", g->stream->name);
        snprintf(r->subscriber, sizeof r->subscriber, "%s", g->name);
    }
    rb->hint_group = g;
    rb->hint_peer = to;
    rb->hint = (uint32_t)i;
    return (long)i;
}

/* The internal reference of the stored envelope: the one the audit is searched by, whatever the receiving party was
 * shown (party_ref.h finds the field for both). */
bool knoop_envelope_client_ref(const void *env, size_t len, uint8_t out[32])
{
    long at = knoop_envelope_client_ref_at(env, len);
    if (at < 0)
        return false;
    memcpy(out, (const uint8_t *)env + at, 32);
    return true;
}

void knoop_read_audit_add(knoop_broker_t *b, const knoop_group_t *g, const knoop_peer_t *to, uint64_t seq,
                          uint32_t attempt, const void *env, size_t env_len)
{
    struct knoop_read_batch *rb = b->read_batch;
    if (!rb) {
        if (!(rb = calloc(1, sizeof *rb)) || !(rb->recs = malloc(1024 * sizeof *rb->recs))) {
            free(rb);
            knoop_log_error("audit.read_lost", "seq=%llu error=\"out of memory\"", (unsigned long long)seq);
            return;
        }
        rb->cap = 1024;
        rb->clock_uses = RUN_CLOCK;
        rb->op.apply = apply_reads;
        rb->op.done = done_reads;
        b->read_batch = rb;
    }
    long r = reader_of(rb, g, to);
    if (r >= 0 && rb->n == rb->cap) {
        read_rec_t *bigger = realloc(rb->recs, rb->cap * 2 * sizeof *bigger);
        if (bigger) {
            rb->recs = bigger;
            rb->cap *= 2;
        } else {
            r = -1;
        }
    }
    if (r < 0) { /* this delivery has no audit row; the batch keeps the others */
        knoop_log_error("audit.read_lost", "seq=%llu error=\"out of memory\"", (unsigned long long)seq);
        return;
    }
    read_rec_t *d = &rb->recs[rb->n++];
    d->seq = seq;
    if (rb->clock_uses++ >= RUN_CLOCK) {
        rb->now_us = (int64_t)knoop_now_us();
        rb->clock_uses = 1;
    }
    d->at_us = rb->now_us;
    d->reader = (uint32_t)r;
    d->attempt = attempt;
    d->has_ref = knoop_envelope_client_ref(env, env_len, d->client_ref);
    if (rb->n >= READ_AUDIT_BATCH)
        knoop_read_audit_flush(b);
}

void knoop_read_audit_flush(knoop_broker_t *b)
{
    struct knoop_read_batch *rb = b->read_batch;
    if (!rb)
        return;
    b->read_batch = NULL;
    if (rb->n == 0 || !b->journal) {
        batch_free(rb);
        return;
    }
    b->read_audit_unwritten += rb->n;
    knoop_journal_submit(b->journal, &rb->op);
}

bool knoop_read_audit_behind(const knoop_broker_t *b)
{
    return b->read_audit_unwritten >= READ_AUDIT_BEHIND;
}

/* ---- retention of audit rows ---------------------------------------------------------------------------------- */

typedef struct expire_op {
    knoop_jop_t op;
    int64_t before_us;
    size_t deleted;
    bool more; /* a table gave a full batch */
} expire_op_t;

static int apply_expire(knoop_jtx_t *tx, knoop_jop_t *op)
{
    expire_op_t *x = (expire_op_t *)op;
    return knoop_store_audit_expire(tx, x->before_us, AUDIT_EXPIRE_BATCH, &x->deleted, &x->more);
}

static void done_expire(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    expire_op_t *x = (expire_op_t *)op;
    b->audit_expire_busy = false;
    if (status != 0)
        knoop_log_error("audit.expire_failed", "status=%d", status);
    else if (x->deleted)
        knoop_log_info("audit.expired", "rows=%zu", x->deleted);
    if (status == 0 && x->more)
        b->audit_expire_ms = 0; /* more to do: the next tick goes on instead of waiting an interval */
    free(x);
}

void knoop_read_audit_tick(knoop_broker_t *b)
{
    knoop_read_audit_flush(b);
    uint64_t now = knoop_now_ms();
    const knoop_settings_t *s = &b->config->settings;
    if (b->audit_expire_busy || b->stopping || now - b->audit_expire_ms < s->purge_interval_ms)
        return;
    b->audit_expire_ms = now;
    expire_op_t *x = calloc(1, sizeof *x);
    if (!x)
        return;
    x->op.apply = apply_expire;
    x->op.done = done_expire;
    x->before_us = (int64_t)knoop_now_us() - s->audit_retention_s * 1000000;
    b->audit_expire_busy = true;
    knoop_journal_submit(b->journal, &x->op);
}
