/* cursors.h — the subscribers table: one durable cursor per (stream, subscriber name), acked_seq (everything at or
 * below it is settled) and delivered_seq (the delivery lease: what may have been sent before a restart). */
#ifndef KNOOP_STORE_CURSORS_H
#define KNOOP_STORE_CURSORS_H
#include <stdint.h>
#include "store/journal.h"

/* Writer thread: inserts or updates the cursor. 0 or -EIO. */
int knoop_store_cursor_put(knoop_jtx_t *tx, int64_t stream_id, const char *name, uint64_t acked_seq,
                           uint64_t delivered_seq, int64_t now_us);
/* Loop thread: 1 with the stored cursor, 0 when (stream_id, name) has none, -EIO. One primary-key look-up. */
int knoop_store_cursor_get(knoop_journal_t *j, int64_t stream_id, const char *name, uint64_t *acked_seq,
                           uint64_t *delivered_seq);
#endif
