/* control_time.c — ISO-8601 UTC in and out for control commands, by the days-from-civil algorithm (H. Hinnant):
 * exact for the proleptic Gregorian calendar, independent of the process's time zone. */
#include "control/control_time.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/civil.h"

void knoop_time_format_us(int64_t us, char *out, size_t len)
{
    int64_t s = us / 1000000 - (us % 1000000 < 0);
    int64_t days = s / 86400 - (s % 86400 < 0), rem = s - days * 86400;
    int64_t y;
    int m, d;
    knoop_civil_from_days(days, &y, &m, &d);
    snprintf(out, len, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
             (int)(rem % 60));
}

int knoop_time_parse_us(const char *text, int64_t *out_us)
{
    char *end;
    if (!text || !*text)
        return -EINVAL;
    if (strspn(text, "0123456789") == strlen(text)) {
        long long s = strtoll(text, &end, 10);
        if (*end || s < 0 || s > 253402300799LL)
            return -EINVAL;
        *out_us = (int64_t)s * 1000000;
        return 0;
    }
    int y, mo, d, h = 0, mi = 0, n = 0;
    double sec = 0;
    if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        return -EINVAL;
    const char *p = text + n;
    if (*p == 'T') {
        int k = 0;
        if (sscanf(p, "T%2d:%2d:%lf%n", &h, &mi, &sec, &k) != 3)
            return -EINVAL;
        p += k;
        if (*p != 'Z')
            return -EINVAL; /* UTC only: say so with Z */
        p++;
    }
    /* sscanf's %d takes a sign and %lf takes "nan" and "inf": the range test is written so NaN fails it too (a NaN
     * converted to an integer below is undefined behaviour). */
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || !(sec >= 0 && sec < 61))
        return -EINVAL;
    int64_t days = knoop_days_from_civil(y, mo, d);
    *out_us = ((days * 86400 + h * 3600 + mi * 60) * 1000000) + (int64_t)(sec * 1e6 + 0.5);
    return 0;
}
