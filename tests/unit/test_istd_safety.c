/* test_istd_safety.c — hostile input: malformed XML, XML bombs, external entities, oversized and deeply nested
 * documents each get a clear error; errors are collected (never printed) and never carry a BSN. */
#include "istd_test_util.h"
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

static int decode(const char *buf, size_t len, const knoop_istd_limits_t *lim, knoop_istd_errors_t *e)
{
    knoop_istd_msg_t *m = NULL;
    int rc = knoop_istd_decode(S, buf, len, lim, &m, e);
    if (rc == 0)
        assert_non_null(m);
    else
        assert_null(m);
    knoop_istd_msg_destroy(&m);
    return rc;
}

static bool any_message_contains(const knoop_istd_errors_t *e, const char *s)
{
    for (size_t i = 0; i < e->n; i++)
        if (strstr(e->v[i].message, s))
            return true;
    return false;
}

static void test_malformed_xml(void **state)
{
    (void)state;
    size_t len;
    char *xml = istd_read_conf("iwmo-3.2/examples/WMO301.xml", &len);
    knoop_istd_errors_t e = {0};
    assert_int_equal(decode(xml, len / 2, NULL, &e), -EBADMSG); /* truncated */
    assert_true(e.n >= 1);
    assert_int_equal(e.v[0].level, KNOOP_ISTD_LEVEL_PARSE);
    assert_true(e.v[0].line > 0);
    knoop_istd_errors_clear(&e);
    assert_int_equal(decode("", 0, NULL, &e), -EBADMSG);
    assert_true(e.n >= 1);
    knoop_istd_errors_clear(&e);
    free(xml);
}

static void test_billion_laughs_is_refused_quickly(void **state)
{
    (void)state;
    const char *bomb =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n"
        "<wmo301:Bericht xmlns:wmo301=\"http://www.istandaarden.nl/iwmo/3_2/wmo301/schema\">&lol9;</wmo301:Bericht>\n";
    knoop_istd_errors_t e = {0};
    clock_t t0 = clock();
    assert_int_equal(decode(bomb, strlen(bomb), NULL, &e), -EBADMSG);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0); /* refused before any expansion */
    assert_true(any_message_contains(&e, "DOCTYPE"));
    assert_int_equal(e.v[0].level, KNOOP_ISTD_LEVEL_PARSE);
    knoop_istd_errors_clear(&e);
}

static void test_external_entity_and_plain_doctype_are_refused(void **state)
{
    (void)state;
    const char *xxe =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
        "<wmo301:Bericht xmlns:wmo301=\"http://www.istandaarden.nl/iwmo/3_2/wmo301/schema\">&x;</wmo301:Bericht>\n";
    knoop_istd_errors_t e = {0};
    assert_int_equal(decode(xxe, strlen(xxe), NULL, &e), -EBADMSG);
    assert_true(any_message_contains(&e, "DOCTYPE"));
    assert_false(any_message_contains(&e, "root:"));
    knoop_istd_errors_clear(&e);
    size_t len;
    char *xml = istd_read_conf("iwmo-3.2/examples/WMO301.xml", &len);
    char *withdt = istd_replace_all(xml, "<wmo301:Bericht ", "<!DOCTYPE wmo301:Bericht>\n<wmo301:Bericht ");
    assert_int_equal(decode(withdt, strlen(withdt), NULL, &e), -EBADMSG);
    assert_true(any_message_contains(&e, "DOCTYPE"));
    knoop_istd_errors_clear(&e);
    free(withdt);
    free(xml);
}

/* A valid 301 padded with comments to about 30 MB. */
static char *padded_301(size_t target, size_t *len)
{
    size_t n;
    char *xml = istd_read_conf("iwmo-3.2/examples/WMO301.xml", &n);
    const char *pad = "<!-- padding padding padding padding padding padding padding padding padding padding -->\n";
    size_t pl = strlen(pad);
    char *end = strstr(xml, "</wmo301:Bericht>");
    assert_non_null(end);
    size_t head = (size_t)(end - xml), reps = target / pl + 1;
    char *out = malloc(n + reps * pl + 1);
    assert_non_null(out);
    memcpy(out, xml, head);
    char *w = out + head;
    for (size_t i = 0; i < reps; i++, w += pl)
        memcpy(w, pad, pl);
    strcpy(w, end);
    *len = (size_t)(w - out) + strlen(end);
    free(xml);
    return out;
}

/* A small message of many tiny nodes: the parser stops at the node limit instead of building the whole tree. */
static void test_node_limit(void **state)
{
    (void)state;
    size_t n;
    char *xml = istd_read_conf("iwmo-3.2/examples/WMO301.xml", &n);
    char *end = strstr(xml, "</wmo301:Bericht>");
    assert_non_null(end);
    const char *pad = "<!---->";
    size_t pl = strlen(pad), reps = 300000, head = (size_t)(end - xml);
    char *big = malloc(n + reps * pl + 1);
    assert_non_null(big);
    memcpy(big, xml, head);
    for (size_t i = 0; i < reps; i++)
        memcpy(big + head + i * pl, pad, pl);
    strcpy(big + head + reps * pl, end);
    size_t len = strlen(big);
    knoop_istd_errors_t e = {0};
    knoop_istd_limits_t lim = {.max_nodes = 100000};
    assert_int_equal(decode(big, len, &lim, &e), -EMSGSIZE);
    assert_true(e.n >= 1); /* the parser may add why it stopped */
    assert_non_null(strstr(e.v[0].message, "more than 100000 XML nodes"));
    knoop_istd_errors_clear(&e);
    /* the default (200,000) refuses it too; a limit above its 300,000 comments lets it through */
    assert_int_equal(decode(big, len, NULL, &e), -EMSGSIZE);
    knoop_istd_errors_clear(&e);
    lim.max_nodes = 400000;
    assert_int_equal(decode(big, len, &lim, &e), 0);
    knoop_istd_errors_clear(&e);
    /* attributes count as nodes too */
    char *attrs = malloc(n + 64 + reps * 8);
    assert_non_null(attrs);
    const char *root = strstr(xml, "<wmo301:Bericht ");
    assert_non_null(root);
    size_t at = (size_t)(root - xml) + strlen("<wmo301:Bericht ");
    memcpy(attrs, xml, at);
    size_t w = at;
    for (size_t i = 0; i < 150000; i++)
        w += (size_t)sprintf(attrs + w, "a%zu=\"\" ", i);
    strcpy(attrs + w, xml + at);
    lim.max_nodes = 100000;
    assert_int_equal(decode(attrs, strlen(attrs), &lim, &e), -EMSGSIZE);
    assert_non_null(strstr(e.v[0].message, "XML nodes"));
    knoop_istd_errors_clear(&e);
    free(attrs);
    free(big);
    free(xml);
}

static void test_size_limit(void **state)
{
    (void)state;
    size_t len;
    char *big = padded_301(30u * 1000 * 1000, &len);
    assert_true(len >= 30u * 1000 * 1000);
    knoop_istd_errors_t e = {0};
    knoop_istd_limits_t small = {.max_bytes = 16u << 20};
    assert_int_equal(decode(big, len, &small, &e), -EMSGSIZE);
    assert_int_equal(e.n, 1);
    assert_non_null(strstr(e.v[0].message, "exceeds the limit"));
    knoop_istd_errors_clear(&e);
    /* under the default 32 MiB the same message is fine: the limit, not the parser, decides (its ~330,000 comments
     * need a node limit above the default) */
    knoop_istd_limits_t roomy = {.max_nodes = 1000000};
    assert_int_equal(decode(big, len, &roomy, &e), 0);
    assert_int_equal(e.n, 0);
    free(big);
    big = padded_301(KNOOP_ISTD_MAX_BYTES_DEFAULT + 10, &len);
    assert_int_equal(decode(big, len, NULL, &e), -EMSGSIZE);
    knoop_istd_errors_clear(&e);
    free(big);
}

static void test_depth_limit(void **state)
{
    (void)state;
    char buf[4096] = "<?xml version=\"1.0\"?>";
    for (int i = 0; i < 40; i++)
        strcat(buf, "<a>");
    for (int i = 0; i < 40; i++)
        strcat(buf, "</a>");
    knoop_istd_errors_t e = {0};
    knoop_istd_limits_t lim = {.max_depth = 32};
    xmlDoc *doc = NULL;
    assert_int_equal(knoop_istd_parse(buf, strlen(buf), &lim, &doc, &e), -EBADMSG);
    assert_null(doc);
    assert_true(any_message_contains(&e, "depth 40 exceeds the limit of 32"));
    knoop_istd_errors_clear(&e);
    lim.max_depth = 40;
    assert_int_equal(knoop_istd_parse(buf, strlen(buf), &lim, &doc, &e), 0);
    xmlFreeDoc(doc);
    /* far deeper than the default: refused, not a crash */
    size_t n = 100000;
    char *deep = malloc(n * 7 + 64);
    assert_non_null(deep);
    char *w = deep;
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "<a>");
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "</a>");
    assert_int_equal(knoop_istd_parse(deep, (size_t)(w - deep), NULL, &doc, &e), -EBADMSG);
    assert_true(e.n >= 1);
    knoop_istd_errors_clear(&e);
    free(deep);
}

static void test_errors_never_carry_a_bsn_and_nothing_is_printed(void **state)
{
    (void)state;
    char *xml = istd_read_conf("iwmo-3.2/examples/WMO301.xml", NULL);
    char *bad = istd_replace_all(xml, "<wmo301:Bsn>999900006</wmo301:Bsn>", "<wmo301:Bsn>1234567890</wmo301:Bsn>");
    fflush(stderr);
    char path[] = "/tmp/istd_stderr_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    knoop_istd_errors_t e = {0};
    int rc = decode(bad, strlen(bad), NULL, &e);
    assert_int_equal(decode("<a><b></a>", 10, NULL, &e), -EBADMSG);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t printed = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    assert_int_equal(rc, -EBADMSG);
    assert_int_equal(printed, 0); /* libxml2 errors went to the list only */
    assert_true(e.n >= 2);
    assert_false(any_message_contains(&e, "1234567890"));
    assert_false(any_message_contains(&e, "999900006"));
    knoop_istd_errors_clear(&e);
    free(bad);
    free(xml);
}

/* Deterministic mutations of real messages: decoding never crashes, and whatever still decodes gets a retour
 * (or 325) that validates. */
static void test_mutations_never_crash_and_retours_stay_valid(void **state)
{
    (void)state;
    static const char *files[] = {"iwmo-3.2/examples/WMO301.xml", "iwmo-3.2/examples/WMO323.xml",
                                  "iwmo-3.2/examples/WMO317.xml"};
    static const char junk[] = "<>&;'\"9A0-/ \x01\xff";
    unsigned seed = 12345;
    size_t decoded = 0, refused = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        char *orig = istd_read_conf(files[f], &len);
        char *buf = malloc(len + 1);
        assert_non_null(buf);
        for (int round = 0; round < 400; round++) {
            memcpy(buf, orig, len + 1);
            int edits = 1 + round % 3;
            for (int k = 0; k < edits; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t pos = (seed >> 8) % len;
                seed = seed * 1103515245u + 12345u;
                char c = junk[(seed >> 8) % (sizeof junk - 1)];
                if (round % 3) {
                    /* mostly: another digit in text content, where a mutation stays well-formed */
                    while (pos < len && !(buf[pos] >= '0' && buf[pos] <= '9' && pos > 0 && buf[pos - 1] == '>'))
                        pos++;
                    if (pos == len)
                        continue;
                    c = (char)('0' + (seed >> 12) % 10);
                }
                buf[pos] = c;
            }
            knoop_istd_errors_t e = {0};
            knoop_istd_msg_t *m = NULL;
            int rc = knoop_istd_decode(S, buf, len, NULL, &m, &e);
            assert_true(rc == 0 || rc == -EBADMSG);
            if (rc == 0) {
                decoded++;
                knoop_istd_check(m, &(knoop_istd_check_opts_t){.today = "2030-01-01"}, &e);
                xmlDoc *r = NULL;
                assert_int_equal(
                    knoop_istd_retour(
                        S, m, &e, &(knoop_istd_retour_opts_t){.identificatie = "R1", .dagtekening = "2030-01-01"}, &r),
                    0);
                istd_assert_valid(S, r);
                xmlFreeDoc(r);
            } else {
                refused++;
                assert_true(e.n >= 1);
            }
            knoop_istd_msg_destroy(&m);
            knoop_istd_errors_clear(&e);
        }
        free(buf);
        free(orig);
    }
    print_message("mutations: %zu decoded, %zu refused\n", decoded, refused);
    assert_true(decoded > 50); /* both paths were exercised */
    assert_true(refused > 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_xml),
        cmocka_unit_test(test_billion_laughs_is_refused_quickly),
        cmocka_unit_test(test_external_entity_and_plain_doctype_are_refused),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_node_limit),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_errors_never_carry_a_bsn_and_nothing_is_printed),
        cmocka_unit_test(test_mutations_never_crash_and_retours_stay_valid),
    };
    return cmocka_run_group_tests(tests, istd_group_setup, istd_group_teardown);
}
