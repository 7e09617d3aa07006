/* budget_ledger.c — messages into budget-ledger rows. Decided on the loop thread from the network alone (which contract,
 * which product and group, which tariff), written by the writer in the message's own transaction, so the ledger holds
 * exactly the messages the journal holds: a duplicate, a refused or a failed message adds nothing, and a restart finds
 * the ledger as the journal left it. */
#include "finance/budget_ledger.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/civil.h"
#include "base/clock.h"
#include "domain.pb-c.h"
#include "store/budget.h"
#include "store/finance.h"

#define ROWS_MAX 256 /* rows one message feeds; lines beyond are left out (logged by nobody: a 323 has far fewer) */

typedef enum row_kind { ROW_START = 1, ROW_STOP, ROW_CHANGE, ROW_USE, ROW_OUTCOME } row_kind_t;

typedef struct row {
    row_kind_t kind;
    uint8_t client_ref[32];
    size_t client_ref_len;
    char product[KNOOP_NAME_MAX], grp[KNOOP_NAME_MAX], member[KNOOP_CODE_MAX];
    int32_t day, end_day;
    double units;
    int64_t amount_cents, declared_cents;
    /* outcome values */
    int level;
    char indicator[KNOOP_NAME_MAX], text[128];
    double number;
    bool has_number;
} row_t;

struct knoop_budget_rows {
    char contract[KNOOP_NAME_MAX];
    size_t n, cap;
    row_t row[];
};

size_t knoop_budget_count(const knoop_budget_rows_t *rows)
{
    return rows ? rows->n : 0;
}

static knoop_budget_rows_t *rows_new(const char *contract, size_t cap)
{
    if (cap > ROWS_MAX)
        cap = ROWS_MAX;
    knoop_budget_rows_t *r = calloc(1, sizeof *r + cap * sizeof r->row[0]);
    if (r) {
        snprintf(r->contract, sizeof r->contract, "%s", contract);
        r->cap = cap;
    }
    return r;
}

static row_t *add(knoop_budget_rows_t *r, row_kind_t kind)
{
    if (r->n == r->cap)
        return NULL;
    row_t *x = &r->row[r->n++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    return x;
}

/* Nothing to keep: free the block and say so. */
static knoop_budget_rows_t *none_if_empty(knoop_budget_rows_t *r)
{
    if (r && r->n == 0) {
        free(r);
        return NULL;
    }
    return r;
}

static void set_client(row_t *x, const uint8_t *ref, size_t len)
{
    x->client_ref_len = ref ? (len > sizeof x->client_ref ? sizeof x->client_ref : len) : 0;
    if (x->client_ref_len)
        memcpy(x->client_ref, ref, x->client_ref_len);
}

/* The product's code and group as the ledger keeps them; a product the network does not know keeps its own name. */
static void set_product(row_t *x, const knoop_product_t *p, const char *fallback)
{
    snprintf(x->product, sizeof x->product, "%s", p ? p->code : fallback);
    snprintf(x->grp, sizeof x->grp, "%s", p && p->group ? p->group : x->product);
}

static bool per_ride(const knoop_contract_t *c, const knoop_product_t *p)
{
    const knoop_tariff_t *t = knoop_contract_tariff(c, p);
    return t && t->unit == KNOOP_UNIT_RIDE;
}

/* The provider side of an exchange: the publisher when it provides care, else the receiver. */
static const char *provider_side(const knoop_network_t *net, const char *publisher, const char *receiver)
{
    const knoop_party_t *p = knoop_network_party(net, publisher);
    if (p && knoop_party_kind_is_provider(p->kind))
        return p->code;
    const knoop_party_t *r = knoop_network_party(net, receiver);
    return r && knoop_party_kind_is_provider(r->kind) ? r->code : "";
}

/* Does the ledger keep anything for this contract? A budget or a reporting calendar. */
static bool kept(const knoop_contract_t *c)
{
    return c && (c->budget.present || c->indicator_set);
}

static knoop_budget_rows_t *plan_rows(const knoop_network_t *net, const knoop_contract_t *c,
                                      const Knoop__Domain__PlanUpdate *m, const char *member, const uint8_t *client_ref,
                                      int32_t today)
{
    if (!client_ref || !c->budget.present)
        return NULL;
    int32_t day = today;
    if (m->effective_date && m->effective_date[0] && knoop_civil_parse(m->effective_date, &day) != 0)
        return NULL;
    const knoop_product_t *p = m->product && m->product[0] ? knoop_network_product(net, m->product) : NULL;
    row_kind_t kind = m->action == KNOOP__DOMAIN__PLAN_ACTION__STARTED        ? ROW_START
                      : m->action == KNOOP__DOMAIN__PLAN_ACTION__STOPPED      ? ROW_STOP
                      : m->action == KNOOP__DOMAIN__PLAN_ACTION__CHANGED && p ? ROW_CHANGE
                                                                              : 0;
    if (kind == 0 || (kind != ROW_STOP && per_ride(c, p)))
        return NULL;
    knoop_budget_rows_t *r = rows_new(c->name, 1);
    row_t *x = r ? add(r, kind) : NULL;
    if (!x)
        return r;
    set_client(x, client_ref, 32);
    set_product(x, p, kind == ROW_STOP ? "" : m->product);
    if (kind == ROW_STOP && !p)
        x->grp[0] = '\0';
    snprintf(x->member, sizeof x->member, "%s", member);
    x->day = day;
    return r;
}

static knoop_budget_rows_t *outcome_rows(const knoop_contract_t *c, const Knoop__Domain__OutcomeReport *m)
{
    int32_t start, end;
    if (!c->indicator_set || knoop_civil_parse(m->period_start, &start) != 0 ||
        knoop_civil_parse(m->period_end, &end) != 0)
        return NULL;
    knoop_budget_rows_t *r = rows_new(c->name, m->n_values);
    for (size_t i = 0; r && i < m->n_values; i++) {
        const Knoop__Domain__IndicatorValue *v = m->values[i];
        row_t *x = add(r, ROW_OUTCOME);
        if (!x)
            break;
        x->level = (int)m->level;
        x->day = start;
        x->end_day = end;
        snprintf(x->indicator, sizeof x->indicator, "%s", v->indicator);
        /* a client's scores are kept as a mean over the clients, never per client */
        snprintf(x->grp, sizeof x->grp, "%s", m->level == KNOOP__DOMAIN__OUTCOME_LEVEL__CLIENT ? "" : v->group);
        x->has_number = v->value_case != KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_TEXT;
        x->number = v->value_case == KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_FLAG ? (v->flag ? 1 : 0) : v->number;
        if (v->value_case == KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_TEXT &&
            m->level != KNOOP__DOMAIN__OUTCOME_LEVEL__CLIENT)
            snprintf(x->text, sizeof x->text, "%s", v->text);
    }
    return none_if_empty(r);
}

knoop_budget_rows_t *knoop_budget_native(const knoop_network_t *net, const char *contract, const Knoop__Envelope *env,
                                         const char *publisher, const uint8_t *client_ref, int32_t today)
{
    const knoop_contract_t *c = net && contract && contract[0] ? knoop_network_contract(net, contract) : NULL;
    if (!kept(c) || !env->content_type)
        return NULL;
    const char *ct = env->content_type;
    if (strstr(ct, "knoop.domain.PlanUpdate")) {
        Knoop__Domain__PlanUpdate *m = knoop__domain__plan_update__unpack(NULL, env->payload.len, env->payload.data);
        if (!m)
            return NULL;
        knoop_budget_rows_t *r = plan_rows(net, c, m, provider_side(net, publisher, env->receiver), client_ref, today);
        knoop__domain__plan_update__free_unpacked(m, NULL);
        return r;
    }
    if (strstr(ct, "knoop.domain.OutcomeReport")) {
        Knoop__Domain__OutcomeReport *m =
            knoop__domain__outcome_report__unpack(NULL, env->payload.len, env->payload.data);
        if (!m)
            return NULL;
        knoop_budget_rows_t *r = outcome_rows(c, m);
        knoop__domain__outcome_report__free_unpacked(m, NULL);
        return r;
    }
    return NULL;
}

knoop_budget_rows_t *knoop_budget_of_message(const knoop_broker_t *b, const Knoop__Envelope *env, const char *publisher,
                                             const char *contract, const uint8_t *client_ref)
{
    if (!b->config->network || !contract || !contract[0])
        return NULL;
    int32_t today = (int32_t)(knoop_now_us() / 86400000000ull);
    return knoop_budget_native(b->config->network, contract, env, publisher, client_ref, today);
}

knoop_budget_rows_t *knoop_budget_istd(const knoop_network_t *net, const char *contract, const char *sender,
                                       const char *receiver, const knoop_budget_line_t *lines, size_t n)
{
    const knoop_contract_t *c = net && contract && contract[0] ? knoop_network_contract(net, contract) : NULL;
    if (!c || !c->budget.present || n == 0)
        return NULL;
    const char *member = provider_side(net, sender, receiver);
    knoop_budget_rows_t *r = rows_new(c->name, n);
    for (size_t i = 0; r && i < n; i++) {
        const knoop_budget_line_t *l = &lines[i];
        const knoop_product_t *p = knoop_network_product_by_istd(net, l->code);
        char raw[KNOOP_NAME_MAX];
        snprintf(raw, sizeof raw, "istd:%s", l->code && l->code[0] ? l->code : "-");
        int32_t begin, end = 0;
        if (!l->client_ref || knoop_civil_parse(l->begin, &begin) != 0)
            continue;
        bool has_end = l->end && l->end[0] && knoop_civil_parse(l->end, &end) == 0;
        row_kind_t kind = l->number == 305 ? ROW_START : l->number == 307 ? ROW_STOP : l->number == 323 ? ROW_USE : 0;
        if (kind == 0 || (kind != ROW_USE && per_ride(c, p)) || (kind == ROW_STOP && !has_end))
            continue;
        row_t *x = add(r, kind);
        if (!x)
            break;
        set_client(x, l->client_ref, l->client_ref_len);
        set_product(x, p, raw);
        snprintf(x->member, sizeof x->member, "%s", member);
        x->day = kind == ROW_STOP ? end : begin;
        if (kind == ROW_USE) {
            bool credit = l->bedrag < 0;
            x->units = l->volume > 0 ? (double)l->volume * (credit ? -1 : 1) : 0;
            x->declared_cents = l->bedrag;
            const knoop_tariff_t *t = knoop_contract_tariff(c, p);
            x->amount_cents = t ? llround(t->price * 100.0 * x->units) : l->bedrag;
        }
    }
    return none_if_empty(r);
}

int knoop_budget_apply(knoop_jtx_t *tx, void *arg, uint64_t seq)
{
    const knoop_budget_rows_t *r = arg;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->n; i++) {
        const row_t *x = &r->row[i];
        knoop_store_episode_t e = {.contract = r->contract,
                                   .client_ref = x->client_ref,
                                   .client_ref_len = x->client_ref_len,
                                   .product = x->product,
                                   .grp = x->grp,
                                   .member = x->member,
                                   .day = x->day};
        switch (x->kind) {
        case ROW_START:
            rc = knoop_store_budget_start(tx, &e, seq);
            break;
        case ROW_STOP:
            rc = knoop_store_budget_stop(tx, r->contract, x->client_ref, x->client_ref_len, x->product, x->day);
            break;
        case ROW_CHANGE:
            rc = knoop_store_budget_change(tx, &e, seq, NULL, 0);
            break;
        case ROW_USE: {
            knoop_store_use_t u = {.contract = r->contract,
                                   .day = x->day,
                                   .product = x->product,
                                   .member = x->member,
                                   .client_ref = x->client_ref_len ? x->client_ref : NULL,
                                   .client_ref_len = x->client_ref_len,
                                   .units = x->units,
                                   .amount_cents = x->amount_cents,
                                   .declared_cents = x->declared_cents};
            rc = knoop_store_budget_use_add(tx, &u);
            break;
        }
        case ROW_OUTCOME: {
            knoop_store_outcome_t o = {.contract = r->contract,
                                       .start_day = x->day,
                                       .end_day = x->end_day,
                                       .level = x->level,
                                       .indicator = x->indicator,
                                       .grp = x->grp,
                                       .total = x->number,
                                       .has_number = x->has_number,
                                       .text = x->text};
            rc = knoop_store_finance_outcome_put(tx, &o, seq);
            break;
        }
        }
    }
    return rc;
}
