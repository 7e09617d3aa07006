/* attempts.h — the delivery_attempts table: the attempt count of a delivery that came back (nack, visibility timeout,
 * its member left), per (stream, subscriber name, seq), so the count and the dead-letter limit survive a restart. */
#ifndef KNOOP_STORE_ATTEMPTS_H
#define KNOOP_STORE_ATTEMPTS_H
#include <stdint.h>
#include "store/journal.h"

/* Writer thread: stores (or raises) the count and the last reason. 0 or -EIO. */
int knoop_store_attempts_put(knoop_jtx_t *tx, int64_t stream_id, const char *name, uint64_t seq, uint32_t attempts,
                             const char *reason);
/* Writer thread: the delivery settled (ack, dead letter, purged): its row goes. 0 or -EIO. */
int knoop_store_attempts_delete(knoop_jtx_t *tx, int64_t stream_id, const char *name, uint64_t seq);

/* One stored count; return 0 to go on, anything else stops the walk and is returned. */
typedef int (*knoop_store_attempt_fn)(void *ctx, uint64_t seq, uint32_t attempts);
/* Loop thread: the group's rows with seq > after_seq, ascending (a primary-key range). 0, each's stop value, or
 * -EIO. */
int knoop_store_attempts_each(knoop_journal_t *j, int64_t stream_id, const char *name, uint64_t after_seq,
                              knoop_store_attempt_fn each, void *ctx);
#endif
