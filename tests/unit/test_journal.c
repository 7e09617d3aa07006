/* test_journal.c — the writer thread: ops queued together commit together (group commit), every op is handed back
 * once, after its commit; what was committed is there after reopening; one failing op does not fail its batch; a
 * storage failure reaches done() as the errno journal.h names (a full disk is -ENOSPC). */
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

/* The data key every journal of this test is sealed with (a journal refuses to open without one). */
static const uint8_t test_data_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

typedef enum test_fail { FAIL_NONE, FAIL_REFUSE, FAIL_DISK_FULL } test_fail_t;

typedef struct test_op {
    knoop_jop_t op;
    int key;
    test_fail_t fail;
} test_op_t;

typedef struct test_ctx {
    int done, ok, failed;
    int last_status;
} test_ctx_t;

/* Fills the database to its size limit, as a full disk would: the limit is set to the pages it has now. */
static int fill_the_disk(knoop_jtx_t *tx)
{
    sqlite3 *db = knoop_jtx_db(tx);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        return -EINVAL;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%d", sqlite3_column_int(st, 0));
    sqlite3_finalize(st);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return -EINVAL;
    st = knoop_jtx_stmt(tx, "INSERT INTO meta(key, value) VALUES('big', zeroblob(1048576))");
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO; /* what the store files say when a statement fails */
}

static int apply_put(knoop_jtx_t *tx, knoop_jop_t *op)
{
    test_op_t *t = (test_op_t *)op;
    if (t->fail == FAIL_REFUSE)
        return -EINVAL;
    if (t->fail == FAIL_DISK_FULL)
        return fill_the_disk(tx);
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
    c->last_status = status;
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
    knoop_journal_options_t opt = {
        .path = path, .batch_max = 8192, .checkpoint_pages = 1000, .data_key = test_data_key};
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

static void submit(knoop_journal_t *j, int key, test_fail_t fail)
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

/* A journal in a fresh temporary directory on a loop of its own; the teardown checks that closing leaks no handle. */
typedef struct fixture {
    char dir[32];
    uv_loop_t loop;
    test_ctx_t ctx;
    knoop_journal_t *j;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/knoop-journal-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->j = open_journal(&f->loop, &f->ctx, f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    knoop_journal_close(&f->j);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0); /* no handle leaked */
    remove_dir(f->dir);
    free(f);
    return 0;
}

static void group_commit_and_reopen(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 2000; i++)
        submit(f->j, i, FAIL_NONE);
    run_until(&f->loop, &f->ctx, 2000);
    assert_int_equal(f->ctx.ok, 2000);
    assert_int_equal(knoop_journal_pending(f->j), 0);
    knoop_journal_stats_t st;
    knoop_journal_stats(f->j, &st);
    assert_int_equal(st.ops, 2000);
    assert_true(st.max_batch > 1); /* queued together, committed together */
    assert_true(st.commits < st.ops);
    assert_int_equal(count_rows(f->j), 2000);
    knoop_journal_close(&f->j);
    uv_run(&f->loop, UV_RUN_DEFAULT);

    f->j = open_journal(&f->loop, &f->ctx, f->dir);
    assert_int_equal(count_rows(f->j), 2000); /* durable across a close */
}

static void one_failing_op_does_not_fail_the_batch(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 300; i++)
        submit(f->j, i, i == 150 ? FAIL_REFUSE : FAIL_NONE);
    run_until(&f->loop, &f->ctx, 300);
    assert_int_equal(f->ctx.ok, 299);
    assert_int_equal(f->ctx.failed, 1);
    assert_int_equal(count_rows(f->j), 299);
}

static void storage_failures_reach_done_as_errno(void **state)
{
    fixture_t *f = *state;
    submit(f->j, 1, FAIL_NONE);
    run_until(&f->loop, &f->ctx, 1);
    assert_int_equal(f->ctx.last_status, 0);
    submit(f->j, 2, FAIL_REFUSE);
    run_until(&f->loop, &f->ctx, 2);
    assert_int_equal(f->ctx.last_status, -EINVAL); /* an op's own errno passes unchanged */
    submit(f->j, 3, FAIL_DISK_FULL);
    run_until(&f->loop, &f->ctx, 3);
    assert_int_equal(f->ctx.last_status, -ENOSPC); /* SQLITE_FULL behind the op's -EIO */
    assert_int_equal(count_rows(f->j), 1);
}

static void sqlite_codes_map_to_errno(void **state)
{
    (void)state;
    const struct {
        int sqlite, errnum;
    } map[] = {
        {SQLITE_OK, 0},
        {SQLITE_DONE, 0},
        {SQLITE_ROW, 0},
        {SQLITE_FULL, -ENOSPC},
        {SQLITE_IOERR, -EIO},
        {SQLITE_IOERR_WRITE, -EIO},
        {SQLITE_IOERR_FSYNC, -EIO},
        {SQLITE_READONLY, -EROFS},
        {SQLITE_READONLY_DBMOVED, -EROFS},
        {SQLITE_CORRUPT, -EUCLEAN},
        {SQLITE_NOTADB, -EUCLEAN},
        {SQLITE_NOMEM, -ENOMEM},
        {SQLITE_BUSY_SNAPSHOT, -EBUSY},
        {SQLITE_LOCKED, -EBUSY},
        {SQLITE_CONSTRAINT_UNIQUE, -EEXIST},
        {SQLITE_TOOBIG, -EMSGSIZE},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        assert_int_equal(knoop_sql_errno(map[i].sqlite), map[i].errnum);
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
    knoop_journal_options_t opt = {.path = path, .batch_max = 10, .checkpoint_pages = 1000, .data_key = test_data_key};
    knoop_journal_t *j = NULL;
    assert_int_not_equal(knoop_journal_open(&opt, &loop, NULL, &j, err, sizeof err), 0);
    assert_non_null(strstr(err, "newer"));
    assert_int_equal(uv_loop_close(&loop), 0);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(group_commit_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(one_failing_op_does_not_fail_the_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(storage_failures_reach_done_as_errno, setup, teardown),
        cmocka_unit_test(sqlite_codes_map_to_errno),
        cmocka_unit_test(newer_schema_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
