/* cursors.c — the subscribers table's typed calls: the writer stores a group's cursor and lease (delivery.c's cursor
 * op), the loop reads it when a group is created. */
#include "store/cursors.h"
#include <errno.h>
#include "store/journal_sql.h"

int knoop_store_cursor_put(knoop_jtx_t *tx, int64_t stream_id, const char *name, uint64_t acked_seq,
                           uint64_t delivered_seq, int64_t now_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO subscribers(stream_id, name, acked_seq, delivered_seq, "
                                          "updated_us) VALUES(?,?,?,?,?) ON CONFLICT(stream_id, name) DO UPDATE SET "
                                          "acked_seq = excluded.acked_seq, delivered_seq = excluded.delivered_seq, "
                                          "updated_us = excluded.updated_us");
    if (!st)
        return -EIO;
    if ((sqlite3_bind_int64(st, 1, stream_id) | sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) |
         sqlite3_bind_int64(st, 3, (sqlite3_int64)acked_seq) | sqlite3_bind_int64(st, 4, (sqlite3_int64)delivered_seq) |
         sqlite3_bind_int64(st, 5, now_us)) != SQLITE_OK)
        return -EIO;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

int knoop_store_cursor_get(knoop_journal_t *j, int64_t stream_id, const char *name, uint64_t *acked_seq,
                           uint64_t *delivered_seq)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_journal_reader(j),
                           "SELECT acked_seq, delivered_seq FROM subscribers WHERE stream_id = ? AND name = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return -EIO;
    int rc = -EIO;
    if ((sqlite3_bind_int64(st, 1, stream_id) | sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC)) == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *acked_seq = (uint64_t)sqlite3_column_int64(st, 0);
            *delivered_seq = (uint64_t)sqlite3_column_int64(st, 1);
            rc = 1;
        } else if (step == SQLITE_DONE) {
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    return rc;
}
