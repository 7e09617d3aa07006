/* finance.c — the SQL of what the finance layer remembers (finance.h): first-seen days, outcome values per period,
 * signals and reports published once. Each reader statement is a point or range lookup on a primary key. */
#include "store/finance.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/journal_sql.h"
#include "store/sql_errno.h"

int knoop_store_finance_outcome_put(knoop_jtx_t *tx, const knoop_store_outcome_t *o, uint64_t seq)
{
    /* client level adds up (a mean over the clients scored); any other level replaces (the latest report counts) */
    sqlite3_stmt *st = knoop_jtx_stmt(
        tx, "INSERT INTO finance_outcomes(contract, start_day, end_day, level, indicator, grp, total, n, text, seq) "
            "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) ON CONFLICT(contract, start_day, level, indicator, grp) DO UPDATE "
            "SET end_day = excluded.end_day, seq = excluded.seq, text = excluded.text, "
            "total = CASE WHEN excluded.level = 1 THEN total + excluded.total ELSE excluded.total END, "
            "n = CASE WHEN excluded.level = 1 THEN n + excluded.n ELSE excluded.n END");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_text(st, 1, o->contract, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, o->start_day);
    sqlite3_bind_int(st, 3, o->end_day);
    sqlite3_bind_int(st, 4, o->level);
    sqlite3_bind_text(st, 5, o->indicator, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, o->grp ? o->grp : "", -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 7, o->has_number ? o->total : 0);
    sqlite3_bind_int64(st, 8, o->has_number ? 1 : 0);
    sqlite3_bind_text(st, 9, o->text ? o->text : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)seq);
    return knoop_sql_step_done(st);
}

int knoop_store_finance_since_put(knoop_jtx_t *tx, const char *contract, int32_t day)
{
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO finance_contracts(contract, since_day) VALUES(?,?)");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_text(st, 1, contract, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, day);
    return knoop_sql_step_done(st);
}

int knoop_store_finance_mark(knoop_jtx_t *tx, const char *contract, const char *kind, const char *period, uint64_t seq)
{
    sqlite3_stmt *st =
        knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO finance_signals(contract, kind, period, seq) VALUES(?,?,?,?)");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_text(st, 1, contract, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, period, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)seq);
    int rc = knoop_sql_step_done(st);
    return rc < 0 ? rc : sqlite3_changes(knoop_jtx_db(tx)) > 0;
}

int knoop_store_finance_report_put(knoop_jtx_t *tx, const char *contract, int32_t period_day, uint64_t seq,
                                   const char *figures)
{
    sqlite3_stmt *st =
        knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO finance_reports(contract, period_day, seq, figures) VALUES(?,?,?,?)");
    if (!st)
        return knoop_jtx_errno(tx);
    sqlite3_bind_text(st, 1, contract, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, period_day);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 4, figures, -1, SQLITE_STATIC);
    int rc = knoop_sql_step_done(st);
    return rc < 0 ? rc : sqlite3_changes(knoop_jtx_db(tx)) > 0;
}

/* ---- reader side ---- */

/* Runs a statement whose first row answers; bind fills its parameters, row reads the row. 1 / 0 / -errno. */
static int one_row(knoop_journal_t *j, const char *sql, void (*bind)(sqlite3_stmt *, const void *), const void *arg,
                   void (*row)(sqlite3_stmt *, void *), void *out, char *err, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
        return knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
    }
    bind(st, arg);
    rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW;
    if (found && row)
        row(st, out);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
        found = knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
    }
    sqlite3_finalize(st);
    return found;
}

typedef struct key {
    const char *contract, *kind, *period;
    int32_t a, b;
} key_t_;

static void bind_contract(sqlite3_stmt *st, const void *arg)
{
    sqlite3_bind_text(st, 1, ((const key_t_ *)arg)->contract, -1, SQLITE_TRANSIENT);
}
static void bind_mark(sqlite3_stmt *st, const void *arg)
{
    const key_t_ *k = arg;
    sqlite3_bind_text(st, 1, k->contract, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, k->kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, k->period, -1, SQLITE_TRANSIENT);
}
static void bind_range(sqlite3_stmt *st, const void *arg)
{
    const key_t_ *k = arg;
    sqlite3_bind_text(st, 1, k->contract, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, k->a);
    sqlite3_bind_int(st, 3, k->b);
}
static void row_day(sqlite3_stmt *st, void *out)
{
    *(int32_t *)out = sqlite3_column_int(st, 0);
}
static void row_text(sqlite3_stmt *st, void *out)
{
    const char *t = (const char *)sqlite3_column_text(st, 0);
    *(char **)out = strdup(t ? t : "");
}

int knoop_store_finance_since(knoop_journal_t *j, const char *contract, int32_t *day, char *err, size_t errlen)
{
    key_t_ k = {.contract = contract};
    return one_row(j, "SELECT since_day FROM finance_contracts WHERE contract = ?", bind_contract, &k, row_day, day,
                   err, errlen);
}

int knoop_store_finance_marked(knoop_journal_t *j, const char *contract, const char *kind, const char *period,
                               char *err, size_t errlen)
{
    key_t_ k = {.contract = contract, .kind = kind, .period = period};
    return one_row(j, "SELECT 1 FROM finance_signals WHERE contract = ? AND kind = ? AND period = ?", bind_mark, &k,
                   NULL, NULL, err, errlen);
}

int knoop_store_finance_reported(knoop_journal_t *j, const char *contract, int32_t from, int32_t to, char *err,
                                 size_t errlen)
{
    key_t_ k = {.contract = contract, .a = from, .b = to};
    return one_row(j, "SELECT 1 FROM finance_outcomes WHERE contract = ? AND start_day BETWEEN ? AND ? LIMIT 1",
                   bind_range, &k, NULL, NULL, err, errlen);
}

int knoop_store_finance_report_get(knoop_journal_t *j, const char *contract, int32_t period_day, char **figures,
                                   char *err, size_t errlen)
{
    key_t_ k = {.contract = contract, .a = period_day, .b = period_day};
    *figures = NULL;
    int rc = one_row(j, "SELECT figures FROM finance_reports WHERE contract = ? AND period_day BETWEEN ? AND ?",
                     bind_range, &k, row_text, figures, err, errlen);
    if (rc == 1 && *figures == NULL)
        return -ENOMEM;
    return rc;
}

int knoop_store_finance_last_report(knoop_journal_t *j, const char *contract, int32_t *period_day, char *err,
                                    size_t errlen)
{
    key_t_ k = {.contract = contract};
    return one_row(j, "SELECT period_day FROM finance_reports WHERE contract = ? ORDER BY period_day DESC LIMIT 1",
                   bind_contract, &k, row_day, period_day, err, errlen);
}

int knoop_store_finance_outcomes(knoop_journal_t *j, const char *contract, int32_t from, int32_t to,
                                 knoop_store_outcome_fn fn, void *ctx, char *err, size_t errlen)
{
    sqlite3 *db = knoop_journal_reader(j);
    sqlite3_stmt *st;
    int rc =
        sqlite3_prepare_v2(db,
                           "SELECT start_day, end_day, level, indicator, grp, total, n, text FROM finance_outcomes "
                           "WHERE contract = ? AND start_day BETWEEN ? AND ? ORDER BY start_day, level, indicator, grp",
                           -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
        return -EIO;
    }
    sqlite3_bind_text(st, 1, contract, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, from);
    sqlite3_bind_int(st, 3, to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        knoop_store_outcome_t o = {.contract = contract,
                                   .start_day = sqlite3_column_int(st, 0),
                                   .end_day = sqlite3_column_int(st, 1),
                                   .level = sqlite3_column_int(st, 2),
                                   .indicator = (const char *)sqlite3_column_text(st, 3),
                                   .grp = (const char *)sqlite3_column_text(st, 4),
                                   .total = sqlite3_column_double(st, 5),
                                   .n = sqlite3_column_int64(st, 6),
                                   .text = (const char *)sqlite3_column_text(st, 7)};
        o.has_number = o.n > 0;
        fn(ctx, &o);
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errlen, "journal: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -EIO;
}
