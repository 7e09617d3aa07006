/* route_step.c — resolves the router's stream names to stream objects. Here and not in route/: a stream object is
 * deliver's (its groups, cursors and cache), and route/ sits below deliver/. */
#include "ingest/route_step.h"
#include <stdio.h>
#include <string.h>
#include "deliver/streams.h"

void knoop_route_resolve(knoop_broker_t *b, const knoop_route_plan_t *plan, knoop_route_result_t *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < plan->nstreams; i++) {
        knoop_stream_t *s = knoop_stream_get(b, plan->streams[i], true);
        if (s && out->nstreams < KNOOP_ROUTE_STREAMS_MAX)
            out->streams[out->nstreams++] = s;
    }
    memcpy(out->sender_as_seen, plan->sender_as_seen, sizeof out->sender_as_seen);
    out->dead_letter = plan->dead_letter;
    memcpy(out->reason, plan->reason, sizeof out->reason);
    memcpy(out->explain, plan->explain, sizeof out->explain);
    out->has_row = plan->has_row;
    out->row = plan->row;
    memcpy(out->contract, plan->contract, sizeof out->contract);
}

Knoop__ErrorCode knoop_route_message(knoop_broker_t *b, const Knoop__Envelope *env, const uint8_t *client_ref,
                                     knoop_route_result_t *out, char *reason, size_t reason_len)
{
    knoop_route_plan_t plan;
    Knoop__ErrorCode code = knoop_route_plan(b, env, client_ref, &plan, reason, reason_len);
    if (code != KNOOP__ERROR_CODE__OK) {
        memset(out, 0, sizeof *out);
        return code;
    }
    knoop_route_resolve(b, &plan, out);
    return KNOOP__ERROR_CODE__OK;
}

void knoop_route_to(knoop_broker_t *b, const char *stream, const char *explain, knoop_route_result_t *out)
{
    memset(out, 0, sizeof *out);
    knoop_stream_t *s = stream ? knoop_stream_get(b, stream, true) : NULL;
    if (s)
        out->streams[out->nstreams++] = s;
    snprintf(out->explain, sizeof out->explain, "%s", explain ? explain : "");
}
