/* pipeline.h — the one ingest pipeline: adapter step (if a protocol adapter takes the content type) -> envelope
 * check -> client reference -> route -> adapter finish -> journal. Native and adapter messages share every step
 * after the adapter's; the answer (Accepted or Rejected) is sent once the commit holding the message is durable. */
#ifndef KNOOP_INGEST_PIPELINE_H
#define KNOOP_INGEST_PIPELINE_H
#include <stdint.h>
#include "core/broker.h"

/* A published envelope from the connection p (its Hello party is the publisher). env is not kept and not changed,
 * except that its client_bsn is wiped in place once pseudonymised. Answers p itself, now (Rejected) or after the
 * commit. */
void knoop_ingest_publish(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, const Knoop__Envelope *env);
#endif
