/* retention.h — the purge job: messages older than their kind's retention (config/retention_spec.h) are deleted in
 * small batches off the hot path, with their stream entries and so their dedup keys. */
#ifndef KNOOP_RETENTION_H
#define KNOOP_RETENTION_H
#include <stddef.h>
#include <stdint.h>
#include "config/retention_spec.h"
#include "core/broker.h"

/* Writer thread: deletes a stream's entries in [lo, hi] whose message is gone (purged, or moved by dlq retry).
 * The same as knoop_store_entries_drop_orphans (store/entries.h), which new callers use. */
int knoop_retention_drop_entries(knoop_jtx_t *tx, int64_t stream_id, uint64_t lo, uint64_t hi);
/* Queues purge batches now (at most max_batches, one journal op each), scanning from the lowest seq; *selected says
 * how many messages. 0 or -errno. The `purge now` command (control/control_retention.c). */
int knoop_retention_run(knoop_broker_t *b, int max_batches, uint64_t *selected);
/* The periodic job: one window every purge_interval_ms, never while a batch is in flight or the daemon stops. */
void knoop_retention_tick(knoop_broker_t *b);

#endif
