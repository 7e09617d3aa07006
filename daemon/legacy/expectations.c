/* expectations.c — opens and closes rows of the `expectations` table in the transaction of the message that causes
 * it, from the rule table in deadlines.c; correlation is by kind, trigger message type and the two parties, the
 * trigger's Identificatie first when the answer names it, else the oldest open one (FIFO). The overdue check (a
 * periodic job, app/jobs.c) raises one alert per overdue row and marks the row in the alert's own transaction. The
 * SQL is store/expectations.c's. */
#include "legacy/expectations.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/log.h"
#include "legacy/alerts.h"
#include "legacy/deadlines.h"
#include "legacy/workdays.h"
#include "store/expectations.h"

#define OVERDUE_PER_TICK 100 /* alerts one check raises at most; the next check takes the rest */

typedef struct exp_close {
    char kind[24], trigger_type[8], owed_by[16], owed_to[16], correlation[16];
} exp_close_t;

typedef struct exp_rows {
    int nopen, nclose;
    knoop_store_expectation_t open[KNOOP_EXPECT_MAX];
    exp_close_t close[KNOOP_FULFIL_MAX];
} exp_rows_t;

static int apply_rows(knoop_jtx_t *tx, void *arg, uint64_t seq)
{
    exp_rows_t *r = arg;
    int rc = 0;
    for (int i = 0; i < r->nclose && rc == 0; i++) {
        const exp_close_t *c = &r->close[i];
        rc = knoop_store_expectation_close(tx, seq, c->kind, c->trigger_type, c->owed_by, c->owed_to, c->correlation,
                                           NULL);
    }
    for (int i = 0; i < r->nopen && rc == 0; i++)
        rc = knoop_store_expectation_open(tx, seq, &r->open[i]);
    return rc;
}

static knoop_date_t today_amsterdam(void)
{
    knoop_date_t d;
    knoop_date_from_unix_amsterdam((int64_t)(knoop_now_us() / 1000000), &d);
    return d;
}

/* The start or stop date a 305/307 reports: the first line's. */
static bool event_date(const knoop_istd_msg_t *msg, knoop_date_t *out)
{
    if (msg->n_lines == 0)
        return false;
    const char *s = msg->type->number == 307 && msg->lines[0].end[0] ? msg->lines[0].end : msg->lines[0].begin;
    return knoop_date_parse(s, out) == 0;
}

void knoop_expectations_on_message(knoop_broker_t *b, knoop_msg_op_t *m, const knoop_istd_msg_t *msg,
                                   bool retour_by_knoopd)
{
    exp_rows_t *r = calloc(1, sizeof *r);
    if (!r)
        return;
    const char *type = msg->type->name, *sender = knoop_istd_msg_sender(msg), *receiver = knoop_istd_msg_receiver(msg);
    knoop_date_t today = today_amsterdam(), ev;
    bool has_event = event_date(msg, &ev);
    knoop_expectation_t e[KNOOP_EXPECT_MAX];
    int n = knoop_deadlines_for(type, today, has_event ? &ev : NULL, e);
    for (int i = 0; i < n; i++) {
        if (e[i].kind == KNOOP_EXPECT_RETOUR && retour_by_knoopd)
            continue;
        if (e[i].fulfilled) { /* the message was itself what was due: a late start/stop report */
            if (e[i].late) {
                char text[256], due[11];
                knoop_date_format(e[i].due, due, sizeof due);
                snprintf(text, sizeof text, "%s %s from %s to %s reported late: due %s", type,
                         knoop_istd_msg_identificatie(msg), sender, receiver, due);
                knoop_alert_raise(b, knoop_expect_kind_name(e[i].kind), sender, text, NULL);
            }
            continue;
        }
        if (r->nopen >= KNOOP_EXPECT_MAX)
            break;
        knoop_store_expectation_t *o = &r->open[r->nopen++];
        snprintf(o->kind, sizeof o->kind, "%s", knoop_expect_kind_name(e[i].kind));
        snprintf(o->trigger_type, sizeof o->trigger_type, "%s", type);
        snprintf(o->trigger_id, sizeof o->trigger_id, "%s", knoop_istd_msg_identificatie(msg));
        /* Owed by the receiver of the trigger, to its sender. */
        snprintf(o->owed_by, sizeof o->owed_by, "%s", receiver);
        snprintf(o->owed_to, sizeof o->owed_to, "%s", sender);
        size_t used = 0;
        for (size_t k = 0; k < e[i].n_types; k++)
            used +=
                (size_t)snprintf(o->expected + used, sizeof o->expected - used, "%s%s", k ? "," : "", e[i].types[k]);
        knoop_date_format(e[i].due, o->due, sizeof o->due);
    }
    knoop_fulfilment_t f[KNOOP_FULFIL_MAX];
    int nf = knoop_deadlines_fulfilled_by(type, f);
    for (int i = 0; i < nf && r->nclose < KNOOP_FULFIL_MAX; i++) {
        exp_close_t *c = &r->close[r->nclose++];
        snprintf(c->kind, sizeof c->kind, "%s", knoop_expect_kind_name(f[i].kind));
        snprintf(c->trigger_type, sizeof c->trigger_type, "%s", f[i].trigger_type);
        snprintf(c->owed_by, sizeof c->owed_by, "%s", sender);
        snprintf(c->owed_to, sizeof c->owed_to, "%s", receiver);
        snprintf(c->correlation, sizeof c->correlation, "%s",
                 msg->identificatie_retour[0] ? msg->identificatie_retour : "");
    }
    if (r->nopen == 0 && r->nclose == 0) {
        free(r);
        return;
    }
    int slot = m->extras[0].apply ? 1 : 0;
    m->extras[slot].apply = apply_rows;
    m->extras[slot].arg = r;
}

/* ---- overdue ------------------------------------------------------------------------------------------------ */

static int apply_alerted(knoop_jtx_t *tx, void *arg, uint64_t seq)
{
    (void)seq;
    return knoop_store_expectation_alerted(tx, *(const int64_t *)arg);
}

/* An alert that failed to store leaves its row unalerted: the next check raises it again. */
static void alert_stored(knoop_broker_t *b, void *arg, int status)
{
    (void)arg, (void)status;
    b->expectation_alerts_in_flight--;
}

void knoop_expectations_tick(knoop_broker_t *b)
{
    /* Rows whose alerts are still queued are not alerted in the journal yet: wait until they are, rather than
     * remember which they were. */
    if (b->expectation_alerts_in_flight > 0)
        return;
    char today[11];
    knoop_date_format(today_amsterdam(), today, sizeof today);
    knoop_store_expectation_t *rows = malloc(OVERDUE_PER_TICK * sizeof *rows);
    if (!rows)
        return;
    int n = knoop_store_expectations_overdue(b->journal, today, rows, OVERDUE_PER_TICK);
    if (n < 0)
        knoop_log_error("expectations.overdue", "error=\"%s\"", strerror(-n));
    for (int i = 0; i < n; i++) {
        const knoop_store_expectation_t *e = &rows[i];
        char text[320];
        snprintf(text, sizeof text, "%s overdue: %s owes %s a %s for %s %s (due %s)", e->kind, e->owed_by, e->owed_to,
                 e->expected, e->trigger_type, e->trigger_id, e->due);
        int64_t *id = malloc(sizeof *id);
        if (!id)
            break;
        *id = e->id;
        knoop_alert_extra_t extra = {.apply = apply_alerted, .stored = alert_stored, .arg = id};
        if (knoop_alert_raise(b, "deadline-overdue", e->owed_by, text, &extra) != 0)
            break;
        b->expectation_alerts_in_flight++;
    }
    free(rows);
}
