/* test_istd_tool.c — the knoop-xml tool as integrators use it: validate (exit status, levels, codes, lines),
 * retour (a valid retour on stdout) and show (decoded fields, BSNs masked). Runs $KNOOP_BUILD/knoop-xml. */
#include "istd_test_util.h"
#include <sys/wait.h>
#include <unistd.h>

static char tool[1024];

static int setup(void **state)
{
    istd_group_setup(state);
    const char *b = getenv("KNOOP_BUILD");
    snprintf(tool, sizeof tool, "%s/knoop-xml", b && *b ? b : "build");
    return 0;
}

/* Runs the tool with args, returns its exit status and its stdout (malloc'ed). */
static int run(const char *args, char **out)
{
    if (access(tool, X_OK) != 0)
        fail_msg("%s not built (make build/knoop-xml)", tool);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s --schemas " ISTD_SCHEMAS " %s 2>/dev/null", tool, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (n + 1 == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    buf[n] = '\0';
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_tmp(const char *path, const char *content)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void test_validate(void **state)
{
    (void)state;
    char args[2048], *out;
    const char *c = istd_conformance();
    snprintf(args, sizeof args,
             "--today 2030-01-01 validate %s/iwmo-3.2/examples/WMO301.xml %s/iwmo-3.2/examples/WMO323.xml "
             "%s/iwmo-3.2/examples-derived/WMO302-rejected.xml",
             c, c, c);
    assert_int_equal(run(args, &out), 0);
    assert_non_null(strstr(out, "WMO301.xml: ok\n"));
    assert_non_null(strstr(out, "WMO323.xml: ok\n"));
    assert_non_null(strstr(out, "WMO302-rejected.xml: ok\n"));
    free(out);

    char *xml = istd_read_conf("iwmo-3.2/examples/WMO301.xml", NULL);
    char *bad = istd_replace_all(xml, ">999900006<", ">999900007<");
    write_tmp("/tmp/knoop-xml-test-bsn.xml", bad);
    char *broken = istd_replace_all(xml, "</wmo301:Header>", "");
    write_tmp("/tmp/knoop-xml-test-broken.xml", broken);
    snprintf(args, sizeof args,
             "--today 2030-01-01 validate /tmp/knoop-xml-test-bsn.xml /tmp/knoop-xml-test-broken.xml "
             "%s/iwmo-3.2/examples/WMO305.xml",
             c);
    assert_int_equal(run(args, &out), 1);
    assert_non_null(strstr(out, "knoop-xml-test-bsn.xml:18: level 2 rule KN-BSN retourcode 0001"));
    assert_non_null(strstr(out, "knoop-xml-test-broken.xml:"));
    assert_non_null(strstr(out, ": level 1: "));
    assert_non_null(strstr(out, "WMO305.xml: ok"));
    assert_null(strstr(out, "999900007"));
    free(out);
    /* the Dagtekening rule uses --today */
    snprintf(args, sizeof args, "--today 2023-08-12 validate %s/iwmo-3.2/examples/WMO301.xml", c);
    assert_int_equal(run(args, &out), 1);
    assert_non_null(strstr(out, "rule TR135 retourcode 8848"));
    free(out);
    unlink("/tmp/knoop-xml-test-bsn.xml");
    unlink("/tmp/knoop-xml-test-broken.xml");
    free(xml), free(bad), free(broken);
}

static void test_retour(void **state)
{
    (void)state;
    char args[2048], *out;
    snprintf(args, sizeof args, "--today 2023-08-14 retour %s/iwmo-3.2/examples/WMO301.xml", istd_conformance());
    assert_int_equal(run(args, &out), 0);
    knoop_istd_msg_t *m = istd_decode_buf(S, out, strlen(out)); /* a valid 302 */
    assert_string_equal(m->type->name, "WMO302");
    assert_string_equal(m->identificatie_retour, "R4150001");
    assert_string_equal(m->dagtekening_retour, "2023-08-14");
    xmlDoc *want = istd_parse_conf("iwmo-3.2/examples-derived/WMO302-accepted.xml");
    istd_assert_equiv(m->doc, want, "knoop-xml retour");
    xmlFreeDoc(want);
    knoop_istd_msg_destroy(&m);
    free(out);
    snprintf(args, sizeof args, "--today 2023-05-07 retour %s/iwmo-3.2/examples/WMO323.xml", istd_conformance());
    assert_int_equal(run(args, &out), 0);
    m = istd_decode_buf(S, out, strlen(out));
    assert_string_equal(m->type->name, "WMO325");
    knoop_istd_msg_destroy(&m);
    free(out);
}

static void test_show_masks_bsns(void **state)
{
    (void)state;
    char args[2048], *out;
    snprintf(args, sizeof args, "show %s/iwmo-3.2/examples/WMO323.xml", istd_conformance());
    assert_int_equal(run(args, &out), 0);
    assert_non_null(strstr(out, "standard:       iwmo-3.2\n"));
    assert_non_null(strstr(out, "message:        WMO323"));
    assert_non_null(strstr(out, "kind:           8\n"));
    assert_non_null(strstr(out, "sender:         65656055\n"));
    assert_non_null(strstr(out, "receiver:       0384\n"));
    assert_non_null(strstr(out, "identificatie:  765432198\n"));
    assert_non_null(strstr(out, "clients:        2\n"));
    assert_non_null(strstr(out, "lines:          4\n"));
    assert_non_null(strstr(out, "9999*****"));
    assert_null(strstr(out, "999900006"));
    assert_null(strstr(out, "999900018"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_retour),
        cmocka_unit_test(test_show_masks_bsns),
    };
    return cmocka_run_group_tests(tests, setup, istd_group_teardown);
}
