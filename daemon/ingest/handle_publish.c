/* handle_publish.c — Publish: the frame's own checks and the limits on what waits for the journal, then the one ingest pipeline (pipeline.c) for native and
 * adapter (iWmo/iJw) messages alike. The answer (Accepted or Rejected) is sent by the pipeline or, once the commit
 * holding the message is durable, by message_op.c. */
#include "ingest/handlers.h"
#include "core/broker.h"
#include "core/frames.h"
#include "ingest/pipeline.h"

/* What waits for the journal is bounded (docs/protocol.md section 11): per connection by count and bytes, for all
 * connections by bytes. Beyond, the publish is refused before anything is done with it, with INTERNAL — retryable:
 * nothing was stored — and a reason that says which limit; a client that waits for its answers never meets them. */
static bool over_limits(knoop_broker_t *b, knoop_peer_t *p, Knoop__Publish *m)
{
    const knoop_settings_t *s = &b->config->settings;
    uint64_t size = knoop__envelope__get_packed_size(m->envelope);
    if (p->publishes_in_flight >= s->max_publishes_in_flight)
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__INTERNAL,
                            "too many publishes in flight (%llu, max_publishes_in_flight): wait for answers, then "
                            "publish it again; nothing was stored",
                            (unsigned long long)p->publishes_in_flight);
    else if (p->publishes_in_flight > 0 && p->publish_bytes_in_flight + size > s->max_publish_bytes_in_flight)
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__INTERNAL,
                            "too many bytes in flight (%llu waiting, max_publish_bytes_in_flight %llu): wait for "
                            "answers, then publish it again; nothing was stored",
                            (unsigned long long)p->publish_bytes_in_flight,
                            (unsigned long long)s->max_publish_bytes_in_flight);
    else if (b->publish_bytes_queued > 0 && b->publish_bytes_queued + size > s->max_queued_publish_bytes)
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__INTERNAL,
                            "the broker's journal queue is full (%llu bytes waiting, max_queued_publish_bytes): "
                            "publish it again in a moment; nothing was stored",
                            (unsigned long long)b->publish_bytes_queued);
    else
        return false;
    return true;
}

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
    if (over_limits(b, p, m))
        return;
    knoop_ingest_publish(b, p, m->ref, m->envelope);
}
