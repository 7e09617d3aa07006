/* clients.h — what the journal keeps about a client beyond its messages, keyed by its internal client reference: the
 * ledger sets, the route state, the expectations its messages opened, and when its last message came (`clients`,
 * refreshed at most once per interval: ingest/client_seen.h). Forgetting a client removes them all: an operator's
 * `forget client` (audited), or the forget job for a client whose last message is older than every retention. */
#ifndef KNOOP_STORE_CLIENTS_H
#define KNOOP_STORE_CLIENTS_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

typedef struct knoop_store_client_rows {
    uint64_t ledger, route_state, expectations;
} knoop_store_client_rows_t;

/* Writer thread: the client's last message came at seen_us (kept if a later one is recorded). 0 or a negative errno. */
int knoop_store_client_seen(knoop_jtx_t *tx, const uint8_t *ref, size_t len, int64_t seen_us);
/* Writer thread: deletes every ledger set, route-state row and expectation of the client, and its `clients` row;
 * *gone (may be NULL) counts what went. 0 or a negative errno. */
int knoop_store_client_forget(knoop_jtx_t *tx, const uint8_t *ref, size_t len, knoop_store_client_rows_t *gone);

/* Loop thread (reader), each an index look-up: */
/* How many rows of each table the client has. 0 or a negative errno. */
int knoop_store_client_count(knoop_journal_t *j, const uint8_t *ref, size_t len, knoop_store_client_rows_t *out);
/* Up to max clients whose last message came before before_us, the longest unseen first (the clients_seen index): 32
 * bytes each into refs. How many, or a negative errno. */
int knoop_store_clients_unseen(knoop_journal_t *j, int64_t before_us, uint8_t (*refs)[32], size_t max);
#endif
