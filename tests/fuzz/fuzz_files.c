/* fuzz_files.c — the file-exchange adapter's parsers on hostile bytes: the root-element detection of a dropped file
 * (no entity is ever expanded, a DOCTYPE is refused), the inbox name filter and the outbox name builder, whose
 * output must stay a plain file name (no '/', no leading '.', only [A-Za-z0-9_.-]). */
#include <stdlib.h>
#include <string.h>
#include "files/files.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char ct[128], type[32], why[256];
    knoop_files_detect((const char *)data, size, ct, sizeof ct, type, sizeof type, why, sizeof why);

    /* The same bytes as three strings: message type, Identificatie, content type. */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    char *parts[3] = {s, "", ""};
    for (int i = 1; i < 3; i++) {
        char *nl = parts[i - 1][0] ? strchr(parts[i - 1], '\n') : NULL;
        if (nl) {
            *nl = '\0';
            parts[i] = nl + 1;
        }
    }
    knoop_files_ignored_name(parts[0]);
    char name[256];
    knoop_files_outbox_name((unsigned long long)size * 7919u, parts[0], parts[1], parts[2], name, sizeof name);
    if (name[0] == '.' || strchr(name, '/') != NULL ||
        strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvw"
                     "xyz0123456789_.-") != strlen(name))
        abort(); /* an outbox name that could leave the folder or hide: a bug */
    free(s);
    return 0;
}
