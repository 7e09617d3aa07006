/* domain_check.h — checks native payloads (proto/domain.proto) against the network and their contract (indicator set,
 * scales, periods, products, providers) and extracts the routing facts they carry (product, preferred/new provider). */
#ifndef KNOOP_DOMAIN_CHECK_H
#define KNOOP_DOMAIN_CHECK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "domain.pb-c.h"
#include "config/network.h"

#define KNOOP_DOMAIN_SCHEMA_VERSION  1
#define KNOOP_DOMAIN_MAX_PERIOD_DAYS 400  /* a yearly report plus slack; longer periods are a mistake */
#define KNOOP_DOMAIN_MAX_LIST_ITEMS  1000 /* the default of the max_list_items setting */

/* What the router needs from a payload (see knoop_route_in_t); empty strings when absent. */
typedef struct knoop_domain_facts {
    char message[40]; /* "knoop.domain.Referral", ... */
    char product[KNOOP_NAME_MAX];
    char preferred_provider[KNOOP_CODE_MAX]; /* Referral: the client's choice */
    char new_provider[KNOOP_CODE_MAX];       /* PlanUpdate PROVIDER_CHANGED at the client's request */
    bool needs_client;                       /* about one client: the envelope must carry client_bsn */
    bool forbids_client;                     /* contract/population level: the envelope must not carry one */
} knoop_domain_facts_t;

/* True for "application/x-protobuf; knoop.domain.<Message>" with a message this module knows. */
bool knoop_domain_is_native(const char *content_type);

/* Decodes and checks one native payload. contract may be NULL before routing: then the checks that need it use
 * the contract (or indicator set) the payload names, or are left for a second call with the routed contract;
 * facts may be NULL. Returns 0, or with a reason for a person to act on:
 * -ENOTSUP (not a known knoop.domain content type, or a schema_version this knoopd does not speak),
 * -EBADMSG (the payload does not decode), -EINVAL (the content is invalid for the network or contract). */
int knoop_domain_check(const knoop_network_t *net, const knoop_contract_t *contract, const char *content_type,
                       const uint8_t *payload, size_t len, knoop_domain_facts_t *facts, char *reason,
                       size_t reason_len);

/* The same, with at most max_list_items items in any list field (the max_list_items setting; knoop_domain_check uses
 * its default). Decoding may allocate at most KNOOP_PB_BUDGET(len) bytes: a payload that needs more is -EINVAL. */
int knoop_domain_check_bounded(const knoop_network_t *net, const knoop_contract_t *contract, const char *content_type,
                               const uint8_t *payload, size_t len, size_t max_list_items, knoop_domain_facts_t *facts,
                               char *reason, size_t reason_len);

/* Does the envelope's client (present or not) fit what the payload is about? 0, or -EINVAL with a reason. */
int knoop_domain_check_client(const knoop_domain_facts_t *facts, bool has_client, char *reason, size_t reason_len);

/* The same checks on decoded messages. */
int knoop_domain_check_referral(const knoop_network_t *net, const knoop_contract_t *contract,
                                const Knoop__Domain__Referral *m, char *reason, size_t reason_len);
int knoop_domain_check_plan_update(const knoop_network_t *net, const knoop_contract_t *contract,
                                   const Knoop__Domain__PlanUpdate *m, char *reason, size_t reason_len);
int knoop_domain_check_outcome(const knoop_network_t *net, const knoop_contract_t *contract,
                               const Knoop__Domain__OutcomeReport *m, char *reason, size_t reason_len);
int knoop_domain_check_retour(const knoop_network_t *net, const knoop_contract_t *contract,
                              const Knoop__Domain__Retour *m, char *reason, size_t reason_len);

/* "YYYY-MM-DD" to days since 1970-01-01; -EINVAL for anything else (including 2026-02-30). */
int knoop_domain_parse_date(const char *s, int32_t *days);
#endif
