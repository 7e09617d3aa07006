/* decisions.c — one message row by its seq (the primary key) on the reader connection, handed to a callback so the
 * caller borrows the row's text and envelope instead of copying them. The envelope is opened into a buffer of this
 * call's own, wiped when the callback returns. */
#include "store/decisions.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "store/journal_sql.h"

static const char *text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

int knoop_store_decision_get(knoop_journal_t *j, uint64_t seq, knoop_store_decision_fn fn, void *ctx, char *err,
                             size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT seq, message_id, sender, publisher, receiver, kind, message_type, identificatie, "
                           "accepted_us, route, envelope FROM messages WHERE seq = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db)), -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    int rc = sqlite3_step(st);
    knoop_seal_buf_t buf = {0};
    const uint8_t *env = NULL;
    size_t env_len = 0;
    if (rc == SQLITE_ROW) {
        const char *id = text(st, 1);
        int opened = knoop_journal_unseal(j, &buf, id, strlen(id), sqlite3_column_blob(st, 10),
                                          (size_t)sqlite3_column_bytes(st, 10), &env, &env_len);
        if (opened != 0) {
            snprintf(err, errlen, "journal: the stored envelope of message %" PRIu64 " does not open (%s)", seq,
                     opened == -EBADMSG ? "damaged, or sealed under another key" : strerror(-opened));
            sqlite3_finalize(st);
            knoop_seal_buf_free(&buf);
            return -EIO;
        }
    }
    if (rc == SQLITE_ROW) {
        knoop_store_decision_t d = {
            .seq = (uint64_t)sqlite3_column_int64(st, 0),
            .message_id = text(st, 1),
            .sender = text(st, 2),
            .publisher = text(st, 3),
            .receiver = text(st, 4),
            .kind = sqlite3_column_int(st, 5),
            .message_type = text(st, 6),
            .identificatie = text(st, 7),
            .accepted_us = sqlite3_column_int64(st, 8),
            .route = (const char *)sqlite3_column_text(st, 9),
            .envelope = env,
            .envelope_len = env_len,
        };
        fn(ctx, &d);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = -ENOENT;
    } else {
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
        rc = -EIO;
    }
    sqlite3_finalize(st);
    knoop_seal_buf_free(&buf);
    return rc;
}
