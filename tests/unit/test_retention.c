/* test_retention.c — the retention setting (per-kind overrides with units, errors an operator can act on) and the
 * control socket's times (ISO-8601 UTC out, ISO or unix seconds in), which `subscriber rewind` and `dlq` rely on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "control/control_time.h"
#include "deliver/retention.h"

static void defaults_and_overrides(void **state)
{
    (void)state;
    int64_t s[KNOOP_RETENTION_KINDS];
    char err[256] = "";
    assert_int_equal(knoop_retention_parse("", 730, s, err, sizeof err), 0);
    for (int k = 0; k < KNOOP_RETENTION_KINDS; k++)
        assert_int_equal(s[k], 730LL * 86400);
    assert_int_equal(knoop_retention_parse(" outcome-report=3650d,alert=90 , referral=30s,plan-update=2h,other=5m", 730,
                                           s, err, sizeof err),
                     0);
    assert_int_equal(s[12], 3650LL * 86400); /* OUTCOME_REPORT */
    assert_int_equal(s[13], 90LL * 86400);   /* ALERT: no unit means days */
    assert_int_equal(s[1], 30);              /* REFERRAL */
    assert_int_equal(s[11], 7200);           /* PLAN_UPDATE */
    assert_int_equal(s[14], 300);            /* OTHER */
    assert_int_equal(s[2], 730LL * 86400);   /* ASSIGNMENT keeps the default */
}

static void errors_name_the_problem(void **state)
{
    (void)state;
    int64_t s[KNOOP_RETENTION_KINDS];
    char err[256];
    static const struct {
        const char *spec, *says;
    } bad[] = {
        {"referal=3d", "unknown kind 'referal'"},
        {"referral", "expected KIND=DURATION"},
        {"referral=0d", "positive number"},
        {"referral=-1d", "positive number"},
        {"referral=3w", "unit 'w'"},
        {"referral=3dd", "unexpected"},
        {"referral=40000d", "100 years"},
        {"unspecified=3d", "unknown kind"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(knoop_retention_parse(bad[i].spec, 730, s, err, sizeof err), -EINVAL);
        if (!strstr(err, bad[i].says))
            fail_msg("'%s': error '%s' does not say '%s'", bad[i].spec, err, bad[i].says);
    }
}

static void times_round_trip(void **state)
{
    (void)state;
    char buf[40];
    int64_t us;
    knoop_time_format_us(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(knoop_time_parse_us("2026-11-23T10:00:00Z", &us), 0);
    assert_int_equal(us, 1795428000LL * 1000000);
    knoop_time_format_us(us + 999999, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-23T10:00:00Z");
    assert_int_equal(knoop_time_parse_us("1795428000", &us), 0);
    assert_int_equal(us, 1795428000LL * 1000000);
    assert_int_equal(knoop_time_parse_us("2024-02-29", &us), 0); /* a leap day */
    knoop_time_format_us(us, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29T00:00:00Z");
    assert_int_equal(knoop_time_parse_us("2026-11-23T10:00:00.5Z", &us), 0);
    assert_int_equal(us, 1795428000LL * 1000000 + 500000);
    static const char *const bad[] = {"",
                                      "yesterday",
                                      "2026-11-23T10:00:00",
                                      "2026-11-23T10:00:00+01:00",
                                      "2026-13-01",
                                      "2026-11-23T25:00:00Z",
                                      "12ab",
                                      "2026-11-23T10:00:nanZ",
                                      "2026-11-23T10:00:infZ",
                                      "2026-11-23T-1:-5:00Z",
                                      NULL}; /* fuzz_control */
    for (int i = 0; bad[i]; i++)
        if (knoop_time_parse_us(bad[i], &us) != -EINVAL)
            fail_msg("'%s' was accepted as a time", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_and_overrides),
        cmocka_unit_test(errors_name_the_problem),
        cmocka_unit_test(times_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
