/* lifecycle.c — the wiring of knoopd: start-up order, the hooks core calls upward (after each loop iteration, a peer
 * leaving, reload, the stop) and the tables core runs (frames: frame_table.c, periodic jobs: jobs.c). Every layer
 * above core is opened here and released here, in reverse, whether the stop is graceful or a start-up failed. */
#include "app/lifecycle.h"
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "app/frame_table.h"
#include "app/jobs.h"
#include "app/metrics_http.h"
#include "app/metrics_table.h"
#include "app/sd_notify.h"
#include "base/keyfile.h"
#include "base/log.h"
#include "control/control.h"
#include "deliver/delivery.h"
#include "deliver/streams.h"
#include "ingest/adapter.h"
#include "store/backup.h"
#include "ingest/client_seen.h"
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
    knoop_client_seen_free(b);
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

/* A key file's path: the setting, or its default made from the data directory. */
static void key_path(const char *setting, const char *data_dir, const char *suffix, char *out, size_t len)
{
    if (setting && setting[0]) {
        snprintf(out, len, "%s", setting);
        return;
    }
    size_t n = strlen(data_dir);
    while (n > 1 && data_dir[n - 1] == '/')
        n--;
    snprintf(out, len, "%.*s%s", (int)n, data_dir, suffix);
}

/* A key kept inside the data directory travels with every copy of it (a backup, a support snapshot): said loudly,
 * since the demo's pseudonymisation key lives there by default. */
static void warn_if_beside_data(const char *what, const char *path, const char *data_dir)
{
    char dir[PATH_MAX], key[PATH_MAX];
    if (!realpath(data_dir, dir) || !realpath(path, key))
        return;
    size_t n = strlen(dir);
    if (strncmp(key, dir, n) == 0 && key[n] == '/')
        knoop_log_warn("keys.beside_data",
                       "key=%s path=\"%s\" advice=\"the key is inside data_dir, so every copy of the data carries "
                       "it; for anything but the demo set %s_file outside data_dir and back it up apart from the "
                       "data (docs/operations.md)\"",
                       what, path, what);
}

/* Reads one key, or makes it when the journal has nothing that depends on it. */
static int load_key(const char *what, const char *path, bool journal_needs_it, const char *why, uint8_t key[32],
                    char *err, size_t errlen)
{
    int rc = knoop_keyfile_read(path, key, err, errlen);
    if (rc != -ENOENT)
        return rc;
    if (journal_needs_it) {
        snprintf(err, errlen,
                 "%s: the %s key is missing, and the journal %s; a new key would not do: restore this key from its "
                 "backup, or point %s_file at it (docs/operations.md)",
                 path, what, why, what);
        return -ENOKEY;
    }
    if ((rc = knoop_keyfile_create(path, key, err, errlen)) == 0)
        knoop_log_info("keys.created", "key=%s path=\"%s\" mode=0600", what, path);
    return rc;
}

/* The pseudonymisation key into b, the data key into data_key, and while rotating the data key the previous one into
 * previous (*rotating set). A key is made only for a journal that has nothing sealed or pseudonymised with an earlier
 * one (knoop_journal_inspect), or for the rotation; the journal itself then checks that the keys it is opened with
 * are its own (check values in its meta table). */
static int load_keys(knoop_broker_t *b, const char *dbpath, uint8_t data_key[32], uint8_t previous[32], bool *rotating,
                     char *err, size_t errlen)
{
    const knoop_settings_t *s = &b->config->settings;
    knoop_journal_facts_t facts;
    int rc = knoop_journal_inspect(dbpath, &facts, err, errlen);
    if (rc != 0)
        return rc;
    char ppath[4200], dpath[4200];
    key_path(s->pseudonym_key_file, s->data_dir, "/pseudonym.key", ppath, sizeof ppath);
    key_path(s->data_key_file, s->data_dir, ".keys/data.key", dpath, sizeof dpath);
    rc =
        load_key("pseudonym_key", ppath, facts.has_data || facts.pseudonym_key_known,
                 "holds client references made with it (messages, ledger, route state)", b->pseudonym_key, err, errlen);
    *rotating = s->data_key_previous_file[0] != '\0';
    if (rc == 0 && *rotating && (rc = knoop_keyfile_read(s->data_key_previous_file, previous, err, errlen)) == -ENOENT)
        snprintf(err, errlen, "%s (data_key_previous_file): no such file", s->data_key_previous_file);
    if (rc == 0)
        rc = load_key("data_key", dpath, facts.data_key_known && !*rotating,
                      "holds payloads sealed with it, which no other key opens", data_key, err, errlen);
    if (rc == 0) {
        warn_if_beside_data("pseudonym_key", ppath, s->data_dir);
        warn_if_beside_data("data_key", dpath, s->data_dir);
    }
    return rc;
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
    char dbpath[4200];
    snprintf(dbpath, sizeof dbpath, "%s/knoop.db", s->data_dir);
    uint8_t data_key[KNOOP_KEY_BYTES], previous[KNOOP_KEY_BYTES];
    bool rotating = false;
    if (step(rc = load_keys(b, dbpath, data_key, previous, &rotating, err, sizeof err), "daemon.keys", err) != 0)
        return rc;
    knoop_journal_options_t jopt = {.path = dbpath,
                                    .batch_max = s->commit_batch_max,
                                    .checkpoint_pages = s->checkpoint_pages,
                                    .data_key = data_key,
                                    .data_key_previous = rotating ? previous : NULL,
                                    .pseudonym_key = b->pseudonym_key};
    rc = knoop_journal_open(&jopt, loop, b, &b->journal, err, sizeof err);
    sodium_memzero(data_key, sizeof data_key); /* the journal keeps its own copy */
    sodium_memzero(previous, sizeof previous);
    if (step(rc, "journal.open", err) != 0)
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
