/* control_dlq.c — the operator's dead-letter commands: list, show, retry, discard. A delivery dead letter is retried
 * by handing its seq back to its group; a routing dead letter by routing the stored envelope again with the running
 * configuration. Every action changes the row's state and writes an audit row in the same transaction. */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/journal_sql.h"
#include "control/audit.h"
#include "core/broker.h"
#include "control/control.h"
#include "control/control_table.h"
#include "control/control_time.h"
#include "knoop/names.h"
#include "base/log.h"
#include "deliver/retention.h"
#include "route/route.h"
#include "ingest/route_step.h"
#include "base/clock.h"
#include "deliver/delivery.h"
#include "deliver/streams.h"

#define MATCH_MAX 10000 /* rows one --all-matching command acts on */

/* ---- arguments ------------------------------------------------------------------------------------------- */

typedef struct dlq_args {
    const char *stream, *reason, *state;
    int64_t id;
    bool all_matching;
    int64_t limit;
} dlq_args_t;

typedef struct dlq_opt {
    const char *name;
    bool takes_value;
    size_t offset; /* of the const char * (value) or bool (flag) in dlq_args_t */
} dlq_opt_t;

static const dlq_opt_t dlq_opts[] = {
    {"--stream", true, offsetof(dlq_args_t, stream)},
    {"--reason", true, offsetof(dlq_args_t, reason)},
    {"--state", true, offsetof(dlq_args_t, state)},
    {"--all-matching", false, offsetof(dlq_args_t, all_matching)},
};

static int parse_args(int argc, const char *const *argv, dlq_args_t *a, bool want_id, char *error, size_t errlen)
{
    memset(a, 0, sizeof *a);
    const char *limit = NULL;
    for (int i = 0; i < argc; i++) {
        const dlq_opt_t *o = NULL;
        for (size_t k = 0; k < sizeof dlq_opts / sizeof dlq_opts[0]; k++)
            if (strcmp(argv[i], dlq_opts[k].name) == 0)
                o = &dlq_opts[k];
        if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            limit = argv[++i];
            continue;
        }
        if (o && o->takes_value) {
            if (i + 1 >= argc)
                return snprintf(error, errlen, "%s needs a value", o->name), -EINVAL;
            *(const char **)((char *)a + o->offset) = argv[++i];
        } else if (o) {
            *(bool *)((char *)a + o->offset) = true;
        } else if (want_id && a->id == 0 && argv[i][0] >= '1' && argv[i][0] <= '9') {
            char *end;
            a->id = strtoll(argv[i], &end, 10);
            if (*end)
                return snprintf(error, errlen, "'%s' is not a dead letter id", argv[i]), -EINVAL;
        } else {
            return snprintf(error, errlen, "unexpected argument '%s'", argv[i]), -EINVAL;
        }
    }
    a->limit = limit ? strtoll(limit, NULL, 10) : 1000;
    if (a->limit <= 0)
        a->limit = 1000;
    return 0;
}

/* ---- reading rows ------------------------------------------------------------------------------------------ */

typedef struct dl_row {
    int64_t id, created_us;
    uint64_t seq;
    char stream[64], subscriber[72], source[16], reason[320], state[16];
    int attempts;
} dl_row_t;

static const char *text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

static void read_row(sqlite3_stmt *st, dl_row_t *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->seq = (uint64_t)sqlite3_column_int64(st, 1);
    snprintf(r->stream, sizeof r->stream, "%s", text(st, 2));
    snprintf(r->subscriber, sizeof r->subscriber, "%s", text(st, 3));
    snprintf(r->source, sizeof r->source, "%s", text(st, 4));
    snprintf(r->reason, sizeof r->reason, "%s", text(st, 5));
    r->attempts = sqlite3_column_int(st, 6);
    r->created_us = sqlite3_column_int64(st, 7);
    snprintf(r->state, sizeof r->state, "%s", text(st, 8));
}

/* The rows an id or the filters select, oldest first; *n rows into a malloc'd array. */
static int select_rows(knoop_broker_t *b, const dlq_args_t *a, const char *state, int64_t limit, dl_row_t **out,
                       size_t *n, char *error, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(b->journal);
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, seq, stream, subscriber, source, reason, attempts, created_us, state "
                           "FROM dead_letters WHERE (?1 = 0 OR id = ?1) AND (?2 IS NULL OR stream = ?2) "
                           "AND (?3 IS NULL OR instr(reason, ?3) > 0) AND (?4 IS NULL OR state = ?4) "
                           "ORDER BY id LIMIT ?5",
                           -1, &st, NULL) != SQLITE_OK) {
        snprintf(error, errlen, "journal: %s", sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_int64(st, 1, a->id);
    if (a->stream)
        sqlite3_bind_text(st, 2, a->stream, -1, SQLITE_STATIC);
    if (a->reason)
        sqlite3_bind_text(st, 3, a->reason, -1, SQLITE_STATIC);
    if (state)
        sqlite3_bind_text(st, 4, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, limit);
    size_t cap = 0;
    int rc = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            dl_row_t *bigger = realloc(*out, cap * sizeof **out);
            if (!bigger) {
                rc = -ENOMEM;
                break;
            }
            *out = bigger;
        }
        read_row(st, &(*out)[(*n)++]);
    }
    sqlite3_finalize(st);
    if (rc != 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        snprintf(error, errlen, "out of memory");
    }
    return rc;
}

json_t *knoop_cmd_dlq_list(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    dlq_args_t a;
    if (parse_args(argc, argv, &a, false, error, errlen) != 0)
        return NULL;
    dl_row_t *rows;
    size_t n;
    if (select_rows(b, &a, a.state, a.limit, &rows, &n, error, errlen) != 0)
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

json_t *knoop_cmd_dlq_show(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    dlq_args_t a;
    if (parse_args(argc, argv, &a, true, error, errlen) != 0)
        return NULL;
    if (a.id <= 0) {
        snprintf(error, errlen, "usage: dlq show ID");
        return NULL;
    }
    dl_row_t *rows;
    size_t n;
    if (select_rows(b, &a, NULL, 1, &rows, &n, error, errlen) != 0)
        return NULL;
    if (n == 0) {
        snprintf(error, errlen, "no dead letter %" PRId64, a.id);
        return NULL;
    }
    char created[32];
    knoop_time_format_us(rows[0].created_us, created, sizeof created);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "id", (json_int_t)rows[0].id, "seq",
                          (json_int_t)rows[0].seq, "stream", rows[0].stream, "subscriber", rows[0].subscriber, "source",
                          rows[0].source, "reason", rows[0].reason, "attempts", rows[0].attempts, "created", created,
                          "state", rows[0].state);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_journal_reader(b->journal),
                           "SELECT route, envelope, sender FROM messages WHERE seq = ?", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)rows[0].seq);
        if (sqlite3_step(st) == SQLITE_ROW) {
            json_object_set_new(o, "route", json_string(text(st, 0)));
            Knoop__Envelope *e =
                knoop__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 1), sqlite3_column_blob(st, 1));
            if (e) {
                json_object_set_new(o, "envelope", envelope_json(e, text(st, 2)));
                knoop__envelope__free_unpacked(e, NULL);
            }
        } else {
            json_object_set_new(o, "route", json_null());
            json_object_set_new(o, "envelope", json_string("(message purged by retention)"));
        }
        sqlite3_finalize(st);
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

static int step(sqlite3_stmt *st)
{
    return st && sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

static int apply_routing(knoop_jtx_t *tx, dlq_op_t *d)
{
    d->new_seq = knoop_jtx_next_seq(tx);
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "UPDATE messages SET seq = ?1, route = ?2, envelope = coalesce(?3, envelope) "
                                          "WHERE seq = ?4");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)d->new_seq);
    sqlite3_bind_text(st, 2, d->route, -1, SQLITE_STATIC);
    if (d->envelope)
        sqlite3_bind_blob(st, 3, d->envelope, (int)d->envelope_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)d->seq);
    if (step(st) != 0 || sqlite3_changes(knoop_jtx_db(tx)) != 1)
        return -ENOENT;
    st = knoop_jtx_stmt(tx, "UPDATE dead_letters SET seq = ?1 WHERE seq = ?2");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)d->new_seq);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)d->seq);
    if (step(st) != 0)
        return -EIO;
    if (d->deadletters_id > 0 && knoop_retention_drop_entries(tx, d->deadletters_id, d->seq, d->seq) != 0)
        return -EIO;
    for (int i = 0; i < d->nstreams; i++) {
        if (d->create_stream[i]) {
            st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO streams(id, name, created_us) VALUES(?,?,?)");
            if (!st)
                return -EIO;
            sqlite3_bind_int64(st, 1, d->streams[i]->id);
            sqlite3_bind_text(st, 2, d->streams[i]->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, (sqlite3_int64)knoop_now_us());
            if (step(st) != 0)
                return -EIO;
        }
        st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO stream_entries(stream_id, seq) VALUES(?,?)");
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, d->streams[i]->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)d->new_seq);
        if (step(st) != 0)
            return -EIO;
    }
    if (d->has_route_row && knoop_route_row_apply(tx, &d->route_row, (int64_t)knoop_now_us()) != 0)
        return -EIO;
    return 0;
}

static int apply_dlq(knoop_jtx_t *tx, knoop_jop_t *op)
{
    dlq_op_t *d = (dlq_op_t *)op;
    static const char *const new_state[] = {
        [DLQ_DISCARD] = "discarded", [DLQ_RETRY_DELIVERY] = "retrying", [DLQ_RETRY_ROUTING] = "retried"};
    static const char *const action_name[] = {
        [DLQ_DISCARD] = "dlq discard", [DLQ_RETRY_DELIVERY] = "dlq retry", [DLQ_RETRY_ROUTING] = "dlq retry"};
    int rc = d->action == DLQ_RETRY_ROUTING ? apply_routing(tx, d) : 0;
    if (rc == 0 && d->action == DLQ_RETRY_ROUTING)
        snprintf(d->detail + strlen(d->detail), sizeof d->detail - strlen(d->detail), " new_seq=%" PRIu64, d->new_seq);
    if (rc == 0)
        rc = knoop_dead_letter_state_apply(tx, d->id, new_state[d->action], NULL, -1);
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
        if (g)
            knoop_group_requeue(b, g, d->seq, d->id,
                                d->attempts); /* else the group takes it when it loads (load_retries) */
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

/* Routes the stored envelope again; fills the op or says why it cannot. */
static int prepare_routing(knoop_broker_t *b, dlq_op_t *d, char *why, size_t whylen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_journal_reader(b->journal), "SELECT envelope FROM messages WHERE seq = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return snprintf(why, whylen, "journal read failed"), -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)d->seq);
    Knoop__Envelope *env = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        env = knoop__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0), sqlite3_column_blob(st, 0));
    sqlite3_finalize(st);
    if (!env)
        return snprintf(why, whylen, "message %" PRIu64 " is no longer in the journal (purged)", d->seq), -ENOENT;
    knoop_route_result_t route;
    char reason[320] = "";
    const uint8_t *client_ref = env->client_ref.len == 32 ? env->client_ref.data : NULL;
    Knoop__ErrorCode code = knoop_route_message(b, env, client_ref, &route, reason, sizeof reason);
    int rc = 0;
    if (code != KNOOP__ERROR_CODE__OK) {
        snprintf(why, whylen, "refused: %s", reason);
        rc = -EINVAL;
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
        if (route.sender_as_seen[0]) { /* white label: receivers see the cooperative */
            char *saved = env->sender;
            env->sender = route.sender_as_seen;
            d->envelope_len = knoop__envelope__get_packed_size(env);
            d->envelope = malloc(d->envelope_len ? d->envelope_len : 1);
            if (d->envelope)
                knoop__envelope__pack(env, d->envelope);
            else {
                snprintf(why, whylen, "out of memory");
                rc = -ENOMEM;
            }
            env->sender = saved;
        }
        char streams[256] = "";
        for (int i = 0; i < route.nstreams; i++)
            snprintf(streams + strlen(streams), sizeof streams - strlen(streams), "%s%s", i ? "," : "",
                     route.streams[i]->name);
        snprintf(d->detail + strlen(d->detail), sizeof d->detail - strlen(d->detail), " routed_to=%s", streams);
        snprintf(why, whylen, "routed to %s", streams);
    }
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
        knoop_audit_submit(b, retry ? "dlq retry (failed)" : "dlq discard (failed)", result);
        return rc;
    }
    knoop_log_info("dlq.action", "id=%" PRId64 " seq=%" PRIu64 " action=%s actor=\"%s\"", r->id, r->seq,
                   retry ? "retry" : "discard", d->actor);
    knoop_journal_submit(b->journal, &d->op);
    return 0;
}

static json_t *retry_or_discard(knoop_broker_t *b, int argc, const char *const *argv, bool retry, char *error,
                                size_t errlen)
{
    dlq_args_t a;
    if (parse_args(argc, argv, &a, true, error, errlen) != 0)
        return NULL;
    if ((a.id > 0) == a.all_matching) {
        snprintf(error, errlen, "usage: dlq %s ID | --all-matching [--stream S] [--reason R]",
                 retry ? "retry" : "discard");
        return NULL;
    }
    dl_row_t *rows;
    size_t n;
    if (select_rows(b, &a, a.all_matching ? "open" : NULL, a.all_matching ? MATCH_MAX : 1, &rows, &n, error, errlen) !=
        0)
        return NULL;
    if (n == 0) {
        if (a.id > 0)
            snprintf(error, errlen, "no dead letter %" PRId64, a.id);
        free(rows);
        return a.id > 0 ? NULL : knoop_table_new((const char *[]){"id", "seq", "source", "result", NULL});
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
    if (a.id > 0 && ok == 0) {
        snprintf(error, errlen, "dead letter %" PRId64 ": %s", a.id, result);
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
