/* civil.h — the proleptic Gregorian calendar as a day count (days since 1970-01-01), by Howard Hinnant's
 * days_from_civil / civil_from_days: exact for any year, no tables, no loops, no time zone. */
#ifndef KNOOP_BASE_CIVIL_H
#define KNOOP_BASE_CIVIL_H
#include <stdbool.h>
#include <stdint.h>

int64_t knoop_days_from_civil(int64_t y, int m, int d);
void knoop_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
bool knoop_is_leap_year(int64_t y);
int knoop_days_in_month(int64_t y, int m); /* 28..31; 0 for a month outside 1..12 */
/* Exactly "YYYY-MM-DD" of a day that exists (years 1900..9999) to its day count; -EINVAL for anything else. */
int knoop_civil_parse(const char *s, int32_t *days);
/* The day as "YYYY-MM-DD" into buf (at least 11 bytes). */
void knoop_civil_format(int32_t days, char buf[11]);
#endif
