/* control_args.c — one parser for every control command's words (the daemon's half of "refuse what you do not
 * understand"; knoopctl refuses what is not in a command's usage before it sends anything). */
#include "control/control_args.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void known_options(const knoop_ctl_opt_t *opts, char *out, size_t len)
{
    out[0] = '\0';
    for (const knoop_ctl_opt_t *o = opts; o->name; o++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", o == opts ? "" : ", ", o->name);
}

int knoop_ctl_args(int argc, const char *const *argv, const knoop_ctl_opt_t *opts, const char **pos, int npos,
                   char *error, size_t errlen)
{
    int npos_seen = 0;
    for (int k = 0; k < npos; k++)
        pos[k] = NULL;
    for (const knoop_ctl_opt_t *o = opts; o->name; o++) {
        if (o->value)
            *o->value = NULL;
        else if (o->flag)
            *o->flag = false;
    }
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (w[0] != '-') {
            if (npos_seen >= npos)
                return snprintf(error, errlen, "unexpected argument '%s'", w), -EINVAL;
            pos[npos_seen++] = w;
            continue;
        }
        const knoop_ctl_opt_t *o = opts;
        while (o->name && strcmp(o->name, w) != 0)
            o++;
        if (!o->name) {
            char known[256];
            known_options(opts, known, sizeof known);
            if (known[0])
                return snprintf(error, errlen, "unknown option '%s' (this command takes %s)", w, known), -EINVAL;
            return snprintf(error, errlen, "unknown option '%s' (this command takes no options)", w), -EINVAL;
        }
        if (o->value) {
            if (*o->value)
                return snprintf(error, errlen, "%s given twice", w), -EINVAL;
            if (i + 1 >= argc)
                return snprintf(error, errlen, "%s needs a value", w), -EINVAL;
            *o->value = argv[++i];
        } else {
            if (*o->flag)
                return snprintf(error, errlen, "%s given twice", w), -EINVAL;
            *o->flag = true;
        }
    }
    return 0;
}

int knoop_ctl_number(const char *what, const char *text, int64_t min, int64_t max, int64_t *out, char *error,
                     size_t errlen)
{
    char *end;
    errno = 0;
    bool digits = text && ((text[0] >= '0' && text[0] <= '9') || (text[0] == '-' && text[1] >= '0' && text[1] <= '9'));
    long long v = digits ? strtoll(text, &end, 10) : 0;
    if (!digits || *end || errno != 0 || v < min || v > max)
        return snprintf(error, errlen, "%s wants a number from %" PRId64 " to %" PRId64 ", not '%s'", what, min, max,
                        text ? text : ""),
               -EINVAL;
    *out = (int64_t)v;
    return 0;
}
