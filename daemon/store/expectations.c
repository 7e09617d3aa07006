/* expectations.c — the SQL of the expectations table. Closing prefers the open row whose trigger the answer names,
 * else the oldest (FIFO); both look-ups and the overdue list are served by indexes (journal_schema.c, migration 2),
 * so neither grows with the number of open expectations. */
#include "store/expectations.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "store/journal_sql.h"

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : knoop_sql_errno(rc);
}

int knoop_store_expectation_open(knoop_jtx_t *tx, uint64_t seq, const knoop_store_expectation_t *e)
{
    /* The client it concerns is the trigger's, already written in this transaction: forget and purge find it. */
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO expectations(kind, trigger_seq, trigger_type, trigger_id, "
                                          "owed_by, owed_to, expected, due, client_ref) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,"
                                          "(SELECT client_ref FROM messages WHERE seq = ?2))");
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, e->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 3, e->trigger_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->trigger_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, e->owed_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, e->owed_to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, e->expected, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, e->due, -1, SQLITE_STATIC);
    return step_done(st);
}

/* The id of the oldest open row of (kind, trigger type, owed_by, owed_to), restricted to one trigger Identificatie
 * when trigger_id is not NULL: 0 when there is none. Both forms walk the expectations_owed index in id order. */
static int find_open(knoop_jtx_t *tx, const char *kind, const char *trigger_type, const char *owed_by,
                     const char *owed_to, const char *trigger_id, int64_t *id)
{
    sqlite3_stmt *st =
        trigger_id
            ? knoop_jtx_stmt(tx, "SELECT id FROM expectations WHERE closed_seq IS NULL AND kind = ?1 AND "
                                 "trigger_type = ?2 AND owed_by = ?3 AND owed_to = ?4 AND trigger_id = ?5 ORDER BY id "
                                 "LIMIT 1")
            : knoop_jtx_stmt(tx, "SELECT id FROM expectations WHERE closed_seq IS NULL AND kind = ?1 AND "
                                 "trigger_type = ?2 AND owed_by = ?3 AND owed_to = ?4 ORDER BY id LIMIT 1");
    if (!st)
        return -EIO;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, trigger_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, owed_by, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, owed_to, -1, SQLITE_STATIC);
    if (trigger_id)
        sqlite3_bind_text(st, 5, trigger_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : knoop_sql_errno(rc);
}

int knoop_store_expectation_close(knoop_jtx_t *tx, uint64_t seq, const char *kind, const char *trigger_type,
                                  const char *owed_by, const char *owed_to, const char *correlation, bool *closed)
{
    int64_t id = 0;
    int rc = 0;
    if (closed)
        *closed = false;
    if (correlation && correlation[0])
        rc = find_open(tx, kind, trigger_type, owed_by, owed_to, correlation, &id);
    if (rc == 0 && id == 0)
        rc = find_open(tx, kind, trigger_type, owed_by, owed_to, NULL, &id);
    if (rc != 0 || id == 0)
        return rc;
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "UPDATE expectations SET closed_seq = ? WHERE id = ?");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_int64(st, 2, id);
    if ((rc = step_done(st)) == 0 && closed)
        *closed = true;
    return rc;
}

int knoop_store_expectation_alerted(knoop_jtx_t *tx, int64_t id)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "UPDATE expectations SET alerted = 1 WHERE id = ?");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, id);
    return step_done(st);
}

int knoop_store_expectations_overdue(knoop_journal_t *j, const char *today, knoop_store_expectation_t *out, size_t max)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    /* expectations_overdue (closed_seq, alerted, due) holds exactly these rows as one range, in (due, id) order:
     * the scan stops after max rows, however many there are. */
    int rc = sqlite3_prepare_v2(db,
                                "SELECT id, trigger_seq, kind, trigger_type, trigger_id, owed_by, owed_to, expected, "
                                "due FROM expectations WHERE closed_seq IS NULL AND alerted = 0 AND due < ?1 "
                                "ORDER BY due, id LIMIT ?2",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return knoop_sql_errno(rc);
    sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    int n = 0;
    while ((size_t)n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        knoop_store_expectation_t *e = &out[n++];
        e->id = sqlite3_column_int64(st, 0);
        e->trigger_seq = (uint64_t)sqlite3_column_int64(st, 1);
        copy_text(e->kind, sizeof e->kind, st, 2);
        copy_text(e->trigger_type, sizeof e->trigger_type, st, 3);
        copy_text(e->trigger_id, sizeof e->trigger_id, st, 4);
        copy_text(e->owed_by, sizeof e->owed_by, st, 5);
        copy_text(e->owed_to, sizeof e->owed_to, st, 6);
        copy_text(e->expected, sizeof e->expected, st, 7);
        copy_text(e->due, sizeof e->due, st, 8);
    }
    int err = (size_t)n < max && rc != SQLITE_DONE ? knoop_sql_errno(rc) : 0;
    sqlite3_finalize(st);
    return err ? err : n;
}
