/* budget.c — the budget ledger's SQL (budget.h): episodes of care, units and euros per day, intensity changes. The
 * writer statements are cached by their SQL's address; every reader statement is a range of a primary key or index
 * (budget_episodes_since, budget_episodes_open, budget_use's key) and runs for the finance job or a report only. */
#include "store/budget.h"
#include <stdio.h>
#include <string.h>
#include "store/journal_sql.h"
#include "store/sql_errno.h"

static const char *empty_if_null(const char *s)
{
    return s ? s : "";
}

int knoop_store_budget_start(knoop_jtx_t *tx, const knoop_store_episode_t *e, uint64_t seq)
{
    sqlite3_stmt *st = knoop_jtx_stmt(
        tx,
        "INSERT OR IGNORE INTO budget_episodes(contract, client_ref, product, since_day, until_day, grp, member, seq)"
        " SELECT ?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7 WHERE NOT EXISTS (SELECT 1 FROM budget_episodes"
        " WHERE contract = ?1 AND client_ref = ?2 AND grp = ?5 AND until_day IS NULL AND product = ?3)");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_text(st, 1, e->contract, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, e->client_ref, (int)e->client_ref_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->product, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, e->day);
    sqlite3_bind_text(st, 5, e->grp, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, empty_if_null(e->member), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)seq);
    return knoop_sql_step_done(st);
}

int knoop_store_budget_stop(knoop_jtx_t *tx, const char *contract, const uint8_t *client_ref, size_t client_ref_len,
                            const char *product, int32_t day)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "UPDATE budget_episodes SET until_day = ?4 WHERE contract = ?1 AND "
                                          "client_ref = ?2 AND until_day IS NULL AND (?3 = '' OR product = ?3)");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_text(st, 1, contract, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, client_ref, (int)client_ref_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, empty_if_null(product), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, day);
    return knoop_sql_step_done(st);
}

int knoop_store_budget_change(knoop_jtx_t *tx, const knoop_store_episode_t *e, uint64_t seq, char *from,
                              size_t from_len)
{
    char was[64] = "";
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "SELECT product FROM budget_episodes WHERE contract = ? AND client_ref = ? "
                                          "AND grp = ? AND until_day IS NULL AND product <> ? LIMIT 1");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_text(st, 1, e->contract, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, e->client_ref, (int)e->client_ref_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, e->grp, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->product, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(was, sizeof was, "%s", (const char *)sqlite3_column_text(st, 0));
    (void)sqlite3_reset(st); /* a cached statement left on a row keeps its read open until it is used again */
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return knoop_sql_errno(rc);
    if (from)
        snprintf(from, from_len, "%s", was);
    if (was[0]) {
        st = knoop_jtx_stmt(tx, "UPDATE budget_episodes SET until_day = ?4 WHERE contract = ?1 AND client_ref = ?2 "
                                "AND grp = ?3 AND until_day IS NULL AND product <> ?5");
        if (!st)
            return knoop_jtx_errno(tx);
        sqlite3_bind_text(st, 1, e->contract, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, e->client_ref, (int)e->client_ref_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, e->grp, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, e->day - 1);
        sqlite3_bind_text(st, 5, e->product, -1, SQLITE_STATIC);
        if ((rc = knoop_sql_step_done(st)) != 0)
            return rc;
        st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO budget_changes(contract, day, seq, client_ref, from_product, "
                                "to_product) VALUES(?,?,?,?,?,?)");
        if (!st)
            return knoop_jtx_errno(tx);
        sqlite3_bind_text(st, 1, e->contract, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, e->day);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)seq);
        sqlite3_bind_blob(st, 4, e->client_ref, (int)e->client_ref_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, was, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, e->product, -1, SQLITE_STATIC);
        if ((rc = knoop_sql_step_done(st)) != 0)
            return rc;
    }
    return knoop_store_budget_start(tx, e, seq);
}

int knoop_store_budget_use_add(knoop_jtx_t *tx, const knoop_store_use_t *u)
{
    sqlite3_stmt *st = knoop_jtx_stmt(
        tx, "INSERT INTO budget_use(contract, day, product, member, client_ref, units, amount_cents, declared_cents) "
            "VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(contract, day, product, member, client_ref) DO UPDATE SET "
            "units = units + excluded.units, amount_cents = amount_cents + excluded.amount_cents, "
            "declared_cents = declared_cents + excluded.declared_cents");
    if (!st)
        return knoop_jtx_errno(tx);
    static const uint8_t none = 0;
    sqlite3_bind_text(st, 1, u->contract, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, u->day);
    sqlite3_bind_text(st, 3, u->product, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, empty_if_null(u->member), -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, u->client_ref ? u->client_ref : &none, u->client_ref ? (int)u->client_ref_len : 0,
                      SQLITE_STATIC);
    sqlite3_bind_double(st, 6, u->units);
    sqlite3_bind_int64(st, 7, u->amount_cents);
    sqlite3_bind_int64(st, 8, u->declared_cents);
    return knoop_sql_step_done(st);
}

/* ---- reader side ---- */

static int prepare(knoop_journal_t *j, const char *sql, sqlite3_stmt **st, char *err, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
        return knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
    }
    return 0;
}

/* A report query over one contract's days: ?1 contract, ?2 and ?3 the first and last day, ?4 the row limit (limit < 0:
 * the query has none). */
static int prepare_range(knoop_journal_t *j, const char *sql, const char *contract, int32_t from, int32_t to,
                         int64_t limit, sqlite3_stmt **st, char *err, size_t errlen)
{
    int rc = prepare(j, sql, st, err, errlen);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(*st, 1, contract, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(*st, 2, from);
    sqlite3_bind_int(*st, 3, to);
    if (limit >= 0)
        sqlite3_bind_int64(*st, 4, limit);
    return 0;
}

static int finish(knoop_journal_t *j, sqlite3_stmt *st, int rc, char *err, size_t errlen)
{
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(knoop_journal_reader(j)));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : (knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO);
}

static const char *col_text(sqlite3_stmt *st, int c)
{
    const char *s = (const char *)sqlite3_column_text(st, c);
    return s ? s : "";
}

#define IN_CARE_ON "contract = ?1 AND since_day <= ?2 AND (until_day IS NULL OR until_day >= ?2)"

int knoop_store_budget_in_care(knoop_journal_t *j, const char *contract, int32_t day, int64_t *distinct,
                               knoop_store_count_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc = prepare(j, "SELECT COUNT(DISTINCT client_ref) FROM budget_episodes WHERE " IN_CARE_ON, &st, err, errlen);
    if (rc != 0)
        return rc;
    sqlite3_bind_text(st, 1, contract, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, day);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *distinct = sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    }
    if ((rc = finish(j, st, rc, err, errlen)) != 0 || !fn)
        return rc;
    if ((rc = prepare(j,
                      "SELECT product, member, COUNT(*) FROM budget_episodes WHERE " IN_CARE_ON
                      " GROUP BY product, member ORDER BY product, member",
                      &st, err, errlen)) != 0)
        return rc;
    sqlite3_bind_text(st, 1, contract, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, day);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, col_text(st, 0), col_text(st, 1), sqlite3_column_int64(st, 2));
    return finish(j, st, rc, err, errlen);
}

static int count_one(knoop_journal_t *j, const char *sql, const char *contract, int32_t from, int32_t to, int64_t *out,
                     char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc = prepare_range(j, sql, contract, from, to, -1, &st, err, errlen);
    if (rc != 0)
        return rc;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_DONE;
    }
    return finish(j, st, rc, err, errlen);
}

int knoop_store_budget_flow(knoop_journal_t *j, const char *contract, int32_t from, int32_t to, int64_t *started,
                            int64_t *stopped, char *err, size_t errlen)
{
    /* starts: budget_episodes_since; stops: the contract's episodes (its key's prefix), for a report only */
    int rc = count_one(j, "SELECT COUNT(*) FROM budget_episodes WHERE contract = ? AND since_day BETWEEN ? AND ?",
                       contract, from, to, started, err, errlen);
    if (rc == 0)
        rc = count_one(j, "SELECT COUNT(*) FROM budget_episodes WHERE contract = ? AND until_day BETWEEN ? AND ?",
                       contract, from, to, stopped, err, errlen);
    return rc;
}

int knoop_store_budget_use_sum(knoop_journal_t *j, const char *contract, int32_t from, int32_t to,
                               knoop_store_use_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc =
        prepare_range(j,
                      "SELECT product, member, SUM(units), SUM(amount_cents), SUM(declared_cents) FROM budget_use "
                      "WHERE contract = ? AND day BETWEEN ? AND ? GROUP BY product, member ORDER BY product, member",
                      contract, from, to, -1, &st, err, errlen);
    if (rc != 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, col_text(st, 0), col_text(st, 1), sqlite3_column_double(st, 2), sqlite3_column_int64(st, 3),
           sqlite3_column_int64(st, 4));
    return finish(j, st, rc, err, errlen);
}

int knoop_store_budget_use_by_client(knoop_journal_t *j, const char *contract, int32_t from, int32_t to, int64_t limit,
                                     knoop_store_client_use_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc = prepare_range(j,
                           "SELECT client_ref, product, SUM(units), SUM(amount_cents) AS a, SUM(declared_cents) FROM "
                           "budget_use WHERE contract = ? AND day BETWEEN ? AND ? AND length(client_ref) > 0 "
                           "GROUP BY client_ref, product ORDER BY a DESC, product LIMIT ?",
                           contract, from, to, limit, &st, err, errlen);
    if (rc != 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), col_text(st, 1),
           sqlite3_column_double(st, 2), sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4));
    return finish(j, st, rc, err, errlen);
}

int knoop_store_budget_changes(knoop_journal_t *j, const char *contract, int32_t from, int32_t to, int64_t limit,
                               knoop_store_change_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc =
        prepare_range(j,
                      "SELECT day, client_ref, from_product, to_product FROM budget_changes WHERE contract = ? AND "
                      "day BETWEEN ? AND ? ORDER BY day, seq LIMIT ?",
                      contract, from, to, limit, &st, err, errlen);
    if (rc != 0)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(ctx, sqlite3_column_int(st, 0), sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
           col_text(st, 2), col_text(st, 3));
    return finish(j, st, rc, err, errlen);
}
