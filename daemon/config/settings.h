/* settings.h — the daemon's settings (the `daemon:` mapping of knoopd.yaml) as ONE table: name, type, default,
 * bounds, reloadable, help. The table drives YAML parsing, defaults and bounds, `knoopctl config` and docs. */
#ifndef KNOOP_SETTINGS_H
#define KNOOP_SETTINGS_H
#include <cyaml/cyaml.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "base/cfg_error.h"

#define KNOOP_ADMIN_IDS_MAX 64 /* uids (and gids) control_admin_uids (control_admin_gids) may name */

typedef struct knoop_settings {
    char *listen;         /* owned; ZeroMQ endpoint of the ROUTER socket */
    char *data_dir;       /* owned */
    char *control_socket; /* owned; resolved: never empty after knoop_settings_from_doc */
    uint64_t control_socket_mode;
    char *auth;                   /* owned; "curve" | "none" (knoop_settings_check_auth) */
    char *server_key_file;        /* owned; "" unless auth is curve */
    char *clients_dir;            /* owned; resolved: never empty after knoop_settings_from_doc */
    char *data_key_file;          /* owned; "" = <data_dir>.keys/data.key */
    char *data_key_previous_file; /* owned; "" = no rotation */
    char *pseudonym_key_file;     /* owned; "" = <data_dir>/pseudonym.key */
    uint64_t max_message_bytes;
    uint64_t send_hwm, recv_hwm; /* ZeroMQ queue limits per connection (frames) */
    uint64_t max_connections, max_connections_per_party;
    uint64_t max_publishes_in_flight, max_publish_bytes_in_flight; /* per connection */
    uint64_t max_queued_publish_bytes;                             /* all connections */
    uint64_t connection_max_unacked, connection_max_unacked_bytes; /* deliveries per connection */
    uint64_t max_list_items;                                       /* native domain payloads */
    uint64_t xml_max_nodes;                                        /* iWmo/iJw payloads */
    uint64_t heartbeat_ms;
    uint64_t peer_timeout_ms;
    uint64_t commit_batch_max;
    uint64_t checkpoint_pages;
    uint64_t retention_days;
    char *retention_per_kind; /* owned; "" or "outcome-report=3650d, alert=90d" (retention.h) */
    uint64_t purge_interval_ms;
    uint64_t purge_batch;
    uint64_t max_credit;
    uint64_t redelivery_max_attempts;
    uint64_t redelivery_backoff_ms;
    uint64_t visibility_timeout_ms;
    uint64_t deadline_check_interval_ms;
    char *log_level;   /* owned; error | warn | info | debug */
    char *schemas_dir; /* owned; "" = found beside the binary */
    /* operations (docs/operations.md): the metrics and health endpoint, readiness thresholds */
    char *metrics_listen; /* owned; "" = off, else HOST:PORT */
    uint64_t metrics_allow_remote;
    uint64_t health_min_free_mb;
    uint64_t health_max_wal_mb;
    uint64_t health_check_interval_ms;
    uint64_t backup_step_pause_ms;
    /* trust (docs/operations.md): control roles, audit retention, consumer groups per party */
    char *control_admin_uids; /* owned; "1000, 1001": who may run changing control commands (besides root, knoopd) */
    char *control_admin_gids; /* owned; "27": the same by primary or supplementary group */
    char *audit_retention;    /* owned; "1825d": how long audit rows are kept */
    uint64_t subscriber_max_per_party;
    char *subscriber_idle_expiry; /* owned; "90d"; "0" = never */
    /* Derived from the strings above by knoop_settings_from_doc (not rows of the table). */
    int64_t audit_retention_s;
    int64_t subscriber_idle_expiry_s; /* 0: never */
    uint32_t admin_uids[KNOOP_ADMIN_IDS_MAX], admin_gids[KNOOP_ADMIN_IDS_MAX];
    size_t n_admin_uids, n_admin_gids;
} knoop_settings_t;

typedef enum knoop_setting_type {
    KNOOP_SETTING_STRING,
    KNOOP_SETTING_UINT,
} knoop_setting_type_t;

typedef struct knoop_setting_def {
    const char *name;
    knoop_setting_type_t type;
    size_t offset;             /* into knoop_settings_t */
    const char *default_value; /* as it would be written in YAML */
    uint64_t min, max;         /* UINT bounds, inclusive; STRING: min/max length */
    bool reloadable;
    const char *help;
} knoop_setting_def_t;

size_t knoop_settings_count(void);
const knoop_setting_def_t *knoop_settings_def(size_t i);

/* Fills fields[0..count] (count + 1 entries, the last the terminator) with libcyaml fields that parse the
 * `daemon:` mapping into an array of count pointers (NULL where a key is absent). */
void knoop_settings_make_fields(cyaml_schema_field_t *fields);

/* slots may be NULL (no `daemon:` mapping): all defaults. Checks bounds; err->path names the key. */
int knoop_settings_from_doc(void *const *slots, knoop_settings_t *out, knoop_cfg_error_t *err);
void knoop_settings_free(knoop_settings_t *s);
/* The client authentication settings agree with each other and with listen: auth is curve (with a server_key_file)
 * or none on a loopback listen only. Run after the whole file is read, so other errors are reported first. */
int knoop_settings_check_auth(const knoop_settings_t *s, knoop_cfg_error_t *err);

/* Names of settings that differ and cannot change without a restart, comma-separated into buf; returns how many. */
int knoop_settings_restart_needed(const knoop_settings_t *running, const knoop_settings_t *next, char *buf, size_t len);
/* Copies the non-reloadable settings of running into next, so a reload changes only what it may. */
int knoop_settings_keep_fixed(const knoop_settings_t *running, knoop_settings_t *next);

/* "90d", "12h", "30m", "45s" or a bare number of days, into seconds (0 allowed: "never" where a setting says so).
 * Returns 0 or -EINVAL with why set. */
int knoop_duration_parse(const char *text, int64_t *seconds, char *why, size_t whylen);

json_t *knoop_settings_to_json(const knoop_settings_t *s);
/* The Markdown reference of every setting (docs/configuration.md is checked against it by a test). */
char *knoop_settings_markdown(void); /* caller frees */
#endif
