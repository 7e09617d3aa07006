/* cfg_error.h — the error a configuration check reports: where (a path into the YAML document, such as
 * "network.contracts[3].financier", which config.c turns into a line number) and what, in words an operator can act on. */
#ifndef KNOOP_CFG_ERROR_H
#define KNOOP_CFG_ERROR_H
#include <stdarg.h>
#include <stdio.h>

typedef struct knoop_cfg_error {
    char path[256];    /* e.g. "network.parties[2].code"; "" when the error has no single place */
    char message[512]; /* e.g. "party 0917: contract 'brunssum-wmo' names unknown member 41000009" */
} knoop_cfg_error_t;

/* Fills err (when not NULL) and returns -EINVAL, so a check can `return knoop_cfg_fail(...)`. */
int knoop_cfg_fail(knoop_cfg_error_t *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif
