/* curve_key.h — CURVE key files, shared by knoopd (its secret key, the client key directory), knoopctl (keys
 * generate) and the client tools: ZeroMQ's certificate text format (what CZMQ's zcert and pyzmq's zmq.auth write and
 * read), Z85 checks, and the fingerprint that logs and listings show instead of a key. */
#ifndef KNOOP_BASE_CURVE_KEY_H
#define KNOOP_BASE_CURVE_KEY_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define KNOOP_CURVE_KEY_LEN         40 /* a 32-byte key in Z85 */
#define KNOOP_CURVE_FINGERPRINT_LEN 16 /* hex of the first 8 bytes of BLAKE2b-256 of the 32-byte key */

/* What a key file holds. Lines "name = \"value\"" anywhere in the file (sections are not told apart); '#' starts a
 * comment line; other names (zcert's name, email...) are ignored. */
typedef struct knoop_curve_keyfile {
    char public_key[KNOOP_CURVE_KEY_LEN + 1];
    char secret_key[KNOOP_CURVE_KEY_LEN + 1]; /* "" when the file holds none; wipe with sodium_memzero after use */
    char party[16];                           /* metadata `party`: "" when absent (client key directory) */
    char added[32];                           /* metadata `added`, ISO-8601 UTC: "" when absent */
    bool had_secret;                          /* the file holds a secret-key line (read without one: not kept) */
} knoop_curve_keyfile_t;

/* 40 characters of Z85 that decode to 32 bytes. */
bool knoop_curve_key_valid(const char *z85);
/* The fingerprint of a public key (out: 17 bytes, hex); -EINVAL when z85 is not a key. Logs and listings name a key
 * by it, never by the key itself. */
int knoop_curve_fingerprint(const char *z85, char *out);

/* Reads path. with_secret: the file must hold a secret key matching its public key and be a regular file no one
 * but its owner may read (mode 0600 or 0400). Returns 0, or -errno with err = "PATH: what is wrong". */
int knoop_curve_keyfile_read(const char *path, bool with_secret, knoop_curve_keyfile_t *out, char *err, size_t errlen);
/* Writes k (its secret key too when set) to path with mode (the umask does not apply). replace: through a temporary
 * file renamed over path; else path must not exist (O_EXCL). comment: one line, written after "# ". */
int knoop_curve_keyfile_write(const char *path, mode_t mode, bool replace, const char *comment,
                              const knoop_curve_keyfile_t *k, char *err, size_t errlen);
/* `knoopctl keys generate BASE`: a new key pair in BASE.key (public and secret, 0600) and BASE.pub (public, 0644);
 * neither may exist. public_key receives the new public key (41 bytes). */
int knoop_curve_keypair_generate(const char *base, char *public_key, char *err, size_t errlen);

/* The keys a client tool connects with (--server-key FILE, --key FILE or --key-dir DIR, whose PARTY.key is used):
 * enabled is false when neither option was given (ZeroMQ's NULL mechanism, for a knoopd with auth: none). */
typedef struct knoop_curve_client_keys {
    bool enabled;
    char server_public[KNOOP_CURVE_KEY_LEN + 1];
    char public_key[KNOOP_CURVE_KEY_LEN + 1];
    char secret_key[KNOOP_CURVE_KEY_LEN + 1];
} knoop_curve_client_keys_t;
int knoop_curve_client_keys(const char *server_key_file, const char *key_file, const char *key_dir, const char *party,
                            knoop_curve_client_keys_t *out, char *err, size_t errlen);
#endif
