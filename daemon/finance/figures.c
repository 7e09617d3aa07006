/* figures.c — composes a contract period's figures (figures.h) from the reader connection: a fixed number of range
 * reads per period (clients in care on a day, use over days, outcome values by start day), for the finance job once a
 * period and for `knoopctl report`, never per message. Rounding happens once, here, so JSON, CSV and HTML agree. */
#include "finance/figures.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/civil.h"
#include "store/budget.h"
#include "store/finance.h"

#define ROWS_CAP 128 /* products or members one report lists */

typedef struct prow {
    char key[KNOOP_NAME_MAX]; /* product code, or party code for a member row */
    int64_t clients;
    double units;
    int64_t amount, declared; /* cents */
    double share;             /* members: euros per budget period */
} prow_t;

typedef struct rows {
    prow_t v[ROWS_CAP];
    size_t n;
} rows_t;

typedef struct ctx {
    knoop_journal_t *j;
    const knoop_network_t *net;
    const knoop_contract_t *c;
    char *err;
    size_t errlen;
    int rc; /* first journal error */
} ctx_t;

double knoop_figures_round2(double x)
{
    return round(x * 100.0) / 100.0;
}

static double cents(int64_t c)
{
    return (double)c / 100.0;
}

static prow_t *row_of(rows_t *r, const char *key)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].key, key) == 0)
            return &r->v[i];
    if (r->n == ROWS_CAP)
        return NULL;
    prow_t *x = &r->v[r->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->key, sizeof x->key, "%s", key);
    return x;
}

static json_t *day_json(int32_t day)
{
    char buf[11];
    knoop_civil_format(day, buf);
    return json_string(buf);
}

static json_t *period_json(const knoop_contract_t *c, knoop_period_t p)
{
    char label[40];
    knoop_calendar_label(c, p, label, sizeof label);
    return json_pack("{s:o, s:o, s:s}", "start", day_json(p.start), "end", day_json(p.end), "label", label);
}

const char *knoop_figures_band(const knoop_contract_t *c, double clients, double *deviation_pct)
{
    if (!c->budget.present || c->budget.volume == 0)
        return "none";
    knoop_budget_t b = c->budget;
    b.amount = c->budget.volume; /* the band is about clients against the agreed volume */
    double dev = 0;
    knoop_budget_state_t s = knoop_budget_state(&b, clients, &dev);
    if (deviation_pct)
        *deviation_pct = dev;
    return s == KNOOP_BUDGET_OVER ? "above" : s == KNOOP_BUDGET_UNDER ? "below" : "within";
}

/* ---- reads ---- */

static void count_product(void *arg, const char *product, const char *member, int64_t n)
{
    rows_t *r = ((rows_t **)arg)[0], *m = ((rows_t **)arg)[1];
    prow_t *x = row_of(r, product);
    if (x)
        x->clients += n;
    if (m && (x = row_of(m, member)))
        x->clients += n;
}

static void use_product(void *arg, const char *product, const char *member, double units, int64_t amount,
                        int64_t declared)
{
    rows_t *r = ((rows_t **)arg)[0], *m = ((rows_t **)arg)[1];
    prow_t *x = row_of(r, product);
    if (x) {
        x->units += units;
        x->amount += amount;
        x->declared += declared;
    }
    if (m && (x = row_of(m, member))) {
        x->units += units;
        x->amount += amount;
        x->declared += declared;
    }
}

static void use_total(void *arg, const char *product, const char *member, double units, int64_t amount,
                      int64_t declared)
{
    (void)product, (void)member, (void)units, (void)declared;
    *(int64_t *)arg += amount;
}

/* Clients in care on day (distinct). */
static int64_t in_care(ctx_t *x, int32_t day, rows_t *products, rows_t *members)
{
    int64_t n = 0;
    rows_t *both[2] = {products, members};
    if (x->rc == 0)
        x->rc = knoop_store_budget_in_care(x->j, x->c->name, day, &n, products ? count_product : NULL, both, x->err,
                                           x->errlen);
    return n;
}

static int64_t used_cents(ctx_t *x, int32_t from, int32_t to)
{
    int64_t total = 0;
    if (x->rc == 0 && to >= from)
        x->rc = knoop_store_budget_use_sum(x->j, x->c->name, from, to, use_total, &total, x->err, x->errlen);
    return total;
}

/* The budget of period p: the budget period's amount, prorated by days. */
static double period_budget(const knoop_contract_t *c, knoop_period_t p)
{
    knoop_period_t bp = knoop_calendar_budget_period_of(c, p.start);
    return c->budget.amount * (double)(p.end - p.start + 1) / (double)(bp.end - bp.start + 1);
}

/* ---- the parts ---- */

static json_t *terms_json(const knoop_contract_t *c)
{
    json_t *t = json_pack("{s:b, s:b, s:b}", "assignments", c->assignments, "declarations", c->declarations,
                          "personal_contribution", c->personal_contribution);
    json_t *inc = json_array(), *exc = json_array();
    for (size_t k = 0; k < c->n_scope_included; k++)
        json_array_append_new(inc, json_string(c->scope_included[k]->code));
    for (size_t k = 0; k < c->n_scope_excluded; k++)
        json_array_append_new(exc, json_string(c->scope_excluded[k]->code));
    json_object_set_new(t, "scope_included", inc);
    json_object_set_new(t, "scope_excluded", exc);
    if (c->period.present) {
        json_t *opts = json_array();
        for (size_t k = 0; k < c->period.n_extensions; k++)
            json_array_append_new(opts, json_integer(c->period.extension_years[k]));
        json_object_set_new(t, "period",
                            json_pack("{s:o, s:o, s:o, s:o, s:i}", "start", day_json(c->period.start), "end",
                                      day_json(c->period.end), "signed_end", day_json(c->period.signed_end),
                                      "extension_years", opts, "extended", (int)c->period.extended));
    } else {
        json_object_set_new(t, "period", json_null());
    }
    return t;
}

static json_t *contract_json(const knoop_contract_t *c)
{
    json_t *cof = json_array();
    for (size_t k = 0; k < c->n_co_financiers; k++)
        json_array_append_new(cof, json_string(c->co_financiers[k]->code));
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:i, s:o}", "name", c->name, "financier",
                     c->financier->code, "co_financiers", cof, "provider", c->provider->code, "identity",
                     knoop_identity_name(c->identity), "financing", knoop_financing_name(c->financing), "model",
                     knoop_budget_model_name(c->budget.model), "protocol", knoop_protocol_name(c->protocol),
                     "indicator_set", c->indicator_set ? c->indicator_set->name : NULL, "cadence",
                     knoop_cadence_name(knoop_calendar_cadence(c)), "due_days", (int)c->due_days, "terms",
                     terms_json(c));
}

static json_t *products_json(ctx_t *x, rows_t *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const prow_t *p = &r->v[i];
        const knoop_product_t *prod = knoop_network_product(x->net, p->key);
        const knoop_tariff_t *t = knoop_contract_tariff(x->c, prod);
        json_array_append_new(
            a, json_pack("{s:s, s:s?, s:s?, s:s, s:o, s:s?, s:I, s:f, s:f, s:f}", "product", p->key[0] ? p->key : "-",
                         "name", prod ? prod->name : NULL, "group", prod ? prod->group : NULL, "level",
                         prod ? knoop_level_name(prod->level) : "", "tariff",
                         t ? json_real(knoop_figures_round2(t->price)) : json_null(), "unit",
                         t ? knoop_price_unit_name(t->unit) : NULL, "clients", (json_int_t)p->clients, "units",
                         knoop_figures_round2(p->units), "amount", cents(p->amount), "declared", cents(p->declared)));
    }
    return a;
}

static json_t *members_json(ctx_t *x, rows_t *m)
{
    json_t *a = json_array();
    for (size_t i = 0; i < m->n; i++) {
        const prow_t *p = &m->v[i];
        const knoop_party_t *party = knoop_network_party(x->net, p->key);
        json_array_append_new(a, json_pack("{s:s, s:s?, s:f, s:I, s:f, s:f}", "party", p->key[0] ? p->key : "-", "name",
                                           party ? party->name : NULL, "share", knoop_figures_round2(p->share),
                                           "clients", (json_int_t)p->clients, "units", knoop_figures_round2(p->units),
                                           "amount", cents(p->amount)));
    }
    return a;
}

static void hex8(const uint8_t *ref, size_t len, char out[17])
{
    static const char h[] = "0123456789abcdef";
    size_t n = len < 8 ? len : 8;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = h[ref[i] >> 4];
        out[2 * i + 1] = h[ref[i] & 15];
    }
    out[2 * n] = '\0';
}

static void client_use(void *arg, const uint8_t *ref, size_t len, const char *product, double units, int64_t amount,
                       int64_t declared)
{
    char id[17];
    hex8(ref, len, id); /* the first bytes of the keyed BSN hash: stable, and no BSN */
    json_array_append_new(arg,
                          json_pack("{s:s, s:s, s:f, s:f, s:f}", "client", id, "product", product, "units",
                                    knoop_figures_round2(units), "amount", cents(amount), "declared", cents(declared)));
}

static void change_row(void *arg, int32_t day, const uint8_t *ref, size_t len, const char *from, const char *to)
{
    char id[17];
    hex8(ref, len, id);
    json_array_append_new(
        arg, json_pack("{s:o, s:s, s:s, s:s}", "day", day_json(day), "client", id, "from", from, "to", to));
}

/* ---- indicators over the periods ---- */

typedef struct ind_acc {
    const knoop_indicator_t *ind;
    double contract_sum, client_sum;
    int64_t contract_n, client_n;
    size_t contract_groups;
} ind_acc_t;

typedef struct ind_read {
    ind_acc_t *acc;
    size_t n;
} ind_read_t;

static void outcome_value(void *arg, const knoop_store_outcome_t *o)
{
    ind_read_t *r = arg;
    for (size_t i = 0; i < r->n; i++) {
        ind_acc_t *a = &r->acc[i];
        if (strcmp(a->ind->name, o->indicator) != 0 || !o->has_number)
            continue;
        if (o->level == 1) {
            a->client_sum += o->total;
            a->client_n += o->n;
        } else {
            a->contract_sum += o->total;
            a->contract_n += o->n;
            a->contract_groups++;
        }
    }
}

/* One period's value of an indicator: a contract-level report's (groups added up for counts and amounts, averaged
 * otherwise), else the mean of the clients' scores; null when nothing was reported. */
static json_t *indicator_value(const ind_acc_t *a)
{
    if (a->contract_n > 0) {
        bool additive = a->ind->type == KNOOP_VALUE_COUNT || a->ind->type == KNOOP_VALUE_AMOUNT;
        return json_real(
            knoop_figures_round2(additive ? a->contract_sum : a->contract_sum / (double)a->contract_groups));
    }
    if (a->client_n > 0)
        return json_real(knoop_figures_round2(a->client_sum / (double)a->client_n));
    return json_null();
}

static bool numeric(const knoop_indicator_t *ind)
{
    return ind->type != KNOOP_VALUE_TEXT;
}

int knoop_figures_indicator(knoop_journal_t *j, const knoop_contract_t *c, const knoop_indicator_t *ind,
                            knoop_period_t p, double *value, char *err, size_t errlen)
{
    ind_acc_t acc = {.ind = ind};
    ind_read_t rd = {&acc, 1};
    int rc = knoop_store_finance_outcomes(j, c->name, p.start, p.end, outcome_value, &rd, err, errlen);
    if (rc != 0)
        return rc;
    json_t *v = indicator_value(&acc);
    int found = json_is_number(v);
    if (found)
        *value = json_number_value(v);
    json_decref(v);
    return found;
}

/* ---- the whole ---- */

json_t *knoop_figures_compose(knoop_journal_t *j, const knoop_network_t *net, const knoop_contract_t *c,
                              knoop_period_t p, int32_t today, char *err, size_t errlen)
{
    ctx_t x = {.j = j, .net = net, .c = c, .err = err, .errlen = errlen};
    bool complete = p.end < today;
    int32_t day = complete ? p.end : today; /* clients are counted on the period's last day, or today */
    json_t *f = json_pack("{s:s, s:o, s:o}", "schema", KNOOP_FIGURES_SCHEMA, "contract", contract_json(c), "period",
                          period_json(c, p));
    json_object_set_new(json_object_get(f, "period"), "complete", json_boolean(complete));
    json_object_set_new(json_object_get(f, "period"), "counted_on", day_json(day));
    bool white = c->identity == KNOOP_IDENTITY_WHITE_LABEL; /* never name a member to a white-label financier */

    /* products and members: the tariffs first, then whatever the ledger saw */
    rows_t *pm = calloc(2, sizeof *pm); /* owned here: the product and the member rows */
    if (!pm) {
        json_decref(f);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    rows_t *products = &pm[0], *members = &pm[1];
    for (size_t k = 0; k < c->n_tariffs; k++)
        row_of(products, c->tariffs[k].product->code);
    for (size_t k = 0; !white && k < c->budget.n_shares; k++) {
        prow_t *m = row_of(members, c->budget.shares[k].party->code);
        if (m)
            m->share = c->budget.shares[k].amount;
    }
    int64_t clients = in_care(&x, day, products, white ? NULL : members);
    rows_t *both[2] = {products, white ? NULL : members};
    if (x.rc == 0)
        x.rc = knoop_store_budget_use_sum(j, c->name, p.start, p.end, use_product, both, err, errlen);
    int64_t started = 0, stopped = 0;
    if (x.rc == 0)
        x.rc = knoop_store_budget_flow(j, c->name, p.start, p.end, &started, &stopped, err, errlen);
    json_t *changes = json_array();
    if (x.rc == 0)
        x.rc = knoop_store_budget_changes(j, c->name, p.start, p.end, KNOOP_FIGURES_DETAILS, change_row, changes, err,
                                          errlen);
    /* an intensity change ends one episode and opens another: neither is a client coming or going */
    int64_t nchanges = (int64_t)json_array_size(changes);
    json_t *cl = json_pack("{s:I, s:I, s:I, s:I}", "in_care", (json_int_t)clients, "started",
                           (json_int_t)(started - nchanges > 0 ? started - nchanges : 0), "stopped",
                           (json_int_t)(stopped - nchanges > 0 ? stopped - nchanges : 0), "intensity_changes",
                           (json_int_t)nchanges);
    if (c->budget.present && c->budget.volume) {
        double dev = 0;
        const char *band = knoop_figures_band(c, (double)clients, &dev);
        json_object_set_new(cl, "contracted", json_integer(c->budget.volume));
        json_object_set_new(cl, "deviation_pct", json_real(knoop_figures_round2(dev)));
        json_object_set_new(cl, "band", json_string(band));
    }
    json_object_set_new(f, "clients", cl);
    json_object_set_new(f, "products", products_json(&x, products));
    if (!white)
        json_object_set_new(f, "members", members_json(&x, members));
    json_object_set_new(f, "changes", changes);
    if (c->budget.model == KNOOP_MODEL_ARRANGEMENT) {
        json_t *per_client = json_array();
        if (x.rc == 0)
            x.rc = knoop_store_budget_use_by_client(j, c->name, p.start, p.end, KNOOP_FIGURES_DETAILS, client_use,
                                                    per_client, err, errlen);
        json_object_set_new(f, "clients_use", per_client);
    }

    /* the budget and its use */
    int64_t used = 0, declared = 0;
    for (size_t i = 0; i < products->n; i++) {
        used += products->v[i].amount;
        declared += products->v[i].declared;
    }
    if (c->budget.present) {
        knoop_period_t bp = knoop_calendar_budget_period_of(c, p.start);
        int64_t to_date = used_cents(&x, bp.start, p.end < bp.end ? p.end : bp.end);
        json_object_set_new(
            f, "budget",
            json_pack("{s:f, s:s, s:o, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "amount",
                      knoop_figures_round2(c->budget.amount), "per", knoop_price_unit_name(c->budget.period),
                      "budget_period", period_json(c, bp), "period_budget", knoop_figures_round2(period_budget(c, p)),
                      "used", cents(used), "declared", cents(declared), "used_to_date", cents(to_date), "used_pct",
                      knoop_figures_round2(c->budget.amount > 0 ? cents(to_date) / c->budget.amount * 100.0 : 0),
                      "band_above_pct", c->budget.band_above_pct, "band_below_pct", c->budget.band_below_pct));
    }

    /* the series: this period and up to KNOOP_FIGURES_SERIES - 1 before it (not before the contract's start) */
    knoop_period_t ps[KNOOP_FIGURES_SERIES];
    size_t np = 0;
    for (knoop_period_t q = p; np < KNOOP_FIGURES_SERIES; q = knoop_calendar_prev(c, q)) {
        ps[np++] = q;
        if (c->period.present && q.start <= c->period.start)
            break;
    }
    json_t *series = json_array();
    for (size_t i = np; i-- > 0;) {
        knoop_period_t q = ps[i];
        int32_t qday = q.end < today ? q.end : today;
        json_t *s = period_json(c, q);
        json_object_set_new(s, "clients", json_integer(in_care(&x, qday, NULL, NULL)));
        json_object_set_new(s, "used", json_real(cents(used_cents(&x, q.start, q.end))));
        if (c->budget.present) {
            double pb = period_budget(c, q);
            json_object_set_new(s, "period_budget", json_real(knoop_figures_round2(pb)));
            json_object_set_new(s, "budget_high",
                                json_real(knoop_figures_round2(pb * (1 + c->budget.band_above_pct / 100.0))));
            json_object_set_new(s, "budget_low",
                                json_real(knoop_figures_round2(pb * (1 - c->budget.band_below_pct / 100.0))));
        }
        if (c->budget.present && c->budget.volume) {
            double v = c->budget.volume;
            json_object_set_new(s, "volume", json_integer(c->budget.volume));
            json_object_set_new(s, "clients_high",
                                json_real(knoop_figures_round2(v * (1 + c->budget.band_above_pct / 100.0))));
            json_object_set_new(s, "clients_low",
                                json_real(knoop_figures_round2(v * (1 - c->budget.band_below_pct / 100.0))));
        }
        json_array_append_new(series, s);
    }
    json_object_set_new(f, "series", series);

    /* each indicator over the same periods */
    if (c->indicator_set) {
        const knoop_indicator_set_t *set = c->indicator_set;
        json_t *inds = json_array();
        ind_acc_t acc[64];
        size_t nind = 0;
        for (size_t k = 0; k < set->n_indicators && nind < 64; k++)
            if (numeric(&set->indicators[k])) {
                json_t *req = json_false();
                for (size_t r = 0; r < c->n_required; r++)
                    if (c->required[r] == &set->indicators[k])
                        req = json_true();
                json_array_append_new(inds, json_pack("{s:s, s:s?, s:s, s:o, s:o}", "indicator",
                                                      set->indicators[k].name, "label", set->indicators[k].label,
                                                      "type", knoop_value_type_name(set->indicators[k].type),
                                                      "required", req, "values", json_array()));
                acc[nind++].ind = &set->indicators[k];
            }
        for (size_t i = np; i-- > 0;) {
            for (size_t k = 0; k < nind; k++) {
                const knoop_indicator_t *ind = acc[k].ind;
                memset(&acc[k], 0, sizeof acc[k]);
                acc[k].ind = ind;
            }
            ind_read_t rd = {acc, nind};
            if (x.rc == 0)
                x.rc =
                    knoop_store_finance_outcomes(j, c->name, ps[i].start, ps[i].end, outcome_value, &rd, err, errlen);
            char label[40];
            knoop_calendar_label(c, ps[i], label, sizeof label);
            for (size_t k = 0; k < nind; k++)
                json_array_append_new(json_object_get(json_array_get(inds, k), "values"),
                                      json_pack("{s:s, s:o}", "period", label, "value", indicator_value(&acc[k])));
        }
        json_object_set_new(f, "indicators", inds);
    }

    /* the budget period's recalculation (nacalculatie), to this period's end */
    if (c->budget.present) {
        knoop_period_t bp = knoop_calendar_budget_period_of(c, p.start);
        json_t *counts = json_array();
        double sum = 0;
        size_t n = 0;
        for (knoop_period_t q = knoop_calendar_period_of(c, bp.start);
             q.end <= bp.end && q.end <= p.end && q.end < today; q = knoop_calendar_next(c, q)) {
            int64_t k = in_care(&x, q.end, NULL, NULL);
            json_array_append_new(counts, json_pack("{s:o, s:I}", "on", day_json(q.end), "clients", (json_int_t)k));
            sum += (double)k;
            n++;
        }
        double amount = c->budget.amount, final = amount, mean = n ? sum / (double)n : 0, dev = 0;
        int64_t computed = used_cents(&x, bp.start, p.end < bp.end ? p.end : bp.end);
        const char *rule = "a lump sum is not recalculated: the final amount is the budget";
        const char *band = "none";
        if (c->budget.model == KNOOP_MODEL_VOLUME_PRICE) {
            band = knoop_figures_band(c, mean, &dev);
            rule = "mean of the clients in care at the end of each period; outside the band the budget follows the "
                   "clients (budget x mean / contracted), inside it stays";
            if (strcmp(band, "within") != 0 && c->budget.volume)
                final = amount * mean / (double)c->budget.volume;
        } else if (c->budget.model == KNOOP_MODEL_ARRANGEMENT) {
            rule = "tariff x units declared: the final amount is what the arrangements cost";
            final = cents(computed);
        }
        json_t *rc = json_pack("{s:o, s:b, s:s, s:o, s:f, s:f, s:f}", "budget_period", period_json(c, bp), "complete",
                               bp.end <= p.end && p.end < today, "rule", rule, "counts", counts, "mean_clients",
                               knoop_figures_round2(mean), "amount", knoop_figures_round2(amount), "computed_amount",
                               cents(computed));
        if (c->budget.volume) {
            json_object_set_new(rc, "contracted", json_integer(c->budget.volume));
            json_object_set_new(rc, "deviation_pct", json_real(knoop_figures_round2(dev)));
            json_object_set_new(rc, "band", json_string(band));
        }
        json_object_set_new(rc, "final_amount", json_real(knoop_figures_round2(final)));
        json_object_set_new(f, "recalculation", rc);
    }
    free(pm);
    if (x.rc != 0) {
        json_decref(f);
        return NULL;
    }
    return f;
}
