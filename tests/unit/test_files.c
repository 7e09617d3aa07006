/* test_files.c — the file-exchange adapter's pieces (adapters/files): naming the iWmo/iJw message of a file from its
 * root namespace without expanding anything, inbox and outbox names, atomic writes and moves that never overwrite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "files/files.h"

static int detect(const char *xml, char *ct, char *type, char *why)
{
    return knoop_files_detect(xml, strlen(xml), ct, 128, type, 40, why, 512);
}

static void detects_iwmo_and_ijw(void **state)
{
    (void)state;
    char ct[128], type[40], why[512];
    assert_int_equal(detect("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<wmo301:Bericht "
                            "xmlns:iwmo=\"http://www.istandaarden.nl/iwmo/3_2/basisschema/schema\" "
                            "xmlns:wmo301=\"http://www.istandaarden.nl/iwmo/3_2/wmo301/schema\" >",
                            ct, type, why),
                     0);
    assert_string_equal(ct, "application/xml; iwmo-3.2; WMO301");
    assert_string_equal(type, "WMO301");
    /* BOM, comment, processing instruction, default namespace, single quotes */
    assert_int_equal(detect("\xEF\xBB\xBF<!-- x --><?pi y?>\n<Bericht xmlns='http://www.istandaarden.nl/ijw/3_2/jw315/"
                            "schema'><Header/></Bericht>",
                            ct, type, why),
                     0);
    assert_string_equal(ct, "application/xml; ijw-3.2; JW315");
    /* a prefix declared after another attribute, with spaces around '=' */
    assert_int_equal(
        detect("<a:Bericht x = \"1\" xmlns:a = \"http://www.istandaarden.nl/iwmo/3_2/wmo325/schema\"/>", ct, type, why),
        0);
    assert_string_equal(type, "WMO325");
}

static void refuses_what_is_not_an_istd_message(void **state)
{
    (void)state;
    char ct[128], type[40], why[512];
    static const struct {
        const char *xml, *words;
    } cases[] = {
        {"", "empty file"},
        {"%PDF-1.4", "not XML"},
        {"   ", "no root element"},
        {"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><Bericht/>", "DOCTYPE"},
        {"<!ENTITY x SYSTEM \"file:///etc/passwd\">", "DOCTYPE"},
        {"<note xmlns=\"urn:x\"/>", "not a Bericht"},
        {"<w:Bericht xmlns:w=\"http://www.istandaarden.nl/iwmo/3_2/wmo999/schema\"/>", "wmo999"},
        {"<w:Bericht xmlns:v=\"http://www.istandaarden.nl/iwmo/3_2/wmo301/schema\"/>", "(none)"},
        {"<w:Bericht xmlns:w=\"http://www.istandaarden.nl/iwmo/3_2/wmo301/schema", "unterminated attribute"},
        {"<w:Bericht xmlns:w=\"http://www.istandaarden.nl/iwmo/3_2/wmo301/schema\" ", "not closed"},
        {"<w:Bericht xmlns:w=http://x>", "not quoted"},
        {"<!-- never closed", "unterminated comment"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(detect(cases[i].xml, ct, type, why), -EINVAL);
        if (!strstr(why, cases[i].words))
            fail_msg("case %zu: '%s' lacks '%s'", i, why, cases[i].words);
    }
    assert_int_equal(knoop_files_detect("\xFF\xFE<\0", 4, ct, 128, type, 40, why, 512), -EINVAL);
    assert_non_null(strstr(why, "UTF-16"));
}

static void inbox_names_and_outbox_names(void **state)
{
    (void)state;
    assert_true(knoop_files_ignored_name(".x.xml"));
    assert_true(knoop_files_ignored_name("x.xml.tmp"));
    assert_true(knoop_files_ignored_name("x.xml.part"));
    assert_true(knoop_files_ignored_name(""));
    assert_false(knoop_files_ignored_name("x.xml"));
    assert_false(knoop_files_ignored_name("tmp.xml"));
    char n[256];
    knoop_files_outbox_name(42, "WMO301", "ID-1", "application/xml; iwmo-3.2; WMO301", n, sizeof n);
    assert_string_equal(n, "42-WMO301-ID-1.xml");
    knoop_files_outbox_name(7, "knoop.domain.Referral", "a/b c", "application/x-protobuf; knoop.domain.Referral", n,
                            sizeof n);
    assert_string_equal(n, "7-knoop_domain_Referral-a_b_c.bin");
    knoop_files_outbox_name(8, "", "", "application/json", n, sizeof n);
    assert_string_equal(n, "8-message-none.json");
    knoop_files_outbox_name(9, "x", "../..", "text/plain", n, sizeof n);
    assert_string_equal(n, "9-x-_____.txt");
}

static void write_and_move_never_overwrite(void **state)
{
    (void)state;
    char root[] = "/tmp/knoop-files-unit-XXXXXX";
    assert_non_null(mkdtemp(root));
    char a[512], b[512], final[256], path[600];
    snprintf(a, sizeof a, "%s/x/inbox", root);
    snprintf(b, sizeof b, "%s/x/done", root);
    assert_int_equal(knoop_files_mkdirs(a), 0);
    assert_int_equal(knoop_files_mkdirs(b), 0);
    assert_int_equal(knoop_files_mkdirs(b), 0); /* exists: fine */
    assert_int_equal(knoop_files_write_atomic(a, "m.xml", "one", 3), 0);
    snprintf(path, sizeof path, "%s/.m.xml.tmp", a);
    assert_int_not_equal(access(path, F_OK), 0); /* no temp file left */
    assert_int_equal(knoop_files_move(a, "m.xml", b, final, sizeof final), 0);
    assert_string_equal(final, "m.xml");
    assert_int_equal(knoop_files_write_atomic(a, "m.xml", "two", 3), 0);
    assert_int_equal(knoop_files_move(a, "m.xml", b, final, sizeof final), 0);
    assert_string_equal(final, "m.1.xml");
    assert_int_equal(knoop_files_write_atomic(a, "noext", "3", 1), 0);
    assert_int_equal(knoop_files_write_atomic(b, "noext", "0", 1), 0);
    assert_int_equal(knoop_files_move(a, "noext", b, final, sizeof final), 0);
    assert_string_equal(final, "noext.1");
    snprintf(path, sizeof path, "%s/m.xml", b);
    FILE *f = fopen(path, "r");
    char buf[8] = "";
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "one"); /* the first file was not replaced */
    assert_int_equal(knoop_files_move(a, "gone.xml", b, final, sizeof final), -ENOENT);

    /* The temporary file is always a new one (O_EXCL): a symbolic link planted at its name is removed, never
     * followed, so the file it points to keeps its contents; a temp file left by a crash is replaced. */
    char victim[600], tmpname[600];
    snprintf(victim, sizeof victim, "%s/victim", root);
    f = fopen(victim, "w");
    assert_non_null(f);
    fputs("keep", f);
    fclose(f);
    snprintf(tmpname, sizeof tmpname, "%s/.planted.xml.tmp", a);
    assert_int_equal(symlink(victim, tmpname), 0);
    assert_int_equal(knoop_files_write_atomic(a, "planted.xml", "new", 3), 0);
    f = fopen(victim, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "keep");
    snprintf(tmpname, sizeof tmpname, "%s/.stale.xml.tmp", a);
    f = fopen(tmpname, "w");
    assert_non_null(f);
    fputs("half a file from before a crash", f);
    fclose(f);
    assert_int_equal(knoop_files_write_atomic(a, "stale.xml", "whole", 5), 0);
    snprintf(path, sizeof path, "%s/stale.xml", a);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "whole");
    assert_int_not_equal(access(tmpname, F_OK), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detects_iwmo_and_ijw),
        cmocka_unit_test(refuses_what_is_not_an_istd_message),
        cmocka_unit_test(inbox_names_and_outbox_names),
        cmocka_unit_test(write_and_move_never_overwrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
