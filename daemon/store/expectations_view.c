/* expectations_view.c — the listing behind `knoopctl deadlines`: two statements, each served by an index (the rowid,
 * or expectations_open on (closed_seq, due)) and bounded by the caller's limit. */
#include "store/expectations_view.h"
#include <errno.h>
#include <stdio.h>
#include "store/journal_sql.h"

#define EXP_COLUMNS "SELECT id, kind, trigger_type, trigger_id, owed_by, owed_to, expected, due, closed_seq, alerted "

static const char *text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

int knoop_store_expectations_list(knoop_journal_t *j, bool all, int64_t limit, knoop_store_expectation_fn fn, void *ctx,
                                  char *err, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    const char *sql = all ? EXP_COLUMNS "FROM expectations ORDER BY id DESC LIMIT ?"
                          : EXP_COLUMNS "FROM expectations WHERE closed_seq IS NULL ORDER BY due, id LIMIT ?";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db)), -EIO;
    sqlite3_bind_int64(st, 1, limit > 0 ? limit : 1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        knoop_store_expectation_t e = {
            .id = sqlite3_column_int64(st, 0),
            .kind = text(st, 1),
            .trigger_type = text(st, 2),
            .trigger_id = text(st, 3),
            .owed_by = text(st, 4),
            .owed_to = text(st, 5),
            .expected = text(st, 6),
            .due = text(st, 7),
            .closed = sqlite3_column_type(st, 8) != SQLITE_NULL,
            .alerted = sqlite3_column_int(st, 9) != 0,
        };
        fn(ctx, &e);
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}
