/* test_istd_rules.c — level 2: each rule of the table fires on a tampered copy with the right retour code on the
 * right berichtklasse, the retour built from it validates, and docs/xml-adapter.md lists exactly this table. */
#include "istd_test_util.h"

typedef struct seen_log {
    int calls;
    char sender[16], type[16], id[16];
    bool answer;
} seen_log_t;

static bool seen(void *ctx, const char *sender, const char *type, const char *id)
{
    seen_log_t *l = ctx;
    l->calls++;
    snprintf(l->sender, sizeof l->sender, "%s", sender);
    snprintf(l->type, sizeof l->type, "%s", type);
    snprintf(l->id, sizeof l->id, "%s", id);
    return l->answer;
}

static bool known(void *ctx, const char *code)
{
    return strcmp(code, (const char *)ctx) != 0;
}

/* Decode a tampered copy (must still pass level 1), run level 2, return the failures. */
static int check_copy(xmlDoc *doc, const knoop_istd_check_opts_t *o, knoop_istd_msg_t **m, knoop_istd_errors_t *e)
{
    knoop_istd_errors_t l1 = {0};
    int rc = istd_decode_copy(S, doc, m, &l1);
    if (rc != 0) {
        istd_print_errors(&l1);
        fail_msg("tampered copy fails level 1: %d", rc);
    }
    knoop_istd_errors_clear(&l1);
    return knoop_istd_check(*m, o, e);
}

/* The retour of a failed message: validates; returns its Header codes. */
static void retour_codes(knoop_istd_msg_t *m, const knoop_istd_errors_t *e, char *codes, size_t cap)
{
    xmlDoc *r = istd_valid_retour(S, m, e, "R1", "2030-01-01");
    istd_header_codes(r, codes, cap);
    xmlFreeDoc(r);
}

static const knoop_istd_error_t *only_error(const knoop_istd_errors_t *e, const char *rule, const char *code)
{
    assert_int_equal(e->n, 1);
    assert_int_equal(e->v[0].level, KNOOP_ISTD_LEVEL_RULE);
    assert_string_equal(e->v[0].rule, rule);
    assert_string_equal(e->v[0].code, code);
    assert_true(e->v[0].line > 0);
    return &e->v[0];
}

static void test_official_examples_pass_level2(void **state)
{
    (void)state;
    static const char *files[] = {"WMO301", "WMO305", "WMO307", "WMO315", "WMO317", "WMO319", "WMO323"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "iwmo-3.2/examples/%s.xml", files[i]);
        knoop_istd_msg_t *m = istd_decode_conf(S, p);
        seen_log_t log = {0};
        knoop_istd_check_opts_t o = {.today = "2030-01-01", .seen = seen, .seen_ctx = &log};
        knoop_istd_errors_t e = {0};
        assert_int_equal(knoop_istd_check(m, &o, &e), 0);
        assert_int_equal(e.n, 0);
        assert_int_equal(log.calls, 1);
        knoop_istd_msg_destroy(&m);
    }
}

static void test_invalid_bsn(void **state)
{
    (void)state;
    xmlDoc *doc = istd_parse_conf("iwmo-3.2/examples/WMO301.xml");
    istd_set(doc, "Bsn", 0, "999900007"); /* 9 digits, fails the 11-test */
    knoop_istd_msg_t *m = NULL;
    knoop_istd_errors_t e = {0};
    assert_int_equal(check_copy(doc, &(knoop_istd_check_opts_t){0}, &m, &e), 1);
    const knoop_istd_error_t *x = only_error(&e, "KN-BSN", "0001");
    assert_ptr_equal(x->klasse, m->clients[0].node);
    assert_null(strstr(x->message, "999900007"));
    char codes[64];
    retour_codes(m, &e, codes, sizeof codes);
    assert_string_equal(codes, "0001"); /* IV028 level 2: Header only, 0001 */
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(doc);
}

static void test_duplicate_identificatie_via_callback(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO301.xml");
    seen_log_t log = {.answer = true};
    knoop_istd_check_opts_t o = {.seen = seen, .seen_ctx = &log};
    knoop_istd_errors_t e = {0};
    assert_int_equal(knoop_istd_check(m, &o, &e), 1);
    assert_string_equal(log.sender, "0384");
    assert_string_equal(log.type, "WMO301");
    assert_string_equal(log.id, "123456789012");
    const knoop_istd_error_t *x = only_error(&e, "TR056", "9056");
    assert_null(x->klasse); /* the Header */
    char codes[64];
    retour_codes(m, &e, codes, sizeof codes);
    assert_string_equal(codes, "9056");
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    /* a retour's own identity is IdentificatieRetour */
    m = istd_decode_conf(S, "iwmo-3.2/examples-derived/WMO302-accepted.xml");
    log.answer = false;
    assert_int_equal(knoop_istd_check(m, &o, &e), 0);
    assert_string_equal(log.id, "R4150001");
    assert_string_equal(log.type, "WMO302");
    assert_string_equal(log.sender, "42420001"); /* the aanbieder sends the 302 */
    assert_true(knoop_istd_msg_is_retour(m));
    assert_string_equal(knoop_istd_msg_sender(m), "42420001");
    assert_string_equal(knoop_istd_msg_receiver(m), "0384");
    assert_string_equal(knoop_istd_msg_dagtekening(m), "2023-08-14");
    knoop_istd_msg_destroy(&m);
}

static void test_sender_codes(void **state)
{
    (void)state;
    /* a malformed AGB code is caught by the XSD (LDT_AgbCode [0-9]{8}): an error to the sender, no retour */
    xmlDoc *doc = istd_parse_conf("iwmo-3.2/examples/WMO305.xml");
    istd_set(doc, "Afzender", 0, "4242");
    knoop_istd_msg_t *m = NULL;
    knoop_istd_errors_t e = {0};
    assert_int_equal(istd_decode_copy(S, doc, &m, &e), -EBADMSG);
    assert_null(m);
    assert_int_equal(e.v[0].level, KNOOP_ISTD_LEVEL_SCHEMA);
    assert_non_null(strstr(e.v[0].message, "Afzender"));
    assert_true(e.v[0].line > 0);
    knoop_istd_errors_clear(&e);
    xmlFreeDoc(doc);
    /* a gemeente code where the standard puts an AGB code is caught by level 1 too */
    doc = istd_parse_conf("iwmo-3.2/examples/WMO301.xml");
    istd_set(doc, "Ontvanger", 0, "0384");
    assert_int_equal(istd_decode_copy(S, doc, &m, &e), -EBADMSG);
    knoop_istd_errors_clear(&e);
    xmlFreeDoc(doc);
    /* the rule table checks the shape again for messages the daemon assembles itself */
    m = istd_decode_conf(S, "iwmo-3.2/examples/WMO305.xml");
    snprintf(m->afzender, sizeof m->afzender, "0363");
    assert_int_equal(knoop_istd_check(m, &(knoop_istd_check_opts_t){0}, &e), 1);
    only_error(&e, "KN-AFZENDER", "0001");
    char codes[64];
    retour_codes(m, &e, codes, sizeof codes);
    assert_string_equal(codes, "0001");
    knoop_istd_errors_clear(&e);
    snprintf(m->afzender, sizeof m->afzender, "65656055");
    snprintf(m->ontvanger, sizeof m->ontvanger, "12345678");
    assert_int_equal(knoop_istd_check(m, &(knoop_istd_check_opts_t){0}, &e), 1);
    only_error(&e, "KN-ONTVANGER", "0001");
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    /* well-formed but unknown to knoop */
    m = istd_decode_conf(S, "iwmo-3.2/examples/WMO301.xml");
    knoop_istd_check_opts_t o = {.known = known, .known_ctx = (void *)"0384"};
    assert_int_equal(knoop_istd_check(m, &o, &e), 1);
    only_error(&e, "KN-PARTY", "0001");
    retour_codes(m, &e, codes, sizeof codes);
    assert_string_equal(codes, "0001");
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
}

static void test_dagtekening_in_the_future(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO301.xml");
    knoop_istd_errors_t e = {0};
    assert_int_equal(knoop_istd_check(m, &(knoop_istd_check_opts_t){.today = "2023-08-13"}, &e), 0);
    assert_int_equal(knoop_istd_check(m, &(knoop_istd_check_opts_t){.today = "2023-08-12"}, &e), 1);
    only_error(&e, "TR135", "8848");
    char codes[64];
    retour_codes(m, &e, codes, sizeof codes);
    assert_string_equal(codes, "8848");
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
}

static void test_period_order(void **state)
{
    (void)state;
    xmlDoc *doc = istd_parse_conf("iwmo-3.2/examples/WMO307.xml");
    istd_set(doc, "Einddatum", 1, "2025-04-14"); /* second StopProduct began 2025-04-15 */
    knoop_istd_msg_t *m = NULL;
    knoop_istd_errors_t e = {0};
    assert_int_equal(check_copy(doc, &(knoop_istd_check_opts_t){0}, &m, &e), 1);
    const knoop_istd_error_t *x = only_error(&e, "TR018", "0001");
    assert_ptr_equal(x->klasse, m->lines[1].node);
    char codes[64];
    retour_codes(m, &e, codes, sizeof codes);
    assert_string_equal(codes, "0001");
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(doc);
}

static void test_duplicate_lines(void **state)
{
    (void)state;
    xmlDoc *doc = istd_parse_conf("iwmo-3.2/examples/WMO301.xml");
    xmlNode *tp = istd_find(doc, "ToegewezenProduct", 0);
    xmlAddNextSibling(tp, xmlCopyNode(tp, 1));
    istd_set(doc, "Code", 1, "01A02"); /* another product: TR302 stays quiet */
    knoop_istd_msg_t *m = NULL;
    knoop_istd_errors_t e = {0};
    assert_int_equal(check_copy(doc, &(knoop_istd_check_opts_t){0}, &m, &e), 1);
    const knoop_istd_error_t *x = only_error(&e, "TR101", "0001");
    assert_ptr_equal(x->klasse, m->lines[1].node);
    char codes[64];
    retour_codes(m, &e, codes, sizeof codes);
    assert_string_equal(codes, "0001");
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(doc);
    /* 305: the same ToewijzingNummer with another Begindatum is another line */
    doc = istd_parse_conf("iwmo-3.2/examples/WMO305.xml");
    istd_set(doc, "ToewijzingNummer", 1, "300201");
    assert_int_equal(check_copy(doc, &(knoop_istd_check_opts_t){0}, &m, &e), 0);
    knoop_istd_msg_destroy(&m);
    istd_set(doc, "Begindatum", 1, "2025-04-03");
    assert_int_equal(check_copy(doc, &(knoop_istd_check_opts_t){0}, &m, &e), 1);
    only_error(&e, "TR101", "0001");
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    xmlFreeDoc(doc);
}

/* One tampered copy per in-message rule: the rule fires alone, with 0001, and the retour is Header-only. */
static void test_in_message_rules(void **state)
{
    (void)state;
    static const struct {
        const char *file, *el;
        int nth;
        const char *val, *rule;
    } cases[] = {
        {"WMO301", "Datum", 0, "1900-01-02", "TR002"}, /* Geboortedatum 123 years before */
        {"WMO315", "ReferentieAanbieder", 1, "42420001", "TR383"},
        {"WMO323", "Einddatum", 0, "2023-05-07", "TR137"}, /* DeclaratiePeriode ends after the Dagtekening */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char p[128];
        snprintf(p, sizeof p, "iwmo-3.2/examples/%s.xml", cases[i].file);
        xmlDoc *doc = istd_parse_conf(p);
        istd_set(doc, cases[i].el, cases[i].nth, cases[i].val);
        knoop_istd_msg_t *m = NULL;
        knoop_istd_errors_t e = {0};
        int n = check_copy(doc, &(knoop_istd_check_opts_t){0}, &m, &e);
        if (n != 1) {
            istd_print_errors(&e);
            fail_msg("%s: %d failures", cases[i].rule, n);
        }
        only_error(&e, cases[i].rule, "0001");
        char codes[64];
        retour_codes(m, &e, codes, sizeof codes);
        assert_string_equal(codes, "0001");
        knoop_istd_errors_clear(&e);
        knoop_istd_msg_destroy(&m);
        xmlFreeDoc(doc);
    }
    /* an unknown Geboortedatum (1900-01-01, DatumGebruik 3) is allowed */
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO301.xml");
    knoop_istd_errors_t e = {0};
    assert_int_equal(knoop_istd_check(m, NULL, &e), 0);
    knoop_istd_msg_destroy(&m);
}

/* TR352 / TR353: a 317 with only a NieuwProduct names no current product; with only an OngewijzigdProduct it
 * changes nothing. */
/* TR302: the same product twice in a 301 only with periods that do not overlap. */
static void test_overlapping_products(void **state)
{
    (void)state;
    static const struct {
        const char *nr, *code, *begin, *end;
        int want;
    } cases[] = {
        {"102", "01A01", "2023-06-01", "2024-06-30", 1}, /* same product, overlapping */
        {"102", "01A01", "2024-01-01", "2024-06-30", 0}, /* same product, after */
        {"102", "01A02", "2023-06-01", "2024-06-30", 0}, /* another product */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xmlDoc *doc = istd_parse_conf("iwmo-3.2/examples/WMO301.xml");
        xmlNode *tp = istd_find(doc, "ToegewezenProduct", 0);
        xmlAddNextSibling(tp, xmlCopyNode(tp, 1));
        istd_set(doc, "ToewijzingNummer", 1, cases[i].nr);
        istd_set(doc, "Code", 1, cases[i].code);
        istd_set(doc, "Ingangsdatum", 1, cases[i].begin);
        istd_set(doc, "Einddatum", 1, cases[i].end);
        knoop_istd_msg_t *m = NULL;
        knoop_istd_errors_t e = {0};
        assert_int_equal(check_copy(doc, &(knoop_istd_check_opts_t){0}, &m, &e), cases[i].want);
        if (cases[i].want)
            only_error(&e, "TR302", "0001");
        knoop_istd_errors_clear(&e);
        knoop_istd_msg_destroy(&m);
        xmlFreeDoc(doc);
    }
}

static void test_change_request_shape(void **state)
{
    (void)state;
    static const struct {
        const char *remove1, *remove2, *rule;
    } cases[] = {
        {"OngewijzigdeProducten", "TeWijzigenProducten", "TR352"},
        {"TeWijzigenProducten", "NieuweProducten", "TR353"},
    };
    for (size_t i = 0; i < 2; i++) {
        xmlDoc *doc = istd_parse_conf("iwmo-3.2/examples/WMO317.xml");
        xmlNode *a = istd_find(doc, cases[i].remove1, 0), *b = istd_find(doc, cases[i].remove2, 0);
        xmlUnlinkNode(a), xmlFreeNode(a), xmlUnlinkNode(b), xmlFreeNode(b);
        knoop_istd_msg_t *m = NULL;
        knoop_istd_errors_t e = {0};
        assert_int_equal(check_copy(doc, &(knoop_istd_check_opts_t){0}, &m, &e), 1);
        only_error(&e, cases[i].rule, "0001");
        knoop_istd_errors_clear(&e);
        knoop_istd_msg_destroy(&m);
        xmlFreeDoc(doc);
    }
}

/* TR342: every 325 knoop builds explains its difference; a tampered total does not. */
static void test_declaratie_antwoord_sum(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO323.xml");
    static const bool rejected[][4] = {
        /* per Prestatie */
        {0, 0, 0, 0},
        {0, 0, 0, 1},
        {1, 0, 1, 0},
        {1, 1, 1, 1},
    };
    knoop_istd_errors_t e = {0};
    for (size_t i = 0; i < 4; i++) {
        const char *codes[4];
        for (size_t k = 0; k < 4; k++)
            codes[k] = rejected[i][k] ? "9338" : NULL;
        xmlDoc *r = NULL;
        knoop_istd_retour_opts_t o = {.identificatie = "DA1", .dagtekening = "2023-05-07"};
        assert_int_equal(knoop_istd_declaratie_antwoord(S, m, codes, &o, &r), 0);
        knoop_istd_msg_t *a = NULL;
        assert_int_equal(istd_decode_copy(S, r, &a, &e), 0);
        assert_int_equal(knoop_istd_check(a, NULL, &e), 0);
        if (i == 1) {
            istd_set(r, "TotaalBedrag", 1, "34001"); /* TotaalToegekendBedrag */
            knoop_istd_msg_destroy(&a);
            assert_int_equal(istd_decode_copy(S, r, &a, &e), 0);
            assert_int_equal(knoop_istd_check(a, NULL, &e), 1);
            assert_string_equal(e.v[0].rule, "TR342"); /* (a built document has no line numbers) */
            assert_string_equal(e.v[0].code, "0001");
            knoop_istd_errors_clear(&e);
        }
        knoop_istd_msg_destroy(&a);
        xmlFreeDoc(r);
    }
    knoop_istd_msg_destroy(&m);
}

static void test_declaration_amounts_and_periods(void **state)
{
    (void)state;
    struct {
        const char *el;
        int nth;
        const char *val;
        const char *rule, *code;
        int line;
    } cases[] = {
        {"Bedrag", 1, "24001", "TR346", "9346", 1},         /* eurocents: 16 x 1500 */
        {"Einddatum", 2, "2023-05-01", "TR319", "9319", 1}, /* ProductPeriode past the DeclaratiePeriode */
        {"ReferentieNummer", 1, "RN001", "TR314", "8021", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xmlDoc *doc = istd_parse_conf("iwmo-3.2/examples/WMO323.xml");
        istd_set(doc, cases[i].el, cases[i].nth, cases[i].val);
        knoop_istd_msg_t *m = NULL;
        knoop_istd_errors_t e = {0};
        int n = check_copy(doc, &(knoop_istd_check_opts_t){0}, &m, &e);
        if (strcmp(cases[i].code, "9346") == 0) {
            /* the total no longer adds up either: TR358 (0001) makes it a Header-only 325 */
            assert_int_equal(n, 2);
            assert_true(istd_has_code(&e, "9346") && istd_has_code(&e, "0001"));
            char codes[64];
            retour_codes(m, &e, codes, sizeof codes);
            assert_string_equal(codes, "0001");
        } else {
            assert_int_equal(n, 1);
            const knoop_istd_error_t *x = only_error(&e, cases[i].rule, cases[i].code);
            assert_ptr_equal(x->klasse, m->lines[cases[i].line].node);
            xmlDoc *r = istd_valid_retour(S, m, &e, "DA1", "2030-01-01");
            assert_non_null(istd_find(r, "Prestatie", 0));
            assert_null(istd_find(r, "Prestatie", 1)); /* only the rejected one is listed */
            xmlFreeDoc(r);
        }
        knoop_istd_errors_clear(&e);
        knoop_istd_msg_destroy(&m);
        xmlFreeDoc(doc);
    }
}

/* docs/xml-adapter.md carries the rule table between markers; it must list exactly the code's table. */
static void test_docs_list_the_rule_table(void **state)
{
    (void)state;
    char *md = istd_read("docs/xml-adapter.md", NULL);
    char *begin = strstr(md, "<!-- rules:begin -->"), *end = strstr(md, "<!-- rules:end -->");
    assert_non_null(begin);
    assert_non_null(end);
    *end = '\0';
    size_t rows = 0;
    for (char *p = strstr(begin, "\n| `"); p; p = strstr(p + 1, "\n| `"))
        rows++;
    assert_int_equal(rows, knoop_istd_rule_count());
    for (size_t i = 0; i < knoop_istd_rule_count(); i++) {
        const knoop_istd_rule_t *r = knoop_istd_rule_at(i);
        char want[256];
        snprintf(want, sizeof want, "\n| `%s` | %d | %s | %s | %s | %s |", r->id, r->niveau, r->code, r->klasse,
                 r->messages, r->text);
        if (!strstr(begin, want))
            fail_msg("docs/xml-adapter.md lacks the row: %s", want + 1);
    }
    assert_null(knoop_istd_rule_at(knoop_istd_rule_count()));
    free(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_examples_pass_level2),
        cmocka_unit_test(test_invalid_bsn),
        cmocka_unit_test(test_duplicate_identificatie_via_callback),
        cmocka_unit_test(test_sender_codes),
        cmocka_unit_test(test_dagtekening_in_the_future),
        cmocka_unit_test(test_period_order),
        cmocka_unit_test(test_duplicate_lines),
        cmocka_unit_test(test_in_message_rules),
        cmocka_unit_test(test_overlapping_products),
        cmocka_unit_test(test_change_request_shape),
        cmocka_unit_test(test_declaratie_antwoord_sum),
        cmocka_unit_test(test_declaration_amounts_and_periods),
        cmocka_unit_test(test_docs_list_the_rule_table),
    };
    return cmocka_run_group_tests(tests, istd_group_setup, istd_group_teardown);
}
