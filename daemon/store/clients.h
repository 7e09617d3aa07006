/* clients.h — what the journal keeps about a client beyond its messages, keyed by its internal client reference: the
 * ledger sets, the route state and the expectations its messages opened. Forgetting a client removes them all (an
 * operator's `forget client`, audited); a purge that removes a client's last message queues the client to be
 * forgotten the same way (forget_queue), so the router's and the ledger's memory follow the rows. */
#ifndef KNOOP_STORE_CLIENTS_H
#define KNOOP_STORE_CLIENTS_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

typedef struct knoop_store_client_rows {
    uint64_t ledger, route_state, expectations;
    uint64_t messages; /* counts only: retained messages about the client (sealed; they go with their retention) */
} knoop_store_client_rows_t;

/* Writer thread: deletes every ledger set, route-state row and expectation of the client, and its forget-queue entry;
 * *gone (may be NULL) counts what went. 0 or a negative errno. */
int knoop_store_client_forget(knoop_jtx_t *tx, const uint8_t *ref, size_t len, knoop_store_client_rows_t *gone);
/* Writer thread: the client leaves the forget queue without anything forgotten (a new message about it came). */
int knoop_store_forget_queue_drop(knoop_jtx_t *tx, const uint8_t *ref, size_t len);

/* Loop thread (reader), each an index look-up: */
/* How many rows of each table the client has. 0 or a negative errno. */
int knoop_store_client_count(knoop_journal_t *j, const uint8_t *ref, size_t len, knoop_store_client_rows_t *out);
/* 1 when a retained message concerns the client, 0 when none does, or a negative errno. */
int knoop_store_client_has_messages(knoop_journal_t *j, const uint8_t *ref, size_t len);
/* The oldest entries of the forget queue: up to max references (32 bytes each) into refs. How many, or -errno. */
int knoop_store_forget_queue_read(knoop_journal_t *j, uint8_t (*refs)[32], size_t max);
#endif
