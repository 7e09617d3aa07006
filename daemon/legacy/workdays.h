/* workdays.h — calendar dates and Dutch working days as the Algemene termijnenwet (Atw) counts them:
 * no Saturdays, Sundays or generally recognised holidays, all computed (Easter by Meeus), never listed. */
#ifndef KNOOP_WORKDAYS_H
#define KNOOP_WORKDAYS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A calendar day: days since 1970-01-01 in the proleptic Gregorian calendar. A value type: copy it,
 * compare `.days`, subtract two of them for a distance in calendar days. Valid for years 1..9999. */
typedef struct knoop_date {
    int32_t days;
} knoop_date_t;

#define KNOOP_DATE_YEAR_MIN 1
#define KNOOP_DATE_YEAR_MAX 9999
#define KNOOP_DATE_STR_SIZE 11 /* "YYYY-MM-DD" and its NUL */

/* y/m/d -> date; -EINVAL when there is no such day (2026-02-29) or the year is out of range. */
int knoop_date_from_ymd(int year, int month, int day, knoop_date_t *out);
void knoop_date_to_ymd(knoop_date_t d, int *year, int *month, int *day); /* any pointer may be NULL */

/* Exactly "YYYY-MM-DD" (nothing before or after); -EINVAL otherwise. */
int knoop_date_parse(const char *s, knoop_date_t *out);
/* Writes "YYYY-MM-DD"; -ENOSPC when size < KNOOP_DATE_STR_SIZE, -ERANGE outside years 1..9999. */
int knoop_date_format(knoop_date_t d, char *buf, size_t size);

/* ISO weekday: 1 = Monday .. 7 = Sunday. */
int knoop_date_weekday(knoop_date_t d);

/* UTC offset of Europe/Amsterdam at a unix time, in seconds: +7200 from the last Sunday of March
 * 01:00 UTC to the last Sunday of October 01:00 UTC (the EU rule since 1996), else +3600.
 * Computed here so that no result depends on the process's TZ. */
int knoop_amsterdam_utc_offset(int64_t unix_seconds);
/* The calendar day in Amsterdam at a unix time; -ERANGE outside years 1..9999. */
int knoop_date_from_unix_amsterdam(int64_t unix_seconds, knoop_date_t *out);

/* Easter Sunday of a Gregorian year (anonymous Gregorian algorithm, Meeus/Jones/Butcher). */
knoop_date_t knoop_easter_sunday(int year);

/* The Dutch name of the Atw holiday on this day ("Tweede Paasdag", "Koningsdag", ...), a static
 * string, or NULL when the day is no holiday. Weekends are not holidays by name. */
const char *knoop_holiday_name(knoop_date_t d);

/* Monday to Friday and not an Atw holiday. */
bool knoop_is_working_day(knoop_date_t d);

/* The n-th working day after d (n > 0), before d (n < 0), or d itself (n == 0). Counting starts on
 * the day after d, so "3 working days after a Friday" is the Wednesday. -ERANGE when the result
 * leaves years 1..9999, -EINVAL when out is NULL. */
int knoop_add_working_days(knoop_date_t d, int n, knoop_date_t *out);

/* The number of working days w with from < w <= to; when to < from, minus the number with
 * to <= w < from. So knoop_working_days_between(d, knoop_add_working_days(d, n)) == n for every n. */
int knoop_working_days_between(knoop_date_t from, knoop_date_t to);

/* d when it is a working day, else the first working day after it (Atw art. 1 lid 1). */
knoop_date_t knoop_working_day_on_or_after(knoop_date_t d);

/* The end of a term of `days` calendar days starting after `start`, as the Atw extends it:
 * a term of at least 3 days is extended until it holds at least two working days (art. 2), and
 * a term ending on a Saturday, Sunday or holiday ends on the next working day (art. 1). Terms
 * counted backwards (art. 1 lid 2) are not this function's business: days < 0 gives -EINVAL. */
int knoop_atw_term_end(knoop_date_t start, int days, knoop_date_t *out);
#endif
