/* peers.h — core's map of connected clients (routing id -> knoop_peer_t), for the files of core/: find or create
 * the peer a frame came from, drop the silent ones on the tick. The public part is in broker.h. */
#ifndef KNOOP_CORE_PEERS_H
#define KNOOP_CORE_PEERS_H
#include "core/broker.h"

/* The peer of a routing id, created on its first frame; NULL for an invalid id or out of memory. */
knoop_peer_t *knoop_peer_for(knoop_broker_t *b, const uint8_t *id, size_t len);
/* Drops every peer silent for longer than peer_timeout_ms (the tick). */
void knoop_peers_expire(knoop_broker_t *b, uint64_t now_ms);
#endif
