/* delivery_cache.h — the envelopes most recently read from one stream, kept so that the other subscriber groups of a
 * fan-out stream are served from memory instead of reading the same journal rows again. Bounded in entries and bytes;
 * complete (every stream entry) between its low and high seq, so serving from it is the same as reading the journal. */
#ifndef KNOOP_DELIVERY_CACHE_H
#define KNOOP_DELIVERY_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct knoop_env_cache knoop_env_cache_t;
typedef struct knoop_env_entry {
    uint64_t seq;
    uint8_t *data; /* owned by the cache */
    size_t len;
} knoop_env_entry_t;

knoop_env_cache_t *knoop_env_cache_new(size_t max_entries, size_t max_bytes);
void knoop_env_cache_destroy(knoop_env_cache_t **c);
void knoop_env_cache_clear(knoop_env_cache_t *c);
/* The first entry with seq >= from, when the cache is complete at from (lo <= from <= hi); else NULL. *avail: how
 * many entries follow it, itself included. */
const knoop_env_entry_t *knoop_env_cache_from(knoop_env_cache_t *c, uint64_t from, size_t *avail);
const knoop_env_entry_t *knoop_env_cache_next(knoop_env_cache_t *c, const knoop_env_entry_t *e);
uint64_t knoop_env_cache_hi(const knoop_env_cache_t *c); /* complete up to here (inclusive) */
bool knoop_env_cache_covers(const knoop_env_cache_t *c, uint64_t seq);
/* A journal read that starts at `from` may extend the cache when it continues it (or the cache is empty). */
bool knoop_env_cache_extends(knoop_env_cache_t *c, uint64_t from);
/* Appends the next row of such a read (seq ascending); the oldest entries go when a bound is passed. */
int knoop_env_cache_append(knoop_env_cache_t *c, uint64_t seq, const void *data, size_t len);
/* The read reached the end of the stream: nothing more up to hi. */
void knoop_env_cache_complete_to(knoop_env_cache_t *c, uint64_t hi);
#endif
