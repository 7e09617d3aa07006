/* health.c — readiness from what can be measured cheaply on the loop: the outcome of the last journal write (the
 * probe proves it every few seconds even when nobody publishes), statvfs of the data directory, the WAL's size, and
 * the broker's own state (draining, stopping). A probe that waits far longer than a commit should means a stuck
 * disk, and says so. */
#include "core/health.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include "base/clock.h"
#include "base/log.h"
#include "core/broker.h"
#include "store/probe.h"

#define PROBE_STUCK_MS 10000 /* a probe unanswered this long: the journal is not taking writes */
#define MiB            ((uint64_t)1024 * 1024)

typedef struct probe_op {
    knoop_jop_t op;
    int64_t now_us;
} probe_op_t;

static bool storage_error(int status)
{
    return status == -ENOSPC || status == -EIO || status == -EROFS || status == -EUCLEAN || status == -ENOMEM ||
           status == -EBUSY;
}

void knoop_health_journal_result(knoop_broker_t *b, int status)
{
    knoop_health_t *h = &b->health;
    if (status == 0) {
        if (h->journal_status != 0)
            knoop_log_info("health.journal_ok", "after=\"%s\"", strerror(-h->journal_status));
        h->journal_status = 0;
    } else if (storage_error(status)) {
        if (h->journal_status == 0)
            knoop_log_warn("health.journal_failed", "error=\"%s\"", strerror(-status));
        h->journal_status = status;
        h->journal_fail_ms = knoop_now_ms();
    }
}

static int apply_probe(knoop_jtx_t *tx, knoop_jop_t *op)
{
    return knoop_store_health_probe(tx, ((probe_op_t *)op)->now_us);
}

static void done_probe(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    b->health.probe_in_flight = false;
    if (status == 0)
        b->health.probe_ok_ms = knoop_now_us() / 1000;
    knoop_health_journal_result(b, status);
    free(op);
}

void knoop_health_tick(knoop_broker_t *b)
{
    if (b->health.probe_in_flight || b->stopping || !b->journal)
        return;
    probe_op_t *p = calloc(1, sizeof *p);
    if (!p)
        return;
    p->op.apply = apply_probe;
    p->op.done = done_probe;
    p->now_us = (int64_t)knoop_now_us();
    b->health.probe_in_flight = true;
    b->health.probe_sent_ms = knoop_now_ms();
    knoop_journal_submit(b->journal, &p->op);
}

static void reason(knoop_health_report_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(knoop_health_report_t *r, const char *fmt, ...)
{
    size_t used = strlen(r->reasons);
    if (used && used + 2 < sizeof r->reasons) {
        memcpy(r->reasons + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reasons + used, sizeof r->reasons - used, fmt, ap);
    va_end(ap);
    r->ready = false;
}

void knoop_health_check(knoop_broker_t *b, knoop_health_report_t *r)
{
    const knoop_settings_t *s = &b->config->settings;
    memset(r, 0, sizeof *r);
    r->ready = true;
    r->journal_status = b->health.journal_status;
    r->probe_ok_ms = b->health.probe_ok_ms;
    if (b->stopping)
        reason(r, "stopping: knoopd is shutting down");
    else if (b->draining)
        reason(r, "draining: publishes are refused (knoopctl drain)");
    if (b->health.journal_status != 0)
        reason(r, "journal not writable: %s", strerror(-b->health.journal_status));
    uint64_t now = knoop_now_ms();
    if (b->health.probe_in_flight && now - b->health.probe_sent_ms > PROBE_STUCK_MS)
        reason(r, "journal not writable: a probe write has waited %" PRIu64 " s",
               (now - b->health.probe_sent_ms) / 1000);
    struct statvfs vfs;
    if (statvfs(s->data_dir, &vfs) == 0) {
        r->free_bytes = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
        if (s->health_min_free_mb && r->free_bytes < s->health_min_free_mb * MiB)
            reason(r, "disk space: %" PRIu64 " MiB free for %s, below health_min_free_mb (%" PRIu64 ")",
                   r->free_bytes / MiB, s->data_dir, s->health_min_free_mb);
    } else {
        reason(r, "disk space: statvfs %s: %s", s->data_dir, strerror(errno));
    }
    char wal[4200];
    struct stat st;
    snprintf(wal, sizeof wal, "%s/knoop.db-wal", s->data_dir);
    if (stat(wal, &st) == 0) {
        r->wal_bytes = (uint64_t)st.st_size;
        if (r->wal_bytes > s->health_max_wal_mb * MiB)
            reason(r, "checkpoint lag: the WAL is %" PRIu64 " MiB, above health_max_wal_mb (%" PRIu64 ")",
                   r->wal_bytes / MiB, s->health_max_wal_mb);
    }
}
