/* audit.c — the audit table's statements: inserts inside the running transaction (the table is appended to and
 * expired from its oldest end only) and the retention of audit rows of both audit tables. */
#include "store/audit.h"
#include <errno.h>
#include "store/journal_sql.h"
#include "store/sql_errno.h"

int knoop_store_audit_insert(knoop_jtx_t *tx, int64_t at_us, const char *actor, const char *action, const char *detail)
{
    return knoop_store_audit_insert_about(tx, at_us, actor, action, detail, NULL, 0);
}

int knoop_store_audit_insert_about(knoop_jtx_t *tx, int64_t at_us, const char *actor, const char *action,
                                   const char *detail, const uint8_t *client_ref, uint64_t seq)
{
    sqlite3_stmt *st =
        knoop_jtx_stmt(tx, "INSERT INTO audit(at_us, actor, action, detail, client_ref) "
                           "VALUES(?,?,?,?, COALESCE(?, (SELECT client_ref FROM messages WHERE seq = ?)))");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)at_us);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
    if (client_ref)
        sqlite3_bind_blob(st, 5, client_ref, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)seq); /* 0: no message has it */
    return knoop_sql_step_done(st);
}

/* Rows are appended in time order, so the oldest are the lowest ids: a batch is the first `batch` ids, of which
 * those older than the cut go. A row whose clock stood ahead holds the rest back until it expires itself. */
static int expire_one(knoop_jtx_t *tx, sqlite3_stmt *st, int64_t before_us, size_t batch, size_t *deleted, bool *more)
{
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)batch);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)before_us);
    int rc = knoop_sql_step_done(st);
    if (rc == 0) {
        size_t n = (size_t)sqlite3_changes(knoop_jtx_db(tx));
        *deleted += n;
        *more = *more || n >= batch;
    }
    return rc;
}

int knoop_store_audit_expire(knoop_jtx_t *tx, int64_t before_us, size_t batch, size_t *deleted, bool *more)
{
    *deleted = 0;
    *more = false;
    int rc = expire_one(tx,
                        knoop_jtx_stmt(tx, "DELETE FROM audit WHERE id IN (SELECT id FROM audit ORDER BY id LIMIT ?) "
                                           "AND at_us < ?"),
                        before_us, batch, deleted, more);
    if (rc == 0)
        rc = expire_one(tx,
                        knoop_jtx_stmt(tx, "DELETE FROM audit_reads WHERE id IN (SELECT id FROM audit_reads ORDER BY "
                                           "id LIMIT ?) AND at_us < ?"),
                        before_us, batch, deleted, more);
    return rc;
}
