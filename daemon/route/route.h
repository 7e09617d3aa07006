/* route.h — the routing step of ingest: which streams an accepted message is appended to (by NAME: ingest resolves
 * them to stream objects, ingest/route_step.h), under which identity the receivers see it, what the router's memory
 * must remember, or why it is a dead letter. Decided on the loop thread before the message is journaled; the
 * decision is journaled with it. This layer knows nothing of deliver/: no stream objects, no SQL. */
#ifndef KNOOP_ROUTE_H
#define KNOOP_ROUTE_H
#include <stdbool.h>
#include "config/network.h"
#include "core/broker.h"
#include "route/route_state.h"

#define KNOOP_ROUTE_STREAMS_MAX     12
#define KNOOP_ROUTE_STREAM_NAME_MAX 64 /* a stream name is at most 63 characters (deliver/streams.c) */

typedef struct knoop_route_plan {
    int nstreams;
    char streams[KNOOP_ROUTE_STREAMS_MAX][KNOOP_ROUTE_STREAM_NAME_MAX]; /* "inbox.0917", "deadletters", ... */
    char sender_as_seen[16];                                            /* "" = the publisher's own code */
    bool dead_letter;
    char reason[320];  /* dead letter: why */
    char explain[400]; /* journaled with the message (knoopctl route explain); never delivered */
    bool has_row;      /* the decision changed the route state: persist this row with the message */
    knoop_route_row_t row;
    char contract[KNOOP_NAME_MAX]; /* the contract the message travels under, "" for none (the budget ledger) */
} knoop_route_plan_t;

/* Decides. Returns OK with a plan (a message no rule routes gets dead_letter and the deadletters stream), or an
 * error code with a reason for the sender (a native payload that fails its contract's checks). Changes the route
 * state in memory (sticky assignments); the row to persist is in the plan. */
Knoop__ErrorCode knoop_route_plan(knoop_broker_t *b, const Knoop__Envelope *env, const uint8_t *client_ref,
                                  knoop_route_plan_t *out, char *reason, size_t reason_len);

/* The route state's life with the journal and reloads. */
int knoop_route_state_open(knoop_broker_t *b, char *errbuf, size_t errlen);        /* start-up: load the rows */
int knoop_route_state_rebind(knoop_broker_t *b, const struct knoop_network *next); /* reload: carry rows over */
/* Writer thread: upsert one row inside the message's transaction (store/route_state.h). 0 or a negative errno. */
int knoop_route_row_apply(knoop_jtx_t *tx, const knoop_route_row_t *row, int64_t now_us);
#endif
