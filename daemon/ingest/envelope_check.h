/* envelope_check.h — the ingress checks of a published envelope, one table of rules (field, test, error code),
 * shared by every source: ZeroMQ publishes, the file adapter, internal producers. */
#ifndef KNOOP_ENVELOPE_CHECK_H
#define KNOOP_ENVELOPE_CHECK_H
#include <stddef.h>
#include "core/broker.h"

/* Returns KNOOP__ERROR_CODE__OK or the code of the first rule that fails, with a reason naming the field.
 * publisher: the party the connection said Hello as (the sender must be it). Never echoes a BSN. */
Knoop__ErrorCode knoop_envelope_check(const knoop_broker_t *b, const char *publisher, const Knoop__Envelope *env,
                                      char *reason, size_t len);

/* client_ref = keyed BLAKE2b of the BSN, written to ref_out; the BSN is wiped in the envelope's own buffer.
 * Returns false when the envelope names no client. */
bool knoop_envelope_pseudonymise(const knoop_broker_t *b, Knoop__Envelope *env, uint8_t ref_out[32]);
#endif
