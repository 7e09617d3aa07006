/* peers.h — core's map of connected clients (routing id -> knoop_peer_t), for the files of core/: find or create
 * the peer a frame came from, drop the silent ones on the tick. The public part is in broker.h. */
#ifndef KNOOP_CORE_PEERS_H
#define KNOOP_CORE_PEERS_H
#include "core/broker.h"

/* Where a frame came from: its connection (core/conns.c) and, under CURVE, what ZAP said about it. */
typedef struct knoop_peer_origin {
    uint64_t conn;          /* connection generation (never 0) */
    const char *user_id;    /* the key's party; "" with auth: none */
    const char *client_key; /* the client's public key (Z85); "" with auth: none */
} knoop_peer_origin_t;

/* The session a frame belongs to: the peer of its routing id when that peer came from the same connection and
 * identity; else the old session ends (a reused routing id, a new connection) and a new one begins, which must say
 * Hello. Returns 0 with *out, -EACCES when the frame's key is no longer a client key of its party (revoked or moved
 * since the handshake: no session is made), -EINVAL for an invalid routing id, -ENOMEM. */
int knoop_peer_for(knoop_broker_t *b, const uint8_t *id, size_t len, const knoop_peer_origin_t *o, knoop_peer_t **out);
/* Drops every peer silent for longer than peer_timeout_ms (the tick). */
void knoop_peers_expire(knoop_broker_t *b, uint64_t now_ms);
#endif
