/* ledger.c — the ledger table's SQL: an upsert per client x provider a 301 named (writer), one scan at start-up
 * (reader). The blob's format belongs to adapters/istd/ledger.c; this file only stores it, sealed (journal_sql.h:
 * assignments are care data) with the client reference and provider as associated data. */
#include "store/ledger.h"
#include <stdio.h>
#include "store/journal_sql.h"
#include "store/sql_errno.h"

int knoop_store_ledger_put(knoop_jtx_t *tx, const uint8_t *client_ref, size_t client_ref_len, const char *provider,
                           const uint8_t *assignments, size_t len, int64_t now_us)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO ledger(client_ref, provider, assignments, updated_us) "
                                          "VALUES(?,?,?,?) ON CONFLICT(client_ref, provider) DO UPDATE SET "
                                          "assignments = excluded.assignments, updated_us = excluded.updated_us");
    if (!st)
        return knoop_jtx_errno(tx);
    uint8_t ad[128];
    size_t adlen = knoop_ledger_seal_ad(client_ref, client_ref_len, provider, ad);
    const uint8_t *sealed;
    size_t sealed_len;
    int rc = knoop_jtx_seal(tx, ad, adlen, assignments, len, &sealed, &sealed_len);
    if (rc != 0)
        return rc;
    sqlite3_bind_blob(st, 1, client_ref, (int)client_ref_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, provider, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, sealed, (int)sealed_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_us);
    return knoop_sql_step_done(st);
}

int knoop_store_ledger_each(knoop_journal_t *j,
                            int (*each)(void *arg, const uint8_t *client_ref, size_t client_ref_len,
                                        const char *provider, const uint8_t *assignments, size_t len),
                            void *arg, char *errbuf, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT client_ref, provider, assignments FROM ledger", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "ledger: %s", sqlite3_errmsg(db));
        return knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
    }
    int out = 0;
    knoop_seal_buf_t buf = {0};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *ref = sqlite3_column_blob(st, 0);
        size_t ref_len = (size_t)sqlite3_column_bytes(st, 0);
        const char *provider = (const char *)sqlite3_column_text(st, 1);
        uint8_t ad[128];
        size_t adlen = knoop_ledger_seal_ad(ref, ref_len, provider ? provider : "", ad), len;
        const uint8_t *plain;
        if (knoop_journal_unseal(j, &buf, ad, adlen, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2),
                                 &plain, &len) != 0)
            continue; /* a set that does not open is skipped, as a torn one is by the import */
        if ((out = each(arg, ref, ref_len, provider, plain, len)) != 0)
            break;
    }
    knoop_seal_buf_free(&buf);
    if (out == 0 && rc != SQLITE_DONE) {
        snprintf(errbuf, errlen, "ledger: %s", sqlite3_errmsg(db));
        out = knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
    }
    sqlite3_finalize(st);
    return out;
}
