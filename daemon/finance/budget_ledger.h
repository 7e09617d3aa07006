/* budget_ledger.h — the budget ledger fed by the messages: what a message means for a contract's budget, turned into rows
 * written in that message's transaction (an op extra, ingest/message_op.h). A native PlanUpdate starts or stops a
 * client's care or changes its intensity (the provider's call: light -> medium replaces the product of its group);
 * an OutcomeReport's values are kept per reported period; an iWmo/iJw 305/307 starts or stops care and a 323 line
 * adds units and euros (tariff x units, and what was declared). Rows of a product billed per ride add units only. */
#ifndef KNOOP_FINANCE_BUDGET_LEDGER_H
#define KNOOP_FINANCE_BUDGET_LEDGER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/network.h"
#include "core/broker.h"
#include "knoop.pb-c.h"
#include "store/journal.h"

typedef struct knoop_budget_rows knoop_budget_rows_t; /* one block: freed with free() (an op's extras) */

/* A native message under contract (its name, "" for none): the rows it feeds, or NULL when none (not a PlanUpdate or
 * OutcomeReport, no contract, no budget or calendar, out of memory). publisher / receiver say who the provider side
 * is; today is the day an undated change counts for. */
knoop_budget_rows_t *knoop_budget_native(const knoop_network_t *net, const char *contract, const Knoop__Envelope *env,
                                         const char *publisher, const uint8_t *client_ref, int32_t today);

/* The same for the ingest pipeline: b's network, today as the UTC day (an undated intensity change only). */
knoop_budget_rows_t *knoop_budget_of_message(const knoop_broker_t *b, const Knoop__Envelope *env, const char *publisher,
                                             const char *contract, const uint8_t *client_ref);

/* One line of an accepted iWmo/iJw message, as the adapter decoded it. */
typedef struct knoop_budget_line {
    int number; /* 305 start, 307 stop, 323 declaration line; others are ignored */
    const uint8_t *client_ref;
    size_t client_ref_len;
    const char *code;  /* ProductCode ("" for an aspecific line) */
    const char *begin; /* 305/307 Begindatum, 323 ProductPeriode Begindatum (YYYY-MM-DD) */
    const char *end;   /* 307 Einddatum, 323 ProductPeriode Einddatum, or "" */
    long long volume;  /* 323 GeleverdVolume (-1 none) */
    long long bedrag;  /* 323 IngediendBedrag in eurocents (negative: credit) */
} knoop_budget_line_t;

/* The rows of an accepted iWmo/iJw message between sender and receiver under contract; NULL when none. */
knoop_budget_rows_t *knoop_budget_istd(const knoop_network_t *net, const char *contract, const char *sender,
                                       const char *receiver, const knoop_budget_line_t *lines, size_t n);

/* The op extra (writer thread): writes the rows (store/budget.h, store/finance.h). 0 or a negative errno. */
int knoop_budget_apply(knoop_jtx_t *tx, void *rows, uint64_t seq);
/* How many rows a block holds (tests). */
size_t knoop_budget_count(const knoop_budget_rows_t *rows);
#endif
