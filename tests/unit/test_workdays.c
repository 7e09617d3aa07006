/* test_workdays.c — unit tests for daemon/workdays.c: dates, the Amsterdam day of a unix time,
 * Easter, the Atw holidays and working-day arithmetic across every holiday of the year. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "legacy/workdays.h"

static knoop_date_t D(const char *s)
{
    knoop_date_t d = {0};
    assert_int_equal(knoop_date_parse(s, &d), 0);
    return d;
}

/* Compares dates as text so a failure names the day. */
static void assert_date(knoop_date_t got, const char *want)
{
    char buf[KNOOP_DATE_STR_SIZE];
    assert_int_equal(knoop_date_format(got, buf, sizeof buf), 0);
    assert_string_equal(buf, want);
}

static void assert_add(const char *from, int n, const char *want)
{
    knoop_date_t out;
    assert_int_equal(knoop_add_working_days(D(from), n, &out), 0);
    assert_date(out, want);
    assert_int_equal(knoop_working_days_between(D(from), out), n);
}

static void assert_holiday(const char *day, const char *name)
{
    const char *got = knoop_holiday_name(D(day));
    if (name == NULL) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, name);
    assert_false(knoop_is_working_day(D(day)));
}

static void assert_amsterdam(int64_t t, const char *want)
{
    knoop_date_t d;
    assert_int_equal(knoop_date_from_unix_amsterdam(t, &d), 0);
    assert_date(d, want);
}

static void dates_parse_and_format(void **state)
{
    (void)state;
    knoop_date_t d;
    assert_int_equal(D("1970-01-01").days, 0);
    assert_int_equal(D("1970-01-02").days, 1);
    assert_int_equal(D("1969-12-31").days, -1);
    assert_int_equal(D("2000-03-01").days - D("2000-02-28").days, 2); /* 2000 is a leap year */
    assert_int_equal(D("1900-03-01").days - D("1900-02-28").days, 1); /* 1900 is not */
    assert_date(D("2024-02-29"), "2024-02-29");
    assert_date(D("0001-01-01"), "0001-01-01");
    assert_date(D("9999-12-31"), "9999-12-31");

    const char *bad[] = {"2026-02-29", "2026-13-01",  "2026-00-10", "2026-04-31", "2026-1-01",
                         "2026-01-1",  "2026-01-01x", "2026/01/01", "",           "20260101",
                         "0000-01-01", "+026-01-01",  " 026-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(knoop_date_parse(bad[i], &d), -EINVAL);
    assert_int_equal(knoop_date_parse(NULL, &d), -EINVAL);
    assert_int_equal(knoop_date_from_ymd(10000, 1, 1, &d), -EINVAL);

    char small[10];
    assert_int_equal(knoop_date_format(D("2026-01-01"), small, sizeof small), -ENOSPC);

    int y, m, dd;
    knoop_date_to_ymd(D("2038-01-19"), &y, &m, &dd);
    assert_int_equal(y, 2038);
    assert_int_equal(m, 1);
    assert_int_equal(dd, 19);
}

/* Every day from 1600 to 2400 survives a round trip and follows its predecessor. */
static void dates_round_trip(void **state)
{
    (void)state;
    knoop_date_t prev;
    assert_int_equal(knoop_date_from_ymd(1600, 1, 1, &prev), 0);
    for (int32_t day = prev.days + 1; day < prev.days + 800 * 366; day++) {
        int y, m, d;
        knoop_date_t back, cur = {.days = day};
        knoop_date_to_ymd(cur, &y, &m, &d);
        assert_int_equal(knoop_date_from_ymd(y, m, d, &back), 0);
        assert_int_equal(back.days, day);
    }
}

static void weekdays(void **state)
{
    (void)state;
    assert_int_equal(knoop_date_weekday(D("1970-01-01")), 4); /* Thursday */
    assert_int_equal(knoop_date_weekday(D("1969-12-29")), 1); /* Monday, before the epoch */
    assert_int_equal(knoop_date_weekday(D("2026-11-23")), 1);
    assert_int_equal(knoop_date_weekday(D("2026-11-29")), 7);
    assert_int_equal(knoop_date_weekday(D("0001-01-01")), 1); /* proleptic Gregorian */
}

static void easter_dates(void **state)
{
    (void)state;
    const struct {
        int year;
        const char *easter;
    } cases[] = {
        {2024, "2024-03-31"}, {2025, "2025-04-20"}, {2026, "2026-04-05"},
        {2027, "2027-03-28"}, {2038, "2038-04-25"}, /* the latest possible date */
        {2285, "2285-03-22"},                       /* the earliest possible date */
        {2000, "2000-04-23"}, {1818, "1818-03-22"}, {2019, "2019-04-21"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_date(knoop_easter_sunday(cases[i].year), cases[i].easter);
    /* Always a Sunday between 22 March and 25 April. */
    for (int y = 1583; y <= 4099; y++) {
        knoop_date_t e = knoop_easter_sunday(y), lo, hi;
        assert_int_equal(knoop_date_weekday(e), 7);
        assert_int_equal(knoop_date_from_ymd(y, 3, 22, &lo), 0);
        assert_int_equal(knoop_date_from_ymd(y, 4, 25, &hi), 0);
        assert_true(e.days >= lo.days && e.days <= hi.days);
    }
}

static void holidays_2026(void **state)
{
    (void)state;
    assert_holiday("2026-01-01", "Nieuwjaarsdag");
    assert_holiday("2026-04-03", "Goede Vrijdag"); /* Atw art. 3 lid 2 */
    assert_holiday("2026-04-05", NULL);            /* Easter Sunday is no Atw holiday (a Sunday anyway) */
    assert_holiday("2026-04-06", "Tweede Paasdag");
    assert_holiday("2026-04-27", "Koningsdag");
    assert_holiday("2026-05-05", "Bevrijdingsdag");
    assert_holiday("2026-05-14", "Hemelvaartsdag");
    assert_holiday("2026-05-15", NULL); /* the Friday after: only by royal decree, not computed */
    assert_holiday("2026-05-25", "Tweede Pinksterdag");
    assert_holiday("2026-12-24", NULL);
    assert_holiday("2026-12-25", "Eerste Kerstdag");
    assert_holiday("2026-12-26", "Tweede Kerstdag");
    assert_holiday("2026-12-31", NULL);
    assert_true(knoop_is_working_day(D("2026-12-24")));
    assert_true(knoop_is_working_day(D("2026-12-31")));
    assert_false(knoop_is_working_day(D("2026-11-28"))); /* Saturday */
    assert_false(knoop_is_working_day(D("2026-11-29"))); /* Sunday */
    /* 261 weekdays in 2026, 8 of them holidays (Boxing Day is a Saturday). */
    assert_int_equal(knoop_working_days_between(D("2025-12-31"), D("2026-12-31")), 253);
}

static void kings_day_moves(void **state)
{
    (void)state;
    assert_holiday("2025-04-26", "Koningsdag"); /* 27 April 2025 is a Sunday */
    assert_holiday("2025-04-27", NULL);
    assert_holiday("2014-04-26", "Koningsdag"); /* the first one, 27 April 2014 a Sunday */
    assert_holiday("2031-04-26", "Koningsdag");
    assert_holiday("2031-04-27", NULL);
    assert_holiday("2026-04-26", NULL);
    assert_holiday("2013-04-30", "Koninginnedag");
    assert_holiday("2013-04-27", NULL);
    assert_holiday("2006-04-29", "Koninginnedag"); /* 30 April 2006 a Sunday: the Saturday */
    assert_holiday("1967-05-01", "Koninginnedag"); /* under Juliana: the Monday */
}

static void across_easter(void **state)
{
    (void)state;
    /* Maundy Thursday + 3: Good Friday (Atw art. 3 lid 2), the weekend and Easter Monday are skipped. */
    assert_add("2026-04-02", 3, "2026-04-09");
    assert_add("2025-04-17", 3, "2025-04-24");
    assert_add("2026-04-02", 1, "2026-04-07");
    assert_add("2026-04-07", -1, "2026-04-02");
}

static void across_kings_day(void **state)
{
    (void)state;
    assert_add("2026-04-24", 1, "2026-04-28"); /* Friday -> Koningsdag Monday skipped */
    assert_add("2026-04-23", 3, "2026-04-29");
    assert_add("2023-04-26", 1, "2023-04-28"); /* Koningsdag on a Thursday */
    assert_add("2025-04-25", 1, "2025-04-28"); /* on a Saturday it costs nothing */
}

static void may_ascension_whitsun(void **state)
{
    (void)state;
    assert_add("2026-05-04", 1, "2026-05-06"); /* Bevrijdingsdag on a Tuesday */
    assert_add("2026-05-13", 1, "2026-05-15"); /* Hemelvaartsdag Thursday */
    assert_add("2026-05-22", 1, "2026-05-26"); /* Tweede Pinksterdag */
    assert_add("2026-05-13", 5, "2026-05-21");
    assert_add("2026-05-20", 5, "2026-05-28");
    /* 2027: Bevrijdingsdag Wednesday, Hemelvaartsdag 6 May (Easter 28 March + 39). */
    assert_holiday("2027-05-06", "Hemelvaartsdag");
    assert_add("2027-05-04", 1, "2027-05-07");
    assert_add("2027-05-04", 2, "2027-05-10");
}

static void across_christmas_and_new_year(void **state)
{
    (void)state;
    /* 2026-12-23 is a Wednesday: Thu 24 (1), Fri 25 and Sat 26 Christmas, Sun 27, Mon 28 (2), Tue 29 (3). */
    assert_add("2026-12-23", 3, "2026-12-29");
    assert_add("2026-12-31", 1, "2027-01-04"); /* Friday 1 January, then the weekend */
    assert_add("2026-12-24", 1, "2026-12-28");
    /* Christmas 2027 on a weekend: no shift under the Atw, Monday 27 December is a working day. */
    assert_add("2027-12-24", 1, "2027-12-27");
    assert_add("2027-12-31", 1, "2028-01-03");
    assert_add("2028-01-03", -1, "2027-12-31");
    assert_add("2026-12-23", 0, "2026-12-23");
}

static void from_a_non_working_day(void **state)
{
    (void)state;
    assert_add("2026-11-28", 3, "2026-12-02"); /* Saturday: counting starts on Monday */
    assert_add("2026-12-25", 1, "2026-12-28");
    assert_int_equal(knoop_working_days_between(D("2026-11-28"), D("2026-11-29")), 0);
    assert_int_equal(knoop_working_days_between(D("2026-11-27"), D("2026-11-27")), 0);
}

/* add and between are each other's inverse for every start day of two years and every n in -20..20. */
static void add_between_inverse(void **state)
{
    (void)state;
    for (int32_t day = D("2026-01-01").days; day < D("2028-01-01").days; day++) {
        for (int n = -20; n <= 20; n++) {
            knoop_date_t out, from = {.days = day};
            assert_int_equal(knoop_add_working_days(from, n, &out), 0);
            assert_int_equal(knoop_working_days_between(from, out), n);
            if (n != 0)
                assert_true(knoop_is_working_day(out));
        }
    }
}

static void range_limits(void **state)
{
    (void)state;
    knoop_date_t out;
    assert_int_equal(knoop_add_working_days(D("9999-12-30"), 5, &out), -ERANGE);
    assert_int_equal(knoop_add_working_days(D("0001-01-02"), -5, &out), -ERANGE);
    assert_int_equal(knoop_add_working_days(D("2026-01-01"), 1, NULL), -EINVAL);
    assert_int_equal(knoop_date_from_unix_amsterdam(INT64_MAX, &out), -ERANGE);
    assert_int_equal(knoop_date_from_unix_amsterdam(INT64_MIN, &out), -ERANGE);
}

static void amsterdam_day_boundaries(void **state)
{
    (void)state;
    /* Winter, UTC+1: midnight in Amsterdam is 23:00 UTC. */
    assert_amsterdam(1768517999, "2026-01-15"); /* 2026-01-15T22:59:59Z */
    assert_amsterdam(1768518000, "2026-01-16"); /* 2026-01-15T23:00:00Z */
    /* Summer, UTC+2: midnight in Amsterdam is 22:00 UTC. */
    assert_amsterdam(1784152799, "2026-07-15"); /* 2026-07-15T21:59:59Z */
    assert_amsterdam(1784152800, "2026-07-16"); /* 2026-07-15T22:00:00Z */
    /* A UTC New Year's Eve evening is already a holiday in Amsterdam. */
    assert_amsterdam(1798759800, "2027-01-01"); /* 2026-12-31T23:30:00Z */
    assert_amsterdam(-1800, "1970-01-01");      /* 1969-12-31T23:30:00Z */
    assert_amsterdam(-3601, "1969-12-31");
    /* The switches: 2026-03-29 and 2026-10-25 at 01:00 UTC. */
    assert_int_equal(knoop_amsterdam_utc_offset(1774745999), 3600);
    assert_int_equal(knoop_amsterdam_utc_offset(1774746000), 7200);
    assert_int_equal(knoop_amsterdam_utc_offset(1792889999), 7200);
    assert_int_equal(knoop_amsterdam_utc_offset(1792890000), 3600);
}

/* Cross-check the hand-made offset against the system's tz database for every hour of 1996..2040,
 * the years the EU rule has been in force. Skipped when tzdata is not installed. */
static void amsterdam_matches_tzdata(void **state)
{
    (void)state;
    if (access("/usr/share/zoneinfo/Europe/Amsterdam", R_OK) != 0)
        skip();
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    setenv("TZ", "Europe/Amsterdam", 1);
    tzset();
    const int64_t from = 820454400, to = 2240611200; /* 1996-01-01 .. 2041-01-01 */
    for (int64_t t = from; t < to; t += 1800) {
        time_t tt = (time_t)t;
        struct tm tm;
        assert_non_null(localtime_r(&tt, &tm));
        knoop_date_t d;
        assert_int_equal(knoop_date_from_unix_amsterdam(t, &d), 0);
        int y, m, dd;
        knoop_date_to_ymd(d, &y, &m, &dd);
        if (y != tm.tm_year + 1900 || m != tm.tm_mon + 1 || dd != tm.tm_mday)
            fail_msg("unix time %lld: knoop says %04d-%02d-%02d, tzdata %04d-%02d-%02d", (long long)t, y, m, dd,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    }
    if (old) {
        setenv("TZ", old, 1);
        free(old);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

static void atw_term_end(void **state)
{
    (void)state;
    knoop_date_t out;
    /* Art. 1: a term ending on Good Friday runs to the Tuesday after Easter Monday. */
    assert_int_equal(knoop_atw_term_end(D("2026-04-01"), 2, &out), 0);
    assert_date(out, "2026-04-07");
    /* Art. 1: ending on a Saturday -> Monday. */
    assert_int_equal(knoop_atw_term_end(D("2026-11-18"), 10, &out), 0);
    assert_date(out, "2026-11-30");
    /* Ending on a working day: unchanged. */
    assert_int_equal(knoop_atw_term_end(D("2026-11-18"), 14, &out), 0);
    assert_date(out, "2026-12-02");
    /* Art. 2: 24 Dec + 3 ends Sunday 27 Dec holding no working day; it runs until it holds two. */
    assert_int_equal(knoop_atw_term_end(D("2026-12-24"), 3, &out), 0);
    assert_date(out, "2026-12-29");
    /* Art. 2 does not apply to a term of 2 days: art. 1 alone gives Monday 28 Dec. */
    assert_int_equal(knoop_atw_term_end(D("2026-12-24"), 2, &out), 0);
    assert_date(out, "2026-12-28");
    assert_int_equal(knoop_atw_term_end(D("2026-12-24"), -1, &out), -EINVAL);
    assert_date(knoop_working_day_on_or_after(D("2026-12-25")), "2026-12-28");
    assert_date(knoop_working_day_on_or_after(D("2026-12-28")), "2026-12-28");
}

/* House rule 8: every holiday the code knows is named in the table of docs/deadlines.md. */
static void documented_holidays(void **state)
{
    (void)state;
    static char doc[64 * 1024];
    const char *paths[] = {"docs/deadlines.md", "../docs/deadlines.md", "../../docs/deadlines.md"};
    size_t len = 0;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0] && len == 0; i++) {
        FILE *f = fopen(paths[i], "r");
        if (f) {
            len = fread(doc, 1, sizeof doc - 1, f);
            fclose(f);
        }
    }
    if (len == 0)
        fail_msg("docs/deadlines.md not found from the working directory");
    doc[len] = '\0';
    /* 1967, 2006 and 2026 between them meet every row of the holiday table. */
    const int years[] = {1967, 2006, 2026};
    int named = 0;
    for (size_t y = 0; y < sizeof years / sizeof years[0]; y++) {
        knoop_date_t d, end;
        assert_int_equal(knoop_date_from_ymd(years[y], 1, 1, &d), 0);
        assert_int_equal(knoop_date_from_ymd(years[y], 12, 31, &end), 0);
        for (; d.days <= end.days; d.days++) {
            const char *name = knoop_holiday_name(d);
            if (name == NULL)
                continue;
            named++;
            if (strstr(doc, name) == NULL)
                fail_msg("holiday %s is not in docs/deadlines.md", name);
        }
    }
    assert_int_equal(named, 3 * 9); /* nine holidays a year */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dates_parse_and_format),
        cmocka_unit_test(dates_round_trip),
        cmocka_unit_test(weekdays),
        cmocka_unit_test(easter_dates),
        cmocka_unit_test(holidays_2026),
        cmocka_unit_test(kings_day_moves),
        cmocka_unit_test(across_easter),
        cmocka_unit_test(across_kings_day),
        cmocka_unit_test(may_ascension_whitsun),
        cmocka_unit_test(across_christmas_and_new_year),
        cmocka_unit_test(from_a_non_working_day),
        cmocka_unit_test(add_between_inverse),
        cmocka_unit_test(range_limits),
        cmocka_unit_test(amsterdam_day_boundaries),
        cmocka_unit_test(amsterdam_matches_tzdata),
        cmocka_unit_test(atw_term_end),
        cmocka_unit_test(documented_holidays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
