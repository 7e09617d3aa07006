/* expectations.c — opens and closes rows of the `expectations` table in the transaction of the message that causes
 * it, from the rule table in deadlines.c; correlation is by kind, trigger message type and the two parties, the
 * trigger's Identificatie first when the answer names it, else the oldest open one (FIFO). */
#include "store/journal_sql.h"
#include "legacy/expectations.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "legacy/alerts.h"
#include "legacy/deadlines.h"
#include "base/log.h"
#include "legacy/workdays.h"
#include "base/clock.h"

typedef struct exp_open {
    char kind[24], trigger_type[8], trigger_id[16], owed_by[16], owed_to[16], expected[24], due[11];
} exp_open_t;

typedef struct exp_close {
    char kind[24], trigger_type[8], owed_by[16], owed_to[16], correlation[16];
} exp_close_t;

typedef struct exp_rows {
    int nopen, nclose;
    exp_open_t open[KNOOP_EXPECT_MAX];
    exp_close_t close[KNOOP_FULFIL_MAX];
} exp_rows_t;

static int apply_rows(knoop_jtx_t *tx, void *arg, uint64_t seq)
{
    exp_rows_t *r = arg;
    for (int i = 0; i < r->nclose; i++) {
        sqlite3_stmt *st =
            knoop_jtx_stmt(tx, "UPDATE expectations SET closed_seq = ?1 WHERE id = (SELECT id FROM "
                               "expectations WHERE closed_seq IS NULL AND kind = ?2 AND trigger_type = ?3 "
                               "AND owed_by = ?4 AND owed_to = ?5 ORDER BY (trigger_id = ?6) DESC, id "
                               "LIMIT 1)");
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
        sqlite3_bind_text(st, 2, r->close[i].kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->close[i].trigger_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->close[i].owed_by, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->close[i].owed_to, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r->close[i].correlation, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            return -EIO;
    }
    for (int i = 0; i < r->nopen; i++) {
        sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO expectations(kind, trigger_seq, trigger_type, trigger_id, "
                                              "owed_by, owed_to, expected, due) VALUES(?,?,?,?,?,?,?,?)");
        if (!st)
            return -EIO;
        sqlite3_bind_text(st, 1, r->open[i].kind, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
        sqlite3_bind_text(st, 3, r->open[i].trigger_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, r->open[i].trigger_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, r->open[i].owed_by, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r->open[i].owed_to, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, r->open[i].expected, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, r->open[i].due, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            return -EIO;
    }
    return 0;
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
                knoop_alert_raise(b, knoop_expect_kind_name(e[i].kind), sender, text, NULL, NULL);
            }
            continue;
        }
        if (r->nopen >= KNOOP_EXPECT_MAX)
            break;
        exp_open_t *o = &r->open[r->nopen++];
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

typedef struct alerted_row {
    int64_t id;
} alerted_row_t;

static int apply_alerted(knoop_jtx_t *tx, void *arg, uint64_t seq)
{
    (void)seq;
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "UPDATE expectations SET alerted = 1 WHERE id = ?");
    if (!st)
        return -EIO;
    sqlite3_bind_int64(st, 1, ((alerted_row_t *)arg)->id);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
}

void knoop_expectations_tick(knoop_broker_t *b)
{
    char today[11];
    knoop_date_format(today_amsterdam(), today, sizeof today);
    sqlite3_stmt *st;
    sqlite3 *db = knoop_journal_reader(b->journal);
    /* alerted = 0 only for rows not already queued: mark them in memory by raising at most 100 per tick. */
    if (sqlite3_prepare_v2(db,
                           "SELECT id, kind, trigger_type, trigger_id, owed_by, owed_to, expected, due FROM "
                           "expectations WHERE closed_seq IS NULL AND alerted = 0 AND due < ? ORDER BY id "
                           "LIMIT 100",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id <= b->expectations_alerted_upto)
            continue; /* queued by an earlier tick, not yet committed */
        b->expectations_alerted_upto = id;
        char text[320];
        snprintf(text, sizeof text, "%s overdue: %s owes %s a %s for %s %s (due %s)",
                 (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 4),
                 (const char *)sqlite3_column_text(st, 5), (const char *)sqlite3_column_text(st, 6),
                 (const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
                 (const char *)sqlite3_column_text(st, 7));
        alerted_row_t *a = malloc(sizeof *a);
        if (!a)
            break;
        a->id = id;
        knoop_alert_raise(b, "deadline-overdue", (const char *)sqlite3_column_text(st, 4), text, apply_alerted, a);
    }
    sqlite3_finalize(st);
}
