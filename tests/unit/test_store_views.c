/* test_store_views.c — the store calls behind the control commands (status, dlq, route explain, deadlines, alerts):
 * they return the right rows, and their cost does not grow with the journal: each statement is measured with
 * SQLite's own counters (virtual-machine steps, full-scan steps) over a journal of thousands of rows. Also the
 * writer calls of `dlq retry|discard` and the audit row. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "store/journal_sql.h"
#include "store/journal.h"
#include "journal_test_util.h"
#include "store/alerts_view.h"
#include "store/audit.h"
#include "store/decisions.h"
#include "store/dlq.h"
#include "store/expectations_view.h"
#include "store/status.h"

/* The data key every journal of this test is sealed with (a journal refuses to open without one). */
static const uint8_t test_data_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

#define MESSAGES    3000
#define ALERTS_ID   7   /* the stream every message is entered on, standing in for `alerts` */
#define DEADLETTERS 8   /* the deadletters stream */
#define OPEN_DL     3   /* open dead letters, after MESSAGES - OPEN_DL discarded ones */
#define STEPS_MAX   200 /* VM steps one bounded look-up may take; a scan of MESSAGES rows takes far more */

/* ---- a journal with a loop ---------------------------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    uv_loop_t loop;
    knoop_journal_t *j;
    /* the reader's last finished statement, from the profile trace */
    int vm_steps, fullscan_steps;
} fixture_t;

static int on_trace(unsigned type, void *ctx, void *p, void *x)
{
    (void)x;
    fixture_t *fx = ctx;
    if (type == SQLITE_TRACE_PROFILE) {
        fx->vm_steps = sqlite3_stmt_status(p, SQLITE_STMTSTATUS_VM_STEP, 0);
        fx->fullscan_steps = sqlite3_stmt_status(p, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0);
    }
    return 0;
}

static int exec(knoop_jtx_t *tx, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, sql);
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

/* The 2-byte envelope of message seq, sealed as the journal stores it (message_id 'm' || seq as associated data). */
static int seal_envelope(knoop_jtx_t *tx, int64_t seq)
{
    static const uint8_t plain[] = {0x0a, 0x01};
    char id[32];
    snprintf(id, sizeof id, "m%lld", (long long)seq);
    const uint8_t *sealed;
    size_t len;
    if (knoop_jtx_seal(tx, id, strlen(id), plain, sizeof plain, &sealed, &len) != 0)
        return -ENOMEM;
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "UPDATE messages SET envelope = ?1 WHERE seq = ?2");
    if (!st)
        return -EIO;
    sqlite3_bind_blob(st, 1, sealed, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

/* MESSAGES messages on the alerts stream, one dead letter each (the last OPEN_DL open, on the deadletters stream
 * too), one expectation each (the last three open, due in reverse order). */
static int fill(knoop_jtx_t *tx, void *arg)
{
    (void)arg;
    int rc = 0;
    for (int i = 1; i <= MESSAGES && rc == 0; i++) {
        int64_t seq = (int64_t)knoop_jtx_next_seq(tx);
        bool open = i > MESSAGES - OPEN_DL;
        rc = exec(tx,
                  "INSERT INTO messages(seq, message_id, sender, publisher, receiver, kind, message_type, "
                  "identificatie, accepted_us, route, envelope) VALUES(?1, 'm' || ?1, '99990000', '99990001', "
                  "'0917', 13, 'knoop.Alert', 'id' || ?1, ?2, 'rule ' || ?1, x'0a01')",
                  seq, seq * 1000);
        if (rc == 0)
            rc = seal_envelope(tx, seq);
        if (rc == 0)
            rc = exec(tx, "INSERT INTO stream_entries(stream_id, seq) VALUES(?1, ?2)", ALERTS_ID, seq);
        if (rc == 0)
            rc = exec(tx,
                      "INSERT INTO dead_letters(seq, stream, subscriber, source, reason, attempts, created_us, state) "
                      "VALUES(?1, 'inbox.0917', 'g', 'routing', 'no rule ' || ?1, 1, ?1, "
                      "CASE WHEN ?2 THEN 'open' ELSE 'discarded' END)",
                      seq, open);
        if (rc == 0 && open)
            rc = exec(tx, "INSERT INTO stream_entries(stream_id, seq) VALUES(?1, ?2)", DEADLETTERS, seq);
        if (rc == 0)
            rc = exec(tx,
                      "INSERT INTO expectations(kind, trigger_seq, trigger_type, trigger_id, owed_by, owed_to, "
                      "expected, due, closed_seq) VALUES('retour', ?1, 'WMO301', 'id' || ?1, '99990001', '0917', "
                      "'WMO302', printf('2026-12-%02d', 31 - (?1 % 28)), CASE WHEN ?2 THEN NULL ELSE ?1 END)",
                      seq, open);
    }
    return rc;
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/knoop-store-views-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/knoop.db", fx->dir);
    knoop_journal_options_t opt = {
        .path = path, .batch_max = 8192, .checkpoint_pages = 1000, .data_key = test_data_key};
    if (knoop_journal_open(&opt, &fx->loop, fx, &fx->j, err, sizeof err) != 0)
        fail_msg("open: %s", err);
    assert_int_equal(in_tx(&fx->loop, fx->j, fill, NULL), 0);
    assert_int_equal(sqlite3_trace_v2(knoop_journal_reader(fx->j), SQLITE_TRACE_PROFILE, on_trace, fx), SQLITE_OK);
    *state = fx;
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    knoop_journal_close(&fx->j);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx->loop), 0); /* no handle leaked */
    assert_int_equal(nftw(fx->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
    free(fx);
    return 0;
}

/* The last reader statement was a bounded look-up, not a walk over the journal. */
static void assert_bounded(const fixture_t *fx)
{
    if (fx->vm_steps > STEPS_MAX || fx->fullscan_steps > 10)
        fail_msg("statement took %d VM steps and %d full-scan steps over %d messages", fx->vm_steps, fx->fullscan_steps,
                 MESSAGES);
}

/* ---- readers -------------------------------------------------------------------------------------------------- */

static void message_span_is_two_seeks(void **state)
{
    fixture_t *fx = *state;
    knoop_store_span_t span;
    char err[256];
    assert_int_equal(knoop_store_message_span(fx->j, &span, err, sizeof err), 0);
    assert_int_equal(span.first_seq, 1);
    assert_int_equal(span.last_seq, MESSAGES);
    assert_int_equal(span.retained, MESSAGES);
    assert_bounded(fx);
}

static void dlq_select_by_id_state_and_filters(void **state)
{
    fixture_t *fx = *state;
    knoop_store_dead_letter_t *rows;
    size_t n;
    char err[256];
    knoop_store_dlq_filter_t open = {.state = "open", .limit = 100};
    assert_int_equal(knoop_store_dlq_select(fx->j, &open, &rows, &n, err, sizeof err), 0);
    assert_int_equal(n, OPEN_DL);
    assert_true(rows[0].id < rows[1].id); /* oldest first */
    assert_string_equal(rows[0].state, "open");
    assert_string_equal(rows[0].source, "routing");
    assert_int_equal(rows[0].seq, MESSAGES - OPEN_DL + 1);
    assert_bounded(fx); /* the (state, id) index, not the discarded rows */
    int64_t id = rows[1].id;
    free(rows);

    knoop_store_dlq_filter_t by_id = {.id = id, .limit = 1};
    assert_int_equal(knoop_store_dlq_select(fx->j, &by_id, &rows, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(rows[0].id, id);
    assert_bounded(fx);
    free(rows);

    knoop_store_dlq_filter_t first = {.stream = "inbox.0917", .limit = 5};
    assert_int_equal(knoop_store_dlq_select(fx->j, &first, &rows, &n, err, sizeof err), 0);
    assert_int_equal(n, 5);
    assert_int_equal(rows[0].id, 1);
    assert_bounded(fx); /* stops after its limit */
    free(rows);

    knoop_store_dlq_filter_t reason = {.reason = "no rule 2999", .limit = 10};
    assert_int_equal(knoop_store_dlq_select(fx->j, &reason, &rows, &n, err, sizeof err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].reason, "no rule 2999");
    free(rows);

    knoop_store_dlq_filter_t none = {.stream = "no-such-stream", .state = "open", .limit = 10};
    assert_int_equal(knoop_store_dlq_select(fx->j, &none, &rows, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_null(rows);
}

typedef struct seen_decision {
    int calls;
    char publisher[16], sender[16], route[32];
    int kind;
    size_t envelope_len;
} seen_decision_t;

static void keep_decision(void *ctx, const knoop_store_decision_t *d)
{
    seen_decision_t *s = ctx;
    s->calls++;
    snprintf(s->publisher, sizeof s->publisher, "%s", d->publisher);
    snprintf(s->sender, sizeof s->sender, "%s", d->sender);
    snprintf(s->route, sizeof s->route, "%s", d->route ? d->route : "(none)");
    s->kind = d->kind;
    s->envelope_len = d->envelope_len;
}

static void decision_by_seq(void **state)
{
    fixture_t *fx = *state;
    seen_decision_t s = {0};
    char err[256];
    assert_int_equal(knoop_store_decision_get(fx->j, 42, keep_decision, &s, err, sizeof err), 0);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.publisher, "99990001");
    assert_string_equal(s.sender, "99990000");
    assert_string_equal(s.route, "rule 42");
    assert_int_equal(s.kind, 13);
    assert_int_equal(s.envelope_len, 2);
    assert_bounded(fx);
    assert_int_equal(knoop_store_decision_get(fx->j, MESSAGES + 1, keep_decision, &s, err, sizeof err), -ENOENT);
    assert_int_equal(s.calls, 1);
}

typedef struct seen_rows {
    int n;
    int64_t ids[16];
    char due[16][16];
    bool closed[16];
} seen_rows_t;

static void keep_expectation(void *ctx, const knoop_store_expectation_t *e)
{
    seen_rows_t *s = ctx;
    if (s->n < 16) {
        s->ids[s->n] = e->id;
        snprintf(s->due[s->n], sizeof s->due[0], "%s", e->due);
        s->closed[s->n] = e->closed;
    }
    s->n++;
}

static void expectations_open_by_due_and_all_newest_first(void **state)
{
    fixture_t *fx = *state;
    seen_rows_t s = {0};
    char err[256];
    assert_int_equal(knoop_store_expectations_list(fx->j, false, 1000, keep_expectation, &s, err, sizeof err), 0);
    assert_int_equal(s.n, OPEN_DL);
    for (int i = 1; i < s.n; i++)
        assert_true(strcmp(s.due[i - 1], s.due[i]) <= 0);
    assert_false(s.closed[0]);
    assert_bounded(fx); /* the index on (closed_seq, due), not the closed rows */
    memset(&s, 0, sizeof s);
    assert_int_equal(knoop_store_expectations_list(fx->j, true, 5, keep_expectation, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.ids[0], MESSAGES);
    assert_int_equal(s.ids[4], MESSAGES - 4);
    assert_true(s.closed[4]);
    assert_bounded(fx);
}

static void keep_alert(void *ctx, const knoop_store_alert_t *a)
{
    seen_rows_t *s = ctx;
    if (s->n < 16)
        s->ids[s->n] = (int64_t)a->seq;
    s->n++;
}

static void alerts_latest_walk_back_from_the_end(void **state)
{
    fixture_t *fx = *state;
    seen_rows_t s = {0};
    char err[256];
    assert_int_equal(knoop_store_alerts_latest(fx->j, ALERTS_ID, 3, keep_alert, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.ids[0], MESSAGES);
    assert_int_equal(s.ids[2], MESSAGES - 2);
    assert_bounded(fx);
    memset(&s, 0, sizeof s);
    assert_int_equal(knoop_store_alerts_latest(fx->j, 999, 3, keep_alert, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 0);
}

/* ---- writers -------------------------------------------------------------------------------------------------- */

typedef struct move_args {
    uint64_t seq, new_seq;
    int64_t dl_id;
} move_args_t;

static int move_and_settle(knoop_jtx_t *tx, void *arg)
{
    move_args_t *m = arg;
    m->new_seq = knoop_jtx_next_seq(tx);
    const uint8_t envelope[] = {0x0a, 0x02, 0x01, 0x02};
    knoop_store_dlq_target_t targets[] = {{41, "inbox.99990002", true}, {ALERTS_ID, "alerts", false}};
    int rc = knoop_store_dlq_move_message(tx, m->seq, m->new_seq, "white-label (dlq retry)", envelope, sizeof envelope,
                                          DEADLETTERS, targets, 2, 5);
    if (rc == 0)
        rc = knoop_store_dlq_set_state(tx, m->dl_id, "retried", 6);
    if (rc == 0)
        rc = knoop_store_audit_insert(tx, 7, "control uid=0", "dlq retry", "id=1");
    return rc;
}

static int count(fixture_t *fx, const char *sql, int64_t a)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(knoop_journal_reader(fx->j), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, a);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void a_routing_dead_letter_moves_to_a_new_seq(void **state)
{
    fixture_t *fx = *state;
    move_args_t m = {.seq = MESSAGES, .dl_id = MESSAGES};
    assert_int_equal(in_tx(&fx->loop, fx->j, move_and_settle, &m), 0);
    assert_int_equal(m.new_seq, MESSAGES + 1);
    assert_int_equal(count(fx, "SELECT count(*) FROM messages WHERE seq = ?", MESSAGES), 0);
    /* the new envelope, sealed for its row: its 4 bytes and the sealed format's overhead */
    assert_int_equal(count(fx, "SELECT length(envelope) FROM messages WHERE seq = ?", MESSAGES + 1),
                     4 + KNOOP_SEAL_OVERHEAD);
    assert_int_equal(count(fx, "SELECT count(*) FROM dead_letters WHERE seq = ? AND state = 'retried'", MESSAGES + 1),
                     1);
    assert_int_equal(count(fx, "SELECT count(*) FROM stream_entries WHERE seq = ?", MESSAGES + 1), 2);
    assert_int_equal(count(fx, "SELECT count(*) FROM stream_entries WHERE stream_id = ?", DEADLETTERS), OPEN_DL - 1);
    assert_int_equal(count(fx, "SELECT count(*) FROM streams WHERE id = ?", 41), 1);
    assert_int_equal(count(fx, "SELECT count(*) FROM audit WHERE at_us = ?", 7), 1);
    seen_decision_t s = {0};
    char err[256];
    assert_int_equal(knoop_store_decision_get(fx->j, MESSAGES + 1, keep_decision, &s, err, sizeof err), 0);
    assert_string_equal(s.route, "white-label (dlq retry)");

    /* The message is gone (moved): a second move of the old seq is refused, and nothing of it stays. */
    move_args_t again = {.seq = MESSAGES, .dl_id = MESSAGES};
    assert_int_not_equal(in_tx(&fx->loop, fx->j, move_and_settle, &again), 0);
    assert_int_equal(count(fx, "SELECT count(*) FROM audit WHERE at_us = ?", 7), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(message_span_is_two_seeks, setup, teardown),
        cmocka_unit_test_setup_teardown(dlq_select_by_id_state_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(decision_by_seq, setup, teardown),
        cmocka_unit_test_setup_teardown(expectations_open_by_due_and_all_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(alerts_latest_walk_back_from_the_end, setup, teardown),
        cmocka_unit_test_setup_teardown(a_routing_dead_letter_moves_to_a_new_seq, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
