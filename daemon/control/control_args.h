/* control_args.h — the arguments of a control command, parsed against the command's table of options: an option
 * nobody declared, a value missing, an option given twice or a word too many is refused with a message that names
 * it, so a typo never runs a command with a filter silently dropped. */
#ifndef KNOOP_CONTROL_ARGS_H
#define KNOOP_CONTROL_ARGS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct knoop_ctl_opt {
    const char *name;   /* "--stream" */
    const char **value; /* where its value goes; NULL: a flag */
    bool *flag;         /* for a flag: set to true */
} knoop_ctl_opt_t;

/* opts ends with a row whose name is NULL. Words that do not start with '-' fill pos[0..npos) in order (unset ones
 * stay NULL). Returns 0, or -EINVAL with error set. */
int knoop_ctl_args(int argc, const char *const *argv, const knoop_ctl_opt_t *opts, const char **pos, int npos,
                   char *error, size_t errlen);
/* A whole decimal number in [min, max] from text (what names the argument in the message, e.g. "--limit").
 * Returns 0, or -EINVAL with error set. */
int knoop_ctl_number(const char *what, const char *text, int64_t min, int64_t max, int64_t *out, char *error,
                     size_t errlen);
#endif
