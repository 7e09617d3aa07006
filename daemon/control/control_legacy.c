/* control_legacy.c — control commands for the legacy standards and knoopd's own alerts: `deadlines` (what is owed,
 * by whom, until when, and what is overdue) and `alerts` (the latest entries of the alerts stream). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/journal_sql.h"
#include "core/broker.h"
#include "control/control.h"
#include "control/control_table.h"
#include "legacy/workdays.h"
#include "base/clock.h"
#include "deliver/streams.h"

json_t *knoop_cmd_deadlines(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    bool all = argc > 0 && strcmp(argv[0], "--all") == 0;
    sqlite3 *db = knoop_journal_reader(b->journal);
    sqlite3_stmt *st;
    const char *sql = all ? "SELECT id, kind, trigger_type, trigger_id, owed_by, owed_to, expected, due, closed_seq, "
                            "alerted FROM expectations ORDER BY id DESC LIMIT 1000"
                          : "SELECT id, kind, trigger_type, trigger_id, owed_by, owed_to, expected, due, closed_seq, "
                            "alerted FROM expectations WHERE closed_seq IS NULL ORDER BY due, id LIMIT 1000";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(error, errlen, "%s", sqlite3_errmsg(db));
        return NULL;
    }
    knoop_date_t today;
    knoop_date_from_unix_amsterdam((int64_t)(knoop_now_us() / 1000000), &today);
    json_t *t = knoop_table_new((const char *[]){"id", "kind", "trigger", "owed_by", "owed_to", "expected", "due",
                                                 "working_days_left", "status", NULL});
    while (sqlite3_step(st) == SQLITE_ROW) {
        knoop_date_t due;
        const char *due_s = (const char *)sqlite3_column_text(st, 7);
        int left = knoop_date_parse(due_s, &due) == 0 ? knoop_working_days_between(today, due) : 0;
        bool closed = sqlite3_column_type(st, 8) != SQLITE_NULL;
        const char *status = closed ? "closed" : today.days > due.days ? "overdue" : "open";
        char trigger[40];
        snprintf(trigger, sizeof trigger, "%s %s", (const char *)sqlite3_column_text(st, 2),
                 (const char *)sqlite3_column_text(st, 3));
        knoop_table_add(t, json_pack("[I,s,s,s,s,s,s,i,s]", sqlite3_column_int64(st, 0), sqlite3_column_text(st, 1),
                                     trigger, sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
                                     sqlite3_column_text(st, 6), due_s, closed ? 0 : left, status));
    }
    sqlite3_finalize(st);
    return t;
}

static const char *field(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

json_t *knoop_cmd_alerts(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    long limit = argc > 0 ? strtol(argv[0], NULL, 10) : 50;
    if (limit <= 0 || limit > 10000)
        limit = 50;
    knoop_stream_t *s = knoop_stream_get(b, "alerts", false);
    json_t *t = knoop_table_new((const char *[]){"seq", "at_us", "type", "about", "text", NULL});
    if (!s)
        return t;
    sqlite3 *db = knoop_journal_reader(b->journal);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT m.seq, m.accepted_us, m.envelope FROM stream_entries e JOIN messages m ON "
                           "m.seq = e.seq WHERE e.stream_id = ? ORDER BY e.seq DESC LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK) {
        json_decref(t);
        snprintf(error, errlen, "%s", sqlite3_errmsg(db));
        return NULL;
    }
    sqlite3_bind_int64(st, 1, s->id);
    sqlite3_bind_int64(st, 2, limit);
    while (sqlite3_step(st) == SQLITE_ROW) {
        Knoop__Envelope *env =
            knoop__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 2), sqlite3_column_blob(st, 2));
        json_t *a = env ? json_loadb((const char *)env->payload.data, env->payload.len, 0, NULL) : NULL;
        knoop_table_add(t, json_pack("[I,I,s,s,s]", sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                     field(a, "type"), field(a, "about"), field(a, "text")));
        json_decref(a);
        if (env)
            knoop__envelope__free_unpacked(env, NULL);
    }
    sqlite3_finalize(st);
    return t;
}
