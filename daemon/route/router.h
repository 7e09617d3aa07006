/* router.h — the routing decision of DESIGN §4, a pure function of network, route state and one message's facts:
 * the streams to append to, the sender identity receivers see, the rule that fired and why; plus stream authorisation. */
#ifndef KNOOP_ROUTER_H
#define KNOOP_ROUTER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "route/domain_check.h"
#include "knoop.pb-c.h"
#include "config/network.h"
#include "route/route_state.h"

#define KNOOP_ROUTE_MAX_STREAMS 12
#define KNOOP_STREAM_NAME_MAX   24 /* "outcomes.99990000" and the like */
#define KNOOP_ROUTE_EXPLAIN_MAX 320

typedef enum knoop_route_rule {
    KNOOP_RULE_NONE = 0,
    KNOOP_RULE_WHITE_LABEL_IN,   /* 1: financier -> cooperative, dispatched to a member */
    KNOOP_RULE_WHITE_LABEL_OUT,  /* 1: member (or the cooperative) -> white-label financier, as the cooperative */
    KNOOP_RULE_LEGACY,           /* 2: to/from a provider under its own AGB, unchanged */
    KNOOP_RULE_CHANGE_PROVIDER,  /* 3: the client moves to another member; the sticky map follows */
    KNOOP_RULE_SUBCONTRACT_PASS, /* 4: a main contractor passes (a message about) a client to a subcontractor */
    KNOOP_RULE_SUBCONTRACT_UP,   /* 4: a subcontractor's message goes to its main contractor */
    KNOOP_RULE_OUTCOME,          /* 5: outcome report to outcomes.<financier> (+ co-financiers) */
    KNOOP_RULE_INTERNAL,         /* cooperative <-> member, consortium partners among themselves */
    KNOOP_RULE_DEAD_LETTER,      /* 6: no rule routes it; the reason says why */
} knoop_route_rule_t;

const char *knoop_route_rule_name(knoop_route_rule_t r); /* "white-label-in", ... */

typedef enum knoop_route_change {
    KNOOP_CHANGE_NONE = 0,
    KNOOP_CHANGE_ASSIGNED, /* a new sticky entry, or a returning client re-activated */
    KNOOP_CHANGE_MOVED,    /* change of provider */
    KNOOP_CHANGE_RELEASED, /* stop: the member no longer serves the client */
    KNOOP_CHANGE_PASSED,   /* client passed to a subcontractor */
    KNOOP_CHANGE_UNPASSED, /* subcontractor's part stopped */
} knoop_route_change_t;

/* The routing facts of one message (all borrowed for the call). */
typedef struct knoop_route_in {
    const char *sender;        /* party code, authenticated by the session */
    const char *receiver;      /* party code, or NULL / "": routed by rule */
    int kind;                  /* Knoop__Kind (proto/knoop.proto) */
    const char *message_type;  /* e.g. "WMO301", "knoop.domain.Referral"; may be NULL */
    const char *product;       /* product from the referral/assignment; may be NULL */
    const uint8_t *client_ref; /* pseudonymised client reference; NULL/0 for contract-level messages */
    size_t client_ref_len;
    const char *correlation_id;     /* may be NULL */
    const char *preferred_provider; /* REFERRAL: the client's own choice (knoop_domain_facts_t); may be NULL */
    const char *new_provider;       /* PLAN_UPDATE, change of provider at the client's request: the new member */
} knoop_route_in_t;

typedef struct knoop_route_decision {
    knoop_route_rule_t rule;
    bool dead_letter; /* then streams = {"deadletters"} and explanation is the reason */
    size_t n_streams;
    char streams[KNOOP_ROUTE_MAX_STREAMS][KNOOP_STREAM_NAME_MAX];
    char sender_as_seen[KNOOP_CODE_MAX];       /* the envelope's sender as every receiver must see it */
    char receiver[KNOOP_CODE_MAX];             /* the party the message is for ("" for outcome fan-out, dead letters) */
    char member[KNOOP_CODE_MAX];               /* white-label: the member chosen / serving; "" otherwise */
    const knoop_contract_t *contract;          /* the contract the rule applied (borrowed), or NULL */
    knoop_route_change_t change;               /* what the decision changed in the route state (persist that row) */
    char explanation[KNOOP_ROUTE_EXPLAIN_MAX]; /* for operators (`knoopctl route explain`); never delivered: it
                                                   may name the member behind a white-label identity */
} knoop_route_decision_t;

/* Fills the routing facts from a published envelope, the client reference knoopd derived from its BSN (NULL/0 when
 * the message has none) and, for native payloads, the facts knoop_domain_check() extracted (may be NULL). The
 * strings stay borrowed from env and facts. */
void knoop_route_in_from_envelope(knoop_route_in_t *in, const Knoop__Envelope *env, const uint8_t *client_ref,
                                  size_t client_ref_len, const knoop_domain_facts_t *facts);

/* Decides and updates the route state. Returns 0 with a decision (which may be a dead letter), -EINVAL when an
 * argument is NULL, -ENOMEM when the state could not grow (no decision then: retry or refuse the message). */
int knoop_route(const knoop_network_t *net, knoop_route_state_t *st, const knoop_route_in_t *in,
                knoop_route_decision_t *out);

/* The same decision without changing the route state: what `knoopctl route explain` shows for a message that
 * was not sent (change then says what *would* change). */
int knoop_route_explain(const knoop_network_t *net, const knoop_route_state_t *st, const knoop_route_in_t *in,
                        knoop_route_decision_t *out);

/* May this party read this stream? Its own inbox and (financiers) outcome stream; a municipality also reads its
 * neighbourhood teams' inboxes; a main contractor its subcontractors' inboxes. `alerts` and `deadletters` are
 * for operators (control socket), not parties. A financier never reads another financier's streams. */
bool knoop_router_may_read(const knoop_network_t *net, const char *party, const char *stream);
#endif
