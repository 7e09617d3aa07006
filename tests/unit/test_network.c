/* test_network.c — the network section: the three shipped configurations build with the expected shape, and
 * each kind of inconsistency is rejected with the YAML path and a message naming the party or contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/civil.h"
#include "config/network.h"

/* A test-only top level: the daemon section is ignored, the network section is ours. */
typedef struct top {
    knoop_network_doc_t *network;
} top_t;
static const cyaml_schema_field_t top_fields[] = {
    CYAML_FIELD_IGNORE("daemon", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_MAPPING_PTR("network", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, top_t, network, knoop_network_fields),
    CYAML_FIELD_END};
static const cyaml_schema_value_t top_schema = {CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, top_t, top_fields)};
static const cyaml_config_t cyaml_cfg = {.log_fn = NULL, .mem_fn = cyaml_mem, .log_level = CYAML_LOG_ERROR};

static const char *src_dir(void)
{
    const char *d = getenv("KNOOP_SRC");
    return d ? d : ".";
}

/* Returns the cyaml error (as a positive number) or the build's result. */
static int load(const char *file, const char *text, knoop_network_t **net, knoop_cfg_error_t *err)
{
    top_t *top = NULL;
    cyaml_err_t ce;
    if (file) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", src_dir(), file);
        ce = cyaml_load_file(path, &cyaml_cfg, &top_schema, (cyaml_data_t **)&top, NULL);
    } else {
        ce = cyaml_load_data((const uint8_t *)text, strlen(text), &cyaml_cfg, &top_schema, (cyaml_data_t **)&top, NULL);
    }
    if (ce != CYAML_OK)
        return (int)ce;
    int rc = knoop_network_build(top->network, net, err);
    cyaml_free(&cyaml_cfg, &top_schema, top, 0); /* the network must not keep pointers into the document */
    return rc;
}

static void test_demo_network_builds(void **state)
{
    (void)state;
    knoop_network_t *net = NULL;
    knoop_cfg_error_t err = {{0}, {0}};
    int rc = load("deploy/knoopd.yaml", NULL, &net, &err);
    if (rc != 0)
        print_error("%s: %s\n", err.path, err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(knoop_network_party_count(net), 30);
    assert_int_equal(knoop_network_count_kind(net, KNOOP_PARTY_GEMEENTE), 16);
    assert_int_equal(knoop_network_count_kind(net, KNOOP_PARTY_ZORGKANTOOR), 1);
    assert_int_equal(knoop_network_count_kind(net, KNOOP_PARTY_ZORGVERZEKERAAR), 1);
    assert_int_equal(knoop_network_count_kind(net, KNOOP_PARTY_MEMBER), 8);
    assert_int_equal(knoop_network_count_kind(net, KNOOP_PARTY_SUBCONTRACTOR), 1);
    assert_int_equal(knoop_network_count_kind(net, KNOOP_PARTY_BUURTTEAM), 2);
    assert_int_equal(knoop_network_contract_count(net), 18);
    assert_int_equal(knoop_network_indicator_set_count(net), 3);
    assert_string_equal(knoop_network_cooperative(net)->code, "99990000");

    const knoop_indicator_set_t *zrm = knoop_network_indicator_set(net, "zrm-13");
    assert_non_null(zrm);
    assert_int_equal(zrm->n_indicators, 13);
    const knoop_indicator_t *fin = knoop_indicator_set_find(zrm, "financien");
    assert_non_null(fin);
    assert_true(fin->min == 1 && fin->max == 5);

    /* Every financier has exactly one contract with the cooperative; two are white-label. */
    size_t white = 0;
    for (size_t i = 0; i < knoop_network_party_count(net); i++) {
        const knoop_party_t *p = knoop_network_party_at(net, i);
        if (!knoop_party_kind_is_financier(p->kind))
            continue;
        const knoop_contract_t *cs[4];
        assert_int_equal(knoop_network_contracts_of_financier(net, p, cs, 4), 1);
        assert_ptr_equal(cs[0]->provider, knoop_network_cooperative(net));
        white += cs[0]->identity == KNOOP_IDENTITY_WHITE_LABEL;
    }
    assert_int_equal(white, 2);

    const knoop_party_t *heerlen = knoop_network_party(net, "0917");
    const knoop_contract_t *hc = knoop_network_white_label_of(net, heerlen);
    assert_non_null(hc);
    assert_int_equal(hc->financing, KNOOP_FIN_TAAKGERICHT);
    assert_int_equal(hc->protocol, KNOOP_PROTO_NATIVE);
    assert_ptr_equal(hc->indicator_set, zrm);
    assert_int_equal(hc->cadence, KNOOP_CADENCE_QUARTERLY);
    assert_int_equal(hc->n_co_financiers, 1);
    assert_string_equal(hc->co_financiers[0]->code, "9001");
    assert_true(hc->law == (KNOOP_LAW_WMO | KNOOP_LAW_JEUGDWET));

    const knoop_party_t *sub = knoop_network_party(net, "99990101");
    assert_string_equal(knoop_party_main_contractor(sub)->code, "99990003");
    const knoop_party_t *teams[4];
    assert_int_equal(knoop_network_buurtteams_of(net, heerlen, teams, 4), 1);
    assert_ptr_equal(knoop_party_financier(teams[0]), heerlen);

    /* Products: two members offer huishoudelijke-hulp. */
    uint64_t hh = knoop_network_members_offering(net, "huishoudelijke-hulp");
    assert_int_equal(__builtin_popcountll(hh), 2);
    assert_true(knoop_party_offers(knoop_network_party(net, "99990005"), "persoonlijke-verzorging"));

    /* Kerkrade is legacy: member 99990003 takes part under its own AGB. */
    const knoop_contract_t *kc =
        knoop_network_contract_between(net, knoop_network_party(net, "0928"), knoop_network_party(net, "99990003"));
    assert_non_null(kc);
    assert_int_equal(kc->identity, KNOOP_IDENTITY_LEGACY);
    assert_null(
        knoop_network_contract_between(net, knoop_network_party(net, "0935"), knoop_network_party(net, "99990001")));
    knoop_network_destroy(&net);
    assert_null(net);
}

static void test_alphen_builds(void **state)
{
    (void)state;
    knoop_network_t *net = NULL;
    knoop_cfg_error_t err = {{0}, {0}};
    int rc = load("deploy/networks/alphen.yaml", NULL, &net, &err);
    if (rc != 0)
        print_error("%s: %s\n", err.path, err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(knoop_network_count_kind(net, KNOOP_PARTY_PROVIDER), 4);
    assert_int_equal(knoop_network_count_kind(net, KNOOP_PARTY_SUBCONTRACTOR), 4);
    assert_int_equal(knoop_network_contract_count(net), 1);
    const knoop_contract_t *c = knoop_network_contract(net, "tom-in-de-buurt");
    assert_non_null(c);
    assert_string_equal(c->financier->code, "0484");
    assert_string_equal(c->lead->code, "99990201");
    assert_int_equal(c->n_members, 3);
    assert_int_equal(c->n_subcontractors, 4);
    assert_int_equal(c->indicator_set->n_indicators, 10);
    assert_int_equal(c->cadence, KNOOP_CADENCE_QUARTERLY);
    /* A subcontractor of a partner (not the lead) is reachable through the contract. */
    const knoop_contract_t *cs[2];
    assert_int_equal(knoop_network_contracts_of_provider(net, knoop_network_party(net, "99990214"), cs, 2), 1);
    knoop_network_destroy(&net);
}

static void test_goeree_builds(void **state)
{
    (void)state;
    knoop_network_t *net = NULL;
    knoop_cfg_error_t err = {{0}, {0}};
    int rc = load("deploy/networks/goeree.yaml", NULL, &net, &err);
    if (rc != 0)
        print_error("%s: %s\n", err.path, err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(knoop_network_count_kind(net, KNOOP_PARTY_PROVIDER), 14);
    assert_int_equal(knoop_network_contract_count(net), 14);
    /* Three product groups x light/medium/heavy, and two transport products (per ride). */
    assert_int_equal(knoop_network_product_count(net), 11);
    size_t groups = 0, heavy = 0, rides = 0;
    for (size_t i = 0; i < knoop_network_product_count(net); i++) {
        const knoop_product_t *p = knoop_network_product_at(net, i);
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(knoop_network_product_at(net, j)->group, p->group) == 0;
        groups += !seen && strcmp(p->group, "vervoer") != 0;
        heavy += p->level == KNOOP_LEVEL_HEAVY;
        assert_int_equal(strlen(p->istd_code), 5);
        assert_ptr_equal(knoop_network_product_by_istd(net, p->istd_code), p);
    }
    assert_int_equal(groups, 3);
    assert_int_equal(heavy, 3);
    for (size_t i = 0; i < knoop_network_contract_count(net); i++) {
        const knoop_contract_t *c = knoop_network_contract_at(net, i);
        assert_true(c->budget.present);
        assert_int_equal(c->budget.model, KNOOP_MODEL_VOLUME_PRICE);
        assert_true(c->budget.volume > 0);
        assert_true(c->budget.band_above_pct == 5 && c->budget.band_below_pct == 10);
        assert_int_equal(c->n_tariffs, 11);
        for (size_t k = 0; k < c->n_tariffs; k++)
            rides += c->tariffs[k].unit == KNOOP_UNIT_RIDE;
        assert_int_equal(c->cadence, KNOOP_CADENCE_4_WEEKLY);
        assert_int_equal(c->financing, KNOOP_FIN_OUTPUTGERICHT);
        assert_true(c->declarations && c->assignments);
        assert_int_equal(c->n_required, 4);
        assert_true(c->period.present);
    }
    assert_int_equal(rides, 2 * 14);
    /* The budget band: +5 % is still within, +5.5 % is over, -10 % within, -11 % under. */
    const knoop_budget_t *b = &knoop_network_contract_at(net, 0)->budget;
    double dev = 0;
    assert_int_equal(knoop_budget_state(b, b->amount * 1.05, &dev), KNOOP_BUDGET_WITHIN);
    assert_int_equal(knoop_budget_state(b, b->amount * 1.055, &dev), KNOOP_BUDGET_OVER);
    assert_true(dev > 5.4 && dev < 5.6);
    assert_int_equal(knoop_budget_state(b, b->amount * 0.90, NULL), KNOOP_BUDGET_WITHIN);
    assert_int_equal(knoop_budget_state(b, b->amount * 0.89, NULL), KNOOP_BUDGET_UNDER);
    const knoop_contract_t *c0 = knoop_network_contract_at(net, 0);
    const knoop_tariff_t *t = &c0->tariffs[0];
    assert_string_equal(t->product->code, "ao-licht");
    assert_int_equal(t->unit, KNOOP_UNIT_4_WEEKS);
    assert_ptr_equal(knoop_contract_tariff(c0, knoop_network_product(net, "vervoer-zittend"))->unit == KNOOP_UNIT_RIDE,
                     true);
    knoop_network_destroy(&net);
}

/* The contract terms of the demo and Alphen: scope, what the financing allows, periods, shares, the calendar. */
static void test_contract_terms(void **state)
{
    (void)state;
    knoop_network_t *net = NULL;
    knoop_cfg_error_t err = {{0}, {0}};
    assert_int_equal(load("deploy/knoopd.yaml", NULL, &net, &err), 0);
    const knoop_contract_t *h = knoop_network_contract(net, "heerlen");
    assert_int_equal(h->budget.model, KNOOP_MODEL_LUMP_SUM);
    assert_false(h->assignments);
    assert_false(h->declarations);
    assert_false(h->personal_contribution);
    assert_false(knoop_contract_covers(h, "huishoudelijke-hulp"));
    assert_false(knoop_contract_covers(h, "wmo-vervoer"));
    assert_false(knoop_contract_covers(h, "hulpmiddelen"));
    assert_true(knoop_contract_covers(h, "schuldhulpverlening"));
    assert_true(knoop_contract_covers(h, ""));
    assert_int_equal(h->n_required, 13);
    const knoop_contract_t *bru = knoop_network_contract(net, "brunssum");
    assert_int_equal(bru->n_required, 7);
    assert_int_equal(bru->n_watch, 1);
    assert_string_equal(bru->watch[0]->name, "bereik");
    /* two years plus twice one, none taken yet */
    assert_int_equal(bru->period.n_extensions, 2);
    assert_int_equal(bru->period.end, bru->period.signed_end);
    int64_t y;
    int m, d;
    knoop_civil_from_days(bru->period.end, &y, &m, &d);
    assert_true(y == 2026 && m == 12 && d == 31);
    const knoop_contract_t *sit = knoop_network_contract(net, "sittard-geleen");
    assert_int_equal(sit->budget.model, KNOOP_MODEL_ARRANGEMENT);
    assert_true(sit->declarations && sit->assignments);
    assert_int_equal(sit->n_required, 2);
    assert_string_equal(knoop_network_product_by_istd(net, "01A01")->code, "arr-hh-basis");
    assert_int_equal(knoop_network_contract(net, "kerkrade")->budget.model, KNOOP_MODEL_NONE);
    knoop_network_destroy(&net);

    assert_int_equal(load("deploy/networks/alphen.yaml", NULL, &net, &err), 0);
    const knoop_contract_t *tom = knoop_network_contract(net, "tom-in-de-buurt");
    assert_true(tom->budget.amount == 8500000);
    assert_int_equal(tom->budget.n_shares, 8);
    double sum = 0;
    for (size_t k = 0; k < tom->budget.n_shares; k++)
        sum += tom->budget.shares[k].amount;
    assert_true(sum == 8500000);
    assert_int_equal(tom->n_co_financiers, 2);
    assert_int_equal(tom->n_required, 10);
    assert_int_equal(tom->due_days, 30);
    knoop_network_destroy(&net);
}

/* ---- rejections: a small valid network, and one mutation per row ---- */
static const char base_parties[] = "network:\n"
                                   "  parties:\n"
                                   "    - {code: \"0917\", kind: gemeente, name: Heerlen}\n"
                                   "    - {code: \"9001\", kind: zorgkantoor}\n"
                                   "    - {code: \"99990000\", kind: cooperative}\n"
                                   "    - {code: \"99990001\", kind: member, products: [begeleiding]}\n"
                                   "    - {code: \"99990003\", kind: member, products: [welzijn]}\n";
static const char base_sets[] = "  indicator_sets:\n"
                                "    - name: zrm-13\n"
                                "      indicators: [{name: financien, scale: {min: 1, max: 5}}]\n";

static const struct reject_case {
    const char *what;
    const char *parties_extra; /* appended to the parties */
    const char *contracts;     /* the contracts section */
    const char *path;          /* expected error path */
    const char *message;       /* expected substring of the message */
} rejects[] = {
    {"unknown member", "",
     "  contracts:\n    - {name: brunssum-wmo, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, members: [\"41000009\"]}\n",
     "network.contracts[0].members[0]", "contract 'brunssum-wmo': unknown member 41000009"},
    {"unknown financier", "",
     "  contracts:\n    - {name: x, financier: \"0999\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native}\n",
     "network.contracts[0].financier", "contract 'x': unknown financier 0999"},
    {"duplicate code", "    - {code: \"99990001\", kind: member}\n", "", "network.parties[5].code",
     "party 99990001: duplicate code"},
    {"white-label without a cooperative", "    - {code: \"99990200\", kind: provider}\n",
     "  contracts:\n    - {name: wl, financier: \"0917\", provider: \"99990200\", identity: white-label,"
     " financing: taakgericht, protocol: native}\n",
     "network.contracts[0].identity", "contract 'wl': white-label needs a cooperative"},
    {"subcontractor without main contractor", "    - {code: \"99990101\", kind: subcontractor}\n", "",
     "network.parties[5]", "subcontractor 99990101 has no main_contractor"},
    {"subcontractor with unknown main contractor",
     "    - {code: \"99990101\", kind: subcontractor, main_contractor: \"99990077\"}\n", "",
     "network.parties[5].main_contractor", "subcontractor 99990101: unknown main contractor 99990077"},
    {"undefined indicator set", "",
     "  contracts:\n    - {name: heerlen, financier: \"0917\", provider: \"99990000\", identity: white-label,"
     " financing: taakgericht, protocol: native, outcomes: {indicator_set: zrm-14, cadence: quarterly}}\n",
     "network.contracts[0].outcomes.indicator_set", "contract 'heerlen': indicator set 'zrm-14' is not defined"},
    {"gemeente code of the wrong shape", "    - {code: \"917\", kind: gemeente, name: Heerlen-bis}\n", "",
     "network.parties[5].code", "a gemeente code must be a CBS code of 4 digits"},
    {"member code of the wrong shape", "    - {code: \"9999001\", kind: member}\n", "", "network.parties[5].code",
     "a member code must be an AGB code of 8 digits"},
    {"buurtteam outside its range", "    - {code: \"99990500\", kind: buurtteam, gemeente: \"0917\"}\n", "",
     "network.parties[5].code", "9998xxxx"},
    {"co-financier that is not a financier", "",
     "  contracts:\n    - {name: heerlen, financier: \"0917\", provider: \"99990000\", identity: white-label,"
     " financing: taakgericht, protocol: native, co_financiers: [\"99990001\"]}\n",
     "network.contracts[0].co_financiers[0]", "co-financier 99990001 is a member, not a financier"},
    {"iJw protocol on a Wmo-only contract", "",
     "  contracts:\n    - {name: jeugd, financier: \"0917\", provider: \"99990000\", identity: legacy, law: [wmo],"
     " financing: inspanningsgericht, protocol: ijw-3.2, members: [\"99990001\"]}\n",
     "network.contracts[0].protocol", "protocol ijw-3.2 carries jeugdwet messages"},
    {"financier that is a provider", "",
     "  contracts:\n    - {name: odd, financier: \"99990001\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native}\n",
     "network.contracts[0].financier", "99990001 is a member, not a financier"},
    {"buurtteam of an unknown gemeente", "    - {code: \"99980001\", kind: buurtteam, gemeente: \"0899\"}\n", "",
     "network.parties[5].gemeente", "0899 is not a gemeente"},
    {"contract subcontractor of an outsider",
     "    - {code: \"99990200\", kind: provider}\n"
     "    - {code: \"99990101\", kind: subcontractor, main_contractor: \"99990200\"}\n",
     "  contracts:\n    - {name: k, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, members: [\"99990001\"], subcontractors: [\"99990101\"]}\n",
     "network.contracts[0].subcontractors[0]", "subcontractor 99990101 works for 99990200"},
    /* contract terms (network_terms.c) */
    {"period start that is no date", "",
     "  contracts:\n    - {name: p, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, period: {start: \"2025-13-01\", end: \"2026-12-31\"}}\n",
     "network.contracts[0].period.start", "contract 'p': period.start '2025-13-01' is not a date"},
    {"period that ends before it starts", "",
     "  contracts:\n    - {name: p, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, period: {start: \"2026-01-01\", end: \"2025-12-31\"}}\n",
     "network.contracts[0].period.end", "the period ends (2025-12-31) before it starts (2026-01-01)"},
    {"more options taken than there are", "",
     "  contracts:\n    - {name: p, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, period: {start: \"2025-01-01\", end: \"2026-12-31\","
     " extension_years: [1], extended: 2}}\n",
     "network.contracts[0].period.extended", "2 options taken, but the period has 1"},
    {"unknown product in the scope", "",
     "  contracts:\n    - {name: s, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, scope: {excluded: [begeleiding, taxi]}}\n",
     "network.contracts[0].scope.excluded[1]", "contract 's': unknown product 'taxi' in its scope"},
    {"product both included and excluded", "",
     "  contracts:\n    - {name: s, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, scope: {included: [welzijn], excluded: [welzijn]}}\n",
     "network.contracts[0].scope.excluded[0]", "'welzijn' is both included and excluded"},
    {"lump sum on an output-based contract", "",
     "  contracts:\n    - {name: b, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: outputgericht, protocol: native, budget: {model: lump-sum, amount: 100, period: year}}\n",
     "network.contracts[0].budget.model", "a lump-sum budget belongs to a taakgericht or populatie contract"},
    {"volume-price without a volume", "",
     "  contracts:\n    - {name: b, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: outputgericht, protocol: native, budget: {model: volume-price, amount: 100, period: year},"
     " tariffs: [{product: begeleiding, price: 10, unit: hour}]}\n",
     "network.contracts[0].budget.volume", "needs the agreed volume"},
    {"arrangement budget without tariffs", "",
     "  contracts:\n    - {name: b, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: outputgericht, protocol: native, budget: {model: arrangement, amount: 100, period: year}}\n",
     "network.contracts[0].budget.model", "contract 'b': a arrangement budget needs tariffs"},
    {"a budget per ride", "",
     "  contracts:\n    - {name: b, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, budget: {model: lump-sum, amount: 100, period: ride}}\n",
     "network.contracts[0].budget.period", "not a ride"},
    {"share of a party outside the contract", "",
     "  contracts:\n    - {name: b, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, members: [\"99990001\"], budget: {model: lump-sum, amount: 100,"
     " period: year, shares: [{party: \"99990001\", amount: 60}, {party: \"99990003\", amount: 40}]}}\n",
     "network.contracts[0].budget.shares[1].party", "99990003 is not a party to the contract"},
    {"shares above the lump sum", "",
     "  contracts:\n    - {name: b, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, members: [\"99990001\", \"99990003\"], budget: {model: lump-sum,"
     " amount: 100, period: year, shares: [{party: \"99990001\", amount: 60}, {party: \"99990003\", amount: 41}]}}\n",
     "network.contracts[0].budget.shares", "the shares add up to 101.00, more than the budget's 100.00"},
    {"declarations under a lump sum", "",
     "  contracts:\n    - {name: b, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, declarations: true, budget: {model: lump-sum, amount: 100,"
     " period: year}}\n",
     "network.contracts[0].declarations", "contract 'b': a lump-sum contract pays no declarations"},
    {"tariff for a product the scope leaves out", "",
     "  contracts:\n    - {name: t, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: outputgericht, protocol: native, scope: {excluded: [welzijn]}, budget: {model: arrangement,"
     " amount: 100, period: year}, tariffs: [{product: begeleiding, price: 1, unit: hour},"
     " {product: welzijn, price: 1, unit: hour}]}\n",
     "network.contracts[0].tariffs[1].product", "a tariff for 'welzijn', which its scope leaves out"},
    {"required indicator outside the set", "",
     "  contracts:\n    - {name: o, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, outcomes: {indicator_set: zrm-13, cadence: quarterly,"
     " required: [financien, geluk]}}\n",
     "network.contracts[0].outcomes.required[1]", "indicator 'geluk' is not in indicator set 'zrm-13'"},
    {"watched indicator outside the set", "",
     "  contracts:\n    - {name: o, financier: \"0917\", provider: \"99990000\", identity: legacy,"
     " financing: taakgericht, protocol: native, outcomes: {indicator_set: zrm-13, cadence: quarterly,"
     " watch: [bereik]}}\n",
     "network.contracts[0].outcomes.watch[0]", "indicator 'bereik' is not in indicator set 'zrm-13'"},
};

static void test_rejects(void **state)
{
    (void)state;
    char text[4096];
    for (size_t i = 0; i < sizeof rejects / sizeof rejects[0]; i++) {
        const struct reject_case *rc = &rejects[i];
        snprintf(text, sizeof text, "%s%s%s%s", base_parties, rc->parties_extra, base_sets, rc->contracts);
        knoop_network_t *net = NULL;
        knoop_cfg_error_t err = {{0}, {0}};
        int r = load(NULL, text, &net, &err);
        if (r != -EINVAL || strcmp(err.path, rc->path) != 0 || strstr(err.message, rc->message) == NULL)
            print_error("case '%s': rc %d, path '%s', message '%s'\n", rc->what, r, err.path, err.message);
        assert_int_equal(r, -EINVAL);
        assert_string_equal(err.path, rc->path);
        assert_non_null(strstr(err.message, rc->message));
        assert_null(net);
    }
}

static void test_typo_in_enum_is_rejected_by_the_parser(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, "%s%s%s", base_parties, base_sets,
             "  contracts:\n    - {name: x, financier: \"0917\", provider: \"99990000\", identity: whitelabel,"
             " financing: taakgericht, protocol: native}\n");
    knoop_network_t *net = NULL;
    assert_int_equal(load(NULL, text, &net, NULL), CYAML_ERR_INVALID_VALUE);
    assert_null(net);
}

/* An enumeration takes its names only: a number is not an identity, a kind or a cadence. */
static void test_numbers_are_not_enum_names(void **state)
{
    (void)state;
    static const char *bad[] = {"identity: 99", "identity: 0", "identity: -1", "identity: 1"};
    char text[2048];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text,
                 "%s%s  contracts:\n    - {name: x, financier: \"0917\", provider: \"99990000\", %s,"
                 " financing: taakgericht, protocol: native}\n",
                 base_parties, base_sets, bad[i]);
        knoop_network_t *net = NULL;
        int rc = load(NULL, text, &net, NULL);
        if (rc == 0)
            print_error("'%s' was accepted\n", bad[i]);
        assert_int_equal(rc, CYAML_ERR_INVALID_VALUE);
        assert_null(net);
    }
    snprintf(text, sizeof text, "%s", base_parties);
    char *k = strstr(text, "kind: zorgkantoor");
    memcpy(k, "kind: 2          ", 17);
    knoop_network_t *net = NULL;
    assert_int_equal(load(NULL, text, &net, NULL), CYAML_ERR_INVALID_VALUE);
}

static void test_base_network_is_valid(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, "%s%s", base_parties, base_sets);
    knoop_network_t *net = NULL;
    knoop_cfg_error_t err = {{0}, {0}};
    assert_int_equal(load(NULL, text, &net, &err), 0);
    assert_int_equal(knoop_network_party_count(net), 5);
    assert_null(knoop_network_party(net, "0000"));
    assert_null(knoop_network_party(net, "999900001"));
    knoop_network_destroy(&net);
    knoop_network_destroy(&net); /* destroying NULL is a no-op */
    assert_int_equal(knoop_network_build(NULL, &net, &err), -EINVAL);
    assert_string_equal(err.path, "network");
    /* A document made in code, with values the schema would never let through. */
    knoop_network_doc_party_t parties[2] = {{.code = "0917", .kind = KNOOP_PARTY_GEMEENTE},
                                            {.code = "99990000", .kind = KNOOP_PARTY_COOPERATIVE}};
    knoop_network_doc_contract_t contract = {.name = "c",
                                             .financier = "0917",
                                             .provider = "99990000",
                                             .identity = KNOOP_IDENTITY_LEGACY,
                                             .financing = KNOOP_FIN_TAAKGERICHT};
    knoop_network_doc_t doc = {.parties = parties, .parties_count = 2, .contracts = &contract, .contracts_count = 1};
    assert_int_equal(knoop_network_build(&doc, &net, &err), -EINVAL);
    assert_string_equal(err.path, "network.contracts[0].protocol");
    assert_string_equal(err.message, "contract 'c': protocol is missing or unknown");
    contract.protocol = KNOOP_PROTO_NATIVE;
    assert_int_equal(knoop_network_build(&doc, &net, &err), 0);
    knoop_network_destroy(&net);
    parties[1].kind = (knoop_party_kind_t)42;
    assert_int_equal(knoop_network_build(&doc, &net, &err), -EINVAL);
    assert_string_equal(err.path, "network.parties[1].kind");
}

/* docs/network.md documents every key and every enumeration value of the schema (STYLE rule 8). */
static char *read_text(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", src_dir(), rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    static char buf[1 << 17];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static size_t check_documented(const char *doc, const cyaml_schema_value_t *v, const char *key)
{
    char quoted[96];
    size_t checked = 0;
    if (key) { /* as `key`, or nested as `outer.key` / `list[].key` */
        char nested[96];
        snprintf(quoted, sizeof quoted, "`%s`", key);
        snprintf(nested, sizeof nested, ".%s`", key);
        bool found = strstr(doc, quoted) != NULL || strstr(doc, nested) != NULL;
        if (!found)
            print_error("docs/network.md does not mention %s\n", quoted);
        assert_true(found);
        checked++;
    }
    if (v->type == CYAML_ENUM || v->type == CYAML_FLAGS)
        for (uint32_t i = 0; i < v->enumeration.count; i++) {
            snprintf(quoted, sizeof quoted, "`%s`", v->enumeration.strings[i].str);
            if (strstr(doc, quoted) == NULL)
                print_error("docs/network.md does not mention value %s of %s\n", quoted, key ? key : "?");
            assert_non_null(strstr(doc, quoted));
            checked++;
        }
    if (v->type == CYAML_MAPPING)
        for (const cyaml_schema_field_t *f = v->mapping.fields; f->key; f++)
            checked += check_documented(doc, &f->value, f->key);
    if (v->type == CYAML_SEQUENCE)
        checked += check_documented(doc, v->sequence.entry, NULL);
    return checked;
}

static void test_docs_cover_the_schema(void **state)
{
    (void)state;
    const char *doc = read_text("docs/network.md");
    assert_non_null(doc);
    size_t checked = 0;
    for (const cyaml_schema_field_t *f = knoop_network_fields; f->key; f++)
        checked += check_documented(doc, &f->value, f->key);
    assert_true(checked > 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_network_builds),
        cmocka_unit_test(test_alphen_builds),
        cmocka_unit_test(test_goeree_builds),
        cmocka_unit_test(test_contract_terms),
        cmocka_unit_test(test_base_network_is_valid),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_typo_in_enum_is_rejected_by_the_parser),
        cmocka_unit_test(test_numbers_are_not_enum_names),
        cmocka_unit_test(test_docs_cover_the_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
