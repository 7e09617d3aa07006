/* calendar.c — periods as arithmetic, no tables: a step of whole months (monthly, quarterly, yearly) or of days
 * (4-weekly: 28), counted from an anchor (the contract period's start; without one 1 January 2000, or for a step of
 * days Monday 3 January 2000). A month step keeps the anchor's day of the month, clamped to the month's length. */
#include "finance/calendar.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/civil.h"

typedef struct step {
    int months, days; /* exactly one is non-zero */
} step_t;

static step_t cadence_step(knoop_cadence_t k)
{
    switch (k) {
    case KNOOP_CADENCE_4_WEEKLY:
        return (step_t){0, 28};
    case KNOOP_CADENCE_QUARTERLY:
        return (step_t){3, 0};
    case KNOOP_CADENCE_YEARLY:
        return (step_t){12, 0};
    default:
        return (step_t){1, 0};
    }
}

static step_t unit_step(knoop_price_unit_t u)
{
    switch (u) {
    case KNOOP_UNIT_HOUR:
    case KNOOP_UNIT_DAY:
        return (step_t){0, 1};
    case KNOOP_UNIT_WEEK:
        return (step_t){0, 7};
    case KNOOP_UNIT_4_WEEKS:
        return (step_t){0, 28};
    case KNOOP_UNIT_MONTH:
        return (step_t){1, 0};
    default:
        return (step_t){12, 0};
    }
}

static int32_t anchor_of(const knoop_contract_t *c, step_t s)
{
    if (c && c->period.present)
        return c->period.start;
    return (int32_t)(s.days ? knoop_days_from_civil(2000, 1, 3) : knoop_days_from_civil(2000, 1, 1));
}

/* The start of period k (k may be negative) of a month step. */
static int32_t month_start(int32_t anchor, int months, int64_t k)
{
    int64_t y;
    int m, d;
    knoop_civil_from_days(anchor, &y, &m, &d);
    int64_t idx = y * 12 + (m - 1) + k * months;
    int64_t ny = idx >= 0 ? idx / 12 : -((-idx + 11) / 12);
    int nm = (int)(idx - ny * 12) + 1;
    int nd = d > knoop_days_in_month(ny, nm) ? knoop_days_in_month(ny, nm) : d;
    return (int32_t)knoop_days_from_civil(ny, nm, nd);
}

static knoop_period_t period_at(int32_t anchor, step_t s, int32_t day)
{
    if (s.days) {
        int64_t off = (int64_t)day - anchor;
        int64_t k = off >= 0 ? off / s.days : -((-off + s.days - 1) / s.days);
        int32_t start = (int32_t)(anchor + k * s.days);
        return (knoop_period_t){start, start + s.days - 1};
    }
    int64_t ya, yd;
    int ma, md, da, dd;
    knoop_civil_from_days(anchor, &ya, &ma, &da);
    knoop_civil_from_days(day, &yd, &md, &dd);
    int64_t months = (yd * 12 + md) - (ya * 12 + ma);
    int64_t k = months >= 0 ? months / s.months : -((-months + s.months - 1) / s.months);
    while (month_start(anchor, s.months, k) > day)
        k--;
    while (month_start(anchor, s.months, k + 1) <= day)
        k++;
    return (knoop_period_t){month_start(anchor, s.months, k), month_start(anchor, s.months, k + 1) - 1};
}

knoop_cadence_t knoop_calendar_cadence(const knoop_contract_t *c)
{
    return c && c->indicator_set && c->cadence != KNOOP_CADENCE_NONE ? c->cadence : KNOOP_CADENCE_MONTHLY;
}

knoop_period_t knoop_calendar_period_of(const knoop_contract_t *c, int32_t day)
{
    step_t s = cadence_step(knoop_calendar_cadence(c));
    return period_at(anchor_of(c, s), s, day);
}

knoop_period_t knoop_calendar_budget_period_of(const knoop_contract_t *c, int32_t day)
{
    step_t s = unit_step(c && c->budget.present ? c->budget.period : KNOOP_UNIT_YEAR);
    return period_at(anchor_of(c, s), s, day);
}

knoop_period_t knoop_calendar_prev(const knoop_contract_t *c, knoop_period_t p)
{
    return knoop_calendar_period_of(c, p.start - 1);
}

knoop_period_t knoop_calendar_next(const knoop_contract_t *c, knoop_period_t p)
{
    return knoop_calendar_period_of(c, p.end + 1);
}

void knoop_calendar_label(const knoop_contract_t *c, knoop_period_t p, char *buf, size_t len)
{
    int64_t y, ye;
    int m, d, me, de;
    knoop_civil_from_days(p.start, &y, &m, &d);
    knoop_civil_from_days(p.end + 1, &ye, &me, &de);
    knoop_cadence_t k = knoop_calendar_cadence(c);
    bool calendar_aligned = d == 1 && de == 1; /* starts and ends on month boundaries */
    if (k == KNOOP_CADENCE_YEARLY && calendar_aligned && m == 1)
        snprintf(buf, len, "%04d", (int)y);
    else if (k == KNOOP_CADENCE_QUARTERLY && calendar_aligned && (m - 1) % 3 == 0)
        snprintf(buf, len, "%04d-Q%d", (int)y, (m - 1) / 3 + 1);
    else if (k == KNOOP_CADENCE_MONTHLY && calendar_aligned)
        snprintf(buf, len, "%04d-%02d", (int)y, m);
    else {
        char a[11], b[11];
        knoop_civil_format(p.start, a);
        knoop_civil_format(p.end, b);
        snprintf(buf, len, "%s..%s", a, b);
    }
}

int knoop_calendar_parse(const knoop_contract_t *c, const char *text, knoop_period_t *out)
{
    int32_t day;
    if (text == NULL)
        return -EINVAL;
    size_t n = strlen(text);
    char first[11];
    if (n == 10) {
        if (knoop_civil_parse(text, &day) != 0)
            return -EINVAL;
    } else if (n == 4 && strspn(text, "0123456789") == 4) {
        snprintf(first, sizeof first, "%s-01-01", text);
        if (knoop_civil_parse(first, &day) != 0)
            return -EINVAL;
    } else if (n == 7 && text[4] == '-' && text[5] == 'Q' && text[6] >= '1' && text[6] <= '4') {
        snprintf(first, sizeof first, "%.4s-%02d-01", text, (text[6] - '1') * 3 + 1);
        if (knoop_civil_parse(first, &day) != 0)
            return -EINVAL;
    } else if (n == 7 && text[4] == '-') {
        snprintf(first, sizeof first, "%s-01", text);
        if (knoop_civil_parse(first, &day) != 0)
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    *out = knoop_calendar_period_of(c, day);
    return 0;
}
