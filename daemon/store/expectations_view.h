/* expectations_view.h — the operator's read of the expectations table (`knoopctl deadlines`): what is owed, by
 * whom, to whom, until when. The legacy layer writes the table; this file only lists it. */
#ifndef KNOOP_STORE_EXPECTATIONS_VIEW_H
#define KNOOP_STORE_EXPECTATIONS_VIEW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

typedef struct knoop_store_expectation {
    int64_t id;
    /* Borrowed from the reader's row: valid only during the callback. */
    const char *kind, *trigger_type, *trigger_id, *owed_by, *owed_to, *expected, *due; /* due: YYYY-MM-DD */
    bool closed, alerted;
} knoop_store_expectation_t;

typedef void (*knoop_store_expectation_fn)(void *ctx, const knoop_store_expectation_t *e);

/* Loop thread (reader connection): calls fn per row, at most limit rows. Open ones (all false) by due date through
 * the index on (closed_seq, due); all of them (all true) newest first. Returns 0, or -EIO with err set. */
int knoop_store_expectations_list(knoop_journal_t *j, bool all, int64_t limit, knoop_store_expectation_fn fn, void *ctx,
                                  char *err, size_t errlen);
#endif
