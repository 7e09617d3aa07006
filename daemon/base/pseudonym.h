/* pseudonym.h — the client reference: a keyed BLAKE2b hash of a BSN under the broker's pseudonymisation key. The one
 * place that turns a BSN into the 32 bytes knoopd stores, routes and looks up by; the BSN itself is never kept. */
#ifndef KNOOP_BASE_PSEUDONYM_H
#define KNOOP_BASE_PSEUDONYM_H
#include <stddef.h>
#include <stdint.h>

#define KNOOP_PSEUDONYM_KEY_BYTES 32
#define KNOOP_CLIENT_REF_BYTES    32

void knoop_client_ref_of_bsn(const uint8_t key[KNOOP_PSEUDONYM_KEY_BYTES], const char *bsn, size_t bsn_len,
                             uint8_t out[KNOOP_CLIENT_REF_BYTES]);
#endif
