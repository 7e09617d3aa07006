/* route.h — the routing step of ingest: which streams an accepted message is appended to, under which identity
 * the receiver sees it, or why it is a dead letter. Decided on the loop thread before the message is journaled. */
#ifndef KNOOP_ROUTE_H
#define KNOOP_ROUTE_H
#include <stdbool.h>
#include "broker.h"

#define KNOOP_ROUTE_STREAMS_MAX 8

typedef struct knoop_route_result {
    int nstreams;
    knoop_stream_t *streams[KNOOP_ROUTE_STREAMS_MAX];
    bool dead_letter;
    char reason[256];       /* dead letter: why */
    char explain[256];      /* journaled with the message (knoopctl route explain) */
} knoop_route_result_t;

/* Never fails to decide: a message that cannot be routed gets dead_letter = true and the deadletters stream. */
/* client_ref: the pseudonymised client (32 bytes) or NULL. */
void knoop_route_message(knoop_broker_t *b, const Knoop__Envelope *env, const uint8_t *client_ref,
                         knoop_route_result_t *out);
#endif
