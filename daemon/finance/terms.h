/* terms.h — what a contract's financing model allows, asked by the iWmo/iJw adapter before it checks a message: a 301
 * (a beschikking) only where the contract has assignments, a 323 only where it pays declarations (not a lump sum).
 * The product scope and the required indicators of native payloads are checked by route/domain_check.c. */
#ifndef KNOOP_FINANCE_TERMS_H
#define KNOOP_FINANCE_TERMS_H
#include <stdbool.h>
#include <stddef.h>
#include "config/network.h"

/* The contract an exchange between two parties falls under: the one binding the financier (or the team speaking for
 * it) and the provider side (the contracted provider, a listed member or partner, or a member of the cooperative
 * taking part in the financier's white-label contract). NULL when none does. */
const knoop_contract_t *knoop_terms_contract_of(const knoop_network_t *net, const char *sender, const char *receiver);

/* May an iWmo/iJw message of this number (301, 323, ...) travel under the contract? 0, or -EPERM with a reason that
 * names the contract and what it lacks. A NULL contract allows everything (routing decides what has no contract). */
int knoop_terms_check_istd(const knoop_contract_t *c, int number, const char *message_type, char *reason,
                           size_t reason_len);
#endif
