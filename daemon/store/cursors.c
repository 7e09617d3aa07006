/* cursors.c — the subscribers table's typed calls: the writer stores a group's cursor and lease (delivery.c's cursor
 * op) and removes an idle one (deliver/group_rules.c); the loop reads a cursor when a group is created, counts a
 * party's groups for the cap, and finds idle ones. Each statement is served by an index. */
#include "store/cursors.h"
#include <errno.h>
#include <stdio.h>
#include "store/journal_sql.h"
#include "store/sql_errno.h"

int knoop_store_cursor_put(knoop_jtx_t *tx, int64_t stream_id, const char *name, const char *owner, uint64_t acked_seq,
                           uint64_t delivered_seq, int64_t now_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO subscribers(stream_id, name, acked_seq, delivered_seq, "
                                          "updated_us, owner) VALUES(?,?,?,?,?,?) ON CONFLICT(stream_id, name) DO "
                                          "UPDATE SET acked_seq = excluded.acked_seq, delivered_seq = "
                                          "excluded.delivered_seq, updated_us = excluded.updated_us, owner = CASE "
                                          "WHEN owner = '' THEN excluded.owner ELSE owner END");
    if (!st)
        return -EIO;
    if ((sqlite3_bind_int64(st, 1, stream_id) | sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC) |
         sqlite3_bind_int64(st, 3, (sqlite3_int64)acked_seq) | sqlite3_bind_int64(st, 4, (sqlite3_int64)delivered_seq) |
         sqlite3_bind_int64(st, 5, now_us) | sqlite3_bind_text(st, 6, owner ? owner : "", -1, SQLITE_STATIC)) !=
        SQLITE_OK)
        return -EIO;
    return knoop_sql_step_done(st);
}

int knoop_store_cursor_get(knoop_journal_t *j, int64_t stream_id, const char *name, uint64_t *acked_seq,
                           uint64_t *delivered_seq, char owner[KNOOP_OWNER_MAX])
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_journal_reader(j),
                           "SELECT acked_seq, delivered_seq, owner FROM subscribers WHERE stream_id = ? AND name = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    int rc = -EIO;
    if ((sqlite3_bind_int64(st, 1, stream_id) | sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC)) == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            *acked_seq = (uint64_t)sqlite3_column_int64(st, 0);
            *delivered_seq = (uint64_t)sqlite3_column_int64(st, 1);
            if (owner) {
                const char *o = (const char *)sqlite3_column_text(st, 2);
                snprintf(owner, KNOOP_OWNER_MAX, "%s", o ? o : "");
            }
            rc = 1;
        } else if (step == SQLITE_DONE) {
            rc = 0;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int64_t knoop_store_cursors_owned(knoop_journal_t *j, const char *owner, int64_t limit)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_journal_reader(j),
                           "SELECT count(*) FROM (SELECT 1 FROM subscribers INDEXED BY subscribers_owner "
                           "WHERE owner = ? LIMIT ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, limit);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -EIO;
    sqlite3_finalize(st);
    return n;
}

int knoop_store_cursor_behind(knoop_journal_t *j, int64_t stream_id, uint64_t seq)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_journal_reader(j),
                           "SELECT 1 FROM stream_entries WHERE stream_id = ? AND seq > ? LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, stream_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 1 : step == SQLITE_DONE ? 0 : -EIO;
}

int knoop_store_cursors_idle(knoop_journal_t *j, int64_t from_us, int64_t before_us, int64_t limit,
                             int (*fn)(void *ctx, const knoop_store_idle_cursor_t *c), void *ctx)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(knoop_journal_reader(j),
                           "SELECT stream_id, name, owner, acked_seq, updated_us FROM subscribers INDEXED BY "
                           "subscribers_idle WHERE updated_us > ? AND updated_us < ? ORDER BY updated_us LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, from_us);
    sqlite3_bind_int64(st, 2, before_us);
    sqlite3_bind_int64(st, 3, limit);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        knoop_store_idle_cursor_t c = {
            .stream_id = sqlite3_column_int64(st, 0),
            .name = (const char *)sqlite3_column_text(st, 1),
            .owner = (const char *)sqlite3_column_text(st, 2),
            .acked_seq = (uint64_t)sqlite3_column_int64(st, 3),
            .updated_us = sqlite3_column_int64(st, 4),
        };
        if (!c.name || !c.owner || fn(ctx, &c) != 0) {
            step = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? 0 : -EIO;
}

int knoop_store_cursor_expire(knoop_jtx_t *tx, int64_t stream_id, const char *name, int64_t updated_us)
{
    sqlite3_stmt *st =
        knoop_jtx_stmt(tx, "DELETE FROM subscribers WHERE stream_id = ? AND name = ? AND updated_us = ?");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, stream_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, updated_us);
    int rc = knoop_sql_step_done(st);
    if (rc != 0 || sqlite3_changes(knoop_jtx_db(tx)) == 0)
        return rc;
    st = knoop_jtx_stmt(tx, "DELETE FROM delivery_attempts WHERE stream_id = ? AND name = ?");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, stream_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    rc = knoop_sql_step_done(st);
    return rc == 0 ? 1 : rc;
}
