/* fuzz_config.c — the YAML configuration loader on hostile text: every input is either a configuration that passed
 * every check or an error with a message; nothing crashes or leaks (the same path `knoopd -t` and SIGHUP take). */
#include <stdlib.h>
#include "config/config.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    knoop_config_t *config = NULL;
    char err[1024] = "";
    int rc = knoop_config_load_text("fuzz.yaml", (const char *)data, size, &config, err, sizeof err);
    if (rc == 0 && !config)
        abort();
    if (rc != 0 && err[0] == '\0')
        abort(); /* a refusal must say why */
    knoop_config_destroy(&config);
    return 0;
}
