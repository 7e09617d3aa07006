/* probe.c — the health probe's row: the meta table's 'health_probe' key, rewritten in place (one page), so probing
 * every few seconds neither grows the database nor touches a table the broker reads. */
#include "store/probe.h"
#include <errno.h>
#include <stdio.h>
#include "store/journal_sql.h"

int knoop_store_health_probe(knoop_jtx_t *tx, int64_t now_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO meta(key, value) VALUES('health_probe', ?1) "
                                          "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (!st)
        return -EIO;
    char v[24];
    snprintf(v, sizeof v, "%lld", (long long)now_us);
    sqlite3_bind_text(st, 1, v, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? 0 : -EIO; /* the engine reads the connection's error: -ENOSPC for a full disk */
}
