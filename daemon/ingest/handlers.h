/* handlers.h — the frame handlers of the ingest layer, one file each (handle_*.c); the dispatch table that
 * maps a frame body to its handler is app/frame_table.c.
 */
#ifndef KNOOP_INGEST_HANDLERS_H
#define KNOOP_INGEST_HANDLERS_H
#include "core/broker.h"

/* the frame handlers, one file each */
void knoop_handle_hello(knoop_broker_t *b, knoop_peer_t *p, Knoop__Hello *m);
void knoop_handle_publish(knoop_broker_t *b, knoop_peer_t *p, Knoop__Publish *m);
void knoop_handle_subscribe(knoop_broker_t *b, knoop_peer_t *p, Knoop__Subscribe *m);
void knoop_handle_unsubscribe(knoop_broker_t *b, knoop_peer_t *p, Knoop__Unsubscribe *m);
void knoop_handle_credit(knoop_broker_t *b, knoop_peer_t *p, Knoop__Credit *m);

/* Subscribe's rule for a durable subscriber's name: at most 64 printable ASCII characters without spaces or '~' (the
 * '~' starts the name of an ephemeral one). */
bool knoop_subscriber_name_ok(const char *name);

#endif
