/* control.h — the operators' control socket: a Unix socket (mode from the config), one JSON request per line in,
 * one JSON response per line out. Commands are the rows of one table (control_cmds.c), which also feeds `help`. */
#ifndef KNOOP_CONTROL_H
#define KNOOP_CONTROL_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "control/roles.h"

struct knoop_broker;
typedef struct knoop_control knoop_control_t;

int knoop_control_new(struct knoop_broker *b, const char *path, int mode, knoop_control_t **out, char *errbuf,
                      size_t errlen);
void knoop_control_destroy(knoop_control_t **c);

/* A command's handler: args are the words after the command name. Returns the result object (new reference) or
 * NULL with *error set (a message an operator can act on). */
typedef json_t *(*knoop_control_fn)(struct knoop_broker *b, int argc, const char *const *argv, char *error,
                                    size_t errlen);
/* Who may run a command (commands.def explains the columns). */
typedef enum knoop_control_role { KNOOP_ROLE_READ, KNOOP_ROLE_ADMIN } knoop_control_role_t;
typedef enum knoop_control_audit { KNOOP_AUDIT_NONE, KNOOP_AUDIT_ACTION, KNOOP_AUDIT_USE } knoop_control_audit_t;

typedef struct knoop_control_cmd {
    const char *name; /* one or two words: "status", "dlq list" */
    knoop_control_role_t role;
    knoop_control_audit_t audit;
    const char *usage; /* arguments, e.g. "ID|--all-matching" */
    const char *help;
    knoop_control_fn fn;
} knoop_control_cmd_t;

/* One request being served: who asks, and what a USE-audited command read (its handler notes it with
 * knoop_control_note), for the audit row the dispatcher writes. */
typedef struct knoop_control_req {
    const knoop_control_peer_t *peer;
    uint8_t client_ref[32]; /* the client whose data it read, when has_client_ref */
    bool has_client_ref;
    uint64_t seq; /* the message it read (the audit row takes its client reference); 0: none */
    char detail[256];
} knoop_control_req_t;

/* The command handlers that live beside the state they show (control_network.c, control_legacy.c,
 * control_subscribers.c, control_dlq.c, retention.c, control_report.c); declared here so each definition is checked
 * against it. */
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
KNOOP_CONTROL_CMD(knoop_cmd_report);
KNOOP_CONTROL_CMD(knoop_cmd_clients);
KNOOP_CONTROL_CMD(knoop_cmd_clients_add);
KNOOP_CONTROL_CMD(knoop_cmd_clients_revoke);
KNOOP_CONTROL_CMD(knoop_cmd_audit_client);
KNOOP_CONTROL_CMD(knoop_cmd_forget_client);

/* The table; the last row has name NULL. */
extern const knoop_control_cmd_t knoop_control_cmds[];
/* Finds the longest command that argv starts with; *consumed says how many words it took. */
const knoop_control_cmd_t *knoop_control_find(int argc, const char *const *argv, int *consumed);
/* One request's words, checked for shape and matched to a command, before anything runs: what the dispatcher and the
 * fuzz harness (tests/fuzz/fuzz_control.c) share. */
#define KNOOP_CONTROL_WORDS_MAX 64
typedef struct knoop_control_parsed {
    const knoop_control_cmd_t *cmd;
    const char *words[KNOOP_CONTROL_WORDS_MAX]; /* the request's argv, borrowed from the request */
    int nwords;
    int consumed; /* words[0..consumed) name cmd; the rest are its arguments */
} knoop_control_parsed_t;
/* Reads {"argv": ["command", ...]} (at most KNOOP_CONTROL_WORDS_MAX strings) and finds its command; touches no
 * broker. 0; -EINVAL with *error the message for the client; -ENOENT (no such command) with *error the message's
 * start, to be followed by words[0]. */
int knoop_control_parse(const json_t *request, knoop_control_parsed_t *out, const char **error);
/* The refusals the control socket answers with, {"ok": false, ["command": ...,] "error": ...}. Every one must pack: a
 * response jansson cannot make (a string that is not UTF-8) closes the operator's connection instead of answering.
 * knoop_control_refusal cuts error to whole characters (a handler's error buffer may have cut an operator's long
 * word inside one); command may be NULL. knoop_control_not_json says why a line is not JSON, where jansson quotes the
 * bytes near the fault, which may be cut or not UTF-8 at all (then not repeated). */
json_t *knoop_control_refusal(const char *command, const char *error);
json_t *knoop_control_not_json(const json_error_t *jerr);
/* Runs one request {"argv": [...]} for req->peer and returns the response object {"ok":..., "result"|"error": ...}.
 * An ADMIN command from a peer that is not an admin is refused, and the refusal audited. */
json_t *knoop_control_execute(struct knoop_broker *b, knoop_control_req_t *req, json_t *request);
/* The request being served, or NULL (a handler called from elsewhere, e.g. a unit test). */
knoop_control_req_t *knoop_control_current(struct knoop_broker *b);
/* For a USE-audited handler: what it read. client_ref (32 bytes) or NULL; seq of a message or 0; detail (no BSN, no
 * payload) for the audit row. Does nothing outside a request. */
void knoop_control_note(struct knoop_broker *b, const uint8_t *client_ref, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#endif
