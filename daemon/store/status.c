/* status.c — the retained span of the messages table. min(seq) and max(seq) in ONE select make SQLite scan the
 * table (its min/max shortcut serves a lone aggregate only); two scalar subqueries are two seeks on the rowid. */
#include "store/status.h"
#include <errno.h>
#include <stdio.h>
#include "store/journal_sql.h"

int knoop_store_message_span(knoop_journal_t *j, knoop_store_span_t *out, char *err, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    *out = (knoop_store_span_t){0};
    if (sqlite3_prepare_v2(db, "SELECT (SELECT min(seq) FROM messages), (SELECT max(seq) FROM messages)", -1, &st,
                           NULL) != SQLITE_OK)
        return snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db)), -EIO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        out->first_seq = (uint64_t)sqlite3_column_int64(st, 0);
        out->last_seq = (uint64_t)sqlite3_column_int64(st, 1);
        out->retained = out->last_seq - out->first_seq + 1;
    }
    if (rc != SQLITE_ROW)
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -EIO;
}

int64_t knoop_store_overdue_count(knoop_journal_t *j, const char *today)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM expectations WHERE closed_seq IS NULL AND due < ?1", -1, &st,
                                NULL);
    if (rc != SQLITE_OK)
        return knoop_sql_errno(rc);
    sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : knoop_sql_errno(rc);
    sqlite3_finalize(st);
    return n;
}
