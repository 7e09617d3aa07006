/* config.c — loads knoopd.yaml with libcyaml: a top-level schema of `daemon:` (generated from the settings table)
 * and `network:` (network.c), then the full check; every error is turned into "FILE:LINE: path: message". */
#include "config/config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/network.h"
#include "config/yaml_locate.h"

typedef struct config_doc {
    void **daemon; /* array of knoop_settings_count() pointers, NULL where absent */
    knoop_network_doc_t *network;
} config_doc_t;

/* libcyaml reports errors through its log callback: the message, then a backtrace, innermost first, of the
 * mapping fields and sequence entries it was in, each with its line: "  in mapping field 'x' (line: 2, column: 6)".
 * We keep the first message, the innermost line, and rebuild the path from the backtrace. */
typedef struct cyaml_errors {
    char first[256];
    char frames[16][64];
    int nframes;
    int line;
} cyaml_errors_t;

static void cyaml_log_capture(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    cyaml_errors_t *e = ctx;
    if (level < CYAML_LOG_ERROR)
        return;
    char line[256];
    vsnprintf(line, sizeof line, fmt, args);
    line[strcspn(line, "\n")] = '\0';
    const char *at = strstr(line, "(line: ");
    if (strstr(line, "  in ") == line) {
        if (at && e->line == 0)
            e->line = atoi(at + 7);
        const char *field = strstr(line, "in mapping field '");
        const char *entry = strstr(line, "in sequence entry ");
        if (field && e->nframes < 16) {
            field += strlen("in mapping field '");
            snprintf(e->frames[e->nframes++], 64, ".%.*s", (int)strcspn(field, "'"), field);
        } else if (entry && e->nframes < 16) {
            entry += strlen("in sequence entry ");
            entry += strspn(entry, "'");
            /* libcyaml counts the entries it has read, the failing one included: index = count - 1 */
            int index = atoi(entry) - 1;
            snprintf(e->frames[e->nframes++], 64, "[%d]", index < 0 ? 0 : index);
        }
    } else if (e->first[0] == '\0' && strstr(line, "Backtrace") == NULL) {
        const char *msg = strncmp(line, "Load: ", 6) == 0 ? line + 6 : line;
        snprintf(e->first, sizeof e->first, "%s", msg);
    }
}

static void errors_path(const cyaml_errors_t *e, char *path, size_t len)
{
    size_t used = 0;
    path[0] = '\0';
    for (int i = e->nframes - 1; i >= 0; i--) {
        const char *f = e->frames[i];
        if (used == 0 && f[0] == '.')
            f++;
        int w = snprintf(path + used, len - used, "%s", f);
        if (w < 0 || used + (size_t)w >= len)
            break;
        used += (size_t)w;
    }
}

static void format_error(const char *source, const char *text, size_t len, const char *path, const char *msg, int line,
                         char *errbuf, size_t errlen)
{
    if (line <= 0 && path && path[0])
        line = knoop_yaml_locate(text, len, path);
    if (line > 0)
        snprintf(errbuf, errlen, "%s:%d: %s%s%s", source, line, path, path[0] ? ": " : "", msg);
    else
        snprintf(errbuf, errlen, "%s: %s%s%s", source, path ? path : "", path && path[0] ? ": " : "", msg);
}

int knoop_config_load_text(const char *source, const char *text, size_t len, knoop_config_t **out, char *errbuf,
                           size_t errlen)
{
    size_t nsettings = knoop_settings_count();
    cyaml_schema_field_t *daemon_fields = calloc(nsettings + 1, sizeof *daemon_fields);
    if (!daemon_fields)
        return -ENOMEM;
    knoop_settings_make_fields(daemon_fields);
    const cyaml_schema_field_t top_fields[] = {{.key = "daemon",
                                                .data_offset = offsetof(config_doc_t, daemon),
                                                .value = {.type = CYAML_MAPPING,
                                                          .flags = CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
                                                          .data_size = (uint32_t)(nsettings * sizeof(void *)),
                                                          .mapping = {.fields = daemon_fields}}},
                                               {.key = "network",
                                                .data_offset = offsetof(config_doc_t, network),
                                                .value = {.type = CYAML_MAPPING,
                                                          .flags = CYAML_FLAG_POINTER | CYAML_FLAG_OPTIONAL,
                                                          .data_size = sizeof(knoop_network_doc_t),
                                                          .mapping = {.fields = knoop_network_fields}}},
                                               CYAML_FIELD_END};
    const cyaml_schema_value_t top = {.type = CYAML_MAPPING,
                                      .flags = CYAML_FLAG_POINTER,
                                      .data_size = sizeof(config_doc_t),
                                      .mapping = {.fields = top_fields}};
    cyaml_errors_t errors = {0};
    const cyaml_config_t cyaml_cfg = {.log_fn = cyaml_log_capture,
                                      .log_ctx = &errors,
                                      .mem_fn = cyaml_mem,
                                      .log_level = CYAML_LOG_ERROR,
                                      .flags = CYAML_CFG_DEFAULT};
    config_doc_t *doc = NULL;
    cyaml_err_t cerr = cyaml_load_data((const uint8_t *)text, len, &cyaml_cfg, &top, (void **)&doc, NULL);
    int rc = 0;
    knoop_config_t *cfg = NULL;
    if (cerr != CYAML_OK) {
        char path[256];
        errors_path(&errors, path, sizeof path);
        /* An unknown key is reported on its mapping; point at the key itself. */
        const char *unknown = strncmp(errors.first, "Unexpected key: ", 16) == 0 ? errors.first + 16 : NULL;
        if (unknown) {
            size_t used = strlen(path);
            snprintf(path + used, sizeof path - used, "%s%s", used ? "." : "", unknown);
            errors.line = knoop_yaml_locate(text, len, path);
        }
        format_error(source, text, len, path, errors.first[0] ? errors.first : cyaml_strerror(cerr), errors.line,
                     errbuf, errlen);
        rc = -EINVAL;
        goto done;
    }
    cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        rc = -ENOMEM;
        goto done;
    }
    snprintf(cfg->source, sizeof cfg->source, "%s", source);
    knoop_cfg_error_t err = {0};
    rc = knoop_settings_from_doc(doc ? doc->daemon : NULL, &cfg->settings, &err);
    if (rc == 0 && doc && doc->network)
        rc = knoop_network_build(doc->network, &cfg->network, &err);
    if (rc == 0)
        rc = knoop_settings_check_auth(&cfg->settings, &err);
    if (rc != 0) {
        format_error(source, text, len, err.path, err.message, 0, errbuf, errlen);
        knoop_network_destroy(&cfg->network);
        knoop_settings_free(&cfg->settings);
        free(cfg);
        cfg = NULL;
    }
done:
    if (doc)
        cyaml_free(&cyaml_cfg, &top, doc, 0);
    free(daemon_fields);
    *out = cfg;
    return rc;
}

int knoop_config_load_file(const char *path, knoop_config_t **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(errbuf, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *bigger = realloc(text, cap);
            if (!bigger) {
                free(text);
                fclose(f);
                return -ENOMEM;
            }
            text = bigger;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    int rc = knoop_config_load_text(path, text, len, out, errbuf, errlen);
    free(text);
    return rc;
}

int knoop_config_load_demo(knoop_config_t **out, char *errbuf, size_t errlen)
{
    return knoop_config_load_text("<embedded demo>", knoop_demo_config_yaml, knoop_demo_config_yaml_len, out, errbuf,
                                  errlen);
}

void knoop_config_destroy(knoop_config_t **config)
{
    if (!config || !*config)
        return;
    knoop_settings_free(&(*config)->settings);
    knoop_network_destroy(&(*config)->network);
    free(*config);
    *config = NULL;
}
