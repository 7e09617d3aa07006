/* network.c — builds the validated, indexed knoop_network_t from the parsed document; the first inconsistency is
 * reported with its YAML path and the party or contract it concerns. Everything kept is copied out of the document. */
#include "config/network.h"
#include "base/codes.h"
#include "config/network_terms.h"
#include <errno.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>

struct knoop_network {
    char *name; /* owned, may be NULL */
    knoop_party_t *parties;
    size_t n_parties;              /* owned */
    const knoop_party_t **by_code; /* owned array sorted by code; borrowed parties */
    knoop_indicator_set_t *sets;
    size_t n_sets; /* owned */
    knoop_product_t *products;
    size_t n_products; /* owned, sorted by code */
    knoop_contract_t *contracts;
    size_t n_contracts;               /* owned */
    const knoop_party_t *cooperative; /* borrowed from parties */
    const knoop_party_t *members[KNOOP_MAX_COOP_MEMBERS];
    size_t n_members; /* by slot */
};

bool knoop_party_kind_is_financier(knoop_party_kind_t k)
{
    return k == KNOOP_PARTY_GEMEENTE || k == KNOOP_PARTY_ZORGKANTOOR || k == KNOOP_PARTY_ZORGVERZEKERAAR;
}

bool knoop_party_kind_is_provider(knoop_party_kind_t k)
{
    return k == KNOOP_PARTY_COOPERATIVE || k == KNOOP_PARTY_MEMBER || k == KNOOP_PARTY_PROVIDER ||
           k == KNOOP_PARTY_SUBCONTRACTOR;
}

/* Code shape per kind: one row per kind, so a new kind is one line. */
static bool is_buurtteam_code(const char *s)
{
    return knoop_code_is_agb(s) && strncmp(s, "9998", 4) == 0;
}
static const struct {
    knoop_party_kind_t kind;
    bool (*valid)(const char *);
    const char *shape;
} code_rules[] = {
    {KNOOP_PARTY_GEMEENTE, knoop_code_is_cbs, "a CBS code of 4 digits"},
    {KNOOP_PARTY_ZORGKANTOOR, knoop_code_is_uzovi, "a UZOVI code of 4 digits"},
    {KNOOP_PARTY_ZORGVERZEKERAAR, knoop_code_is_uzovi, "a UZOVI code of 4 digits"},
    {KNOOP_PARTY_COOPERATIVE, knoop_code_is_agb, "an AGB code of 8 digits"},
    {KNOOP_PARTY_MEMBER, knoop_code_is_agb, "an AGB code of 8 digits"},
    {KNOOP_PARTY_PROVIDER, knoop_code_is_agb, "an AGB code of 8 digits"},
    {KNOOP_PARTY_SUBCONTRACTOR, knoop_code_is_agb, "an AGB code of 8 digits"},
    {KNOOP_PARTY_BUURTTEAM, is_buurtteam_code, "8 digits in the neighbourhood-team range 9998xxxx"},
};

/* A standard protocol carries one law's messages: a contract using it must cover that law (when it names laws). */
static const struct {
    knoop_protocol_t protocol;
    unsigned law;
    const char *law_name;
} protocol_laws[] = {
    {KNOOP_PROTO_IWMO_32, KNOOP_LAW_WMO, "wmo"},
    {KNOOP_PROTO_IJW_32, KNOOP_LAW_JEUGDWET, "jeugdwet"},
};

/* Bounds a value type implies when no scale is given. */
static const struct {
    knoop_value_type_t type;
    double min, max;
} type_bounds[] = {
    {KNOOP_VALUE_COUNT, 0, DBL_MAX}, {KNOOP_VALUE_PERCENTAGE, 0, 100}, {KNOOP_VALUE_AMOUNT, -DBL_MAX, DBL_MAX},
    {KNOOP_VALUE_BOOLEAN, 0, 1},     {KNOOP_VALUE_TEXT, 0, 0},
};

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int cmp_party_code(const void *a, const void *b)
{
    return strcmp((*(const knoop_party_t *const *)a)->code, (*(const knoop_party_t *const *)b)->code);
}

static int cmp_product(const void *a, const void *b)
{
    return strcmp(((const knoop_product_t *)a)->code, ((const knoop_product_t *)b)->code);
}

const knoop_party_t *knoop_network_party(const knoop_network_t *net, const char *code)
{
    if (net == NULL || code == NULL || strlen(code) >= KNOOP_CODE_MAX)
        return NULL;
    knoop_party_t key;
    memset(key.code, 0, sizeof key.code);
    strcpy(key.code, code);
    const knoop_party_t *kp = &key;
    const knoop_party_t **hit = bsearch(&kp, net->by_code, net->n_parties, sizeof *net->by_code, cmp_party_code);
    return hit ? *hit : NULL;
}

const knoop_product_t *knoop_network_product(const knoop_network_t *net, const char *code)
{
    if (net == NULL || code == NULL || net->n_products == 0)
        return NULL;
    knoop_product_t key = {.code = (char *)code};
    return bsearch(&key, net->products, net->n_products, sizeof *net->products, cmp_product);
}

static void party_label(const knoop_party_t *p, char *buf, size_t n)
{
    if (p->name)
        snprintf(buf, n, "%s %s (%s)", knoop_party_kind_name(p->kind), p->code, p->name);
    else
        snprintf(buf, n, "%s %s", knoop_party_kind_name(p->kind), p->code);
}

/* ---- parties ---- */
static int build_parties(knoop_network_t *net, const knoop_network_doc_t *doc, knoop_cfg_error_t *err)
{
    char path[128], label[160];
    net->n_parties = doc->parties_count;
    net->parties = calloc(net->n_parties ? net->n_parties : 1, sizeof *net->parties);
    net->by_code = calloc(net->n_parties ? net->n_parties : 1, sizeof *net->by_code);
    if (!net->parties || !net->by_code)
        return -ENOMEM;
    for (size_t i = 0; i < net->n_parties; i++) {
        const knoop_network_doc_party_t *d = &doc->parties[i];
        knoop_party_t *p = &net->parties[i];
        p->index = i;
        p->kind = d->kind;
        p->member_slot = -1;
        snprintf(path, sizeof path, "network.parties[%zu].code", i);
        const char *shape = NULL;
        bool ok = false;
        for (size_t r = 0; r < sizeof code_rules / sizeof code_rules[0]; r++)
            if (code_rules[r].kind == d->kind) {
                ok = code_rules[r].valid(d->code);
                shape = code_rules[r].shape;
            }
        if (shape == NULL) {
            snprintf(path, sizeof path, "network.parties[%zu].kind", i);
            return knoop_cfg_fail(err, path, "party '%s': kind %d is not a party kind", d->code, (int)d->kind);
        }
        if (!ok)
            return knoop_cfg_fail(err, path, "party '%s'%s%s%s: a %s code must be %s", d->code, d->name ? " (" : "",
                                  d->name ? d->name : "", d->name ? ")" : "", knoop_party_kind_name(d->kind), shape);
        strcpy(p->code, d->code);
        if (d->name && !(p->name = strdup(d->name)))
            return -ENOMEM;
        net->by_code[i] = p;
    }
    qsort(net->by_code, net->n_parties, sizeof *net->by_code, cmp_party_code);
    for (size_t i = 1; i < net->n_parties; i++)
        if (strcmp(net->by_code[i - 1]->code, net->by_code[i]->code) == 0) {
            size_t a = net->by_code[i - 1]->index, b = net->by_code[i]->index;
            size_t later = a > b ? a : b, first = a > b ? b : a;
            snprintf(path, sizeof path, "network.parties[%zu].code", later);
            return knoop_cfg_fail(err, path, "party %s: duplicate code (already used by network.parties[%zu])",
                                  net->by_code[i]->code, first);
        }
    /* relations: cooperative, members, main contractors, neighbourhood teams */
    for (size_t i = 0; i < net->n_parties; i++) {
        knoop_party_t *p = &net->parties[i];
        party_label(p, label, sizeof label);
        snprintf(path, sizeof path, "network.parties[%zu]", i);
        if (p->kind == KNOOP_PARTY_COOPERATIVE) {
            if (net->cooperative)
                return knoop_cfg_fail(err, path, "%s: a network has one cooperative, and %s is already it", label,
                                      net->cooperative->code);
            net->cooperative = p;
        }
        if (doc->parties[i].products_count && !knoop_party_kind_is_provider(p->kind)) {
            snprintf(path, sizeof path, "network.parties[%zu].products", i);
            return knoop_cfg_fail(err, path, "%s: only providers offer products", label);
        }
        const char *mc = doc->parties[i].main_contractor;
        if (p->kind == KNOOP_PARTY_SUBCONTRACTOR) {
            if (mc == NULL)
                return knoop_cfg_fail(err, path, "%s has no main_contractor: a subcontractor works for one", label);
            snprintf(path, sizeof path, "network.parties[%zu].main_contractor", i);
            const knoop_party_t *m = knoop_network_party(net, mc);
            if (m == NULL)
                return knoop_cfg_fail(err, path, "%s: unknown main contractor %s", label, mc);
            if (m->kind != KNOOP_PARTY_MEMBER && m->kind != KNOOP_PARTY_PROVIDER && m->kind != KNOOP_PARTY_COOPERATIVE)
                return knoop_cfg_fail(err, path, "%s: main contractor %s is a %s, not a provider", label, mc,
                                      knoop_party_kind_name(m->kind));
            p->main_contractor = m;
        } else if (mc != NULL) {
            snprintf(path, sizeof path, "network.parties[%zu].main_contractor", i);
            return knoop_cfg_fail(err, path, "%s: only a subcontractor has a main_contractor", label);
        }
        const char *gm = doc->parties[i].gemeente;
        if (p->kind == KNOOP_PARTY_BUURTTEAM) {
            if (gm == NULL)
                return knoop_cfg_fail(err, path, "%s has no gemeente: a neighbourhood team belongs to one", label);
            snprintf(path, sizeof path, "network.parties[%zu].gemeente", i);
            const knoop_party_t *g = knoop_network_party(net, gm);
            if (g == NULL || g->kind != KNOOP_PARTY_GEMEENTE)
                return knoop_cfg_fail(err, path, "%s: %s is not a gemeente of this network", label, gm);
            p->gemeente = g;
        } else if (gm != NULL) {
            snprintf(path, sizeof path, "network.parties[%zu].gemeente", i);
            return knoop_cfg_fail(err, path, "%s: only a buurtteam belongs to a gemeente", label);
        }
    }
    for (size_t i = 0; i < net->n_parties; i++) {
        const knoop_party_t *s = &net->parties[i];
        if (s->main_contractor != NULL)
            net->parties[s->main_contractor->index].n_subcontractors++;
    }
    for (size_t i = 0; i < net->n_parties; i++) {
        knoop_party_t *p = &net->parties[i];
        if (p->n_subcontractors && !(p->subcontractors = calloc(p->n_subcontractors, sizeof *p->subcontractors)))
            return -ENOMEM;
        p->n_subcontractors = 0;
    }
    for (size_t i = 0; i < net->n_parties; i++) {
        const knoop_party_t *s = &net->parties[i];
        if (s->main_contractor != NULL) {
            knoop_party_t *m = &net->parties[s->main_contractor->index];
            m->subcontractors[m->n_subcontractors++] = s;
        }
    }
    for (size_t i = 0; i < net->n_parties; i++) {
        knoop_party_t *p = &net->parties[i];
        if (p->kind != KNOOP_PARTY_MEMBER)
            continue;
        party_label(p, label, sizeof label);
        snprintf(path, sizeof path, "network.parties[%zu].kind", i);
        if (net->cooperative == NULL)
            return knoop_cfg_fail(err, path, "%s: the network has no cooperative to be a member of", label);
        if (net->n_members == KNOOP_MAX_COOP_MEMBERS)
            return knoop_cfg_fail(err, path, "%s: a cooperative has at most %d members", label, KNOOP_MAX_COOP_MEMBERS);
        p->cooperative = net->cooperative;
        p->member_slot = (int)net->n_members;
        net->members[net->n_members++] = p;
    }
    return 0;
}

/* ---- indicator sets ---- */
static int build_indicator_sets(knoop_network_t *net, const knoop_network_doc_t *doc, knoop_cfg_error_t *err)
{
    char path[128];
    net->n_sets = doc->indicator_sets_count;
    net->sets = calloc(net->n_sets ? net->n_sets : 1, sizeof *net->sets);
    if (!net->sets)
        return -ENOMEM;
    for (size_t i = 0; i < net->n_sets; i++) {
        const knoop_network_doc_indicator_set_t *d = &doc->indicator_sets[i];
        knoop_indicator_set_t *s = &net->sets[i];
        s->index = i;
        snprintf(path, sizeof path, "network.indicator_sets[%zu].name", i);
        if (strlen(d->name) >= KNOOP_NAME_MAX)
            return knoop_cfg_fail(err, path, "indicator set '%.40s...': a name has at most %d characters", d->name,
                                  KNOOP_NAME_MAX - 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(net->sets[j].name, d->name) == 0) {
                snprintf(path, sizeof path, "network.indicator_sets[%zu].name", i);
                return knoop_cfg_fail(err, path, "indicator set '%s' is defined twice", d->name);
            }
        s->name = strdup(d->name);
        s->description = dup_or_null(d->description);
        s->indicators = calloc(d->indicators_count, sizeof *s->indicators);
        if (!s->name || !s->indicators || (d->description && !s->description))
            return -ENOMEM;
        s->n_indicators = d->indicators_count;
        for (size_t k = 0; k < d->indicators_count; k++) {
            const knoop_network_doc_indicator_t *di = &d->indicators[k];
            knoop_indicator_t *ind = &s->indicators[k];
            snprintf(path, sizeof path, "network.indicator_sets[%zu].indicators[%zu]", i, k);
            for (size_t j = 0; j < k; j++)
                if (strcmp(s->indicators[j].name, di->name) == 0)
                    return knoop_cfg_fail(err, path, "indicator set '%s': indicator '%s' appears twice", d->name,
                                          di->name);
            if (!(ind->name = strdup(di->name)) || (di->label && !(ind->label = strdup(di->label))))
                return -ENOMEM;
            ind->type = di->type;
            if (di->scale != NULL) {
                if (di->type != KNOOP_VALUE_UNSET && di->type != KNOOP_VALUE_SCALE)
                    return knoop_cfg_fail(err, path,
                                          "indicator set '%s': indicator '%s' has type %s and a scale; "
                                          "give one of them",
                                          d->name, di->name, knoop_value_type_name(di->type));
                if (!(di->scale->min < di->scale->max))
                    return knoop_cfg_fail(err, path,
                                          "indicator set '%s': indicator '%s' has scale %g..%g; min must "
                                          "be below max",
                                          d->name, di->name, di->scale->min, di->scale->max);
                ind->type = KNOOP_VALUE_SCALE;
                ind->min = di->scale->min;
                ind->max = di->scale->max;
                continue;
            }
            if (di->type == KNOOP_VALUE_UNSET || di->type == KNOOP_VALUE_SCALE)
                return knoop_cfg_fail(err, path,
                                      "indicator set '%s': indicator '%s' needs a scale {min, max} or a "
                                      "type (count, percentage, amount, boolean, text)",
                                      d->name, di->name);
            for (size_t r = 0; r < sizeof type_bounds / sizeof type_bounds[0]; r++)
                if (type_bounds[r].type == di->type) {
                    ind->min = type_bounds[r].min;
                    ind->max = type_bounds[r].max;
                }
        }
    }
    return 0;
}

/* ---- products: the catalogue if given, else the union of what the providers offer ---- */
static int build_products(knoop_network_t *net, const knoop_network_doc_t *doc, knoop_cfg_error_t *err)
{
    char path[128];
    size_t cap = doc->products_count;
    for (size_t i = 0; i < doc->parties_count; i++)
        cap += doc->parties[i].products_count;
    net->products = calloc(cap ? cap : 1, sizeof *net->products);
    if (!net->products)
        return -ENOMEM;
    bool catalogue = doc->products_count > 0;
    for (size_t i = 0; i < doc->products_count; i++) {
        const knoop_network_doc_product_t *d = &doc->products[i];
        for (size_t j = 0; j < i; j++)
            if (strcmp(doc->products[j].code, d->code) == 0) {
                snprintf(path, sizeof path, "network.products[%zu].code", i);
                return knoop_cfg_fail(err, path, "product '%s' is defined twice", d->code);
            }
        knoop_product_t *p = &net->products[net->n_products++];
        p->code = strdup(d->code);
        p->name = dup_or_null(d->name);
        p->group = dup_or_null(d->group);
        p->level = d->level;
        if (d->istd_code)
            snprintf(p->istd_code, sizeof p->istd_code, "%s", d->istd_code); /* shape: network_terms.c */
        if (!p->code || (d->name && !p->name) || (d->group && !p->group))
            return -ENOMEM;
    }
    qsort(net->products, net->n_products, sizeof *net->products, cmp_product);
    for (size_t i = 0; i < doc->parties_count; i++)
        for (size_t k = 0; k < doc->parties[i].products_count; k++) {
            const char *code = doc->parties[i].products[k];
            if (knoop_network_product(net, code))
                continue;
            if (catalogue) {
                snprintf(path, sizeof path, "network.parties[%zu].products[%zu]", i, k);
                return knoop_cfg_fail(err, path, "party %s: product '%s' is not in network.products",
                                      doc->parties[i].code, code);
            }
            knoop_product_t *p = &net->products[net->n_products++];
            if (!(p->code = strdup(code)))
                return -ENOMEM;
            qsort(net->products, net->n_products, sizeof *net->products, cmp_product);
        }
    /* The parties' product lists point at the catalogue strings, and members mark what they offer. */
    for (size_t i = 0; i < net->n_parties; i++) {
        knoop_party_t *p = &net->parties[i];
        const knoop_network_doc_party_t *d = &doc->parties[i];
        if (d->products_count == 0)
            continue;
        if (!(p->products = calloc(d->products_count, sizeof *p->products)))
            return -ENOMEM;
        for (size_t k = 0; k < d->products_count; k++) {
            knoop_product_t *prod = (knoop_product_t *)knoop_network_product(net, d->products[k]);
            p->products[p->n_products++] = prod->code;
            if (p->member_slot >= 0)
                prod->offered_by |= UINT64_C(1) << p->member_slot;
        }
    }
    return 0;
}

/* ---- contracts ---- */
static int resolve_list(knoop_network_t *net, char **codes, unsigned n, const knoop_party_t ***out, size_t *n_out)
{
    *out = calloc(n ? n : 1, sizeof **out);
    if (*out == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++)
        (*out)[i] = knoop_network_party(net, codes[i]);
    *n_out = n;
    return 0;
}

static int check_contract(knoop_network_t *net, const knoop_network_doc_contract_t *d, knoop_contract_t *c, size_t i,
                          knoop_cfg_error_t *err)
{
    char path[128];
    const char *cn = d->name;
#define AT(fmt, ...) (snprintf(path, sizeof path, "network.contracts[%zu]" fmt, i, ##__VA_ARGS__), path)
    if (strlen(cn) >= KNOOP_NAME_MAX)
        return knoop_cfg_fail(err, AT(".name"), "contract '%.40s...': a name has at most %d characters", cn,
                              KNOOP_NAME_MAX - 1);
    for (size_t j = 0; j < i; j++)
        if (strcmp(net->contracts[j].name, cn) == 0)
            return knoop_cfg_fail(err, AT(".name"), "contract '%s' is defined twice", cn);
    /* The schema only lets names through; a document built in code gets the same guarantee here. */
    const struct {
        const char *key;
        int v, lo, hi;
    } dims[] = {
        {"identity", (int)d->identity, KNOOP_IDENTITY_WHITE_LABEL, KNOOP_IDENTITY_LEGACY},
        {"financing", (int)d->financing, KNOOP_FIN_INSPANNINGSGERICHT, KNOOP_FIN_POPULATIE},
        {"protocol", (int)d->protocol, KNOOP_PROTO_IWMO_32, KNOOP_PROTO_NATIVE},
    };
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++)
        if (dims[k].v < dims[k].lo || dims[k].v > dims[k].hi)
            return knoop_cfg_fail(err, AT(".%s", dims[k].key), "contract '%s': %s is missing or unknown", cn,
                                  dims[k].key);
    c->financier = knoop_network_party(net, d->financier);
    if (c->financier == NULL)
        return knoop_cfg_fail(err, AT(".financier"), "contract '%s': unknown financier %s", cn, d->financier);
    if (!knoop_party_kind_is_financier(c->financier->kind))
        return knoop_cfg_fail(err, AT(".financier"),
                              "contract '%s': %s is a %s, not a financier (gemeente, "
                              "zorgkantoor, zorgverzekeraar)",
                              cn, d->financier, knoop_party_kind_name(c->financier->kind));
    c->provider = knoop_network_party(net, d->provider);
    if (c->provider == NULL)
        return knoop_cfg_fail(err, AT(".provider"), "contract '%s': unknown provider %s", cn, d->provider);
    knoop_party_kind_t pk = c->provider->kind;
    if (pk != KNOOP_PARTY_COOPERATIVE && pk != KNOOP_PARTY_MEMBER && pk != KNOOP_PARTY_PROVIDER)
        return knoop_cfg_fail(err, AT(".provider"),
                              "contract '%s': %s is a %s; a contract binds the cooperative or a "
                              "provider",
                              cn, d->provider, knoop_party_kind_name(pk));
    for (size_t r = 0; c->law != 0 && r < sizeof protocol_laws / sizeof protocol_laws[0]; r++)
        if (protocol_laws[r].protocol == c->protocol && !(c->law & protocol_laws[r].law))
            return knoop_cfg_fail(err, AT(".protocol"),
                                  "contract '%s': protocol %s carries %s messages, but the "
                                  "contract's law does not include %s",
                                  cn, knoop_protocol_name(c->protocol), protocol_laws[r].law_name,
                                  protocol_laws[r].law_name);
    if (c->identity == KNOOP_IDENTITY_WHITE_LABEL && pk != KNOOP_PARTY_COOPERATIVE)
        return knoop_cfg_fail(err, AT(".identity"),
                              "contract '%s': white-label needs a cooperative as provider, and "
                              "%s is a %s",
                              cn, d->provider, knoop_party_kind_name(pk));
    for (unsigned k = 0; k < d->members_count; k++) {
        const knoop_party_t *m = c->members[k];
        if (m == NULL)
            return knoop_cfg_fail(err, AT(".members[%u]", k), "contract '%s': unknown member %s", cn, d->members[k]);
        for (unsigned j = 0; j < k; j++)
            if (c->members[j] == m)
                return knoop_cfg_fail(err, AT(".members[%u]", k), "contract '%s': member %s is listed twice", cn,
                                      m->code);
        bool fits = pk == KNOOP_PARTY_COOPERATIVE ? m->kind == KNOOP_PARTY_MEMBER
                    : pk == KNOOP_PARTY_PROVIDER  ? m->kind == KNOOP_PARTY_PROVIDER
                                                  : false;
        if (!fits)
            return knoop_cfg_fail(err, AT(".members[%u]", k),
                                  "contract '%s': %s (%s) cannot take part: members of a "
                                  "contract with %s %s must be %s",
                                  cn, m->code, knoop_party_kind_name(m->kind), knoop_party_kind_name(pk),
                                  c->provider->code,
                                  pk == KNOOP_PARTY_COOPERATIVE ? "its members" : "providers (consortium partners)");
        if (m->member_slot >= 0)
            c->member_mask |= UINT64_C(1) << m->member_slot;
    }
    if (c->identity == KNOOP_IDENTITY_WHITE_LABEL && c->n_members == 0)
        for (size_t s = 0; s < net->n_members; s++)
            c->member_mask |= UINT64_C(1) << s;
    if (d->lead != NULL) {
        c->lead = knoop_network_party(net, d->lead);
        if (c->lead == NULL || (c->lead != c->provider && !knoop_contract_has_member(c, c->lead)))
            return knoop_cfg_fail(err, AT(".lead"),
                                  "contract '%s': lead contractor %s is neither its provider nor one "
                                  "of its members",
                                  cn, d->lead);
    }
    if (d->outcomes != NULL) {
        c->indicator_set = knoop_network_indicator_set(net, d->outcomes->indicator_set);
        if (c->indicator_set == NULL)
            return knoop_cfg_fail(err, AT(".outcomes.indicator_set"),
                                  "contract '%s': indicator set '%s' is not "
                                  "defined in network.indicator_sets",
                                  cn, d->outcomes->indicator_set);
        c->cadence = d->outcomes->cadence;
    }
    if (d->co_financiers_count > KNOOP_MAX_CO_FINANCIERS)
        return knoop_cfg_fail(err, AT(".co_financiers"), "contract '%s': at most %d co-financiers", cn,
                              KNOOP_MAX_CO_FINANCIERS);
    for (unsigned k = 0; k < d->co_financiers_count; k++) {
        const knoop_party_t *f = knoop_network_party(net, d->co_financiers[k]);
        if (f == NULL)
            return knoop_cfg_fail(err, AT(".co_financiers[%u]", k), "contract '%s': unknown co-financier %s", cn,
                                  d->co_financiers[k]);
        if (!knoop_party_kind_is_financier(f->kind))
            return knoop_cfg_fail(err, AT(".co_financiers[%u]", k),
                                  "contract '%s': co-financier %s is a %s, not a "
                                  "financier",
                                  cn, f->code, knoop_party_kind_name(f->kind));
        if (f == c->financier || knoop_contract_is_co_financier(c, f))
            return knoop_cfg_fail(err, AT(".co_financiers[%u]", k),
                                  "contract '%s': %s is already a financier of "
                                  "this contract",
                                  cn, f->code);
        c->co_financiers[c->n_co_financiers++] = f;
    }
    for (unsigned k = 0; k < d->subcontractors_count; k++) {
        const knoop_party_t *s = c->subcontractors[k];
        if (s == NULL)
            return knoop_cfg_fail(err, AT(".subcontractors[%u]", k), "contract '%s': unknown subcontractor %s", cn,
                                  d->subcontractors[k]);
        if (s->kind != KNOOP_PARTY_SUBCONTRACTOR)
            return knoop_cfg_fail(err, AT(".subcontractors[%u]", k),
                                  "contract '%s': %s is a %s, not a "
                                  "subcontractor",
                                  cn, s->code, knoop_party_kind_name(s->kind));
        const knoop_party_t *mc = s->main_contractor;
        bool in = mc == c->provider || knoop_contract_has_member(c, mc) ||
                  (c->identity == KNOOP_IDENTITY_WHITE_LABEL && mc->member_slot >= 0);
        if (!in)
            return knoop_cfg_fail(err, AT(".subcontractors[%u]", k),
                                  "contract '%s': subcontractor %s works for %s, "
                                  "which is not a party to this contract",
                                  cn, s->code, mc->code);
    }
    if (d->budget != NULL) {
        if (!(d->budget->amount > 0) || d->budget->band_above_pct < 0 || d->budget->band_below_pct < 0 ||
            d->budget->band_below_pct > 100)
            return knoop_cfg_fail(err, AT(".budget"),
                                  "contract '%s': a budget needs amount > 0 and bands between 0 "
                                  "and 100 %%",
                                  cn);
        c->budget = (knoop_budget_t){.present = true,
                                     .amount = d->budget->amount,
                                     .band_above_pct = d->budget->band_above_pct,
                                     .band_below_pct = d->budget->band_below_pct,
                                     .period = d->budget->period}; /* model, volume, shares: network_terms.c */
    }
    for (unsigned k = 0; k < d->tariffs_count; k++) {
        c->tariffs[k].product = knoop_network_product(net, d->tariffs[k].product);
        if (c->tariffs[k].product == NULL)
            return knoop_cfg_fail(err, AT(".tariffs[%u].product", k), "contract '%s': unknown product '%s'", cn,
                                  d->tariffs[k].product);
        if (d->tariffs[k].price < 0)
            return knoop_cfg_fail(err, AT(".tariffs[%u].price", k), "contract '%s': negative price for '%s'", cn,
                                  d->tariffs[k].product);
        c->tariffs[k].price = d->tariffs[k].price;
        c->tariffs[k].unit = d->tariffs[k].unit;
    }
#undef AT
    return knoop_network_check_terms(net, d, c, i, err);
}

static int add_contract_to(knoop_party_t *p, const knoop_contract_t *c, bool count_only)
{
    for (size_t i = 0; i < p->n_contracts; i++)
        if (!count_only && p->contracts[i] == c)
            return 0;
    if (!count_only)
        p->contracts[p->n_contracts] = c;
    p->n_contracts++;
    return 0;
}

static int index_contracts(knoop_network_t *net)
{
    /* Two passes: count (may over-count duplicates), allocate, fill without duplicates. */
    for (int pass = 0; pass < 2; pass++) {
        bool count = pass == 0;
        if (!count)
            for (size_t i = 0; i < net->n_parties; i++) {
                knoop_party_t *p = &net->parties[i];
                if (p->n_contracts && !(p->contracts = calloc(p->n_contracts, sizeof *p->contracts)))
                    return -ENOMEM;
                p->n_contracts = 0;
            }
        for (size_t i = 0; i < net->n_contracts; i++) {
            const knoop_contract_t *c = &net->contracts[i];
            add_contract_to(&net->parties[c->financier->index], c, count);
            add_contract_to(&net->parties[c->provider->index], c, count);
            for (size_t k = 0; k < c->n_co_financiers; k++)
                add_contract_to(&net->parties[c->co_financiers[k]->index], c, count);
            for (size_t k = 0; k < c->n_members; k++)
                add_contract_to(&net->parties[c->members[k]->index], c, count);
            for (size_t k = 0; k < c->n_subcontractors; k++)
                add_contract_to(&net->parties[c->subcontractors[k]->index], c, count);
        }
    }
    return 0;
}

static int build_contracts(knoop_network_t *net, const knoop_network_doc_t *doc, knoop_cfg_error_t *err)
{
    net->contracts = calloc(doc->contracts_count ? doc->contracts_count : 1, sizeof *net->contracts);
    if (!net->contracts)
        return -ENOMEM;
    for (size_t i = 0; i < doc->contracts_count; i++) {
        const knoop_network_doc_contract_t *d = &doc->contracts[i];
        knoop_contract_t *c = &net->contracts[i];
        net->n_contracts = i + 1; /* so destroy frees what was allocated so far */
        c->index = i;
        c->law = d->law;
        c->identity = d->identity;
        c->financing = d->financing;
        c->protocol = d->protocol;
        if (!(c->name = strdup(d->name)))
            return -ENOMEM;
        int rc = resolve_list(net, d->members, d->members_count, &c->members, &c->n_members);
        if (rc == 0)
            rc =
                resolve_list(net, d->subcontractors, d->subcontractors_count, &c->subcontractors, &c->n_subcontractors);
        if (rc == 0 && !(c->tariffs = calloc(d->tariffs_count ? d->tariffs_count : 1, sizeof *c->tariffs)))
            rc = -ENOMEM;
        if (rc != 0)
            return rc;
        c->n_tariffs = d->tariffs_count;
        if ((rc = check_contract(net, d, c, i, err)) != 0)
            return rc;
    }
    return index_contracts(net);
}

int knoop_network_build(const knoop_network_doc_t *doc, knoop_network_t **out, knoop_cfg_error_t *err)
{
    if (out == NULL)
        return -EINVAL;
    *out = NULL;
    if (doc == NULL)
        return knoop_cfg_fail(err, "network", "the configuration has no network section");
    knoop_network_t *net = calloc(1, sizeof *net); /* owned here until handed to *out */
    if (net == NULL)
        return -ENOMEM;
    int rc = 0;
    if (doc->name && !(net->name = strdup(doc->name)))
        rc = -ENOMEM;
    if (rc == 0)
        rc = build_parties(net, doc, err);
    if (rc == 0)
        rc = build_indicator_sets(net, doc, err);
    if (rc == 0)
        rc = build_products(net, doc, err);
    if (rc == 0)
        rc = knoop_network_check_istd_codes(net, doc, err);
    if (rc == 0)
        rc = build_contracts(net, doc, err);
    if (rc == -ENOMEM)
        knoop_cfg_fail(err, "network", "out of memory while building the network");
    if (rc != 0) {
        knoop_network_destroy(&net);
        return rc;
    }
    *out = net;
    return 0;
}

void knoop_network_destroy(knoop_network_t **pnet)
{
    if (pnet == NULL || *pnet == NULL)
        return;
    knoop_network_t *net = *pnet;
    for (size_t i = 0; i < net->n_parties; i++) {
        free(net->parties[i].name);
        free(net->parties[i].products);
        free(net->parties[i].contracts);
        free(net->parties[i].subcontractors);
    }
    for (size_t i = 0; i < net->n_sets; i++) {
        for (size_t k = 0; k < net->sets[i].n_indicators; k++) {
            free(net->sets[i].indicators[k].name);
            free(net->sets[i].indicators[k].label);
        }
        free(net->sets[i].indicators);
        free(net->sets[i].name);
        free(net->sets[i].description);
    }
    for (size_t i = 0; i < net->n_products; i++) {
        free(net->products[i].code);
        free(net->products[i].name);
        free(net->products[i].group);
    }
    for (size_t i = 0; i < net->n_contracts; i++) {
        free(net->contracts[i].name);
        free(net->contracts[i].members);
        free(net->contracts[i].subcontractors);
        free(net->contracts[i].tariffs);
        knoop_network_free_terms(&net->contracts[i]);
    }
    free(net->parties);
    free(net->by_code);
    free(net->sets);
    free(net->products);
    free(net->contracts);
    free(net->name);
    free(net);
    *pnet = NULL;
}

/* ---- read-only questions ---- */
const char *knoop_network_name(const knoop_network_t *net)
{
    return net->name ? net->name : "";
}
size_t knoop_network_party_count(const knoop_network_t *net)
{
    return net->n_parties;
}
size_t knoop_network_contract_count(const knoop_network_t *net)
{
    return net->n_contracts;
}
size_t knoop_network_indicator_set_count(const knoop_network_t *net)
{
    return net->n_sets;
}
size_t knoop_network_product_count(const knoop_network_t *net)
{
    return net->n_products;
}
size_t knoop_network_member_count(const knoop_network_t *net)
{
    return net->n_members;
}
const knoop_party_t *knoop_network_cooperative(const knoop_network_t *net)
{
    return net->cooperative;
}

size_t knoop_network_count_kind(const knoop_network_t *net, knoop_party_kind_t kind)
{
    size_t n = 0;
    for (size_t i = 0; i < net->n_parties; i++)
        n += net->parties[i].kind == kind;
    return n;
}

const knoop_party_t *knoop_network_party_at(const knoop_network_t *net, size_t i)
{
    return i < net->n_parties ? &net->parties[i] : NULL;
}
const knoop_contract_t *knoop_network_contract_at(const knoop_network_t *net, size_t i)
{
    return i < net->n_contracts ? &net->contracts[i] : NULL;
}
const knoop_indicator_set_t *knoop_network_indicator_set_at(const knoop_network_t *net, size_t i)
{
    return i < net->n_sets ? &net->sets[i] : NULL;
}
const knoop_product_t *knoop_network_product_at(const knoop_network_t *net, size_t i)
{
    return i < net->n_products ? &net->products[i] : NULL;
}
const knoop_party_t *knoop_network_member_by_slot(const knoop_network_t *net, int slot)
{
    return slot >= 0 && (size_t)slot < net->n_members ? net->members[slot] : NULL;
}

const knoop_contract_t *knoop_network_contract(const knoop_network_t *net, const char *name)
{
    for (size_t i = 0; name && i < net->n_contracts; i++)
        if (strcmp(net->contracts[i].name, name) == 0)
            return &net->contracts[i];
    return NULL;
}

const knoop_indicator_set_t *knoop_network_indicator_set(const knoop_network_t *net, const char *name)
{
    for (size_t i = 0; name && i < net->n_sets; i++)
        if (strcmp(net->sets[i].name, name) == 0)
            return &net->sets[i];
    return NULL;
}

uint64_t knoop_network_members_offering(const knoop_network_t *net, const char *product)
{
    const knoop_product_t *p = knoop_network_product(net, product);
    return p ? p->offered_by : 0;
}

size_t knoop_network_buurtteams_of(const knoop_network_t *net, const knoop_party_t *gemeente, const knoop_party_t **out,
                                   size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < net->n_parties; i++)
        if (net->parties[i].kind == KNOOP_PARTY_BUURTTEAM && net->parties[i].gemeente == gemeente) {
            if (n < cap)
                out[n] = &net->parties[i];
            n++;
        }
    return n;
}
