/* control_ops.c — the commands an operator runs around the broker rather than on its messages: `metrics` (the same
 * text /metrics serves, rendered now), `health` (ready or not, and why), `backup FILE` (an online copy on its own
 * thread; `backup status` follows it) and `drain` (refuse publishes, let what was accepted commit and be delivered,
 * say when a stop loses nothing). A long operation answers at once with "follow": the command knoopctl repeats until
 * the answer no longer has one, so the control socket never blocks the loop. */
#include "control/control_ops.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "control/audit.h"
#include "core/broker.h"
#include "core/health.h"
#include "core/metrics.h"
#include "store/backup.h"

json_t *knoop_cmd_metrics(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv;
    char *text = knoop_metrics_render(b, NULL);
    if (!text)
        return snprintf(error, errlen, "out of memory rendering the metrics"), NULL;
    json_t *o = json_pack("{s:s}", "text", text);
    free(text);
    return o;
}

json_t *knoop_cmd_health(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv, (void)error, (void)errlen;
    knoop_health_report_t r;
    knoop_health_check(b, &r);
    return json_pack("{s:b, s:s, s:s, s:I, s:I, s:b, s:I}", "ready", r.ready, "reasons", r.reasons, "journal",
                     r.journal_status == 0 ? "writable" : strerror(-r.journal_status), "disk_free_bytes",
                     (json_int_t)r.free_bytes, "wal_bytes", (json_int_t)r.wal_bytes, "draining", b->draining,
                     "last_probe_ok_ms", (json_int_t)r.probe_ok_ms);
}

/* ---- backup ---- */

static const char *backup_state_name(knoop_backup_state_t s)
{
    return s == KNOOP_BACKUP_RUNNING ? "running" : s == KNOOP_BACKUP_DONE ? "done" : "failed";
}

static json_t *backup_json(const knoop_backup_status_t *st)
{
    char progress[96];
    unsigned pct = st->pages_total ? (unsigned)(st->pages_done * 100 / st->pages_total) : 0;
    snprintf(progress, sizeof progress, "%u%% (%" PRIu64 " of %" PRIu64 " pages)",
             st->state == KNOOP_BACKUP_DONE ? 100u : pct, st->pages_done, st->pages_total);
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:I, s:I}", "state", backup_state_name(st->state), "file", st->file, "progress",
                  progress, "pages_done", (json_int_t)st->pages_done, "pages_total", (json_int_t)st->pages_total);
    if (st->state == KNOOP_BACKUP_DONE) {
        json_object_set_new(o, "bytes", json_integer((json_int_t)st->bytes));
        json_object_set_new(o, "last_seq", json_integer((json_int_t)st->last_seq));
        json_object_set_new(o, "seconds", json_real((double)(st->finished_us - st->started_us) / 1e6));
    }
    if (st->state == KNOOP_BACKUP_FAILED)
        json_object_set_new(o, "error", json_string(st->error));
    if (st->state == KNOOP_BACKUP_RUNNING)
        json_object_set_new(o, "follow", json_pack("[s,s]", "backup", "status"));
    return o;
}

json_t *knoop_cmd_backup(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    if (argc != 1 || argv[0][0] == '-')
        return snprintf(error, errlen, "usage: backup FILE (an absolute path that does not exist yet)"), NULL;
    knoop_backup_status_t st;
    if (b->backup) {
        knoop_backup_status(b->backup, &st);
        if (st.state == KNOOP_BACKUP_RUNNING)
            return snprintf(error, errlen, "a backup to %s is running; follow it with: knoopctl backup status",
                            st.file),
                   NULL;
        knoop_backup_destroy(&b->backup); /* the last one finished: its thread has ended */
    }
    char db[4200];
    snprintf(db, sizeof db, "%s/knoop.db", b->config->settings.data_dir);
    if (knoop_backup_start(db, argv[0], b->config->settings.backup_step_pause_ms, &b->backup, error, errlen) != 0)
        return NULL;
    char detail[4200];
    snprintf(detail, sizeof detail, "file=%s", argv[0]);
    (void)knoop_audit_submit(b, "backup", detail); /* logs its own failure */
    knoop_backup_status(b->backup, &st);
    return backup_json(&st);
}

json_t *knoop_cmd_backup_status(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv, (void)error, (void)errlen;
    if (!b->backup)
        return json_pack("{s:s}", "state", "none");
    knoop_backup_status_t st;
    knoop_backup_status(b->backup, &st);
    return backup_json(&st);
}

/* ---- drain ---- */

typedef struct drain_figures {
    uint64_t journal_queue, publishes_in_flight, deliveries_in_flight;
    bool backup_running, safe;
} drain_figures_t;

static void drain_figures(knoop_broker_t *b, drain_figures_t *f)
{
    memset(f, 0, sizeof *f);
    f->journal_queue = knoop_journal_pending(b->journal);
    size_t pos = 0;
    void *v;
    while (knoop_strmap_next(b->peers, &pos, NULL, &v)) {
        knoop_peer_t *p = v;
        f->publishes_in_flight += p->publishes_in_flight;
        for (knoop_sub_t *s = p->subs; s; s = s->next_on_peer)
            f->deliveries_in_flight += s->in_flight;
    }
    if (b->backup) {
        knoop_backup_status_t st;
        knoop_backup_status(b->backup, &st);
        f->backup_running = st.state == KNOOP_BACKUP_RUNNING;
    }
    f->safe = b->draining && f->journal_queue == 0 && f->publishes_in_flight == 0 && f->deliveries_in_flight == 0 &&
              !f->backup_running;
}

void knoop_ops_status_fields(knoop_broker_t *b, json_t *o)
{
    drain_figures_t f;
    drain_figures(b, &f);
    json_object_set_new(o, "draining", json_boolean(b->draining));
    json_object_set_new(o, "publishes_in_flight", json_integer((json_int_t)f.publishes_in_flight));
    json_object_set_new(o, "deliveries_in_flight", json_integer((json_int_t)f.deliveries_in_flight));
    json_object_set_new(o, "safe_to_stop", json_boolean(f.safe));
}

static json_t *drain_json(knoop_broker_t *b)
{
    drain_figures_t f;
    drain_figures(b, &f);
    char progress[160];
    if (!b->draining)
        snprintf(progress, sizeof progress, "not draining: publishes are taken");
    else if (f.safe)
        snprintf(progress, sizeof progress, "drained: safe to stop (systemctl stop knoopd, or SIGTERM)");
    else
        snprintf(progress, sizeof progress,
                 "draining: %" PRIu64 " publishes and %" PRIu64 " journal writes in flight, %" PRIu64
                 " deliveries unacked%s",
                 f.publishes_in_flight, f.journal_queue, f.deliveries_in_flight,
                 f.backup_running ? ", a backup running" : "");
    json_t *o = json_pack("{s:b, s:b, s:s, s:I, s:I, s:I, s:b}", "draining", b->draining, "safe_to_stop", f.safe,
                          "progress", progress, "publishes_in_flight", (json_int_t)f.publishes_in_flight,
                          "journal_queue", (json_int_t)f.journal_queue, "deliveries_in_flight",
                          (json_int_t)f.deliveries_in_flight, "backup_running", f.backup_running);
    if (b->draining && !f.safe)
        json_object_set_new(o, "follow", json_pack("[s,s]", "drain", "status"));
    return o;
}

json_t *knoop_cmd_drain(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv, (void)error, (void)errlen;
    if (!b->draining) {
        b->draining = true;
        knoop_log_info("daemon.draining", "actor=\"%s\"", b->control_actor);
        (void)knoop_audit_submit(b, "drain", "publishes refused until a restart or drain cancel");
    }
    return drain_json(b);
}

json_t *knoop_cmd_drain_status(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv, (void)error, (void)errlen;
    return drain_json(b);
}

json_t *knoop_cmd_drain_cancel(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv, (void)error, (void)errlen;
    if (b->draining) {
        b->draining = false;
        knoop_log_info("daemon.drain_cancelled", "actor=\"%s\"", b->control_actor);
        (void)knoop_audit_submit(b, "drain cancel", "publishes taken again");
    }
    return drain_json(b);
}
