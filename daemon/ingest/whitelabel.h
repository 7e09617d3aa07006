/* whitelabel.h — the one outbound white-label step, on every path that puts a message on a white-label financier's
 * stream (publishing, `dlq retry`): the payload rewritten so that only the cooperative's AGB code stands where a
 * member's did, then a last check of the bytes; a rewrite that fails or a message that still names a member becomes a
 * dead letter with the reason, never the original. docs/routing.md ("White label without leaks") is the contract. */
#ifndef KNOOP_INGEST_WHITELABEL_H
#define KNOOP_INGEST_WHITELABEL_H
#include <stddef.h>
#include <stdint.h>
#include "core/broker.h"
#include "config/network.h"
#include "ingest/route_step.h"

#define KNOOP_WL_CODES_MAX 128 /* member and subcontractor codes one check compares against */

typedef struct knoop_wl_out {
    uint8_t *payload; /* owned (free): the payload as the financier sees it; NULL: the published one goes as it is */
    size_t payload_len;
} knoop_wl_out_t;

/* The AGB codes that must not reach the streams of route: for each stream of a white-label financier (inbox.<F>,
 * inbox.<F's neighbourhood team>, outcomes.<F>, F having a white-label contract with the cooperative), the codes of
 * the cooperative's members and of the subcontractors working for them, except a party F also contracts under its
 * own AGB (a legacy contract: F knows that code). Fills codes (pointers into net), returns how many; *coop is the
 * cooperative's code (NULL when none). */
size_t knoop_whitelabel_codes(const knoop_network_t *net, const knoop_route_result_t *route, const char **coop,
                              const char **codes, size_t cap);

/* The step itself, after routing and before the message is journaled. env is the envelope as checked (its payload as
 * published; sender the publisher's, route->sender_as_seen what receivers see). Fills out with the rewritten payload,
 * or turns route into a dead letter (route->dead_letter, the deadletters stream, route->reason naming the step: "white-
 * label rewrite failed: ..." or "white-label last check: ...") and leaves out empty. A route that reaches no white-label
 * financier's stream is left as it is. */
void knoop_whitelabel_out(knoop_broker_t *b, const Knoop__Envelope *env, knoop_route_result_t *route,
                          knoop_wl_out_t *out);
#endif
