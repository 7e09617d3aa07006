/* retention_spec.c — parses retention_per_kind: a comma-separated list of KIND=DURATION, each an error an operator
 * can act on when wrong (the kind names, the units). */
#include "config/retention_spec.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "knoop/names.h"

typedef struct unit {
    char suffix;
    int64_t seconds;
} unit_t;

static const unit_t units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};

int knoop_retention_parse(const char *spec, uint64_t default_days, int64_t out_s[KNOOP_RETENTION_KINDS], char *err,
                          size_t errlen)
{
    for (int k = 0; k < KNOOP_RETENTION_KINDS; k++)
        out_s[k] = (int64_t)default_days * 86400;
    const char *p = spec ? spec : "";
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        char name[32];
        size_t n = strcspn(p, "=, ");
        if (n == 0 || n >= sizeof name || p[n] != '=') {
            snprintf(err, errlen,
                     "retention_per_kind: expected KIND=DURATION at '%.20s' (e.g. "
                     "\"outcome-report=3650d, alert=90d\")",
                     p);
            return -EINVAL;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        int kind = knoop_kind_parse(name);
        if (kind <= 0 || kind >= KNOOP_RETENTION_KINDS) {
            snprintf(err, errlen,
                     "retention_per_kind: unknown kind '%s' (referral, assignment, start, stop, "
                     "assignment-request, change-request, answer, declaration, declaration-answer, retour, "
                     "plan-update, outcome-report, alert, other)",
                     name);
            return -EINVAL;
        }
        p += n + 1;
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v <= 0) {
            snprintf(err, errlen, "retention_per_kind: %s needs a positive number with unit s, m, h or d", name);
            return -EINVAL;
        }
        int64_t mult = 86400; /* no unit: days, like retention_days */
        if (isalpha((unsigned char)*end)) {
            mult = 0;
            for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
                if (*end == units[u].suffix)
                    mult = units[u].seconds;
            if (!mult) {
                snprintf(err, errlen, "retention_per_kind: %s: unit '%c' is not s, m, h or d", name, *end);
                return -EINVAL;
            }
            end++;
        }
        if (v > 36500LL * 86400 / mult) {
            snprintf(err, errlen, "retention_per_kind: %s: longer than 100 years", name);
            return -EINVAL;
        }
        out_s[kind] = (int64_t)v * mult;
        p = end;
        if (*p && *p != ',' && !isspace((unsigned char)*p)) {
            snprintf(err, errlen, "retention_per_kind: unexpected '%.10s' after %s", p, name);
            return -EINVAL;
        }
    }
    return 0;
}
