/* audit_reads.c — the statements of the audit of reads: readers made once and found by their unique key, a row per
 * delivery (one plain insert: the client reference comes with it, read by the loop from the envelope it sent, because
 * looking the message up here costs a page read per delivery), and the merge of both audit tables along their client
 * indexes for `knoopctl audit client`. */
#include "store/audit_reads.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include "store/journal_sql.h"
#include "store/sql_errno.h"

int knoop_store_audit_reader(knoop_jtx_t *tx, const char *party, const char *stream, const char *subscriber,
                             int64_t *id)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO audit_readers(party, stream, subscriber) VALUES(?,?,?) "
                                          "ON CONFLICT(party, stream, subscriber) DO UPDATE SET party = party "
                                          "RETURNING id");
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, party, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, stream, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, subscriber, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

#define READ_ROW            "(?,?,?,?,?)"
#define READ_ROWS4          READ_ROW "," READ_ROW "," READ_ROW "," READ_ROW
#define READ_ROWS16         READ_ROWS4 "," READ_ROWS4 "," READ_ROWS4 "," READ_ROWS4
#define READS_PER_STATEMENT 32

static void bind_read(sqlite3_stmt *st, int col, const knoop_store_read_t *r, const int64_t *reader_ids)
{
    sqlite3_bind_int64(st, col, (sqlite3_int64)r->at_us);
    sqlite3_bind_int64(st, col + 1, (sqlite3_int64)r->seq);
    sqlite3_bind_int64(st, col + 2, (sqlite3_int64)reader_ids[r->reader]);
    sqlite3_bind_int64(st, col + 3, (sqlite3_int64)r->attempt);
    if (r->has_ref)
        sqlite3_bind_blob(st, col + 4, r->client_ref, 32, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, col + 4);
}

int knoop_store_audit_reads(knoop_jtx_t *tx, const knoop_store_read_t *rows, size_t n, const int64_t *reader_ids)
{
    size_t i = 0;
    while (i < n) {
        bool many = n - i >= READS_PER_STATEMENT;
        sqlite3_stmt *st =
            many ? knoop_jtx_stmt(tx,
                                  "INSERT INTO audit_reads(at_us, seq, reader, attempt, client_ref) VALUES " READ_ROWS16
                                  "," READ_ROWS16)
                 : knoop_jtx_stmt(tx,
                                  "INSERT INTO audit_reads(at_us, seq, reader, attempt, client_ref) VALUES " READ_ROW);
        if (!st)
            return -EIO;
        size_t k = many ? READS_PER_STATEMENT : 1;
        for (size_t j = 0; j < k; j++)
            bind_read(st, (int)(5 * j + 1), &rows[i + j], reader_ids);
        int rc = knoop_sql_step_done(st);
        sqlite3_reset(st);
        if (rc != 0)
            return rc;
        i += k;
    }
    return 0;
}

static const char *text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

int knoop_store_audit_client(knoop_journal_t *j, const uint8_t *ref, int64_t limit, knoop_store_access_fn fn, void *ctx,
                             char *err, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *reads = NULL, *acts = NULL;
    /* Both along (client_ref, id) backwards: ids grow with time, so this is newest first. */
    if (sqlite3_prepare_v2(db,
                           "SELECT r.at_us, p.party, p.stream, p.subscriber, r.seq, r.attempt FROM audit_reads r "
                           "INDEXED BY audit_reads_client JOIN audit_readers p ON p.id = r.reader "
                           "WHERE r.client_ref = ?1 ORDER BY r.id DESC LIMIT ?2",
                           -1, &reads, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT at_us, actor, action, detail FROM audit INDEXED BY audit_client "
                           "WHERE client_ref = ?1 ORDER BY id DESC LIMIT ?2",
                           -1, &acts, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
        sqlite3_finalize(reads);
        return -EIO;
    }
    sqlite3_stmt *sts[2] = {reads, acts};
    int state[2];
    for (int i = 0; i < 2; i++) {
        sqlite3_bind_blob(sts[i], 1, ref, 32, SQLITE_STATIC);
        sqlite3_bind_int64(sts[i], 2, limit);
        state[i] = sqlite3_step(sts[i]);
    }
    int rc = 0;
    for (int64_t n = 0; n < limit && (state[0] == SQLITE_ROW || state[1] == SQLITE_ROW); n++) {
        bool take_read = state[1] != SQLITE_ROW ||
                         (state[0] == SQLITE_ROW && sqlite3_column_int64(reads, 0) >= sqlite3_column_int64(acts, 0));
        knoop_store_access_t a = {0};
        if (take_read) {
            a = (knoop_store_access_t){.at_us = sqlite3_column_int64(reads, 0),
                                       .source = "delivery",
                                       .who = text(reads, 1),
                                       .action = "delivered",
                                       .stream = text(reads, 2),
                                       .subscriber = text(reads, 3),
                                       .detail = "",
                                       .seq = (uint64_t)sqlite3_column_int64(reads, 4),
                                       .attempt = (uint32_t)sqlite3_column_int(reads, 5)};
        } else {
            a = (knoop_store_access_t){.at_us = sqlite3_column_int64(acts, 0),
                                       .source = "control",
                                       .who = text(acts, 1),
                                       .action = text(acts, 2),
                                       .stream = "",
                                       .subscriber = "",
                                       .detail = text(acts, 3)};
        }
        fn(ctx, &a);
        int i = take_read ? 0 : 1;
        state[i] = sqlite3_step(sts[i]);
    }
    for (int i = 0; i < 2; i++)
        if (state[i] != SQLITE_ROW && state[i] != SQLITE_DONE) {
            snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
            rc = -EIO;
        }
    sqlite3_finalize(reads);
    sqlite3_finalize(acts);
    return rc;
}
