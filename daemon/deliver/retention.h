/* retention.h — how long messages are kept (retention_days, with per-kind overrides in retention_per_kind) and the
 * purge job that deletes older ones in small batches off the hot path, with their stream entries and dedup keys. */
#ifndef KNOOP_RETENTION_H
#define KNOOP_RETENTION_H
#include <stddef.h>
#include <stdint.h>
#include "core/broker.h"

#define KNOOP_RETENTION_KINDS 15 /* Kind values 0 .. OTHER (14) */

/* "outcome-report=3650d, alert=90d, referral=30s": kind names as knoop_kind_name spells them, a number with unit
 * s, m, h or d (no unit: days). Every kind not named keeps default_days. Returns 0 or -EINVAL with err set. */
int knoop_retention_parse(const char *spec, uint64_t default_days, int64_t out_s[KNOOP_RETENTION_KINDS], char *err,
                          size_t errlen);
/* Writer thread: deletes a stream's entries in [lo, hi] whose message is gone (purged, or moved by dlq retry). */
int knoop_retention_drop_entries(knoop_jtx_t *tx, int64_t stream_id, uint64_t lo, uint64_t hi);
/* Queues purge batches now (at most max_batches, one journal op each); *selected says how many messages. */
int knoop_retention_run(knoop_broker_t *b, int max_batches, uint64_t *selected);
/* retention.c: the purge job (off the hot path, small batches) */
void knoop_retention_tick(knoop_broker_t *b);

#endif
