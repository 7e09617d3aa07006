/* test_istd_whitelabel.c — the white-label rewrite: a member's AGB code leaves knoop only as the cooperative's
 * code (provider-side messages), and what comes back for the cooperative reaches the member under its own code. */
#include "istd_test_util.h"

#define MEMBER "65656055"
#define COOP   "42420099"

static char *encode(xmlDoc *d)
{
    char *xml = NULL;
    assert_int_equal(knoop_istd_encode_doc(d, &xml, NULL), 0);
    return xml;
}

static void test_member_code_appears_nowhere_after_rewrite(void **state)
{
    (void)state;
    static const char *files[] = {"iwmo-3.2/examples/WMO305.xml", "iwmo-3.2/examples/WMO307.xml",
                                  "iwmo-3.2/examples/WMO317.xml", "iwmo-3.2/examples/WMO323.xml",
                                  "iwmo-3.2/examples/WMO319.xml"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        knoop_istd_msg_t *m = istd_decode_conf(S, files[i]);
        char *before = encode(m->doc);
        assert_non_null(strstr(before, MEMBER));
        xmlDoc *out = NULL;
        size_t n = 0;
        assert_int_equal(knoop_istd_whitelabel(m->doc, MEMBER, COOP, &out, &n), 0);
        assert_int_equal(n, 1);
        char *after = encode(out);
        assert_null(strstr(after, MEMBER));
        assert_non_null(strstr(after, COOP));
        knoop_istd_msg_t *again = istd_decode_buf(S, after, strlen(after)); /* still valid */
        assert_true(strcmp(again->afzender, COOP) == 0 || strcmp(again->ontvanger, COOP) == 0);
        /* the original is untouched */
        char *orig = encode(m->doc);
        assert_string_equal(orig, before);
        knoop_istd_msg_destroy(&again);
        free(before), free(after), free(orig);
        xmlFreeDoc(out);
        knoop_istd_msg_destroy(&m);
    }
}

/* Member's 305 goes out as the cooperative; the financier's 306 comes back for the cooperative and is
 * rewritten back for the member. */
static void test_round_trip_through_the_retour(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO305.xml");
    xmlDoc *out = NULL;
    assert_int_equal(knoop_istd_whitelabel(m->doc, MEMBER, COOP, &out, NULL), 0);
    knoop_istd_msg_t *sent = NULL;
    knoop_istd_errors_t e = {0};
    assert_int_equal(knoop_istd_decode_doc(S, out, &sent, &e), 0);
    assert_string_equal(sent->afzender, COOP);
    knoop_istd_retour_opts_t o = {.identificatie = "R4190001", .dagtekening = "2025-05-01"};
    xmlDoc *retour = NULL;
    assert_int_equal(knoop_istd_retour(S, sent, NULL, &o, &retour), 0);
    char *r = encode(retour);
    assert_null(strstr(r, MEMBER));
    xmlDoc *back = NULL;
    size_t n = 0;
    assert_int_equal(knoop_istd_whitelabel(retour, COOP, MEMBER, &back, &n), 0);
    assert_int_equal(n, 1);
    istd_assert_valid(S, back);
    char *b = encode(back);
    assert_null(strstr(b, COOP));
    assert_non_null(strstr(b, MEMBER));
    free(r), free(b);
    xmlFreeDoc(retour);
    xmlFreeDoc(back);
    knoop_istd_msg_destroy(&sent);
    knoop_istd_msg_destroy(&m);
}

static void test_only_provider_code_fields_are_rewritten(void **state)
{
    (void)state;
    /* ReferentieAanbieder 42420002 is a reference, not a provider code: it stays */
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO301.xml");
    xmlDoc *out = NULL;
    size_t n = 9;
    assert_int_equal(knoop_istd_whitelabel(m->doc, "42420002", COOP, &out, &n), 0);
    assert_int_equal(n, 0);
    char *x = encode(out);
    assert_non_null(strstr(x, "<wmo301:ReferentieAanbieder>42420002<"));
    free(x);
    xmlFreeDoc(out);
    /* the gemeente's 301 to the cooperative reaches the member under its own code */
    assert_int_equal(knoop_istd_whitelabel(m->doc, "42420001", MEMBER, &out, &n), 0);
    assert_int_equal(n, 1);
    x = encode(out);
    assert_non_null(strstr(x, "<wmo301:Ontvanger>" MEMBER "<"));
    assert_null(strstr(x, "42420001"));
    free(x);
    xmlFreeDoc(out);
    assert_int_equal(knoop_istd_whitelabel(m->doc, "0384", COOP, &out, &n), -EINVAL); /* not an AGB code */
    assert_null(out);
    knoop_istd_msg_destroy(&m);
}

/* Outbound towards a white-label financier: comments and processing instructions go (also one splitting a code),
 * provider codes and free text name the cooperative, a member code anywhere else makes the rewrite refuse. */
static void test_outbound_strips_and_refuses(void **state)
{
    (void)state;
    static const char *const members[] = {MEMBER, "65656056"};
    static char doc[16384], buf[16384]; /* the example as text, edited in place */
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO305.xml");
    char *xml = encode(m->doc);
    snprintf(doc, sizeof doc, "%s", xml);
    free(xml);
    knoop_istd_msg_destroy(&m);
    /* a comment and a processing instruction naming the member */
    size_t cut = (size_t)(strstr(doc, "<wmo305:Header>") - doc) + strlen("<wmo305:Header>");
    snprintf(buf, sizeof buf, "%.*s<!-- " MEMBER " --><?agb " MEMBER "?>%s", (int)cut, doc, doc + cut);
    m = istd_decode_buf(S, buf, strlen(buf));
    xmlDoc *out = NULL;
    size_t n = 0;
    char where[64];
    assert_int_equal(knoop_istd_whitelabel_out(m->doc, members, 2, COOP, &out, &n, where, sizeof where), 0);
    char *after = encode(out);
    assert_null(strstr(after, MEMBER));
    assert_null(strstr(after, "<!--"));
    assert_null(strstr(after, "<?agb"));
    assert_int_equal(n, 1); /* the Afzender */
    knoop_istd_msg_t *again = istd_decode_buf(S, after, strlen(after));
    assert_string_equal(again->afzender, COOP);
    knoop_istd_msg_destroy(&again);
    free(after);
    xmlFreeDoc(out);
    knoop_istd_msg_destroy(&m);

    /* a 315: Commentaar and ReferentieAanbieder are rewritten, a referrer's name is not */
    m = istd_decode_conf(S, "iwmo-3.2/examples/WMO315.xml");
    xml = encode(m->doc);
    snprintf(doc, sizeof doc, "%s", xml);
    free(xml);
    knoop_istd_msg_destroy(&m);
    size_t at = (size_t)(strstr(doc, "Commentaar client") - doc);
    memcpy(doc + at, "Com 65656056 ent", 16); /* same length: another member's code in free text */
    at = (size_t)(strstr(doc, ">42420001</wmo315:ReferentieAanbieder") - doc);
    memcpy(doc + at + 1, MEMBER, 8);
    m = istd_decode_buf(S, doc, strlen(doc));
    assert_int_equal(knoop_istd_whitelabel_out(m->doc, members, 2, COOP, &out, &n, where, sizeof where), 0);
    after = encode(out);
    assert_null(strstr(after, MEMBER));
    assert_null(strstr(after, "65656056"));
    assert_non_null(strstr(after, "Com " COOP " ent"));
    assert_non_null(strstr(after, ">" COOP "</wmo315:ReferentieAanbieder"));
    free(after);
    xmlFreeDoc(out);
    knoop_istd_msg_destroy(&m);
    at = (size_t)(strstr(doc, "Verwijzer Naam") - doc);
    memcpy(doc + at, "Dr. " MEMBER "xx", 14);
    m = istd_decode_buf(S, doc, strlen(doc));
    assert_int_equal(knoop_istd_whitelabel_out(m->doc, members, 2, COOP, &out, &n, where, sizeof where), -EPERM);
    assert_null(out);
    assert_string_equal(where, "element Naam");
    knoop_istd_msg_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_code_appears_nowhere_after_rewrite),
        cmocka_unit_test(test_round_trip_through_the_retour),
        cmocka_unit_test(test_only_provider_code_fields_are_rewritten),
        cmocka_unit_test(test_outbound_strips_and_refuses),
    };
    return cmocka_run_group_tests(tests, istd_group_setup, istd_group_teardown);
}
