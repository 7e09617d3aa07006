/* pseudonym.c — the keyed hash of a BSN (pseudonym.h). */
#include "base/pseudonym.h"
#include <sodium.h>

void knoop_client_ref_of_bsn(const uint8_t key[KNOOP_PSEUDONYM_KEY_BYTES], const char *bsn, size_t bsn_len,
                             uint8_t out[KNOOP_CLIENT_REF_BYTES])
{
    crypto_generichash(out, KNOOP_CLIENT_REF_BYTES, (const uint8_t *)bsn, bsn_len, key, KNOOP_PSEUDONYM_KEY_BYTES);
}
