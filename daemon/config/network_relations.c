/* network_relations.c — questions about how parties and contracts relate (which contracts a party has, between
 * whom, co-financing, main contractors, offered products, budget bands), answered from the built structures alone. */
#include "config/network.h"
#include <string.h>

static size_t contracts_where(const knoop_party_t *p, bool as_financier, const knoop_contract_t **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; p && i < p->n_contracts; i++) {
        const knoop_contract_t *c = p->contracts[i];
        bool hit = as_financier ? c->financier == p : c->provider == p || knoop_contract_has_member(c, p);
        if (!hit && !as_financier)
            for (size_t k = 0; k < c->n_subcontractors; k++)
                hit |= c->subcontractors[k] == p;
        if (hit) {
            if (n < cap)
                out[n] = c;
            n++;
        }
    }
    return n;
}

size_t knoop_network_contracts_of_financier(const knoop_network_t *net, const knoop_party_t *financier,
                                            const knoop_contract_t **out, size_t cap)
{
    (void)net;
    return contracts_where(financier, true, out, cap);
}

size_t knoop_network_contracts_of_provider(const knoop_network_t *net, const knoop_party_t *provider,
                                           const knoop_contract_t **out, size_t cap)
{
    (void)net;
    return contracts_where(provider, false, out, cap);
}

bool knoop_contract_has_member(const knoop_contract_t *c, const knoop_party_t *p)
{
    for (size_t i = 0; p && i < c->n_members; i++)
        if (c->members[i] == p)
            return true;
    return false;
}

bool knoop_contract_is_co_financier(const knoop_contract_t *c, const knoop_party_t *p)
{
    for (size_t i = 0; p && i < c->n_co_financiers; i++)
        if (c->co_financiers[i] == p)
            return true;
    return false;
}

const knoop_contract_t *knoop_network_contract_between(const knoop_network_t *net, const knoop_party_t *financier,
                                                       const knoop_party_t *provider)
{
    (void)net;
    const knoop_contract_t *white = NULL;
    for (size_t i = 0; financier && provider && i < financier->n_contracts; i++) {
        const knoop_contract_t *c = financier->contracts[i];
        if (c->financier != financier)
            continue;
        if (c->identity == KNOOP_IDENTITY_LEGACY && (c->provider == provider || knoop_contract_has_member(c, provider)))
            return c;
        if (c->identity == KNOOP_IDENTITY_WHITE_LABEL && c->provider == provider)
            white = c;
    }
    return white;
}

const knoop_contract_t *knoop_network_white_label_of(const knoop_network_t *net, const knoop_party_t *financier)
{
    (void)net;
    for (size_t i = 0; financier && i < financier->n_contracts; i++) {
        const knoop_contract_t *c = financier->contracts[i];
        if (c->financier == financier && c->identity == KNOOP_IDENTITY_WHITE_LABEL)
            return c;
    }
    return NULL;
}

const knoop_party_t *knoop_party_financier(const knoop_party_t *p)
{
    if (p == NULL)
        return NULL;
    if (knoop_party_kind_is_financier(p->kind))
        return p;
    return p->kind == KNOOP_PARTY_BUURTTEAM ? p->gemeente : NULL;
}

const knoop_party_t *knoop_party_main_contractor(const knoop_party_t *p)
{
    return p ? p->main_contractor : NULL;
}

bool knoop_party_offers(const knoop_party_t *p, const char *product)
{
    for (size_t i = 0; p && product && i < p->n_products; i++)
        if (strcmp(p->products[i], product) == 0)
            return true;
    return false;
}

knoop_budget_state_t knoop_budget_state(const knoop_budget_t *b, double spent, double *deviation_pct)
{
    if (b == NULL || !b->present || !(b->amount > 0))
        return KNOOP_BUDGET_NONE;
    double dev = (spent - b->amount) / b->amount * 100.0;
    if (deviation_pct)
        *deviation_pct = dev;
    const double eps = 1e-9; /* exactly on the band edge is inside, whatever the rounding */
    if (dev > b->band_above_pct + eps)
        return KNOOP_BUDGET_OVER;
    if (dev < -b->band_below_pct - eps)
        return KNOOP_BUDGET_UNDER;
    return KNOOP_BUDGET_WITHIN;
}

const knoop_indicator_t *knoop_indicator_set_find(const knoop_indicator_set_t *set, const char *name)
{
    for (size_t i = 0; set && name && i < set->n_indicators; i++)
        if (strcmp(set->indicators[i].name, name) == 0)
            return &set->indicators[i];
    return NULL;
}
