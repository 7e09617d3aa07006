/* audit.h — the audit table: one row per operator action (when, who, what, on which object), written by the writer
 * inside the transaction of the action it records, so an action and its audit row commit together or not at all. */
#ifndef KNOOP_STORE_AUDIT_H
#define KNOOP_STORE_AUDIT_H
#include <stdint.h>
#include "store/journal.h"

/* Writer thread (inside an op's apply): one audit row. Returns 0 or -EIO. */
int knoop_store_audit_insert(knoop_jtx_t *tx, int64_t at_us, const char *actor, const char *action, const char *detail);
#endif
