/* alerts_view.c — the latest entries of the alerts stream: a backward walk of stream_entries' primary key joined to
 * messages by seq, stopped by LIMIT, so it costs the same however long the journal is. Envelopes are opened
 * (journal_sql.h) into a buffer of this call's own. */
#include "store/alerts_view.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "store/journal_sql.h"

int knoop_store_alerts_latest(knoop_journal_t *j, int64_t stream_id, int64_t limit, knoop_store_alert_fn fn, void *ctx,
                              char *err, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            db,
            "SELECT m.seq, m.accepted_us, m.envelope, m.message_id FROM stream_entries e JOIN messages m ON "
            "m.seq = e.seq WHERE e.stream_id = ? ORDER BY e.seq DESC LIMIT ?",
            -1, &st, NULL) != SQLITE_OK)
        return snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db)), -EIO;
    sqlite3_bind_int64(st, 1, stream_id);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : 1);
    int rc;
    knoop_seal_buf_t buf = {0};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 3);
        knoop_store_alert_t a = {
            .seq = (uint64_t)sqlite3_column_int64(st, 0),
            .accepted_us = sqlite3_column_int64(st, 1),
        };
        if (knoop_journal_unseal(j, &buf, id, id ? strlen(id) : 0, sqlite3_column_blob(st, 2),
                                 (size_t)sqlite3_column_bytes(st, 2), &a.envelope, &a.envelope_len) != 0) {
            snprintf(err, errlen, "journal: the stored envelope of alert %llu does not open",
                     (unsigned long long)a.seq);
            break;
        }
        fn(ctx, &a);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    knoop_seal_buf_free(&buf);
    return rc == SQLITE_DONE ? 0 : -EIO;
}
