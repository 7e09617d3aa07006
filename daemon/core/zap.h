/* zap.h — knoopd's ZAP handler (ZeroMQ RFC 27): answers the CURVE handshakes of the ROUTER from the loop thread,
 * mapping each client public key to its party through the client key directory (b->clients). */
#ifndef KNOOP_CORE_ZAP_H
#define KNOOP_CORE_ZAP_H
#include "core/broker.h"

/* The metadata property that carries the client's public key (Z85) on every frame of an authenticated connection,
 * beside ZeroMQ's "User-Id" (the party). */
#define KNOOP_ZAP_KEY_PROPERTY "X-Knoop-Key"

/* Binds the handler and joins it to the loop; before the ROUTER binds. Logs what failed. */
int knoop_zap_start(knoop_broker_t *b);
/* Answers every request queued (the loop's check phase and the poll call it). */
void knoop_zap_pump(knoop_broker_t *b);
/* After the ROUTER closed: a handshake never finds the ROUTER without its handler. */
void knoop_zap_close(knoop_broker_t *b);
#endif
