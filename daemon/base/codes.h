/* codes.h — shape checks for the identities knoop meets at ingress: CBS and UZOVI codes (4 digits),
 * AGB codes (8 digits), BSN (9 digits passing the 11-test). Pure functions, no allocation. */
#ifndef KNOOP_CODES_H
#define KNOOP_CODES_H
#include <stdbool.h>
#include <stddef.h>

bool knoop_code_is_digits(const char *s, size_t n); /* exactly n ASCII digits, nothing else */
bool knoop_code_is_cbs(const char *s);              /* municipality, 4 digits */
bool knoop_code_is_uzovi(const char *s);            /* care office / insurer, 4 digits */
bool knoop_code_is_agb(const char *s);              /* provider, 8 digits */
bool knoop_code_is_party(const char *s);            /* any of the above */
bool knoop_bsn_is_valid(const char *s);             /* 9 digits and the elfproef */
/* Where the first of n AGB codes (each 8 digits) occurs in s[0..len), also inside a longer digit run: its offset, or
 * -1; *which (may be NULL) says which code. One pass; the white-label rewrite and its last check use it. */
long knoop_agb_find(const char *s, size_t len, const char *const *codes, size_t n, size_t *which);
#endif
