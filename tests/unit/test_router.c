/* test_router.c — the routing rules on the shipped networks: white-label dispatch and identity hiding, legacy, change of
 * provider, subcontractors, outcome isolation and co-financing, dead letters, authorisation, route-state rows and scale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "knoop.pb-c.h"
#include "route/router.h"

typedef struct top {
    knoop_network_doc_t *network;
} top_t;
static const cyaml_schema_field_t top_fields[] = {
    CYAML_FIELD_IGNORE("daemon", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_MAPPING_PTR("network", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, top_t, network, knoop_network_fields),
    CYAML_FIELD_END};
static const cyaml_schema_value_t top_schema = {CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, top_t, top_fields)};
static const cyaml_config_t cyaml_cfg = {.mem_fn = cyaml_mem, .log_level = CYAML_LOG_ERROR};

typedef struct fixture {
    knoop_network_t *net;    /* owned */
    knoop_route_state_t *st; /* owned */
    knoop_route_decision_t d;
} fixture_t;

static int setup_file(void **state, const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", getenv("KNOOP_SRC") ? getenv("KNOOP_SRC") : ".", file);
    top_t *top = NULL;
    if (cyaml_load_file(path, &cyaml_cfg, &top_schema, (cyaml_data_t **)&top, NULL) != CYAML_OK)
        return -1;
    fixture_t *f = calloc(1, sizeof *f); /* owned by cmocka's state until teardown */
    knoop_cfg_error_t err;
    int rc = f ? knoop_network_build(top->network, &f->net, &err) : -1;
    cyaml_free(&cyaml_cfg, &top_schema, top, 0);
    if (rc == 0 && knoop_route_state_new(f->net, 16, &f->st) == 0) {
        *state = f;
        return 0;
    }
    if (rc != 0 && f)
        print_error("%s: %s: %s\n", file, err.path, err.message);
    if (f)
        knoop_network_destroy(&f->net);
    free(f); /* cmocka runs no teardown after a failed setup */
    return -1;
}

static int setup(void **state)
{
    return setup_file(state, "deploy/knoopd.yaml");
}
static int setup_alphen(void **state)
{
    return setup_file(state, "deploy/networks/alphen.yaml");
}
static int setup_goeree(void **state)
{
    return setup_file(state, "deploy/networks/goeree.yaml");
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    knoop_route_state_destroy(&f->st);
    knoop_network_destroy(&f->net);
    free(f);
    return 0;
}

/* Routes one message; client is a short string used as the opaque reference (NULL: no client). */
static const knoop_route_decision_t *route(fixture_t *f, const char *from, const char *to, int kind,
                                           const char *product, const char *client, const char *new_provider)
{
    knoop_route_in_t in = {
        .sender = from,
        .receiver = to,
        .kind = kind,
        .message_type = "knoop.domain.Test",
        .product = product,
        .client_ref = (const uint8_t *)client,
        .client_ref_len = client ? strlen(client) : 0,
        .new_provider = new_provider,
    };
    assert_int_equal(knoop_route(f->net, f->st, &in, &f->d), 0);
    return &f->d;
}

static bool has_stream(const knoop_route_decision_t *d, const char *s)
{
    for (size_t i = 0; i < d->n_streams; i++)
        if (strcmp(d->streams[i], s) == 0)
            return true;
    return false;
}

static void assert_streams(const knoop_route_decision_t *d, size_t n, ...)
{
    va_list ap;
    va_start(ap, n);
    if (d->n_streams != n)
        print_error("streams: %zu, expected %zu (%s)\n", d->n_streams, n, d->explanation);
    assert_int_equal(d->n_streams, n);
    for (size_t i = 0; i < n; i++) {
        const char *s = va_arg(ap, const char *);
        if (!has_stream(d, s))
            print_error("missing stream %s (%s)\n", s, d->explanation);
        assert_true(has_stream(d, s));
    }
    va_end(ap);
}

static void assert_dead(const knoop_route_decision_t *d, const char *reason_part)
{
    if (!d->dead_letter || strstr(d->explanation, reason_part) == NULL)
        print_error("expected dead letter with '%s', got rule %s: %s\n", reason_part, knoop_route_rule_name(d->rule),
                    d->explanation);
    assert_true(d->dead_letter);
    assert_int_equal(d->rule, KNOOP_RULE_DEAD_LETTER);
    assert_streams(d, 1, "deadletters");
    assert_non_null(strstr(d->explanation, reason_part));
}

/* ---- rule 1 ---- */
static void test_white_label_dispatch(void **state)
{
    fixture_t *f = *state;
    /* Only 99990007 offers debt counselling. */
    const knoop_route_decision_t *d = route(f, "0917", NULL, KNOOP__KIND__REFERRAL, "schuldhulpverlening", "c-1", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_WHITE_LABEL_IN);
    assert_string_equal(d->member, "99990007");
    assert_string_equal(d->receiver, "99990007");
    assert_string_equal(d->sender_as_seen, "0917");
    assert_string_equal(d->contract->name, "heerlen");
    assert_int_equal(d->change, KNOOP_CHANGE_ASSIGNED);
    assert_streams(d, 1, "inbox.99990007");
    assert_non_null(strstr(d->explanation, "schuldhulpverlening"));
    /* Sticky: a later message about the client, even naming another product, goes to the same member. */
    d = route(f, "0917", "99990000", KNOOP__KIND__CHANGE_REQUEST, "huishoudelijke-hulp", "c-1", NULL);
    assert_string_equal(d->member, "99990007");
    assert_int_equal(d->change, KNOOP_CHANGE_NONE);
    assert_non_null(strstr(d->explanation, "sticky"));
    /* Two members offer household help: the least loaded of them is chosen, so two clients are spread. */
    d = route(f, "0917", NULL, KNOOP__KIND__REFERRAL, "huishoudelijke-hulp", "c-2", NULL);
    char first[KNOOP_CODE_MAX];
    strcpy(first, d->member);
    d = route(f, "0917", NULL, KNOOP__KIND__REFERRAL, "huishoudelijke-hulp", "c-3", NULL);
    assert_string_not_equal(first, d->member);
    assert_true(strcmp(d->member, "99990001") == 0 || strcmp(d->member, "99990005") == 0);
    assert_true(strcmp(first, "99990001") == 0 || strcmp(first, "99990005") == 0);
    /* No product: the least loaded member overall (one that has no client yet). */
    d = route(f, "0917", NULL, KNOOP__KIND__REFERRAL, NULL, "c-4", NULL);
    const knoop_party_t *m = knoop_network_party(f->net, d->member);
    assert_int_equal(knoop_route_state_load(f->st, m->member_slot), 1);
    assert_true(strcmp(d->member, "99990007") != 0 && strcmp(d->member, first) != 0);
    /* A neighbourhood team refers for its municipality; members see the team as sender. */
    d = route(f, "99980001", NULL, KNOOP__KIND__REFERRAL, "dagbesteding", "c-5", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_WHITE_LABEL_IN);
    assert_string_equal(d->contract->name, "heerlen");
    assert_string_equal(d->sender_as_seen, "99980001");
    assert_true(knoop_party_offers(knoop_network_party(f->net, d->member), "dagbesteding"));
    /* Brunssum dispatches only to its lump-sum partners, even for a product only a non-partner offers. */
    d = route(f, "0899", NULL, KNOOP__KIND__REFERRAL, "jeugdhulp-ambulant", "c-6", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_WHITE_LABEL_IN);
    assert_true(knoop_contract_has_member(d->contract, knoop_network_party(f->net, d->member)));
    assert_non_null(strstr(d->explanation, "no member offers"));
    /* A message that cannot open a dispatch, about a client nobody serves, is a dead letter. */
    assert_dead(route(f, "0917", NULL, KNOOP__KIND__ANSWER, NULL, "c-unknown", NULL), "no member serves this client");
    /* Contract-level (no client) goes to the cooperative. */
    d = route(f, "0917", NULL, KNOOP__KIND__OTHER, NULL, NULL, NULL);
    assert_streams(d, 1, "inbox.99990000");
}

/* The client's own choice wins over product and load for a new client; a non-partner choice is ignored. */
static void test_preferred_provider(void **state)
{
    fixture_t *f = *state;
    knoop_route_in_t in = {.sender = "99980002",
                           .kind = KNOOP__KIND__REFERRAL,
                           .product = "huishoudelijke-hulp",
                           .preferred_provider = "99990005",
                           .client_ref = (const uint8_t *)"p-1",
                           .client_ref_len = 3};
    assert_int_equal(knoop_route(f->net, f->st, &in, &f->d), 0);
    assert_string_equal(f->d.member, "99990005");
    assert_string_equal(f->d.contract->name, "brunssum");
    assert_non_null(strstr(f->d.explanation, "own choice"));
    /* 99990002 is not a Brunssum partner: the product decides. */
    in.preferred_provider = "99990002";
    in.client_ref = (const uint8_t *)"p-2";
    assert_int_equal(knoop_route(f->net, f->st, &in, &f->d), 0);
    assert_true(strcmp(f->d.member, "99990001") == 0 || strcmp(f->d.member, "99990005") == 0);
    assert_non_null(strstr(f->d.explanation, "does not take part"));
    /* For a client already served, a preference does not move it (that is a change of provider). */
    in.preferred_provider = "99990006";
    in.client_ref = (const uint8_t *)"p-1";
    assert_int_equal(knoop_route(f->net, f->st, &in, &f->d), 0);
    assert_string_equal(f->d.member, "99990005");
}

/* "The member's code never reaches a white-label financier": every outbound kind, every way of addressing. */
static void test_member_code_never_reaches_white_label_financier(void **state)
{
    fixture_t *f = *state;
    const knoop_route_decision_t *d = route(f, "0917", NULL, KNOOP__KIND__REFERRAL, "welzijn", "c-wl", NULL);
    char member[KNOOP_CODE_MAX];
    strcpy(member, d->member);
    const char *receivers[] = {"0917", NULL, "99980001"};
    size_t routed = 0;
    for (int kind = 0; kind <= KNOOP__KIND__OTHER + 1; kind++) {
        for (size_t r = 0; r < 3; r++) {
            d = route(f, member, receivers[r], kind, NULL, "c-wl", NULL);
            if (d->dead_letter)
                continue;
            routed++;
            assert_string_equal(d->sender_as_seen, "99990000");
            assert_string_not_equal(d->receiver, member);
            for (size_t i = 0; i < d->n_streams; i++) {
                assert_null(strstr(d->streams[i], member));
                assert_true(strcmp(d->streams[i], "inbox.0917") == 0 || strcmp(d->streams[i], "inbox.99980001") == 0 ||
                            strcmp(d->streams[i], "outcomes.0917") == 0 || strcmp(d->streams[i], "outcomes.9001") == 0);
            }
        }
    }
    /* Every publishable kind was routed for both addressings (kinds 1..14 but ALERT: 13 kinds x 3). */
    assert_int_equal(routed, 13 * 3);
    /* The member's stop releases the client, and still leaves as the cooperative. */
    d = route(f, member, "0917", KNOOP__KIND__STOP, NULL, "c-wl", NULL);
    assert_string_equal(d->sender_as_seen, "99990000");
    /* The cooperative itself speaks as itself. */
    d = route(f, "99990000", "0917", KNOOP__KIND__RETOUR, NULL, "c-wl", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_WHITE_LABEL_OUT);
    assert_string_equal(d->sender_as_seen, "99990000");
    /* Another member, not serving the client, cannot talk to Heerlen about it. */
    const char *other = strcmp(member, "99990002") == 0 ? "99990006" : "99990002";
    assert_dead(route(f, other, "0917", KNOOP__KIND__RETOUR, NULL, "c-wl", NULL), "does not serve this client");
}

/* ---- rule 2 ---- */
static void test_legacy(void **state)
{
    fixture_t *f = *state;
    const knoop_route_decision_t *d = route(f, "0928", "99990003", KNOOP__KIND__ASSIGNMENT, "welzijn", "k-1", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_LEGACY);
    assert_string_equal(d->contract->name, "kerkrade");
    assert_string_equal(d->sender_as_seen, "0928");
    assert_streams(d, 1, "inbox.99990003");
    assert_int_equal(d->change, KNOOP_CHANGE_NONE);
    d = route(f, "99990003", "0928", KNOOP__KIND__RETOUR, NULL, "k-1", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_LEGACY);
    assert_string_equal(d->sender_as_seen, "99990003"); /* under its own AGB, unchanged */
    assert_streams(d, 1, "inbox.0928");
    assert_dead(route(f, "0928", "99990008", KNOOP__KIND__ASSIGNMENT, NULL, "k-1", NULL), "no contract between 0928");
    assert_dead(route(f, "0917", "99990001", KNOOP__KIND__REFERRAL, NULL, "k-1", NULL), "address 99990000");
    assert_dead(route(f, "0928", NULL, KNOOP__KIND__ASSIGNMENT, NULL, "k-1", NULL), "name the receiver");
    /* The care office's own (legacy) contract with the cooperative. */
    d = route(f, "9001", "99990005", KNOOP__KIND__ASSIGNMENT, NULL, "k-2", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_LEGACY);
    assert_string_equal(d->contract->name, "zorgkantoor-wlz");
}

/* ---- rule 3 ---- */
static void test_change_of_provider(void **state)
{
    fixture_t *f = *state;
    const knoop_route_decision_t *d = route(f, "0917", NULL, KNOOP__KIND__REFERRAL, "dagbesteding", "m-1", NULL);
    char from[KNOOP_CODE_MAX], in_from[32], in_to[32];
    strcpy(from, d->member);
    const char *to = strcmp(from, "99990006") == 0 ? "99990002" : "99990006";
    snprintf(in_from, sizeof in_from, "inbox.%s", from);
    snprintf(in_to, sizeof in_to, "inbox.%s", to);
    const knoop_party_t *pf = knoop_network_party(f->net, from), *pt = knoop_network_party(f->net, to);
    uint32_t load_from = knoop_route_state_load(f->st, pf->member_slot);
    uint32_t load_to = knoop_route_state_load(f->st, pt->member_slot);

    /* The client tells the neighbourhood team; both members learn of it, nobody else. */
    d = route(f, "99980001", NULL, KNOOP__KIND__PLAN_UPDATE, NULL, "m-1", to);
    assert_int_equal(d->rule, KNOOP_RULE_CHANGE_PROVIDER);
    assert_int_equal(d->change, KNOOP_CHANGE_MOVED);
    assert_string_equal(d->member, to);
    assert_streams(d, 2, in_to, in_from);
    assert_int_equal(knoop_route_state_load(f->st, pf->member_slot), load_from - 1);
    assert_int_equal(knoop_route_state_load(f->st, pt->member_slot), load_to + 1);

    /* From now on the financier's messages reach only the new member. */
    d = route(f, "0917", NULL, KNOOP__KIND__ANSWER, NULL, "m-1", NULL);
    assert_streams(d, 1, in_to);
    /* History stays: the former member may still close its part, as the cooperative. */
    d = route(f, from, "0917", KNOOP__KIND__DECLARATION, NULL, "m-1", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_WHITE_LABEL_OUT);
    assert_string_equal(d->sender_as_seen, "99990000");
    knoop_route_row_t row;
    assert_int_equal(knoop_route_state_row(f->st, KNOOP_ROW_STICKY, knoop_network_contract(f->net, "heerlen"),
                                           (const uint8_t *)"m-1", 3, &row),
                     0);
    assert_string_equal(row.party, to);
    assert_string_equal(row.former, from);
    assert_true(row.active);

    /* A member that does not serve the client cannot move it; a non-member cannot receive it. */
    assert_dead(route(f, "99990008", NULL, KNOOP__KIND__PLAN_UPDATE, NULL, "m-1", "99990001"),
                "serves this client under no white-label contract");
    assert_dead(route(f, "0917", NULL, KNOOP__KIND__PLAN_UPDATE, NULL, "m-1", "99990101"), "not a member taking part");
    /* Brunssum: 99990002 is not one of its partners. */
    route(f, "0899", NULL, KNOOP__KIND__REFERRAL, "welzijn", "m-2", NULL);
    assert_dead(route(f, "0899", NULL, KNOOP__KIND__PLAN_UPDATE, NULL, "m-2", "99990002"), "not a member taking part");
    /* The serving member itself may pass on the client's wish; then only the new member is told. The member the
     * client left cannot claim it back, and moving a client to where it already is changes nothing. */
    assert_dead(route(f, from, NULL, KNOOP__KIND__PLAN_UPDATE, NULL, "m-1", from), "does not serve now");
    d = route(f, to, NULL, KNOOP__KIND__PLAN_UPDATE, NULL, "m-1", from);
    assert_int_equal(d->rule, KNOOP_RULE_CHANGE_PROVIDER);
    assert_int_equal(d->change, KNOOP_CHANGE_MOVED);
    assert_streams(d, 1, in_from);
    d = route(f, "0917", NULL, KNOOP__KIND__PLAN_UPDATE, NULL, "m-1", from);
    assert_int_equal(d->change, KNOOP_CHANGE_NONE);
    assert_streams(d, 1, in_from);
}

/* ---- rule 4 ---- */
static void test_subcontracting(void **state)
{
    fixture_t *f = *state;
    /* Kerkrade (legacy) assigns to the main contractor; the subcontractor knows nothing of the client yet. */
    route(f, "0928", "99990003", KNOOP__KIND__ASSIGNMENT, "welzijn", "s-1", NULL);
    assert_dead(route(f, "99990101", NULL, KNOOP__KIND__START, NULL, "s-1", NULL), "not passed");
    assert_dead(route(f, "0928", "99990101", KNOOP__KIND__ASSIGNMENT, NULL, "s-1", NULL),
                "address its main contractor");
    /* The main contractor passes the client on. */
    const knoop_route_decision_t *d = route(f, "99990003", "99990101", KNOOP__KIND__ASSIGNMENT, NULL, "s-1", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_SUBCONTRACT_PASS);
    assert_int_equal(d->change, KNOOP_CHANGE_PASSED);
    assert_streams(d, 1, "inbox.99990101");
    /* Now the subcontractor sees the traffic about this client, and only this client. */
    d = route(f, "0928", "99990003", KNOOP__KIND__CHANGE_REQUEST, NULL, "s-1", NULL);
    assert_streams(d, 2, "inbox.99990003", "inbox.99990101");
    route(f, "0928", "99990003", KNOOP__KIND__ASSIGNMENT, NULL, "s-2", NULL);
    d = route(f, "0928", "99990003", KNOOP__KIND__CHANGE_REQUEST, NULL, "s-2", NULL);
    assert_streams(d, 1, "inbox.99990003");
    /* The subcontractor's messages go to its main contractor, never straight to the financier. */
    d = route(f, "99990101", NULL, KNOOP__KIND__START, NULL, "s-1", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_SUBCONTRACT_UP);
    assert_streams(d, 1, "inbox.99990003");
    assert_dead(route(f, "99990101", "0928", KNOOP__KIND__START, NULL, "s-1", NULL), "reports to its main contractor");
    assert_dead(route(f, "99990101", NULL, KNOOP__KIND__START, NULL, "s-2", NULL), "not passed");
    /* Under white-label too: Heerlen's client served by 99990003 and passed on. */
    d = route(f, "0917", NULL, KNOOP__KIND__REFERRAL, "mantelzorgondersteuning", "s-3", NULL);
    assert_string_equal(d->member, "99990003");
    route(f, "99990003", "99990101", KNOOP__KIND__REFERRAL, NULL, "s-3", NULL);
    d = route(f, "0917", NULL, KNOOP__KIND__ANSWER, NULL, "s-3", NULL);
    assert_streams(d, 2, "inbox.99990003", "inbox.99990101");
    /* The main contractor's stop ends the subcontractor's part. */
    d = route(f, "99990003", "99990101", KNOOP__KIND__STOP, NULL, "s-1", NULL);
    assert_int_equal(d->change, KNOOP_CHANGE_UNPASSED);
    assert_streams(d, 1, "inbox.99990101");
    assert_dead(route(f, "99990101", NULL, KNOOP__KIND__START, NULL, "s-1", NULL), "not passed");
    d = route(f, "0928", "99990003", KNOOP__KIND__CHANGE_REQUEST, NULL, "s-1", NULL);
    assert_streams(d, 1, "inbox.99990003");
    /* Another member may not address someone else's subcontractor. */
    assert_dead(route(f, "99990001", "99990101", KNOOP__KIND__REFERRAL, NULL, "s-1", NULL), "may not address");
}

/* ---- rule 5 ---- */
static void test_outcomes(void **state)
{
    fixture_t *f = *state;
    const knoop_route_decision_t *d = route(f, "0917", NULL, KNOOP__KIND__REFERRAL, "begeleiding", "o-1", NULL);
    char member[KNOOP_CODE_MAX];
    strcpy(member, d->member);
    /* Heerlen is co-financed by the care office: the outcome fans out to both outcome streams. */
    d = route(f, member, "0917", KNOOP__KIND__OUTCOME_REPORT, NULL, "o-1", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_OUTCOME);
    assert_streams(d, 2, "outcomes.0917", "outcomes.9001");
    assert_string_equal(d->sender_as_seen, "99990000");
    d = route(f, member, NULL, KNOOP__KIND__OUTCOME_REPORT, NULL, "o-1", NULL);
    assert_streams(d, 2, "outcomes.0917", "outcomes.9001");
    /* Brunssum's contract-level indicators come from the cooperative and go to Brunssum only. */
    d = route(f, "99990000", "0899", KNOOP__KIND__OUTCOME_REPORT, NULL, NULL, NULL);
    assert_streams(d, 1, "outcomes.0899");
    assert_string_equal(d->contract->name, "brunssum");
    /* Sittard-Geleen (legacy, arrangement goals): the member reports under its own code, to Sittard-Geleen only. */
    d = route(f, "99990006", "1883", KNOOP__KIND__OUTCOME_REPORT, NULL, "o-2", NULL);
    assert_streams(d, 1, "outcomes.1883");
    assert_string_equal(d->sender_as_seen, "99990006");
    /* A contract without outcome reporting, a member not serving the client, a provider as receiver. */
    assert_dead(route(f, "99990006", "0971", KNOOP__KIND__OUTCOME_REPORT, NULL, "o-2", NULL), "no outcome reporting");
    assert_dead(route(f, "99990008", "0917", KNOOP__KIND__OUTCOME_REPORT, NULL, "o-1", NULL), "does not serve");
    assert_dead(route(f, member, "99990000", KNOOP__KIND__OUTCOME_REPORT, NULL, "o-1", NULL), "go to a financier");
    assert_dead(route(f, "0917", NULL, KNOOP__KIND__OUTCOME_REPORT, NULL, "o-1", NULL), "come from providers");
    /* The cooperative reports to two white-label financiers: it must name which. */
    assert_dead(route(f, "99990000", NULL, KNOOP__KIND__OUTCOME_REPORT, NULL, NULL, NULL), "name the financier");
}

/* Isolation: over many mixed decisions, an outcome stream is only ever the contract's financier's or a
 * co-financier's, and a financier's inbox never receives what belongs to another. */
static void test_outcome_isolation(void **state)
{
    fixture_t *f = *state;
    const char *fins[] = {"0917", "0899"};
    char ref[16];
    for (int i = 0; i < 200; i++) {
        snprintf(ref, sizeof ref, "iso-%d", i);
        const knoop_route_decision_t *d = route(f, fins[i % 2], NULL, KNOOP__KIND__REFERRAL, NULL, ref, NULL);
        char member[KNOOP_CODE_MAX];
        strcpy(member, d->member);
        d = route(f, member, NULL, KNOOP__KIND__OUTCOME_REPORT, NULL, ref, NULL);
        assert_int_equal(d->rule, KNOOP_RULE_OUTCOME);
        if (i % 2 == 0)
            assert_streams(d, 2, "outcomes.0917", "outcomes.9001");
        else
            assert_streams(d, 1, "outcomes.0899");
    }
}

static void test_may_read(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *party, *stream;
        bool ok;
    } rows[] = {
        {"0917", "outcomes.0917", true},
        {"0917", "inbox.0917", true},
        {"0917", "outcomes.0899", false},
        {"0917", "inbox.0899", false},
        {"9001", "outcomes.9001", true},
        {"9001", "outcomes.0917", false},
        {"0917", "inbox.99980001", true},
        {"0899", "inbox.99980001", false},
        {"99980001", "inbox.0917", false},
        {"99990003", "inbox.99990101", true},
        {"99990101", "inbox.99990003", false},
        {"99990001", "inbox.99990003", false},
        {"99990000", "inbox.99990001", false},
        {"99990001", "outcomes.0917", false},
        {"99990001", "outcomes.99990001", false},
        {"0917", "alerts", false},
        {"0917", "deadletters", false},
        {"1234", "inbox.1234", false},
        {"0917", "inbox.", false},
        {"0917", "outcomes.", false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (knoop_router_may_read(f->net, rows[i].party, rows[i].stream) != rows[i].ok)
            print_error("%s reading %s\n", rows[i].party, rows[i].stream);
        assert_int_equal(knoop_router_may_read(f->net, rows[i].party, rows[i].stream), rows[i].ok);
    }
}

/* ---- rule 6 ---- */
static void test_dead_letters(void **state)
{
    fixture_t *f = *state;
    assert_dead(route(f, "1234", NULL, KNOOP__KIND__REFERRAL, NULL, "d-1", NULL), "unknown sender '1234'");
    assert_dead(route(f, "0917", "99991111", KNOOP__KIND__REFERRAL, NULL, "d-1", NULL), "unknown receiver '99991111'");
    assert_dead(route(f, "0917", NULL, KNOOP__KIND__ALERT, NULL, "d-1", NULL), "cannot be routed");
    assert_dead(route(f, "0917", NULL, KNOOP__KIND__KIND_UNSPECIFIED, NULL, "d-1", NULL), "cannot be routed");
    assert_dead(route(f, "0917", NULL, 99, NULL, "d-1", NULL), "cannot be routed");
    assert_dead(route(f, "0917", "0899", KNOOP__KIND__REFERRAL, NULL, "d-1", NULL), "another financier");
    assert_dead(route(f, "0917", "0917", KNOOP__KIND__REFERRAL, NULL, "d-1", NULL), "addresses itself");
    assert_dead(route(f, "99990001", "99990002", KNOOP__KIND__RETOUR, NULL, "d-1", NULL), "may not address");
    assert_dead(route(f, "99990001", NULL, KNOOP__KIND__RETOUR, NULL, NULL, NULL), "must name its receiver");
    assert_dead(route(f, "99990000", NULL, KNOOP__KIND__RETOUR, NULL, "d-1", NULL), "must name the receiver");
    assert_dead(route(f, "0917", NULL, KNOOP__KIND__REFERRAL, NULL, "0123456789abcdef0123456789abcdef!", NULL),
                "at most 32");
    knoop_route_in_t in = {.sender = "0917"};
    assert_int_equal(knoop_route(f->net, f->st, NULL, &f->d), -EINVAL);
    assert_int_equal(knoop_route(f->net, f->st, &in, NULL), -EINVAL);
}

/* ---- route state: rows survive a round trip; 10k+ clients spread evenly ---- */
static int collect(const knoop_route_row_t *row, void *arg)
{
    knoop_route_state_t *dst = arg;
    return knoop_route_state_import(dst, row);
}

static void test_state_rows_and_scale(void **state)
{
    fixture_t *f = *state;
    char ref[32];
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        snprintf(ref, sizeof ref, "scale-%d", i);
        const knoop_route_decision_t *d = route(f, "0917", NULL, KNOOP__KIND__REFERRAL, NULL, ref, NULL);
        assert_int_equal(d->rule, KNOOP_RULE_WHITE_LABEL_IN);
    }
    assert_int_equal(knoop_route_state_count(f->st), n);
    uint32_t lo = UINT32_MAX, hi = 0, sum = 0;
    for (int s = 0; s < (int)knoop_network_member_count(f->net); s++) {
        uint32_t l = knoop_route_state_load(f->st, s);
        lo = l < lo ? l : lo;
        hi = l > hi ? l : hi;
        sum += l;
    }
    assert_int_equal(sum, n);
    assert_true(hi - lo <= 1); /* least-loaded dispatch keeps the members level */
    /* Every client stays with its member. */
    for (int i = 0; i < n; i += 97) {
        snprintf(ref, sizeof ref, "scale-%d", i);
        knoop_sticky_t before;
        assert_int_equal(knoop_route_state_sticky(f->st, knoop_network_contract(f->net, "heerlen"),
                                                  (const uint8_t *)ref, strlen(ref), &before),
                         0);
        const knoop_route_decision_t *d = route(f, "0917", NULL, KNOOP__KIND__REFERRAL, "verslavingszorg", ref, NULL);
        assert_string_equal(d->member, knoop_network_member_by_slot(f->net, before.member_slot)->code);
    }
    /* Export, import into a fresh state, and compare. */
    route(f, "0928", "99990003", KNOOP__KIND__ASSIGNMENT, NULL, "rt-sub", NULL);
    route(f, "99990003", "99990101", KNOOP__KIND__ASSIGNMENT, NULL, "rt-sub", NULL);
    route(f, "99990000", NULL, KNOOP__KIND__PLAN_UPDATE, NULL, "scale-1", "99990008");
    knoop_route_state_t *copy = NULL;
    assert_int_equal(knoop_route_state_new(f->net, 0, &copy), 0);
    assert_int_equal(knoop_route_state_export(f->st, collect, copy), 0);
    assert_int_equal(knoop_route_state_count(copy), knoop_route_state_count(f->st));
    for (int s = 0; s < (int)knoop_network_member_count(f->net); s++)
        assert_int_equal(knoop_route_state_load(copy, s), knoop_route_state_load(f->st, s));
    assert_true(
        knoop_route_state_is_passed(copy, knoop_network_party(f->net, "99990101"), (const uint8_t *)"rt-sub", 6));
    knoop_route_row_t a, b;
    const knoop_contract_t *h = knoop_network_contract(f->net, "heerlen");
    assert_int_equal(knoop_route_state_row(f->st, KNOOP_ROW_STICKY, h, (const uint8_t *)"scale-1", 7, &a), 0);
    assert_int_equal(knoop_route_state_row(copy, KNOOP_ROW_STICKY, h, (const uint8_t *)"scale-1", 7, &b), 0);
    assert_string_equal(a.party, "99990008");
    assert_string_equal(b.party, a.party);
    assert_string_equal(b.former, a.former);
    assert_true(strlen(a.former) == 8);
    /* A row naming a contract the network no longer has is refused, not guessed. */
    strcpy(a.scope, "gone");
    assert_int_equal(knoop_route_state_import(copy, &a), -ENOENT);
    knoop_route_state_destroy(&copy);
    assert_null(copy);
}

/* From the wire: a native Referral's facts (the client's choice) and the envelope drive the decision. */
static void test_envelope_and_payload_facts(void **state)
{
    fixture_t *f = *state;
    Knoop__Domain__Referral r = KNOOP__DOMAIN__REFERRAL__INIT;
    r.schema_version = 1;
    r.product = "dagbesteding";
    r.preferred_provider = "99990006";
    uint8_t buf[256];
    size_t n = protobuf_c_message_pack(&r.base, buf);
    const knoop_contract_t *heerlen = knoop_network_contract(f->net, "heerlen");
    knoop_domain_facts_t facts;
    char reason[128];
    assert_int_equal(knoop_domain_check(f->net, heerlen, "application/x-protobuf; knoop.domain.Referral", buf, n,
                                        &facts, reason, sizeof reason),
                     0);
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    env.sender = "99980001";
    env.kind = KNOOP__KIND__REFERRAL;
    env.message_type = "knoop.domain.Referral";
    knoop_route_in_t in;
    knoop_route_in_from_envelope(&in, &env, (const uint8_t *)"e-1", 3, &facts);
    assert_int_equal(knoop_route(f->net, f->st, &in, &f->d), 0);
    assert_int_equal(f->d.rule, KNOOP_RULE_WHITE_LABEL_IN);
    assert_string_equal(f->d.member, "99990006");
    assert_ptr_equal(f->d.contract, heerlen);
    /* Without a client reference the same envelope is contract-level: to the cooperative. */
    knoop_route_in_from_envelope(&in, &env, NULL, 0, NULL);
    assert_int_equal(knoop_route(f->net, f->st, &in, &f->d), 0);
    assert_streams(&f->d, 1, "inbox.99990000");
}

/* explain decides like route but leaves the state alone. */
static void test_explain_is_a_dry_run(void **state)
{
    fixture_t *f = *state;
    knoop_route_in_t in = {.sender = "0917",
                           .kind = KNOOP__KIND__REFERRAL,
                           .product = "verslavingszorg",
                           .client_ref = (const uint8_t *)"x-1",
                           .client_ref_len = 3};
    knoop_route_decision_t dry;
    assert_int_equal(knoop_route_explain(f->net, f->st, &in, &dry), 0);
    assert_int_equal(dry.change, KNOOP_CHANGE_ASSIGNED);
    assert_string_equal(dry.member, "99990008");
    assert_int_equal(knoop_route_state_count(f->st), 0);
    assert_int_equal(knoop_route_state_load(f->st, knoop_network_party(f->net, "99990008")->member_slot), 0);
    assert_int_equal(knoop_route(f->net, f->st, &in, &f->d), 0);
    assert_string_equal(f->d.member, dry.member);
    assert_string_equal(f->d.explanation, dry.explanation);
    assert_int_equal(knoop_route_state_count(f->st), 1);
    /* A dry stop says it would release, and does not. */
    in.kind = KNOOP__KIND__STOP;
    assert_int_equal(knoop_route_explain(f->net, f->st, &in, &dry), 0);
    assert_int_equal(dry.change, KNOOP_CHANGE_RELEASED);
    knoop_sticky_t sk;
    assert_int_equal(knoop_route_state_sticky(f->st, knoop_network_contract(f->net, "heerlen"), in.client_ref, 3, &sk),
                     0);
    assert_true(sk.active);
}

/* A reload: the route state moves to the new network by name; rows of a contract that is gone are refused, and a
 * member that left a contract gets no new messages (its client is dispatched anew on the next referral). */
typedef struct rows {
    knoop_route_row_t r[64];
    size_t n;
} rows_t;
static int keep_row(const knoop_route_row_t *row, void *arg)
{
    rows_t *rs = arg;
    if (rs->n == 64)
        return -ENOSPC;
    rs->r[rs->n++] = *row;
    return 0;
}

static void test_reload_carries_the_state_by_name(void **state)
{
    fixture_t *f = *state;
    route(f, "0917", NULL, KNOOP__KIND__REFERRAL, "welzijn", "r-heerlen", NULL);
    const knoop_route_decision_t *d =
        route(f, "0899", NULL, KNOOP__KIND__REFERRAL, "schuldhulpverlening", "r-b1", NULL);
    assert_string_equal(d->member, "99990007");
    d = route(f, "0899", NULL, KNOOP__KIND__REFERRAL, "dagbesteding", "r-b2", NULL);
    assert_string_equal(d->member, "99990006");
    rows_t *rs = calloc(1, sizeof *rs); /* owned here */
    assert_int_equal(knoop_route_state_export(f->st, keep_row, rs), 0);
    assert_int_equal(rs->n, 3);

    /* The new configuration: Heerlen's contract renamed, 99990007 no longer a Brunssum partner. */
    char path[512];
    snprintf(path, sizeof path, "%s/deploy/knoopd.yaml", getenv("KNOOP_SRC") ? getenv("KNOOP_SRC") : ".");
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    char *h = strstr(text, "- name: heerlen\n");
    assert_non_null(h);
    memcpy(h + strlen("- name: "), "heerlex", 7);
    const char *gone = ", \"99990007\"]   # the lump-sum partners";
    char *b = strstr(text, gone);
    assert_non_null(b);
    memmove(b, b + strlen(", \"99990007\""), strlen(b + strlen(", \"99990007\"")) + 1);
    n = strlen(text);
    top_t *top = NULL;
    assert_int_equal(cyaml_load_data((const uint8_t *)text, n, &cyaml_cfg, &top_schema, (cyaml_data_t **)&top, NULL),
                     CYAML_OK);
    knoop_network_t *net2 = NULL;
    knoop_cfg_error_t err;
    int rc = knoop_network_build(top->network, &net2, &err);
    cyaml_free(&cyaml_cfg, &top_schema, top, 0);
    if (rc != 0)
        print_error("%s: %s\n", err.path, err.message);
    assert_int_equal(rc, 0);
    knoop_route_state_t *st2 = NULL;
    assert_int_equal(knoop_route_state_new(net2, 0, &st2), 0);
    size_t refused = 0;
    for (size_t i = 0; i < rs->n; i++)
        refused += knoop_route_state_import(st2, &rs->r[i]) == -ENOENT;
    assert_int_equal(refused, 1); /* the Heerlen row: its contract is gone */
    assert_int_equal(knoop_route_state_count(st2), 2);

    knoop_route_decision_t d2;
    knoop_route_in_t in = {
        .sender = "0899", .kind = KNOOP__KIND__ANSWER, .client_ref = (const uint8_t *)"r-b2", .client_ref_len = 4};
    assert_int_equal(knoop_route(net2, st2, &in, &d2), 0);
    assert_string_equal(d2.member, "99990006"); /* unchanged partner: still sticky */
    in.client_ref = (const uint8_t *)"r-b1";
    assert_int_equal(knoop_route(net2, st2, &in, &d2), 0);
    assert_true(d2.dead_letter); /* its member left the contract */
    in.kind = KNOOP__KIND__REFERRAL;
    assert_int_equal(knoop_route(net2, st2, &in, &d2), 0);
    assert_int_equal(d2.rule, KNOOP_RULE_WHITE_LABEL_IN);
    assert_string_not_equal(d2.member, "99990007");
    knoop_route_row_t row;
    assert_int_equal(knoop_route_state_row(st2, KNOOP_ROW_STICKY, knoop_network_contract(net2, "brunssum"),
                                           (const uint8_t *)"r-b1", 4, &row),
                     0);
    assert_string_equal(row.former, "99990007"); /* history stays */
    knoop_route_state_destroy(&st2);
    knoop_network_destroy(&net2);
    free(rs);
}

/* Alphen: a consortium under a lead contractor, partners under their own AGB, subcontractors per partner. */
static void test_alphen_consortium(void **state)
{
    fixture_t *f = *state;
    const knoop_route_decision_t *d = route(f, "0484", "99990201", KNOOP__KIND__REFERRAL, "welzijn", "a-1", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_LEGACY);
    assert_string_equal(d->contract->name, "tom-in-de-buurt");
    d = route(f, "99980484", "99990203", KNOOP__KIND__REFERRAL, "begeleiding", "a-2", NULL); /* the team, for 0484 */
    assert_int_equal(d->rule, KNOOP_RULE_LEGACY);
    assert_streams(d, 1, "inbox.99990203");
    /* A partner passes its client to its own subcontractor, not to another partner's. */
    d = route(f, "99990203", "99990214", KNOOP__KIND__ASSIGNMENT, NULL, "a-2", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_SUBCONTRACT_PASS);
    assert_dead(route(f, "99990203", "99990211", KNOOP__KIND__ASSIGNMENT, NULL, "a-2", NULL), "may not address");
    d = route(f, "99980484", "99990203", KNOOP__KIND__CHANGE_REQUEST, NULL, "a-2", NULL);
    assert_streams(d, 2, "inbox.99990203", "inbox.99990214");
    /* Partners of one consortium may coordinate directly; the quarterly KPIs go to Alphen. */
    d = route(f, "99990203", "99990201", KNOOP__KIND__OTHER, NULL, NULL, NULL);
    assert_int_equal(d->rule, KNOOP_RULE_INTERNAL);
    d = route(f, "99990201", NULL, KNOOP__KIND__OUTCOME_REPORT, NULL, NULL, NULL);
    assert_int_equal(d->rule, KNOOP_RULE_OUTCOME);
    /* Kaag en Braassem and Nieuwkoop co-finance the consortium: the reports reach their councils too. */
    assert_streams(d, 3, "outcomes.0484", "outcomes.1884", "outcomes.0569");
    assert_string_equal(d->sender_as_seen, "99990201");
    assert_true(knoop_router_may_read(f->net, "99990201", "inbox.99990211"));
    assert_false(knoop_router_may_read(f->net, "99990201", "inbox.99990214"));
}

/* Goeree: fourteen open-house providers, each on its own contract; 4-weekly counts to the municipality. */
static void test_goeree_providers(void **state)
{
    fixture_t *f = *state;
    const knoop_route_decision_t *d = route(f, "1924", "99991307", KNOOP__KIND__ASSIGNMENT, "bg-midden", "g-1", NULL);
    assert_int_equal(d->rule, KNOOP_RULE_LEGACY);
    assert_string_equal(d->contract->name, "goeree-99991307");
    d = route(f, "99991307", "1924", KNOOP__KIND__OUTCOME_REPORT, NULL, NULL, NULL);
    assert_streams(d, 1, "outcomes.1924");
    d = route(f, "99991307", NULL, KNOOP__KIND__OUTCOME_REPORT, NULL, NULL, NULL);
    assert_streams(d, 1, "outcomes.1924");
    /* No white-label here: the municipality names the provider, and providers do not talk to each other. */
    assert_dead(route(f, "1924", NULL, KNOOP__KIND__ASSIGNMENT, NULL, "g-2", NULL), "name the receiver");
    assert_dead(route(f, "99991307", "99991308", KNOOP__KIND__OTHER, NULL, NULL, NULL), "may not address");
}

/* docs/routing.md names every rule the decisions carry. */
static void test_docs_name_every_rule(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/docs/routing.md", getenv("KNOOP_SRC") ? getenv("KNOOP_SRC") : ".");
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char doc[1 << 16];
    doc[fread(doc, 1, sizeof doc - 1, fp)] = '\0';
    fclose(fp);
    for (int r = KNOOP_RULE_WHITE_LABEL_IN; r <= KNOOP_RULE_DEAD_LETTER; r++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "`%s`", knoop_route_rule_name((knoop_route_rule_t)r));
        if (strstr(doc, quoted) == NULL)
            print_error("docs/routing.md does not name rule %s\n", quoted);
        assert_non_null(strstr(doc, quoted));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_white_label_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_preferred_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_code_never_reaches_white_label_financier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_of_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subcontracting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcome_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_may_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dead_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_rows_and_scale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_explain_is_a_dry_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_envelope_and_payload_facts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_carries_the_state_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alphen_consortium, setup_alphen, teardown),
        cmocka_unit_test_setup_teardown(test_goeree_providers, setup_goeree, teardown),
        cmocka_unit_test(test_docs_name_every_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
