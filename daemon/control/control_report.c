/* control_report.c — `report --contract C --period P [--format json|csv|html]`: a contract period's management
 * information. A period whose report knoopd published is shown as published (the figures journaled with it); any
 * other period is composed now from the budget ledger, marked provisional while it runs. finance/ composes and
 * renders; this file parses the arguments and picks the figures. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "control/control.h"
#include "control/control_args.h"
#include "core/broker.h"
#include "finance/calendar.h"
#include "finance/figures.h"
#include "finance/render.h"
#include "legacy/workdays.h"
#include "store/finance.h"

/* P: a day of the period (YYYY-MM-DD), YYYY, YYYY-Qn, YYYY-MM, or `current` / `last` (the last complete one). */
static int resolve_period(const knoop_contract_t *c, const char *text, int32_t today, knoop_period_t *p)
{
    if (strcmp(text, "current") == 0) {
        *p = knoop_calendar_period_of(c, today);
        return 0;
    }
    if (strcmp(text, "last") == 0) {
        *p = knoop_calendar_prev(c, knoop_calendar_period_of(c, today));
        return 0;
    }
    return knoop_calendar_parse(c, text, p);
}

json_t *knoop_cmd_report(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    const char *contract = NULL, *period = NULL, *format = NULL;
    const knoop_ctl_opt_t opts[] = {
        {"--contract", &contract, NULL}, {"--period", &period, NULL}, {"--format", &format, NULL}, {NULL, NULL, NULL}};
    if (knoop_ctl_args(argc, argv, opts, NULL, 0, error, errlen) != 0)
        return NULL;
    if (!format) /* the parser clears every option it is given */
        format = "json";
    const knoop_network_t *net = b->config->network;
    if (!net) {
        snprintf(error, errlen, "this knoopd has no network configured, so no contracts to report on");
        return NULL;
    }
    if (!contract || !period) {
        snprintf(error, errlen,
                 "report needs --contract C and --period P (a day, YYYY, YYYY-Qn, YYYY-MM, current, "
                 "last)");
        return NULL;
    }
    const knoop_contract_t *c = knoop_network_contract(net, contract);
    if (!c) {
        snprintf(error, errlen, "unknown contract '%s' (knoopctl contracts lists them)", contract);
        return NULL;
    }
    knoop_report_format_t fmt = knoop_report_format(format);
    if (!fmt) {
        snprintf(error, errlen, "--format %s: the formats are json, csv and html", format);
        return NULL;
    }
    knoop_date_t today;
    if (knoop_date_from_unix_amsterdam((int64_t)(knoop_now_us() / 1000000), &today) != 0) {
        snprintf(error, errlen, "cannot tell today's date in Europe/Amsterdam");
        return NULL;
    }
    knoop_period_t p;
    if (resolve_period(c, period, today.days, &p) != 0) {
        snprintf(error, errlen,
                 "--period %s: give a day of the period (YYYY-MM-DD), YYYY, YYYY-Qn, YYYY-MM, current or last", period);
        return NULL;
    }
    char *stored = NULL;
    int rc = knoop_store_finance_report_get(b->journal, c->name, p.start, &stored, error, errlen);
    if (rc < 0)
        return NULL;
    json_t *fig =
        stored ? json_loads(stored, 0, NULL) : knoop_figures_compose(b->journal, net, c, p, today.days, error, errlen);
    free(stored);
    if (!fig) {
        if (!error[0])
            snprintf(error, errlen, "the published report of this period does not read back");
        return NULL;
    }
    char *doc = knoop_render(fig, fmt);
    json_decref(fig);
    if (!doc) {
        snprintf(error, errlen, "out of memory rendering the report");
        return NULL;
    }
    char label[40];
    knoop_calendar_label(c, p, label, sizeof label);
    json_t *out = json_pack("{s:s, s:s, s:s, s:b, s:s}", "contract", c->name, "period", label, "format", format,
                            "published", rc == 1, "document", doc);
    free(doc);
    return out;
}
