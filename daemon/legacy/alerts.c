/* alerts.c — an alert is an envelope like any other (kind ALERT, sender "knoopd", JSON payload), so it is durable,
 * ordered, replayable and readable through the same delivery as everything else. */
#include "legacy/alerts.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "ingest/message_op.h"
#include "route/route.h"
#include "base/clock.h"
#include "deliver/streams.h"

typedef struct alert_ctx {
    void (*stored)(knoop_broker_t *b, void *arg, int status);
} alert_ctx_t;

static void alert_stored(knoop_broker_t *b, knoop_msg_op_t *m, int status, void *arg)
{
    alert_ctx_t *ctx = arg;
    if (status != 0)
        knoop_log_error("alert.not_stored", "type=%s status=%d", m->message_type, status);
    if (ctx) {
        ctx->stored(b, m->extras[0].arg, status); /* the op frees extras[0].arg after this */
        free(ctx);
    }
}

int knoop_alert_raise(knoop_broker_t *b, const char *type, const char *about, const char *text,
                      const knoop_alert_extra_t *extra)
{
    void *arg = extra ? extra->arg : NULL;
    alert_ctx_t *ctx = NULL;
    json_t *j = json_pack("{s:s, s:s, s:s, s:I}", "type", type, "about", about ? about : "", "text", text, "at_us",
                          (json_int_t)knoop_now_us());
    char *payload = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (payload && extra && extra->stored && !(ctx = malloc(sizeof *ctx))) {
        free(payload);
        payload = NULL;
    }
    if (!payload) {
        free(arg);
        return -ENOMEM;
    }
    if (ctx)
        ctx->stored = extra->stored;
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
    knoop_msg_op_t *m = knoop_message_build(b, NULL, 0, &env, NULL, &route, alert_stored, ctx);
    free(payload);
    if (!m) {
        free(ctx);
        free(arg);
        return -ENOMEM;
    }
    m->extras[0].apply = extra ? extra->apply : NULL;
    m->extras[0].arg = arg;
    knoop_log_warn("alert", "type=%s about=%s text=\"%s\"", type, about ? about : "", text);
    knoop_message_queue(b, m);
    return 0;
}
