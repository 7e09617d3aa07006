/* alerts_view.h — the operator's read of the alerts stream (`knoopctl alerts`): its latest entries with their
 * stored envelopes, newest first. Writing alerts is the legacy layer's; this file only reads them back. */
#ifndef KNOOP_STORE_ALERTS_VIEW_H
#define KNOOP_STORE_ALERTS_VIEW_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

typedef struct knoop_store_alert {
    uint64_t seq;
    int64_t accepted_us;
    const uint8_t
        *envelope; /* the packed knoop.Envelope, opened (payload: the alert as JSON); borrowed during the callback */
    size_t envelope_len;
} knoop_store_alert_t;

typedef void (*knoop_store_alert_fn)(void *ctx, const knoop_store_alert_t *a);

/* Loop thread (reader connection): calls fn for the latest limit entries of the stream stream_id (the alerts
 * stream's id), newest first, through stream_entries' primary key (stream_id, seq) and the messages' rowid.
 * Returns 0, or -EIO with err set. */
int knoop_store_alerts_latest(knoop_journal_t *j, int64_t stream_id, int64_t limit, knoop_store_alert_fn fn, void *ctx,
                              char *err, size_t errlen);
#endif
