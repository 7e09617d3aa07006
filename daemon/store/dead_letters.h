/* dead_letters.h — the dead_letters table: a message a subscriber group failed redelivery_max_attempts times (source
 * 'delivery') or that no routing rule could place (source 'routing'), kept as a record with its state: open,
 * retrying, retried, discarded, expired. */
#ifndef KNOOP_STORE_DEAD_LETTERS_H
#define KNOOP_STORE_DEAD_LETTERS_H
#include <stdint.h>
#include "store/journal.h"

/* Writer thread: a new open row; *id (may be NULL) its id. 0 or -EIO. */
int knoop_store_dead_letter_insert(knoop_jtx_t *tx, uint64_t seq, const char *stream, const char *subscriber,
                                   const char *source, const char *reason, uint32_t attempts, int64_t now_us,
                                   int64_t *id);
/* Writer thread: a row's new state, settled at now_us; reason NULL and attempts < 0 keep what the row holds. */
int knoop_store_dead_letter_set_state(knoop_jtx_t *tx, int64_t id, const char *state, const char *reason, int attempts,
                                      int64_t now_us);
/* Writer thread (the purge): open and retrying rows in [lo, hi] whose message is gone become 'expired'. */
int knoop_store_dead_letters_expire(knoop_jtx_t *tx, uint64_t lo, uint64_t hi, int64_t now_us);

/* One dead letter an operator retried; return 0 to go on, anything else stops the walk and is returned. */
typedef int (*knoop_store_retrying_fn)(void *ctx, int64_t id, uint64_t seq, uint32_t attempts);
/* Loop thread: the group's delivery dead letters in state 'retrying', ascending seq. 0, each's stop value, or -EIO. */
int knoop_store_dead_letters_retrying(knoop_journal_t *j, const char *stream, const char *subscriber,
                                      knoop_store_retrying_fn each, void *ctx);
#endif
