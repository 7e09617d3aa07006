/* retention.c — the purge job. Every purge_interval_ms the loop reads a window of messages in seq order (8 x
 * purge_batch rows at most, from where the last window ended), picks those older than their kind's retention, and
 * hands the writer one small operation that deletes them, their stream entries and so their dedup keys. */
#include "store/journal_sql.h"
#include "deliver/retention.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control/audit.h"
#include "control/control.h"
#include "control/control_table.h"
#include "knoop/names.h"
#include "base/log.h"
#include "base/clock.h"
#include "deliver/delivery.h"

#define SCAN_FACTOR 8 /* rows read per batch, relative to purge_batch */

/* ---- the setting ---------------------------------------------------------------------------------------------- */

typedef struct unit {
    char suffix;
    int64_t seconds;
} unit_t;

static const unit_t units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};

int knoop_retention_parse(const char *spec, uint64_t default_days, int64_t out_s[KNOOP_RETENTION_KINDS], char *err,
                          size_t errlen)
{
    for (int k = 0; k < KNOOP_RETENTION_KINDS; k++)
        out_s[k] = (int64_t)default_days * 86400;
    const char *p = spec ? spec : "";
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        char name[32];
        size_t n = strcspn(p, "=, ");
        if (n == 0 || n >= sizeof name || p[n] != '=') {
            snprintf(err, errlen,
                     "retention_per_kind: expected KIND=DURATION at '%.20s' (e.g. "
                     "\"outcome-report=3650d, alert=90d\")",
                     p);
            return -EINVAL;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        int kind = knoop_kind_parse(name);
        if (kind <= 0 || kind >= KNOOP_RETENTION_KINDS) {
            snprintf(err, errlen,
                     "retention_per_kind: unknown kind '%s' (referral, assignment, start, stop, "
                     "assignment-request, change-request, answer, declaration, declaration-answer, retour, "
                     "plan-update, outcome-report, alert, other)",
                     name);
            return -EINVAL;
        }
        p += n + 1;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v <= 0) {
            snprintf(err, errlen, "retention_per_kind: %s needs a positive number with unit s, m, h or d", name);
            return -EINVAL;
        }
        int64_t mult = 86400; /* no unit: days, like retention_days */
        if (isalpha((unsigned char)*end)) {
            mult = 0;
            for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
                if (*end == units[u].suffix)
                    mult = units[u].seconds;
            if (!mult) {
                snprintf(err, errlen, "retention_per_kind: %s: unit '%c' is not s, m, h or d", name, *end);
                return -EINVAL;
            }
            end++;
        }
        if (v > 36500LL * 86400 / mult) {
            snprintf(err, errlen, "retention_per_kind: %s: longer than 100 years", name);
            return -EINVAL;
        }
        out_s[kind] = (int64_t)v * mult;
        p = end;
        if (*p && *p != ',' && !isspace((unsigned char)*p)) {
            snprintf(err, errlen, "retention_per_kind: unexpected '%.10s' after %s", p, name);
            return -EINVAL;
        }
    }
    return 0;
}

/* ---- the writer's side ----------------------------------------------------------------------------------------- */

int knoop_retention_drop_entries(knoop_jtx_t *tx, int64_t stream_id, uint64_t lo, uint64_t hi)
{
    /* stream_entries has no seq index: a range per stream on its primary key, checked against messages. */
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "DELETE FROM stream_entries WHERE stream_id = ?1 AND seq BETWEEN ?2 AND ?3 "
                                          "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.seq = stream_entries.seq)");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, stream_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)lo);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)hi);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

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
    for (size_t i = 0; i < p->n; i++) {
        sqlite3_stmt *st = knoop_jtx_stmt(tx, "DELETE FROM messages WHERE seq = ?");
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)p->seqs[i]);
        if (sqlite3_step(st) != SQLITE_DONE)
            return -EIO;
    }
    uint64_t lo = p->seqs[0], hi = p->seqs[p->n - 1];
    for (size_t i = 0; i < p->nstreams; i++)
        if (knoop_retention_drop_entries(tx, p->stream_ids[i], lo, hi) != 0)
            return -EIO;
    /* Dead letters stay as the record of what happened; an unsettled one can no longer be retried. */
    sqlite3_stmt *st =
        knoop_jtx_stmt(tx, "UPDATE dead_letters SET state = 'expired', settled_us = ?3 WHERE seq BETWEEN "
                           "?1 AND ?2 AND state IN ('open', 'retrying') AND NOT EXISTS "
                           "(SELECT 1 FROM messages m WHERE m.seq = dead_letters.seq)");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)lo);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)hi);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)knoop_now_us());
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
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

/* One window: reads up to SCAN_FACTOR x batch rows after purge_scan_seq and queues a batch of the expired ones.
 * Returns how many it queued (0: nothing expired in the window), or -errno. *wrapped: the scan starts over. */
static int purge_window(knoop_broker_t *b, bool *wrapped)
{
    const knoop_settings_t *set = &b->config->settings;
    int64_t keep_s[KNOOP_RETENTION_KINDS];
    char err[256];
    if (knoop_retention_parse(set->retention_per_kind, set->retention_days, keep_s, err, sizeof err) != 0)
        return -EINVAL; /* the configuration check refuses such a file; keep everything if it slipped through */
    int64_t now_us = (int64_t)knoop_now_us(), min_keep = keep_s[1];
    for (int k = 0; k < KNOOP_RETENTION_KINDS; k++)
        if (keep_s[k] < min_keep)
            min_keep = keep_s[k];
    size_t batch = set->purge_batch, scan = batch * SCAN_FACTOR;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_journal_reader(b->journal),
                           "SELECT seq, kind, accepted_us FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", -1, &st,
                           NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)b->purge_scan_seq);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)scan);
    uint64_t *seqs = malloc(batch * sizeof *seqs);
    size_t n = 0, rows = 0;
    *wrapped = false;
    while (seqs && n < batch && sqlite3_step(st) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        int kind = sqlite3_column_int(st, 1);
        int64_t age_us = now_us - sqlite3_column_int64(st, 2);
        rows++;
        if (age_us < min_keep * 1000000) {
            *wrapped = true; /* from here on everything is younger than the shortest retention */
            break;
        }
        b->purge_scan_seq = seq;
        if (age_us >= keep_s[kind >= 0 && kind < KNOOP_RETENTION_KINDS ? kind : 0] * 1000000)
            seqs[n++] = seq;
    }
    sqlite3_finalize(st);
    if (!seqs)
        return -ENOMEM;
    if (!*wrapped && rows < scan && n < batch)
        *wrapped = true; /* the end of the journal */
    if (*wrapped)
        b->purge_scan_seq = 0;
    if (n == 0) {
        free(seqs);
        return 0;
    }
    purge_op_t *p = calloc(1, sizeof *p);
    size_t nstreams = knoop_strmap_size(b->streams);
    int64_t *ids = malloc((nstreams ? nstreams : 1) * sizeof *ids);
    if (!p || !ids) {
        free(p);
        free(ids);
        free(seqs);
        return -ENOMEM;
    }
    size_t pos = 0, i = 0;
    void *v;
    while (i < nstreams && knoop_strmap_next(b->streams, &pos, NULL, &v))
        ids[i++] = ((knoop_stream_t *)v)->id;
    p->op.apply = apply_purge;
    p->op.done = done_purge;
    p->seqs = seqs;
    p->n = n;
    p->stream_ids = ids;
    p->nstreams = i;
    b->purge_in_flight++;
    knoop_journal_submit(b->journal, &p->op);
    return (int)n;
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

json_t *knoop_cmd_purge_now(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv;
    uint64_t selected = 0;
    int rc = knoop_retention_run(b, 1000, &selected);
    if (rc != 0) {
        snprintf(error, errlen, "purge failed: %s", strerror(-rc));
        return NULL;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "selected=%" PRIu64, selected);
    knoop_audit_submit(b, "purge now", detail);
    return json_pack("{s:I, s:I}", "purging", (json_int_t)selected, "purged_since_start", (json_int_t)b->purged);
}
