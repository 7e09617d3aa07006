/* streams.c — the streams table's typed calls: a stream's row is written with the first thing that names it (a cursor,
 * a dead letter), and start-up reads every stream with its last seq. */
#include "store/streams.h"
#include <errno.h>
#include <stdio.h>
#include "store/journal_sql.h"

int knoop_store_stream_insert(knoop_jtx_t *tx, int64_t id, const char *name, int64_t now_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO streams(id, name, created_us) VALUES(?,?,?)");
    if (!st)
        return -EIO;
    if ((sqlite3_bind_int64(st, 1, id) | sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) |
         sqlite3_bind_int64(st, 3, now_us)) != SQLITE_OK)
        return -EIO;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

int knoop_store_streams_each(knoop_journal_t *j, knoop_store_stream_fn each, void *ctx, char *errbuf, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st = NULL, *last = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, name FROM streams ORDER BY id", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT max(seq) FROM stream_entries WHERE stream_id = ?", -1, &last, NULL) !=
            SQLITE_OK) {
        snprintf(errbuf, errlen, "reading streams: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return -EIO;
    }
    int rc = 0, step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        uint64_t last_seq = 0;
        if (sqlite3_bind_int64(last, 1, id) != SQLITE_OK || sqlite3_step(last) != SQLITE_ROW) {
            snprintf(errbuf, errlen, "reading the last seq of stream %lld: %s", (long long)id, sqlite3_errmsg(db));
            rc = -EIO;
            break;
        }
        last_seq = (uint64_t)sqlite3_column_int64(last, 0); /* max() of no rows is NULL: 0 */
        sqlite3_reset(last);
        rc = each(ctx, id, (const char *)sqlite3_column_text(st, 1), last_seq);
    }
    if (rc == 0 && step != SQLITE_DONE) {
        snprintf(errbuf, errlen, "reading streams: %s", sqlite3_errmsg(db));
        rc = -EIO;
    }
    sqlite3_finalize(st);
    sqlite3_finalize(last);
    return rc;
}
