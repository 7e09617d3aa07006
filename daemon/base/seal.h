/* seal.h — client data at rest: XChaCha20-Poly1305 (libsodium's IETF AEAD) under the data key, a random nonce per
 * sealed value, and associated data naming the row the value belongs to, so a value copied to another row fails to
 * open. Also the key check values the journal keeps to recognise the keys it was written with. */
#ifndef KNOOP_BASE_SEAL_H
#define KNOOP_BASE_SEAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KNOOP_SEAL_KEY_BYTES 32
/* A sealed value: 0x00 0x01 (a protobuf message never starts with a 0 byte), the 24-byte nonce, the ciphertext with
 * its 16-byte tag. */
#define KNOOP_SEAL_OVERHEAD (2 + 24 + 16)

/* A growing buffer for sealed or opened values, owned by one thread (the writer, or the loop's reader). Its nonces
 * are a random prefix drawn at its first seal and a counter: unique without a system call per value. */
typedef struct knoop_seal_buf {
    uint8_t *data; /* owned */
    size_t cap;
    uint8_t nonce_prefix[16];
    uint64_t nonce_counter; /* 0: no prefix drawn yet */
} knoop_seal_buf_t;
void knoop_seal_buf_free(knoop_seal_buf_t *b);

/* Does blob carry the sealed format's marker? (A plain packed envelope never does.) */
bool knoop_is_sealed(const void *blob, size_t len);

/* Seals plain (len bytes) with associated data ad (adlen bytes) into buf: *out points into buf, valid until its next
 * use. 0 or -ENOMEM. */
int knoop_seal(knoop_seal_buf_t *buf, const uint8_t key[KNOOP_SEAL_KEY_BYTES], const void *ad, size_t adlen,
               const void *plain, size_t len, const uint8_t **out, size_t *outlen);
/* Opens a sealed value into buf. 0, -EBADMSG (not sealed, or sealed under another key or for another row: the tag
 * does not verify), or -ENOMEM. */
int knoop_unseal(knoop_seal_buf_t *buf, const uint8_t key[KNOOP_SEAL_KEY_BYTES], const void *ad, size_t adlen,
                 const void *sealed, size_t len, const uint8_t **out, size_t *outlen);

/* A key check value: the keyed BLAKE2b of "knoop key check " + purpose, as 64 hex characters and a NUL. It shows
 * whether a key is the one a journal was written with, and reveals nothing of the key. */
void knoop_key_check_value(const uint8_t key[KNOOP_SEAL_KEY_BYTES], const char *purpose, char out[65]);
#endif
