/* workdays.c — dates as days since the epoch, the Amsterdam calendar day of a unix time, and the Atw
 * holidays as one table of rules (fixed day, Easter-relative, King's day) from which working days follow. */
#include "legacy/workdays.h"
#include "base/civil.h"
#include <errno.h>
#include <stdio.h>

/* Days from 1970-01-01 of the first and last supported day (0001-01-01, 9999-12-31). */
#define DAYS_MIN        (-719162)
#define DAYS_MAX        2932896
#define SECONDS_PER_DAY 86400

/* Euclidean division: rounds towards minus infinity, so times before the epoch fall on the right day. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int32_t days_from_civil(int y, int m, int d)
{
    return (int32_t)knoop_days_from_civil(y, m, d);
}

static void civil_from_days(int32_t z, int *y, int *m, int *d)
{
    int64_t y64;
    knoop_civil_from_days(z, &y64, m, d);
    *y = (int)y64;
}

static knoop_date_t mkdate(int32_t days)
{
    return (knoop_date_t){.days = days};
}

int knoop_date_from_ymd(int year, int month, int day, knoop_date_t *out)
{
    if (out == NULL || year < KNOOP_DATE_YEAR_MIN || year > KNOOP_DATE_YEAR_MAX || month < 1 || month > 12 || day < 1 ||
        day > knoop_days_in_month(year, month))
        return -EINVAL;
    *out = mkdate(days_from_civil(year, month, day));
    return 0;
}

void knoop_date_to_ymd(knoop_date_t d, int *year, int *month, int *day)
{
    int y, m, dd;
    civil_from_days(d.days, &y, &m, &dd);
    if (year)
        *year = y;
    if (month)
        *month = m;
    if (day)
        *day = dd;
}

static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int knoop_date_parse(const char *s, knoop_date_t *out)
{
    if (s == NULL || out == NULL)
        return -EINVAL;
    for (int i = 0; i < 10; i++) /* stop at an early NUL before reading past it */
        if (s[i] == '\0')
            return -EINVAL;
    if (s[4] != '-' || s[7] != '-' || s[10] != '\0')
        return -EINVAL;
    const int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 0 || d < 0)
        return -EINVAL;
    return knoop_date_from_ymd(y, m, d, out);
}

static bool in_range(int64_t days)
{
    return days >= DAYS_MIN && days <= DAYS_MAX;
}

int knoop_date_format(knoop_date_t d, char *buf, size_t size)
{
    if (buf == NULL || size < KNOOP_DATE_STR_SIZE)
        return -ENOSPC;
    if (!in_range(d.days))
        return -ERANGE;
    int y, m, dd;
    civil_from_days(d.days, &y, &m, &dd);
    snprintf(buf, size, "%04d-%02d-%02d", y, m, dd);
    return 0;
}

int knoop_date_weekday(knoop_date_t d)
{
    /* 1970-01-01 was a Thursday (ISO 4): shift so that day 0 of the modulus is a Monday. */
    const int64_t x = (int64_t)d.days + 3;
    return (int)(x - 7 * floor_div(x, 7)) + 1;
}

/* The last Sunday of a month that has 31 days (March, October). */
static int32_t last_sunday(int year, int month)
{
    const int32_t last = days_from_civil(year, month, 31);
    return last - knoop_date_weekday(mkdate(last)) % 7;
}

int knoop_amsterdam_utc_offset(int64_t unix_seconds)
{
    int y, m, d;
    /* Clamp only to find the year: beyond 9999 the offset rule no longer matters to anyone. */
    int64_t day = floor_div(unix_seconds, SECONDS_PER_DAY);
    day = day < DAYS_MIN ? DAYS_MIN : day > DAYS_MAX ? DAYS_MAX : day;
    civil_from_days((int32_t)day, &y, &m, &d);
    /* Both switches happen at 01:00 UTC, in March and October, so the UTC year is the local year. */
    const int64_t start = (int64_t)last_sunday(y, 3) * SECONDS_PER_DAY + 3600;
    const int64_t end = (int64_t)last_sunday(y, 10) * SECONDS_PER_DAY + 3600;
    return unix_seconds >= start && unix_seconds < end ? 7200 : 3600;
}

int knoop_date_from_unix_amsterdam(int64_t unix_seconds, knoop_date_t *out)
{
    if (out == NULL)
        return -EINVAL;
    /* Reject before adding the offset so the addition cannot overflow. */
    if (unix_seconds < (int64_t)DAYS_MIN * SECONDS_PER_DAY - 7200 ||
        unix_seconds > ((int64_t)DAYS_MAX + 1) * SECONDS_PER_DAY)
        return -ERANGE;
    const int64_t day = floor_div(unix_seconds + knoop_amsterdam_utc_offset(unix_seconds), SECONDS_PER_DAY);
    if (!in_range(day))
        return -ERANGE;
    *out = mkdate((int32_t)day);
    return 0;
}

knoop_date_t knoop_easter_sunday(int year)
{
    const int a = year % 19, b = year / 100, c = year % 100;
    const int d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
    const int h = (19 * a + b - d - g + 15) % 30;
    const int i = c / 4, k = c % 4;
    const int l = (32 + 2 * e + 2 * i - h - k) % 7;
    const int m = (a + 11 * h + 22 * l) / 451;
    const int month = (h + l - 7 * m + 114) / 31;
    const int day = (h + l - 7 * m + 114) % 31 + 1;
    return mkdate(days_from_civil(year, month, day));
}

/* How a holiday's day is found in a given year. */
enum holiday_rule_kind {
    ON_DATE,      /* a fixed month and day */
    AFTER_EASTER, /* Easter Sunday + offset days */
    ROYAL,        /* a fixed month and day, moved by sunday_shift days when it falls on a Sunday */
};

/* The Atw holidays. Art. 3 lid 1 lists Nieuwjaarsdag, the Christian second Easter and Whit days,
 * both Christmas days, Ascension Day, the day the King's birthday is celebrated and 5 May; lid 2
 * equates Good Friday with them "voor de toepassing van deze wet", so it is not a working day here.
 * Days equated by royal decree (lid 3, published in the Staatscourant for three years at a time, such as
 * the Friday after Ascension) cannot be computed and are not in this table.
 * The King's (Queen's) day moved with the monarch; the rows carry the years they apply to. */
static const struct holiday_rule {
    const char *name;
    enum holiday_rule_kind kind;
    int month, day;    /* ON_DATE, ROYAL */
    int easter_offset; /* AFTER_EASTER */
    int sunday_shift;  /* ROYAL */
    int first_year, last_year;
} holiday_rules[] = {
    {"Nieuwjaarsdag", ON_DATE, 1, 1, 0, 0, KNOOP_DATE_YEAR_MIN, KNOOP_DATE_YEAR_MAX},
    {"Goede Vrijdag", AFTER_EASTER, 0, 0, -2, 0, KNOOP_DATE_YEAR_MIN, KNOOP_DATE_YEAR_MAX},
    {"Tweede Paasdag", AFTER_EASTER, 0, 0, 1, 0, KNOOP_DATE_YEAR_MIN, KNOOP_DATE_YEAR_MAX},
    {"Koninginnedag", ROYAL, 4, 30, 0, +1, 1949, 1979}, /* Juliana: to Monday 1 May */
    {"Koninginnedag", ROYAL, 4, 30, 0, -1, 1980, 2013}, /* Beatrix: to Saturday 29 April */
    {"Koningsdag", ROYAL, 4, 27, 0, -1, 2014, KNOOP_DATE_YEAR_MAX},
    {"Bevrijdingsdag", ON_DATE, 5, 5, 0, 0, KNOOP_DATE_YEAR_MIN, KNOOP_DATE_YEAR_MAX},
    {"Hemelvaartsdag", AFTER_EASTER, 0, 0, 39, 0, KNOOP_DATE_YEAR_MIN, KNOOP_DATE_YEAR_MAX},
    {"Tweede Pinksterdag", AFTER_EASTER, 0, 0, 50, 0, KNOOP_DATE_YEAR_MIN, KNOOP_DATE_YEAR_MAX},
    {"Eerste Kerstdag", ON_DATE, 12, 25, 0, 0, KNOOP_DATE_YEAR_MIN, KNOOP_DATE_YEAR_MAX},
    {"Tweede Kerstdag", ON_DATE, 12, 26, 0, 0, KNOOP_DATE_YEAR_MIN, KNOOP_DATE_YEAR_MAX},
};

static int32_t holiday_in_year(const struct holiday_rule *r, int year, int32_t easter)
{
    switch (r->kind) {
    case AFTER_EASTER:
        return easter + r->easter_offset;
    case ROYAL: {
        const int32_t day = days_from_civil(year, r->month, r->day);
        return knoop_date_weekday(mkdate(day)) == 7 ? day + r->sunday_shift : day;
    }
    case ON_DATE:
    default:
        return days_from_civil(year, r->month, r->day);
    }
}

const char *knoop_holiday_name(knoop_date_t d)
{
    if (!in_range(d.days))
        return NULL;
    int year, m, dd;
    civil_from_days(d.days, &year, &m, &dd);
    const int32_t easter = knoop_easter_sunday(year).days;
    for (size_t i = 0; i < sizeof holiday_rules / sizeof holiday_rules[0]; i++) {
        const struct holiday_rule *r = &holiday_rules[i];
        if (year >= r->first_year && year <= r->last_year && holiday_in_year(r, year, easter) == d.days)
            return r->name;
    }
    return NULL;
}

bool knoop_is_working_day(knoop_date_t d)
{
    return knoop_date_weekday(d) <= 5 && knoop_holiday_name(d) == NULL;
}

int knoop_add_working_days(knoop_date_t d, int n, knoop_date_t *out)
{
    if (out == NULL)
        return -EINVAL;
    const int step = n < 0 ? -1 : 1;
    int64_t day = d.days;
    for (int64_t left = n < 0 ? -(int64_t)n : n; left > 0;) {
        day += step;
        if (!in_range(day))
            return -ERANGE;
        if (knoop_is_working_day(mkdate((int32_t)day)))
            left--;
    }
    *out = mkdate((int32_t)day);
    return 0;
}

int knoop_working_days_between(knoop_date_t from, knoop_date_t to)
{
    int count = 0;
    if (to.days >= from.days) {
        for (int64_t day = (int64_t)from.days + 1; day <= to.days; day++)
            count += knoop_is_working_day(mkdate((int32_t)day));
        return count;
    }
    for (int64_t day = to.days; day < from.days; day++)
        count += knoop_is_working_day(mkdate((int32_t)day));
    return -count;
}

knoop_date_t knoop_working_day_on_or_after(knoop_date_t d)
{
    while (!knoop_is_working_day(d) && d.days < DAYS_MAX)
        d.days++;
    return d;
}

int knoop_atw_term_end(knoop_date_t start, int days, knoop_date_t *out)
{
    if (out == NULL || days < 0)
        return -EINVAL;
    int64_t end = (int64_t)start.days + days;
    if (!in_range(end))
        return -ERANGE;
    knoop_date_t e = mkdate((int32_t)end);
    /* Art. 2: each day added is checked, so the extension stops on a working day and art. 1 holds. */
    if (days >= 3)
        while (knoop_working_days_between(start, e) < 2 && e.days < DAYS_MAX)
            e.days++;
    e = knoop_working_day_on_or_after(e);
    if (!knoop_is_working_day(e))
        return -ERANGE;
    *out = e;
    return 0;
}
