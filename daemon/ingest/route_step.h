/* route_step.h — ingest's side of routing: the router's plan (route/route.h, stream NAMES) resolved to the loop's
 * stream objects (deliver/streams.h), created on first use. What the message op journals and appends to. */
#ifndef KNOOP_INGEST_ROUTE_STEP_H
#define KNOOP_INGEST_ROUTE_STEP_H
#include <stdbool.h>
#include "core/broker.h"
#include "route/route.h"

typedef struct knoop_route_result {
    int nstreams;
    knoop_stream_t *streams[KNOOP_ROUTE_STREAMS_MAX]; /* borrowed: streams live as long as the broker */
    char sender_as_seen[16];                          /* "" = the publisher's own code */
    bool dead_letter;
    char reason[320];  /* dead letter: why */
    char explain[400]; /* journaled with the message (knoopctl route explain); never delivered */
    bool has_row;      /* the decision changed the route state: persist this row with the message */
    knoop_route_row_t row;
    char contract[KNOOP_NAME_MAX]; /* the contract it travels under, "" for none */
} knoop_route_result_t;

/* Plans (knoop_route_plan) and resolves. Same answers as knoop_route_plan; a stream name that cannot be a stream
 * is left out, as it always was. */
Knoop__ErrorCode knoop_route_message(knoop_broker_t *b, const Knoop__Envelope *env, const uint8_t *client_ref,
                                     knoop_route_result_t *out, char *reason, size_t reason_len);
/* The stream objects of a plan. */
void knoop_route_resolve(knoop_broker_t *b, const knoop_route_plan_t *plan, knoop_route_result_t *out);
/* A route to one named stream (a message knoopd sends itself: a retour to inbox.<party>), or to none when stream is
 * NULL (a refused message journaled for the record). explain says why, for `knoopctl route explain`. */
void knoop_route_to(knoop_broker_t *b, const char *stream, const char *explain, knoop_route_result_t *out);
#endif
