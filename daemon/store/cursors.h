/* cursors.h — the subscribers table: one durable cursor per (stream, subscriber name), acked_seq (everything at or
 * below it is settled), delivered_seq (the delivery lease: what may have been sent before a restart), the party that
 * owns the group (owner) and when the row last changed (updated_us: the idle expiry's clock). */
#ifndef KNOOP_STORE_CURSORS_H
#define KNOOP_STORE_CURSORS_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

#define KNOOP_OWNER_MAX 16 /* a party code and its terminator */

/* Writer thread: inserts or updates the cursor (updated_us = now_us). owner is recorded when the row has none yet,
 * never changed once set. 0 or a negative errno. */
int knoop_store_cursor_put(knoop_jtx_t *tx, int64_t stream_id, const char *name, const char *owner, uint64_t acked_seq,
                           uint64_t delivered_seq, int64_t now_us);
/* Loop thread: 1 with the stored cursor (and, when owner is not NULL, its owner: "" when none is recorded), 0 when
 * (stream_id, name) has none, -EIO. One primary-key look-up. */
int knoop_store_cursor_get(knoop_journal_t *j, int64_t stream_id, const char *name, uint64_t *acked_seq,
                           uint64_t *delivered_seq, char owner[KNOOP_OWNER_MAX]);
/* Loop thread: how many groups owner owns, counting at most limit (its index: a range of at most limit entries).
 * The count, or -EIO. */
int64_t knoop_store_cursors_owned(knoop_journal_t *j, const char *owner, int64_t limit);
/* Loop thread: whether stream_id holds an entry above seq (a group with that cursor has something to deliver).
 * 1, 0, or -EIO. */
int knoop_store_cursor_behind(knoop_journal_t *j, int64_t stream_id, uint64_t seq);

/* A cursor row not changed since before a time (the idle expiry's candidates). Borrowed for the callback. */
typedef struct knoop_store_idle_cursor {
    int64_t stream_id;
    const char *name, *owner;
    uint64_t acked_seq;
    int64_t updated_us;
} knoop_store_idle_cursor_t;
/* Loop thread: the rows last changed after from_us and before before_us, oldest first, at most limit (index
 * subscribers_idle). fn returns non-zero to stop. 0 or -EIO. */
int knoop_store_cursors_idle(knoop_journal_t *j, int64_t from_us, int64_t before_us, int64_t limit,
                             int (*fn)(void *ctx, const knoop_store_idle_cursor_t *c), void *ctx);
/* Writer thread: removes the cursor of (stream_id, name) and its journaled attempts, only if the row is still the
 * one seen (updated_us unchanged: nobody used the group since). 1 removed, 0 not (it moved or is gone), or a
 * negative errno. */
int knoop_store_cursor_expire(knoop_jtx_t *tx, int64_t stream_id, const char *name, int64_t updated_us);
#endif
