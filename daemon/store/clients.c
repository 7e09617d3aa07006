/* clients.c — the SQL of a client's last-seen record and of forgetting a client (clients.h). Every statement finds its
 * rows by an index (journal_schema.c, migration 3: the primary keys of ledger, route_state and clients,
 * expectations_client, clients_seen), so a forget costs a few look-ups whatever the size of the journal. */
#include "store/clients.h"
#include <errno.h>
#include <string.h>
#include "store/journal_sql.h"
#include "store/sql_errno.h"

static int delete_by_ref(knoop_jtx_t *tx, const char *sql, const uint8_t *ref, size_t len, uint64_t *gone)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, sql);
    if (!st)
        return -EIO;
    sqlite3_bind_blob(st, 1, ref, (int)len, SQLITE_STATIC);
    int rc = knoop_sql_step_done(st);
    if (rc == 0 && gone)
        *gone = (uint64_t)sqlite3_changes(knoop_jtx_db(tx));
    return rc;
}

int knoop_store_client_seen(knoop_jtx_t *tx, const uint8_t *ref, size_t len, int64_t seen_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO clients(client_ref, seen_us) VALUES(?1, ?2) ON CONFLICT("
                                          "client_ref) DO UPDATE SET seen_us = max(seen_us, excluded.seen_us)");
    if (!st)
        return -EIO;
    sqlite3_bind_blob(st, 1, ref, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seen_us);
    return knoop_sql_step_done(st);
}

int knoop_store_client_forget(knoop_jtx_t *tx, const uint8_t *ref, size_t len, knoop_store_client_rows_t *gone)
{
    knoop_store_client_rows_t n = {0};
    int rc = delete_by_ref(tx, "DELETE FROM ledger WHERE client_ref = ?1", ref, len, &n.ledger);
    if (rc == 0)
        rc = delete_by_ref(tx, "DELETE FROM route_state WHERE client_ref = ?1", ref, len, &n.route_state);
    if (rc == 0)
        rc = delete_by_ref(tx, "DELETE FROM expectations WHERE client_ref = ?1", ref, len, &n.expectations);
    if (rc == 0)
        rc = delete_by_ref(tx, "DELETE FROM clients WHERE client_ref = ?1", ref, len, NULL);
    if (rc == 0 && gone)
        *gone = n;
    return rc;
}

/* One count(*) on the reader; sql binds the reference as ?1. */
static int count(sqlite3 *db, const char *sql, const uint8_t *ref, size_t len, uint64_t *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
    sqlite3_bind_blob(st, 1, ref, (int)len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
}

int knoop_store_client_count(knoop_journal_t *j, const uint8_t *ref, size_t len, knoop_store_client_rows_t *out)
{
    sqlite3 *db = knoop_journal_reader(j);
    *out = (knoop_store_client_rows_t){0};
    int rc = count(db, "SELECT count(*) FROM ledger WHERE client_ref = ?1", ref, len, &out->ledger);
    if (rc == 0)
        rc = count(db, "SELECT count(*) FROM route_state WHERE client_ref = ?1", ref, len, &out->route_state);
    if (rc == 0)
        rc = count(db, "SELECT count(*) FROM expectations WHERE client_ref = ?1", ref, len, &out->expectations);
    return rc;
}

int knoop_store_clients_unseen(knoop_journal_t *j, int64_t before_us, uint8_t (*refs)[32], size_t max)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(knoop_journal_reader(j),
                                "SELECT client_ref FROM clients WHERE seen_us < ?1 ORDER BY seen_us LIMIT ?2", -1, &st,
                                NULL);
    if (rc != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, before_us);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
    int n = 0;
    while ((size_t)n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if (sqlite3_column_bytes(st, 0) == 32)
            memcpy(refs[n++], sqlite3_column_blob(st, 0), 32);
    int err = (size_t)n < max && rc != SQLITE_DONE ? -EIO : 0;
    sqlite3_finalize(st);
    return err ? err : n;
}
