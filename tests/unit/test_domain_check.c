/* test_domain_check.c — native payloads checked against the demo network: ZRM scores in and out of range, unknown
 * indicators, periods, value types, referrals, provider changes, retours, and the facts handed to the router. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "route/domain_check.h"

typedef struct top {
    knoop_network_doc_t *network;
} top_t;
static const cyaml_schema_field_t top_fields[] = {
    CYAML_FIELD_IGNORE("daemon", CYAML_FLAG_OPTIONAL),
    CYAML_FIELD_MAPPING_PTR("network", CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL, top_t, network, knoop_network_fields),
    CYAML_FIELD_END};
static const cyaml_schema_value_t top_schema = {CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, top_t, top_fields)};
static const cyaml_config_t cyaml_cfg = {.mem_fn = cyaml_mem, .log_level = CYAML_LOG_ERROR};

static knoop_network_t *net; /* owned by the group setup/teardown */
static char reason[256];

static int group_setup(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/deploy/knoopd.yaml", getenv("KNOOP_SRC") ? getenv("KNOOP_SRC") : ".");
    top_t *top = NULL;
    if (cyaml_load_file(path, &cyaml_cfg, &top_schema, (cyaml_data_t **)&top, NULL) != CYAML_OK)
        return -1;
    int rc = knoop_network_build(top->network, &net, NULL);
    cyaml_free(&cyaml_cfg, &top_schema, top, 0);
    return rc;
}

static int group_teardown(void **state)
{
    (void)state;
    knoop_network_destroy(&net);
    return 0;
}

static const char *zrm[] = {"financien",
                            "werk-opleiding",
                            "tijdsbesteding",
                            "huisvesting",
                            "huiselijke-relaties",
                            "geestelijke-gezondheid",
                            "lichamelijke-gezondheid",
                            "middelengebruik",
                            "basale-adl",
                            "instrumentele-adl",
                            "sociaal-netwerk",
                            "maatschappelijke-participatie",
                            "justitie"};

/* A client-level ZRM report with all 13 domains; the caller may spoil it. Storage is static (one at a time). */
static Knoop__Domain__OutcomeReport *zrm_report(void)
{
    static Knoop__Domain__IndicatorValue vals[13];
    static Knoop__Domain__IndicatorValue *ptrs[13];
    static Knoop__Domain__OutcomeReport r;
    r = (Knoop__Domain__OutcomeReport)KNOOP__DOMAIN__OUTCOME_REPORT__INIT;
    r.schema_version = 1;
    r.level = KNOOP__DOMAIN__OUTCOME_LEVEL__CLIENT;
    r.period_start = "2026-07-01";
    r.period_end = "2026-09-30";
    for (int i = 0; i < 13; i++) {
        vals[i] = (Knoop__Domain__IndicatorValue)KNOOP__DOMAIN__INDICATOR_VALUE__INIT;
        vals[i].indicator = (char *)zrm[i];
        vals[i].value_case = KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_NUMBER;
        vals[i].number = 1 + i % 5;
        ptrs[i] = &vals[i];
    }
    r.n_values = 13;
    r.values = ptrs;
    return &r;
}

static int check_packed(const ProtobufCMessage *m, const char *type, const knoop_contract_t *c,
                        knoop_domain_facts_t *facts)
{
    uint8_t buf[4096];
    size_t n = protobuf_c_message_pack(m, buf);
    char ct[96];
    snprintf(ct, sizeof ct, "application/x-protobuf; %s", type);
    reason[0] = '\0';
    return knoop_domain_check(net, c, ct, buf, n, facts, reason, sizeof reason);
}

static void expect(int rc, int want, const char *part)
{
    if (rc != want || (part && strstr(reason, part) == NULL))
        print_error("rc %d (want %d), reason '%s' (want '%s')\n", rc, want, reason, part ? part : "");
    assert_int_equal(rc, want);
    if (part)
        assert_non_null(strstr(reason, part));
}

static void test_zrm_in_range(void **state)
{
    (void)state;
    const knoop_contract_t *heerlen = knoop_network_contract(net, "heerlen");
    Knoop__Domain__OutcomeReport *r = zrm_report();
    expect(check_packed(&r->base, "knoop.domain.OutcomeReport", heerlen, NULL), 0, NULL);
    r->values[0]->number = 1; /* the scale's edges are inside */
    r->values[1]->number = 5;
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), 0, NULL);
    /* Without a contract from the router, the one the report names is used. */
    r->contract = "heerlen";
    expect(knoop_domain_check_outcome(net, NULL, r, reason, sizeof reason), 0, NULL);
    r->values[2]->number = 9;
    expect(knoop_domain_check_outcome(net, NULL, r, reason, sizeof reason), -EINVAL, "'tijdsbesteding' scored 9");
    /* Before routing, naming nothing: the shape is checked, the values wait for the routed contract. */
    r->contract = "";
    expect(knoop_domain_check_outcome(net, NULL, r, reason, sizeof reason), 0, NULL);
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL, "'tijdsbesteding' scored 9");
    r->period_end = "2026-06-01";
    expect(knoop_domain_check_outcome(net, NULL, r, reason, sizeof reason), -EINVAL, "before it starts");
    r->period_end = "2026-09-30";
    r->indicator_set = "zrm-12";
    expect(knoop_domain_check_outcome(net, NULL, r, reason, sizeof reason), -EINVAL, "unknown indicator set 'zrm-12'");
}

/* Client-level reports and referrals need the envelope's client; contract-level reports must not carry one. */
static void test_client_presence(void **state)
{
    (void)state;
    const knoop_contract_t *heerlen = knoop_network_contract(net, "heerlen");
    Knoop__Domain__OutcomeReport *r = zrm_report();
    knoop_domain_facts_t f;
    expect(check_packed(&r->base, "knoop.domain.OutcomeReport", heerlen, &f), 0, NULL);
    assert_true(f.needs_client);
    expect(knoop_domain_check_client(&f, true, reason, sizeof reason), 0, NULL);
    expect(knoop_domain_check_client(&f, false, reason, sizeof reason), -EINVAL,
           "knoop.domain.OutcomeReport is about one client: the envelope needs client_bsn");
    r->level = KNOOP__DOMAIN__OUTCOME_LEVEL__CONTRACT;
    expect(check_packed(&r->base, "knoop.domain.OutcomeReport", heerlen, &f), 0, NULL);
    expect(knoop_domain_check_client(&f, true, reason, sizeof reason), -EINVAL, "must not carry a client");
    expect(knoop_domain_check_client(&f, false, reason, sizeof reason), 0, NULL);
    Knoop__Domain__Retour m = KNOOP__DOMAIN__RETOUR__INIT;
    m.schema_version = 1;
    m.correlation_id = "abc";
    m.status = KNOOP__DOMAIN__RETOUR_STATUS__ACCEPTED;
    expect(check_packed(&m.base, "knoop.domain.Retour", NULL, &f), 0, NULL);
    expect(knoop_domain_check_client(&f, true, reason, sizeof reason), 0, NULL); /* either way */
    expect(knoop_domain_check_client(&f, false, reason, sizeof reason), 0, NULL);
}

static void test_zrm_out_of_range(void **state)
{
    (void)state;
    const knoop_contract_t *heerlen = knoop_network_contract(net, "heerlen");
    Knoop__Domain__OutcomeReport *r = zrm_report();
    r->values[3]->number = 6;
    expect(check_packed(&r->base, "knoop.domain.OutcomeReport", heerlen, NULL), -EINVAL,
           "indicator 'huisvesting' scored 6, outside its range 1..5");
    r = zrm_report();
    r->values[0]->number = 0;
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL,
           "'financien' scored 0, outside its range 1..5");
    r = zrm_report();
    r->values[0]->value_case = KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_TEXT;
    r->values[0]->text = "goed";
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL,
           "'financien' is a scale and needs a number value, not text");
}

static void test_unknown_indicator(void **state)
{
    (void)state;
    const knoop_contract_t *heerlen = knoop_network_contract(net, "heerlen");
    Knoop__Domain__OutcomeReport *r = zrm_report();
    r->values[12]->indicator = "geluk";
    expect(check_packed(&r->base, "knoop.domain.OutcomeReport", heerlen, NULL), -EINVAL,
           "values[12].indicator: 'geluk' is not in indicator set 'zrm-13'");
    /* Brunssum's indicators are not Heerlen's. */
    r = zrm_report();
    r->values[0]->indicator = "synergie";
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL, "'synergie' is not in");
    r = zrm_report();
    r->values[5]->indicator = "financien";
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL, "'financien' given twice");
}

static void test_outcome_periods_and_contracts(void **state)
{
    (void)state;
    const knoop_contract_t *heerlen = knoop_network_contract(net, "heerlen");
    Knoop__Domain__OutcomeReport *r = zrm_report();
    r->period_end = "2026-06-30";
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL, "ends (2026-06-30) before");
    r->period_end = "2026-02-30";
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL, "'2026-02-30' is not a date");
    r->period_start = "2024-01-01";
    r->period_end = "2026-01-01";
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL, "longer than 400 days");
    r = zrm_report();
    r->n_values = 0;
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL, "no values");
    r = zrm_report();
    r->level = KNOOP__DOMAIN__OUTCOME_LEVEL__OUTCOME_LEVEL_UNSPECIFIED;
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL, "level must be");
    r = zrm_report();
    expect(knoop_domain_check_outcome(net, knoop_network_contract(net, "beek"), r, reason, sizeof reason), -EINVAL,
           "contract 'beek' has no outcome reporting");
    r->contract = "brunssum";
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL,
           "contract: names 'brunssum' but the report travels under contract 'heerlen'");
    r = zrm_report();
    r->indicator_set = "brunssum-7";
    expect(knoop_domain_check_outcome(net, heerlen, r, reason, sizeof reason), -EINVAL, "is not the contract's");
    r = zrm_report();
    r->schema_version = 2;
    expect(check_packed(&r->base, "knoop.domain.OutcomeReport", heerlen, NULL), -ENOTSUP, "schema_version 2");
}

static void test_brunssum_value_types(void **state)
{
    (void)state;
    const knoop_contract_t *b = knoop_network_contract(net, "brunssum");
    /* Brunssum's seven indicators, each a valid value; the report is at contract level, so all seven are required. */
    static const struct {
        const char *name;
        double number;
    } seven[] = {{"synergie", 4},
                 {"vakmanschap", 4},
                 {"bereik", 412},
                 {"prijs", 1830.5},
                 {"klanttevredenheid", 7.8},
                 {"verantwoordelijkheidsladder", 3},
                 {"ondersteuning-netwerk", 64.5}};
    Knoop__Domain__IndicatorValue v[7];
    Knoop__Domain__IndicatorValue *pv[7];
    for (int i = 0; i < 7; i++) {
        v[i] = (Knoop__Domain__IndicatorValue)KNOOP__DOMAIN__INDICATOR_VALUE__INIT;
        v[i].indicator = (char *)seven[i].name;
        v[i].value_case = KNOOP__DOMAIN__INDICATOR_VALUE__VALUE_NUMBER;
        v[i].number = seven[i].number;
        pv[i] = &v[i];
    }
    Knoop__Domain__OutcomeReport r = KNOOP__DOMAIN__OUTCOME_REPORT__INIT;
    r.schema_version = 1;
    r.level = KNOOP__DOMAIN__OUTCOME_LEVEL__CONTRACT;
    r.period_start = "2025-01-01";
    r.period_end = "2025-12-31";
    r.values = pv;
    r.n_values = 7;
    expect(knoop_domain_check_outcome(net, b, &r, reason, sizeof reason), 0, NULL);
    v[2].number = 412.5;
    expect(knoop_domain_check_outcome(net, b, &r, reason, sizeof reason), -EINVAL, "'bereik' is a count; 412.5");
    v[2].number = 412;
    v[6].number = 101;
    expect(knoop_domain_check_outcome(net, b, &r, reason, sizeof reason), -EINVAL,
           "'ondersteuning-netwerk' scored 101, outside its range 0..100");
    v[6].number = 64.5;
    /* Each of the seven left out is refused by name. */
    for (int gone = 0; gone < 7; gone++) {
        Knoop__Domain__IndicatorValue *rest[6];
        for (int i = 0, k = 0; i < 7; i++)
            if (i != gone)
                rest[k++] = &v[i];
        r.values = rest;
        r.n_values = 6;
        char want[128];
        snprintf(want, sizeof want, "indicator '%s' is missing; contract 'brunssum' requires it", seven[gone].name);
        expect(knoop_domain_check_outcome(net, b, &r, reason, sizeof reason), -EINVAL, want);
    }
    /* A client's scores may cover only the domains that concern the client. */
    r.values = pv;
    r.n_values = 2;
    r.level = KNOOP__DOMAIN__OUTCOME_LEVEL__CLIENT;
    expect(knoop_domain_check_outcome(net, b, &r, reason, sizeof reason), 0, NULL);
}

/* The contract's scope: Heerlen pays for neither household help nor taxi nor aids; Brunssum covers household help. */
static void test_scope(void **state)
{
    (void)state;
    const knoop_contract_t *heerlen = knoop_network_contract(net, "heerlen");
    Knoop__Domain__Referral m = KNOOP__DOMAIN__REFERRAL__INIT;
    m.schema_version = 1;
    static const char *out[] = {"huishoudelijke-hulp", "wmo-vervoer", "hulpmiddelen"};
    for (size_t i = 0; i < 3; i++) {
        m.product = (char *)out[i];
        char want[128];
        snprintf(want, sizeof want, "Referral.product: '%s' is not part of contract 'heerlen'", out[i]);
        expect(knoop_domain_check_referral(net, heerlen, &m, reason, sizeof reason), -EINVAL, want);
    }
    m.product = "schuldhulpverlening";
    expect(knoop_domain_check_referral(net, heerlen, &m, reason, sizeof reason), 0, NULL);
    m.product = "huishoudelijke-hulp";
    expect(knoop_domain_check_referral(net, knoop_network_contract(net, "brunssum"), &m, reason, sizeof reason), 0,
           NULL);
    expect(knoop_domain_check_referral(net, NULL, &m, reason, sizeof reason), 0, NULL); /* before routing */
    Knoop__Domain__PlanUpdate p = KNOOP__DOMAIN__PLAN_UPDATE__INIT;
    p.schema_version = 1;
    p.action = KNOOP__DOMAIN__PLAN_ACTION__CHANGED;
    p.product = "wmo-vervoer";
    expect(knoop_domain_check_plan_update(net, heerlen, &p, reason, sizeof reason), -EINVAL,
           "PlanUpdate.product: 'wmo-vervoer' is not part of contract 'heerlen'");
}

static void test_referral(void **state)
{
    (void)state;
    const knoop_contract_t *brunssum = knoop_network_contract(net, "brunssum");
    Knoop__Domain__Referral m = KNOOP__DOMAIN__REFERRAL__INIT;
    m.schema_version = 1;
    m.referral_id = "BT-2026-0042";
    m.product = "huishoudelijke-hulp";
    m.urgency = KNOOP__DOMAIN__URGENCY__SOON;
    m.preferred_provider = "99990005";
    knoop_domain_facts_t f;
    expect(check_packed(&m.base, "knoop.domain.Referral", brunssum, &f), 0, NULL);
    assert_string_equal(f.message, "knoop.domain.Referral");
    assert_string_equal(f.product, "huishoudelijke-hulp");
    assert_string_equal(f.preferred_provider, "99990005");
    assert_string_equal(f.new_provider, "");
    m.product = "tuinonderhoud";
    expect(check_packed(&m.base, "knoop.domain.Referral", brunssum, &f), -EINVAL,
           "product: 'tuinonderhoud' is not a product of this network");
    m.product = "";
    m.preferred_provider = "99990002"; /* a member, but not one of Brunssum's partners */
    expect(knoop_domain_check_referral(net, brunssum, &m, reason, sizeof reason), -EINVAL,
           "preferred_provider: 99990002 does not take part in contract 'brunssum'");
    m.preferred_provider = "";
    m.start_date = "2026-13-01";
    expect(knoop_domain_check_referral(net, brunssum, &m, reason, sizeof reason), -EINVAL, "start_date: '2026-13-01'");
    m.start_date = "";
    char *domains[] = {"financien", "huisvesting"};
    m.domains = domains;
    m.n_domains = 2;
    expect(knoop_domain_check_referral(net, knoop_network_contract(net, "heerlen"), &m, reason, sizeof reason), 0,
           NULL);
    domains[1] = "woonplezier";
    expect(knoop_domain_check_referral(net, knoop_network_contract(net, "heerlen"), &m, reason, sizeof reason), -EINVAL,
           "domains[1]: 'woonplezier' is not in indicator set 'zrm-13'");
}

/* List fields are capped (max_list_items), and decoding may not cost more than a bounded multiple of the payload:
 * a Referral of half a million one-letter domains is refused without being expanded in memory. */
static void test_list_limits(void **state)
{
    (void)state;
    const knoop_contract_t *heerlen = knoop_network_contract(net, "heerlen");
    Knoop__Domain__Referral m = KNOOP__DOMAIN__REFERRAL__INIT;
    m.schema_version = 1;
    m.referral_id = "BT-2026-0043";
    size_t n = 11;
    char **domains = calloc(n, sizeof *domains);
    assert_non_null(domains);
    for (size_t i = 0; i < n; i++)
        domains[i] = "financien";
    m.domains = domains;
    m.n_domains = n;
    uint8_t buf[4096];
    size_t len = protobuf_c_message_pack(&m.base, buf);
    const char *ct = "application/x-protobuf; knoop.domain.Referral";
    reason[0] = '\0';
    expect(knoop_domain_check_bounded(net, heerlen, ct, buf, len, 10, NULL, reason, sizeof reason), -EINVAL,
           "Referral.domains has 11 items; at most 10 are allowed (max_list_items)");
    expect(knoop_domain_check_bounded(net, heerlen, ct, buf, len, 11, NULL, reason, sizeof reason), 0, NULL);
    free(domains);
    /* 1.5 MB of tag + length + one byte: half a million list items would need ~30 MB of structs to decode */
    size_t items = 500000;
    uint8_t *huge = malloc(items * 3);
    assert_non_null(huge);
    for (size_t i = 0; i < items; i++) {
        huge[3 * i] = (8 << 3) | 2; /* field 8 (domains), length-delimited */
        huge[3 * i + 1] = 1;
        huge[3 * i + 2] = 'x';
    }
    reason[0] = '\0';
    expect(knoop_domain_check_bounded(net, heerlen, ct, huge, items * 3, 1000000, NULL, reason, sizeof reason), -EINVAL,
           "too many fields or list items to decode");
    free(huge);
}

static void test_plan_update(void **state)
{
    (void)state;
    const knoop_contract_t *heerlen = knoop_network_contract(net, "heerlen");
    Knoop__Domain__PlanUpdate m = KNOOP__DOMAIN__PLAN_UPDATE__INIT;
    m.schema_version = 1;
    m.plan_id = "P-17";
    m.action = KNOOP__DOMAIN__PLAN_ACTION__PROVIDER_CHANGED;
    m.effective_date = "2026-12-01";
    m.new_provider = "99990006";
    knoop_domain_facts_t f;
    expect(check_packed(&m.base, "knoop.domain.PlanUpdate", heerlen, &f), -EINVAL, "only at the client's request");
    m.at_client_request = 1;
    expect(check_packed(&m.base, "knoop.domain.PlanUpdate", heerlen, &f), 0, NULL);
    assert_string_equal(f.new_provider, "99990006");
    m.new_provider = "99990101"; /* a subcontractor is never dispatched to */
    expect(knoop_domain_check_plan_update(net, heerlen, &m, reason, sizeof reason), -EINVAL,
           "new_provider: 99990101 does not take part");
    m.new_provider = "";
    expect(knoop_domain_check_plan_update(net, heerlen, &m, reason, sizeof reason), -EINVAL,
           "new_provider: required for PROVIDER_CHANGED");
    m.action = KNOOP__DOMAIN__PLAN_ACTION__STOPPED;
    m.effective_date = "";
    expect(knoop_domain_check_plan_update(net, heerlen, &m, reason, sizeof reason), -EINVAL,
           "effective_date: required for STOPPED");
    m.action = KNOOP__DOMAIN__PLAN_ACTION__CREATED;
    expect(check_packed(&m.base, "knoop.domain.PlanUpdate", heerlen, &f), 0, NULL);
    assert_string_equal(f.new_provider, "");
    m.action = 9;
    expect(knoop_domain_check_plan_update(net, heerlen, &m, reason, sizeof reason), -EINVAL, "action: 9");
}

static void test_retour_and_envelope_errors(void **state)
{
    (void)state;
    Knoop__Domain__Retour m = KNOOP__DOMAIN__RETOUR__INIT;
    m.schema_version = 1;
    m.correlation_id = "0f3c2a9e";
    m.status = KNOOP__DOMAIN__RETOUR_STATUS__REJECTED;
    expect(check_packed(&m.base, "knoop.domain.Retour", NULL, NULL), -EINVAL, "at least one code or a reason");
    m.reason = "client moved out of Heerlen";
    expect(check_packed(&m.base, "knoop.domain.Retour", NULL, NULL), 0, NULL);
    m.correlation_id = "";
    expect(check_packed(&m.base, "knoop.domain.Retour", NULL, NULL), -EINVAL, "correlation_id");

    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    expect(knoop_domain_check(net, NULL, "application/x-protobuf; knoop.domain.Referral", junk, sizeof junk, NULL,
                              reason, sizeof reason),
           -EBADMSG, "does not decode as knoop.domain.Referral");
    expect(knoop_domain_check(net, NULL, "application/xml; iwmo-3.2; WMO301", junk, sizeof junk, NULL, reason,
                              sizeof reason),
           -ENOTSUP, "not a knoop.domain message");
    assert_true(knoop_domain_is_native("application/x-protobuf;knoop.domain.OutcomeReport"));
    assert_false(knoop_domain_is_native("application/x-protobuf; knoop.domain.Nothing"));
}

static void test_dates(void **state)
{
    (void)state;
    int32_t d;
    assert_int_equal(knoop_domain_parse_date("1970-01-01", &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(knoop_domain_parse_date("2024-02-29", &d), 0);
    int32_t e;
    assert_int_equal(knoop_domain_parse_date("2024-03-01", &e), 0);
    assert_int_equal(e - d, 1);
    assert_int_equal(knoop_domain_parse_date("2025-02-29", &d), -EINVAL);
    assert_int_equal(knoop_domain_parse_date("1900-02-29", &d), -EINVAL);
    assert_int_equal(knoop_domain_parse_date("2000-02-29", &d), 0);
    assert_int_equal(knoop_domain_parse_date("2026-1-01", &d), -EINVAL);
    assert_int_equal(knoop_domain_parse_date("", &d), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zrm_in_range),
        cmocka_unit_test(test_zrm_out_of_range),
        cmocka_unit_test(test_client_presence),
        cmocka_unit_test(test_unknown_indicator),
        cmocka_unit_test(test_outcome_periods_and_contracts),
        cmocka_unit_test(test_brunssum_value_types),
        cmocka_unit_test(test_referral),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_plan_update),
        cmocka_unit_test(test_list_limits),
        cmocka_unit_test(test_retour_and_envelope_errors),
        cmocka_unit_test(test_dates),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
