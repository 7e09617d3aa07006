/* test_journal.c — the writer thread: ops queued together commit together (group commit), every op is handed back
 * once, after its commit; what was committed is there after reopening; one failing op does not fail its batch. */
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
#include "store/journal.h"

typedef struct test_op {
    knoop_jop_t op;
    int key;
    bool fail;
} test_op_t;

typedef struct test_ctx {
    int done, ok, failed;
} test_ctx_t;

static int apply_put(knoop_jtx_t *tx, knoop_jop_t *op)
{
    test_op_t *t = (test_op_t *)op;
    if (t->fail)
        return -EINVAL;
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO meta(key, value) VALUES(?, 'v')");
    char key[32];
    snprintf(key, sizeof key, "k%06d", t->key);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

static void done_put(void *ctx, knoop_jop_t *op, int status)
{
    test_ctx_t *c = ctx;
    c->done++;
    if (status == 0)
        c->ok++;
    else
        c->failed++;
    free(op);
}

static knoop_journal_t *open_journal(uv_loop_t *loop, test_ctx_t *ctx, const char *dir)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/knoop.db", dir);
    knoop_journal_options_t opt = {.path = path, .batch_max = 8192, .checkpoint_pages = 1000};
    knoop_journal_t *j = NULL;
    if (knoop_journal_open(&opt, loop, ctx, &j, err, sizeof err) != 0)
        fail_msg("open: %s", err);
    return j;
}

static int count_rows(knoop_journal_t *j)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(knoop_journal_reader(j), "SELECT count(*) FROM meta WHERE key LIKE 'k%'", -1, &st, NULL);
    sqlite3_step(st);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void submit(knoop_journal_t *j, int key, bool fail)
{
    test_op_t *t = calloc(1, sizeof *t);
    t->op.apply = apply_put;
    t->op.done = done_put;
    t->key = key;
    t->fail = fail;
    knoop_journal_submit(j, &t->op);
}

static void run_until(uv_loop_t *loop, test_ctx_t *ctx, int done)
{
    for (int i = 0; i < 100000 && ctx->done < done; i++)
        uv_run(loop, UV_RUN_ONCE);
}

static void remove_dir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void group_commit_and_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/knoop-journal-XXXXXX";
    assert_non_null(mkdtemp(dir));
    uv_loop_t loop;
    uv_loop_init(&loop);
    test_ctx_t ctx = {0};
    knoop_journal_t *j = open_journal(&loop, &ctx, dir);
    for (int i = 0; i < 2000; i++)
        submit(j, i, false);
    run_until(&loop, &ctx, 2000);
    assert_int_equal(ctx.ok, 2000);
    assert_int_equal(knoop_journal_pending(j), 0);
    knoop_journal_stats_t st;
    knoop_journal_stats(j, &st);
    assert_int_equal(st.ops, 2000);
    assert_true(st.max_batch > 1); /* queued together, committed together */
    assert_true(st.commits < st.ops);
    assert_int_equal(count_rows(j), 2000);
    knoop_journal_close(&j);
    uv_run(&loop, UV_RUN_DEFAULT);

    j = open_journal(&loop, &ctx, dir);
    assert_int_equal(count_rows(j), 2000); /* durable across a close */
    knoop_journal_close(&j);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0); /* no handle leaked */
    remove_dir(dir);
}

static void one_failing_op_does_not_fail_the_batch(void **state)
{
    (void)state;
    char dir[] = "/tmp/knoop-journal-XXXXXX";
    assert_non_null(mkdtemp(dir));
    uv_loop_t loop;
    uv_loop_init(&loop);
    test_ctx_t ctx = {0};
    knoop_journal_t *j = open_journal(&loop, &ctx, dir);
    for (int i = 0; i < 300; i++)
        submit(j, i, i == 150);
    run_until(&loop, &ctx, 300);
    assert_int_equal(ctx.ok, 299);
    assert_int_equal(ctx.failed, 1);
    assert_int_equal(count_rows(j), 299);
    knoop_journal_close(&j);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    remove_dir(dir);
}

static void newer_schema_is_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/knoop-journal-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/knoop.db", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL);
    sqlite3_close(db);
    uv_loop_t loop;
    uv_loop_init(&loop);
    knoop_journal_options_t opt = {.path = path, .batch_max = 10, .checkpoint_pages = 1000};
    knoop_journal_t *j = NULL;
    assert_int_not_equal(knoop_journal_open(&opt, &loop, NULL, &j, err, sizeof err), 0);
    assert_non_null(strstr(err, "newer"));
    assert_int_equal(uv_loop_close(&loop), 0);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(group_commit_and_reopen),
        cmocka_unit_test(one_failing_op_does_not_fail_the_batch),
        cmocka_unit_test(newer_schema_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
