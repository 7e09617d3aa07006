/* knoop-xml.c — integrators' tool for iWmo 3.2 / iJw 3.2 files: validate them as knoopd would (levels 1 and 2),
 * print the retour (or 325) knoop would send, or show the decoded envelope fields with BSNs masked. */
#include "istd/istd.h"
#include "base/civil.h"
#include <stdbool.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>

static const char *usage =
    "usage: knoop-xml [--schemas DIR] [--today YYYY-MM-DD] validate FILE...\n"
    "       knoop-xml [--schemas DIR] [--today YYYY-MM-DD] retour FILE\n"
    "       knoop-xml [--schemas DIR] show FILE\n"
    "  validate  prints 'FILE: ok' or every error with its level (1 schema, 2 rule), code and line;\n"
    "            exits 0 only when every file is valid\n"
    "  retour    prints the retour (302/306/...; 325 for a 323) knoop would send\n"
    "  show      prints the decoded envelope fields (BSNs masked)\n"
    "  --schemas defaults to $KNOOP_SCHEMAS, else adapters/istd/schemas of the repository holding this binary\n";

/* Reads at most limit+1 bytes so that an oversized file reaches the adapter's own size check. */
static int read_file(const char *path, size_t limit, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n == cap) {
            if (cap > limit)
                break;
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
        size_t r = fread(b + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    if (!b)
        return -ENOMEM;
    *buf = b;
    *len = n;
    return 0;
}

static void default_schemas(char *out, size_t cap)
{
    const char *env = getenv("KNOOP_SCHEMAS");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0'; /* .../build */
        slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0'; /* repository root */
        int w = snprintf(out, cap, "%.*s/adapters/istd/schemas", (int)(cap > 64 ? cap - 64 : 0), exe);
        if (w > 0 && (size_t)w < cap && access(out, R_OK) == 0)
            return;
    }
    snprintf(out, cap, "adapters/istd/schemas");
}

/* The start (01:00 UTC) of the last Sunday of a month, in seconds since the epoch: where EU summer time begins
 * (March) or ends (October). */
static int64_t last_sunday_0100_utc(int64_t y, int m)
{
    int64_t last = knoop_days_from_civil(y, m, knoop_days_in_month(y, m));
    int64_t sunday = last - ((last + 4) % 7); /* 1970-01-01 was a Thursday: (days + 4) % 7 == 0 on Sundays */
    return sunday * 86400 + 3600;
}

/* Today as the iStandaarden count it: the date in the Netherlands (CET/CEST), like knoopd's retours, so a retour
 * knoopd dated after 23:00 UTC is not "in the future" for this tool. */
static void today_str(char *out, size_t cap)
{
    int64_t now = (int64_t)time(NULL), y;
    int m, d;
    knoop_civil_from_days(now / 86400, &y, &m, &d);
    bool summer = now >= last_sunday_0100_utc(y, 3) && now < last_sunday_0100_utc(y, 10);
    knoop_civil_from_days((now + (summer ? 7200 : 3600)) / 86400, &y, &m, &d);
    snprintf(out, cap, "%04lld-%02d-%02d", (long long)y, m, d);
}

static void print_errors(const char *file, const knoop_istd_errors_t *e)
{
    for (size_t i = 0; i < e->n; i++) {
        const knoop_istd_error_t *x = &e->v[i];
        if (x->level == KNOOP_ISTD_LEVEL_RULE)
            printf("%s:%d: level 2 rule %s retourcode %s: %s\n", file, x->line, x->rule ? x->rule : "?", x->code,
                   x->message);
        else
            printf("%s:%d: level 1: %s\n", file, x->line, x->message); /* parse errors count as level 1 */
    }
    if (e->dropped)
        printf("%s: %zu more errors not shown\n", file, e->dropped);
}

static int load(const knoop_istd_schemas_t *s, const char *file, knoop_istd_msg_t **m, knoop_istd_errors_t *e)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(file, KNOOP_ISTD_MAX_BYTES_DEFAULT, &buf, &len);
    if (rc < 0) {
        knoop_istd_errors_add(e, KNOOP_ISTD_LEVEL_PARSE, NULL, NULL, 0, NULL, "cannot read: %s", strerror(-rc));
        return rc;
    }
    rc = knoop_istd_decode(s, buf, len, NULL, m, e);
    free(buf);
    return rc;
}

static int cmd_validate(const knoop_istd_schemas_t *s, const char *today, char **files, int n)
{
    int bad = 0;
    knoop_istd_check_opts_t opts = {.today = today};
    for (int i = 0; i < n; i++) {
        knoop_istd_errors_t e = {0};
        knoop_istd_msg_t *m = NULL;
        if (load(s, files[i], &m, &e) == 0)
            knoop_istd_check(m, &opts, &e);
        if (e.n == 0)
            printf("%s: ok\n", files[i]);
        else {
            print_errors(files[i], &e);
            bad++;
        }
        knoop_istd_msg_destroy(&m);
        knoop_istd_errors_clear(&e);
    }
    return bad ? 1 : 0;
}

static int cmd_retour(const knoop_istd_schemas_t *s, const char *today, const char *file)
{
    knoop_istd_errors_t e = {0};
    knoop_istd_msg_t *m = NULL;
    int rc = load(s, file, &m, &e);
    if (rc < 0) {
        print_errors(file, &e);
        fprintf(stderr, "%s: level-1 failure: no retour is sent, the sender gets these errors\n", file);
        knoop_istd_errors_clear(&e);
        return 1;
    }
    knoop_istd_check_opts_t opts = {.today = today};
    knoop_istd_check(m, &opts, &e);
    const knoop_istd_type_t *a = knoop_istd_type_find(m->type->standard, m->type->answer);
    if (!a) {
        fprintf(stderr, "%s: %s has no retour\n", file, m->type->name);
        knoop_istd_msg_destroy(&m);
        knoop_istd_errors_clear(&e);
        return 1;
    }
    char id[16];
    snprintf(id, sizeof id, "%s%s0001", m->type->number == 323 ? "DA" : "R", a->berichtcode);
    knoop_istd_retour_opts_t ro = {.identificatie = id, .dagtekening = today};
    xmlDoc *doc = NULL;
    char *xml = NULL;
    rc = knoop_istd_retour(s, m, &e, &ro, &doc);
    if (rc == 0)
        rc = knoop_istd_encode_doc(doc, &xml, NULL);
    if (rc == 0)
        fputs(xml, stdout);
    else
        fprintf(stderr, "%s: cannot build the retour: %s\n", file, strerror(-rc));
    free(xml);
    if (doc)
        xmlFreeDoc(doc);
    knoop_istd_msg_destroy(&m);
    knoop_istd_errors_clear(&e);
    return rc == 0 ? 0 : 1;
}

static void masked(const char *bsn, char *out, size_t cap)
{
    snprintf(out, cap, "%.4s*****", bsn);
}

static int cmd_show(const knoop_istd_schemas_t *s, const char *file)
{
    knoop_istd_errors_t e = {0};
    knoop_istd_msg_t *m = NULL;
    if (load(s, file, &m, &e) < 0) {
        print_errors(file, &e);
        knoop_istd_errors_clear(&e);
        return 1;
    }
    printf("file:           %s\n", file);
    printf("standard:       %s\n", knoop_istd_standard_name(m->type->standard));
    printf("message:        %s (BerichtCode %s, versie %s.%s)\n", m->type->name, m->berichtcode, m->versie,
           m->subversie);
    printf("kind:           %d\n", m->type->kind);
    printf("sender:         %s\n", knoop_istd_msg_sender(m));
    printf("receiver:       %s\n", knoop_istd_msg_receiver(m));
    printf("identificatie:  %s\n", knoop_istd_msg_identificatie(m));
    printf("dagtekening:    %s\n", knoop_istd_msg_dagtekening(m));
    if (knoop_istd_msg_is_retour(m))
        printf("answers:        %s (%s), Header Afzender %s\n", m->identificatie, m->dagtekening, m->afzender);
    else if (m->identificatie_retour[0])
        printf("declaratie:     %s (%s)\n", m->identificatie_retour, m->dagtekening_retour);
    printf("clients:        %zu\n", m->n_clients);
    for (size_t i = 0; i < m->n_clients; i++) {
        char b[16];
        masked(m->clients[i].bsn, b, sizeof b);
        printf("  client %zu:     %s\n", i + 1, b);
    }
    printf("lines:          %zu\n", m->n_lines);
    for (size_t i = 0; i < m->n_lines; i++) {
        const knoop_istd_line_t *l = &m->lines[i];
        printf("  line %zu:       toewijzing=%s product=%s/%s period=%s..%s", i + 1, l->toewijzing, l->categorie,
               l->code[0] ? l->code : "-", l->begin[0] ? l->begin : "-", l->end[0] ? l->end : "-");
        if (l->volume >= 0)
            printf(" volume=%lld eenheid=%s", l->volume, l->eenheid);
        if (m->type->number == 323 || m->type->number == 325)
            printf(" bedrag=%lld", l->bedrag);
        printf("\n");
    }
    knoop_istd_msg_destroy(&m);
    knoop_istd_errors_clear(&e);
    return 0;
}

int main(int argc, char **argv)
{
    char schemas[PATH_MAX], today[16];
    default_schemas(schemas, sizeof schemas);
    today_str(today, sizeof today);
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--schemas") == 0 && i + 1 < argc)
            snprintf(schemas, sizeof schemas, "%s", argv[++i]);
        else if (strcmp(argv[i], "--today") == 0 && i + 1 < argc)
            snprintf(today, sizeof today, "%s", argv[++i]);
        else if (strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fputs(usage, stderr);
            return 2;
        }
    }
    if (i + 1 >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[i++];
    knoop_istd_errors_t e = {0};
    knoop_istd_schemas_t *s = NULL;
    if (knoop_istd_schemas_new(&s, schemas, &e) < 0) {
        fprintf(stderr, "knoop-xml: cannot load schemas from %s (use --schemas DIR or KNOOP_SCHEMAS)\n", schemas);
        for (size_t k = 0; k < e.n; k++)
            fprintf(stderr, "  %s\n", e.v[k].message);
        knoop_istd_errors_clear(&e);
        return 2;
    }
    int rc;
    if (strcmp(cmd, "validate") == 0)
        rc = cmd_validate(s, today, argv + i, argc - i);
    else if (strcmp(cmd, "retour") == 0 && argc - i == 1)
        rc = cmd_retour(s, today, argv[i]);
    else if (strcmp(cmd, "show") == 0 && argc - i == 1)
        rc = cmd_show(s, argv[i]);
    else {
        fputs(usage, stderr);
        rc = 2;
    }
    knoop_istd_schemas_destroy(&s);
    xmlCleanupParser();
    return rc;
}
