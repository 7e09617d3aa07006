/* test_istd_decode.c — decoding and round trip: every official and derived iWmo 3.2 example validates, decodes to
 * the right fields and re-encodes to an equivalent valid document; iJw 3.2 messages of all 14 types do too. */
#include "istd_test_util.h"
#include <pthread.h>

static const struct {
    const char *file;
    int kind;
    const char *type;
} examples[] = {
    {"iwmo-3.2/examples/WMO301.xml", 2, "WMO301"},
    {"iwmo-3.2/examples/WMO305.xml", 3, "WMO305"},
    {"iwmo-3.2/examples/WMO307.xml", 4, "WMO307"},
    {"iwmo-3.2/examples/WMO315.xml", 5, "WMO315"},
    {"iwmo-3.2/examples/WMO317.xml", 6, "WMO317"},
    {"iwmo-3.2/examples/WMO319.xml", 7, "WMO319"},
    {"iwmo-3.2/examples/WMO323.xml", 8, "WMO323"},
    {"iwmo-3.2/examples-derived/WMO302-accepted.xml", 10, "WMO302"},
    {"iwmo-3.2/examples-derived/WMO302-rejected.xml", 10, "WMO302"},
    {"iwmo-3.2/examples-derived/WMO306-accepted.xml", 10, "WMO306"},
    {"iwmo-3.2/examples-derived/WMO306-rejected.xml", 10, "WMO306"},
    {"iwmo-3.2/examples-derived/WMO308-accepted.xml", 10, "WMO308"},
    {"iwmo-3.2/examples-derived/WMO308-rejected.xml", 10, "WMO308"},
    {"iwmo-3.2/examples-derived/WMO316-accepted.xml", 10, "WMO316"},
    {"iwmo-3.2/examples-derived/WMO316-rejected.xml", 10, "WMO316"},
    {"iwmo-3.2/examples-derived/WMO318-accepted.xml", 10, "WMO318"},
    {"iwmo-3.2/examples-derived/WMO318-rejected.xml", 10, "WMO318"},
    {"iwmo-3.2/examples-derived/WMO320-accepted.xml", 10, "WMO320"},
    {"iwmo-3.2/examples-derived/WMO320-rejected.xml", 10, "WMO320"},
    {"iwmo-3.2/examples-derived/WMO325-accepted.xml", 9, "WMO325"},
    {"iwmo-3.2/examples-derived/WMO325-partially-rejected.xml", 9, "WMO325"},
};
#define N_EXAMPLES (sizeof examples / sizeof examples[0])

/* Decode, encode, decode again: the same message, still valid. */
static void roundtrip(knoop_istd_msg_t *m, const char *what)
{
    char *xml = NULL;
    size_t len = 0;
    assert_int_equal(knoop_istd_encode(m, &xml, &len), 0);
    assert_true(len > 0);
    knoop_istd_msg_t *again = istd_decode_buf(S, xml, len); /* decode validates (level 1) */
    istd_assert_equiv(again->doc, m->doc, what);
    assert_ptr_equal(again->type, m->type);
    assert_string_equal(again->identificatie, m->identificatie);
    assert_int_equal(again->n_lines, m->n_lines);
    assert_int_equal(again->n_clients, m->n_clients);
    knoop_istd_msg_destroy(&again);
    free(xml);
}

static void test_every_example_validates_and_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_EXAMPLES; i++) {
        knoop_istd_msg_t *m = istd_decode_conf(S, examples[i].file);
        assert_string_equal(m->type->name, examples[i].type);
        assert_int_equal(m->type->kind, examples[i].kind);
        assert_string_equal(m->berichtcode, m->type->berichtcode);
        assert_true(strlen(m->identificatie) >= 1 && strlen(m->identificatie) <= 12);
        roundtrip(m, examples[i].file);
        /* the original file and the decoded document are the same message */
        xmlDoc *orig = istd_parse_conf(examples[i].file);
        istd_assert_equiv(m->doc, orig, examples[i].file);
        xmlFreeDoc(orig);
        knoop_istd_msg_destroy(&m);
        assert_null(m);
    }
}

static void test_301_header_clients_and_lines(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO301.xml");
    assert_int_equal(m->type->standard, KNOOP_ISTD_IWMO);
    assert_string_equal(m->berichtcode, "414");
    assert_string_equal(m->versie, "3");
    assert_string_equal(m->subversie, "2");
    assert_string_equal(m->afzender, "0384");
    assert_string_equal(m->ontvanger, "42420001");
    assert_string_equal(m->identificatie, "123456789012");
    assert_string_equal(m->dagtekening, "2023-08-13");
    assert_string_equal(m->identificatie_retour, "");
    assert_int_equal(m->n_clients, 1);
    assert_string_equal(m->clients[0].bsn, "999900006");
    assert_int_equal(m->n_lines, 1);
    const knoop_istd_line_t *l = &m->lines[0];
    assert_int_equal(l->client, 0);
    assert_string_equal(l->toewijzing, "101");
    assert_string_equal(l->categorie, "01");
    assert_string_equal(l->code, "01A01");
    assert_string_equal(l->begin, "2023-01-01");
    assert_string_equal(l->end, "2023-12-31");
    assert_int_equal(l->volume, 10);
    assert_string_equal(l->eenheid, "01");
    assert_string_equal(l->frequentie, "1");
    assert_true(l->lineno > 0);
    knoop_istd_msg_destroy(&m);
}

static void test_305_307_323_lines(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples/WMO305.xml");
    assert_int_equal(m->n_lines, 2);
    assert_string_equal(m->lines[1].toewijzing, "300202");
    assert_string_equal(m->lines[1].begin, "2025-04-04");
    assert_string_equal(m->lines[1].end, "");
    knoop_istd_msg_destroy(&m);
    m = istd_decode_conf(S, "iwmo-3.2/examples/WMO307.xml");
    assert_int_equal(m->n_lines, 2);
    assert_string_equal(m->lines[0].end, "2025-07-18");
    knoop_istd_msg_destroy(&m);
    m = istd_decode_conf(S, "iwmo-3.2/examples/WMO323.xml");
    assert_int_equal(m->n_clients, 2);
    assert_int_equal(m->n_lines, 4);
    assert_int_equal(m->lines[3].client, 1);
    assert_string_equal(m->lines[3].toewijzing, "20073");
    assert_string_equal(m->lines[3].referentie, "RN004");
    assert_string_equal(m->lines[3].code, "01A04");
    assert_int_equal(m->lines[3].bedrag, 24000);
    assert_int_equal(m->lines[3].tarief, 1500);
    assert_int_equal(m->lines[3].volume, 16);
    knoop_istd_msg_destroy(&m);
}

static void test_retour_and_325_identities(void **state)
{
    (void)state;
    knoop_istd_msg_t *m = istd_decode_conf(S, "iwmo-3.2/examples-derived/WMO302-accepted.xml");
    assert_string_equal(m->identificatie, "123456789012"); /* the heen message's */
    assert_string_equal(m->identificatie_retour, "R4150001");
    assert_string_equal(m->dagtekening_retour, "2023-08-14");
    knoop_istd_msg_destroy(&m);
    m = istd_decode_conf(S, "iwmo-3.2/examples-derived/WMO325-accepted.xml");
    assert_string_equal(m->identificatie, "DA4850001");
    assert_string_equal(m->identificatie_retour, "765432198"); /* DeclaratieIdentificatie */
    knoop_istd_msg_destroy(&m);
}

static void test_ijw_every_message_type_validates(void **state)
{
    (void)state;
    static const struct {
        int number;
        const char *file;
    } src[] = {
        {301, "iwmo-3.2/examples/WMO301.xml"}, {302, "iwmo-3.2/examples-derived/WMO302-rejected.xml"},
        {305, "iwmo-3.2/examples/WMO305.xml"}, {306, "iwmo-3.2/examples-derived/WMO306-rejected.xml"},
        {307, "iwmo-3.2/examples/WMO307.xml"}, {308, "iwmo-3.2/examples-derived/WMO308-rejected.xml"},
        {315, "iwmo-3.2/examples/WMO315.xml"}, {316, "iwmo-3.2/examples-derived/WMO316-rejected.xml"},
        {317, "iwmo-3.2/examples/WMO317.xml"}, {318, "iwmo-3.2/examples-derived/WMO318-rejected.xml"},
        {319, "iwmo-3.2/examples/WMO319.xml"}, {320, "iwmo-3.2/examples-derived/WMO320-rejected.xml"},
        {323, "iwmo-3.2/examples/WMO323.xml"}, {325, "iwmo-3.2/examples-derived/WMO325-partially-rejected.xml"},
    };
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
        char *wmo = istd_read_conf(src[i].file, NULL);
        char *jw = istd_to_ijw(wmo, src[i].number);
        knoop_istd_errors_t e = {0};
        knoop_istd_msg_t *m = NULL;
        int rc = knoop_istd_decode(S, jw, strlen(jw), NULL, &m, &e);
        if (rc != 0) {
            istd_print_errors(&e);
            fail_msg("JW%d derived from %s: %d", src[i].number, src[i].file, rc);
        }
        assert_int_equal(m->type->standard, KNOOP_ISTD_IJW);
        assert_int_equal(m->type->number, src[i].number);
        assert_int_equal(m->type->kind, knoop_istd_type_find(KNOOP_ISTD_IWMO, src[i].number)->kind);
        roundtrip(m, m->type->name);
        knoop_istd_msg_destroy(&m);
        knoop_istd_errors_clear(&e);
        free(wmo);
        free(jw);
    }
}

static void test_unknown_message_is_a_level1_error(void **state)
{
    (void)state;
    const char *xml = "<?xml version=\"1.0\"?><x:Bericht xmlns:x=\"urn:not-istd\"><x:Header/></x:Bericht>";
    knoop_istd_errors_t e = {0};
    knoop_istd_msg_t *m = NULL;
    assert_int_equal(knoop_istd_decode(S, xml, strlen(xml), NULL, &m, &e), -EBADMSG);
    assert_null(m);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.v[0].level, KNOOP_ISTD_LEVEL_SCHEMA);
    assert_non_null(strstr(e.v[0].message, "urn:not-istd"));
    knoop_istd_errors_clear(&e);
}

static void test_schema_errors_are_all_collected_with_lines(void **state)
{
    (void)state;
    char *xml = istd_read_conf("iwmo-3.2/examples/WMO301.xml", NULL);
    char *a = istd_replace_all(xml, "<wmo301:Geslacht>1</wmo301:Geslacht>", "<wmo301:Geslacht>X</wmo301:Geslacht>");
    char *b = istd_replace_all(a, "<iwmo:Volume>10</iwmo:Volume>", "<iwmo:Volume>ten</iwmo:Volume>");
    knoop_istd_errors_t e = {0};
    knoop_istd_msg_t *m = NULL;
    assert_int_equal(knoop_istd_decode(S, b, strlen(b), NULL, &m, &e), -EBADMSG);
    assert_null(m);
    assert_true(knoop_istd_errors_count(&e, KNOOP_ISTD_LEVEL_SCHEMA) >= 2);
    bool geslacht = false, volume = false;
    for (size_t i = 0; i < e.n; i++) {
        assert_int_equal(e.v[i].level, KNOOP_ISTD_LEVEL_SCHEMA);
        assert_true(e.v[i].line > 0);
        if (strstr(e.v[i].message, "Geslacht"))
            geslacht = true;
        if (strstr(e.v[i].message, "Volume"))
            volume = true;
    }
    assert_true(geslacht && volume);
    knoop_istd_errors_clear(&e);
    free(xml), free(a), free(b);
}

static void test_type_table(void **state)
{
    (void)state;
    size_t n;
    const knoop_istd_type_t *t = knoop_istd_types(&n);
    assert_int_equal(n, 28);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(knoop_istd_type_by_ns(t[i].ns), &t[i]);
        assert_ptr_equal(knoop_istd_type_find(t[i].standard, t[i].number), &t[i]);
        if (t[i].answer)
            assert_non_null(knoop_istd_type_find(t[i].standard, t[i].answer));
    }
    assert_string_equal(knoop_istd_type_find(KNOOP_ISTD_IJW, 323)->berichtcode, "490");
    char ct[64];
    assert_int_equal(knoop_istd_content_type(knoop_istd_type_find(KNOOP_ISTD_IWMO, 301), ct, sizeof ct), 0);
    assert_string_equal(ct, "application/xml; iwmo-3.2; WMO301"); /* as DESIGN.md names it */
    assert_int_equal(knoop_istd_content_type(knoop_istd_type_find(KNOOP_ISTD_IJW, 325), ct, sizeof ct), 0);
    assert_string_equal(ct, "application/xml; ijw-3.2; JW325");
    assert_int_equal(knoop_istd_content_type(t, ct, 8), -ENOSPC);
    assert_string_equal(knoop_istd_type_find(KNOOP_ISTD_IWMO, 325)->berichtcode, "485");
}

/* One schema set, read-only, shared by several threads each with its own validation contexts. */
typedef struct worker {
    char *xml;
    size_t len;
    int ok;
} worker_t;

static void *work(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < 40; i++) {
        knoop_istd_errors_t e = {0};
        knoop_istd_msg_t *m = NULL;
        if (knoop_istd_decode(S, w->xml, w->len, NULL, &m, &e) == 0 && e.n == 0 && m->n_lines > 0)
            w->ok++;
        knoop_istd_msg_destroy(&m);
        knoop_istd_errors_clear(&e);
    }
    return NULL;
}

static void test_schema_set_is_shared_between_threads(void **state)
{
    (void)state;
    static const char *files[] = {"iwmo-3.2/examples/WMO301.xml", "iwmo-3.2/examples/WMO323.xml",
                                  "iwmo-3.2/examples/WMO305.xml", "iwmo-3.2/examples-derived/WMO302-rejected.xml"};
    pthread_t th[4];
    worker_t w[4];
    for (int i = 0; i < 4; i++) {
        size_t len;
        char *xml = istd_read_conf(files[i], &len);
        w[i] = (worker_t){.xml = xml, .len = len};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].ok, 40);
        free(w[i].xml);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_table),
        cmocka_unit_test(test_every_example_validates_and_round_trips),
        cmocka_unit_test(test_301_header_clients_and_lines),
        cmocka_unit_test(test_305_307_323_lines),
        cmocka_unit_test(test_retour_and_325_identities),
        cmocka_unit_test(test_ijw_every_message_type_validates),
        cmocka_unit_test(test_unknown_message_is_a_level1_error),
        cmocka_unit_test(test_schema_errors_are_all_collected_with_lines),
        cmocka_unit_test(test_schema_set_is_shared_between_threads),
    };
    return cmocka_run_group_tests(tests, istd_group_setup, istd_group_teardown);
}
