/* lifecycle.c — the wiring of knoopd: start-up order, the hooks core calls upward (after each loop iteration, a peer
 * leaving, reload, the stop) and the tables core runs (frames: frame_table.c, periodic jobs: jobs.c). Every layer
 * above core is opened here and released here, in reverse, whether the stop is graceful or a start-up failed. */
#include "app/lifecycle.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "app/frame_table.h"
#include "app/jobs.h"
#include "app/metrics_http.h"
#include "app/metrics_table.h"
#include "app/sd_notify.h"
#include "base/log.h"
#include "control/control.h"
#include "deliver/delivery.h"
#include "deliver/streams.h"
#include "ingest/adapter.h"
#include "store/backup.h"
#include "store/entries.h"
#include "legacy/xml_ingest.h"
#include "route/route.h"

/* ---- the hooks ------------------------------------------------------------------------------------------------- */

static void detach_subscriptions(knoop_broker_t *b, knoop_peer_t *p)
{
    while (p->subs)
        knoop_sub_detach(b, p->subs);
}

/* Releases every layer above core in reverse start-up order. The journal closes first: closing hands back the last
 * completions, which still point at peers and streams; peers go before streams, since a subscription that ends
 * returns its deliveries to its group. Safe on a start-up that stopped half-way. */
static void release_layers(knoop_broker_t *b)
{
    knoop_metrics_http_stop(b);       /* its thread reads only its snapshot; stopped before anything else goes */
    knoop_backup_destroy(&b->backup); /* a copy still running is cancelled; its thread ends before the journal */
    knoop_control_destroy(&b->control);
    knoop_store_entries_close(&b->entries_reader); /* delivery's reader statements, before their connection closes */
    knoop_journal_close(&b->journal);
    knoop_peers_free_all(b);
    if (b->streams)
        knoop_streams_free(b);
    knoop_route_state_destroy(&b->route_state);
    knoop_xml_close(b);
    knoop_metrics_free(&b->metrics);
}

/* Parse into a new configuration, check it, carry the route state over, swap: a failed reload keeps the running
 * configuration untouched. */
static int reload(knoop_broker_t *b, char *msg, size_t len)
{
    knoop_config_t *next = NULL;
    char err[1024];
    int rc = b->config_path[0] ? knoop_config_load_file(b->config_path, &next, err, sizeof err)
                               : knoop_config_load_demo(&next, err, sizeof err);
    if (rc != 0) {
        snprintf(msg, len, "%s", err);
        return rc;
    }
    if (b->config->network && !next->network) {
        snprintf(msg, len,
                 "%s has no network: section (the running configuration has one); an empty or truncated "
                 "file is not reloaded",
                 next->source);
        knoop_config_destroy(&next);
        return -EINVAL;
    }
    char fixed[512];
    int nfixed = knoop_settings_restart_needed(&b->config->settings, &next->settings, fixed, sizeof fixed);
    if (knoop_settings_keep_fixed(&b->config->settings, &next->settings) != 0) {
        knoop_config_destroy(&next);
        snprintf(msg, len, "out of memory");
        return -ENOMEM;
    }
    if (knoop_route_state_rebind(b, next->network) != 0) {
        knoop_config_destroy(&next);
        snprintf(msg, len, "out of memory carrying the route state over");
        return -ENOMEM;
    }
    knoop_config_t *old = b->config;
    b->config = next; /* messages already queued keep the routing decision made at their ingest */
    knoop_config_destroy(&old);
    knoop_log_level_t lvl;
    if (knoop_log_level_parse(next->settings.log_level, &lvl) == 0)
        knoop_log_set_level(lvl);
    if (nfixed)
        snprintf(msg, len, "reloaded; these settings changed but take effect only after a restart: %s", fixed);
    else
        snprintf(msg, len, "reloaded");
    return 0;
}

static const knoop_broker_hooks_t hooks = {
    .after_io = knoop_streams_pump_dirty, /* one journal read serves a whole commit batch */
    .peer_leaving = detach_subscriptions,
    .reload = reload,
    .stopped = release_layers,
};

/* ---- start-up -------------------------------------------------------------------------------------------------- */

static int load_pseudonym_key(knoop_broker_t *b, char *errbuf, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/pseudonym.key", b->config->settings.data_dir);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, b->pseudonym_key, sizeof b->pseudonym_key);
        close(fd);
        if (n == (ssize_t)sizeof b->pseudonym_key)
            return 0;
        snprintf(errbuf, errlen, "%s: expected %zu bytes", path, sizeof b->pseudonym_key);
        return -EINVAL;
    }
    randombytes_buf(b->pseudonym_key, sizeof b->pseudonym_key);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, b->pseudonym_key, sizeof b->pseudonym_key) != (ssize_t)sizeof b->pseudonym_key ||
        fsync(fd) != 0) {
        snprintf(errbuf, errlen, "%s: cannot write: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -EIO;
    }
    if (close(fd) != 0) {
        snprintf(errbuf, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -EIO;
    }
    return 0;
}

/* One step of the start-up: on failure, logs event with what went wrong. */
static int step(int rc, const char *event, const char *err)
{
    if (rc != 0)
        knoop_log_error(event, "error=\"%s\"", err[0] ? err : strerror(rc < 0 ? -rc : rc));
    return rc;
}

int knoop_app_start(knoop_broker_t *b, uv_loop_t *loop, knoop_config_t *config, const char *config_path)
{
    char err[1024] = "";
    int rc = knoop_broker_init(b, loop, config, config_path);
    if (step(rc, "daemon.init", err) != 0)
        return rc;
    b->frame_handlers = knoop_frame_table;
    b->n_frame_handlers = knoop_frame_table_len;
    b->jobs = knoop_job_table;
    b->n_jobs = knoop_job_table_len;
    b->hooks = hooks;
    b->adapters = knoop_adapter_table;    /* the ingest pipeline's protocol adapters (app/adapter_table.c) */
    b->metric_table = knoop_metric_table; /* what /metrics and knoopctl metrics serve (app/metrics_table.c) */
    b->n_metrics = knoop_metric_table_len;
    if (step(rc = knoop_metrics_init(&b->metrics), "daemon.metrics", err) != 0)
        return rc;
    const knoop_settings_t *s = &config->settings;
    if (step(rc = load_pseudonym_key(b, err, sizeof err), "daemon.pseudonym_key", err) != 0)
        return rc;
    char dbpath[4200];
    snprintf(dbpath, sizeof dbpath, "%s/knoop.db", s->data_dir);
    knoop_journal_options_t jopt = {
        .path = dbpath, .batch_max = s->commit_batch_max, .checkpoint_pages = s->checkpoint_pages};
    if (step(rc = knoop_journal_open(&jopt, loop, b, &b->journal, err, sizeof err), "journal.open", err) != 0)
        return rc;
    b->boot_last_seq = knoop_journal_last_seq(b->journal); /* delivery: attempt > 1 only for what came before */
    b->streams = knoop_strmap_new();
    if (step(rc = b->streams ? knoop_streams_load(b, err, sizeof err) : -ENOMEM, "journal.streams", err) != 0 ||
        step(rc = knoop_route_state_open(b, err, sizeof err), "route_state.open", err) != 0 ||
        step(rc = knoop_xml_open(b, err, sizeof err), "xml.open", err) != 0)
        return rc;
    if ((rc = knoop_broker_listen(b)) != 0) /* logs its own failures */
        return rc;
    if (step(rc = knoop_control_new(b, s->control_socket, (int)s->control_socket_mode, &b->control, err, sizeof err),
             "control.listen", err) != 0 ||
        step(rc = knoop_metrics_http_start(b, err, sizeof err), "metrics.listen", err) != 0)
        return rc;
    knoop_log_info("daemon.ready",
                   "version=%s listen=\"%s\" control=\"%s\" data_dir=\"%s\" last_seq=%" PRIu64
                   " streams=%zu config=\"%s\"",
                   KNOOP_VERSION, s->listen, s->control_socket, s->data_dir, knoop_journal_last_seq(b->journal),
                   knoop_strmap_size(b->streams), config->source);
    knoop_sd_ready(b); /* systemd (Type=notify): start-up is done */
    return 0;
}

void knoop_app_abort(knoop_broker_t *b)
{
    knoop_broker_close_handles(b);
    release_layers(b);
    knoop_broker_close_router(b);
}
