/* conns.h — the ROUTER's connections as its socket monitor reports them (accepted, closed), so that a session ends
 * with its connection and a frame is attributed to the connection it came in on (its ZMQ_SRCFD). */
#ifndef KNOOP_CORE_CONNS_H
#define KNOOP_CORE_CONNS_H
#include "core/broker.h"

typedef struct knoop_conns knoop_conns_t;

/* Before the ROUTER binds (a connection accepted before the monitor is attached would never be known). */
int knoop_conns_start(knoop_broker_t *b);
/* Applies every event the monitor has queued: a connection that closed ends its session (hooks.peer_leaving). */
void knoop_conns_pump(knoop_broker_t *b);
/* The generation of the open connection on descriptor fd after the events queued so far, or 0 when fd is no open
 * connection (it closed: the frame was sent before the close and is read after it). */
uint64_t knoop_conns_current(knoop_broker_t *b, int fd);
/* Whether a line about a refused connection may be logged now (a stranger can cause any number of them): a burst
 * of 20, then 5 a second; *suppressed says how many were left out before this one. */
bool knoop_conns_log_refusal(knoop_broker_t *b, uint64_t *suppressed);
/* After the ROUTER closed: closes the monitor socket and frees the table. */
void knoop_conns_close(knoop_broker_t *b);
#endif
