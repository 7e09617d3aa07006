/* dlq.h — the operator's side of the dead_letters table: finding rows by id or by filters, and the moves an
 * operator makes on them (a state change; a routing dead letter routed again, which moves its message to a new
 * seq). Delivery's own writes (a dead letter made, a retried one settled) are delivery's. */
#ifndef KNOOP_STORE_DLQ_H
#define KNOOP_STORE_DLQ_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

typedef struct knoop_store_dead_letter {
    int64_t id, created_us;
    uint64_t seq;
    char stream[64], subscriber[72], source[16], reason[320], state[16];
    int attempts;
} knoop_store_dead_letter_t;

typedef struct knoop_store_dlq_filter {
    int64_t id;         /* > 0: that row only (the other filters still apply) */
    const char *stream; /* NULL: any */
    const char *reason; /* a part of the reason; NULL: any */
    const char *state;  /* NULL: any */
    int64_t limit;      /* most rows, >= 1 */
} knoop_store_dlq_filter_t;

/* Loop thread (reader connection): the rows the filter selects, oldest first, into a malloc'd array the caller
 * frees (*out NULL when none). By id: the primary key; by state: its index (state, id); else the table in id order,
 * stopping after limit rows. Returns 0, -ENOMEM, or -EIO; err says what. */
int knoop_store_dlq_select(knoop_journal_t *j, const knoop_store_dlq_filter_t *f, knoop_store_dead_letter_t **out,
                           size_t *n, char *err, size_t errlen);

/* Writer thread: a dead letter's new state ("discarded", "retrying", "retried"), settled at now_us. -ENOENT: no
 * such row. */
int knoop_store_dlq_set_state(knoop_jtx_t *tx, int64_t id, const char *state, int64_t now_us);

/* A stream a moved message is appended to; create: the stream has no row yet (name and id are the loop's). */
typedef struct knoop_store_dlq_target {
    int64_t stream_id;
    const char *name;
    bool create;
} knoop_store_dlq_target_t;

/* Writer thread: a routing dead letter routed again. Its message moves from seq to new_seq (after every cursor, so
 * subscribers see it) with the new decision and, when envelope is not NULL, the rewritten envelope; its dead
 * letters follow it; its entry on the deadletters stream (deadletters_id, 0: none) goes; it is appended to each
 * target. Returns 0, -ENOENT (the message is gone: purged), or -EIO. */
int knoop_store_dlq_move_message(knoop_jtx_t *tx, uint64_t seq, uint64_t new_seq, const char *route,
                                 const uint8_t *envelope, size_t envelope_len, int64_t deadletters_id,
                                 const knoop_store_dlq_target_t *targets, size_t ntargets, int64_t now_us);
#endif
