/* control_cmds.c — the control commands as one table (name, role, audit, usage, help, handler) and the dispatcher
 * that finds the longest matching command for a request's words, refuses an ADMIN command to a peer that is not an
 * admin (and audits the refusal), and writes the audit row of every use of a USE-audited command; a command whose
 * usage is empty refuses every argument here, the others parse theirs with control_args.h. `help` is generated from
 * the same table. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/broker.h"
#include "base/log.h"
#include "control/audit.h"
#include "control/control.h"
#include "control/control_latency.h"
#include "control/control_ops.h"
#include "control/control_table.h"
#include "store/journal.h"
#include "store/status.h"
#include "base/clock.h"
#include "base/cmdwords.h"
#include "base/textfmt.h"

static json_t *cmd_help(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)b, (void)argc, (void)argv, (void)error, (void)errlen;
    json_t *t = knoop_table_new((const char *[]){"command", "role", "arguments", "what it does", NULL});
    for (const knoop_control_cmd_t *c = knoop_control_cmds; c->name; c++)
        knoop_table_add(
            t, json_pack("[s,s,s,s]", c->name, c->role == KNOOP_ROLE_ADMIN ? "admin" : "read", c->usage, c->help));
    return t;
}

static json_t *cmd_status(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv;
    knoop_store_span_t span;
    if (knoop_store_message_span(b->journal, &span, error, errlen) != 0)
        return NULL;
    knoop_journal_stats_t js;
    knoop_journal_stats(b->journal, &js);
    size_t clients = 0, pos = 0;
    void *v;
    while (knoop_strmap_next(b->peers, &pos, NULL, &v))
        if (((knoop_peer_t *)v)->party[0] && !((knoop_peer_t *)v)->gone)
            clients++;
    json_t *o = json_object();
    json_object_set_new(o, "version", json_string(KNOOP_VERSION));
    json_object_set_new(o, "uptime_s", json_integer((json_int_t)((knoop_now_us() - b->started_us) / 1000000)));
    json_object_set_new(o, "config", json_string(b->config->source));
    json_object_set_new(o, "listen", json_string(b->config->settings.listen));
    json_object_set_new(o, "clients_connected", json_integer((json_int_t)clients));
    /* The retained span (store/status.h): two look-ups on the primary key, never a count over the table. */
    json_object_set_new(o, "messages_journaled", json_integer((json_int_t)span.retained));
    json_object_set_new(o, "accepted_since_start", json_integer((json_int_t)b->stats.accepted));
    json_object_set_new(o, "last_seq", json_integer((json_int_t)js.last_seq));
    json_object_set_new(o, "streams", json_integer((json_int_t)knoop_strmap_size(b->streams)));
    json_object_set_new(o, "database_bytes", json_integer(knoop_journal_db_bytes(b->journal)));
    json_object_set_new(o, "commit_batches", json_integer((json_int_t)js.commits));
    json_object_set_new(o, "commit_batch_mean", json_real(js.commits ? (double)js.ops / (double)js.commits : 0.0));
    json_object_set_new(o, "commit_batch_max", json_integer((json_int_t)js.max_batch));
    json_object_set_new(o, "commit_p50_us", json_integer((json_int_t)js.commit_us_p50));
    json_object_set_new(o, "commit_p99_us", json_integer((json_int_t)js.commit_us_p99));
    json_object_set_new(o, "checkpoints", json_integer((json_int_t)js.checkpoints));
    json_object_set_new(o, "published", json_integer((json_int_t)b->stats.published));
    json_object_set_new(o, "duplicates", json_integer((json_int_t)b->stats.duplicates));
    json_object_set_new(o, "rejected", json_integer((json_int_t)b->stats.rejected));
    json_object_set_new(o, "bad_frames", json_integer((json_int_t)b->stats.bad_frames));
    json_object_set_new(o, "delivered", json_integer((json_int_t)b->stats.delivered));
    json_object_set_new(o, "acked", json_integer((json_int_t)b->stats.acked));
    json_object_set_new(o, "settles_ignored", json_integer((json_int_t)b->stats.settles_ignored));
    json_object_set_new(o, "nacked", json_integer((json_int_t)b->stats.nacked));
    json_object_set_new(o, "dead_lettered", json_integer((json_int_t)b->stats.dead_lettered));
    json_object_set_new(o, "journal_queue", json_integer((json_int_t)knoop_journal_pending(b->journal)));
    knoop_ops_status_fields(b, o);     /* draining, in flight, safe_to_stop */
    knoop_latency_status_fields(b, o); /* where a publish's time goes */
    return o;
}

static json_t *cmd_config(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv, (void)error, (void)errlen;
    json_t *t = knoop_table_new((const char *[]){"setting", "value", "reloadable", NULL});
    json_t *all = knoop_settings_to_json(&b->config->settings);
    for (size_t i = 0; i < knoop_settings_count(); i++) {
        const knoop_setting_def_t *d = knoop_settings_def(i);
        json_t *e = json_object_get(all, d->name);
        knoop_table_add(t, json_pack("[s,O,b]", d->name, json_object_get(e, "value"), d->reloadable));
    }
    json_decref(all);
    return t;
}

static json_t *cmd_reload(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv;
    char msg[1024];
    if (knoop_broker_reload(b, msg, sizeof msg) != 0) {
        snprintf(error, errlen, "reload failed, the running configuration is kept: %s", msg);
        knoop_control_note(b, NULL, 0, "config=%s", b->config->source);
        return NULL;
    }
    knoop_control_note(b, NULL, 0, "config=%s result=%s", b->config->source, msg);
    return json_pack("{s:s, s:s}", "result", msg, "config", b->config->source);
}

static json_t *cmd_streams(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv, (void)error, (void)errlen;
    json_t *t = knoop_table_new((const char *[]){"stream", "last_seq", "appended", "subscribers", NULL});
    size_t pos = 0;
    void *v;
    while (knoop_strmap_next(b->streams, &pos, NULL, &v)) {
        knoop_stream_t *s = v;
        knoop_table_add(t, json_pack("[s,I,I,I]", s->name, (json_int_t)s->last_seq, (json_int_t)s->appended,
                                     (json_int_t)knoop_strmap_size(s->groups)));
    }
    knoop_table_sort(t, 0);
    return t;
}

const knoop_control_cmd_t knoop_control_cmds[] = {
#define KNOOP_CMD(name, role, audit, usage, help, fn) {name, KNOOP_ROLE_##role, KNOOP_AUDIT_##audit, usage, help, fn},
#include "control/commands.def"
#undef KNOOP_CMD
    {NULL, KNOOP_ROLE_READ, KNOOP_AUDIT_NONE, NULL, NULL, NULL},
};

void knoop_control_note(knoop_broker_t *b, const uint8_t *client_ref, uint64_t seq, const char *fmt, ...)
{
    knoop_control_req_t *r = knoop_control_current(b);
    if (!r)
        return;
    if (client_ref) {
        memcpy(r->client_ref, client_ref, sizeof r->client_ref);
        r->has_client_ref = true;
    }
    r->seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

/* An ADMIN command from someone who is not: answered with why, logged and audited (the actor, the command, refused). */
static json_t *refuse(knoop_broker_t *b, const knoop_control_cmd_t *c, const char *why)
{
    char action[64], error[512];
    snprintf(action, sizeof action, "%s (refused)", c->name);
    (void)knoop_audit_submit(b, action, why); /* logs its own failure */
    knoop_log_warn("control.refused", "command=\"%s\" actor=\"%s\" reason=\"%s\"", c->name, b->control_actor, why);
    snprintf(error, sizeof error, "'%s' changes the broker and needs an admin: %s", c->name, why);
    return knoop_control_refusal(c->name, error);
}

json_t *knoop_control_refusal(const char *command, const char *error)
{
    int n = (int)knoop_utf8_whole(error, strlen(error));
    if (!command)
        return json_pack("{s:b, s:s#}", "ok", 0, "error", error, n);
    return json_pack("{s:b, s:s, s:s#}", "ok", 0, "command", command, "error", error, n);
}

json_t *knoop_control_not_json(const json_error_t *jerr)
{
    char error[JSON_ERROR_TEXT_LENGTH + 64];
    knoop_textfmtf(error, sizeof error, KNOOP_TEXT_WIRE, "request is not JSON: %s (line %d, column %d)", jerr->text,
                   jerr->line, jerr->column);
    return knoop_control_refusal(NULL, error);
}

const knoop_control_cmd_t *knoop_control_find(int argc, const char *const *argv, int *consumed)
{
    const knoop_control_cmd_t *best = NULL;
    int best_words = 0;
    for (const knoop_control_cmd_t *c = knoop_control_cmds; c->name; c++) {
        int w = knoop_cmd_words_match(c->name, argc, argv);
        if (w > best_words) {
            best = c;
            best_words = w;
        }
    }
    *consumed = best_words;
    return best;
}

int knoop_control_parse(const json_t *request, knoop_control_parsed_t *out, const char **error)
{
    out->cmd = NULL;
    out->nwords = out->consumed = 0;
    json_t *jargv = json_object_get(request, "argv");
    if (!json_is_array(jargv) || json_array_size(jargv) == 0 || json_array_size(jargv) > KNOOP_CONTROL_WORDS_MAX) {
        *error = "request must be {\"argv\": [\"command\", ...]}";
        return -EINVAL;
    }
    out->nwords = (int)json_array_size(jargv);
    for (int i = 0; i < out->nwords; i++) {
        out->words[i] = json_string_value(json_array_get(jargv, (size_t)i));
        if (!out->words[i]) {
            *error = "every argv entry must be a string";
            return -EINVAL;
        }
    }
    out->cmd = knoop_control_find(out->nwords, out->words, &out->consumed);
    if (!out->cmd) {
        *error = "unknown command: ";
        return -ENOENT;
    }
    return 0;
}

json_t *knoop_control_execute(knoop_broker_t *b, knoop_control_req_t *req, json_t *request)
{
    knoop_control_parsed_t parsed;
    const char *bad;
    int rc = knoop_control_parse(request, &parsed, &bad);
    if (rc == -ENOENT)
        return json_pack("{s:b, s:s+}", "ok", 0, "error", bad, parsed.words[0]);
    if (rc != 0)
        return knoop_control_refusal(NULL, bad);
    const knoop_control_cmd_t *c = parsed.cmd;
    const char *const *argv = parsed.words;
    int argc = parsed.nwords, consumed = parsed.consumed;
    char why[256];
    if (c->role == KNOOP_ROLE_ADMIN &&
        !knoop_control_is_admin(&b->config->settings, req ? req->peer : NULL, why, sizeof why))
        return refuse(b, c, why);
    char error[1024] = "";
    if (!c->usage[0] && argc > consumed) {
        snprintf(error, sizeof error, "'%s' takes no arguments, not '%s'", c->name, argv[consumed]);
        return knoop_control_refusal(c->name, error);
    }
    json_t *result = c->fn(b, argc - consumed, argv + consumed, error, sizeof error);
    if (c->audit == KNOOP_AUDIT_USE) {
        char action[64];
        snprintf(action, sizeof action, "%s%s", c->name, result ? "" : " (failed)");
        (void)knoop_audit_submit_about(b, action, req ? req->detail : "",
                                       req && req->has_client_ref ? req->client_ref : NULL, req ? req->seq : 0);
    }
    if (!result)
        return knoop_control_refusal(c->name, error[0] ? error : "failed");
    return json_pack("{s:b, s:s, s:o}", "ok", 1, "command", c->name, "result", result);
}
