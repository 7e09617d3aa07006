/* messages.c — the message tables' SQL (writer side). The common case of a new message is one INSERT .. ON CONFLICT
 * DO NOTHING against the dedup index (messages_dedup in journal_schema.c); only a refused insert reads the row
 * that holds the identity. Statements are the writer's cached ones (knoop_jtx_stmt, keyed by the SQL's address).
 * The envelope is sealed here, on the writer thread, with the message_id as associated data (journal_sql.h). */
#include "store/messages.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/journal_sql.h"
#include "store/sql_errno.h"

int knoop_store_message_insert(knoop_jtx_t *tx, const knoop_store_message_t *m, uint64_t *seq)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO messages(seq, message_id, sender, receiver, kind, message_type, "
                                          "identificatie, client_ref, accepted_us, route, envelope, publisher) "
                                          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
    if (!st)
        return knoop_jtx_errno(tx);
    const uint8_t *sealed;
    size_t sealed_len;
    if (knoop_jtx_seal(tx, m->message_id, strlen(m->message_id), m->envelope, m->envelope_len, &sealed, &sealed_len) !=
        0)
        return -ENOMEM;
    uint64_t next = knoop_jtx_peek_seq(tx);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)next);
    sqlite3_bind_text(st, 2, m->message_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->sender, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, m->receiver, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, m->kind);
    sqlite3_bind_text(st, 6, m->message_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, m->identificatie, -1, SQLITE_STATIC);
    if (m->client_ref)
        sqlite3_bind_blob(st, 8, m->client_ref, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, m->accepted_us);
    sqlite3_bind_text(st, 10, m->route, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 11, sealed, (int)sealed_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, m->publisher, -1, SQLITE_STATIC);
    int rc = knoop_sql_step_done(st);
    if (rc != 0)
        return rc;
    if (sqlite3_changes(knoop_jtx_db(tx)) == 0)
        return 0; /* the dedup index refused it */
    *seq = knoop_jtx_next_seq(tx);
    return 1;
}

int knoop_store_message_find(knoop_jtx_t *tx, const char *sender, const char *message_type, const char *identificatie,
                             bool want_envelope, knoop_store_message_found_t *out)
{
    memset(out, 0, sizeof *out);
    if (!identificatie || !identificatie[0])
        return 0;
    /* Two statements: the envelope (often overflow pages) is read only by the caller that compares payloads. */
    sqlite3_stmt *st =
        want_envelope ? knoop_jtx_stmt(tx, "SELECT seq, message_id, publisher, envelope FROM messages WHERE sender = ? "
                                           "AND message_type = ? AND identificatie = ? AND identificatie <> ''")
                      : knoop_jtx_stmt(tx, "SELECT seq, message_id, publisher FROM messages WHERE sender = ? AND "
                                           "message_type = ? AND identificatie = ? AND identificatie <> ''");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, message_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, identificatie, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return knoop_sql_errno(rc);
    out->seq = (uint64_t)sqlite3_column_int64(st, 0);
    snprintf(out->message_id, sizeof out->message_id, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(out->publisher, sizeof out->publisher, "%s", (const char *)sqlite3_column_text(st, 2));
    if (want_envelope) {
        const uint8_t *plain;
        size_t n;
        rc = knoop_jtx_unseal(tx, out->message_id, strlen(out->message_id), sqlite3_column_blob(st, 3),
                              (size_t)sqlite3_column_bytes(st, 3), &plain, &n);
        if (rc == 0 && !(out->envelope = malloc(n ? n : 1)))
            rc = -ENOMEM;
        if (rc != 0) {
            sqlite3_reset(st);
            return rc == -EBADMSG ? -EIO : rc; /* a row that does not open is a damaged journal, not a refusal */
        }
        if (n)
            memcpy(out->envelope, plain, n);
        out->envelope_len = n;
    }
    sqlite3_reset(st);
    return 1;
}

int knoop_store_stream_create(knoop_jtx_t *tx, int64_t stream_id, const char *name, int64_t created_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO streams(id, name, created_us) VALUES(?,?,?)");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_int64(st, 1, stream_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, created_us);
    return knoop_sql_step_done(st);
}

int knoop_store_stream_append(knoop_jtx_t *tx, int64_t stream_id, uint64_t seq)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO stream_entries(stream_id, seq) VALUES(?,?)");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_int64(st, 1, stream_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    return knoop_sql_step_done(st);
}

int knoop_store_dead_letter_unroutable(knoop_jtx_t *tx, uint64_t seq, const char *reason, int64_t created_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO dead_letters(seq, stream, subscriber, source, reason, attempts, "
                                          "created_us) VALUES(?,'','','routing',?,0,?)");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, created_us);
    return knoop_sql_step_done(st);
}
