/* cfg_error.c — filling a knoop_cfg_error_t; kept apart so every configuration check reports the same way. */
#include "base/cfg_error.h"
#include <errno.h>
#include <string.h>

int knoop_cfg_fail(knoop_cfg_error_t *err, const char *path, const char *fmt, ...)
{
    if (err != NULL) {
        snprintf(err->path, sizeof err->path, "%s", path ? path : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}
