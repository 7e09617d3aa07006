/* route_state.h — typed calls on the route_state table: the router's memory that must survive a restart (sticky client
 * -> member per contract, clients passed to a subcontractor; route/route_state.h). A row is upserted in the
 * transaction of the message whose routing changed it (writer side) and all rows are read once at start-up. */
#ifndef KNOOP_STORE_ROUTE_STATE_H
#define KNOOP_STORE_ROUTE_STATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* One row; strings and client_ref borrowed for the call. kind: 1 sticky, 2 passed (knoop_route_row_kind_t). */
typedef struct knoop_store_route_row {
    int kind;
    const char *scope; /* contract name (sticky) or subcontractor code (passed) */
    const uint8_t *client_ref;
    size_t client_ref_len;
    const char *party;
    bool active;
    const char *former; /* comma-separated members who served before */
} knoop_store_route_row_t;

/* Writer side: insert or replace the row of (kind, scope, client_ref). 0 or a negative errno. */
int knoop_store_route_state_put(knoop_jtx_t *tx, const knoop_store_route_row_t *row, int64_t now_us);

/* Start-up (loop thread, reader connection): calls each for every row; stops at and returns each's first non-zero
 * result. 0, or a negative errno with errbuf saying why. */
int knoop_store_route_state_each(knoop_journal_t *j, int (*each)(const knoop_store_route_row_t *row, void *arg),
                                 void *arg, char *errbuf, size_t errlen);
#endif
