/* control_dlq.c — the operator's dead-letter commands: list, show, retry, discard. A delivery dead letter is retried
 * by handing its seq back to its group; a routing dead letter by routing the stored envelope again with the running
 * configuration, through the same white-label step as publishing (ingest/whitelabel.h: rewrite and last check). Every action changes the row's state and writes an audit row in the same transaction. The rows are
 * read and moved by store/dlq.h, the message behind one by store/decisions.h. */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control/audit.h"
#include "core/broker.h"
#include "control/control.h"
#include "control/control_args.h"
#include "control/control_table.h"
#include "control/control_time.h"
#include "knoop/names.h"
#include "base/log.h"
#include "route/route.h"
#include "ingest/route_step.h"
#include "ingest/whitelabel.h"
#include "base/clock.h"
#include "deliver/delivery.h"
#include "deliver/streams.h"
#include "store/decisions.h"
#include "store/dlq.h"

#define MATCH_MAX    10000 /* rows one --all-matching command acts on, and the largest --limit */
#define LIST_DEFAULT 1000  /* rows `dlq list` shows without --limit */

typedef knoop_store_dead_letter_t dl_row_t;

static int parse_id(const char *text, int64_t *id, char *error, size_t errlen)
{
    return knoop_ctl_number("ID", text, 1, INT64_MAX, id, error, errlen);
}

/* dlq list [--stream S] [--reason R] [--state X] [--limit N] */
json_t *knoop_cmd_dlq_list(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    const char *limit;
    knoop_store_dlq_filter_t f = {.limit = LIST_DEFAULT};
    const knoop_ctl_opt_t opts[] = {{"--stream", &f.stream, NULL},
                                    {"--reason", &f.reason, NULL},
                                    {"--state", &f.state, NULL},
                                    {"--limit", &limit, NULL},
                                    {NULL, NULL, NULL}};
    if (knoop_ctl_args(argc, argv, opts, NULL, 0, error, errlen) != 0 ||
        (limit && knoop_ctl_number("--limit", limit, 1, MATCH_MAX, &f.limit, error, errlen) != 0))
        return NULL;
    dl_row_t *rows;
    size_t n;
    if (knoop_store_dlq_select(b->journal, &f, &rows, &n, error, errlen) != 0)
        return NULL;
    json_t *t = knoop_table_new((const char *[]){"id", "seq", "stream", "subscriber", "source", "reason", "attempts",
                                                 "created", "state", NULL});
    for (size_t i = 0; i < n; i++) {
        char created[32];
        knoop_time_format_us(rows[i].created_us, created, sizeof created);
        knoop_table_add(t, json_pack("[I,I,s,s,s,s,i,s,s]", (json_int_t)rows[i].id, (json_int_t)rows[i].seq,
                                     rows[i].stream, rows[i].subscriber, rows[i].source, rows[i].reason,
                                     rows[i].attempts, created, rows[i].state));
    }
    free(rows);
    return t;
}

/* ---- show ------------------------------------------------------------------------------------------------- */

/* The stored envelope's fields an operator needs; never the payload, and there is no BSN to show (never stored). */
static json_t *envelope_json(const Knoop__Envelope *e, const char *publisher)
{
    char accepted[32], created[32];
    knoop_time_format_us(e->accepted_at_us, accepted, sizeof accepted);
    knoop_time_format_us(e->created_at_us, created, sizeof created);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:s, s:s}", "message_id",
                     e->message_id ? e->message_id : "", "publisher", publisher, "sender", e->sender ? e->sender : "",
                     "receiver", e->receiver ? e->receiver : "", "kind", knoop_kind_name((int)e->kind), "message_type",
                     e->message_type ? e->message_type : "", "identificatie", e->identificatie ? e->identificatie : "",
                     "correlation_id", e->correlation_id ? e->correlation_id : "", "content_type",
                     e->content_type ? e->content_type : "", "has_client_ref", e->client_ref.len > 0, "payload_bytes",
                     (json_int_t)e->payload.len, "created_at", e->created_at_us ? created : "", "accepted_at",
                     accepted);
}

static void add_message(void *ctx, const knoop_store_decision_t *m)
{
    json_t *o = ctx;
    json_object_set_new(o, "route", m->route ? json_string(m->route) : json_null());
    Knoop__Envelope *e = knoop__envelope__unpack(NULL, m->envelope_len, m->envelope);
    if (e) {
        json_object_set_new(o, "envelope", envelope_json(e, m->publisher));
        knoop__envelope__free_unpacked(e, NULL);
    } else {
        json_object_set_new(o, "envelope", json_string("(stored envelope does not unpack)"));
    }
}

/* dlq show ID */
json_t *knoop_cmd_dlq_show(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    const char *id_text;
    const knoop_ctl_opt_t opts[] = {{NULL, NULL, NULL}};
    knoop_store_dlq_filter_t f = {.limit = 1};
    if (knoop_ctl_args(argc, argv, opts, &id_text, 1, error, errlen) != 0)
        return NULL;
    if (!id_text)
        return snprintf(error, errlen, "usage: dlq show ID"), NULL;
    if (parse_id(id_text, &f.id, error, errlen) != 0)
        return NULL;
    dl_row_t *rows;
    size_t n;
    if (knoop_store_dlq_select(b->journal, &f, &rows, &n, error, errlen) != 0)
        return NULL;
    if (n == 0) {
        snprintf(error, errlen, "no dead letter %" PRId64, f.id);
        return NULL;
    }
    knoop_control_note(b, NULL, rows[0].seq, "id=%" PRId64 " seq=%" PRIu64, rows[0].id, rows[0].seq);
    char created[32];
    knoop_time_format_us(rows[0].created_us, created, sizeof created);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "id", (json_int_t)rows[0].id, "seq",
                          (json_int_t)rows[0].seq, "stream", rows[0].stream, "subscriber", rows[0].subscriber, "source",
                          rows[0].source, "reason", rows[0].reason, "attempts", rows[0].attempts, "created", created,
                          "state", rows[0].state);
    int rc = o ? knoop_store_decision_get(b->journal, rows[0].seq, add_message, o, error, errlen) : -ENOMEM;
    if (rc == -ENOENT) {
        json_object_set_new(o, "route", json_null());
        json_object_set_new(o, "envelope", json_string("(message purged by retention)"));
    } else if (rc != 0) {
        if (rc == -ENOMEM)
            snprintf(error, errlen, "out of memory");
        json_decref(o);
        o = NULL;
    }
    free(rows);
    return o;
}

/* ---- the journal operation of retry and discard ----------------------------------------------------------- */

typedef enum dlq_action { DLQ_DISCARD, DLQ_RETRY_DELIVERY, DLQ_RETRY_ROUTING } dlq_action_t;

typedef struct dlq_op {
    knoop_jop_t op;
    dlq_action_t action;
    int64_t id;
    uint32_t attempts;
    uint64_t seq, new_seq; /* routing: the message moves to new_seq (appended after every cursor) */
    char stream[64], subscriber[72];
    char actor[96], detail[640];
    /* routing */
    int nstreams;
    knoop_stream_t *streams[KNOOP_ROUTE_STREAMS_MAX]; /* borrowed: streams live as long as the broker */
    bool create_stream[KNOOP_ROUTE_STREAMS_MAX];
    int64_t deadletters_id;
    char route[400];
    uint8_t *envelope; /* owned; NULL: the stored envelope stays (no identity change) */
    size_t envelope_len;
    bool has_route_row;
    knoop_route_row_t route_row;
} dlq_op_t;

static int apply_routing(knoop_jtx_t *tx, dlq_op_t *d, int64_t now_us)
{
    knoop_store_dlq_target_t targets[KNOOP_ROUTE_STREAMS_MAX];
    for (int i = 0; i < d->nstreams; i++)
        targets[i] = (knoop_store_dlq_target_t){d->streams[i]->id, d->streams[i]->name, d->create_stream[i]};
    d->new_seq = knoop_jtx_next_seq(tx);
    int rc = knoop_store_dlq_move_message(tx, d->seq, d->new_seq, d->route, d->envelope, d->envelope_len,
                                          d->deadletters_id, targets, (size_t)d->nstreams, now_us);
    if (rc == 0 && d->has_route_row && knoop_route_row_apply(tx, &d->route_row, now_us) != 0)
        rc = -EIO;
    return rc;
}

static int apply_dlq(knoop_jtx_t *tx, knoop_jop_t *op)
{
    dlq_op_t *d = (dlq_op_t *)op;
    static const char *const new_state[] = {
        [DLQ_DISCARD] = "discarded", [DLQ_RETRY_DELIVERY] = "retrying", [DLQ_RETRY_ROUTING] = "retried"};
    static const char *const action_name[] = {
        [DLQ_DISCARD] = "dlq discard", [DLQ_RETRY_DELIVERY] = "dlq retry", [DLQ_RETRY_ROUTING] = "dlq retry"};
    int64_t now_us = (int64_t)knoop_now_us();
    int rc = d->action == DLQ_RETRY_ROUTING ? apply_routing(tx, d, now_us) : 0;
    if (rc == 0 && d->action == DLQ_RETRY_ROUTING)
        snprintf(d->detail + strlen(d->detail), sizeof d->detail - strlen(d->detail), " new_seq=%" PRIu64, d->new_seq);
    if (rc == 0)
        rc = knoop_store_dlq_set_state(tx, d->id, new_state[d->action], now_us);
    if (rc == 0)
        rc = knoop_audit_apply(tx, d->actor, action_name[d->action], d->detail);
    return rc;
}

static void done_dlq(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    dlq_op_t *d = (dlq_op_t *)op;
    if (status != 0) {
        knoop_log_error("dlq.failed", "id=%" PRId64 " status=%d", d->id, status);
        for (int i = 0; i < d->nstreams; i++)
            if (d->create_stream[i])
                d->streams[i]->persisted = false;
    } else if (d->action == DLQ_RETRY_DELIVERY) {
        knoop_stream_t *s = knoop_stream_get(b, d->stream, false);
        knoop_group_t *g = s ? knoop_group_find(b, s, d->subscriber) : NULL;
        /* No group loaded: it takes the row when it loads (load_retries). */
        int rc = g ? knoop_group_requeue(b, g, d->seq, d->id, d->attempts) : 0;
        if (rc != 0)
            knoop_log_error("dlq.requeue_failed", "id=%" PRId64 " seq=%" PRIu64 " stream=%s subscriber=%s status=%d",
                            d->id, d->seq, d->stream, d->subscriber, rc);
    } else if (d->action == DLQ_RETRY_ROUTING) {
        knoop_delivery_cache_clear(b); /* the message left its old seq */
        for (int i = 0; i < d->nstreams; i++)
            knoop_stream_appended(b, d->streams[i], d->new_seq);
    }
    free(d->envelope);
    free(d);
}

/* ---- retry and discard -------------------------------------------------------------------------------------- */

static dlq_op_t *op_new(knoop_broker_t *b, const dl_row_t *r, dlq_action_t action)
{
    dlq_op_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->op.apply = apply_dlq;
    d->op.done = done_dlq;
    d->action = action;
    d->id = r->id;
    d->attempts = r->attempts > 0 ? (uint32_t)r->attempts : 0;
    d->seq = r->seq;
    snprintf(d->stream, sizeof d->stream, "%s", r->stream);
    snprintf(d->subscriber, sizeof d->subscriber, "%s", r->subscriber);
    snprintf(d->actor, sizeof d->actor, "%s", b->control_actor[0] ? b->control_actor : "control");
    snprintf(d->detail, sizeof d->detail, "id=%" PRId64 " seq=%" PRIu64 " source=%s stream=%s subscriber=%s", r->id,
             r->seq, r->source, r->stream, r->subscriber);
    return d;
}

static void unpack_envelope(void *ctx, const knoop_store_decision_t *m)
{
    *(Knoop__Envelope **)ctx = knoop__envelope__unpack(NULL, m->envelope_len, m->envelope);
}

/* Routes the stored envelope again; fills the op or says why it cannot. */
static int prepare_routing(knoop_broker_t *b, dlq_op_t *d, char *why, size_t whylen)
{
    Knoop__Envelope *env = NULL;
    int got = knoop_store_decision_get(b->journal, d->seq, unpack_envelope, &env, why, whylen);
    if (got == -ENOENT)
        return snprintf(why, whylen, "message %" PRIu64 " is no longer in the journal (purged)", d->seq), -ENOENT;
    if (got != 0)
        return got;
    if (!env)
        return snprintf(why, whylen, "the stored envelope of message %" PRIu64 " does not unpack", d->seq), -EIO;
    knoop_route_result_t route;
    char reason[320] = "";
    const uint8_t *client_ref = env->client_ref.len == 32 ? env->client_ref.data : NULL;
    Knoop__ErrorCode code = knoop_route_message(b, env, client_ref, &route, reason, sizeof reason);
    int rc = 0;
    bool routed = code == KNOOP__ERROR_CODE__OK && !route.dead_letter;
    knoop_wl_out_t wl = {0}; /* the same white-label step as publishing: rewrite, last check */
    if (routed)
        knoop_whitelabel_out(b, env, &route, &wl);
    if (code != KNOOP__ERROR_CODE__OK) {
        snprintf(why, whylen, "refused: %s", reason);
        rc = -EINVAL;
    } else if (routed && route.dead_letter) {
        snprintf(why, whylen, "still not deliverable: %s", route.reason);
        rc = -EAGAIN;
    } else if (route.dead_letter) {
        snprintf(why, whylen, "still no route: %s", route.reason);
        rc = -EAGAIN;
    } else {
        snprintf(d->route, sizeof d->route, "%s (dlq retry)", route.explain);
        d->nstreams = route.nstreams;
        for (int i = 0; i < route.nstreams; i++) {
            d->streams[i] = route.streams[i];
            d->create_stream[i] = !route.streams[i]->persisted;
            route.streams[i]->persisted = true;
        }
        d->has_route_row = route.has_row;
        d->route_row = route.row;
        knoop_stream_t *dl = knoop_stream_get(b, "deadletters", false);
        d->deadletters_id = dl ? dl->id : 0;
        if (route.sender_as_seen[0] ||
            wl.payload) { /* white label: receivers see the cooperative, in the payload too */
            char *saved = env->sender;
            ProtobufCBinaryData saved_payload = env->payload;
            if (route.sender_as_seen[0])
                env->sender = route.sender_as_seen;
            if (wl.payload) {
                env->payload.data = wl.payload;
                env->payload.len = wl.payload_len;
            }
            d->envelope_len = knoop__envelope__get_packed_size(env);
            d->envelope = malloc(d->envelope_len ? d->envelope_len : 1);
            if (d->envelope)
                knoop__envelope__pack(env, d->envelope);
            else {
                snprintf(why, whylen, "out of memory");
                rc = -ENOMEM;
            }
            env->sender = saved;
            env->payload = saved_payload; /* the unpacked envelope frees its own */
        }
        char streams[256] = "";
        for (int i = 0; i < route.nstreams; i++)
            snprintf(streams + strlen(streams), sizeof streams - strlen(streams), "%s%s", i ? "," : "",
                     route.streams[i]->name);
        snprintf(d->detail + strlen(d->detail), sizeof d->detail - strlen(d->detail), " routed_to=%s", streams);
        snprintf(why, whylen, "routed to %s", streams);
    }
    free(wl.payload);
    knoop__envelope__free_unpacked(env, NULL);
    return rc;
}

/* One row: checks what the action needs, queues the op, says what happens (or why not). */
static int act_on(knoop_broker_t *b, const dl_row_t *r, bool retry, char *result, size_t len)
{
    if (strcmp(r->state, "open") != 0)
        return snprintf(result, len, "not open (state %s)", r->state), -EINVAL;
    bool routing = strcmp(r->source, "routing") == 0;
    dlq_op_t *d = op_new(b, r, !retry ? DLQ_DISCARD : routing ? DLQ_RETRY_ROUTING : DLQ_RETRY_DELIVERY);
    if (!d)
        return snprintf(result, len, "out of memory"), -ENOMEM;
    int rc = 0;
    if (d->action == DLQ_RETRY_DELIVERY) {
        knoop_stream_t *s = knoop_stream_get(b, r->stream, false);
        if (!s || !knoop_group_find(b, s, r->subscriber)) {
            snprintf(result, len, "subscriber %s of stream %s no longer exists", r->subscriber, r->stream);
            rc = -ENOENT;
        } else {
            snprintf(result, len, "queued for %s on %s", r->subscriber, r->stream);
        }
    } else if (d->action == DLQ_RETRY_ROUTING) {
        rc = prepare_routing(b, d, result, len);
    } else {
        snprintf(result, len, "discarded");
    }
    if (rc != 0) {
        free(d->envelope);
        free(d);
        (void)knoop_audit_submit(b, retry ? "dlq retry (failed)" : "dlq discard (failed)", result);
        return rc;
    }
    knoop_log_info("dlq.action", "id=%" PRId64 " seq=%" PRIu64 " action=%s actor=\"%s\"", r->id, r->seq,
                   retry ? "retry" : "discard", d->actor);
    knoop_journal_submit(b->journal, &d->op);
    return 0;
}

/* dlq retry|discard ID | --all-matching [--stream S] [--reason R] */
static json_t *retry_or_discard(knoop_broker_t *b, int argc, const char *const *argv, bool retry, char *error,
                                size_t errlen)
{
    const char *id_text;
    bool all_matching;
    knoop_store_dlq_filter_t f = {0};
    const knoop_ctl_opt_t opts[] = {{"--all-matching", NULL, &all_matching},
                                    {"--stream", &f.stream, NULL},
                                    {"--reason", &f.reason, NULL},
                                    {NULL, NULL, NULL}};
    if (knoop_ctl_args(argc, argv, opts, &id_text, 1, error, errlen) != 0)
        return NULL;
    if (!id_text == !all_matching || (id_text && (f.stream || f.reason)))
        return snprintf(error, errlen, "usage: dlq %s ID | --all-matching [--stream S] [--reason R]",
                        retry ? "retry" : "discard"),
               NULL;
    if (id_text && parse_id(id_text, &f.id, error, errlen) != 0)
        return NULL;
    f.state = all_matching ? "open" : NULL;
    f.limit = all_matching ? MATCH_MAX : 1;
    dl_row_t *rows;
    size_t n;
    if (knoop_store_dlq_select(b->journal, &f, &rows, &n, error, errlen) != 0)
        return NULL;
    if (n == 0) {
        if (f.id > 0)
            snprintf(error, errlen, "no dead letter %" PRId64, f.id);
        free(rows);
        return f.id > 0 ? NULL : knoop_table_new((const char *[]){"id", "seq", "source", "result", NULL});
    }
    json_t *t = knoop_table_new((const char *[]){"id", "seq", "source", "result", NULL});
    size_t ok = 0;
    char result[400];
    for (size_t i = 0; i < n; i++) {
        result[0] = '\0';
        if (act_on(b, &rows[i], retry, result, sizeof result) == 0)
            ok++;
        knoop_table_add(
            t, json_pack("[I,I,s,s]", (json_int_t)rows[i].id, (json_int_t)rows[i].seq, rows[i].source, result));
    }
    if (f.id > 0 && ok == 0) {
        snprintf(error, errlen, "dead letter %" PRId64 ": %s", f.id, result);
        json_decref(t);
        t = NULL;
    }
    free(rows);
    return t;
}

json_t *knoop_cmd_dlq_retry(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    return retry_or_discard(b, argc, argv, true, error, errlen);
}

json_t *knoop_cmd_dlq_discard(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    return retry_or_discard(b, argc, argv, false, error, errlen);
}
