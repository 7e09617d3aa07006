/* domain_check.c — one check function per native message, chosen from a table by content type; each returns
 * 0 or a negative code with a reason "Message.field: what is wrong" for the sender. The part before the first ": "
 * names the message and field and never holds a payload value: it is all ingest logs of a refused payload
 * (ingest/pipeline.c), while the sender gets the whole reason. Reasons are composed in wire mode (base/textfmt.h):
 * a payload string that is not UTF-8 or could be a BSN is not repeated. */
#include "route/domain_check.h"
#include "base/civil.h"
#include "base/textfmt.h"
#include "base/pb_budget.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "application/x-protobuf;"

static int fail(int code, char *reason, size_t n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(int code, char *reason, size_t n, const char *fmt, ...)
{
    if (reason != NULL && n > 0) {
        va_list ap;
        va_start(ap, fmt);
        knoop_textfmt(reason, n, KNOOP_TEXT_WIRE, NULL, fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool empty(const char *s)
{
    return s == NULL || *s == '\0';
}

int knoop_domain_parse_date(const char *s, int32_t *days)
{
    return knoop_civil_parse(s, days);
}

static int check_version(uint32_t v, const char *what, char *reason, size_t n)
{
    if (v == KNOOP_DOMAIN_SCHEMA_VERSION)
        return 0;
    return fail(-ENOTSUP, reason, n,
                "%s.schema_version: schema_version %u is not supported; this knoopd speaks version %d", what, v,
                KNOOP_DOMAIN_SCHEMA_VERSION);
}

/* A provider the client may be sent to under this contract: a member taking part (white-label), the contracted
 * provider or a listed member/partner (legacy), or any provider of the network when no contract is known. */
static bool provider_fits(const knoop_network_t *net, const knoop_contract_t *c, const char *code)
{
    const knoop_party_t *p = knoop_network_party(net, code);
    if (p == NULL || !knoop_party_kind_is_provider(p->kind) || p->kind == KNOOP_PARTY_SUBCONTRACTOR)
        return false;
    if (c == NULL)
        return true;
    if (c->identity == KNOOP_IDENTITY_WHITE_LABEL)
        return p->member_slot >= 0 && (c->member_mask >> p->member_slot & 1);
    return p == c->provider || knoop_contract_has_member(c, p);
}

int knoop_domain_check_referral(const knoop_network_t *net, const knoop_contract_t *c, const Knoop__Domain__Referral *m,
                                char *reason, size_t n)
{
    int rc = check_version(m->schema_version, "Referral", reason, n);
    if (rc != 0)
        return rc;
    if (!empty(m->product) && knoop_network_product(net, m->product) == NULL)
        return fail(-EINVAL, reason, n, "Referral.product: '%s' is not a product of this network", m->product);
    if (!knoop_contract_covers(c, m->product)) /* the financier does not pay for it (config/network_terms.c) */
        return fail(-EINVAL, reason, n, "Referral.product: '%s' is not part of contract '%s' (its scope leaves it out)",
                    m->product, c->name);
    if (m->urgency < KNOOP__DOMAIN__URGENCY__URGENCY_UNSPECIFIED || m->urgency > KNOOP__DOMAIN__URGENCY__CRISIS)
        return fail(-EINVAL, reason, n, "Referral.urgency: %d is not one of ROUTINE, SOON, URGENT, CRISIS", m->urgency);
    if (!empty(m->preferred_provider) && !provider_fits(net, c, m->preferred_provider))
        return fail(-EINVAL, reason, n, "Referral.preferred_provider: %s does not take part in contract '%s'",
                    m->preferred_provider, c ? c->name : "(any)");
    if (!empty(m->start_date) && knoop_domain_parse_date(m->start_date, NULL) != 0)
        return fail(-EINVAL, reason, n, "Referral.start_date: '%s' is not a date (YYYY-MM-DD)", m->start_date);
    if (!empty(m->referral_id) && strlen(m->referral_id) > 12)
        return fail(-EINVAL, reason, n, "Referral.referral_id: '%s' is longer than 12 characters", m->referral_id);
    const knoop_indicator_set_t *set = c ? c->indicator_set : NULL;
    for (size_t i = 0; set && i < m->n_domains; i++)
        if (knoop_indicator_set_find(set, m->domains[i]) == NULL)
            return fail(-EINVAL, reason, n, "Referral.domains[%zu]: '%s' is not in indicator set '%s'", i,
                        m->domains[i], set->name);
    return 0;
}

/* Which plan actions need a date, and which need the new provider. */
static const struct {
    int action;
    const char *name;
    bool needs_date, needs_provider;
} plan_actions[] = {
    {KNOOP__DOMAIN__PLAN_ACTION__CREATED, "CREATED", false, false},
    {KNOOP__DOMAIN__PLAN_ACTION__CHANGED, "CHANGED", false, false},
    {KNOOP__DOMAIN__PLAN_ACTION__STARTED, "STARTED", true, false},
    {KNOOP__DOMAIN__PLAN_ACTION__STOPPED, "STOPPED", true, false},
    {KNOOP__DOMAIN__PLAN_ACTION__PROVIDER_CHANGED, "PROVIDER_CHANGED", true, true},
};

int knoop_domain_check_plan_update(const knoop_network_t *net, const knoop_contract_t *c,
                                   const Knoop__Domain__PlanUpdate *m, char *reason, size_t n)
{
    int rc = check_version(m->schema_version, "PlanUpdate", reason, n);
    if (rc != 0)
        return rc;
    size_t a = 0, na = sizeof plan_actions / sizeof plan_actions[0];
    while (a < na && plan_actions[a].action != (int)m->action)
        a++;
    if (a == na)
        return fail(-EINVAL, reason, n,
                    "PlanUpdate.action: %d is not one of CREATED, CHANGED, STARTED, STOPPED, "
                    "PROVIDER_CHANGED",
                    m->action);
    if (plan_actions[a].needs_date && empty(m->effective_date))
        return fail(-EINVAL, reason, n, "PlanUpdate.effective_date: required for %s", plan_actions[a].name);
    if (!empty(m->effective_date) && knoop_domain_parse_date(m->effective_date, NULL) != 0)
        return fail(-EINVAL, reason, n, "PlanUpdate.effective_date: '%s' is not a date (YYYY-MM-DD)",
                    m->effective_date);
    if (!empty(m->product) && knoop_network_product(net, m->product) == NULL)
        return fail(-EINVAL, reason, n, "PlanUpdate.product: '%s' is not a product of this network", m->product);
    if (!knoop_contract_covers(c, m->product))
        return fail(-EINVAL, reason, n,
                    "PlanUpdate.product: '%s' is not part of contract '%s' (its scope leaves it out)", m->product,
                    c->name);
    if (plan_actions[a].needs_provider) {
        if (empty(m->new_provider))
            return fail(-EINVAL, reason, n, "PlanUpdate.new_provider: required for PROVIDER_CHANGED");
        if (!m->at_client_request)
            return fail(-EINVAL, reason, n,
                        "PlanUpdate.at_client_request: must be true for PROVIDER_CHANGED (a move happens only at "
                        "the client's request)");
        if (!provider_fits(net, c, m->new_provider))
            return fail(-EINVAL, reason, n,
                        "PlanUpdate.new_provider: %s does not take part in "
                        "contract '%s'",
                        m->new_provider, c ? c->name : "(any)");
    } else if (!empty(m->new_provider)) {
        return fail(-EINVAL, reason, n, "PlanUpdate.new_provider: only for PROVIDER_CHANGED, not %s",
                    plan_actions[a].name);
    }
    return 0;
}

/* How each value type is carried and checked. */
static const struct {
    knoop_value_type_t type;
    int value_case; /* the oneof member that must be set */
    bool integer;   /* numbers must be whole */
} value_rules[] = {
    {KNOOP_VALUE_SCALE, KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_NUMBER, false},
    {KNOOP_VALUE_COUNT, KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_NUMBER, true},
    {KNOOP_VALUE_PERCENTAGE, KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_NUMBER, false},
    {KNOOP_VALUE_AMOUNT, KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_NUMBER, false},
    {KNOOP_VALUE_BOOLEAN, KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_FLAG, false},
    {KNOOP_VALUE_TEXT, KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_TEXT, false},
};
static const char *case_name(int vc)
{
    return vc == KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_NUMBER ? "number"
           : vc == KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_FLAG ? "flag"
           : vc == KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_TEXT ? "text"
                                                              : "nothing";
}

static int check_value(const knoop_indicator_set_t *set, const Knoop__Domain__IndicatorValue *v, size_t i, char *reason,
                       size_t n)
{
    const knoop_indicator_t *ind = knoop_indicator_set_find(set, v->indicator);
    if (ind == NULL)
        return fail(-EINVAL, reason, n, "OutcomeReport.values[%zu].indicator: '%s' is not in indicator set '%s'", i,
                    v->indicator, set->name);
    for (size_t r = 0; r < sizeof value_rules / sizeof value_rules[0]; r++) {
        if (value_rules[r].type != ind->type)
            continue;
        if ((int)v->value_case != value_rules[r].value_case)
            return fail(-EINVAL, reason, n,
                        "OutcomeReport.values[%zu]: indicator '%s' is a %s and needs a %s value, "
                        "not %s",
                        i, ind->name, knoop_value_type_name(ind->type), case_name(value_rules[r].value_case),
                        case_name(v->value_case));
        if (v->value_case != KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_NUMBER)
            return 0;
        double x = v->number;
        if (!isfinite(x) || x < ind->min || x > ind->max) {
            if (ind->type == KNOOP_VALUE_SCALE || ind->type == KNOOP_VALUE_PERCENTAGE)
                return fail(-EINVAL, reason, n,
                            "OutcomeReport.values[%zu]: indicator '%s' scored %g, outside its "
                            "range %g..%g",
                            i, ind->name, x, ind->min, ind->max);
            return fail(-EINVAL, reason, n, "OutcomeReport.values[%zu]: indicator '%s' (%s) cannot be %g", i, ind->name,
                        knoop_value_type_name(ind->type), x);
        }
        if (value_rules[r].integer && x != floor(x))
            return fail(-EINVAL, reason, n, "OutcomeReport.values[%zu]: indicator '%s' is a count; %g is not whole", i,
                        ind->name, x);
        return 0;
    }
    return 0;
}

int knoop_domain_check_outcome(const knoop_network_t *net, const knoop_contract_t *c,
                               const Knoop__Domain__OutcomeReport *m, char *reason, size_t n)
{
    int rc = check_version(m->schema_version, "OutcomeReport", reason, n);
    if (rc != 0)
        return rc;
    if (!empty(m->contract)) {
        const knoop_contract_t *named = knoop_network_contract(net, m->contract);
        if (named == NULL)
            return fail(-EINVAL, reason, n, "OutcomeReport.contract: unknown contract '%s'", m->contract);
        if (c != NULL && named != c)
            return fail(-EINVAL, reason, n,
                        "OutcomeReport.contract: names '%s' but the report travels under contract '%s'", m->contract,
                        c->name);
        c = named;
    }
    const knoop_indicator_set_t *set = c ? c->indicator_set : knoop_network_indicator_set(net, m->indicator_set);
    if (c != NULL && set == NULL)
        return fail(-EINVAL, reason, n, "OutcomeReport: contract '%s' has no outcome reporting", c->name);
    /* With neither a contract (the router has not decided yet) nor a set named, only the shape can be checked
     * now; the values are checked when the contract is known. */
    if (set == NULL && !empty(m->indicator_set))
        return fail(-EINVAL, reason, n, "OutcomeReport.indicator_set: unknown indicator set '%s'", m->indicator_set);
    if (set != NULL && !empty(m->indicator_set) && strcmp(m->indicator_set, set->name) != 0)
        return fail(-EINVAL, reason, n, "OutcomeReport.indicator_set: '%s' is not the contract's ('%s')",
                    m->indicator_set, set->name);
    if (m->level < KNOOP__DOMAIN__OUTCOME_LEVEL__CLIENT || m->level > KNOOP__DOMAIN__OUTCOME_LEVEL__POPULATION)
        return fail(-EINVAL, reason, n, "OutcomeReport.level: the level must be CLIENT, CONTRACT or POPULATION");
    if (m->level == KNOOP__DOMAIN__OUTCOME_LEVEL__POPULATION && empty(m->area))
        return fail(-EINVAL, reason, n, "OutcomeReport.area: a POPULATION report names its area");
    int32_t from, to;
    if (knoop_domain_parse_date(m->period_start, &from) != 0)
        return fail(-EINVAL, reason, n, "OutcomeReport.period_start: '%s' is not a date (YYYY-MM-DD)", m->period_start);
    if (knoop_domain_parse_date(m->period_end, &to) != 0)
        return fail(-EINVAL, reason, n, "OutcomeReport.period_end: '%s' is not a date (YYYY-MM-DD)", m->period_end);
    if (to < from)
        return fail(-EINVAL, reason, n, "OutcomeReport.period_end: the period ends (%s) before it starts (%s)",
                    m->period_end, m->period_start);
    if (to - from + 1 > KNOOP_DOMAIN_MAX_PERIOD_DAYS)
        return fail(-EINVAL, reason, n, "OutcomeReport.period_end: a period of %d days (%s..%s) is longer than %d days",
                    to - from + 1, m->period_start, m->period_end, KNOOP_DOMAIN_MAX_PERIOD_DAYS);
    if (m->n_values == 0)
        return fail(-EINVAL, reason, n, "OutcomeReport.values: no values");
    for (size_t i = 0; i < m->n_values; i++) {
        const Knoop__Domain__IndicatorValue *v = m->values[i];
        if (set != NULL && (rc = check_value(set, v, i, reason, n)) != 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->values[j]->indicator, v->indicator) == 0 && strcmp(m->values[j]->group, v->group) == 0)
                return fail(-EINVAL, reason, n, "OutcomeReport.values[%zu]: indicator '%s'%s%s%s given twice", i,
                            v->indicator, *v->group ? " (group '" : "", v->group, *v->group ? "')" : "");
    }
    /* The calendar's report (contract or population level) holds every indicator the contract requires; a client's
     * scores may cover the domains that concern the client. */
    for (size_t r = 0; c != NULL && m->level != KNOOP__DOMAIN__OUTCOME_LEVEL__CLIENT && r < c->n_required; r++) {
        size_t i = 0;
        while (i < m->n_values && strcmp(m->values[i]->indicator, c->required[r]->name) != 0)
            i++;
        if (i == m->n_values)
            return fail(-EINVAL, reason, n,
                        "OutcomeReport: indicator '%s' is missing; contract '%s' requires it in every %s report",
                        c->required[r]->name, c->name,
                        m->level == KNOOP__DOMAIN__OUTCOME_LEVEL__CONTRACT ? "contract-level" : "population-level");
    }
    return 0;
}

int knoop_domain_check_retour(const knoop_network_t *net, const knoop_contract_t *c, const Knoop__Domain__Retour *m,
                              char *reason, size_t n)
{
    (void)net;
    (void)c;
    int rc = check_version(m->schema_version, "Retour", reason, n);
    if (rc != 0)
        return rc;
    if (empty(m->correlation_id))
        return fail(-EINVAL, reason, n, "Retour.correlation_id: required (it names the answered message)");
    if (m->status != KNOOP__DOMAIN__RETOUR_STATUS__ACCEPTED && m->status != KNOOP__DOMAIN__RETOUR_STATUS__REJECTED)
        return fail(-EINVAL, reason, n, "Retour.status: must be ACCEPTED or REJECTED");
    if (m->status == KNOOP__DOMAIN__RETOUR_STATUS__REJECTED && m->n_codes == 0 && empty(m->reason))
        return fail(-EINVAL, reason, n, "Retour: a rejection gives at least one code or a reason");
    for (size_t i = 0; i < m->n_codes; i++)
        if (empty(m->codes[i]->code))
            return fail(-EINVAL, reason, n, "Retour.codes[%zu].code: required", i);
    return 0;
}

/* ---- dispatch by content type ---- */
static void facts_referral(const ProtobufCMessage *msg, knoop_domain_facts_t *f)
{
    const Knoop__Domain__Referral *m = (const Knoop__Domain__Referral *)msg;
    f->needs_client = true;
    snprintf(f->product, sizeof f->product, "%s", m->product);
    snprintf(f->preferred_provider, sizeof f->preferred_provider, "%s", m->preferred_provider);
}
static void facts_plan(const ProtobufCMessage *msg, knoop_domain_facts_t *f)
{
    const Knoop__Domain__PlanUpdate *m = (const Knoop__Domain__PlanUpdate *)msg;
    f->needs_client = true;
    snprintf(f->product, sizeof f->product, "%s", m->product);
    if (m->action == KNOOP__DOMAIN__PLAN_ACTION__PROVIDER_CHANGED && m->at_client_request)
        snprintf(f->new_provider, sizeof f->new_provider, "%s", m->new_provider);
}

static void facts_outcome(const ProtobufCMessage *msg, knoop_domain_facts_t *f)
{
    const Knoop__Domain__OutcomeReport *m = (const Knoop__Domain__OutcomeReport *)msg;
    f->needs_client = m->level == KNOOP__DOMAIN__OUTCOME_LEVEL__CLIENT;
    f->forbids_client = !f->needs_client;
}

int knoop_domain_check_client(const knoop_domain_facts_t *f, bool has_client, char *reason, size_t n)
{
    if (f->needs_client && !has_client)
        return fail(-EINVAL, reason, n, "%s is about one client: the envelope needs client_bsn", f->message);
    if (f->forbids_client && has_client)
        return fail(-EINVAL, reason, n, "%s at contract or population level must not carry a client", f->message);
    return 0;
}

typedef int (*check_fn)(const knoop_network_t *, const knoop_contract_t *, const ProtobufCMessage *, char *, size_t);
#define WRAP(fn, type)                                                                                                 \
    static int fn##_msg(const knoop_network_t *net, const knoop_contract_t *c, const ProtobufCMessage *m, char *r,     \
                        size_t n)                                                                                      \
    {                                                                                                                  \
        return fn(net, c, (const type *)m, r, n);                                                                      \
    }
WRAP(knoop_domain_check_referral, Knoop__Domain__Referral)
WRAP(knoop_domain_check_plan_update, Knoop__Domain__PlanUpdate)
WRAP(knoop_domain_check_outcome, Knoop__Domain__OutcomeReport)
WRAP(knoop_domain_check_retour, Knoop__Domain__Retour)
static const struct {
    const char *name;
    const ProtobufCMessageDescriptor *desc;
    check_fn check;
    void (*facts)(const ProtobufCMessage *, knoop_domain_facts_t *);
} messages[] = {
    {"knoop.domain.Referral", &knoop__domain__referral__descriptor, knoop_domain_check_referral_msg, facts_referral},
    {"knoop.domain.PlanUpdate", &knoop__domain__plan_update__descriptor, knoop_domain_check_plan_update_msg,
     facts_plan},
    {"knoop.domain.OutcomeReport", &knoop__domain__outcome_report__descriptor, knoop_domain_check_outcome_msg,
     facts_outcome},
    {"knoop.domain.Retour", &knoop__domain__retour__descriptor, knoop_domain_check_retour_msg, NULL},
};
#define N_MESSAGES (sizeof messages / sizeof messages[0])

static size_t find_message(const char *content_type)
{
    if (content_type == NULL || strncmp(content_type, PREFIX, strlen(PREFIX)) != 0)
        return N_MESSAGES;
    const char *name = content_type + strlen(PREFIX);
    while (*name == ' ')
        name++;
    for (size_t i = 0; i < N_MESSAGES; i++)
        if (strcmp(messages[i].name, name) == 0)
            return i;
    return N_MESSAGES;
}

const ProtobufCMessageDescriptor *knoop_domain_descriptor(const char *content_type)
{
    size_t i = find_message(content_type);
    return i < N_MESSAGES ? messages[i].desc : NULL;
}

bool knoop_domain_is_native(const char *content_type)
{
    return find_message(content_type) < N_MESSAGES;
}

/* Every list field (repeated), at any depth, holds at most max items: the checks below walk them item by item. */
static int check_lists(const ProtobufCMessage *m, size_t max, const char *path, char *reason, size_t n)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t count = *(const size_t *)(base + f->quantifier_offset);
            if (count > max)
                return fail(-EINVAL, reason, n, "%s.%s has %zu items; at most %zu are allowed (max_list_items)", path,
                            f->name, count, max);
            if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
                ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)(base + f->offset);
                for (size_t k = 0; k < count; k++) {
                    int rc = check_lists(items[k], max, path, reason, n);
                    if (rc != 0)
                        return rc;
                }
            }
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            /* a oneof member shares its storage with the others: only the one set holds a message pointer */
            if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && *(const uint32_t *)(base + f->quantifier_offset) != f->id)
                continue;
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
            if (sub) {
                int rc = check_lists(sub, max, path, reason, n);
                if (rc != 0)
                    return rc;
            }
        }
    }
    return 0;
}

int knoop_domain_check_bounded(const knoop_network_t *net, const knoop_contract_t *contract, const char *content_type,
                               const uint8_t *payload, size_t len, size_t max_list_items, knoop_domain_facts_t *facts,
                               char *reason, size_t reason_len)
{
    if (net == NULL)
        return -EINVAL;
    if (facts)
        memset(facts, 0, sizeof *facts);
    size_t i = find_message(content_type);
    if (i == N_MESSAGES)
        return fail(-ENOTSUP, reason, reason_len, "envelope.content_type: '%s' is not a knoop.domain message",
                    content_type ? content_type : "");
    /* Decoding may allocate only a bounded multiple of the payload's size (base/pb_budget.h): a list of a million
     * tiny items is refused, not expanded in memory. The decoded message is freed before returning. */
    knoop_pb_budget_t budget;
    knoop_pb_budget_init(&budget, KNOOP_PB_BUDGET(len));
    ProtobufCMessage *msg = protobuf_c_message_unpack(messages[i].desc, &budget.allocator, len, payload);
    if (msg == NULL && budget.exceeded)
        return fail(-EINVAL, reason, reason_len,
                    "payload of %zu bytes has too many fields or list items to decode as %s (at most %zu bytes of "
                    "memory may go to decoding it)",
                    len, messages[i].name, budget.limit);
    if (msg == NULL)
        return fail(-EBADMSG, reason, reason_len, "payload: does not decode as %s (%zu bytes)", messages[i].name, len);
    int rc = check_lists(msg, max_list_items, messages[i].name + strlen("knoop.domain."), reason, reason_len);
    if (rc == 0)
        rc = messages[i].check(net, contract, msg, reason, reason_len);
    if (rc == 0 && facts) {
        snprintf(facts->message, sizeof facts->message, "%s", messages[i].name);
        if (messages[i].facts)
            messages[i].facts(msg, facts);
    }
    protobuf_c_message_free_unpacked(msg, &budget.allocator);
    return rc;
}

int knoop_domain_check(const knoop_network_t *net, const knoop_contract_t *contract, const char *content_type,
                       const uint8_t *payload, size_t len, knoop_domain_facts_t *facts, char *reason, size_t reason_len)
{
    return knoop_domain_check_bounded(net, contract, content_type, payload, len, KNOOP_DOMAIN_MAX_LIST_ITEMS, facts,
                                      reason, reason_len);
}
