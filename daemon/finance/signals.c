/* signals.c — the rules behind each signal, one function per family; the texts name the contract, the period and the
 * figures so that the financier can act on them without opening a report. */
#include "finance/signals.h"
#include <stdio.h>
#include <string.h>
#include "base/civil.h"
#include "finance/figures.h"
#include "store/budget.h"
#include "store/finance.h"

static void set(knoop_signal_t *s, const char *kind, int32_t period_start)
{
    memset(s, 0, sizeof *s);
    snprintf(s->kind, sizeof s->kind, "%s", kind);
    knoop_civil_format(period_start, s->period);
}

size_t knoop_signal_band(const knoop_contract_t *c, const json_t *figures, int32_t since, knoop_signal_t *out)
{
    if (!c->budget.present || c->budget.volume == 0)
        return 0;
    const json_t *series = json_object_get(figures, "series");
    size_t n = json_array_size(series);
    if (n == 0)
        return 0;
    const json_t *now = json_array_get(series, n - 1), *before = n > 1 ? json_array_get(series, n - 2) : NULL;
    int32_t start, before_end = 0;
    if (knoop_civil_parse(json_string_value(json_object_get(now, "start")), &start) != 0)
        return 0;
    double clients = (double)json_integer_value(json_object_get(now, "clients")), dev = 0;
    const char *band = knoop_figures_band(c, clients, &dev);
    if (strcmp(band, "within") == 0)
        return 0;
    const char *was = "within";
    if (before && knoop_civil_parse(json_string_value(json_object_get(before, "end")), &before_end) == 0 &&
        before_end >= since)
        was = knoop_figures_band(c, (double)json_integer_value(json_object_get(before, "clients")), NULL);
    if (strcmp(was, band) == 0)
        return 0; /* still on the same side: the crossing was signalled with the period it happened in */
    bool above = strcmp(band, "above") == 0;
    set(out, above ? "budget-band-above" : "budget-band-below", start);
    snprintf(out->text, sizeof out->text,
             "contract '%s': %.0f clients in care on %s, %+.2f %% against the %u contracted (band +%g %% / -%g %%): "
             "%s the band, so the budget moves %s",
             c->name, clients, json_string_value(json_object_get(now, "end")), dev, c->budget.volume,
             c->budget.band_above_pct, c->budget.band_below_pct, above ? "above" : "below", above ? "up" : "down");
    return 1;
}

static void sum_use(void *arg, const char *product, const char *member, double units, int64_t amount, int64_t declared)
{
    (void)product, (void)member, (void)units, (void)declared;
    *(int64_t *)arg += amount;
}

int knoop_signal_use(knoop_journal_t *j, const knoop_contract_t *c, int32_t today, knoop_signal_t *out, size_t max,
                     char *err, size_t errlen)
{
    if (!c->budget.present || c->budget.model == KNOOP_MODEL_LUMP_SUM || !(c->budget.amount > 0))
        return 0; /* a lump sum has no euros spent to count: it is paid, not used */
    knoop_period_t bp = knoop_calendar_budget_period_of(c, today);
    int64_t used = 0;
    int rc = knoop_store_budget_use_sum(j, c->name, bp.start, bp.end, sum_use, &used, err, errlen);
    if (rc != 0)
        return rc;
    double pct = (double)used / 100.0 / c->budget.amount * 100.0;
    static const struct {
        double pct;
        const char *kind;
    } marks[] = {{80, "budget-80"}, {100, "budget-100"}};
    size_t n = 0;
    char from[11], to[11];
    knoop_civil_format(bp.start, from);
    knoop_civil_format(bp.end, to);
    for (size_t i = 0; i < sizeof marks / sizeof marks[0] && n < max; i++)
        if (pct >= marks[i].pct) {
            set(&out[n], marks[i].kind, bp.start);
            snprintf(out[n].text, sizeof out[n].text,
                     "contract '%s': %.2f %% of the budget for %s..%s used (EUR %.2f of EUR %.2f)", c->name, pct, from,
                     to, (double)used / 100.0, c->budget.amount);
            n++;
        }
    return (int)n;
}

int knoop_signal_outcomes(knoop_journal_t *j, const knoop_contract_t *c, int32_t since, int32_t today,
                          knoop_signal_t *out, size_t max, char *err, size_t errlen)
{
    if (!c->indicator_set)
        return 0;
    /* the completed periods that ended on or after since, the latest KNOOP_FIGURES_SERIES of them */
    knoop_period_t ps[KNOOP_FIGURES_SERIES];
    size_t np = 0;
    for (knoop_period_t q = knoop_calendar_prev(c, knoop_calendar_period_of(c, today));
         q.end >= since && np < KNOOP_FIGURES_SERIES; q = knoop_calendar_prev(c, q))
        ps[np++] = q;
    size_t n = 0;
    for (size_t i = 0; i < np && n < max; i++) {
        knoop_period_t q = ps[i];
        char label[40], due[11];
        knoop_calendar_label(c, q, label, sizeof label);
        int rc = knoop_store_finance_reported(j, c->name, q.start, q.end, err, errlen);
        if (rc < 0)
            return rc;
        if (rc == 0 && today > q.end + (int32_t)c->due_days) {
            set(&out[n], "report-overdue", q.start);
            knoop_civil_format(q.end + (int32_t)c->due_days, due);
            snprintf(out[n].text, sizeof out[n].text,
                     "contract '%s': the %s report for %s was due %s and has not arrived (indicator set '%s')", c->name,
                     knoop_cadence_name(knoop_calendar_cadence(c)), label, due, c->indicator_set->name);
            n++;
        }
        knoop_period_t prev = knoop_calendar_prev(c, q);
        for (size_t w = 0; rc == 1 && w < c->n_watch && n < max; w++) {
            double now = 0, then = 0;
            int a = knoop_figures_indicator(j, c, c->watch[w], q, &now, err, errlen);
            int b = a == 1 ? knoop_figures_indicator(j, c, c->watch[w], prev, &then, err, errlen) : 0;
            if (a < 0 || b < 0)
                return a < 0 ? a : b;
            if (a == 1 && b == 1 && now < then) {
                char was[40], kind[KNOOP_NAME_MAX + 8];
                knoop_calendar_label(c, prev, was, sizeof was);
                snprintf(kind, sizeof kind, "falling:%s", c->watch[w]->name);
                set(&out[n], kind, q.start);
                snprintf(out[n].text, sizeof out[n].text, "contract '%s': %s fell from %g (%s) to %g (%s)", c->name,
                         c->watch[w]->name, then, was, now, label);
                n++;
            }
        }
    }
    return (int)n;
}
