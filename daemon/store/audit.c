/* audit.c — the audit table's one statement: an insert inside the running transaction (the table is only ever
 * appended to; operators read it with sqlite3, never through the loop). */
#include "store/audit.h"
#include <errno.h>
#include "store/journal_sql.h"

int knoop_store_audit_insert(knoop_jtx_t *tx, int64_t at_us, const char *actor, const char *action, const char *detail)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO audit(at_us, actor, action, detail) VALUES(?,?,?,?)");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)at_us);
    sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}
