/* route_state.h — what the router remembers: the member serving each white-label client (sticky, with former members),
 * the load per member, and the clients passed to subcontractors. O(1) in memory; exported/imported as rows for SQLite. */
#ifndef KNOOP_ROUTE_STATE_H
#define KNOOP_ROUTE_STATE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/network.h"

#define KNOOP_CLIENT_REF_MAX 32 /* the pseudonymised client reference (a keyed hash of the BSN) */

typedef struct knoop_route_state knoop_route_state_t;

typedef enum knoop_route_row_kind {
    KNOOP_ROW_STICKY = 1, /* scope = contract name, party = member serving (or who served last) */
    KNOOP_ROW_PASSED = 2, /* scope = subcontractor code, party = its main contractor */
} knoop_route_row_kind_t;

/* One persisted entry. Names and codes rather than indexes, so rows survive a configuration reload. */
typedef struct knoop_route_row {
    knoop_route_row_kind_t kind;
    uint8_t client_ref[KNOOP_CLIENT_REF_MAX];
    size_t client_ref_len;
    char scope[KNOOP_NAME_MAX];
    char party[KNOOP_CODE_MAX];
    bool active; /* sticky: the member serves the client now; passed: still passed */
    char former[KNOOP_MAX_COOP_MEMBERS * KNOOP_CODE_MAX]; /* sticky: members who served before, comma-separated */
} knoop_route_row_t;

/* A sticky entry as the router reads it. */
typedef struct knoop_sticky {
    int member_slot; /* the member serving (or who served last) */
    bool active;
    uint64_t former; /* slots of members who served this client before under this contract */
} knoop_sticky_t;

/* The state is bound to one network (borrowed; it must outlive the state). After a reload, make a new state for
 * the new network and import the old one's rows. */
int knoop_route_state_new(const knoop_network_t *net, size_t expected_clients, knoop_route_state_t **out);
void knoop_route_state_destroy(knoop_route_state_t **st);
size_t knoop_route_state_count(const knoop_route_state_t *st); /* entries of both kinds */

/* Sticky map. Returns 0 and fills *out, or -ENOENT; -EINVAL for a reference of the wrong size. */
int knoop_route_state_sticky(const knoop_route_state_t *st, const knoop_contract_t *c, const uint8_t *ref, size_t len,
                             knoop_sticky_t *out);
/* The member now serving the client: the previous one (if different) joins `former`; load follows. */
int knoop_route_state_assign(knoop_route_state_t *st, const knoop_contract_t *c, const uint8_t *ref, size_t len,
                             int member_slot);
/* The care ended: the entry stays (history, and a returning client goes back to the same member), load drops. */
int knoop_route_state_release(knoop_route_state_t *st, const knoop_contract_t *c, const uint8_t *ref, size_t len);
uint32_t knoop_route_state_load(const knoop_route_state_t *st, int member_slot);

/* Subcontracting: clients a main contractor passed to a subcontractor. */
bool knoop_route_state_is_passed(const knoop_route_state_t *st, const knoop_party_t *sub, const uint8_t *ref,
                                 size_t len);
int knoop_route_state_pass(knoop_route_state_t *st, const knoop_party_t *sub, const uint8_t *ref, size_t len);
int knoop_route_state_unpass(knoop_route_state_t *st, const knoop_party_t *sub, const uint8_t *ref, size_t len);

/* Rows. export calls cb for every entry (stops at and returns its first non-zero result); row fills one entry
 * (-ENOENT if absent; scope is a contract for STICKY, a subcontractor for PASSED); import adds one row and
 * returns -ENOENT when the current network no longer knows its contract, subcontractor or member. */
typedef int (*knoop_route_row_cb)(const knoop_route_row_t *row, void *arg);
int knoop_route_state_export(const knoop_route_state_t *st, knoop_route_row_cb cb, void *arg);
int knoop_route_state_row(const knoop_route_state_t *st, knoop_route_row_kind_t kind, const void *scope,
                          const uint8_t *ref, size_t len, knoop_route_row_t *row);
int knoop_route_state_import(knoop_route_state_t *st, const knoop_route_row_t *row);
/* Forgets every entry of the client ref (both kinds, every scope), calling removed (may be NULL) with each as a row
 * first, so a caller can import them again to undo. Returns how many went, -EINVAL or -ENOMEM (nothing changed). */
int knoop_route_state_forget(knoop_route_state_t *st, const uint8_t *ref, size_t len, knoop_route_row_cb removed,
                             void *arg);
#endif
