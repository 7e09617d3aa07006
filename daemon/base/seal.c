/* seal.c — sealing and opening values at rest (seal.h). One AEAD call each way; the buffers grow and are reused, so
 * the writer thread seals every message without an allocation or a system call of its own. */
#include "base/seal.h"
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NONCE crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG   crypto_aead_xchacha20poly1305_ietf_ABYTES
_Static_assert(KNOOP_SEAL_OVERHEAD == 2 + NONCE + TAG, "the sealed format's overhead");
_Static_assert(KNOOP_SEAL_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "the data key's size");

void knoop_seal_buf_free(knoop_seal_buf_t *b)
{
    if (b->data)
        sodium_memzero(b->data, b->cap); /* it held client data in clear */
    free(b->data);
    b->data = NULL;
    b->cap = 0; /* the nonce counter goes on: a reused buffer never repeats a nonce */
}

static int reserve(knoop_seal_buf_t *b, size_t n)
{
    if (n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 2048;
    while (cap < n)
        cap *= 2;
    uint8_t *p = malloc(cap);
    if (!p)
        return -ENOMEM;
    if (b->data)
        sodium_memzero(b->data, b->cap); /* not realloc: the old block would keep client data in freed memory */
    free(b->data);
    b->data = p;
    b->cap = cap;
    return 0;
}

bool knoop_is_sealed(const void *blob, size_t len)
{
    const uint8_t *p = blob;
    return len >= KNOOP_SEAL_OVERHEAD && p[0] == 0x00 && p[1] == 0x01;
}

int knoop_seal(knoop_seal_buf_t *buf, const uint8_t key[KNOOP_SEAL_KEY_BYTES], const void *ad, size_t adlen,
               const void *plain, size_t len, const uint8_t **out, size_t *outlen)
{
    if (reserve(buf, len + KNOOP_SEAL_OVERHEAD) != 0)
        return -ENOMEM;
    uint8_t *p = buf->data;
    p[0] = 0x00;
    p[1] = 0x01;
    /* XChaCha20's 192-bit nonce leaves room for a 128-bit random prefix per buffer (per thread and start) and a
     * 64-bit counter, so no two values sealed under one key share a nonce. */
    if (buf->nonce_counter == 0)
        randombytes_buf(buf->nonce_prefix, sizeof buf->nonce_prefix);
    uint64_t c = ++buf->nonce_counter;
    memcpy(p + 2, buf->nonce_prefix, sizeof buf->nonce_prefix);
    for (int i = 0; i < 8; i++)
        p[2 + sizeof buf->nonce_prefix + i] = (uint8_t)(c >> (8 * i));
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(p + 2 + NONCE, &clen, plain, len, ad, adlen, NULL, p + 2, key);
    *out = p;
    *outlen = 2 + NONCE + (size_t)clen;
    return 0;
}

int knoop_unseal(knoop_seal_buf_t *buf, const uint8_t key[KNOOP_SEAL_KEY_BYTES], const void *ad, size_t adlen,
                 const void *sealed, size_t len, const uint8_t **out, size_t *outlen)
{
    if (!knoop_is_sealed(sealed, len))
        return -EBADMSG;
    size_t plain = len - KNOOP_SEAL_OVERHEAD;
    if (reserve(buf, plain ? plain : 1) != 0)
        return -ENOMEM;
    const uint8_t *s = sealed;
    unsigned long long n = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf->data, &n, NULL, s + 2 + NONCE, len - 2 - NONCE, ad, adlen,
                                                   s + 2, key) != 0)
        return -EBADMSG;
    *out = buf->data;
    *outlen = (size_t)n;
    return 0;
}

void knoop_key_check_value(const uint8_t key[KNOOP_SEAL_KEY_BYTES], const char *purpose, char out[65])
{
    static const char prefix[] = "knoop key check ";
    uint8_t mac[32];
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, KNOOP_SEAL_KEY_BYTES, sizeof mac);
    crypto_generichash_update(&st, (const uint8_t *)prefix, sizeof prefix - 1);
    crypto_generichash_update(&st, (const uint8_t *)purpose, strlen(purpose));
    crypto_generichash_final(&st, mac, sizeof mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
}
