/* attempts.c — the delivery_attempts table's typed calls: delivery_attempts.c journals and forgets counts on the
 * writer, and a group loading its cursor reads the counts above it. */
#include "store/attempts.h"
#include <errno.h>
#include "store/journal_sql.h"

int knoop_store_attempts_put(knoop_jtx_t *tx, int64_t stream_id, const char *name, uint64_t seq, uint32_t attempts,
                             const char *reason)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO delivery_attempts(stream_id, name, seq, attempts, last_reason) "
                                          "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(stream_id, name, seq) DO UPDATE SET "
                                          "attempts = excluded.attempts, last_reason = excluded.last_reason");
    if (!st)
        return -EIO;
    if ((sqlite3_bind_int64(st, 1, stream_id) | sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) |
         sqlite3_bind_int64(st, 3, (sqlite3_int64)seq) | sqlite3_bind_int64(st, 4, attempts) |
         sqlite3_bind_text(st, 5, reason ? reason : "", -1, SQLITE_STATIC)) != SQLITE_OK)
        return -EIO;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

int knoop_store_attempts_delete(knoop_jtx_t *tx, int64_t stream_id, const char *name, uint64_t seq)
{
    sqlite3_stmt *st =
        knoop_jtx_stmt(tx, "DELETE FROM delivery_attempts WHERE stream_id = ?1 AND name = ?2 AND seq = ?3");
    if (!st)
        return -EIO;
    if ((sqlite3_bind_int64(st, 1, stream_id) | sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) |
         sqlite3_bind_int64(st, 3, (sqlite3_int64)seq)) != SQLITE_OK)
        return -EIO;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

int knoop_store_attempts_each(knoop_journal_t *j, int64_t stream_id, const char *name, uint64_t after_seq,
                              knoop_store_attempt_fn each, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_journal_reader(j),
                           "SELECT seq, attempts FROM delivery_attempts WHERE stream_id = ? AND name = ? AND seq > ? "
                           "ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    int rc = -EIO;
    if ((sqlite3_bind_int64(st, 1, stream_id) | sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) |
         sqlite3_bind_int64(st, 3, (sqlite3_int64)after_seq)) == SQLITE_OK) {
        int step = SQLITE_DONE;
        rc = 0;
        while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
            rc = each(ctx, (uint64_t)sqlite3_column_int64(st, 0), (uint32_t)sqlite3_column_int64(st, 1));
        if (rc == 0 && step != SQLITE_DONE)
            rc = -EIO;
    }
    sqlite3_finalize(st);
    return rc;
}
