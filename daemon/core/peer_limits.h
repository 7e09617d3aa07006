/* peer_limits.h — the caps on clients (connections in all, sessions per party), what happens to a session whose
 * answers find its ZeroMQ send queue full, and giving the heap back after clients leave. Kept apart from the session
 * code (peers.c, handle_hello.c), which calls these at the points named below. */
#ifndef KNOOP_CORE_PEER_LIMITS_H
#define KNOOP_CORE_PEER_LIMITS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/broker.h"

/* peers.c, before a new peer is made: false when max_connections are known already; the newcomer has been answered
 * Error{INTERNAL} (at most once a second is it logged) and its frame is to be ignored. */
bool knoop_peer_admit(knoop_broker_t *b, const uint8_t *id, size_t len);

/* handle_hello.c, when a connection becomes a session of party: 0, or -EUSERS when the party has
 * max_connections_per_party sessions already (the caller refuses the Hello). Counted once per peer. */
int knoop_party_session_add(knoop_broker_t *b, knoop_peer_t *p, const char *party);
/* peers.c, when a peer leaves (dropped or freed): its session no longer counts. Safe to call twice. */
void knoop_party_session_remove(knoop_broker_t *b, knoop_peer_t *p);
/* Sessions of a party now (for tests and logs). */
uint64_t knoop_party_sessions(const knoop_broker_t *b, const char *party);

/* frames_out.c, when an answer (not a delivery) cannot be queued because the peer's send queue is full: a session
 * ends on the next tick (logged once, its subscriptions return their deliveries); a stranger's answer is lost
 * (counted in b->answers_lost), as it would be with the connection. */
void knoop_peer_send_overflow(knoop_broker_t *b, knoop_peer_t *p);

/* The tick: gives freed heap back to the system (malloc_trim) after peers left, at most once a second, and every
 * 10 s otherwise; what ZeroMQ and the subscriptions of a client that left had queued does not stay in knoopd's RSS. */
void knoop_memory_tick(knoop_broker_t *b, uint64_t now_ms);

/* At the stop (knoop_broker_close_router): frees the per-party counts. */
void knoop_peer_limits_free(knoop_broker_t *b);
#endif
