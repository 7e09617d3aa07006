/* settings.h — the daemon's settings (the `daemon:` mapping of knoopd.yaml) as ONE table: name, type, default,
 * bounds, reloadable, help. The table drives YAML parsing, defaults and bounds, `knoopctl config` and docs. */
#ifndef KNOOP_SETTINGS_H
#define KNOOP_SETTINGS_H
#include <cyaml/cyaml.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "base/cfg_error.h"

typedef struct knoop_settings {
    char *listen;         /* owned; ZeroMQ endpoint of the ROUTER socket */
    char *data_dir;       /* owned */
    char *control_socket; /* owned; resolved: never empty after knoop_settings_from_doc */
    uint64_t control_socket_mode;
    char *data_key_file;          /* owned; "" = <data_dir>.keys/data.key */
    char *data_key_previous_file; /* owned; "" = no rotation */
    char *pseudonym_key_file;     /* owned; "" = <data_dir>/pseudonym.key */
    uint64_t max_message_bytes;
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

/* Names of settings that differ and cannot change without a restart, comma-separated into buf; returns how many. */
int knoop_settings_restart_needed(const knoop_settings_t *running, const knoop_settings_t *next, char *buf, size_t len);
/* Copies the non-reloadable settings of running into next, so a reload changes only what it may. */
int knoop_settings_keep_fixed(const knoop_settings_t *running, knoop_settings_t *next);

json_t *knoop_settings_to_json(const knoop_settings_t *s);
/* The Markdown reference of every setting (docs/configuration.md is checked against it by a test). */
char *knoop_settings_markdown(void); /* caller frees */
#endif
