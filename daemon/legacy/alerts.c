/* alerts.c — an alert is an envelope like any other (kind ALERT, sender "knoopd", JSON payload), so it is durable,
 * ordered, replayable and readable through the same delivery as everything else. */
#include "legacy/alerts.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "ingest/message_op.h"
#include "route/route.h"
#include "base/clock.h"
#include "deliver/streams.h"

static void alert_stored(knoop_broker_t *b, knoop_msg_op_t *m, int status, void *arg)
{
    (void)b, (void)arg;
    if (status != 0)
        knoop_log_error("alert.not_stored", "type=%s status=%d", m->message_type, status);
}

int knoop_alert_raise(knoop_broker_t *b, const char *type, const char *about, const char *text,
                      int (*extra)(knoop_jtx_t *tx, void *arg, uint64_t seq), void *arg)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:I}", "type", type, "about", about ? about : "", "text", text, "at_us",
                          (json_int_t)knoop_now_us());
    char *payload = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!payload)
        return -ENOMEM;
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    env.sender = (char *)"knoopd";
    env.receiver = (char *)(about ? about : "");
    env.kind = KNOOP__KIND__ALERT;
    env.message_type = (char *)"knoop.Alert";
    env.content_type = (char *)"application/json; knoop.Alert";
    env.payload.data = (uint8_t *)payload;
    env.payload.len = strlen(payload);
    knoop_route_result_t route;
    memset(&route, 0, sizeof route);
    knoop_stream_t *s = knoop_stream_get(b, "alerts", true);
    if (s)
        route.streams[route.nstreams++] = s;
    snprintf(route.explain, sizeof route.explain, "alert %s", type);
    knoop_msg_op_t *m = knoop_message_build(b, NULL, 0, &env, NULL, &route, alert_stored, NULL);
    free(payload);
    if (!m) {
        free(arg);
        return -ENOMEM;
    }
    m->extras[0].apply = extra;
    m->extras[0].arg = arg;
    knoop_log_warn("alert", "type=%s about=%s text=\"%s\"", type, about ? about : "", text);
    knoop_message_queue(b, m);
    return 0;
}
