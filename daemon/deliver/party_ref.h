/* party_ref.h — the client reference as a receiving party sees it. The journal keeps one internal reference per client
 * (routing stickiness, the ledger, expectations); each delivery shows the subscriber's party a reference derived from
 * it and the party's code (base/pseudonym.h), so two parties cannot link their clients by the reference. */
#ifndef KNOOP_DELIVER_PARTY_REF_H
#define KNOOP_DELIVER_PARTY_REF_H
#include <stddef.h>
#include <stdint.h>

/* Where the 32 bytes of the packed envelope's client_ref (field 10) start, or -1 when it has none (nothing to
 * rewrite) or does not parse. A walk over the top-level fields: no unpacking, no allocation. */
long knoop_envelope_client_ref_at(const uint8_t *env, size_t len);

/* Copies env (len bytes) into out with the client_ref at `at` replaced by party's reference under key. */
void knoop_envelope_for_party(const uint8_t key[32], const char *party, const uint8_t *env, size_t len, long at,
                              uint8_t *out);
#endif
