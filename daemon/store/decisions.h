/* decisions.h — a journaled message read back for operators: its header columns, the routing decision journaled
 * with it and its stored envelope (`route explain SEQ`, `dlq show`, `dlq retry` of a routing dead letter). One
 * primary-key look-up; the payload stays inside the packed envelope, and there is no BSN to read (never stored). */
#ifndef KNOOP_STORE_DECISIONS_H
#define KNOOP_STORE_DECISIONS_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

typedef struct knoop_store_decision {
    uint64_t seq;
    int kind;
    int64_t accepted_us;
    /* Borrowed from the reader's row: valid only during the callback. */
    const char *message_id, *sender, *publisher, *receiver, *message_type, *identificatie;
    const char *route;       /* NULL: no decision journaled */
    const uint8_t *envelope; /* the packed knoop.Envelope, opened (it is sealed at rest) */
    size_t envelope_len;
} knoop_store_decision_t;

typedef void (*knoop_store_decision_fn)(void *ctx, const knoop_store_decision_t *d);

/* Loop thread (reader connection): calls fn once with the message at seq. Returns 0, -ENOENT (purged or not yet
 * journaled; fn is not called), or -EIO with err set (also for an envelope that does not open). */
int knoop_store_decision_get(knoop_journal_t *j, uint64_t seq, knoop_store_decision_fn fn, void *ctx, char *err,
                             size_t errlen);
#endif
