/* settings.c — the settings table and everything it drives: libcyaml fields, defaults and bounds, the
 * reload rules, JSON for `knoopctl config` and the Markdown reference in docs/configuration.md. */
#include "config/settings.h"
#include "config/retention_spec.h"
#include "base/hostport.h"
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define S(field) offsetof(knoop_settings_t, field)
#define MiB      (1024ull * 1024ull)

static const knoop_setting_def_t settings_table[] = {
    {"listen", KNOOP_SETTING_STRING, S(listen), "tcp://127.0.0.1:5570", 1, 255, false,
     "ZeroMQ endpoint of the client socket (ROUTER)."},
    {"data_dir", KNOOP_SETTING_STRING, S(data_dir), "./var", 1, 4095, false,
     "Directory of the journal (knoop.db), the pseudonymisation key and the control socket."},
    {"control_socket", KNOOP_SETTING_STRING, S(control_socket), "", 0, 107, false,
     "Path of the control socket; empty means <data_dir>/knoopd.sock."},
    {"control_socket_mode", KNOOP_SETTING_UINT, S(control_socket_mode), "0660", 0, 0777, false,
     "File mode of the control socket (octal)."},
    /* client authentication (docs/protocol.md, Transport security) */
    {"auth", KNOOP_SETTING_STRING, S(auth), "curve", 4, 5, false,
     "curve: every client proves a key the clients directory maps to its party (ZeroMQ CURVE); none: ZeroMQ's NULL "
     "mechanism, no authentication, allowed only on a loopback listen (development)."},
    {"server_key_file", KNOOP_SETTING_STRING, S(server_key_file), "", 0, 4095, false,
     "The server's CURVE secret key (knoopctl keys generate; mode 0600). Needed with auth: curve."},
    {"clients_dir", KNOOP_SETTING_STRING, S(clients_dir), "", 0, 4095, false,
     "Directory of the client public keys, one file per key naming its party (knoopctl clients add); empty means "
     "<data_dir>/clients. Its contents are reread on reload."},
    {"max_message_bytes", KNOOP_SETTING_UINT, S(max_message_bytes), "4194304", 1024, 256 * MiB, false,
     "Largest frame a client may send; larger ones are rejected with TOO_LARGE. ZeroMQ drops a connection that "
     "sends a frame more than 64 KiB larger, without reading it (docs/protocol.md section 11)."},
    {"send_hwm", KNOOP_SETTING_UINT, S(send_hwm), "16384", 1000, 10000000, false,
     "Most frames ZeroMQ queues for one connection (ZMQ_SNDHWM). An answer that finds the queue full ends the "
     "session (logged); a delivery that finds it full waits in the journal."},
    {"recv_hwm", KNOOP_SETTING_UINT, S(recv_hwm), "64", 16, 100000, false,
     "Most frames ZeroMQ reads ahead from one connection before knoopd takes them (ZMQ_RCVHWM); beyond it that "
     "connection waits (TCP back-pressure)."},
    {"max_connections", KNOOP_SETTING_UINT, S(max_connections), "10000", 1, 1000000, true,
     "Most clients knoopd knows at once (connections that sent a frame, until they are dropped); a newcomer beyond "
     "it is answered Error INTERNAL and its frames are ignored."},
    {"max_connections_per_party", KNOOP_SETTING_UINT, S(max_connections_per_party), "256", 1, 1000000, true,
     "Most sessions (connections after Hello) of one party at once; a Hello beyond it is refused with INTERNAL."},
    {"max_publishes_in_flight", KNOOP_SETTING_UINT, S(max_publishes_in_flight), "1024", 1, 1000000, true,
     "Most publishes of one connection waiting for their answer; beyond it a publish is rejected with INTERNAL "
     "(nothing stored: wait for answers, publish again)."},
    {"max_publish_bytes_in_flight", KNOOP_SETTING_UINT, S(max_publish_bytes_in_flight), "16777216", 65536, 4096 * MiB,
     true,
     "Most bytes of envelopes one connection may have waiting for their answer (one publish is always allowed); "
     "beyond it a publish is rejected with INTERNAL."},
    {"max_queued_publish_bytes", KNOOP_SETTING_UINT, S(max_queued_publish_bytes), "268435456", 1 * MiB, 65536 * MiB,
     true,
     "Most bytes of envelopes of all connections together waiting for the journal; beyond it a publish is "
     "rejected with INTERNAL."},
    {"data_key_file", KNOOP_SETTING_STRING, S(data_key_file), "", 0, 4095, false,
     "Key that seals message envelopes and ledger sets at rest (docs/journal.md); empty: <data_dir>.keys/data.key, "
     "beside data_dir, not in it. Made (0600) at the first start of an empty journal; a missing or other key on a "
     "journal sealed with one, or a key group or others can read, stops start-up."},
    {"data_key_previous_file", KNOOP_SETTING_STRING, S(data_key_previous_file), "", 0, 4095, false,
     "Only while rotating the data key: the key the journal is sealed under now. At start every envelope and ledger "
     "set is sealed anew under data_key_file (made if missing), in one transaction; then remove this setting "
     "(docs/operations.md)."},
    {"pseudonym_key_file", KNOOP_SETTING_STRING, S(pseudonym_key_file), "", 0, 4095, false,
     "Key of the client references (keyed hash of the BSN); empty: <data_dir>/pseudonym.key (the demo's place: keep "
     "keys and their backups apart from the data, docs/operations.md). Made (0600) only for an empty journal; "
     "missing, changed or readable by group or others on a journal with data stops start-up."},
    {"heartbeat_ms", KNOOP_SETTING_UINT, S(heartbeat_ms), "5000", 100, 600000, true,
     "Interval at which clients should send Heartbeat (told in Welcome)."},
    {"peer_timeout_ms", KNOOP_SETTING_UINT, S(peer_timeout_ms), "15000", 300, 3600000, true,
     "A client silent this long is dropped; its unacked deliveries return to the stream."},
    {"commit_batch_max", KNOOP_SETTING_UINT, S(commit_batch_max), "8192", 1, 1000000, false,
     "Most messages committed in one journal transaction (group commit)."},
    {"checkpoint_pages", KNOOP_SETTING_UINT, S(checkpoint_pages), "16384", 100, 10000000, false,
     "WAL size in pages at which the background checkpointer runs."},
    {"retention_days", KNOOP_SETTING_UINT, S(retention_days), "730", 1, 36500, true,
     "How long messages and their deduplication keys are kept (every kind not named in retention_per_kind)."},
    {"retention_per_kind", KNOOP_SETTING_STRING, S(retention_per_kind), "", 0, 1000, true,
     "Per-kind retention overrides, e.g. \"outcome-report=3650d, alert=90d\"; units s, m, h, d (docs/delivery.md)."},
    {"purge_interval_ms", KNOOP_SETTING_UINT, S(purge_interval_ms), "5000", 100, 3600000, true,
     "How often the retention purge deletes one batch of expired messages."},
    {"purge_batch", KNOOP_SETTING_UINT, S(purge_batch), "1000", 1, 100000, true,
     "Most messages one purge batch (one journal transaction) deletes."},
    {"max_credit", KNOOP_SETTING_UINT, S(max_credit), "65536", 1, 1000000, true,
     "Most unacked deliveries one subscription may hold, whatever credit it grants."},
    {"connection_max_unacked", KNOOP_SETTING_UINT, S(connection_max_unacked), "8192", 1, 1000000, true,
     "Most unacked deliveries one connection holds over all its subscriptions; more wait in the journal until it "
     "acks (docs/delivery.md: what a consumer that does not read costs)."},
    {"connection_max_unacked_bytes", KNOOP_SETTING_UINT, S(connection_max_unacked_bytes), "8388608", 65536, 4096 * MiB,
     true,
     "Most bytes of unacked deliveries one connection holds (one delivery may pass it); more wait in the journal."},
    {"max_list_items", KNOOP_SETTING_UINT, S(max_list_items), "1000", 1, 1000000, true,
     "Most items in one list field of a native domain payload (Referral.domains, PlanUpdate.goals, "
     "OutcomeReport.values, Retour.codes); more is rejected with INVALID_FIELD."},
    {"xml_max_nodes", KNOOP_SETTING_UINT, S(xml_max_nodes), "200000", 100, 100000000, true,
     "Most XML nodes (elements, attributes, comments, processing instructions) in one iWmo/iJw message; the parser "
     "stops at the limit and the message is rejected."},
    {"redelivery_max_attempts", KNOOP_SETTING_UINT, S(redelivery_max_attempts), "10", 1, 1000, true,
     "Deliveries of one message to one subscriber before it becomes a dead letter."},
    {"redelivery_backoff_ms", KNOOP_SETTING_UINT, S(redelivery_backoff_ms), "1000", 0, 3600000, true,
     "First redelivery delay after a nack without delay; doubles per attempt (with jitter)."},
    {"visibility_timeout_ms", KNOOP_SETTING_UINT, S(visibility_timeout_ms), "300000", 100, 86400000, true,
     "An unacked delivery returns to the stream after this long."},
    {"deadline_check_interval_ms", KNOOP_SETTING_UINT, S(deadline_check_interval_ms), "60000", 100, 86400000, true,
     "How often open iWmo/iJw expectations are checked for overdue answers (and once a second after start-up); "
     "each overdue one raises one alert (docs/deadlines.md)."},
    {"schemas_dir", KNOOP_SETTING_STRING, S(schemas_dir), "", 0, 4095, false,
     "Directory with iwmo-3.2/ and ijw-3.2/ XSDs; empty: adapters/istd/schemas beside the binary's source tree, "
     "else /usr/share/knoop/schemas."},
    {"log_level", KNOOP_SETTING_STRING, S(log_level), "info", 4, 5, true, "error, warn, info or debug."},
    {"metrics_listen", KNOOP_SETTING_STRING, S(metrics_listen), "", 0, 64, false,
     "HOST:PORT of the HTTP endpoint with /metrics (Prometheus) and /healthz, e.g. 127.0.0.1:9570; empty: off. "
     "Loopback only unless metrics_allow_remote is 1 (docs/metrics.md)."},
    {"metrics_allow_remote", KNOOP_SETTING_UINT, S(metrics_allow_remote), "0", 0, 1, false,
     "1: metrics_listen may be a non-loopback address (the endpoint has no authentication)."},
    {"health_min_free_mb", KNOOP_SETTING_UINT, S(health_min_free_mb), "256", 0, 100000000, true,
     "Free space the data_dir's file system must have for knoopd to report ready (0: not checked)."},
    {"health_max_wal_mb", KNOOP_SETTING_UINT, S(health_max_wal_mb), "1024", 1, 10000000, true,
     "A write-ahead log larger than this (checkpoints falling behind) reports not ready."},
    {"health_check_interval_ms", KNOOP_SETTING_UINT, S(health_check_interval_ms), "5000", 100, 3600000, true,
     "How often a small write proves the journal writable (the health check)."},
    {"backup_step_pause_ms", KNOOP_SETTING_UINT, S(backup_step_pause_ms), "0", 0, 10000, true,
     "Pause between steps of 1 MiB of `knoopctl backup`, to leave the disk to the journal on a busy system."},
    {"control_admin_uids", KNOOP_SETTING_STRING, S(control_admin_uids), "", 0, 1000, true,
     "Comma-separated uids that may run the changing control commands (rewind, dlq retry/discard, purge, reload), "
     "besides root and knoopd's own uid, which always may (docs/operations.md)."},
    {"control_admin_gids", KNOOP_SETTING_STRING, S(control_admin_gids), "", 0, 1000, true,
     "Comma-separated gids: a control client whose primary or supplementary group is one of them is an admin too."},
    {"audit_retention", KNOOP_SETTING_STRING, S(audit_retention), "1825d", 1, 32, true,
     "How long audit rows (operator actions and deliveries) are kept: a number with unit s, m, h or d (no unit: "
     "days)."},
    {"subscriber_max_per_party", KNOOP_SETTING_UINT, S(subscriber_max_per_party), "64", 1, 100000, true,
     "Most durable subscribers (consumer groups: a name on a stream) one party may own; a Subscribe that would "
     "create one more is refused."},
    {"subscriber_idle_expiry", KNOOP_SETTING_STRING, S(subscriber_idle_expiry), "90d", 1, 32, true,
     "A durable subscriber with no member and nothing to deliver for this long is removed with its cursor "
     "(docs/delivery.md); units as audit_retention; 0: never."},
};
#define SETTINGS_COUNT (sizeof settings_table / sizeof settings_table[0])

size_t knoop_settings_count(void)
{
    return SETTINGS_COUNT;
}
const knoop_setting_def_t *knoop_settings_def(size_t i)
{
    return i < SETTINGS_COUNT ? &settings_table[i] : NULL;
}

void knoop_settings_make_fields(cyaml_schema_field_t *fields)
{
    for (size_t i = 0; i < SETTINGS_COUNT; i++) {
        const knoop_setting_def_t *d = &settings_table[i];
        cyaml_schema_field_t *f = &fields[i];
        memset(f, 0, sizeof *f);
        f->key = d->name;
        f->data_offset = (uint32_t)(i * sizeof(void *));
        f->value.flags = CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL;
        if (d->type == KNOOP_SETTING_STRING) {
            f->value.type = CYAML_STRING;
            f->value.data_size = 1;
            f->value.string.min = 0;
            f->value.string.max = CYAML_UNLIMITED;
        } else {
            /* Parsed signed so that "-5" is reported as -5, not as the unsigned number it would wrap to. */
            f->value.type = CYAML_INT;
            f->value.data_size = sizeof(int64_t);
        }
    }
    memset(&fields[SETTINGS_COUNT], 0, sizeof fields[SETTINGS_COUNT]);
}

static int set_uint(const knoop_setting_def_t *d, int64_t v, knoop_settings_t *out, knoop_cfg_error_t *err)
{
    char path[128];
    snprintf(path, sizeof path, "daemon.%s", d->name);
    if (v < 0 || (uint64_t)v < d->min || (uint64_t)v > d->max)
        return knoop_cfg_fail(err, path, "%s: %" PRId64 " is out of range (%" PRIu64 " to %" PRIu64 ")", d->name, v,
                              d->min, d->max);
    *(uint64_t *)((char *)out + d->offset) = (uint64_t)v;
    return 0;
}

static int set_string(const knoop_setting_def_t *d, const char *v, knoop_settings_t *out, knoop_cfg_error_t *err)
{
    char path[128];
    snprintf(path, sizeof path, "daemon.%s", d->name);
    size_t len = strlen(v);
    if (len < d->min || len > d->max)
        return knoop_cfg_fail(err, path, "%s: length %zu is out of range (%" PRIu64 " to %" PRIu64 " characters)",
                              d->name, len, d->min, d->max);
    char **slot = (char **)((char *)out + d->offset);
    free(*slot);
    *slot = strdup(v);
    return *slot ? 0 : -ENOMEM;
}

static const knoop_setting_def_t *def_named(const char *name)
{
    for (size_t i = 0; i < SETTINGS_COUNT; i++)
        if (strcmp(settings_table[i].name, name) == 0)
            return &settings_table[i];
    return NULL; /* not reached: callers name rows of the table */
}

/* tcp://HOST:PORT (PORT 1..65535 or *) or ipc://PATH: what ZeroMQ can bind, checked before it is asked to. */
static bool endpoint_ok(const char *e)
{
    if (strncmp(e, "ipc://", 6) == 0)
        return e[6] != '\0';
    if (strncmp(e, "tcp://", 6) != 0)
        return false;
    const char *colon = strrchr(e + 6, ':');
    if (!colon || colon == e + 6)
        return false;
    const char *port = colon + 1;
    if (strcmp(port, "*") == 0)
        return true;
    if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
        return false;
    long n = strtol(port, NULL, 10);
    return n >= 1 && n <= 65535;
}

int knoop_duration_parse(const char *text, int64_t *seconds, char *why, size_t whylen)
{
    static const struct {
        char suffix;
        int64_t seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
    char *end;
    errno = 0;
    long long v = text[0] >= '0' && text[0] <= '9' ? strtoll(text, &end, 10) : -1;
    if (v < 0 || errno != 0)
        return snprintf(why, whylen, "'%s' is not a duration (a number with unit s, m, h or d, e.g. 90d)", text),
               -EINVAL;
    int64_t mult = 86400; /* no unit: days, like retention_days */
    if (*end) {
        mult = 0;
        for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
            if (*end == units[u].suffix && end[1] == '\0')
                mult = units[u].seconds;
        if (!mult)
            return snprintf(why, whylen, "'%s': the unit must be s, m, h or d", text), -EINVAL;
    }
    if (v > 36500LL * 86400 / mult)
        return snprintf(why, whylen, "'%s' is longer than 100 years", text), -EINVAL;
    *seconds = (int64_t)v * mult;
    return 0;
}

/* "1000, 1001" into ids; an empty list is allowed (nobody beyond root and knoopd's own uid). */
static int parse_ids(const char *name, const char *text, uint32_t *ids, size_t *n, knoop_cfg_error_t *err)
{
    char path[64];
    snprintf(path, sizeof path, "daemon.%s", name);
    *n = 0;
    for (const char *p = text; *p;) {
        p += strspn(p, ", \t");
        if (!*p)
            break;
        char *end;
        errno = 0;
        unsigned long long v = *p >= '0' && *p <= '9' ? strtoull(p, &end, 10) : ULLONG_MAX;
        if (v >= UINT32_MAX || errno != 0 || (*end && !strchr(", \t", *end)))
            return knoop_cfg_fail(err, path, "%s: '%.20s' is not a number id (a list such as \"1000, 1001\")", name, p);
        if (*n == KNOOP_ADMIN_IDS_MAX)
            return knoop_cfg_fail(err, path, "%s: more than %d ids", name, KNOOP_ADMIN_IDS_MAX);
        ids[(*n)++] = (uint32_t)v;
        p = end;
    }
    return 0;
}

static int parse_duration_setting(const char *name, const char *text, int64_t *out, knoop_cfg_error_t *err)
{
    char why[160], path[64];
    snprintf(path, sizeof path, "daemon.%s", name);
    if (knoop_duration_parse(text, out, why, sizeof why) != 0)
        return knoop_cfg_fail(err, path, "%s: %s", name, why);
    return 0;
}

int knoop_settings_from_doc(void *const *slots, knoop_settings_t *out, knoop_cfg_error_t *err)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    for (size_t i = 0; i < SETTINGS_COUNT && rc == 0; i++) {
        const knoop_setting_def_t *d = &settings_table[i];
        const void *given = slots ? slots[i] : NULL;
        if (d->type == KNOOP_SETTING_STRING)
            rc = set_string(d, given ? (const char *)given : d->default_value, out, err);
        else
            rc = set_uint(d, given ? *(const int64_t *)given : strtoll(d->default_value, NULL, 0), out, err);
    }
    if (rc == 0 && strcmp(out->log_level, "error") && strcmp(out->log_level, "warn") &&
        strcmp(out->log_level, "info") && strcmp(out->log_level, "debug"))
        rc = knoop_cfg_fail(err, "daemon.log_level", "log_level: '%s' is not one of error, warn, info, debug",
                            out->log_level);
    if (rc == 0 && !endpoint_ok(out->listen))
        rc = knoop_cfg_fail(err, "daemon.listen",
                            "listen: '%s' is not tcp://HOST:PORT (port 1 to 65535) or "
                            "ipc://PATH",
                            out->listen);
    if (rc == 0 && out->clients_dir[0] == '\0') {
        char path[4200];
        snprintf(path, sizeof path, "%s/clients", out->data_dir);
        rc = set_string(def_named("clients_dir"), path, out, err);
    }
    if (rc == 0 && out->control_socket[0] == '\0') {
        char path[4200];
        snprintf(path, sizeof path, "%s/knoopd.sock", out->data_dir);
        if (strlen(path) > 107)
            rc = knoop_cfg_fail(err, "daemon.data_dir",
                                "data_dir: too long for the control socket path "
                                "(Unix sockets allow 107 characters); set control_socket");
        else
            rc = set_string(&settings_table[2], path, out, err);
    }
    if (rc == 0) {
        int64_t kinds[KNOOP_RETENTION_KINDS];
        char why[256];
        if (knoop_retention_parse(out->retention_per_kind, out->retention_days, kinds, why, sizeof why) != 0)
            rc = knoop_cfg_fail(err, "daemon.retention_per_kind", "%s", why);
    }
    if (rc == 0 && out->metrics_listen[0]) {
        struct sockaddr_storage addr;
        socklen_t alen;
        bool loopback;
        if (knoop_hostport_parse(out->metrics_listen, &addr, &alen, &loopback) != 0)
            rc = knoop_cfg_fail(err, "daemon.metrics_listen",
                                "metrics_listen: '%s' is not HOST:PORT (an IPv4 address, [IPv6] or localhost, "
                                "port 1 to 65535)",
                                out->metrics_listen);
        else if (!loopback && !out->metrics_allow_remote)
            rc = knoop_cfg_fail(err, "daemon.metrics_listen",
                                "metrics_listen: %s is not a loopback address and the endpoint has no "
                                "authentication; set metrics_allow_remote: 1 to serve it beyond this host",
                                out->metrics_listen);
    }
    if (rc == 0 && out->send_hwm <= out->connection_max_unacked + out->max_publishes_in_flight)
        rc = knoop_cfg_fail(err, "daemon.send_hwm",
                            "send_hwm (%" PRIu64 ") must exceed connection_max_unacked + max_publishes_in_flight "
                            "(%" PRIu64 "): a client that reads its answers would otherwise find its queue full",
                            out->send_hwm, out->connection_max_unacked + out->max_publishes_in_flight);
    if (rc == 0 && out->peer_timeout_ms < 2 * out->heartbeat_ms)
        rc = knoop_cfg_fail(err, "daemon.peer_timeout_ms",
                            "peer_timeout_ms (%" PRIu64 ") must be at least twice "
                            "heartbeat_ms (%" PRIu64 ")",
                            out->peer_timeout_ms, out->heartbeat_ms);
    if (rc == 0)
        rc = parse_ids("control_admin_uids", out->control_admin_uids, out->admin_uids, &out->n_admin_uids, err);
    if (rc == 0)
        rc = parse_ids("control_admin_gids", out->control_admin_gids, out->admin_gids, &out->n_admin_gids, err);
    if (rc == 0)
        rc = parse_duration_setting("audit_retention", out->audit_retention, &out->audit_retention_s, err);
    if (rc == 0 && out->audit_retention_s == 0)
        rc = knoop_cfg_fail(err, "daemon.audit_retention", "audit_retention: must be longer than 0");
    if (rc == 0)
        rc = parse_duration_setting("subscriber_idle_expiry", out->subscriber_idle_expiry,
                                    &out->subscriber_idle_expiry_s, err);
    if (rc != 0)
        knoop_settings_free(out);
    return rc;
}

/* The host of tcp://HOST:PORT is a loopback address (127.0.0.0/8, [::1], localhost), or the endpoint is ipc://. */
static bool endpoint_is_loopback(const char *e)
{
    if (strncmp(e, "ipc://", 6) == 0)
        return true;
    if (strncmp(e, "tcp://", 6) != 0)
        return false;
    const char *host = e + 6, *colon = strrchr(host, ':');
    size_t len = colon ? (size_t)(colon - host) : 0;
    if ((len == 9 && strncmp(host, "localhost", 9) == 0) || (len == 5 && strncmp(host, "[::1]", 5) == 0))
        return true;
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        if (host[i] == '.')
            dots++;
        else if (host[i] < '0' || host[i] > '9')
            return false;
    }
    return dots == 3 && len >= 7 && strncmp(host, "127.", 4) == 0;
}

int knoop_settings_check_auth(const knoop_settings_t *s, knoop_cfg_error_t *err)
{
    if (strcmp(s->auth, "curve") == 0) {
        if (!s->server_key_file[0])
            return knoop_cfg_fail(err, "daemon.server_key_file",
                                  "auth: curve (the default) needs server_key_file, the server's secret key (make one "
                                  "with knoopctl keys generate); for development on loopback only, set auth: none");
        return 0;
    }
    if (strcmp(s->auth, "none") != 0)
        return knoop_cfg_fail(err, "daemon.auth", "auth: '%s' is not one of curve, none", s->auth);
    if (!endpoint_is_loopback(s->listen))
        return knoop_cfg_fail(err, "daemon.auth",
                              "auth: none (ZeroMQ's NULL mechanism: no authentication, a client is whatever party it "
                              "says) is allowed only on a loopback listen (tcp://127.0.0.1, tcp://[::1], "
                              "tcp://localhost or ipc://), not on '%s'; use auth: curve with server_key_file",
                              s->listen);
    return 0;
}

void knoop_settings_free(knoop_settings_t *s)
{
    for (size_t i = 0; i < SETTINGS_COUNT; i++)
        if (settings_table[i].type == KNOOP_SETTING_STRING) {
            char **slot = (char **)((char *)s + settings_table[i].offset);
            free(*slot);
            *slot = NULL;
        }
}

static bool same_value(const knoop_setting_def_t *d, const knoop_settings_t *a, const knoop_settings_t *b)
{
    const char *pa = (const char *)a + d->offset, *pb = (const char *)b + d->offset;
    if (d->type == KNOOP_SETTING_STRING)
        return strcmp(*(char *const *)pa, *(char *const *)pb) == 0;
    return *(const uint64_t *)pa == *(const uint64_t *)pb;
}

int knoop_settings_restart_needed(const knoop_settings_t *running, const knoop_settings_t *next, char *buf, size_t len)
{
    int n = 0;
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < SETTINGS_COUNT; i++) {
        const knoop_setting_def_t *d = &settings_table[i];
        if (d->reloadable || same_value(d, running, next))
            continue;
        int w = snprintf(buf + used, len > used ? len - used : 0, "%s%s", n ? ", " : "", d->name);
        if (w > 0 && used + (size_t)w < len)
            used += (size_t)w;
        n++;
    }
    return n;
}

int knoop_settings_keep_fixed(const knoop_settings_t *running, knoop_settings_t *next)
{
    for (size_t i = 0; i < SETTINGS_COUNT; i++) {
        const knoop_setting_def_t *d = &settings_table[i];
        if (d->reloadable || same_value(d, running, next))
            continue;
        const char *src = (const char *)running + d->offset;
        char *dst = (char *)next + d->offset;
        if (d->type == KNOOP_SETTING_STRING) {
            char *copy = strdup(*(char *const *)src);
            if (!copy)
                return -ENOMEM;
            free(*(char **)dst);
            *(char **)dst = copy;
        } else {
            *(uint64_t *)dst = *(const uint64_t *)src;
        }
    }
    return 0;
}

json_t *knoop_settings_to_json(const knoop_settings_t *s)
{
    json_t *o = json_object();
    for (size_t i = 0; i < SETTINGS_COUNT; i++) {
        const knoop_setting_def_t *d = &settings_table[i];
        const char *p = (const char *)s + d->offset;
        json_t *v = d->type == KNOOP_SETTING_STRING ? json_string(*(char *const *)p)
                                                    : json_integer((json_int_t) * (const uint64_t *)p);
        json_object_set_new(o, d->name, json_pack("{s:o, s:b}", "value", v, "reloadable", d->reloadable));
    }
    return o;
}

char *knoop_settings_markdown(void)
{
    size_t cap = 8192, used = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    used += (size_t)snprintf(out, cap,
                             "| setting | type | default | bounds | reloadable | meaning |\n"
                             "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < SETTINGS_COUNT; i++) {
        const knoop_setting_def_t *d = &settings_table[i];
        char bounds[64];
        if (d->type == KNOOP_SETTING_UINT)
            snprintf(bounds, sizeof bounds, "%" PRIu64 " – %" PRIu64, d->min, d->max);
        else
            snprintf(bounds, sizeof bounds, "%" PRIu64 " – %" PRIu64 " chars", d->min, d->max);
        char row[768];
        int n = snprintf(row, sizeof row, "| `%s` | %s | `%s` | %s | %s | %s |\n", d->name,
                         d->type == KNOOP_SETTING_UINT ? "integer" : "string", d->default_value, bounds,
                         d->reloadable ? "yes" : "no", d->help);
        if (used + (size_t)n + 1 > cap) {
            cap *= 2;
            char *bigger = realloc(out, cap);
            if (!bigger) {
                free(out);
                return NULL;
            }
            out = bigger;
        }
        memcpy(out + used, row, (size_t)n + 1);
        used += (size_t)n;
    }
    return out;
}
