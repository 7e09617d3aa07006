/* test_codes.c — party code shapes and the BSN 11-test, against the demo network's lists of valid and invalid
 * test BSNs (tests/data/network, copied from shared/network), so the check agrees with the data the cooperative tests with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "base/codes.h"

static int check_file(const char *path, bool expect_valid)
{
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s is missing (run from the repository root)", path);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (knoop_bsn_is_valid(line) != expect_valid)
            fail_msg("BSN %s should be %s", line, expect_valid ? "valid" : "invalid");
        n++;
    }
    fclose(f);
    return n;
}

static void shared_test_bsns(void **state)
{
    (void)state;
    assert_true(check_file("tests/data/network/test-bsn.txt", true) >= 10);
    assert_true(check_file("tests/data/network/test-bsn-invalid.txt", false) >= 5);
}

static void bsn_shape(void **state)
{
    (void)state;
    assert_false(knoop_bsn_is_valid("99999000"));   /* 8 digits */
    assert_false(knoop_bsn_is_valid("9999900077")); /* 10 digits */
    assert_false(knoop_bsn_is_valid("99999000a"));
    assert_false(knoop_bsn_is_valid("000000000"));
    assert_false(knoop_bsn_is_valid(""));
    assert_false(knoop_bsn_is_valid(NULL));
}

static void party_codes(void **state)
{
    (void)state;
    assert_true(knoop_code_is_cbs("0917"));
    assert_true(knoop_code_is_agb("99990000"));
    assert_true(knoop_code_is_party("9001"));
    assert_false(knoop_code_is_party("917"));
    assert_false(knoop_code_is_party("0917 "));
    assert_false(knoop_code_is_party("9999000"));
    assert_false(knoop_code_is_agb("9999000X"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_test_bsns),
        cmocka_unit_test(bsn_shape),
        cmocka_unit_test(party_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
