/* signals.h — what the financier must hear once: the band crossed (clients in care against the agreed volume, at the
 * end of a period: Goeree above +5 % or below -10 %), 80 % and 100 % of a budget period used, a watched indicator
 * falling from one period's report to the next (Brunssum's reach), and a period's report overdue by the calendar.
 * This module decides; the finance job (legacy/finance_job.c) checks each against the journal (raised before?) and
 * publishes it on the financier's signals stream and on `alerts`. */
#ifndef KNOOP_FINANCE_SIGNALS_H
#define KNOOP_FINANCE_SIGNALS_H
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "config/network.h"
#include "finance/calendar.h"
#include "store/journal.h"

typedef struct knoop_signal {
    char kind[KNOOP_NAME_MAX + 8]; /* budget-band-above, budget-band-below, budget-80, budget-100, falling:<indicator>,
                                      report-overdue */
    char period[11];               /* the first day of the period it concerns: with contract and kind, its identity */
    char text[400];                /* for people: names the contract, the figures and the period; never a client */
} knoop_signal_t;

/* The band of a completed period, from its figures (figures.h): a signal when the clients at its end are outside the
 * band on a side the period before was not (a period before `since`, the day knoopd first saw the contract, counts as
 * within). 0 or 1 signals into out. */
size_t knoop_signal_band(const knoop_contract_t *c, const json_t *figures, int32_t since, knoop_signal_t *out);

/* 80 % and 100 % of the budget period holding today used (euros: volume x price and arrangement budgets). Up to 2
 * into out; a negative errno with err on a journal error. */
int knoop_signal_use(knoop_journal_t *j, const knoop_contract_t *c, int32_t today, knoop_signal_t *out, size_t max,
                     char *err, size_t errlen);

/* Over the completed periods that ended on or after since (at most the last KNOOP_FIGURES_SERIES): a watched indicator
 * lower than in the period before, and a report not arrived due_days after its period ended. Up to max into out;
 * returns how many, or a negative errno with err. */
int knoop_signal_outcomes(knoop_journal_t *j, const knoop_contract_t *c, int32_t since, int32_t today,
                          knoop_signal_t *out, size_t max, char *err, size_t errlen);
#endif
