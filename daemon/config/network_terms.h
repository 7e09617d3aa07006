/* network_terms.h — for network.c only: the build steps of the contract terms (network_terms.c), so that the network's
 * core (parties, relations, routing dimensions) and the terms a financier pays for stay two files. */
#ifndef KNOOP_NETWORK_TERMS_H
#define KNOOP_NETWORK_TERMS_H
#include "config/network.h"

/* The products' iWmo/iJw codes (network.products[i].istd_code): shape and uniqueness. 0 or -EINVAL with err. */
int knoop_network_check_istd_codes(const knoop_network_t *net, const knoop_network_doc_t *doc, knoop_cfg_error_t *err);
/* Builds and checks contract i's terms (period, scope, budget model and shares, the messages its financing allows,
 * the reporting calendar's required and watched indicators) after its parties, budget and tariffs are resolved.
 * 0, -ENOMEM, or -EINVAL with err naming the YAML path. */
int knoop_network_check_terms(const knoop_network_t *net, const knoop_network_doc_contract_t *d, knoop_contract_t *c,
                              size_t i, knoop_cfg_error_t *err);
/* Frees what knoop_network_check_terms allocated for c (also after a failure half-way). */
void knoop_network_free_terms(knoop_contract_t *c);
#endif
