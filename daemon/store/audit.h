/* audit.h — the audit table: one row per operator action (when, who, what, on which object), written by the writer
 * inside the transaction of the action it records, so an action and its audit row commit together or not at all.
 * A row about a client's data names the client by its reference (the keyed hash of the BSN, never the BSN). */
#ifndef KNOOP_STORE_AUDIT_H
#define KNOOP_STORE_AUDIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* Writer thread (inside an op's apply): one audit row. Returns 0 or a negative errno. */
int knoop_store_audit_insert(knoop_jtx_t *tx, int64_t at_us, const char *actor, const char *action, const char *detail);
/* The same for an action that read a client's data: client_ref (32 bytes) names the client; with client_ref NULL and
 * seq > 0 the row takes the client reference of message seq (none when it has none or is gone). */
int knoop_store_audit_insert_about(knoop_jtx_t *tx, int64_t at_us, const char *actor, const char *action,
                                   const char *detail, const uint8_t *client_ref, uint64_t seq);
/* Writer thread: deletes at most batch of the oldest rows of audit and of audit_reads (each) that are older than
 * before_us; *deleted says how many went, *more whether a table gave a full batch (there may be more). Bounded: it
 * looks at the batch oldest rows of each table only. */
int knoop_store_audit_expire(knoop_jtx_t *tx, int64_t before_us, size_t batch, size_t *deleted, bool *more);
#endif
