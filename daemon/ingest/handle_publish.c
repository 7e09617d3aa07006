/* handle_publish.c — Publish: the frame's own checks, then the one ingest pipeline (pipeline.c) for native and
 * adapter (iWmo/iJw) messages alike. The answer (Accepted or Rejected) is sent by the pipeline or, once the commit
 * holding the message is durable, by message_op.c. */
#include "ingest/handlers.h"
#include "core/broker.h"
#include "core/frames.h"
#include "ingest/pipeline.h"

void knoop_handle_publish(knoop_broker_t *b, knoop_peer_t *p, Knoop__Publish *m)
{
    if (b->stopping) {
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__SHUTTING_DOWN,
                            "broker is shutting down; publish "
                            "again after it restarts");
        return;
    }
    if (m->ref == 0) { /* 0 is proto3's "not set": the answer could not be told from another unset one */
        knoop_send_rejected(b, p, 0, KNOOP__ERROR_CODE__MISSING_FIELD,
                            "publish.ref is required: a number other than 0, chosen by the client, that the answer "
                            "carries back");
        return;
    }
    if (b->draining) { /* knoopctl drain: what was accepted still commits and is delivered */
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__SHUTTING_DOWN,
                            "broker is draining before a stop; publish again after it restarts");
        return;
    }
    if (!m->envelope) {
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__MISSING_FIELD, "publish.envelope is required");
        return;
    }
    knoop_ingest_publish(b, p, m->ref, m->envelope);
}
