/* streams.h — the streams table (id, name) and what start-up needs of each stream: its last seq. */
#ifndef KNOOP_STORE_STREAMS_H
#define KNOOP_STORE_STREAMS_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* Writer thread: the stream's row, unless it is there already (INSERT OR IGNORE). 0 or -EIO. */
int knoop_store_stream_insert(knoop_jtx_t *tx, int64_t id, const char *name, int64_t now_us);

/* One stored stream with the highest seq of its entries (0 when it has none); return 0 to go on, anything else
 * stops the walk and is returned. name lives until the callback returns. */
typedef int (*knoop_store_stream_fn)(void *ctx, int64_t id, const char *name, uint64_t last_seq);
/* Loop thread, at start-up: every stream by id, each with one index look-up (start-up does not grow with the number
 * of messages). 0, each's stop value, or -EIO with errbuf set. */
int knoop_store_streams_each(knoop_journal_t *j, knoop_store_stream_fn each, void *ctx, char *errbuf, size_t errlen);
#endif
