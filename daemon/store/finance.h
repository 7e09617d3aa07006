/* finance.h — what the finance layer remembers, behind typed calls: the day it first saw each contract, the outcome
 * values per contract and reported period, and each signal and period report it published (once, also across
 * restarts: the row is written in the transaction of the message that carries it). Writer calls run inside an apply;
 * reader calls on the loop thread for the finance job and `knoopctl report`, each a range of a primary key. */
#ifndef KNOOP_STORE_FINANCE_H
#define KNOOP_STORE_FINANCE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* One indicator value of an outcome report. */
typedef struct knoop_store_outcome {
    const char *contract;
    int32_t start_day, end_day; /* the reported period */
    int level;                  /* knoop.domain.OutcomeLevel: 1 client, 2 contract, 3 population */
    const char *indicator;
    const char *grp; /* IndicatorValue.group, "" when it does not repeat */
    double total;    /* contract level: the value; client level (read back): the sum of the clients' scores */
    int64_t n;       /* read back: how many values the total holds */
    bool has_number;
    const char *text; /* a text value, "" otherwise */
} knoop_store_outcome_t;

/* ---- writer side; 0 or a negative errno (knoop_store_finance_mark: 1 written, 0 it was there) ---- */

/* A contract-level (or population) value replaces the period's earlier one; a client's score adds to the sum. */
int knoop_store_finance_outcome_put(knoop_jtx_t *tx, const knoop_store_outcome_t *o, uint64_t seq);
/* The first day knoopd saw the contract (kept when there is one). */
int knoop_store_finance_since_put(knoop_jtx_t *tx, const char *contract, int32_t day);
/* A signal (contract, kind, period) raised by the message seq: 1 when new, 0 when it was raised before. */
int knoop_store_finance_mark(knoop_jtx_t *tx, const char *contract, const char *kind, const char *period, uint64_t seq);
/* A period's report, published as the message seq with these figures (JSON): 1 new, 0 published before. */
int knoop_store_finance_report_put(knoop_jtx_t *tx, const char *contract, int32_t period_day, uint64_t seq,
                                   const char *figures);

/* ---- reader side; 1 found / 0 not, or a negative errno with err ---- */

int knoop_store_finance_since(knoop_journal_t *j, const char *contract, int32_t *day, char *err, size_t errlen);
int knoop_store_finance_marked(knoop_journal_t *j, const char *contract, const char *kind, const char *period,
                               char *err, size_t errlen);
/* Any outcome report (any level) whose period starts within [from, to]? */
int knoop_store_finance_reported(knoop_journal_t *j, const char *contract, int32_t from, int32_t to, char *err,
                                 size_t errlen);
/* The figures published for the period starting on period_day (*figures malloc'ed, the caller frees it). */
int knoop_store_finance_report_get(knoop_journal_t *j, const char *contract, int32_t period_day, char **figures,
                                   char *err, size_t errlen);
/* The latest period a report was published for. */
int knoop_store_finance_last_report(knoop_journal_t *j, const char *contract, int32_t *period_day, char *err,
                                    size_t errlen);

typedef void (*knoop_store_outcome_fn)(void *ctx, const knoop_store_outcome_t *o);
/* Outcome values of the reports whose period starts within [from, to], by start day. 0 or a negative errno. */
int knoop_store_finance_outcomes(knoop_journal_t *j, const char *contract, int32_t from, int32_t to,
                                 knoop_store_outcome_fn fn, void *ctx, char *err, size_t errlen);
#endif
