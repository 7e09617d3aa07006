/* pseudonym.h — the client reference: a keyed BLAKE2b hash of a BSN under the broker's pseudonymisation key. The one
 * place that turns a BSN into the 32 bytes knoopd stores, routes and looks up by; the BSN itself is never kept. A
 * party is shown another reference again, derived from that one and its own code, so two parties cannot link their
 * clients by the reference they were given. */
#ifndef KNOOP_BASE_PSEUDONYM_H
#define KNOOP_BASE_PSEUDONYM_H
#include <stddef.h>
#include <stdint.h>

#define KNOOP_PSEUDONYM_KEY_BYTES 32
#define KNOOP_CLIENT_REF_BYTES    32

/* The internal client reference: routing stickiness, the ledger, expectations and the journal's client_ref column. */
void knoop_client_ref_of_bsn(const uint8_t key[KNOOP_PSEUDONYM_KEY_BYTES], const char *bsn, size_t bsn_len,
                             uint8_t out[KNOOP_CLIENT_REF_BYTES]);

/* The reference party sees for the client whose internal reference is ref: the keyed BLAKE2b of a domain label, ref
 * and the party code. Stable for (client, party) as long as the key is; different for another party. */
void knoop_client_ref_for_party(const uint8_t key[KNOOP_PSEUDONYM_KEY_BYTES], const uint8_t ref[KNOOP_CLIENT_REF_BYTES],
                                const char *party, uint8_t out[KNOOP_CLIENT_REF_BYTES]);
#endif
