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
/* The message descriptor of such a content type, or NULL. */
const ProtobufCMessageDescriptor *knoop_domain_descriptor(const char *content_type);

/* The white-label rewrite of a native payload (domain_whitelabel.c): decoded with the content type's descriptor,
 * every code of members[0..n) (AGB codes) in a free-text or provider-code string field (Referral.need,
 * Referral.preferred_provider, Goal.description, PlanUpdate.reason, PlanUpdate.new_provider, IndicatorValue.text,
 * RetourCode.message, Retour.reason) replaced by `to`, and the message packed again. Returns 0 with *out = NULL when
 * no string field holds a member code (the payload goes as it is), 0 with *out (malloc'd, *out_len bytes) when one was
 * rewritten, -EPERM when another field holds one (its name in where, "knoop.domain.PlanUpdate.plan_id"), -EBADMSG
 * when the payload does not decode, -ENOTSUP for an unknown content type, -ENOMEM. Fields protobuf-c does not know
 * are kept as they are: the caller's byte check sees them. */
int knoop_domain_whitelabel(const char *content_type, const uint8_t *payload, size_t len, const char *const *members,
                            size_t n, const char *to, uint8_t **out, size_t *out_len, char *where, size_t wherelen);

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
