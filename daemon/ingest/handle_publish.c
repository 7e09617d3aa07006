/* handle_publish.c — Publish: check the envelope, pseudonymise the client, route, queue for the journal.
 * The answer (Accepted or Rejected) is sent by message_op.c once the commit holding the message is durable. */
#include <stdio.h>
#include "core/broker.h"
#include "ingest/envelope_check.h"
#include "base/log.h"
#include "ingest/message_op.h"
#include "route/route.h"
#include "legacy/xml_ingest.h"
#include "ingest/handlers.h"
#include "core/frames.h"

void knoop_handle_publish(knoop_broker_t *b, knoop_peer_t *p, Knoop__Publish *m)
{
    if (b->stopping) {
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__SHUTTING_DOWN,
                            "broker is shutting down; publish "
                            "again after it restarts");
        return;
    }
    if (!m->envelope) {
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__MISSING_FIELD, "publish.envelope is required");
        return;
    }
    if (knoop_xml_is_istd(m->envelope->content_type)) {
        knoop_xml_publish(b, p, m->ref, m->envelope);
        return;
    }
    char reason[400];
    Knoop__ErrorCode code = knoop_envelope_check(b, p->party, m->envelope, reason, sizeof reason);
    if (code != KNOOP__ERROR_CODE__OK) {
        knoop_log_info("publish.rejected", "party=%s ref=%llu code=%d reason=\"%s\"", p->party,
                       (unsigned long long)m->ref, (int)code, reason);
        knoop_send_rejected(b, p, m->ref, code, "%s", reason);
        return;
    }
    uint8_t client_ref[32];
    bool has_client = knoop_envelope_pseudonymise(b, m->envelope, client_ref);
    knoop_route_result_t route;
    code = knoop_route_message(b, m->envelope, has_client ? client_ref : NULL, &route, reason, sizeof reason);
    if (code != KNOOP__ERROR_CODE__OK) {
        knoop_log_info("publish.rejected", "party=%s ref=%llu code=%d reason=\"%s\"", p->party,
                       (unsigned long long)m->ref, (int)code, reason);
        knoop_send_rejected(b, p, m->ref, code, "%s", reason);
        return;
    }
    if (knoop_message_submit(b, p, m->ref, m->envelope, has_client ? client_ref : NULL, &route, NULL, NULL) != 0)
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__INTERNAL, "out of memory; publish again");
}
