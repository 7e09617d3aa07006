/* clients.h — the client key directory (setting clients_dir): which CURVE public key belongs to which party. One
 * file per key, <party>-<fingerprint>.pub in ZeroMQ's certificate format with the party in its metadata; read whole at
 * start-up and on reload, changed one file at a time by `knoopctl clients add|revoke`. */
#ifndef KNOOP_CONFIG_CLIENTS_H
#define KNOOP_CONFIG_CLIENTS_H
#include <stdbool.h>
#include <stddef.h>
#include "base/curve_key.h"

typedef struct knoop_client_key {
    char party[16];
    char public_key[KNOOP_CURVE_KEY_LEN + 1];
    char fingerprint[KNOOP_CURVE_FINGERPRINT_LEN + 1];
    char added[32]; /* ISO-8601 UTC: the file's `added`, else its modification time */
    char file[256]; /* its name in the directory */
} knoop_client_key_t;

typedef struct knoop_clients knoop_clients_t;

/* Reads every *.pub file of dir. A missing dir is an empty list, or is made (mode 0700) when create is set. Any file
 * that is not a client key (no party, an invalid key, a secret key, a key given twice) fails the whole load, with
 * err = "FILE: what is wrong": a typo never silently locks a client out or lets one in. */
int knoop_clients_load(const char *dir, bool create, knoop_clients_t **out, char *err, size_t errlen);
void knoop_clients_destroy(knoop_clients_t **c);

size_t knoop_clients_count(const knoop_clients_t *c);
const knoop_client_key_t *knoop_clients_at(const knoop_clients_t *c, size_t i); /* by party, then fingerprint */
const knoop_client_key_t *knoop_clients_find(const knoop_clients_t *c, const char *public_key); /* NULL: unknown */

/* Writes <dir>/<party>-<fingerprint>.pub and adds the key: -EEXIST when the key is already a client's (any party),
 * -EINVAL for a key or party of the wrong shape; err says which. */
int knoop_clients_add(knoop_clients_t *c, const char *party, const char *public_key, char *err, size_t errlen);
/* Removes the key's file and the key: -ENOENT when it is not a client key. */
int knoop_clients_remove(knoop_clients_t *c, const char *public_key, char *err, size_t errlen);
#endif
