/* test_istd_retour.c — retour generation (IV028) and the 325 (IV087): knoop's answers to the official heen examples
 * equal the derived -accepted / -rejected / 325 examples, and every generated document validates (iWmo and iJw). */
#include "istd_test_util.h"

static const int heen[] = {301, 305, 307, 315, 317, 319};
#define N_HEEN (sizeof heen / sizeof heen[0])

static void heen_path(int n, char *buf, size_t cap)
{
    snprintf(buf, cap, "iwmo-3.2/examples/WMO%d.xml", n);
}
static void derived_path(int n, const char *which, char *buf, size_t cap)
{
    snprintf(buf, cap, "iwmo-3.2/examples-derived/WMO%d-%s.xml", n, which);
}

/* Identity of the retour as the derived example has it: R<code>0001, heen Dagtekening + 1 day. */
static void example_identity(xmlDoc *want, char *id, size_t idcap, char *dag, size_t dagcap)
{
    xmlChar *t = xmlNodeGetContent(istd_find(want, "IdentificatieRetour", 0));
    snprintf(id, idcap, "%s", (const char *)t);
    xmlFree(t);
    t = xmlNodeGetContent(istd_find(want, "DagtekeningRetour", 0));
    snprintf(dag, dagcap, "%s", (const char *)t);
    xmlFree(t);
}

static void test_accepted_retours_equal_the_examples(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_HEEN; i++) {
        char hp[128], dp[128], id[16], dag[11];
        heen_path(heen[i], hp, sizeof hp);
        derived_path(heen[i] + 1, "accepted", dp, sizeof dp);
        knoop_istd_msg_t *m = istd_decode_conf(S, hp);
        xmlDoc *want = istd_parse_conf(dp);
        example_identity(want, id, sizeof id, dag, sizeof dag);
        knoop_istd_errors_t e = {0};
        knoop_istd_check_opts_t o = {.today = "2030-01-01"};
        assert_int_equal(knoop_istd_check(m, &o, &e), 0); /* the official examples pass level 2 */
        xmlDoc *got = istd_valid_retour(S, m, &e, id, dag);
        istd_assert_equiv(got, want, dp);
        char codes[64];
        istd_header_codes(got, codes, sizeof codes);
        assert_string_equal(codes, ""); /* IV028: no RetourCodes at all */
        xmlFreeDoc(got);
        xmlFreeDoc(want);
        knoop_istd_msg_destroy(&m);
    }
}

/* The example's one real code: which element (name, occurrence) carries it. */
static const char *rejected_klasse(xmlDoc *want, char *name, size_t cap, int *nth)
{
    static char code[8];
    for (int k = 0;; k++) {
        xmlNode *rc = istd_find(want, "RetourCode", k);
        if (!rc)
            fail_msg("no real retour code in example");
        xmlChar *t = xmlNodeGetContent(rc);
        snprintf(code, sizeof code, "%s", (const char *)t);
        xmlFree(t);
        if (strcmp(code, "0200") == 0)
            continue;
        xmlNode *klasse = rc->parent->parent;
        snprintf(name, cap, "%s", (const char *)klasse->name);
        *nth = 0;
        for (xmlNode *x; (x = istd_find(want, name, *nth)) != klasse; (*nth)++)
            assert_non_null(x);
        return code;
    }
}

static void test_rejected_retours_equal_the_examples(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_HEEN; i++) {
        char hp[128], dp[128], id[16], dag[11], name[64];
        int nth;
        heen_path(heen[i], hp, sizeof hp);
        derived_path(heen[i] + 1, "rejected", dp, sizeof dp);
        knoop_istd_msg_t *m = istd_decode_conf(S, hp);
        xmlDoc *want = istd_parse_conf(dp);
        example_identity(want, id, sizeof id, dag, sizeof dag);
        const char *code = rejected_klasse(want, name, sizeof name, &nth);
        xmlNode *klasse = istd_find(m->doc, name, nth);
        assert_non_null(klasse);
        knoop_istd_errors_t e = {0};
        knoop_istd_errors_add(&e, KNOOP_ISTD_LEVEL_RULE, code, "TEST", 0, klasse, "level-3 rule %s", code);
        xmlDoc *got = istd_valid_retour(S, m, &e, id, dag);
        istd_assert_equiv(got, want, dp);
        char why[256], ap[128];
        derived_path(heen[i] + 1, "accepted", ap, sizeof ap);
        xmlDoc *accepted = istd_parse_conf(ap); /* the comparison itself discriminates */
        assert_non_null(istd_equiv_nodes(xmlDocGetRootElement(got), xmlDocGetRootElement(accepted), why, sizeof why));
        xmlFreeDoc(accepted);
        char codes[64];
        istd_header_codes(got, codes, sizeof codes);
        assert_string_equal(codes, "0200");
        knoop_istd_errors_clear(&e);
        xmlFreeDoc(got);
        xmlFreeDoc(want);
        knoop_istd_msg_destroy(&m);
    }
}

static void test_header_failure_gives_header_only_retour(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO305.xml");
    knoop_istd_errors_t e = {0};
    knoop_istd_errors_add(&e, KNOOP_ISTD_LEVEL_RULE, "9056", "TR056", 0, NULL, "duplicate");
    xmlDoc *got = istd_valid_retour(S, m, &e, "R4190001", "2025-05-01");
    char codes[64];
    istd_header_codes(got, codes, sizeof codes);
    assert_string_equal(codes, "9056");
    assert_null(istd_find(got, "Client", 0));
    xmlFreeDoc(got);
    knoop_istd_errors_clear(&e);
    /* a level-2 (within the message) failure anywhere: Header only with 0001, whatever else failed */
    knoop_istd_errors_add(&e, KNOOP_ISTD_LEVEL_RULE, "9019", "TR019", 0, istd_find(m->doc, "StartProduct", 0), "x");
    knoop_istd_errors_add(&e, KNOOP_ISTD_LEVEL_RULE, "0001", "KN-BSN", 0, istd_find(m->doc, "Client", 0), "bsn");
    got = istd_valid_retour(S, m, &e, "R4190001", "2025-05-01");
    istd_header_codes(got, codes, sizeof codes);
    assert_string_equal(codes, "0001");
    assert_null(istd_find(got, "Client", 0));
    xmlNode *x = istd_find(got, "XsltVersie", 0);
    assert_non_null(x); /* IV033: XsltVersie when XSLT-level checks reject */
    xmlFreeDoc(got);
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
}

static void test_325_equals_the_examples(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO323.xml");
    knoop_istd_retour_opts_t o = {.identificatie = "DA4850001", .dagtekening = "2023-05-07"};
    const char *all_granted[4] = {NULL, NULL, NULL, NULL};
    xmlDoc *got = NULL;
    assert_int_equal(knoop_istd_declaratie_antwoord(S, m, all_granted, &o, &got), 0);
    istd_assert_valid(S, got);
    xmlDoc *want = istd_parse_conf("iwmo-3.2/examples-derived/WMO325-accepted.xml");
    istd_assert_equiv(got, want, "WMO325-accepted");
    xmlFreeDoc(got);
    xmlFreeDoc(want);

    assert_string_equal(m->lines[3].referentie, "RN004");
    const char *one_rejected[4] = {NULL, NULL, NULL, "9321"};
    assert_int_equal(knoop_istd_declaratie_antwoord(S, m, one_rejected, &o, &got), 0);
    istd_assert_valid(S, got);
    want = istd_parse_conf("iwmo-3.2/examples-derived/WMO325-partially-rejected.xml");
    istd_assert_equiv(got, want, "WMO325-partially-rejected");
    xmlFreeDoc(got);

    /* the same through knoop_istd_retour from a level-3 error on that Prestatie */
    knoop_istd_errors_t e = {0};
    knoop_istd_errors_add(&e, KNOOP_ISTD_LEVEL_RULE, "9321", "TR321", 0, m->lines[3].node, "volume");
    got = istd_valid_retour(S, m, &e, "DA4850001", "2023-05-07");
    istd_assert_equiv(got, want, "325 from errors");
    xmlFreeDoc(got);
    xmlFreeDoc(want);
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
}

static void test_325_credit_and_all_rejected(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO323.xml");
    knoop_istd_retour_opts_t o = {.identificatie = "DA1", .dagtekening = "2023-05-07"};
    const char *all[4] = {"9338", "9338", "9307", "9308"};
    xmlDoc *got = NULL;
    assert_int_equal(knoop_istd_declaratie_antwoord(S, m, all, &o, &got), 0);
    istd_assert_valid(S, got);
    xmlNode *toegekend = istd_find(got, "TotaalToegekendBedrag", 0);
    assert_non_null(toegekend);
    char total[32], dc[8];
    xmlChar *t = xmlNodeGetContent(istd_nth(toegekend->children, "TotaalBedrag", &(int){0}));
    istd_trim(t, total, sizeof total);
    xmlFree(t);
    t = xmlNodeGetContent(istd_nth(toegekend->children, "DebetCredit", &(int){0}));
    istd_trim(t, dc, sizeof dc);
    xmlFree(t);
    assert_string_equal(total, "0"); /* nothing granted */
    assert_string_equal(dc, "D");
    assert_non_null(istd_find(got, "Client", 1)); /* both clients listed */
    assert_non_null(istd_find(got, "Prestatie", 3));
    assert_null(istd_find(got, "Prestatie", 4));
    xmlFreeDoc(got);
    knoop_istd_msg_destroy(&m);
}

/* iJw: every heen type's retour (accepted and rejected on its first berichtklasse) and the 325 validate. */
static void test_ijw_retours_validate(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_HEEN + 1; i++) {
        int n = i < N_HEEN ? heen[i] : 323;
        char hp[128];
        heen_path(n, hp, sizeof hp);
        char *wmo = istd_read_conf(hp, NULL);
        char *jw = istd_to_ijw(wmo, n);
        knoop_istd_msg_t *m = istd_decode_buf(S, jw, strlen(jw));
        assert_int_equal(m->type->standard, KNOOP_ISTD_IJW);
        knoop_istd_errors_t e = {0};
        xmlDoc *got = istd_valid_retour(S, m, &e, "R1", "2030-01-01");
        const knoop_istd_type_t *a = knoop_istd_type_by_ns((const char *)xmlDocGetRootElement(got)->ns->href);
        assert_int_equal(a->standard, KNOOP_ISTD_IJW);
        assert_int_equal(a->number, m->type->answer);
        const char *xb, *xm; /* IV034: the answer's own XSD versions */
        assert_int_equal(knoop_istd_xsd_versie(S, a, &xb, &xm), 0);
        assert_string_equal(xm, "0.1.0"); /* as the iJw 3.2 appinfo states it */
        xmlNode *v = istd_find(got, n == 323 ? "XsdVersie" : "XsdVersieRetour", 0);
        assert_non_null(v);
        xmlChar *t = xmlNodeGetContent(istd_nth(v->children, "BerichtXsdVersie", &(int){0}));
        assert_string_equal((const char *)t, xm);
        xmlFree(t);
        xmlFreeDoc(got);
        const xmlNode *line = m->n_lines ? m->lines[0].node : istd_find(m->doc, "Antwoord", 0);
        if (!line)
            line = istd_find(m->doc, "Client", 0);
        assert_non_null(line);
        knoop_istd_errors_add(&e, KNOOP_ISTD_LEVEL_RULE, "9056", "TEST", 0, line, "x");
        got = istd_valid_retour(S, m, &e, "R2", "2030-01-01");
        char codes[64];
        istd_header_codes(got, codes, sizeof codes);
        assert_string_equal(codes, "0200");
        xmlFreeDoc(got);
        knoop_istd_errors_clear(&e);
        knoop_istd_msg_destroy(&m);
        free(wmo);
        free(jw);
    }
}

/* The berichtklassen are read from the retour XSDs (the elements whose type ends in RetourCodes). */
static void test_berichtklassen_from_the_xsds(void **state)
{
    (void)state;
    static const struct {
        int number;
        const char *yes, *no;
    } k[] = {
        {302, "Header Client Relatie Contact ToegewezenProduct",
         "Bsn Relaties ToegewezenProducten Product RetourCodes"},
        {306, "Header Client StartProduct", "StartProducten"},
        {308, "Header Client StopProduct", "StopProducten"},
        {316, "Header Client AangevraagdProduct", "AangevraagdeProducten"},
        {318, "Header Client Verzoek OngewijzigdProduct TeWijzigenProduct NieuwProduct", "NieuweProducten"},
        {320, "Header Antwoord", "Client"},
        {325, "Header DeclaratieAntwoord Client Prestatie", "Clienten Prestaties"},
    };
    for (int std = KNOOP_ISTD_IWMO; std <= KNOOP_ISTD_IJW; std++)
        for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
            const knoop_istd_type_t *t = knoop_istd_type_find((knoop_istd_standard_t)std, k[i].number);
            char buf[128];
            for (int pass = 0; pass < 2; pass++) {
                snprintf(buf, sizeof buf, "%s", pass ? k[i].no : k[i].yes);
                for (char *w = strtok(buf, " "); w; w = strtok(NULL, " "))
                    if (knoop_istd_is_klasse(S, t, w) != !pass)
                        fail_msg("%s: %s %s a berichtklasse", t->name, w, pass ? "is" : "is not");
            }
        }
}

/* Prefixes are the sender's choice: a heen message in the default namespace gets a valid retour too. */
static void test_default_namespace_heen(void **state)
{
    (void)state;
    char *xml = istd_read_conf("iwmo-3.2/examples/WMO305.xml", NULL);
    char *a = istd_replace_all(xml, "xmlns:wmo305=", "xmlns=");
    char *b = istd_replace_all(a, "wmo305:", "");
    knoop_istd_msg_t *m = istd_decode_buf(S, b, strlen(b));
    knoop_istd_errors_t e = {0};
    knoop_istd_errors_add(&e, KNOOP_ISTD_LEVEL_RULE, "9019", "TR019", 0, m->lines[0].node, "x");
    xmlDoc *got = istd_valid_retour(S, m, &e, "R4190001", "2025-04-06");
    xmlDoc *want = istd_parse_conf("iwmo-3.2/examples-derived/WMO306-rejected.xml");
    char why[256];
    /* same structure as the derived example apart from the code on the first StartProduct */
    assert_non_null(istd_equiv_nodes(xmlDocGetRootElement(got), xmlDocGetRootElement(want), why, sizeof why));
    if (!strstr(why, "9019"))
        fail_msg("unexpected difference: %s", why);
    xmlFreeDoc(want);
    xmlFreeDoc(got);
    knoop_istd_errors_clear(&e);
    knoop_istd_msg_destroy(&m);
    free(xml), free(a), free(b);
}

static void test_no_retour_for_a_retour(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples-derived/WMO302-accepted.xml");
    knoop_istd_retour_opts_t o = {.identificatie = "X", .dagtekening = "2023-01-01"};
    xmlDoc *got = NULL;
    assert_int_equal(knoop_istd_retour(S, m, NULL, &o, &got), -EINVAL);
    assert_null(got);
    knoop_istd_msg_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_retours_equal_the_examples),
        cmocka_unit_test(test_rejected_retours_equal_the_examples),
        cmocka_unit_test(test_header_failure_gives_header_only_retour),
        cmocka_unit_test(test_325_equals_the_examples),
        cmocka_unit_test(test_325_credit_and_all_rejected),
        cmocka_unit_test(test_ijw_retours_validate),
        cmocka_unit_test(test_berichtklassen_from_the_xsds),
        cmocka_unit_test(test_default_namespace_heen),
        cmocka_unit_test(test_no_retour_for_a_retour),
    };
    return cmocka_run_group_tests(tests, istd_group_setup, istd_group_teardown);
}
