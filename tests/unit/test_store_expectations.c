/* test_store_expectations.c — the typed calls of store/expectations.h against a real journal: rows opened in an op
 * are listed as overdue once their day has passed, closing prefers the named trigger and else the oldest, and an
 * alerted or closed row is never listed again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/expectations.h"
#include "store/journal.h"
#include "journal_test_util.h"

/* The data key every journal of this test is sealed with (a journal refuses to open without one). */
static const uint8_t test_data_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

/* One op whose apply runs a test's callback (writer thread) and records its status. */
static knoop_store_expectation_t row(const char *kind, const char *type, const char *trigger_id, const char *due)
{
    knoop_store_expectation_t e;
    memset(&e, 0, sizeof e);
    snprintf(e.kind, sizeof e.kind, "%s", kind);
    snprintf(e.trigger_type, sizeof e.trigger_type, "%s", type);
    snprintf(e.trigger_id, sizeof e.trigger_id, "%s", trigger_id);
    snprintf(e.owed_by, sizeof e.owed_by, "1883");
    snprintf(e.owed_to, sizeof e.owed_to, "99990001");
    snprintf(e.expected, sizeof e.expected, "WMO301,WMO319");
    snprintf(e.due, sizeof e.due, "%s", due);
    return e;
}

static int open_three(knoop_jtx_t *tx, void *arg)
{
    (void)arg;
    knoop_store_expectation_t rows[] = {
        row("answer", "WMO315", "T1", "2020-01-02"),
        row("answer", "WMO315", "T2", "2020-01-01"),
        row("declaration-answer", "WMO323", "T3", "2999-01-01"),
    };
    for (size_t i = 0; i < 3; i++) {
        int rc = knoop_store_expectation_open(tx, 10 + i, &rows[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

typedef struct close_args {
    const char *correlation;
    bool closed;
} close_args_t;

static int close_answer(knoop_jtx_t *tx, void *arg)
{
    close_args_t *a = arg;
    return knoop_store_expectation_close(tx, 20, "answer", "WMO315", "1883", "99990001", a->correlation, &a->closed);
}

static int open_and_alert(knoop_jtx_t *tx, void *arg)
{
    (void)arg;
    knoop_store_expectation_t e = row("answer", "WMO317", "T4", "2020-02-01");
    int rc = knoop_store_expectation_open(tx, 30, &e);
    return rc != 0 ? rc : knoop_store_expectation_alerted(tx, 4); /* the fourth row */
}

static bool closes(uv_loop_t *loop, knoop_journal_t *j, const char *correlation)
{
    close_args_t c = {.correlation = correlation};
    assert_int_equal(in_tx(loop, j, close_answer, &c), 0);
    return c.closed;
}

static void expectations_open_close_and_overdue(void **state)
{
    (void)state;
    char dir[] = "/tmp/knoop-expectations-XXXXXX", path[512], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/knoop.db", dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    knoop_journal_options_t opt = {.path = path, .batch_max = 64, .checkpoint_pages = 1000, .data_key = test_data_key};
    knoop_journal_t *j = NULL;
    if (knoop_journal_open(&opt, &loop, NULL, &j, err, sizeof err) != 0)
        fail_msg("open: %s", err);

    assert_int_equal(in_tx(&loop, j, open_three, NULL), 0);
    knoop_store_expectation_t out[4];
    /* Longest overdue first; the one due in 2999 is not overdue. */
    assert_int_equal(knoop_store_expectations_overdue(j, "2025-06-01", out, 4), 2);
    assert_string_equal(out[0].trigger_id, "T2");
    assert_string_equal(out[0].due, "2020-01-01");
    assert_int_equal(out[0].trigger_seq, 11);
    assert_string_equal(out[1].trigger_id, "T1");
    assert_string_equal(out[1].kind, "answer");
    assert_string_equal(out[1].trigger_type, "WMO315");
    assert_string_equal(out[1].expected, "WMO301,WMO319");
    assert_string_equal(out[1].owed_by, "1883");
    assert_string_equal(out[1].owed_to, "99990001");
    assert_int_equal(knoop_store_expectations_overdue(j, "2025-06-01", out, 1), 1); /* bounded by max */
    assert_int_equal(knoop_store_expectations_overdue(j, "2020-01-02", out, 4), 1); /* the due day is on time */
    assert_string_equal(out[0].trigger_id, "T2");

    /* The trigger the answer names is closed, though an older one is open... */
    assert_true(closes(&loop, j, "T2"));
    assert_int_equal(knoop_store_expectations_overdue(j, "2025-06-01", out, 4), 1);
    assert_string_equal(out[0].trigger_id, "T1");
    /* ...a name that matches none closes the oldest (both look-ups in one transaction), then none is left. */
    assert_true(closes(&loop, j, "T9"));
    assert_int_equal(knoop_store_expectations_overdue(j, "2025-06-01", out, 4), 0);
    assert_false(closes(&loop, j, NULL));
    assert_int_equal(knoop_store_expectations_overdue(j, "2999-12-31", out, 4), 1); /* only the 323's is open */
    assert_string_equal(out[0].trigger_id, "T3");

    /* An alerted expectation is never listed again. */
    assert_int_equal(in_tx(&loop, j, open_and_alert, NULL), 0);
    assert_int_equal(knoop_store_expectations_overdue(j, "2025-06-01", out, 4), 0);

    knoop_journal_close(&j);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(expectations_open_close_and_overdue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
