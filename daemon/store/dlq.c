/* dlq.c — the operator's queries and moves on dead letters. The reader picks its statement by the filter, so each
 * one is served by the primary key or the (state, id) index instead of one statement with "?1 IS NULL OR ..." terms
 * that SQLite can only answer by scanning; the writer's statements run inside the op of `dlq retry|discard`. */
#include "store/dlq.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/journal_sql.h"

/* Columns of every select below, in read_row's order. */
#define DL_COLUMNS "SELECT id, seq, stream, subscriber, source, reason, attempts, created_us, state FROM dead_letters "
#define DL_FILTERS "AND (?2 IS NULL OR stream = ?2) AND (?3 IS NULL OR instr(reason, ?3) > 0) "

static const char sql_by_id[] = DL_COLUMNS "WHERE id = ?1 " DL_FILTERS "AND (?4 IS NULL OR state = ?4) LIMIT ?5";
static const char sql_by_state[] = DL_COLUMNS "WHERE state = ?4 " DL_FILTERS "ORDER BY id LIMIT ?5";
static const char sql_all[] = DL_COLUMNS "WHERE 1 " DL_FILTERS "ORDER BY id LIMIT ?5";

static const char *text(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? s : "";
}

static void read_row(sqlite3_stmt *st, knoop_store_dead_letter_t *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->seq = (uint64_t)sqlite3_column_int64(st, 1);
    snprintf(r->stream, sizeof r->stream, "%s", text(st, 2));
    snprintf(r->subscriber, sizeof r->subscriber, "%s", text(st, 3));
    snprintf(r->source, sizeof r->source, "%s", text(st, 4));
    snprintf(r->reason, sizeof r->reason, "%s", text(st, 5));
    r->attempts = sqlite3_column_int(st, 6);
    r->created_us = sqlite3_column_int64(st, 7);
    snprintf(r->state, sizeof r->state, "%s", text(st, 8));
}

int knoop_store_dlq_select(knoop_journal_t *j, const knoop_store_dlq_filter_t *f, knoop_store_dead_letter_t **out,
                           size_t *n, char *err, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    const char *sql = f->id > 0 ? sql_by_id : f->state ? sql_by_state : sql_all;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db)), -EIO;
    sqlite3_bind_int64(st, 1, f->id);
    if (f->stream)
        sqlite3_bind_text(st, 2, f->stream, -1, SQLITE_STATIC);
    if (f->reason)
        sqlite3_bind_text(st, 3, f->reason, -1, SQLITE_STATIC);
    if (f->state)
        sqlite3_bind_text(st, 4, f->state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, f->limit > 0 ? f->limit : 1);
    size_t cap = 0;
    int rc, result = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            knoop_store_dead_letter_t *bigger = realloc(*out, cap * sizeof **out);
            if (!bigger) {
                snprintf(err, errlen, "out of memory");
                result = -ENOMEM;
                break;
            }
            *out = bigger;
        }
        read_row(st, &(*out)[(*n)++]);
    }
    if (result == 0 && rc != SQLITE_DONE) {
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
        result = -EIO;
    }
    sqlite3_finalize(st);
    if (result != 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return result;
}

static int done(knoop_jtx_t *tx, sqlite3_stmt *st, bool one_row)
{
    if (!st || sqlite3_step(st) != SQLITE_DONE)
        return -EIO;
    return one_row && sqlite3_changes(knoop_jtx_db(tx)) != 1 ? -ENOENT : 0;
}

int knoop_store_dlq_set_state(knoop_jtx_t *tx, int64_t id, const char *state, int64_t now_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "UPDATE dead_letters SET state = ?2, settled_us = ?3 WHERE id = ?1");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)now_us);
    return done(tx, st, true);
}

int knoop_store_dlq_move_message(knoop_jtx_t *tx, uint64_t seq, uint64_t new_seq, const char *route,
                                 const uint8_t *envelope, size_t envelope_len, int64_t deadletters_id,
                                 const knoop_store_dlq_target_t *targets, size_t ntargets, int64_t now_us)
{
    const uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    if (envelope) { /* sealed for its row: the message keeps its message_id, the associated data */
        sqlite3_stmt *id = knoop_jtx_stmt(tx, "SELECT message_id FROM messages WHERE seq = ?");
        if (!id)
            return -EIO;
        sqlite3_bind_int64(id, 1, (sqlite3_int64)seq);
        int step = sqlite3_step(id);
        if (step != SQLITE_ROW)
            return step == SQLITE_DONE ? -ENOENT : -EIO;
        const char *mid = (const char *)sqlite3_column_text(id, 0);
        int rc = knoop_jtx_seal(tx, mid, mid ? strlen(mid) : 0, envelope, envelope_len, &sealed, &sealed_len);
        sqlite3_reset(id);
        if (rc != 0)
            return rc;
    }
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "UPDATE messages SET seq = ?1, route = ?2, envelope = coalesce(?3, envelope) "
                                          "WHERE seq = ?4");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)new_seq);
    sqlite3_bind_text(st, 2, route, -1, SQLITE_STATIC);
    if (sealed)
        sqlite3_bind_blob(st, 3, sealed, (int)sealed_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)seq);
    int rc = done(tx, st, true);
    if (rc != 0)
        return rc;
    st = knoop_jtx_stmt(tx, "UPDATE dead_letters SET seq = ?1 WHERE seq = ?2");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)new_seq);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    if ((rc = done(tx, st, false)) != 0)
        return rc;
    if (deadletters_id > 0) {
        st = knoop_jtx_stmt(tx, "DELETE FROM stream_entries WHERE stream_id = ?1 AND seq = ?2");
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, deadletters_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
        if ((rc = done(tx, st, false)) != 0)
            return rc;
    }
    for (size_t i = 0; i < ntargets; i++) {
        if (targets[i].create) {
            st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO streams(id, name, created_us) VALUES(?,?,?)");
            if (!st)
                return -EIO;
            sqlite3_bind_int64(st, 1, targets[i].stream_id);
            sqlite3_bind_text(st, 2, targets[i].name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, (sqlite3_int64)now_us);
            if ((rc = done(tx, st, false)) != 0)
                return rc;
        }
        st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO stream_entries(stream_id, seq) VALUES(?,?)");
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, targets[i].stream_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)new_seq);
        if ((rc = done(tx, st, false)) != 0)
            return rc;
    }
    return 0;
}
