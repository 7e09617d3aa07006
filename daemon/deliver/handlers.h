/* handlers.h — the frame handlers delivery defines (delivery.c): Ack settles a delivery, Nack returns it for
 * redelivery. The frame-handler table dispatches to them; Credit and Unsubscribe act on delivery through
 * delivery.h. */
#ifndef KNOOP_DELIVER_HANDLERS_H
#define KNOOP_DELIVER_HANDLERS_H
#include "core/broker.h"

void knoop_handle_ack(knoop_broker_t *b, knoop_peer_t *p, Knoop__Ack *m);
void knoop_handle_nack(knoop_broker_t *b, knoop_peer_t *p, Knoop__Nack *m);

#endif
