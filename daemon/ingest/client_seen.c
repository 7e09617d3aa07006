/* client_seen.c — the memory of which clients' records are fresh (client_seen.h): a direct-mapped table of 16384
 * slots by the reference's first bytes (a keyed hash already, so evenly spread), allocated on first use. */
#include "ingest/client_seen.h"
#include <stdlib.h>
#include <string.h>
#include "config/retention_spec.h"

#define SLOTS 16384 /* a power of two; 640 KiB */

typedef struct slot {
    uint8_t ref[32];
    int64_t written_us;
} slot_t;

struct knoop_client_seen {
    const knoop_config_t *config; /* the configuration granularity_us was worked out for (a reload swaps it) */
    int64_t granularity_us;
    slot_t slot[SLOTS];
};

int64_t knoop_client_seen_longest_retention_us(const knoop_settings_t *s)
{
    int64_t keep[KNOOP_RETENTION_KINDS], longest = 0;
    char err[160];
    if (knoop_retention_parse(s->retention_per_kind, s->retention_days, keep, err, sizeof err) != 0)
        return INT64_MAX / 4; /* the configuration check refuses such a file; forget nothing if it slipped through */
    for (int k = 1; k < KNOOP_RETENTION_KINDS; k++) /* kind 0 is no kind; a kind not named has retention_days */
        if (keep[k] > longest)
            longest = keep[k];
    return longest * 1000000;
}

int64_t knoop_client_seen_granularity_us(const knoop_settings_t *s)
{
    int64_t g = knoop_client_seen_longest_retention_us(s) / 8;
    return g < 3600 * INT64_C(1000000) ? g : 3600 * INT64_C(1000000);
}

static slot_t *slot_of(knoop_broker_t *b, const uint8_t ref[32])
{
    if (!b->client_seen && !(b->client_seen = calloc(1, sizeof *b->client_seen)))
        return NULL;
    uint32_t h;
    memcpy(&h, ref, sizeof h);
    return &b->client_seen->slot[h & (SLOTS - 1)];
}

bool knoop_client_seen_due(knoop_broker_t *b, const uint8_t ref[32], int64_t now_us)
{
    const slot_t *s = slot_of(b, ref);
    if (!s)
        return true;
    if (b->client_seen->config != b->config) { /* not per message: the retention setting is parsed once per config */
        b->client_seen->config = b->config;
        b->client_seen->granularity_us = knoop_client_seen_granularity_us(&b->config->settings);
    }
    return memcmp(s->ref, ref, 32) != 0 || now_us - s->written_us >= b->client_seen->granularity_us;
}

void knoop_client_seen_written(knoop_broker_t *b, const uint8_t ref[32], int64_t seen_us)
{
    slot_t *s = slot_of(b, ref);
    if (s && (memcmp(s->ref, ref, 32) != 0 || seen_us > s->written_us)) {
        memcpy(s->ref, ref, 32);
        s->written_us = seen_us;
    }
}

void knoop_client_seen_forget(knoop_broker_t *b, const uint8_t ref[32])
{
    slot_t *s = b->client_seen ? slot_of(b, ref) : NULL;
    if (s && memcmp(s->ref, ref, 32) == 0)
        memset(s, 0, sizeof *s);
}

void knoop_client_seen_free(knoop_broker_t *b)
{
    free(b->client_seen);
    b->client_seen = NULL;
}
