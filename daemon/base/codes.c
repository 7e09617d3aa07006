/* codes.c — shape checks for party codes and the BSN 11-test (elfproef).
 * The elfproef: sum of digit[i] * (9 - i) for i = 0..7, minus digit[8], must be divisible by 11. */
#include "base/codes.h"
#include <string.h>

bool knoop_code_is_digits(const char *s, size_t n)
{
    if (s == NULL || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool knoop_code_is_cbs(const char *s)
{
    return knoop_code_is_digits(s, 4);
}
bool knoop_code_is_uzovi(const char *s)
{
    return knoop_code_is_digits(s, 4);
}
bool knoop_code_is_agb(const char *s)
{
    return knoop_code_is_digits(s, 8);
}

bool knoop_code_is_party(const char *s)
{
    return knoop_code_is_cbs(s) || knoop_code_is_agb(s);
}

bool knoop_bsn_is_valid(const char *s)
{
    if (!knoop_code_is_digits(s, 9))
        return false;
    int sum = 0;
    for (int i = 0; i < 8; i++)
        sum += (s[i] - '0') * (9 - i);
    sum -= s[8] - '0';
    /* 000000000 passes the arithmetic but is not a citizen number. */
    return sum % 11 == 0 && strcmp(s, "000000000") != 0;
}

long knoop_agb_find(const char *s, size_t len, const char *const *codes, size_t n, size_t *which)
{
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            run = 0;
            continue;
        }
        if (++run < 8)
            continue;
        const char *w = s + i - 7; /* every 8-digit window of a digit run: "1999900012" holds 99990001 */
        for (size_t k = 0; k < n; k++)
            if (memcmp(w, codes[k], 8) == 0) {
                if (which)
                    *which = k;
                return (long)(i - 7);
            }
    }
    return -1;
}
