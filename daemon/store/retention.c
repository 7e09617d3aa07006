/* retention.c — the purge's SQL: the loop's scan of messages by seq, and the writer's batch delete, which reuses the
 * stream entries' and dead letters' own calls (entries.h, dead_letters.h) for what goes with a message, and the
 * expectations it opened. (A client's ledger sets and route state go by the forget job once its messages are gone:
 * store/clients.h.) The writer connection has secure_delete on: a deleted row's bytes are overwritten, not left in free
 * pages. */
#include "store/retention.h"
#include <errno.h>
#include "store/dead_letters.h"
#include "store/entries.h"
#include "store/journal_sql.h"

int knoop_store_retention_scan(knoop_journal_t *j, uint64_t after_seq, uint64_t limit, knoop_store_scan_fn each,
                               void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_journal_reader(j),
                           "SELECT seq, kind, accepted_us FROM messages WHERE seq > ? ORDER BY seq LIMIT ?", -1, &st,
                           NULL) != SQLITE_OK)
        return -EIO;
    int rc = -EIO;
    if ((sqlite3_bind_int64(st, 1, (sqlite3_int64)after_seq) | sqlite3_bind_int64(st, 2, (sqlite3_int64)limit)) ==
        SQLITE_OK) {
        int step = SQLITE_DONE;
        rc = 0;
        while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
            rc = each(ctx, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),
                      sqlite3_column_int64(st, 2));
        if (rc == 0 && step != SQLITE_DONE)
            rc = -EIO;
    }
    sqlite3_finalize(st);
    return rc;
}

int knoop_store_retention_purge(knoop_jtx_t *tx, const uint64_t *seqs, size_t n, const int64_t *stream_ids,
                                size_t nstreams, int64_t now_us)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = knoop_jtx_stmt(tx, "DELETE FROM messages WHERE seq = ?");
        if (!st || sqlite3_bind_int64(st, 1, (sqlite3_int64)seqs[i]) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
            return -EIO;
    }
    uint64_t lo = seqs[0], hi = seqs[n - 1];
    for (size_t i = 0; i < nstreams; i++)
        if (knoop_store_entries_drop_orphans(tx, stream_ids[i], lo, hi) != 0)
            return -EIO;
    /* expectations_trigger: a range over the batch's seqs */
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "DELETE FROM expectations WHERE trigger_seq BETWEEN ?1 AND ?2 AND NOT "
                                          "EXISTS (SELECT 1 FROM messages m WHERE m.seq = expectations.trigger_seq)");
    if (!st || sqlite3_bind_int64(st, 1, (sqlite3_int64)lo) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)hi) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
        return -EIO;
    return knoop_store_dead_letters_expire(tx, lo, hi, now_us);
}
