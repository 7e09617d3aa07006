/* entries.h — stream_entries (which message is on which stream) and the reads delivery makes of them: a stream's
 * entries with their envelopes from a seq on, one envelope by seq (a redelivery), the first seq at a time. */
#ifndef KNOOP_STORE_ENTRIES_H
#define KNOOP_STORE_ENTRIES_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* Writer thread: puts seq on a stream, unless it is there already. 0 or -EIO. */
int knoop_store_entry_add(knoop_jtx_t *tx, int64_t stream_id, uint64_t seq);
/* Writer thread: deletes a stream's entries in [lo, hi] whose message is gone (purged, or moved by dlq retry).
 * stream_entries has no seq index: a range on its primary key, per stream. 0 or -EIO. */
int knoop_store_entries_drop_orphans(knoop_jtx_t *tx, int64_t stream_id, uint64_t lo, uint64_t hi);

/* Delivery's reader (loop thread): its statements prepared once on the journal's reader connection. Close it before
 * the journal. */
typedef struct knoop_store_entries knoop_store_entries_t;
int knoop_store_entries_open(knoop_journal_t *j, knoop_store_entries_t **out);
void knoop_store_entries_close(knoop_store_entries_t **r);

/* One entry: its seq and envelope (the packed knoop.Envelope, valid until the callback returns). Return 0 to go on,
 * anything else stops the read and is returned. */
typedef int (*knoop_store_entry_fn)(void *ctx, uint64_t seq, const void *envelope, size_t len);
/* The entries of stream_id with seq >= from, ascending, at most limit of them. 0 (all read), each's stop value, or
 * -EIO. The read holds no transaction open after it returns. */
int knoop_store_entries_read(knoop_store_entries_t *r, int64_t stream_id, uint64_t from, uint64_t limit,
                             knoop_store_entry_fn each, void *ctx);
/* One message's envelope by seq: use's return value, or -ENOENT (purged) or -EIO. */
int knoop_store_entries_envelope(knoop_store_entries_t *r, uint64_t seq, knoop_store_entry_fn use, void *ctx);

/* Loop thread: the first seq accepted at or after time_us, by binary search over seq in [1, last_seq + 1]
 * (last_seq + 1: none yet). */
uint64_t knoop_store_seq_at_time(knoop_journal_t *j, int64_t time_us, uint64_t last_seq);
#endif
