/* finance_job.c — the finance layer's decisions (finance/) made into messages: a period report (kind OTHER,
 * knoop.finance.Report, the figures as JSON) on reports.<financier> and each co-financier's, a signal (kind ALERT,
 * knoop.finance.Signal) on signals.<financier>, the co-financiers' and `alerts`. Each is journaled with the row that
 * says it was published (store/finance.h) in its own transaction, so a restart neither loses nor repeats one. A
 * contract's calendar counts from the day knoopd first saw it (finance_contracts): periods that ended before knoopd
 * brokered the contract are nobody's report. Runs here, above ingest, because publishing is the message op's. */
#include "legacy/finance_job.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/civil.h"
#include "base/clock.h"
#include "base/log.h"
#include "deliver/streams.h"
#include "finance/calendar.h"
#include "finance/figures.h"
#include "finance/signals.h"
#include "ingest/message_op.h"
#include "legacy/workdays.h"
#include "store/finance.h"

#define SIGNALS_MAX 32

void knoop_finance_stream(const char *what, const char *code, char *buf, size_t len)
{
    snprintf(buf, len, "%s.%s", what, code);
}

/* ---- the rows written with a message ---- */

typedef struct mark_row {
    char contract[KNOOP_NAME_MAX], kind[KNOOP_NAME_MAX + 8], period[11];
} mark_row_t;

static int mark_apply(knoop_jtx_t *tx, void *arg, uint64_t seq)
{
    const mark_row_t *m = arg;
    int rc = knoop_store_finance_mark(tx, m->contract, m->kind, m->period, seq);
    return rc < 0 ? rc : 0;
}

typedef struct report_row {
    char contract[KNOOP_NAME_MAX];
    int32_t period_day;
    char figures[]; /* the published JSON */
} report_row_t;

static int report_apply(knoop_jtx_t *tx, void *arg, uint64_t seq)
{
    const report_row_t *r = arg;
    int rc = knoop_store_finance_report_put(tx, r->contract, r->period_day, seq, r->figures);
    return rc < 0 ? rc : 0;
}

static void stored(knoop_broker_t *b, knoop_msg_op_t *m, int status, void *arg)
{
    (void)arg;
    b->finance_in_flight--;
    if (status != 0)
        knoop_log_error("finance.not_stored", "type=%s status=%d", m->message_type, status);
}

/* Queues one message from knoopd to the streams of the contract's financiers (what: "signals" / "reports") and, for a
 * signal, `alerts`; row (owned from the call on) is written with it by apply. 0 or -ENOMEM. */
static int publish(knoop_broker_t *b, const knoop_contract_t *c, const char *what, int kind, const char *message_type,
                   const char *payload, int (*apply)(knoop_jtx_t *, void *, uint64_t), void *row)
{
    char ct[64], name[KNOOP_ROUTE_STREAM_NAME_MAX];
    snprintf(ct, sizeof ct, "application/json; %s", message_type);
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    env.sender = (char *)"knoopd";
    env.receiver = (char *)c->financier->code;
    env.kind = (Knoop__Kind)kind;
    env.message_type = (char *)message_type;
    env.content_type = ct;
    env.payload.data = (uint8_t *)payload;
    env.payload.len = strlen(payload);
    knoop_route_result_t route;
    memset(&route, 0, sizeof route);
    for (size_t k = 0; k <= c->n_co_financiers; k++) {
        knoop_finance_stream(what, k == 0 ? c->financier->code : c->co_financiers[k - 1]->code, name, sizeof name);
        knoop_stream_t *s = knoop_stream_get(b, name, true);
        if (s && route.nstreams < KNOOP_ROUTE_STREAMS_MAX)
            route.streams[route.nstreams++] = s;
    }
    knoop_stream_t *alerts = strcmp(what, "signals") == 0 ? knoop_stream_get(b, "alerts", true) : NULL;
    if (alerts && route.nstreams < KNOOP_ROUTE_STREAMS_MAX)
        route.streams[route.nstreams++] = alerts;
    snprintf(route.explain, sizeof route.explain, "finance %s of contract '%s'", message_type, c->name);
    knoop_msg_op_t *m = knoop_message_build(b, NULL, 0, &env, NULL, &route, stored, NULL);
    if (!m) {
        free(row);
        return -ENOMEM;
    }
    if (knoop_message_add_extra(m, apply, row) != 0) {
        knoop_message_free(m);
        return -ENOMEM;
    }
    b->finance_in_flight++;
    knoop_message_queue(b, m);
    return 0;
}

static int raise_signal(knoop_broker_t *b, const knoop_contract_t *c, const knoop_signal_t *s)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "type", s->kind, "about", c->financier->code, "text",
                          s->text, "at_us", (json_int_t)knoop_now_us(), "contract", c->name, "period", s->period,
                          "financier", c->financier->code);
    char *payload = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    mark_row_t *row = calloc(1, sizeof *row);
    if (!payload || !row) {
        free(payload);
        free(row);
        return -ENOMEM;
    }
    snprintf(row->contract, sizeof row->contract, "%s", c->name);
    snprintf(row->kind, sizeof row->kind, "%s", s->kind);
    snprintf(row->period, sizeof row->period, "%s", s->period);
    knoop_log_warn("finance.signal", "contract=%s kind=%s period=%s text=\"%s\"", c->name, s->kind, s->period, s->text);
    int rc = publish(b, c, "signals", KNOOP__KIND__ALERT, "knoop.finance.Signal", payload, mark_apply, row);
    free(payload);
    return rc;
}

static int publish_report(knoop_broker_t *b, const knoop_contract_t *c, knoop_period_t p, const json_t *figures)
{
    char *payload = json_dumps(figures, JSON_COMPACT | JSON_REAL_PRECISION(15));
    size_t len = payload ? strlen(payload) : 0;
    report_row_t *row = payload ? calloc(1, sizeof *row + len + 1) : NULL;
    if (!row) {
        free(payload);
        return -ENOMEM;
    }
    snprintf(row->contract, sizeof row->contract, "%s", c->name);
    row->period_day = p.start;
    memcpy(row->figures, payload, len + 1);
    char label[40];
    knoop_calendar_label(c, p, label, sizeof label);
    knoop_log_info("finance.report", "contract=%s period=%s", c->name, label);
    int rc = publish(b, c, "reports", KNOOP__KIND__OTHER, "knoop.finance.Report", payload, report_apply, row);
    free(payload);
    return rc;
}

/* ---- the first day a contract was seen ---- */

typedef struct since_op {
    knoop_jop_t op; /* first member */
    int32_t day;
    size_t n;
    char names[][KNOOP_NAME_MAX];
} since_op_t;

static int since_apply(knoop_jtx_t *tx, knoop_jop_t *op)
{
    since_op_t *s = (since_op_t *)op;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->n; i++)
        rc = knoop_store_finance_since_put(tx, s->names[i], s->day);
    return rc;
}

static void since_done(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    b->finance_in_flight--;
    if (status != 0)
        knoop_log_error("finance.since_not_stored", "status=%d", status);
    free(op);
}

/* ---- one contract ---- */

/* Does knoopd keep figures for it? A budget or a reporting calendar. */
static bool followed(const knoop_contract_t *c)
{
    return c->budget.present || c->indicator_set;
}

/* Publishes what is due for c; *budget counts down the messages this run may still queue. */
static void contract_tick(knoop_broker_t *b, const knoop_contract_t *c, int32_t since, int32_t today, int *budget)
{
    knoop_journal_t *j = b->journal;
    const knoop_network_t *net = b->config->network;
    char err[256] = "";
    knoop_signal_t sig[SIGNALS_MAX];
    /* period reports, oldest first; a band crossing is raised (and stored) before its period's report */
    int32_t last = 0;
    int rc = knoop_store_finance_last_report(j, c->name, &last, err, sizeof err);
    knoop_period_t p =
        rc == 1 ? knoop_calendar_next(c, knoop_calendar_period_of(c, last)) : knoop_calendar_period_of(c, since);
    for (; rc >= 0 && p.end<today && * budget> 0; p = knoop_calendar_next(c, p)) {
        json_t *f = knoop_figures_compose(j, net, c, p, today, err, sizeof err);
        if (!f) {
            rc = -EIO;
            break;
        }
        size_t n = knoop_signal_band(c, f, since, sig);
        int marked = n ? knoop_store_finance_marked(j, c->name, sig[0].kind, sig[0].period, err, sizeof err) : 1;
        if (marked == 0) {
            if (raise_signal(b, c, &sig[0]) == 0)
                (*budget)--;
            json_decref(f);
            break; /* the report follows once the signal is stored */
        }
        if (marked >= 0 && publish_report(b, c, p, f) == 0)
            (*budget)--;
        json_decref(f);
        if (marked < 0)
            rc = marked;
    }
    /* budget use and outcome reports, live */
    int n = rc < 0 ? rc : knoop_signal_use(j, c, today, sig, SIGNALS_MAX, err, sizeof err);
    if (n >= 0) {
        int m = knoop_signal_outcomes(j, c, since, today, sig + n, SIGNALS_MAX - (size_t)n, err, sizeof err);
        n = m < 0 ? m : n + m;
    }
    for (int i = 0; i<n && * budget> 0; i++) {
        int marked = knoop_store_finance_marked(j, c->name, sig[i].kind, sig[i].period, err, sizeof err);
        if (marked == 0 && raise_signal(b, c, &sig[i]) == 0)
            (*budget)--;
        if (marked < 0)
            n = marked;
    }
    if (rc < 0 || n < 0)
        knoop_log_error("finance.tick", "contract=%s error=\"%s\"", c->name, err);
}

void knoop_finance_tick(knoop_broker_t *b)
{
    const knoop_network_t *net = b->config->network;
    if (!net || b->finance_in_flight > 0)
        return;
    knoop_date_t d;
    if (knoop_date_from_unix_amsterdam((int64_t)(knoop_now_us() / 1000000), &d) != 0)
        return;
    int32_t today = d.days;
    size_t nc = knoop_network_contract_count(net);
    since_op_t *fresh = calloc(1, sizeof *fresh + nc * sizeof fresh->names[0]);
    if (!fresh)
        return;
    int budget = KNOOP_FINANCE_PER_TICK;
    char err[256];
    for (size_t i = 0; i < nc; i++) {
        const knoop_contract_t *c = knoop_network_contract_at(net, i);
        if (!followed(c))
            continue;
        int32_t since = 0;
        int rc = knoop_store_finance_since(b->journal, c->name, &since, err, sizeof err);
        if (rc == 0)
            snprintf(fresh->names[fresh->n++], sizeof fresh->names[0], "%s", c->name);
        else if (rc == 1)
            contract_tick(b, c, since, today, &budget);
        else
            knoop_log_error("finance.tick", "contract=%s error=\"%s\"", c->name, err);
    }
    if (fresh->n == 0) {
        free(fresh);
        return;
    }
    fresh->day = today;
    fresh->op.apply = since_apply;
    fresh->op.done = since_done;
    b->finance_in_flight++;
    knoop_journal_submit(b->journal, &fresh->op);
}
