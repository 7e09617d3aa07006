/* log.h — the daemon's one logging module: levels and a structured `key=value` line format on stderr.
 * Never pass a BSN, a payload or a secret to it; callers log party codes, seqs and reasons only. */
#ifndef KNOOP_LOG_H
#define KNOOP_LOG_H

typedef enum knoop_log_level {
    KNOOP_LOG_ERROR = 0,
    KNOOP_LOG_WARN = 1,
    KNOOP_LOG_INFO = 2,
    KNOOP_LOG_DEBUG = 3,
} knoop_log_level_t;

void knoop_log_set_level(knoop_log_level_t level);
int knoop_log_level_parse(const char *name, knoop_log_level_t *out); /* "error".."debug" */
const char *knoop_log_level_name(knoop_log_level_t level);

/* event is a short dotted name ("journal.open"); fmt adds key=value pairs ("seq=%llu party=%s stream=%s"). Every %s
 * value is escaped and, where needed, quoted by the module (base/textfmt.h): write `key=%s` (or `key=\"%s\"`) and
 * pass the value as it is, client-supplied or not; a run of nine or more digits in a value is withheld. */
void knoop_log(knoop_log_level_t level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define knoop_log_error(ev, ...) knoop_log(KNOOP_LOG_ERROR, ev, __VA_ARGS__)
#define knoop_log_warn(ev, ...)  knoop_log(KNOOP_LOG_WARN, ev, __VA_ARGS__)
#define knoop_log_info(ev, ...)  knoop_log(KNOOP_LOG_INFO, ev, __VA_ARGS__)
#define knoop_log_debug(ev, ...) knoop_log(KNOOP_LOG_DEBUG, ev, __VA_ARGS__)
#endif
