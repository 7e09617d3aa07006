/* figures.h — the management information of one contract period, composed from the budget ledger and the outcome
 * values: the contract's terms, the budget and its use, the clients against the agreed volume and its band, use per
 * product (and per member, or per client for arrangements), the intensity changes, each indicator over the periods,
 * the series the charts draw, and the budget period's recalculation. One JSON object (schema below, docs/finance.md):
 * the report message's payload, `knoopctl report --format json`, and what the CSV and HTML renderings print, so every
 * format shows the same numbers. Amounts are euros rounded to cents. */
#ifndef KNOOP_FINANCE_FIGURES_H
#define KNOOP_FINANCE_FIGURES_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "config/network.h"
#include "finance/calendar.h"
#include "store/journal.h"

#define KNOOP_FIGURES_SCHEMA  "knoop.finance.Report/1"
#define KNOOP_FIGURES_SERIES  13 /* periods the series and the indicator charts go back (a year of 4-weekly periods) */
#define KNOOP_FIGURES_DETAILS 50 /* client rows and intensity changes a report lists at most */

/* Composes the figures of period p of contract c as they stand on today (a period not yet over is marked
 * "complete": false). NULL with err on a journal error. The caller owns the result. */
json_t *knoop_figures_compose(knoop_journal_t *j, const knoop_network_t *net, const knoop_contract_t *c,
                              knoop_period_t p, int32_t today, char *err, size_t errlen);

/* The band state of a count against a volume: "within", "above" or "below" (config's knoop_budget_state on clients),
 * with the deviation in % (may be NULL). "none" without an agreed volume. */
const char *knoop_figures_band(const knoop_contract_t *c, double clients, double *deviation_pct);

/* The value of one indicator for period p as the charts show it (a contract-level report's, else the clients' mean):
 * 1 with *value, 0 when nothing was reported, or a negative errno with err. */
int knoop_figures_indicator(knoop_journal_t *j, const knoop_contract_t *c, const knoop_indicator_t *ind,
                            knoop_period_t p, double *value, char *err, size_t errlen);

/* Euros rounded to cents; a percentage rounded to two decimals. */
double knoop_figures_round2(double x);
#endif
