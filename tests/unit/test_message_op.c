/* test_message_op.c — the journal op of one published message against a real journal in a temporary directory:
 * a new message is stored once with its stream entries (and the stream's row); the same message again is a duplicate
 * with the original's seq; another publisher behind the same identity is refused (identity_taken); a message no rule
 * routes leaves a dead letter; the identity check tells a reused Identificatie from a retry; a failed extra fails
 * the op with its errno and stores nothing; a failed commit is answered with a reason the publisher can act on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store/journal_sql.h"
#include "core/broker.h"
#include "deliver/streams.h"
#include "ingest/message_op.h"
#include "ingest/route_step.h"

/* The data key every journal of this test is sealed with (a journal refuses to open without one). */
static const uint8_t test_data_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

typedef struct result {
    int calls, status;
    uint64_t seq;
    bool duplicate, identity_taken, reused;
    char message_id[33], original_id[33];
} result_t;

typedef struct world {
    char dir[64];
    uv_loop_t loop;
    knoop_broker_t b;
} world_t;

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    snprintf(w->dir, sizeof w->dir, "/tmp/knoop-msgop-XXXXXX");
    if (!mkdtemp(w->dir) || uv_loop_init(&w->loop) != 0) {
        free(w);
        return -1;
    }
    w->b.loop = &w->loop;
    w->b.instance_id = 0x1234;
    w->b.streams = knoop_strmap_new();
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/knoop.db", w->dir);
    knoop_journal_options_t opt = {.path = path, .batch_max = 64, .checkpoint_pages = 1000, .data_key = test_data_key};
    if (knoop_journal_open(&opt, &w->loop, &w->b, &w->b.journal, err, sizeof err) != 0) {
        print_error("journal: %s\n", err);
        free(w);
        return -1;
    }
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    knoop_journal_close(&w->b.journal);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    knoop_streams_free(&w->b);
    uv_loop_close(&w->loop);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    int rc = system(cmd);
    free(w);
    return rc == 0 ? 0 : -1;
}

static void on_result(knoop_broker_t *b, knoop_msg_op_t *m, int status, void *arg)
{
    (void)b;
    result_t *r = arg;
    r->calls++;
    r->status = status;
    r->seq = m->seq;
    r->duplicate = m->duplicate;
    r->identity_taken = m->identity_taken;
    r->reused = m->reused;
    snprintf(r->message_id, sizeof r->message_id, "%s", m->message_id);
    snprintf(r->original_id, sizeof r->original_id, "%s", m->original_id);
}

static Knoop__Envelope envelope(const char *sender, const char *ident, const char *payload)
{
    Knoop__Envelope e = KNOOP__ENVELOPE__INIT;
    e.sender = (char *)sender;
    e.receiver = (char *)"0917";
    e.kind = KNOOP__KIND__PLAN_UPDATE;
    e.message_type = (char *)"knoop.Test";
    e.identificatie = (char *)ident;
    e.content_type = (char *)"application/octet-stream";
    e.payload.data = (uint8_t *)payload;
    e.payload.len = strlen(payload);
    return e;
}

/* Builds and queues one op on route, runs the loop until it is answered. */
static void publish_op(world_t *w, knoop_msg_op_t *m, result_t *r)
{
    assert_non_null(m);
    int before = r->calls;
    knoop_message_queue(&w->b, m);
    for (int i = 0; i < 100000 && r->calls == before; i++)
        uv_run(&w->loop, UV_RUN_ONCE);
    assert_int_equal(r->calls, before + 1);
}

static void publish(world_t *w, Knoop__Envelope *e, const knoop_route_result_t *route, result_t *r)
{
    publish_op(w, knoop_message_build(&w->b, NULL, 0, e, NULL, route, on_result, r), r);
}

static int64_t count(world_t *w, const char *sql, int64_t arg)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(knoop_journal_reader(w->b.journal), sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_bind_parameter_count(st) > 0)
        sqlite3_bind_int64(st, 1, arg);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* A white-label route: receivers see the cooperative 99990000 whoever of its members publishes. */
static void white_label_route(world_t *w, knoop_route_result_t *route)
{
    knoop_route_to(&w->b, "inbox.0917", "white-label-out: test", route);
    snprintf(route->sender_as_seen, sizeof route->sender_as_seen, "99990000");
}

static void stored_once_then_duplicate_then_identity_taken(void **state)
{
    world_t *w = *state;
    knoop_route_result_t route;
    white_label_route(w, &route);
    knoop_stream_t *inbox = route.streams[0];
    assert_false(inbox->persisted);

    result_t first = {0};
    Knoop__Envelope e = envelope("99990001", "PU-0001", "plan one");
    publish(w, &e, &route, &first);
    assert_int_equal(first.status, 0);
    assert_true(first.seq > 0);
    assert_false(first.duplicate);
    assert_false(first.identity_taken);
    assert_int_equal(count(w, "SELECT count(*) FROM messages WHERE seq = ?", (int64_t)first.seq), 1);
    /* stored under the identity receivers see, published by the member */
    assert_int_equal(count(w,
                           "SELECT count(*) FROM messages WHERE seq = ? AND sender = '99990000' AND "
                           "publisher = '99990001' AND identificatie = 'PU-0001'",
                           (int64_t)first.seq),
                     1);
    assert_int_equal(count(w, "SELECT count(*) FROM stream_entries WHERE seq = ?", (int64_t)first.seq), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM streams WHERE id = ?", inbox->id), 1);
    assert_true(inbox->persisted);
    assert_int_equal(inbox->last_seq, first.seq); /* subscribers are woken after the commit */
    assert_int_equal(w->b.stats.accepted, 1);

    /* The same message again (a retry): Accepted duplicate with the original's seq and message_id, nothing new. */
    result_t again = {0};
    e = envelope("99990001", "PU-0001", "plan one");
    publish(w, &e, &route, &again);
    assert_int_equal(again.status, 0);
    assert_true(again.duplicate);
    assert_int_equal(again.seq, first.seq);
    assert_string_equal(again.original_id, first.message_id);
    assert_int_equal(count(w, "SELECT count(*) FROM messages", 0), 1);
    assert_int_equal(count(w, "SELECT count(*) FROM stream_entries", 0), 1);
    assert_int_equal(w->b.stats.duplicates, 1);

    /* Another member behind the same cooperative with the same Identificatie: not a retry, refused. */
    result_t other = {0};
    e = envelope("99990002", "PU-0001", "plan two");
    publish(w, &e, &route, &other);
    assert_int_equal(other.status, 0);
    assert_true(other.identity_taken);
    assert_false(other.duplicate);
    assert_int_equal(count(w, "SELECT count(*) FROM messages", 0), 1);
    assert_int_equal(w->b.stats.accepted, 1);
    assert_int_equal(w->b.stats.duplicates, 1);

    /* A new Identificatie goes to the same stream without creating its row again. */
    result_t next = {0};
    e = envelope("99990002", "PU-0002", "plan three");
    knoop_msg_op_t *m = knoop_message_build(&w->b, NULL, 0, &e, NULL, &route, on_result, &next);
    assert_false(m->create_stream[0]);
    publish_op(w, m, &next);
    assert_int_equal(next.status, 0);
    assert_true(next.seq > first.seq);
    assert_int_equal(count(w, "SELECT count(*) FROM stream_entries WHERE stream_id = ?", inbox->id), 2);
}

static void unroutable_message_is_a_dead_letter(void **state)
{
    world_t *w = *state;
    knoop_route_result_t route;
    knoop_route_to(&w->b, "deadletters", "dead-letter: no rule routes it", &route);
    route.dead_letter = true;
    snprintf(route.reason, sizeof route.reason, "no contract between 0917 and 0928");
    result_t r = {0};
    Knoop__Envelope e = envelope("0917", "DL-1", "orphan");
    publish(w, &e, &route, &r);
    assert_int_equal(r.status, 0);
    assert_int_equal(count(w,
                           "SELECT count(*) FROM dead_letters WHERE seq = ? AND source = 'routing' AND state = 'open' "
                           "AND reason = 'no contract between 0917 and 0928'",
                           (int64_t)r.seq),
                     1);
    assert_int_equal(
        count(w, "SELECT count(*) FROM messages WHERE seq = ? AND route LIKE 'dead-letter:%'", (int64_t)r.seq), 1);
    assert_int_equal(w->b.stats.dead_lettered, 1);
}

static knoop_msg_op_t *checked_op(world_t *w, Knoop__Envelope *e, const knoop_route_result_t *route, result_t *r)
{
    knoop_msg_op_t *m = knoop_message_build(&w->b, NULL, 0, e, NULL, route, on_result, r);
    assert_non_null(m);
    m->check_identity = true;
    snprintf(m->identity, sizeof m->identity, "%s", e->identificatie);
    m->source_len = knoop__envelope__get_packed_size(e);
    m->source = malloc(m->source_len);
    knoop__envelope__pack(e, m->source);
    return m;
}

/* What the iWmo/iJw adapter asks for (TR056): the same Identificatie with another payload is a reuse, decided in the
 * transaction; with the same payload it is a retry, answered by deduplication. */
static void identity_check_tells_reuse_from_retry(void **state)
{
    world_t *w = *state;
    knoop_route_result_t route;
    knoop_route_to(&w->b, "inbox.1883", "legacy: test", &route);
    result_t first = {0};
    Knoop__Envelope e = envelope("99990001", "R315", "<xml>first</xml>");
    publish_op(w, checked_op(w, &e, &route, &first), &first);
    assert_int_equal(first.status, 0);
    assert_false(first.reused);
    assert_false(first.duplicate);

    result_t retry = {0};
    publish_op(w, checked_op(w, &e, &route, &retry), &retry);
    assert_int_equal(retry.status, 0);
    assert_false(retry.reused);
    assert_true(retry.duplicate);
    assert_int_equal(retry.seq, first.seq);

    result_t reuse = {0};
    Knoop__Envelope other = envelope("99990001", "R315", "<xml>other content</xml>");
    publish_op(w, checked_op(w, &other, &route, &reuse), &reuse);
    assert_int_equal(reuse.status, 0);
    assert_true(reuse.reused);
    assert_false(reuse.duplicate);
    assert_int_equal(count(w, "SELECT count(*) FROM messages", 0), 1); /* nothing written */
    assert_int_equal(count(w, "SELECT count(*) FROM stream_entries", 0), 1);
}

static int full_disk(knoop_jtx_t *tx, void *arg, uint64_t seq)
{
    (void)tx, (void)arg, (void)seq;
    return -ENOSPC;
}

static void failed_extra_fails_the_op_and_stores_nothing(void **state)
{
    world_t *w = *state;
    knoop_route_result_t route;
    knoop_route_to(&w->b, "inbox.0899", "addressed: inbox.0899", &route);
    knoop_stream_t *inbox = route.streams[0];
    result_t r = {0};
    Knoop__Envelope e = envelope("99990001", "FX-1", "payload");
    knoop_msg_op_t *m = knoop_message_build(&w->b, NULL, 0, &e, NULL, &route, on_result, &r);
    assert_non_null(m);
    m->extras[0].apply = full_disk;
    publish_op(w, m, &r);
    assert_int_equal(r.status, -ENOSPC);
    assert_int_equal(count(w, "SELECT count(*) FROM messages", 0), 0);
    assert_int_equal(count(w, "SELECT count(*) FROM streams", 0), 0);
    assert_false(inbox->persisted); /* the next message on it creates the row */
    assert_int_equal(w->b.stats.accepted, 0);

    result_t ok = {0};
    publish(w, &e, &route, &ok);
    assert_int_equal(ok.status, 0);
    assert_int_equal(count(w, "SELECT count(*) FROM streams WHERE id = ?", inbox->id), 1);
}

static void journal_failures_are_answered_with_something_to_act_on(void **state)
{
    (void)state;
    char reason[300];
    knoop_message_journal_reason(-ENOSPC, reason, sizeof reason);
    assert_non_null(strstr(reason, "disk is full"));
    assert_non_null(strstr(reason, "publish it again later"));
    knoop_message_journal_reason(-EIO, reason, sizeof reason);
    assert_non_null(strstr(reason, "journal write failed"));
    assert_null(strstr(reason, "Input/output error"));
    knoop_message_journal_reason(-EROFS, reason, sizeof reason);
    assert_non_null(strstr(reason, "read-only"));
    knoop_message_journal_reason(-EPROTO, reason, sizeof reason);
    assert_non_null(strstr(reason, "could not store the message"));
    assert_non_null(strstr(reason, "publish it again later"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stored_once_then_duplicate_then_identity_taken, setup, teardown),
        cmocka_unit_test_setup_teardown(unroutable_message_is_a_dead_letter, setup, teardown),
        cmocka_unit_test_setup_teardown(identity_check_tells_reuse_from_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_extra_fails_the_op_and_stores_nothing, setup, teardown),
        cmocka_unit_test(journal_failures_are_answered_with_something_to_act_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
