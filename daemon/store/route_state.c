/* route_state.c — the route_state table's SQL: one upsert per changed routing decision (writer), one scan at start-up
 * (reader). The rows name contracts and parties, not indexes, so they survive a configuration reload. */
#include "store/route_state.h"
#include <stdio.h>
#include "store/journal_sql.h"
#include "store/sql_errno.h"

int knoop_store_route_state_put(knoop_jtx_t *tx, const knoop_store_route_row_t *row, int64_t now_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO route_state(kind, scope, client_ref, party, active, former, "
                                          "updated_us) VALUES(?,?,?,?,?,?,?) ON CONFLICT(kind, scope, client_ref) DO "
                                          "UPDATE SET party = excluded.party, active = excluded.active, "
                                          "former = excluded.former, updated_us = excluded.updated_us");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_int(st, 1, row->kind);
    sqlite3_bind_text(st, 2, row->scope, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, row->client_ref, (int)row->client_ref_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, row->party, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, row->active);
    sqlite3_bind_text(st, 6, row->former, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, now_us);
    return knoop_sql_step_done(st);
}

int knoop_store_route_state_each(knoop_journal_t *j, int (*each)(const knoop_store_route_row_t *row, void *arg),
                                 void *arg, char *errbuf, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    int rc =
        sqlite3_prepare_v2(db, "SELECT kind, scope, client_ref, party, active, former FROM route_state", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "route state: %s", sqlite3_errmsg(db));
        return knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
    }
    int out = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        knoop_store_route_row_t row = {
            .kind = sqlite3_column_int(st, 0),
            .scope = (const char *)sqlite3_column_text(st, 1),
            .client_ref = sqlite3_column_blob(st, 2),
            .client_ref_len = (size_t)sqlite3_column_bytes(st, 2),
            .party = (const char *)sqlite3_column_text(st, 3),
            .active = sqlite3_column_int(st, 4) != 0,
            .former = (const char *)sqlite3_column_text(st, 5),
        };
        if ((out = each(&row, arg)) != 0)
            break;
    }
    if (out == 0 && rc != SQLITE_DONE) {
        snprintf(errbuf, errlen, "route state: %s", sqlite3_errmsg(db));
        out = knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
    }
    sqlite3_finalize(st);
    return out;
}
