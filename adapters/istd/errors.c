/* errors.c — the per-call error list of the istd adapter: parse, schema (level 1) and rule (level 2) errors.
 * libxml2's structured handlers and the rules append here; nothing is ever printed by the library. */
#include "istd/istd.h"
#include "istd/xml_util.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libxml2 quotes offending values in its messages; a BSN must never leave the XML, so every run of
 * 9 or more digits, and any quoted value in a message about a Bsn element, is masked. */
static void mask_bsns(char *m)
{
    bool about_bsn = strstr(m, "Bsn") != NULL;
    for (char *p = m; *p;) {
        if (about_bsn && *p == '\'') {
            char *q = strchr(p + 1, '\'');
            if (!q)
                break;
            for (char *r = p + 1; r < q; r++)
                *r = '*';
            p = q + 1;
            continue;
        }
        if (*p >= '0' && *p <= '9') {
            char *q = p;
            while (*q >= '0' && *q <= '9')
                q++;
            if (q - p >= 9)
                for (char *r = p + 4; r < q; r++)
                    *r = '*';
            p = q;
            continue;
        }
        p++;
    }
}

void knoop_istd_errors_clear(knoop_istd_errors_t *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i].message);
    free(e->v);
    memset(e, 0, sizeof *e);
}

int knoop_istd_errors_add(knoop_istd_errors_t *e, int level, const char *code, const char *rule, int line,
                          const xmlNode *klasse, const char *fmt, ...)
{
    if (!e)
        return 0;
    if (e->n >= KNOOP_ISTD_MAX_ERRORS) {
        e->dropped++;
        return 0;
    }
    void *grown = knoop_istd_grow(e->v, &e->cap, e->n, sizeof *e->v);
    if (!grown)
        return -ENOMEM;
    e->v = grown;
    knoop_istd_error_t *x = &e->v[e->n];
    memset(x, 0, sizeof *x);
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        len = 0;
    x->message = malloc((size_t)len + 1);
    if (!x->message)
        return -ENOMEM;
    va_start(ap, fmt);
    vsnprintf(x->message, (size_t)len + 1, fmt, ap);
    va_end(ap);
    if (level < KNOOP_ISTD_LEVEL_RULE)
        mask_bsns(x->message);
    /* libxml2 messages end in a newline */
    while (len > 0 && (x->message[len - 1] == '\n' || x->message[len - 1] == ' '))
        x->message[--len] = '\0';
    x->level = level;
    if (code)
        snprintf(x->code, sizeof x->code, "%s", code);
    x->rule = rule;
    x->line = line;
    x->klasse = klasse;
    e->n++;
    return 0;
}

size_t knoop_istd_errors_count(const knoop_istd_errors_t *e, int level)
{
    size_t c = 0;
    for (size_t i = 0; e && i < e->n; i++)
        if (level < 0 || e->v[i].level == level)
            c++;
    return c;
}
