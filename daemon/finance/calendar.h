/* calendar.h — a contract's reporting calendar: its periods (4-weekly, monthly, quarterly, yearly; monthly when the
 * contract reports nothing) counted from the start of the contract's period, and its budget periods (budget.period).
 * Days are day numbers (base/civil.h); a period holds both its first and its last day. */
#ifndef KNOOP_FINANCE_CALENDAR_H
#define KNOOP_FINANCE_CALENDAR_H
#include <stddef.h>
#include <stdint.h>
#include "config/network.h"

typedef struct knoop_period {
    int32_t start, end; /* both included */
} knoop_period_t;

/* The calendar's cadence: the outcomes' cadence, or monthly for a contract without one. */
knoop_cadence_t knoop_calendar_cadence(const knoop_contract_t *c);
/* The reporting period holding day. */
knoop_period_t knoop_calendar_period_of(const knoop_contract_t *c, int32_t day);
/* The budget period (contract budget.period: year, month, 4 weeks, ...) holding day. */
knoop_period_t knoop_calendar_budget_period_of(const knoop_contract_t *c, int32_t day);
/* The reporting period before / after p. */
knoop_period_t knoop_calendar_prev(const knoop_contract_t *c, knoop_period_t p);
knoop_period_t knoop_calendar_next(const knoop_contract_t *c, knoop_period_t p);
/* A period as people name it: "2026" (yearly), "2026-Q2", "2026-05", or "2026-03-02..2026-03-29" (4-weekly). */
void knoop_calendar_label(const knoop_contract_t *c, knoop_period_t p, char *buf, size_t len);
/* An operator's period: a day in it (YYYY-MM-DD), or a label as above for calendars whose periods are calendar years,
 * quarters or months (YYYY, YYYY-Qn, YYYY-MM: the period holding its first day). 0, or -EINVAL. */
int knoop_calendar_parse(const knoop_contract_t *c, const char *text, knoop_period_t *out);
#endif
