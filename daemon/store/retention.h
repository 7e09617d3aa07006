/* retention.h — the purge's reads and writes: a window of messages in seq order (seq, kind, accepted time) for the
 * loop to pick the expired ones from, and one writer call that deletes a batch of them with what goes with them. */
#ifndef KNOOP_STORE_RETENTION_H
#define KNOOP_STORE_RETENTION_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* One message of the window; return 0 to go on, anything else stops the scan and is returned. */
typedef int (*knoop_store_scan_fn)(void *ctx, uint64_t seq, int kind, int64_t accepted_us);
/* Loop thread: up to limit messages with seq > after_seq, ascending (a primary-key range). 0, each's stop value, or
 * -EIO. */
int knoop_store_retention_scan(knoop_journal_t *j, uint64_t after_seq, uint64_t limit, knoop_store_scan_fn each,
                               void *ctx);
/* Writer thread: deletes the messages seqs[0..n) (ascending, n > 0) — their dedup keys with them, a partial index on
 * messages —, the entries of the streams stream_ids[0..nstreams) in [seqs[0], seqs[n-1]] whose message is gone and
 * the expectations those messages opened, and expires the open or retrying dead letters of those messages (the rows
 * stay as the record). 0 or -EIO. */
int knoop_store_retention_purge(knoop_jtx_t *tx, const uint64_t *seqs, size_t n, const int64_t *stream_ids,
                                size_t nstreams, int64_t now_us);
#endif
