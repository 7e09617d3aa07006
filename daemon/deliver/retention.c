/* retention.c — the purge job. Every purge_interval_ms the loop reads a window of messages in seq order (8 x
 * purge_batch rows at most, from where the last window ended), picks those older than their kind's retention, and
 * hands the writer one small operation that deletes them, their stream entries and so their dedup keys (the SQL is
 * store/retention.c). `purge now` (control/control_retention.c) runs the same windows at once. */
#include "deliver/retention.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "base/clock.h"
#include "base/log.h"
#include "deliver/delivery.h"
#include "store/entries.h"
#include "store/retention.h"

#define SCAN_FACTOR 8 /* rows read per batch, relative to purge_batch */

int knoop_retention_drop_entries(knoop_jtx_t *tx, int64_t stream_id, uint64_t lo, uint64_t hi)
{
    return knoop_store_entries_drop_orphans(tx, stream_id, lo, hi);
}

/* ---- the writer's side ----------------------------------------------------------------------------------------- */

typedef struct purge_op {
    knoop_jop_t op;
    uint64_t *seqs; /* owned, ascending */
    size_t n;
    int64_t *stream_ids; /* owned: every stream known when the batch was made */
    size_t nstreams;
} purge_op_t;

static int apply_purge(knoop_jtx_t *tx, knoop_jop_t *op)
{
    purge_op_t *p = (purge_op_t *)op;
    return knoop_store_retention_purge(tx, p->seqs, p->n, p->stream_ids, p->nstreams, (int64_t)knoop_now_us());
}

static void done_purge(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    purge_op_t *p = (purge_op_t *)op;
    b->purge_in_flight--;
    if (status == 0) {
        b->purged += p->n;
        knoop_delivery_cache_clear(b); /* no cached envelope outlives its message */
        knoop_log_info("retention.purged", "messages=%zu first_seq=%" PRIu64 " last_seq=%" PRIu64, p->n, p->seqs[0],
                       p->seqs[p->n - 1]);
    } else {
        knoop_log_error("retention.purge_failed", "messages=%zu status=%d", p->n, status);
    }
    free(p->seqs);
    free(p->stream_ids);
    free(p);
}

/* ---- the loop's side ------------------------------------------------------------------------------------------- */

typedef struct scan {
    knoop_broker_t *b;
    const int64_t *keep_s; /* retention per kind, seconds */
    int64_t min_keep_s, now_us;
    uint64_t *seqs; /* the expired ones, at most batch */
    size_t n, batch, rows;
    bool wrapped;
} scan_t;

static int scan_row(void *ctx, uint64_t seq, int kind, int64_t accepted_us)
{
    scan_t *s = ctx;
    int64_t age_us = s->now_us - accepted_us;
    s->rows++;
    if (age_us < s->min_keep_s * 1000000) {
        s->wrapped = true; /* from here on everything is younger than the shortest retention */
        return 1;
    }
    s->b->purge_scan_seq = seq;
    if (age_us >= s->keep_s[kind >= 0 && kind < KNOOP_RETENTION_KINDS ? kind : 0] * 1000000)
        s->seqs[s->n++] = seq;
    return s->n < s->batch ? 0 : 1;
}

/* One window: reads up to SCAN_FACTOR x batch rows after purge_scan_seq and queues a batch of the expired ones.
 * Returns how many it queued (0: nothing expired in the window), or -errno. *wrapped: the scan starts over. */
static int purge_window(knoop_broker_t *b, bool *wrapped)
{
    const knoop_settings_t *set = &b->config->settings;
    int64_t keep_s[KNOOP_RETENTION_KINDS];
    char err[256];
    *wrapped = false;
    if (knoop_retention_parse(set->retention_per_kind, set->retention_days, keep_s, err, sizeof err) != 0)
        return -EINVAL; /* the configuration check refuses such a file; keep everything if it slipped through */
    scan_t s = {.b = b, .keep_s = keep_s, .min_keep_s = keep_s[1], .now_us = (int64_t)knoop_now_us()};
    for (int k = 0; k < KNOOP_RETENTION_KINDS; k++)
        if (keep_s[k] < s.min_keep_s)
            s.min_keep_s = keep_s[k];
    s.batch = set->purge_batch;
    size_t scan_rows = s.batch * SCAN_FACTOR;
    if (!(s.seqs = malloc(s.batch * sizeof *s.seqs)))
        return -ENOMEM;
    int rc = knoop_store_retention_scan(b->journal, b->purge_scan_seq, scan_rows, scan_row, &s);
    if (rc < 0) {
        free(s.seqs);
        return rc;
    }
    *wrapped = s.wrapped || (s.rows < scan_rows && s.n < s.batch); /* younger than any retention, or the end */
    if (*wrapped)
        b->purge_scan_seq = 0;
    if (s.n == 0) {
        free(s.seqs);
        return 0;
    }
    purge_op_t *p = calloc(1, sizeof *p);
    size_t nstreams = knoop_strmap_size(b->streams);
    int64_t *ids = malloc((nstreams ? nstreams : 1) * sizeof *ids);
    if (!p || !ids) {
        free(p);
        free(ids);
        free(s.seqs);
        return -ENOMEM;
    }
    size_t pos = 0, i = 0;
    void *v;
    while (i < nstreams && knoop_strmap_next(b->streams, &pos, NULL, &v))
        ids[i++] = ((knoop_stream_t *)v)->id;
    p->op.apply = apply_purge;
    p->op.done = done_purge;
    p->seqs = s.seqs;
    p->n = s.n;
    p->stream_ids = ids;
    p->nstreams = i;
    b->purge_in_flight++;
    knoop_journal_submit(b->journal, &p->op);
    return (int)s.n;
}

void knoop_retention_tick(knoop_broker_t *b)
{
    uint64_t now = knoop_now_ms();
    if (b->purge_in_flight || b->stopping || now - b->purge_last_ms < b->config->settings.purge_interval_ms)
        return;
    b->purge_last_ms = now;
    bool wrapped;
    purge_window(b, &wrapped);
}

int knoop_retention_run(knoop_broker_t *b, int max_batches, uint64_t *selected)
{
    *selected = 0;
    b->purge_scan_seq = 0;
    for (int i = 0; i < max_batches; i++) {
        bool wrapped;
        int n = purge_window(b, &wrapped);
        if (n < 0)
            return n;
        *selected += (uint64_t)n;
        if (wrapped)
            break;
    }
    b->purge_last_ms = knoop_now_ms();
    return 0;
}
