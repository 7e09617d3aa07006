/* delivery_cache.c — a ring of (seq, envelope bytes) with a coverage interval [lo, hi]: every entry of the stream in
 * that interval is in the ring. Reads that continue the interval extend it; eviction from the front raises lo. */
#include "deliver/delivery_cache.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct knoop_env_cache {
    knoop_env_entry_t *ring; /* owned, cap entries */
    size_t cap, head, n, bytes, max_bytes;
    uint64_t lo, hi; /* complete for lo..hi; empty interval when hi < lo */
};

knoop_env_cache_t *knoop_env_cache_new(size_t max_entries, size_t max_bytes)
{
    knoop_env_cache_t *c = calloc(1, sizeof *c);
    if (!c || !(c->ring = calloc(max_entries, sizeof *c->ring))) {
        free(c);
        return NULL;
    }
    c->cap = max_entries;
    c->max_bytes = max_bytes;
    c->lo = 1;
    c->hi = 0;
    return c;
}

static knoop_env_entry_t *at(const knoop_env_cache_t *c, size_t i)
{
    size_t k = c->head + i;
    return &c->ring[k >= c->cap ? k - c->cap : k];
}

static void pop_front(knoop_env_cache_t *c)
{
    knoop_env_entry_t *e = at(c, 0);
    c->lo = e->seq + 1;
    c->bytes -= e->len;
    free(e->data);
    e->data = NULL;
    c->head = c->head + 1 == c->cap ? 0 : c->head + 1;
    c->n--;
}

void knoop_env_cache_clear(knoop_env_cache_t *c)
{
    while (c->n)
        pop_front(c);
    c->lo = 1;
    c->hi = 0;
}

void knoop_env_cache_destroy(knoop_env_cache_t **cp)
{
    if (!cp || !*cp)
        return;
    knoop_env_cache_clear(*cp);
    free((*cp)->ring);
    free(*cp);
    *cp = NULL;
}

const knoop_env_entry_t *knoop_env_cache_from(knoop_env_cache_t *c, uint64_t from, size_t *avail)
{
    *avail = 0;
    if (from < c->lo || from > c->hi || c->n == 0)
        return NULL;
    size_t lo = 0, hi = c->n; /* first index with seq >= from */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (at(c, mid)->seq < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == c->n)
        return NULL; /* complete up to hi, but nothing at or after from: the caller moves past hi */
    *avail = c->n - lo;
    return at(c, lo);
}

const knoop_env_entry_t *knoop_env_cache_next(knoop_env_cache_t *c, const knoop_env_entry_t *e)
{
    size_t i = (size_t)(e - c->ring);
    i = i + 1 == c->cap ? 0 : i + 1;
    size_t end = c->head + c->n;
    end = end >= c->cap ? end - c->cap : end;
    return i == end ? NULL : &c->ring[i];
}

uint64_t knoop_env_cache_hi(const knoop_env_cache_t *c)
{
    return c->hi;
}
bool knoop_env_cache_covers(const knoop_env_cache_t *c, uint64_t seq)
{
    return seq >= c->lo && seq <= c->hi;
}

bool knoop_env_cache_extends(knoop_env_cache_t *c, uint64_t from)
{
    if (c->hi < c->lo || c->n == 0) { /* empty: start a new interval here */
        knoop_env_cache_clear(c);
        c->lo = from;
        c->hi = from - 1;
        return true;
    }
    return from == c->hi + 1;
}

int knoop_env_cache_append(knoop_env_cache_t *c, uint64_t seq, const void *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, data, len);
    while (c->n && (c->n == c->cap || c->bytes + len > c->max_bytes))
        pop_front(c);
    knoop_env_entry_t *e = at(c, c->n++);
    e->seq = seq;
    e->data = copy;
    e->len = len;
    c->bytes += len;
    c->hi = seq;
    if (c->n == 1 && c->lo > seq)
        c->lo = seq;
    return 0;
}

void knoop_env_cache_complete_to(knoop_env_cache_t *c, uint64_t hi)
{
    if (hi > c->hi)
        c->hi = hi;
}
