/* router.c — one decision per message: the sender's kind picks a handler (table below) that applies the white-label,
 * legacy, change-of-provider, subcontracting or outcome rule; anything unroutable becomes a dead letter with a reason. */
#include "route/router.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    knoop_route_rule_t rule;
    const char *name;
} rule_names[] = {
    {KNOOP_RULE_NONE, "none"},
    {KNOOP_RULE_WHITE_LABEL_IN, "white-label-in"},
    {KNOOP_RULE_WHITE_LABEL_OUT, "white-label-out"},
    {KNOOP_RULE_LEGACY, "legacy"},
    {KNOOP_RULE_CHANGE_PROVIDER, "change-of-provider"},
    {KNOOP_RULE_SUBCONTRACT_PASS, "subcontract-pass"},
    {KNOOP_RULE_SUBCONTRACT_UP, "subcontract-up"},
    {KNOOP_RULE_OUTCOME, "outcome"},
    {KNOOP_RULE_INTERNAL, "internal"},
    {KNOOP_RULE_DEAD_LETTER, "dead-letter"},
};

const char *knoop_route_rule_name(knoop_route_rule_t r)
{
    for (size_t i = 0; i < sizeof rule_names / sizeof rule_names[0]; i++)
        if (rule_names[i].rule == r)
            return rule_names[i].name;
    return "?";
}

/* What each kind means to the route state: may it open a white-label dispatch for a client no member serves
 * yet, does it end the care (release the sticky entry / the subcontractor's part), may a party publish it. */
static const struct {
    int kind;
    bool opens, closes, publishable;
} kind_rules[] = {
    {KNOOP__KIND__KIND_UNSPECIFIED, false, false, false},
    {KNOOP__KIND__REFERRAL, true, false, true},
    {KNOOP__KIND__ASSIGNMENT, true, false, true},
    {KNOOP__KIND__START, false, false, true},
    {KNOOP__KIND__STOP, false, true, true},
    {KNOOP__KIND__ASSIGNMENT_REQUEST, false, false, true},
    {KNOOP__KIND__CHANGE_REQUEST, false, false, true},
    {KNOOP__KIND__ANSWER, false, false, true},
    {KNOOP__KIND__DECLARATION, false, false, true},
    {KNOOP__KIND__DECLARATION_ANSWER, false, false, true},
    {KNOOP__KIND__RETOUR, false, false, true},
    {KNOOP__KIND__PLAN_UPDATE, false, false, true},
    {KNOOP__KIND__OUTCOME_REPORT, false, false, true},
    {KNOOP__KIND__ALERT, false, false, false}, /* produced by knoopd itself */
    {KNOOP__KIND__OTHER, false, false, true},
};
#define N_KINDS (sizeof kind_rules / sizeof kind_rules[0])

typedef struct ctx {
    const knoop_network_t *net;
    knoop_route_state_t *st;
    const knoop_route_in_t *in;
    knoop_route_decision_t *d;
    const knoop_party_t *S, *R; /* sender, receiver (NULL: by rule) */
    bool has_client;
    bool opens, closes;
    bool dry; /* explain only: decide as if, change nothing */
} ctx_t;

/* Route-state mutations go through these, so a dry run decides the same way and changes nothing. */
static int st_assign(ctx_t *x, const knoop_contract_t *c, int slot)
{
    return x->dry ? 0 : knoop_route_state_assign(x->st, c, x->in->client_ref, x->in->client_ref_len, slot);
}
static int st_release(ctx_t *x, const knoop_contract_t *c)
{
    knoop_sticky_t sk;
    if (x->dry)
        return knoop_route_state_sticky(x->st, c, x->in->client_ref, x->in->client_ref_len, &sk);
    return knoop_route_state_release(x->st, c, x->in->client_ref, x->in->client_ref_len);
}
static int st_pass(ctx_t *x, const knoop_party_t *sub)
{
    return x->dry ? 0 : knoop_route_state_pass(x->st, sub, x->in->client_ref, x->in->client_ref_len);
}
static int st_unpass(ctx_t *x, const knoop_party_t *sub)
{
    if (x->dry)
        return knoop_route_state_is_passed(x->st, sub, x->in->client_ref, x->in->client_ref_len) ? 0 : -ENOENT;
    return knoop_route_state_unpass(x->st, sub, x->in->client_ref, x->in->client_ref_len);
}

static void explain(knoop_route_decision_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void explain(knoop_route_decision_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->explanation, sizeof d->explanation, fmt, ap);
    va_end(ap);
}

static int dead(ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int dead(ctx_t *x, const char *fmt, ...)
{
    knoop_route_decision_t *d = x->d;
    d->rule = KNOOP_RULE_DEAD_LETTER;
    d->dead_letter = true;
    d->n_streams = 1;
    strcpy(d->streams[0], "deadletters");
    d->receiver[0] = d->member[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->explanation, sizeof d->explanation, fmt, ap);
    va_end(ap);
    return 0;
}

static bool add_stream(knoop_route_decision_t *d, const char *prefix, const char *code)
{
    if (d->n_streams == KNOOP_ROUTE_MAX_STREAMS)
        return false;
    snprintf(d->streams[d->n_streams++], KNOOP_STREAM_NAME_MAX, "%s%s", prefix, code);
    return true;
}

static void set_code(char dst[KNOOP_CODE_MAX], const knoop_party_t *p)
{
    memcpy(dst, p->code, KNOOP_CODE_MAX);
}

static bool is_financier_side(const knoop_party_t *p)
{
    return knoop_party_financier(p) != NULL;
}
static uint64_t bit(int slot)
{
    return slot >= 0 ? UINT64_C(1) << slot : 0;
}

/* Subcontractors of a provider see the traffic about the clients passed to them. */
static int fan_to_subcontractors(ctx_t *x, const knoop_party_t *main)
{
    if (!x->has_client)
        return 0;
    for (size_t i = 0; i < main->n_subcontractors; i++)
        if (knoop_route_state_is_passed(x->st, main->subcontractors[i], x->in->client_ref, x->in->client_ref_len) &&
            !add_stream(x->d, "inbox.", main->subcontractors[i]->code))
            return dead(x, "more than %d streams for one message", KNOOP_ROUTE_MAX_STREAMS);
    return 0;
}

/* Does member m serve (or has it served) this client under white-label contract c? */
static bool serves(ctx_t *x, const knoop_contract_t *c, const knoop_party_t *m)
{
    knoop_sticky_t sk;
    if (!x->has_client || m->member_slot < 0 ||
        knoop_route_state_sticky(x->st, c, x->in->client_ref, x->in->client_ref_len, &sk) != 0)
        return false;
    return sk.member_slot == m->member_slot || (sk.former & bit(m->member_slot)) != 0;
}

/* The white-label contracts under which member m (or, for the cooperative, anyone) serves this client. */
static size_t white_label_contracts_serving(ctx_t *x, const knoop_party_t *m, const knoop_contract_t **found)
{
    const knoop_party_t *coop = knoop_network_cooperative(x->net);
    size_t n = 0;
    knoop_sticky_t sk;
    for (size_t i = 0; coop && x->has_client && i < coop->n_contracts; i++) {
        const knoop_contract_t *c = coop->contracts[i];
        if (c->identity != KNOOP_IDENTITY_WHITE_LABEL || c->provider != coop)
            continue;
        bool hit = m->kind == KNOOP_PARTY_COOPERATIVE
                       ? knoop_route_state_sticky(x->st, c, x->in->client_ref, x->in->client_ref_len, &sk) == 0
                       : serves(x, c, m);
        if (hit && n++ == 0)
            *found = c;
    }
    return n;
}

static int least_loaded(const knoop_route_state_t *st, uint64_t pool)
{
    int best = -1;
    uint32_t best_load = UINT32_MAX;
    for (uint64_t m = pool; m; m &= m - 1) {
        int s = __builtin_ctzll(m);
        uint32_t l = knoop_route_state_load(st, s);
        if (l < best_load) {
            best_load = l;
            best = s;
        }
    }
    return best;
}

/* ---- rule 1: white-label ---- */
static int white_label_in(ctx_t *x, const knoop_contract_t *wl)
{
    knoop_route_decision_t *d = x->d;
    const knoop_party_t *coop = wl->provider;
    d->rule = KNOOP_RULE_WHITE_LABEL_IN;
    d->contract = wl;
    if (!x->has_client) {
        add_stream(d, "inbox.", coop->code);
        set_code(d->receiver, coop);
        explain(d, "contract-level message (no client) from %s under contract '%s': to the cooperative %s", x->S->code,
                wl->name, coop->code);
        return 0;
    }
    const uint8_t *ref = x->in->client_ref;
    size_t len = x->in->client_ref_len;
    knoop_sticky_t sk;
    int slot = -1, rc;
    if (knoop_route_state_sticky(x->st, wl, ref, len, &sk) == 0 && (wl->member_mask & bit(sk.member_slot))) {
        slot = sk.member_slot;
        const char *mc = knoop_network_member_by_slot(x->net, slot)->code;
        if (sk.active) {
            explain(d, "client already served by member %s under contract '%s' (sticky)", mc, wl->name);
        } else if (x->opens) {
            if ((rc = st_assign(x, wl, slot)) != 0)
                return rc;
            d->change = KNOOP_CHANGE_ASSIGNED;
            explain(d, "returning client: back to member %s, who served this client before under contract '%s'", mc,
                    wl->name);
        } else {
            explain(d,
                    "client formerly served by member %s under contract '%s' (care stopped; not re-opened by "
                    "this kind)",
                    mc, wl->name);
        }
    } else {
        if (!x->opens)
            return dead(x,
                        "no member serves this client under contract '%s'; only a referral or assignment starts "
                        "a dispatch (kind %d)",
                        wl->name, x->in->kind);
        if (wl->member_mask == 0)
            return dead(x, "contract '%s' has no members to dispatch to", wl->name);
        const char *product = x->in->product && *x->in->product ? x->in->product : NULL;
        const char *pref = x->in->preferred_provider && *x->in->preferred_provider ? x->in->preferred_provider : NULL;
        const knoop_party_t *pp = pref ? knoop_network_party(x->net, pref) : NULL;
        bool chosen = pp != NULL && (wl->member_mask & bit(pp->member_slot));
        uint64_t offering = product ? knoop_network_members_offering(x->net, product) & wl->member_mask : 0;
        slot = chosen ? pp->member_slot : least_loaded(x->st, offering ? offering : wl->member_mask);
        const char *mc = knoop_network_member_by_slot(x->net, slot)->code;
        uint32_t load = knoop_route_state_load(x->st, slot);
        if (chosen)
            explain(d, "new client under contract '%s': member %s is the client's own choice", wl->name, mc);
        else if (offering && pref)
            explain(d,
                    "new client under contract '%s': preferred provider %s does not take part; member %s offers '%s' "
                    "and is the least loaded of the %d offering it (load %u)",
                    wl->name, pref, mc, product, __builtin_popcountll(offering), load);
        else if (offering)
            explain(d,
                    "new client under contract '%s': member %s offers '%s' and is the least loaded of the %d "
                    "members offering it (load %u)",
                    wl->name, mc, product, __builtin_popcountll(offering), load);
        else if (product)
            explain(d, "new client under contract '%s': no member offers '%s'; member %s is the least loaded (load %u)",
                    wl->name, product, mc, load);
        else
            explain(d, "new client under contract '%s', no product named: member %s is the least loaded (load %u)",
                    wl->name, mc, load);
        if ((rc = st_assign(x, wl, slot)) != 0)
            return rc;
        d->change = KNOOP_CHANGE_ASSIGNED;
    }
    const knoop_party_t *m = knoop_network_member_by_slot(x->net, slot);
    if (x->closes && st_release(x, wl) == 0)
        d->change = KNOOP_CHANGE_RELEASED;
    add_stream(d, "inbox.", m->code);
    set_code(d->receiver, m);
    set_code(d->member, m);
    return fan_to_subcontractors(x, m);
}

/* A member's (or the cooperative's) message to a white-label financier leaves as the cooperative. */
static int white_label_out(ctx_t *x, const knoop_contract_t *wl, const knoop_party_t *to)
{
    knoop_route_decision_t *d = x->d;
    d->rule = KNOOP_RULE_WHITE_LABEL_OUT;
    d->contract = wl;
    set_code(d->sender_as_seen, wl->provider);
    set_code(d->receiver, to);
    add_stream(d, "inbox.", to->code);
    if (x->S->kind == KNOOP_PARTY_MEMBER) {
        set_code(d->member, x->S);
        knoop_sticky_t sk;
        if (x->closes && knoop_route_state_sticky(x->st, wl, x->in->client_ref, x->in->client_ref_len, &sk) == 0 &&
            sk.active && sk.member_slot == x->S->member_slot && st_release(x, wl) == 0)
            d->change = KNOOP_CHANGE_RELEASED;
    }
    explain(d, "%s %s under white-label contract '%s': to %s as the cooperative %s", knoop_party_kind_name(x->S->kind),
            x->S->code, wl->name, to->code, wl->provider->code);
    return 0;
}

/* ---- rule 2: legacy ---- */
static int legacy(ctx_t *x, const knoop_contract_t *c, const knoop_party_t *to)
{
    knoop_route_decision_t *d = x->d;
    d->rule = KNOOP_RULE_LEGACY;
    d->contract = c;
    set_code(d->receiver, to);
    add_stream(d, "inbox.", to->code);
    explain(d, "legacy contract '%s': %s to %s under its own code, unchanged", c->name, x->S->code, to->code);
    return knoop_party_kind_is_provider(to->kind) ? fan_to_subcontractors(x, to) : 0;
}

/* ---- rule 3: change of provider at the client's request. Returns 1 when no white-label contract applies
 * (the message then routes like any other). ---- */
static int change_provider(ctx_t *x, const knoop_contract_t *wl)
{
    knoop_route_decision_t *d = x->d;
    if (wl == NULL && x->R && is_financier_side(x->R))
        wl = knoop_network_white_label_of(x->net, knoop_party_financier(x->R));
    if (wl == NULL && !is_financier_side(x->S)) {
        size_t n = white_label_contracts_serving(x, x->S, &wl);
        if (n > 1)
            return dead(x, "the client is served under %zu white-label contracts; name the financier as receiver", n);
    }
    if (wl == NULL)
        return 1;
    if (!x->has_client)
        return dead(x, "a change of provider must name the client");
    const knoop_party_t *to = knoop_network_party(x->net, x->in->new_provider);
    if (to == NULL || !(wl->member_mask & bit(to->member_slot)))
        return dead(x, "change of provider under contract '%s': new provider %s is not a member taking part in it",
                    wl->name, x->in->new_provider);
    knoop_sticky_t sk = {.member_slot = -1};
    const knoop_party_t *from = NULL;
    if (knoop_route_state_sticky(x->st, wl, x->in->client_ref, x->in->client_ref_len, &sk) == 0)
        from = knoop_network_member_by_slot(x->net, sk.member_slot);
    /* A member passes on the wish of a client it serves now; it cannot claim someone else's client. */
    if (x->S->kind == KNOOP_PARTY_MEMBER && x->S != from)
        return dead(x, "member %s asks to move a client it does not serve now under contract '%s'", x->S->code,
                    wl->name);
    bool moves = from != to || !sk.active;
    int rc = moves ? st_assign(x, wl, to->member_slot) : 0;
    if (rc != 0)
        return rc;
    d->rule = KNOOP_RULE_CHANGE_PROVIDER;
    d->contract = wl;
    d->change = moves ? KNOOP_CHANGE_MOVED : KNOOP_CHANGE_NONE;
    set_code(d->receiver, to);
    set_code(d->member, to);
    if (to != x->S)
        add_stream(d, "inbox.", to->code);
    if (from && from != to && from != x->S)
        add_stream(d, "inbox.", from->code);
    if (from && from != to)
        explain(d,
                "client moves from member %s to member %s under contract '%s' at the client's request; %s keeps "
                "its history, new messages go to %s",
                from->code, to->code, wl->name, from->code, to->code);
    else if (moves)
        explain(d, "client chooses member %s under contract '%s'", to->code, wl->name);
    else
        explain(d, "client already served by member %s under contract '%s'; nothing moves", to->code, wl->name);
    return 0;
}

/* ---- rule 4: subcontracting ---- */
static int subcontract_pass(ctx_t *x)
{
    knoop_route_decision_t *d = x->d;
    d->rule = KNOOP_RULE_SUBCONTRACT_PASS;
    d->contract = x->R->n_contracts == 1 ? x->R->contracts[0] : NULL; /* else ambiguous: leave it out */
    set_code(d->receiver, x->R);
    add_stream(d, "inbox.", x->R->code);
    if (x->has_client) {
        const uint8_t *ref = x->in->client_ref;
        size_t len = x->in->client_ref_len;
        int rc = 0;
        if (x->closes) {
            if (st_unpass(x, x->R) == 0)
                d->change = KNOOP_CHANGE_UNPASSED;
        } else if (!knoop_route_state_is_passed(x->st, x->R, ref, len)) {
            rc = st_pass(x, x->R);
            d->change = KNOOP_CHANGE_PASSED;
        }
        if (rc != 0)
            return rc;
    }
    explain(d, "main contractor %s passes %s to its subcontractor %s", x->S->code,
            x->has_client ? "a client" : "a contract-level message", x->R->code);
    return 0;
}

static int from_subcontractor(ctx_t *x)
{
    const knoop_party_t *main = x->S->main_contractor;
    if (x->R && x->R != main)
        return dead(x, "subcontractor %s reports to its main contractor %s, not to %s", x->S->code, main->code,
                    x->R->code);
    if (x->has_client && !knoop_route_state_is_passed(x->st, x->S, x->in->client_ref, x->in->client_ref_len))
        return dead(x, "subcontractor %s: this client was not passed to it by %s", x->S->code, main->code);
    x->d->rule = KNOOP_RULE_SUBCONTRACT_UP;
    x->d->contract = x->S->n_contracts == 1 ? x->S->contracts[0] : NULL; /* else ambiguous */
    set_code(x->d->receiver, main);
    add_stream(x->d, "inbox.", main->code);
    explain(x->d, "subcontractor %s to its main contractor %s", x->S->code, main->code);
    return 0;
}

/* ---- rule 5: outcome reports ---- */
static int outcome(ctx_t *x)
{
    knoop_route_decision_t *d = x->d;
    const knoop_party_t *S = x->S;
    const knoop_contract_t *c = NULL;
    bool hide = false;
    if (x->R && is_financier_side(x->R)) {
        const knoop_party_t *F = knoop_party_financier(x->R);
        const knoop_contract_t *wl = knoop_network_white_label_of(x->net, F);
        if (wl && (S == wl->provider || serves(x, wl, S))) {
            c = wl;
            hide = S != wl->provider;
        } else {
            c = knoop_network_contract_between(x->net, F, S);
            if (c && c->identity == KNOOP_IDENTITY_WHITE_LABEL)
                c = NULL;
        }
        if (c == NULL && wl && (wl->member_mask & bit(S->member_slot)))
            return dead(x,
                        x->has_client ? "member %s reports outcomes for a client it does not serve under '%s'"
                                      : "member %s: contract-level outcomes under white-label '%s' come from the "
                                        "cooperative",
                        S->code, wl->name);
        if (c == NULL)
            return dead(x, "outcome report: no contract between %s and %s", F->code, S->code);
    } else if (x->R == NULL) {
        size_t n = S->kind == KNOOP_PARTY_MEMBER ? white_label_contracts_serving(x, S, &c) : 0;
        if (n > 1)
            return dead(x, "outcome report: the client is served under %zu white-label contracts; name the financier",
                        n);
        hide = n == 1;
        if (n == 0) {
            size_t with = 0;
            for (size_t i = 0; i < S->n_contracts; i++)
                if (S->contracts[i]->indicator_set && S->contracts[i]->financier != S && with++ == 0)
                    c = S->contracts[i];
            if (with != 1)
                return dead(x,
                            "outcome report from %s without a receiver: %zu contracts report outcomes; name the "
                            "financier",
                            S->code, with);
            if (c->identity == KNOOP_IDENTITY_WHITE_LABEL && S != c->provider)
                return dead(x, "member %s reports outcomes under white-label '%s' for a client it does not serve",
                            S->code, c->name);
        }
    } else {
        return dead(x, "outcome reports go to a financier, not to %s %s", knoop_party_kind_name(x->R->kind),
                    x->R->code);
    }
    if (c->indicator_set == NULL)
        return dead(x, "contract '%s' has no outcome reporting (no indicator set)", c->name);
    d->rule = KNOOP_RULE_OUTCOME;
    d->contract = c;
    if (c->identity == KNOOP_IDENTITY_WHITE_LABEL)
        set_code(d->sender_as_seen, c->provider);
    if (hide)
        set_code(d->member, S);
    add_stream(d, "outcomes.", c->financier->code);
    for (size_t i = 0; i < c->n_co_financiers; i++)
        add_stream(d, "outcomes.", c->co_financiers[i]->code);
    explain(d, "outcome report under contract '%s' (indicator set '%s') to %s%s%s", c->name, c->indicator_set->name,
            c->financier->code, c->n_co_financiers ? " and its co-financier " : "",
            c->n_co_financiers ? c->co_financiers[0]->code : "");
    return 0;
}

/* ---- handlers per sender kind ---- */
static int from_financier(ctx_t *x)
{
    const knoop_party_t *F = knoop_party_financier(x->S), *R = x->R;
    const knoop_contract_t *wl = knoop_network_white_label_of(x->net, F);
    int kind = x->in->kind;
    if (kind == KNOOP__KIND__OUTCOME_REPORT)
        return dead(x, "outcome reports come from providers; %s is a %s", x->S->code,
                    knoop_party_kind_name(x->S->kind));
    if (kind == KNOOP__KIND__PLAN_UPDATE && x->in->new_provider && *x->in->new_provider && wl &&
        (R == NULL || R == wl->provider)) {
        int rc = change_provider(x, wl);
        if (rc != 1)
            return rc;
    }
    if (R == NULL || R->kind == KNOOP_PARTY_COOPERATIVE) {
        if (wl && (R == NULL || R == wl->provider))
            return white_label_in(x, wl);
        const knoop_contract_t *c = R ? knoop_network_contract_between(x->net, F, R) : NULL;
        if (c)
            return legacy(x, c, R);
        return R ? dead(x, "no contract between %s and the cooperative %s", F->code, R->code)
                 : dead(x, "financier %s has no white-label contract: name the receiver", F->code);
    }
    if (is_financier_side(R))
        return dead(x, "%s may not address another financier (%s) through knoop", x->S->code, R->code);
    if (R->kind == KNOOP_PARTY_SUBCONTRACTOR)
        return dead(x, "subcontractor %s has no contract of its own; address its main contractor %s", R->code,
                    R->main_contractor->code);
    const knoop_contract_t *c = knoop_network_contract_between(x->net, F, R);
    if (c && c->identity == KNOOP_IDENTITY_LEGACY)
        return legacy(x, c, R);
    if (wl && (wl->member_mask & bit(R->member_slot)))
        return dead(x, "%s contracts the cooperative white-label ('%s'); address %s, not its member %s", F->code,
                    wl->name, wl->provider->code, R->code);
    return dead(x, "no contract between %s and %s", F->code, R->code);
}

static int from_cooperative(ctx_t *x)
{
    const knoop_party_t *R = x->R;
    if (x->in->kind == KNOOP__KIND__OUTCOME_REPORT)
        return outcome(x);
    if (x->in->kind == KNOOP__KIND__PLAN_UPDATE && x->in->new_provider && *x->in->new_provider) {
        int rc = change_provider(x, NULL);
        if (rc != 1)
            return rc;
    }
    if (R == NULL)
        return dead(x, "the cooperative must name the receiver");
    if (R->kind == KNOOP_PARTY_MEMBER && R->cooperative == x->S) {
        x->d->rule = KNOOP_RULE_INTERNAL;
        set_code(x->d->receiver, R);
        add_stream(x->d, "inbox.", R->code);
        explain(x->d, "cooperative %s to its member %s", x->S->code, R->code);
        return 0;
    }
    if (is_financier_side(R)) {
        const knoop_contract_t *c = knoop_network_contract_between(x->net, knoop_party_financier(R), x->S);
        if (c && c->identity == KNOOP_IDENTITY_WHITE_LABEL)
            return white_label_out(x, c, R);
        if (c)
            return legacy(x, c, R);
    }
    return dead(x, "no contract between the cooperative %s and %s", x->S->code, R->code);
}

static bool share_contract(const knoop_party_t *a, const knoop_party_t *b)
{
    for (size_t i = 0; i < a->n_contracts; i++)
        for (size_t j = 0; j < b->n_contracts; j++)
            if (a->contracts[i] == b->contracts[j])
                return true;
    return false;
}

static int from_provider(ctx_t *x)
{
    const knoop_party_t *S = x->S, *R = x->R;
    const knoop_contract_t *c = NULL;
    if (x->in->kind == KNOOP__KIND__OUTCOME_REPORT)
        return outcome(x);
    if (x->in->kind == KNOOP__KIND__PLAN_UPDATE && x->in->new_provider && *x->in->new_provider &&
        S->kind == KNOOP_PARTY_MEMBER) {
        int rc = change_provider(x, NULL);
        if (rc != 1)
            return rc;
    }
    if (R == NULL) {
        if (!x->has_client)
            return dead(x, "%s: a message without a client must name its receiver", S->code);
        size_t n = S->kind == KNOOP_PARTY_MEMBER ? white_label_contracts_serving(x, S, &c) : 0;
        if (n == 1)
            return white_label_out(x, c, c->financier);
        return n > 1 ? dead(x, "the client is served under %zu white-label contracts; name the financier", n)
                     : dead(x, "%s serves this client under no white-label contract; name the receiver", S->code);
    }
    if (is_financier_side(R)) {
        const knoop_party_t *F = knoop_party_financier(R);
        const knoop_contract_t *wl = knoop_network_white_label_of(x->net, F);
        if (wl && serves(x, wl, S))
            return white_label_out(x, wl, R);
        c = knoop_network_contract_between(x->net, F, S);
        if (c && c->identity == KNOOP_IDENTITY_LEGACY)
            return legacy(x, c, R);
        if (wl && (wl->member_mask & bit(S->member_slot)))
            return x->has_client
                       ? dead(x, "member %s does not serve this client under white-label contract '%s'", S->code,
                              wl->name)
                       : dead(x, "member %s: contract-level messages under white-label '%s' come from the cooperative",
                              S->code, wl->name);
        return dead(x, "no contract between %s and %s", F->code, S->code);
    }
    if (R->kind == KNOOP_PARTY_SUBCONTRACTOR && R->main_contractor == S)
        return subcontract_pass(x);
    bool internal = (R->kind == KNOOP_PARTY_COOPERATIVE && S->cooperative == R) ||
                    (R->kind == KNOOP_PARTY_PROVIDER && S->kind == KNOOP_PARTY_PROVIDER && share_contract(S, R));
    if (internal) {
        x->d->rule = KNOOP_RULE_INTERNAL;
        set_code(x->d->receiver, R);
        add_stream(x->d, "inbox.", R->code);
        explain(x->d, "%s %s to %s %s", knoop_party_kind_name(S->kind), S->code, knoop_party_kind_name(R->kind),
                R->code);
        return 0;
    }
    return dead(x, "%s %s may not address %s %s directly", knoop_party_kind_name(S->kind), S->code,
                knoop_party_kind_name(R->kind), R->code);
}

static const struct {
    knoop_party_kind_t kind;
    int (*handle)(ctx_t *);
} by_sender[] = {
    {KNOOP_PARTY_GEMEENTE, from_financier},        {KNOOP_PARTY_ZORGKANTOOR, from_financier},
    {KNOOP_PARTY_ZORGVERZEKERAAR, from_financier}, {KNOOP_PARTY_BUURTTEAM, from_financier},
    {KNOOP_PARTY_COOPERATIVE, from_cooperative},   {KNOOP_PARTY_MEMBER, from_provider},
    {KNOOP_PARTY_PROVIDER, from_provider},         {KNOOP_PARTY_SUBCONTRACTOR, from_subcontractor},
};

static int decide(const knoop_network_t *net, knoop_route_state_t *st, const knoop_route_in_t *in,
                  knoop_route_decision_t *d, bool dry)
{
    if (net == NULL || st == NULL || in == NULL || d == NULL)
        return -EINVAL;
    d->rule = KNOOP_RULE_NONE;
    d->dead_letter = false;
    d->n_streams = 0;
    d->sender_as_seen[0] = d->receiver[0] = d->member[0] = d->explanation[0] = '\0';
    d->contract = NULL;
    d->change = KNOOP_CHANGE_NONE;
    ctx_t x = {.net = net, .st = st, .in = in, .d = d, .dry = dry};
    snprintf(d->sender_as_seen, sizeof d->sender_as_seen, "%s", in->sender ? in->sender : "");
    if ((x.S = knoop_network_party(net, in->sender)) == NULL)
        return dead(&x, "unknown sender '%s'", in->sender ? in->sender : "");
    if (in->receiver && *in->receiver && (x.R = knoop_network_party(net, in->receiver)) == NULL)
        return dead(&x, "unknown receiver '%s'", in->receiver);
    if (x.R == x.S)
        return dead(&x, "%s addresses itself", x.S->code);
    if (in->client_ref_len > KNOOP_CLIENT_REF_MAX || (in->client_ref == NULL && in->client_ref_len))
        return dead(&x, "client reference of %zu bytes; at most %d", in->client_ref_len, KNOOP_CLIENT_REF_MAX);
    x.has_client = in->client_ref_len > 0;
    if (in->kind < 0 || (size_t)in->kind >= N_KINDS || !kind_rules[in->kind].publishable)
        return dead(&x, "kind %d cannot be routed (unspecified, unknown or knoopd's own)", in->kind);
    x.opens = kind_rules[in->kind].opens;
    x.closes = kind_rules[in->kind].closes;
    for (size_t i = 0; i < sizeof by_sender / sizeof by_sender[0]; i++)
        if (by_sender[i].kind == x.S->kind)
            return by_sender[i].handle(&x);
    return dead(&x, "no rule for a sender of kind %s", knoop_party_kind_name(x.S->kind));
}

void knoop_route_in_from_envelope(knoop_route_in_t *in, const Knoop__Envelope *env, const uint8_t *client_ref,
                                  size_t client_ref_len, const knoop_domain_facts_t *facts)
{
    *in = (knoop_route_in_t){
        .sender = env->sender,
        .receiver = env->receiver,
        .kind = (int)env->kind,
        .message_type = env->message_type,
        .correlation_id = env->correlation_id,
        .client_ref = client_ref_len ? client_ref : NULL,
        .client_ref_len = client_ref ? client_ref_len : 0,
    };
    if (facts != NULL) {
        in->product = facts->product;
        in->preferred_provider = facts->preferred_provider;
        in->new_provider = facts->new_provider;
    }
}

int knoop_route(const knoop_network_t *net, knoop_route_state_t *st, const knoop_route_in_t *in,
                knoop_route_decision_t *out)
{
    return decide(net, st, in, out, false);
}

int knoop_route_explain(const knoop_network_t *net, const knoop_route_state_t *st, const knoop_route_in_t *in,
                        knoop_route_decision_t *out)
{
    /* decide() only reads the state when dry (every mutation goes through the st_* helpers). */
    return decide(net, (knoop_route_state_t *)st, in, out, true);
}

bool knoop_router_may_read(const knoop_network_t *net, const char *party, const char *stream)
{
    const knoop_party_t *P = knoop_network_party(net, party);
    if (P == NULL || stream == NULL)
        return false;
    if (strncmp(stream, "inbox.", 6) == 0) {
        const knoop_party_t *X = knoop_network_party(net, stream + 6);
        return X != NULL && (X == P || (X->kind == KNOOP_PARTY_SUBCONTRACTOR && X->main_contractor == P) ||
                             (X->kind == KNOOP_PARTY_BUURTTEAM && X->gemeente == P));
    }
    if (strncmp(stream, "outcomes.", 9) == 0)
        return knoop_party_kind_is_financier(P->kind) && strcmp(stream + 9, P->code) == 0;
    return false;
}
