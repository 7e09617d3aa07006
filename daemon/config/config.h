/* config.h — knoopd's configuration: one YAML file (or the embedded demo text) with `daemon:` settings and the
 * `network:` of parties and contracts. Loading parses into a new object and checks it fully; callers swap on success. */
#ifndef KNOOP_CONFIG_H
#define KNOOP_CONFIG_H
#include <stddef.h>
#include "config/settings.h"

struct knoop_network;

typedef struct knoop_config {
    knoop_settings_t settings;
    struct knoop_network *network; /* owned; NULL when the file declares no network */
    char source[512];              /* file path, or "<embedded demo>" */
} knoop_config_t;

/* On failure errbuf holds "FILE:LINE: path: message" and the return is negative. */
int knoop_config_load_file(const char *path, knoop_config_t **out, char *errbuf, size_t errlen);
int knoop_config_load_text(const char *source, const char *text, size_t len, knoop_config_t **out, char *errbuf,
                           size_t errlen);
int knoop_config_load_demo(knoop_config_t **out, char *errbuf, size_t errlen);
void knoop_config_destroy(knoop_config_t **config);

/* deploy/knoopd.yaml, compiled in by the build (build/gen/demo_config.c). */
extern const char knoop_demo_config_yaml[];
extern const size_t knoop_demo_config_yaml_len;
#endif
