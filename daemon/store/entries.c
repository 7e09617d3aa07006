/* entries.c — stream_entries and delivery's reads. The range read runs for every batch a subscriber group pumps
 * (fan-out drain: hundreds of thousands of rows a second), so its statement is prepared once, persistent, and
 * reset after every read so that no read transaction outlives it. Envelopes are opened (journal_sql.h) into the
 * reader's own buffer, which the callback borrows. */
#include "store/entries.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "store/journal_sql.h"

struct knoop_store_entries {
    knoop_journal_t *j;     /* borrowed: closed after this reader */
    sqlite3_stmt *range;    /* owned: a stream's entries with their envelopes from a seq on */
    sqlite3_stmt *envelope; /* owned: one envelope by seq */
    knoop_seal_buf_t buf;   /* owned: the envelope opened last */
};

/* Opens the envelope in columns id_col (message_id) and env_col of st's row into r's buffer. -EIO when it does not
 * open: the row is damaged, and delivering it as it is would hand over ciphertext. */
static int open_row(knoop_store_entries_t *r, sqlite3_stmt *st, int id_col, int env_col, const uint8_t **env,
                    size_t *len)
{
    const char *id = (const char *)sqlite3_column_text(st, id_col);
    int rc = knoop_journal_unseal(r->j, &r->buf, id, id ? strlen(id) : 0, sqlite3_column_blob(st, env_col),
                                  (size_t)sqlite3_column_bytes(st, env_col), env, len);
    return rc == -EBADMSG ? -EIO : rc;
}

int knoop_store_entry_add(knoop_jtx_t *tx, int64_t stream_id, uint64_t seq)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO stream_entries(stream_id, seq) VALUES(?,?)");
    if (!st)
        return -EIO;
    if ((sqlite3_bind_int64(st, 1, stream_id) | sqlite3_bind_int64(st, 2, (sqlite3_int64)seq)) != SQLITE_OK)
        return -EIO;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

int knoop_store_entries_drop_orphans(knoop_jtx_t *tx, int64_t stream_id, uint64_t lo, uint64_t hi)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "DELETE FROM stream_entries WHERE stream_id = ?1 AND seq BETWEEN ?2 AND ?3 "
                                          "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.seq = stream_entries.seq)");
    if (!st)
        return -EIO;
    if ((sqlite3_bind_int64(st, 1, stream_id) | sqlite3_bind_int64(st, 2, (sqlite3_int64)lo) |
         sqlite3_bind_int64(st, 3, (sqlite3_int64)hi)) != SQLITE_OK)
        return -EIO;
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

int knoop_store_entries_open(knoop_journal_t *j, knoop_store_entries_t **out)
{
    *out = NULL;
    knoop_store_entries_t *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->j = j;
    sqlite3 *db = knoop_journal_reader(j);
    if (sqlite3_prepare_v3(db,
                           "SELECT e.seq, m.message_id, m.envelope FROM stream_entries e JOIN messages m ON m.seq = "
                           "e.seq WHERE e.stream_id = ? AND e.seq >= ? ORDER BY e.seq LIMIT ?",
                           -1, SQLITE_PREPARE_PERSISTENT, &r->range, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "SELECT message_id, envelope FROM messages WHERE seq = ?", -1, SQLITE_PREPARE_PERSISTENT,
                           &r->envelope, NULL) != SQLITE_OK) {
        knoop_store_entries_close(&r);
        return -EIO;
    }
    *out = r;
    return 0;
}

void knoop_store_entries_close(knoop_store_entries_t **rp)
{
    if (!rp || !*rp)
        return;
    sqlite3_finalize((*rp)->range);
    sqlite3_finalize((*rp)->envelope);
    knoop_seal_buf_free(&(*rp)->buf);
    free(*rp);
    *rp = NULL;
}

int knoop_store_entries_read(knoop_store_entries_t *r, int64_t stream_id, uint64_t from, uint64_t limit,
                             knoop_store_entry_fn each, void *ctx)
{
    sqlite3_stmt *st = r->range;
    if ((sqlite3_bind_int64(st, 1, stream_id) | sqlite3_bind_int64(st, 2, (sqlite3_int64)from) |
         sqlite3_bind_int64(st, 3, (sqlite3_int64)limit)) != SQLITE_OK)
        return -EIO;
    int rc = 0, step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *env;
        size_t len;
        if ((rc = open_row(r, st, 1, 2, &env, &len)) == 0)
            rc = each(ctx, (uint64_t)sqlite3_column_int64(st, 0), env, len);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -EIO;
    sqlite3_reset(st);
    return rc;
}

int knoop_store_entries_envelope(knoop_store_entries_t *r, uint64_t seq, knoop_store_entry_fn use, void *ctx)
{
    sqlite3_stmt *st = r->envelope;
    if (sqlite3_bind_int64(st, 1, (sqlite3_int64)seq) != SQLITE_OK)
        return -EIO;
    int step = sqlite3_step(st), rc;
    const uint8_t *env;
    size_t len;
    if (step == SQLITE_ROW)
        rc = (rc = open_row(r, st, 0, 1, &env, &len)) == 0 ? use(ctx, seq, env, len) : rc;
    else
        rc = step == SQLITE_DONE ? -ENOENT : -EIO;
    sqlite3_reset(st);
    return rc;
}

uint64_t knoop_store_seq_at_time(knoop_journal_t *j, int64_t time_us, uint64_t last_seq)
{
    sqlite3_stmt *st;
    uint64_t lo = 1, hi = last_seq + 1; /* the answer lies in [lo, hi] */
    if (sqlite3_prepare_v2(knoop_journal_reader(j),
                           "SELECT seq, accepted_us FROM messages WHERE seq >= ? ORDER BY seq LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK)
        return hi;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (sqlite3_bind_int64(st, 1, (sqlite3_int64)mid) != SQLITE_OK)
            break;
        if (sqlite3_step(st) != SQLITE_ROW) {
            hi = mid; /* nothing at or after mid (or a failed read: the search narrows, it does not loop) */
        } else {
            uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
            if (sqlite3_column_int64(st, 1) >= time_us)
                hi = mid;
            else
                lo = seq + 1;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return lo;
}
