/* strmap.c — open addressing with linear probing and backward-shift deletion (no tombstones), FNV-1a hashing.
 * Grows at 70 % load. Small and predictable: the loop's tables hold thousands of entries, not millions. */
#include "base/strmap.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    char *key;   /* owned; NULL = empty */
    void *value; /* borrowed */
    uint64_t hash;
} slot_t;

struct knoop_strmap {
    slot_t *slots; /* owned */
    size_t cap;    /* power of two */
    size_t size;
};

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

knoop_strmap_t *knoop_strmap_new(void)
{
    knoop_strmap_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 16;
    m->slots = calloc(m->cap, sizeof *m->slots);
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

void knoop_strmap_destroy(knoop_strmap_t **map)
{
    if (!map || !*map)
        return;
    for (size_t i = 0; i < (*map)->cap; i++)
        free((*map)->slots[i].key);
    free((*map)->slots);
    free(*map);
    *map = NULL;
}

static size_t find(const knoop_strmap_t *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const slot_t *s = &m->slots[i];
        if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
            return i;
    }
}

void *knoop_strmap_get(const knoop_strmap_t *m, const char *key)
{
    const slot_t *s = &m->slots[find(m, key, hash_key(key))];
    return s->key ? s->value : NULL;
}

static int grow(knoop_strmap_t *m)
{
    size_t ncap = m->cap * 2;
    slot_t *nslots = calloc(ncap, sizeof *nslots);
    if (!nslots)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        slot_t *s = &m->slots[i];
        if (!s->key)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (nslots[j].key)
            j = (j + 1) & (ncap - 1);
        nslots[j] = *s;
    }
    free(m->slots);
    m->slots = nslots;
    m->cap = ncap;
    return 0;
}

int knoop_strmap_put(knoop_strmap_t *m, const char *key, void *value)
{
    if ((m->size + 1) * 10 > m->cap * 7 && grow(m) != 0)
        return -ENOMEM;
    uint64_t h = hash_key(key);
    slot_t *s = &m->slots[find(m, key, h)];
    if (s->key) {
        s->value = value;
        return 0;
    }
    s->key = strdup(key);
    if (!s->key)
        return -ENOMEM;
    s->value = value;
    s->hash = h;
    m->size++;
    return 0;
}

void *knoop_strmap_remove(knoop_strmap_t *m, const char *key)
{
    size_t mask = m->cap - 1, i = find(m, key, hash_key(key));
    if (!m->slots[i].key)
        return NULL;
    void *old = m->slots[i].value;
    free(m->slots[i].key);
    m->slots[i].key = NULL;
    m->size--;
    /* Backward-shift: move later members of the probe run into the hole so lookups never stop early. */
    for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            m->slots[j].key = NULL;
            i = j;
        }
    }
    return old;
}

size_t knoop_strmap_size(const knoop_strmap_t *m)
{
    return m->size;
}

int knoop_strmap_next(const knoop_strmap_t *m, size_t *pos, const char **key, void **value)
{
    while (*pos < m->cap) {
        const slot_t *s = &m->slots[(*pos)++];
        if (s->key) {
            if (key)
                *key = s->key;
            if (value)
                *value = s->value;
            return 1;
        }
    }
    return 0;
}
