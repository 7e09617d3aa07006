/* control_legacy.c — control commands for the legacy standards and knoopd's own alerts: `deadlines` (what is owed,
 * by whom, until when, and what is overdue) and `alerts` (the latest entries of the alerts stream). The rows come
 * from store/expectations_view.h and store/alerts_view.h; this file turns them into tables. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/broker.h"
#include "control/control.h"
#include "control/control_args.h"
#include "control/control_table.h"
#include "legacy/workdays.h"
#include "base/clock.h"
#include "deliver/streams.h"
#include "store/alerts_view.h"
#include "store/expectations_view.h"

#define DEADLINES_MAX 1000 /* rows one `deadlines` shows */
#define ALERTS_MAX    10000

typedef struct deadline_rows {
    json_t *table;
    knoop_date_t today;
} deadline_rows_t;

static void add_deadline(void *ctx, const knoop_store_expectation_t *e)
{
    deadline_rows_t *r = ctx;
    knoop_date_t due;
    bool dated = knoop_date_parse(e->due, &due) == 0; /* the legacy layer writes YYYY-MM-DD; else no arithmetic */
    int left = dated ? knoop_working_days_between(r->today, due) : 0;
    const char *status = e->closed ? "closed" : dated && r->today.days > due.days ? "overdue" : "open";
    char trigger[40];
    snprintf(trigger, sizeof trigger, "%s %s", e->trigger_type, e->trigger_id);
    knoop_table_add(r->table, json_pack("[I,s,s,s,s,s,s,i,s]", (json_int_t)e->id, e->kind, trigger, e->owed_by,
                                        e->owed_to, e->expected, e->due, e->closed ? 0 : left, status));
}

/* deadlines [--all] */
json_t *knoop_cmd_deadlines(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    bool all;
    const knoop_ctl_opt_t opts[] = {{"--all", NULL, &all}, {NULL, NULL, NULL}};
    if (knoop_ctl_args(argc, argv, opts, NULL, 0, error, errlen) != 0)
        return NULL;
    deadline_rows_t r = {.table =
                             knoop_table_new((const char *[]){"id", "kind", "trigger", "owed_by", "owed_to", "expected",
                                                              "due", "working_days_left", "status", NULL})};
    if (knoop_date_from_unix_amsterdam((int64_t)(knoop_now_us() / 1000000), &r.today) != 0) {
        json_decref(r.table);
        snprintf(error, errlen, "cannot tell today's date in Europe/Amsterdam");
        return NULL;
    }
    if (knoop_store_expectations_list(b->journal, all, DEADLINES_MAX, add_deadline, &r, error, errlen) != 0) {
        json_decref(r.table);
        return NULL;
    }
    return r.table;
}

static const char *field(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static void add_alert(void *ctx, const knoop_store_alert_t *a)
{
    Knoop__Envelope *env = knoop__envelope__unpack(NULL, a->envelope_len, a->envelope);
    json_t *o = env ? json_loadb((const char *)env->payload.data, env->payload.len, 0, NULL) : NULL;
    knoop_table_add(ctx, json_pack("[I,I,s,s,s]", (json_int_t)a->seq, (json_int_t)a->accepted_us, field(o, "type"),
                                   field(o, "about"), field(o, "text")));
    json_decref(o);
    if (env)
        knoop__envelope__free_unpacked(env, NULL);
}

/* alerts [N] */
json_t *knoop_cmd_alerts(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    const char *n_text;
    const knoop_ctl_opt_t opts[] = {{NULL, NULL, NULL}};
    int64_t limit = 50;
    if (knoop_ctl_args(argc, argv, opts, &n_text, 1, error, errlen) != 0 ||
        (n_text && knoop_ctl_number("alerts N", n_text, 1, ALERTS_MAX, &limit, error, errlen) != 0))
        return NULL;
    json_t *t = knoop_table_new((const char *[]){"seq", "at_us", "type", "about", "text", NULL});
    knoop_stream_t *s = knoop_stream_get(b, "alerts", false);
    if (s && knoop_store_alerts_latest(b->journal, s->id, limit, add_alert, t, error, errlen) != 0) {
        json_decref(t);
        return NULL;
    }
    return t;
}
