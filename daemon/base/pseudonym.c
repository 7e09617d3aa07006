/* pseudonym.c — the keyed hashes of a BSN and of a client reference per party (pseudonym.h). */
#include "base/pseudonym.h"
#include <sodium.h>
#include <string.h>

void knoop_client_ref_of_bsn(const uint8_t key[KNOOP_PSEUDONYM_KEY_BYTES], const char *bsn, size_t bsn_len,
                             uint8_t out[KNOOP_CLIENT_REF_BYTES])
{
    crypto_generichash(out, KNOOP_CLIENT_REF_BYTES, (const uint8_t *)bsn, bsn_len, key, KNOOP_PSEUDONYM_KEY_BYTES);
}

void knoop_client_ref_for_party(const uint8_t key[KNOOP_PSEUDONYM_KEY_BYTES], const uint8_t ref[KNOOP_CLIENT_REF_BYTES],
                                const char *party, uint8_t out[KNOOP_CLIENT_REF_BYTES])
{
    /* The label (with its NUL) keeps this input apart from a BSN's: no party reference equals an internal one. */
    static const char label[] = "knoop client ref for party";
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, KNOOP_PSEUDONYM_KEY_BYTES, KNOOP_CLIENT_REF_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)label, sizeof label);
    crypto_generichash_update(&st, ref, KNOOP_CLIENT_REF_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)party, strlen(party));
    crypto_generichash_final(&st, out, KNOOP_CLIENT_REF_BYTES);
}
