/* terms.c — the financing model at the door of the legacy standards: a contract without assignments refuses a 301, a
 * contract that pays no declarations (a lump sum) refuses a 323, each naming the contract, so a message that means
 * nothing under the contract never reaches the financier. A table, so another message-per-term rule is a row. */
#include "finance/terms.h"
#include <errno.h>
#include <stdio.h>

static bool has_assignments(const knoop_contract_t *c)
{
    return c->assignments;
}
static bool has_declarations(const knoop_contract_t *c)
{
    return c->declarations;
}

static const struct {
    int number; /* iWmo/iJw message number */
    bool (*allowed)(const knoop_contract_t *c);
    const char *lacks; /* what the contract does not have, for the reason */
} rules[] = {
    {301, has_assignments, "has no assignments (no beschikking)"},
    {323, has_declarations, "pays no declarations (it is financed as a lump sum)"},
};

const knoop_contract_t *knoop_terms_contract_of(const knoop_network_t *net, const char *sender, const char *receiver)
{
    const knoop_party_t *s = knoop_network_party(net, sender), *r = knoop_network_party(net, receiver);
    if (s == NULL || r == NULL)
        return NULL;
    const knoop_party_t *financier = knoop_party_financier(s), *provider = r;
    if (financier == NULL) {
        financier = knoop_party_financier(r);
        provider = s;
    }
    if (financier == NULL)
        return NULL;
    const knoop_contract_t *c = knoop_network_contract_between(net, financier, provider);
    if (c == NULL && provider->member_slot >= 0) {
        const knoop_contract_t *wl = knoop_network_white_label_of(net, financier);
        if (wl && (wl->member_mask >> provider->member_slot & 1))
            c = wl;
    }
    return c;
}

int knoop_terms_check_istd(const knoop_contract_t *c, int number, const char *message_type, char *reason,
                           size_t reason_len)
{
    if (c == NULL)
        return 0;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].number == number && !rules[i].allowed(c)) {
            snprintf(reason, reason_len, "%s is not part of contract '%s': the contract %s", message_type, c->name,
                     rules[i].lacks);
            return -EPERM;
        }
    return 0;
}
