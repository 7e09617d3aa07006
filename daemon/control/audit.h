/* audit.h — every operator action leaves a row in the journal's audit table: when, who (the control socket's peer
 * credentials), what and on which object; written in the same transaction as the action wherever there is one. A
 * command that reads a client's data names the client (its reference, never the BSN), so `knoopctl audit client`
 * finds it. */
#ifndef KNOOP_AUDIT_H
#define KNOOP_AUDIT_H
#include <stddef.h>
#include <stdint.h>
#include "core/broker.h"

/* Writer thread: one audit row inside the running transaction (store/audit.h), stamped now. */
int knoop_audit_apply(knoop_jtx_t *tx, const char *actor, const char *action, const char *detail);
/* Loop thread: an audit row on its own (an action that has no journal operation of its own). Returns 0 or -ENOMEM;
 * a failure, now or at commit, is logged (event audit.failed) with the action it would have recorded. */
int knoop_audit_submit(knoop_broker_t *b, const char *action, const char *detail);
/* The same for a command that read a client's data: client_ref (32 bytes) names the client, or, when NULL, the row
 * takes the client reference of message seq (0: none). */
int knoop_audit_submit_about(knoop_broker_t *b, const char *action, const char *detail, const uint8_t *client_ref,
                             uint64_t seq);
#endif
