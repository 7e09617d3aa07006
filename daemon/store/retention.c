/* retention.c — the purge's SQL: the loop's scan of messages by seq, and the writer's batch delete, which reuses the
 * stream entries' and dead letters' own calls (entries.h, dead_letters.h) for what goes with a message. What the
 * journal keeps about a client goes with the client's last message: its expectations with the message that opened
 * them, its ledger sets and route state through the forget queue (clients.h), since memory must follow them. The
 * writer connection has secure_delete on: a deleted row's bytes are overwritten, not left in free pages. */
#include "store/retention.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

static int cmp_ref(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* The clients of the deleted messages (refs, n of them, sorted here) that no retained message concerns any more
 * join the forget queue. */
static int queue_orphans(knoop_jtx_t *tx, uint8_t (*refs)[32], size_t n, int64_t now_us)
{
    qsort(refs, n, 32, cmp_ref);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && memcmp(refs[i], refs[i - 1], 32) == 0)
            continue;
        sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO forget_queue(client_ref, queued_us) SELECT ?1, ?2 "
                                              "WHERE NOT EXISTS (SELECT 1 FROM messages WHERE client_ref = ?1)");
        if (!st || sqlite3_bind_blob(st, 1, refs[i], 32, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, now_us) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
            return -EIO;
    }
    return 0;
}

int knoop_store_retention_purge(knoop_jtx_t *tx, const uint64_t *seqs, size_t n, const int64_t *stream_ids,
                                size_t nstreams, int64_t now_us)
{
    if (n == 0)
        return 0;
    uint8_t(*refs)[32] = malloc(n * 32); /* the deleted messages' clients */
    size_t nrefs = 0;
    if (!refs)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_stmt *st = knoop_jtx_stmt(tx, "DELETE FROM messages WHERE seq = ? RETURNING client_ref");
        if (!st || sqlite3_bind_int64(st, 1, (sqlite3_int64)seqs[i]) != SQLITE_OK) {
            rc = -EIO;
            break;
        }
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            if (sqlite3_column_bytes(st, 0) == 32)
                memcpy(refs[nrefs++], sqlite3_column_blob(st, 0), 32);
        rc = step == SQLITE_DONE ? 0 : -EIO;
    }
    uint64_t lo = seqs[0], hi = seqs[n - 1];
    for (size_t i = 0; i < nstreams && rc == 0; i++)
        if (knoop_store_entries_drop_orphans(tx, stream_ids[i], lo, hi) != 0)
            rc = -EIO;
    if (rc == 0) { /* expectations_trigger: a range over the batch's seqs */
        sqlite3_stmt *st =
            knoop_jtx_stmt(tx, "DELETE FROM expectations WHERE trigger_seq BETWEEN ?1 AND ?2 AND NOT "
                               "EXISTS (SELECT 1 FROM messages m WHERE m.seq = expectations.trigger_seq)");
        if (!st || sqlite3_bind_int64(st, 1, (sqlite3_int64)lo) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, (sqlite3_int64)hi) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
            rc = -EIO;
    }
    if (rc == 0)
        rc = queue_orphans(tx, refs, nrefs, now_us);
    free(refs);
    return rc == 0 ? knoop_store_dead_letters_expire(tx, lo, hi, now_us) : rc;
}
