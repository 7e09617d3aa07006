/* control.h — the operators' control socket: a Unix socket (mode from the config), one JSON request per line in,
 * one JSON response per line out. Commands are the rows of one table (control_cmds.c), which also feeds `help`. */
#ifndef KNOOP_CONTROL_H
#define KNOOP_CONTROL_H
#include <jansson.h>
#include <stddef.h>

struct knoop_broker;
typedef struct knoop_control knoop_control_t;

int knoop_control_new(struct knoop_broker *b, const char *path, int mode, knoop_control_t **out, char *errbuf,
                      size_t errlen);
void knoop_control_destroy(knoop_control_t **c);

/* A command's handler: args are the words after the command name. Returns the result object (new reference) or
 * NULL with *error set (a message an operator can act on). */
typedef json_t *(*knoop_control_fn)(struct knoop_broker *b, int argc, const char *const *argv, char *error,
                                    size_t errlen);
typedef struct knoop_control_cmd {
    const char *name;  /* one or two words: "status", "dlq list" */
    const char *usage; /* arguments, e.g. "ID|--all-matching" */
    const char *help;
    knoop_control_fn fn;
} knoop_control_cmd_t;

/* The command handlers that live beside the state they show (control_network.c, control_legacy.c,
 * control_subscribers.c, control_dlq.c, retention.c); declared here so each definition is checked against it. */
#define KNOOP_CONTROL_CMD(name)                                                                                        \
    json_t *name(struct knoop_broker *b, int argc, const char *const *argv, char *error, size_t errlen)
KNOOP_CONTROL_CMD(knoop_cmd_parties);
KNOOP_CONTROL_CMD(knoop_cmd_contracts);
KNOOP_CONTROL_CMD(knoop_cmd_route_explain);
KNOOP_CONTROL_CMD(knoop_cmd_deadlines);
KNOOP_CONTROL_CMD(knoop_cmd_alerts);
KNOOP_CONTROL_CMD(knoop_cmd_subscribers);
KNOOP_CONTROL_CMD(knoop_cmd_subscriber_rewind);
KNOOP_CONTROL_CMD(knoop_cmd_dlq_list);
KNOOP_CONTROL_CMD(knoop_cmd_dlq_show);
KNOOP_CONTROL_CMD(knoop_cmd_dlq_retry);
KNOOP_CONTROL_CMD(knoop_cmd_dlq_discard);
KNOOP_CONTROL_CMD(knoop_cmd_purge_now);
KNOOP_CONTROL_CMD(knoop_cmd_forget_client);

/* The table; the last row has name NULL. */
extern const knoop_control_cmd_t knoop_control_cmds[];
/* Finds the longest command that argv starts with; *consumed says how many words it took. */
const knoop_control_cmd_t *knoop_control_find(int argc, const char *const *argv, int *consumed);
/* Runs one request {"argv": [...]} and returns the response object {"ok":..., "result"|"error": ...}. */
json_t *knoop_control_execute(struct knoop_broker *b, json_t *request);
#endif
