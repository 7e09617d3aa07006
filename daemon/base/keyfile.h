/* keyfile.h — the daemon's secret keys as files (the data key that seals payloads, the pseudonymisation key): read
 * only when private to the daemon (a regular file of its own uid, no group or world bits), created only under 0600. */
#ifndef KNOOP_BASE_KEYFILE_H
#define KNOOP_BASE_KEYFILE_H
#include <stddef.h>
#include <stdint.h>

#define KNOOP_KEY_BYTES 32

/* Reads a key of exactly KNOOP_KEY_BYTES. Returns 0, -ENOENT (no such file: the caller decides whether a new key may
 * be made), or another negative errno with err saying what to do: -EPERM when the file is readable by group or
 * others or owned by another uid, -EINVAL when it is not a regular file of the right size. */
int knoop_keyfile_read(const char *path, uint8_t key[KNOOP_KEY_BYTES], char *err, size_t errlen);

/* Makes a new random key at path: its directory (and parents) created 0700, the file created 0600 (never over an
 * existing one), written, fsync'ed, and the directory fsync'ed so the key survives a crash before anything is
 * sealed with it. 0 or a negative errno with err set. */
int knoop_keyfile_create(const char *path, uint8_t key[KNOOP_KEY_BYTES], char *err, size_t errlen);
#endif
