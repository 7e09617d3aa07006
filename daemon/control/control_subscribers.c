/* control_subscribers.c — the operator's view of durable subscribers (cursor, lag, in flight, redeliveries) and
 * `subscriber rewind`, which moves a group's cursor to a time or a seq (replay or skip) and audits it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control/audit.h"
#include "core/broker.h"
#include "control/control.h"
#include "control/control_args.h"
#include "control/control_table.h"
#include "control/control_time.h"
#include "base/log.h"
#include "deliver/delivery.h"
#include "deliver/streams.h"

json_t *knoop_cmd_subscribers(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv, (void)error, (void)errlen;
    json_t *t =
        knoop_table_new((const char *[]){"stream", "subscriber", "owner", "cursor", "lag", "in_flight", "waiting",
                                         "members", "delivered", "redeliveries", "dead_letters", "last_ack_us", NULL});
    knoop_group_iter_t it = {0};
    for (knoop_group_t *g; (g = knoop_group_next(b, &it));) {
        const knoop_stream_t *s = g->stream;
        uint64_t inflight = 0, members = 0;
        for (knoop_sub_t *m = g->members; m; m = m->next_in_group, members++)
            inflight += m->in_flight;
        knoop_table_add(t, json_pack("[s,s,s,I,I,I,I,I,I,I,I,I]", s->name, g->name, g->owner, (json_int_t)g->acked_seq,
                                     (json_int_t)(s->last_seq > g->acked_seq ? s->last_seq - g->acked_seq : 0),
                                     (json_int_t)inflight, (json_int_t)g->waiting, (json_int_t)members,
                                     (json_int_t)g->delivered, (json_int_t)g->redeliveries, (json_int_t)g->dead_letters,
                                     (json_int_t)g->last_ack_us));
    }
    knoop_table_sort(t, 0);
    return t;
}

/* subscriber rewind NAME --stream S (--to TIME | --seq N) */
json_t *knoop_cmd_subscriber_rewind(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    const char *name, *stream, *to, *seq_text;
    const knoop_ctl_opt_t opts[] = {
        {"--stream", &stream, NULL}, {"--to", &to, NULL}, {"--seq", &seq_text, NULL}, {NULL, NULL, NULL}};
    if (knoop_ctl_args(argc, argv, opts, &name, 1, error, errlen) != 0)
        return NULL;
    if (!name || !stream || (!to == !seq_text))
        return snprintf(error, errlen, "usage: subscriber rewind NAME --stream S --to TIME|--seq N"), NULL;
    knoop_stream_t *s = knoop_stream_get(b, stream, false);
    knoop_group_t *g = s ? knoop_group_find(b, s, name) : NULL;
    if (!g)
        return snprintf(error, errlen, "no durable subscriber '%s' on stream '%s'", name, stream), NULL;
    uint64_t first; /* the first seq delivered again */
    if (seq_text) {
        int64_t v;
        if (knoop_ctl_number("--seq", seq_text, 1, INT64_MAX, &v, error, errlen) != 0)
            return NULL;
        first = (uint64_t)v;
    } else {
        int64_t us;
        if (knoop_time_parse_us(to, &us) != 0)
            return snprintf(error, errlen,
                            "--to wants ISO-8601 UTC (2026-11-23T10:00:00Z) or unix seconds, not "
                            "'%s'",
                            to),
                   NULL;
        first = knoop_seq_at_time(b, us);
    }
    uint64_t before = g->acked_seq;
    int rc = knoop_group_rewind(b, g, first - 1);
    if (rc != 0)
        return snprintf(error, errlen, "rewind of '%s' on '%s' failed: %s", name, stream, strerror(-rc)), NULL;
    char detail[320];
    snprintf(detail, sizeof detail, "stream=%s subscriber=%s from_cursor=%" PRIu64 " to_cursor=%" PRIu64 "%s%s", stream,
             name, before, first - 1, to ? " to=" : "", to ? to : "");
    (void)knoop_audit_submit(b, "subscriber rewind", detail); /* logs its own failure */
    knoop_log_info("subscriber.rewind",
                   "stream=%s subscriber=%s from_cursor=%" PRIu64 " to_cursor=%" PRIu64 " to=%s actor=%s", stream, name,
                   before, first - 1, to ? to : "", b->control_actor); /* each value escaped by the log */
    return json_pack("{s:s, s:s, s:I, s:I}", "stream", stream, "subscriber", name, "cursor_before", (json_int_t)before,
                     "cursor", (json_int_t)(first - 1));
}
