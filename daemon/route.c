/* route.c — routing without a network of contracts: a message addressed to a party goes to inbox.<receiver>;
 * one without a receiver cannot be routed and becomes a dead letter (never dropped). */
#include "route.h"
#include <stdio.h>
#include <string.h>

static void add_stream(knoop_broker_t *b, knoop_route_result_t *out, const char *name)
{
    knoop_stream_t *s = knoop_stream_get(b, name, true);
    if (s && out->nstreams < KNOOP_ROUTE_STREAMS_MAX)
        out->streams[out->nstreams++] = s;
}

void knoop_route_message(knoop_broker_t *b, const Knoop__Envelope *env, const uint8_t *client_ref,
                         knoop_route_result_t *out)
{
    (void)client_ref;
    memset(out, 0, sizeof *out);
    if (env->receiver && env->receiver[0]) {
        char name[64];
        snprintf(name, sizeof name, "inbox.%s", env->receiver);
        add_stream(b, out, name);
        snprintf(out->explain, sizeof out->explain, "addressed: inbox.%s", env->receiver);
        return;
    }
    out->dead_letter = true;
    snprintf(out->reason, sizeof out->reason, "no receiver and no routing rule for kind %d from %s", (int)env->kind,
             env->sender);
    snprintf(out->explain, sizeof out->explain, "dead letter: %s", out->reason);
    add_stream(b, out, "deadletters");
}
