/* cmdwords.c — a command name matched word by word against a command line (see cmdwords.h). */
#include "base/cmdwords.h"
#include <string.h>

int knoop_cmd_words_match(const char *name, int argc, const char *const *argv)
{
    int w = 0;
    for (const char *p = name; *p; w++) {
        size_t len = strcspn(p, " ");
        if (w >= argc || strlen(argv[w]) != len || strncmp(argv[w], p, len) != 0)
            return 0;
        p += len + strspn(p + len, " ");
    }
    return w;
}
