/* dead_letters.c — the dead_letters table's typed calls for delivery and retention: a group's dead letter, the state
 * changes of a retried one, expiry by the purge, and the retried rows a group takes back when it loads. */
#include "store/dead_letters.h"
#include <errno.h>
#include "store/journal_sql.h"

int knoop_store_dead_letter_insert(knoop_jtx_t *tx, uint64_t seq, const char *stream, const char *subscriber,
                                   const char *source, const char *reason, uint32_t attempts, int64_t now_us,
                                   int64_t *id)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO dead_letters(seq, stream, subscriber, source, reason, attempts, "
                                          "created_us) VALUES(?,?,?,?,?,?,?)");
    if (!st)
        return -EIO;
    if ((sqlite3_bind_int64(st, 1, (sqlite3_int64)seq) | sqlite3_bind_text(st, 2, stream, -1, SQLITE_STATIC) |
         sqlite3_bind_text(st, 3, subscriber, -1, SQLITE_STATIC) | sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC) |
         sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC) | sqlite3_bind_int64(st, 6, attempts) |
         sqlite3_bind_int64(st, 7, now_us)) != SQLITE_OK)
        return -EIO;
    if (sqlite3_step(st) != SQLITE_DONE)
        return -EIO;
    if (id)
        *id = sqlite3_last_insert_rowid(knoop_jtx_db(tx));
    return 0;
}

int knoop_store_dead_letter_set_state(knoop_jtx_t *tx, int64_t id, const char *state, const char *reason, int attempts,
                                      int64_t now_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "UPDATE dead_letters SET state = ?2, reason = coalesce(?3, reason), "
                                          "attempts = coalesce(?4, attempts), settled_us = ?5 WHERE id = ?1");
    if (!st)
        return -EIO;
    int rc = sqlite3_bind_int64(st, 1, id) | sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC) |
             sqlite3_bind_int64(st, 5, now_us);
    if (reason) /* unbound parameters are NULL: coalesce keeps the row's value */
        rc |= sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
    if (attempts >= 0)
        rc |= sqlite3_bind_int(st, 4, attempts);
    if (rc != SQLITE_OK)
        return -EIO;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

int knoop_store_dead_letters_expire(knoop_jtx_t *tx, uint64_t lo, uint64_t hi, int64_t now_us)
{
    sqlite3_stmt *st =
        knoop_jtx_stmt(tx, "UPDATE dead_letters SET state = 'expired', settled_us = ?3 WHERE seq BETWEEN "
                           "?1 AND ?2 AND state IN ('open', 'retrying') AND NOT EXISTS "
                           "(SELECT 1 FROM messages m WHERE m.seq = dead_letters.seq)");
    if (!st)
        return -EIO;
    if ((sqlite3_bind_int64(st, 1, (sqlite3_int64)lo) | sqlite3_bind_int64(st, 2, (sqlite3_int64)hi) |
         sqlite3_bind_int64(st, 3, now_us)) != SQLITE_OK)
        return -EIO;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

int knoop_store_dead_letters_retrying(knoop_journal_t *j, const char *stream, const char *subscriber,
                                      knoop_store_retrying_fn each, void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            knoop_journal_reader(j),
            "SELECT id, seq, attempts FROM dead_letters WHERE state = 'retrying' AND source = 'delivery' "
            "AND stream = ? AND subscriber = ? ORDER BY seq",
            -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    int rc = -EIO;
    if ((sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC) |
         sqlite3_bind_text(st, 2, subscriber, -1, SQLITE_STATIC)) == SQLITE_OK) {
        int step = SQLITE_DONE;
        rc = 0;
        while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
            rc = each(ctx, sqlite3_column_int64(st, 0), (uint64_t)sqlite3_column_int64(st, 1),
                      (uint32_t)sqlite3_column_int64(st, 2));
        if (rc == 0 && step != SQLITE_DONE)
            rc = -EIO;
    }
    sqlite3_finalize(st);
    return rc;
}
