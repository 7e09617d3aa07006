/* journal_test_util.h — for unit tests that write through the journal's writer thread: run one function in a journal
 * transaction and turn the loop until its commit has been reported. */
#ifndef JOURNAL_TEST_UTIL_H
#define JOURNAL_TEST_UTIL_H
#include <stdbool.h>
#include <uv.h>
#include "store/journal.h"

typedef struct journal_test_op {
    knoop_jop_t op; /* first member: the journal sees only this */
    int (*fn)(knoop_jtx_t *tx, void *arg);
    void *arg;
    int status;
    bool done;
} journal_test_op_t;

static int journal_test_apply(knoop_jtx_t *tx, knoop_jop_t *op)
{
    journal_test_op_t *f = (journal_test_op_t *)op;
    return f->fn(tx, f->arg);
}

static void journal_test_done(void *ctx, knoop_jop_t *op, int status)
{
    (void)ctx;
    journal_test_op_t *f = (journal_test_op_t *)op;
    f->status = status;
    f->done = true;
}

/* Runs fn(tx, arg) in a journal op of j and waits (turning loop) for its commit; returns the op's status. */
static inline int in_tx(uv_loop_t *loop, knoop_journal_t *j, int (*fn)(knoop_jtx_t *, void *), void *arg)
{
    journal_test_op_t f = {.op = {.apply = journal_test_apply, .done = journal_test_done}, .fn = fn, .arg = arg};
    knoop_journal_submit(j, &f.op);
    for (int i = 0; i < 100000 && !f.done; i++)
        uv_run(loop, UV_RUN_ONCE);
    assert_true(f.done);
    return f.status;
}
#endif
