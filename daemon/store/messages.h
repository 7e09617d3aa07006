/* messages.h — typed calls on the message tables, for a journal op's apply (writer thread, inside the open
 * transaction): a published message with its deduplication, the message journaled under an identity, the streams
 * it is appended to, and the dead letter of a message no rule routes. Every call returns 0 (or a count) or a
 * negative errno (-ENOSPC when the disk is full, -EIO, -EROFS, ...). */
#ifndef KNOOP_STORE_MESSAGES_H
#define KNOOP_STORE_MESSAGES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* One message row. The strings are borrowed for the call. */
typedef struct knoop_store_message {
    const char *message_id; /* 32 hex */
    const char *sender;     /* the identity receivers see: the dedup key's sender */
    const char *publisher;  /* who published it */
    const char *receiver;
    int kind;
    const char *message_type;
    const char *identificatie; /* "" = not deduplicated */
    const uint8_t *client_ref; /* 32 bytes, or NULL */
    int64_t accepted_us;
    const char *route; /* the routing decision, for `knoopctl route explain` */
    const uint8_t *envelope;
    size_t envelope_len;
} knoop_store_message_t;

/* A message already journaled under an identity. */
typedef struct knoop_store_message_found {
    uint64_t seq;
    char message_id[33];
    char publisher[16];
    uint8_t *envelope; /* only when asked for: malloc'ed, the caller frees it */
    size_t envelope_len;
} knoop_store_message_found_t;

/* Journals m under the next seq unless the dedup index already holds (sender, message_type, identificatie).
 * 1 stored (*seq set), 0 the identity is taken (nothing written), or a negative errno. */
int knoop_store_message_insert(knoop_jtx_t *tx, const knoop_store_message_t *m, uint64_t *seq);

/* The message journaled under (sender, message_type, identificatie), identificatie not "": 1 found (out filled;
 * out->envelope too when want_envelope), 0 none, or a negative errno. */
int knoop_store_message_find(knoop_jtx_t *tx, const char *sender, const char *message_type, const char *identificatie,
                             bool want_envelope, knoop_store_message_found_t *out);

/* The streams row of a stream created on the loop (ignored when it exists). */
int knoop_store_stream_create(knoop_jtx_t *tx, int64_t stream_id, const char *name, int64_t created_us);
/* The message seq is in the stream. */
int knoop_store_stream_append(knoop_jtx_t *tx, int64_t stream_id, uint64_t seq);
/* A message no rule routes: an open dead letter with source "routing" and the reason. */
int knoop_store_dead_letter_unroutable(knoop_jtx_t *tx, uint64_t seq, const char *reason, int64_t created_us);
#endif
