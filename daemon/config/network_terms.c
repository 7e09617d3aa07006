/* network_terms.c — the contract terms a financier pays for: the contract's period and its options to extend, the
 * product scope, the budget's model (a lump sum divided in shares, volume x price with an agreed volume, a tariff per
 * arrangement), which iWmo/iJw messages the financing allows, and the reporting calendar's required and watched
 * indicators. Built once with the network; every mistake names its YAML path, which `knoopd -t` turns into a line. */
#include "config/network_terms.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "base/civil.h"

#define DEFAULT_DUE_DAYS 30  /* a period's report is due a month after the period ends unless the contract says */
#define MAX_DUE_DAYS     366 /* a report due more than a year later is a typo */
#define MAX_OPTION_YEARS 10

/* Which financing fits which budget model: a lump sum pays for a task or a population, tariffs for output or effort. */
static const struct {
    knoop_budget_model_t model;
    unsigned financings; /* bit per knoop_financing_t */
    const char *fits;
    bool tariffs, volume, shares; /* the model needs tariffs / an agreed volume; may divide into shares */
} model_rules[] = {
    {KNOOP_MODEL_LUMP_SUM, 1u << KNOOP_FIN_TAAKGERICHT | 1u << KNOOP_FIN_POPULATIE, "taakgericht or populatie", false,
     false, true},
    {KNOOP_MODEL_VOLUME_PRICE, 1u << KNOOP_FIN_OUTPUTGERICHT | 1u << KNOOP_FIN_INSPANNINGSGERICHT,
     "outputgericht or inspanningsgericht", true, true, false},
    {KNOOP_MODEL_ARRANGEMENT, 1u << KNOOP_FIN_OUTPUTGERICHT | 1u << KNOOP_FIN_INSPANNINGSGERICHT,
     "outputgericht or inspanningsgericht", true, false, false},
};

static bool istd_code_shape(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= KNOOP_ISTD_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
    return true;
}

int knoop_network_check_istd_codes(const knoop_network_t *net, const knoop_network_doc_t *doc, knoop_cfg_error_t *err)
{
    char path[128];
    for (unsigned i = 0; i < doc->products_count; i++) {
        const char *code = doc->products[i].istd_code;
        if (code == NULL)
            continue;
        snprintf(path, sizeof path, "network.products[%u].istd_code", i);
        if (!istd_code_shape(code))
            return knoop_cfg_fail(err, path,
                                  "product '%s': istd_code '%s' is not an iWmo/iJw ProductCode (1 to 5 digits or "
                                  "capitals, such as 02A01)",
                                  doc->products[i].code, code);
        for (unsigned j = 0; j < i; j++)
            if (doc->products[j].istd_code && strcmp(doc->products[j].istd_code, code) == 0)
                return knoop_cfg_fail(err, path, "product '%s': istd_code %s is already product '%s''s",
                                      doc->products[i].code, code, doc->products[j].code);
    }
    (void)net;
    return 0;
}

/* The same day `years` later (29 February becomes 28 February in a common year). */
static int32_t add_years(int32_t day, unsigned years)
{
    int64_t y;
    int m, d;
    knoop_civil_from_days(day, &y, &m, &d);
    y += years;
    if (d > knoop_days_in_month(y, m))
        d = knoop_days_in_month(y, m);
    return (int32_t)knoop_days_from_civil(y, m, d);
}

static int build_period(const knoop_network_doc_period_t *p, knoop_contract_t *c, const char *cn, const char *at,
                        knoop_cfg_error_t *err)
{
    char path[160];
#define PATH(fmt, ...) (snprintf(path, sizeof path, "%s.period" fmt, at, ##__VA_ARGS__), path)
    knoop_contract_period_t *out = &c->period;
    if (knoop_civil_parse(p->start, &out->start) != 0)
        return knoop_cfg_fail(err, PATH(".start"), "contract '%s': period.start '%s' is not a date (YYYY-MM-DD)", cn,
                              p->start);
    if (knoop_civil_parse(p->end, &out->signed_end) != 0)
        return knoop_cfg_fail(err, PATH(".end"), "contract '%s': period.end '%s' is not a date (YYYY-MM-DD)", cn,
                              p->end);
    if (out->signed_end < out->start)
        return knoop_cfg_fail(err, PATH(".end"), "contract '%s': the period ends (%s) before it starts (%s)", cn,
                              p->end, p->start);
    for (unsigned k = 0; k < p->extension_years_count; k++) {
        if (p->extension_years[k] < 1 || p->extension_years[k] > MAX_OPTION_YEARS)
            return knoop_cfg_fail(err, PATH(".extension_years[%u]", k),
                                  "contract '%s': an option extends the period by 1 to %d years, not %u", cn,
                                  MAX_OPTION_YEARS, p->extension_years[k]);
        out->extension_years[out->n_extensions++] = p->extension_years[k];
    }
    if (p->extended > p->extension_years_count)
        return knoop_cfg_fail(err, PATH(".extended"), "contract '%s': %u options taken, but the period has %u", cn,
                              p->extended, p->extension_years_count);
    out->extended = p->extended;
    out->end = out->signed_end;
    for (unsigned k = 0; k < p->extended; k++)
        out->end = add_years(out->end, p->extension_years[k]);
    out->present = true;
#undef PATH
    return 0;
}

static int resolve_products(const knoop_network_t *net, char **codes, unsigned n, const knoop_product_t ***out,
                            size_t *n_out, const char *cn, const char *path_fmt_base, knoop_cfg_error_t *err)
{
    char path[160];
    if (n == 0)
        return 0;
    if (!(*out = calloc(n, sizeof **out)))
        return -ENOMEM;
    for (unsigned k = 0; k < n; k++) {
        snprintf(path, sizeof path, "%s[%u]", path_fmt_base, k);
        const knoop_product_t *p = knoop_network_product(net, codes[k]);
        if (p == NULL)
            return knoop_cfg_fail(err, path, "contract '%s': unknown product '%s' in its scope", cn, codes[k]);
        for (size_t j = 0; j < *n_out; j++)
            if ((*out)[j] == p)
                return knoop_cfg_fail(err, path, "contract '%s': product '%s' is listed twice", cn, codes[k]);
        (*out)[(*n_out)++] = p;
    }
    return 0;
}

static int build_scope(const knoop_network_t *net, const knoop_network_doc_scope_t *s, knoop_contract_t *c,
                       const char *cn, const char *at, knoop_cfg_error_t *err)
{
    char base[160];
    snprintf(base, sizeof base, "%s.scope.included", at);
    int rc =
        resolve_products(net, s->included, s->included_count, &c->scope_included, &c->n_scope_included, cn, base, err);
    snprintf(base, sizeof base, "%s.scope.excluded", at);
    if (rc == 0)
        rc = resolve_products(net, s->excluded, s->excluded_count, &c->scope_excluded, &c->n_scope_excluded, cn, base,
                              err);
    for (size_t k = 0; rc == 0 && k < c->n_scope_excluded; k++)
        for (size_t j = 0; j < c->n_scope_included; j++)
            if (c->scope_excluded[k] == c->scope_included[j]) {
                snprintf(base, sizeof base, "%s.scope.excluded[%zu]", at, k);
                return knoop_cfg_fail(err, base, "contract '%s': product '%s' is both included and excluded", cn,
                                      c->scope_excluded[k]->code);
            }
    return rc;
}

/* May this party carry a share of the contract's lump sum? Its provider, a member or partner, or a subcontractor. */
static bool party_of_contract(const knoop_contract_t *c, const knoop_party_t *p)
{
    if (p == c->provider || knoop_contract_has_member(c, p))
        return true;
    for (size_t k = 0; k < c->n_subcontractors; k++)
        if (c->subcontractors[k] == p)
            return true;
    return c->identity == KNOOP_IDENTITY_WHITE_LABEL && p->member_slot >= 0 && (c->member_mask >> p->member_slot & 1);
}

static int build_budget(const knoop_network_t *net, const knoop_network_doc_contract_t *d, knoop_contract_t *c,
                        const char *cn, const char *at, knoop_cfg_error_t *err)
{
    char path[160];
#define PATH(fmt, ...) (snprintf(path, sizeof path, "%s" fmt, at, ##__VA_ARGS__), path)
    const knoop_network_doc_budget_t *b = d->budget;
    size_t r = 0, nr = sizeof model_rules / sizeof model_rules[0];
    while (r < nr && model_rules[r].model != b->model)
        r++;
    if (r == nr)
        return knoop_cfg_fail(err, PATH(".budget.model"), "contract '%s': budget.model is missing or unknown", cn);
    if (b->period == KNOOP_UNIT_RIDE)
        return knoop_cfg_fail(err, PATH(".budget.period"),
                              "contract '%s': a budget period is a span of time (hour .. year), not a ride", cn);
    if (!(model_rules[r].financings & 1u << c->financing))
        return knoop_cfg_fail(
            err, PATH(".budget.model"), "contract '%s': a %s budget belongs to a %s contract, and this one is %s", cn,
            knoop_budget_model_name(b->model), model_rules[r].fits, knoop_financing_name(c->financing));
    if (model_rules[r].tariffs && d->tariffs_count == 0)
        return knoop_cfg_fail(err, PATH(".budget.model"), "contract '%s': a %s budget needs tariffs", cn,
                              knoop_budget_model_name(b->model));
    if (!model_rules[r].tariffs && d->tariffs_count > 0)
        return knoop_cfg_fail(err, PATH(".tariffs"), "contract '%s': a %s budget pays no tariffs", cn,
                              knoop_budget_model_name(b->model));
    if (model_rules[r].volume && b->volume == 0)
        return knoop_cfg_fail(err, PATH(".budget.volume"),
                              "contract '%s': a %s budget needs the agreed volume (the contracted number of clients)",
                              cn, knoop_budget_model_name(b->model));
    if (!model_rules[r].volume && b->volume != 0)
        return knoop_cfg_fail(err, PATH(".budget.volume"), "contract '%s': only a volume-price budget agrees a volume",
                              cn);
    if (!model_rules[r].shares && b->shares_count > 0)
        return knoop_cfg_fail(err, PATH(".budget.shares"), "contract '%s': only a lump sum is divided in shares", cn);
    c->budget.model = b->model;
    c->budget.volume = b->volume;
    if (b->shares_count && !(c->budget.shares = calloc(b->shares_count, sizeof *c->budget.shares)))
        return -ENOMEM;
    double sum = 0;
    for (unsigned k = 0; k < b->shares_count; k++) {
        const knoop_party_t *p = knoop_network_party(net, b->shares[k].party);
        if (p == NULL || !party_of_contract(c, p))
            return knoop_cfg_fail(err, PATH(".budget.shares[%u].party", k),
                                  "contract '%s': %s %s, so it cannot carry a share of its lump sum", cn,
                                  b->shares[k].party, p ? "is not a party to the contract" : "is not a party");
        for (size_t j = 0; j < c->budget.n_shares; j++)
            if (c->budget.shares[j].party == p)
                return knoop_cfg_fail(err, PATH(".budget.shares[%u].party", k), "contract '%s': %s has two shares", cn,
                                      p->code);
        if (!(b->shares[k].amount > 0))
            return knoop_cfg_fail(err, PATH(".budget.shares[%u].amount", k),
                                  "contract '%s': the share of %s must be more than 0", cn, p->code);
        c->budget.shares[c->budget.n_shares++] = (knoop_share_t){p, b->shares[k].amount};
        sum += b->shares[k].amount;
    }
    if (sum > b->amount + 0.005)
        return knoop_cfg_fail(err, PATH(".budget.shares"),
                              "contract '%s': the shares add up to %.2f, more than the budget's %.2f", cn, sum,
                              b->amount);
#undef PATH
    return 0;
}

static int build_outcomes(const knoop_network_doc_outcomes_t *o, knoop_contract_t *c, const char *cn, const char *at,
                          knoop_cfg_error_t *err)
{
    char path[160];
    const knoop_indicator_set_t *set = c->indicator_set;
    size_t nreq = o->required_count ? o->required_count : set->n_indicators;
    if (!(c->required = calloc(nreq ? nreq : 1, sizeof *c->required)))
        return -ENOMEM;
    if (o->watch_count && !(c->watch = calloc(o->watch_count, sizeof *c->watch)))
        return -ENOMEM;
    if (o->required_count == 0)
        for (size_t k = 0; k < set->n_indicators; k++)
            c->required[c->n_required++] = &set->indicators[k];
    for (unsigned k = 0; k < o->required_count; k++) {
        snprintf(path, sizeof path, "%s.outcomes.required[%u]", at, k);
        const knoop_indicator_t *ind = knoop_indicator_set_find(set, o->required[k]);
        if (ind == NULL)
            return knoop_cfg_fail(err, path, "contract '%s': indicator '%s' is not in indicator set '%s'", cn,
                                  o->required[k], set->name);
        for (size_t j = 0; j < c->n_required; j++)
            if (c->required[j] == ind)
                return knoop_cfg_fail(err, path, "contract '%s': indicator '%s' is required twice", cn, ind->name);
        c->required[c->n_required++] = ind;
    }
    for (unsigned k = 0; k < o->watch_count; k++) {
        snprintf(path, sizeof path, "%s.outcomes.watch[%u]", at, k);
        const knoop_indicator_t *ind = knoop_indicator_set_find(set, o->watch[k]);
        if (ind == NULL)
            return knoop_cfg_fail(err, path, "contract '%s': indicator '%s' is not in indicator set '%s'", cn,
                                  o->watch[k], set->name);
        if (ind->type == KNOOP_VALUE_TEXT || ind->type == KNOOP_VALUE_BOOLEAN)
            return knoop_cfg_fail(err, path, "contract '%s': indicator '%s' is a %s; only a number can fall", cn,
                                  ind->name, knoop_value_type_name(ind->type));
        c->watch[c->n_watch++] = ind;
    }
    c->due_days = o->due_days ? *o->due_days : DEFAULT_DUE_DAYS;
    if (c->due_days > MAX_DUE_DAYS) {
        snprintf(path, sizeof path, "%s.outcomes.due_days", at);
        return knoop_cfg_fail(err, path, "contract '%s': a report due %u days after its period is a typo (at most %d)",
                              cn, c->due_days, MAX_DUE_DAYS);
    }
    return 0;
}

int knoop_network_check_terms(const knoop_network_t *net, const knoop_network_doc_contract_t *d, knoop_contract_t *c,
                              size_t i, knoop_cfg_error_t *err)
{
    char at[48], path[160];
    const char *cn = c->name;
    snprintf(at, sizeof at, "network.contracts[%zu]", i);
    int rc = 0;
    if (d->period && (rc = build_period(d->period, c, cn, at, err)) != 0)
        return rc;
    if (d->scope && (rc = build_scope(net, d->scope, c, cn, at, err)) != 0)
        return rc;
    if (d->budget && (rc = build_budget(net, d, c, cn, at, err)) != 0)
        return rc;
    for (size_t k = 0; k < c->n_tariffs; k++) {
        snprintf(path, sizeof path, "%s.tariffs[%zu].product", at, k);
        if (!knoop_contract_covers(c, c->tariffs[k].product->code))
            return knoop_cfg_fail(err, path, "contract '%s': a tariff for '%s', which its scope leaves out", cn,
                                  c->tariffs[k].product->code);
        for (size_t j = 0; j < k; j++)
            if (c->tariffs[j].product == c->tariffs[k].product)
                return knoop_cfg_fail(err, path, "contract '%s': two tariffs for '%s'", cn,
                                      c->tariffs[k].product->code);
    }
    bool lump = c->budget.model == KNOOP_MODEL_LUMP_SUM;
    c->assignments = d->assignments ? *d->assignments : true;
    c->declarations = d->declarations ? *d->declarations : !lump;
    c->personal_contribution = d->personal_contribution ? *d->personal_contribution : true;
    if (lump && c->declarations) {
        snprintf(path, sizeof path, "%s.declarations", at);
        return knoop_cfg_fail(err, path, "contract '%s': a lump-sum contract pays no declarations", cn);
    }
    if (d->outcomes && (rc = build_outcomes(d->outcomes, c, cn, at, err)) != 0)
        return rc;
    return 0;
}

void knoop_network_free_terms(knoop_contract_t *c)
{
    free(c->scope_included);
    free(c->scope_excluded);
    free(c->budget.shares);
    free(c->required);
    free(c->watch);
}

bool knoop_contract_covers(const knoop_contract_t *c, const char *product)
{
    if (c == NULL || product == NULL || product[0] == '\0')
        return true;
    for (size_t k = 0; k < c->n_scope_excluded; k++)
        if (strcmp(c->scope_excluded[k]->code, product) == 0)
            return false;
    if (c->n_scope_included == 0)
        return true;
    for (size_t k = 0; k < c->n_scope_included; k++)
        if (strcmp(c->scope_included[k]->code, product) == 0)
            return true;
    return false;
}

const knoop_tariff_t *knoop_contract_tariff(const knoop_contract_t *c, const knoop_product_t *product)
{
    for (size_t k = 0; c && product && k < c->n_tariffs; k++)
        if (c->tariffs[k].product == product)
            return &c->tariffs[k];
    return NULL;
}

const knoop_product_t *knoop_network_product_by_istd(const knoop_network_t *net, const char *istd_code)
{
    if (net == NULL || istd_code == NULL || istd_code[0] == '\0')
        return NULL;
    for (size_t i = 0; i < knoop_network_product_count(net); i++) {
        const knoop_product_t *p = knoop_network_product_at(net, i);
        if (strcmp(p->istd_code, istd_code) == 0)
            return p;
    }
    return NULL;
}
