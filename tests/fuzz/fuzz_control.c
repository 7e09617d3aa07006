/* fuzz_control.c — the control socket's requests on hostile bytes: lines as control.c frames them, JSON as jansson
 * reads them, the request's shape and command (knoop_control_parse), the admin rule, and each command's arguments
 * checked as its handler checks them, without running the command: no broker, journal or socket. Every refusal must
 * become a JSON response (a response jansson cannot make closes the operator's connection instead of answering). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/cmdwords.h"
#include "base/codes.h"
#include "base/curve_key.h"
#include "base/textfmt.h"
#include "config/config.h"
#include "control/control.h"
#include "control/control_args.h"
#include "control/control_time.h"
#include "finance/calendar.h"
#include "finance/render.h"
#include "fuzz.h"
#include "knoop.pb-c.h"
#include "knoop/names.h"

#define LINES_MAX 8 /* requests per input: one connection sends several lines */
#define OPTS_MAX  16

static knoop_config_t *config;
static knoop_control_peer_t peers[3]; /* unknown to the kernel, an ordinary user, root */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[1024];
    if (knoop_config_load_demo(&config, err, sizeof err) != 0 || !config->network) {
        fprintf(stderr, "fuzz_control: the embedded demo configuration does not load: %s\n", err);
        abort();
    }
    peers[1] = (knoop_control_peer_t){.known = true, .uid = 64000, .gid = 64000, .actor = "control uid=64000"};
    peers[2] = (knoop_control_peer_t){.known = true, .uid = 0, .gid = 0, .actor = "control uid=0"};
    return 0;
}

/* What control.c's respond() does with a response: it must exist and serialise. */
static void answer(json_t *response)
{
    if (!response)
        abort();
    char *text = json_dumps(response, JSON_COMPACT);
    if (!text)
        abort();
    free(text);
    json_decref(response);
}

/* A refusal as knoop_control_execute answers it: {"ok": false, "command": ..., "error": ...}. */
static void refuse(const knoop_control_cmd_t *c, const char *error)
{
    if (!error[0])
        abort(); /* a refusal says why */
    answer(knoop_control_refusal(c->name, error));
}

/* The command's options as its usage names them (the grammar commands.def documents, which knoopctl reads too):
 * "--opt" followed by an upper-case placeholder takes a value, else it is a flag. Values land in vals, flags in
 * flags; the placeholder of each is kept to pick the check the handler applies. */
typedef struct usage_opts {
    knoop_ctl_opt_t opts[OPTS_MAX + 1];
    char names[OPTS_MAX][32];
    char placeholders[OPTS_MAX][16];
    const char *vals[OPTS_MAX];
    bool flags[OPTS_MAX];
    int n, npos;
    char pos_placeholder[16];
} usage_opts_t;

static void read_usage(const char *usage, usage_opts_t *u)
{
    memset(u, 0, sizeof *u);
    const char *seps = " |[]";
    for (const char *p = usage; *p;) {
        p += strspn(p, seps);
        size_t len = strcspn(p, seps);
        if (len == 0)
            break;
        const char *next = p + len + strspn(p + len, seps);
        if (p[0] == '-' && u->n < OPTS_MAX) {
            snprintf(u->names[u->n], sizeof u->names[u->n], "%.*s", (int)len, p);
            bool value = *next >= 'A' && *next <= 'Z';
            u->opts[u->n].name = u->names[u->n];
            if (value) {
                u->opts[u->n].value = &u->vals[u->n];
                snprintf(u->placeholders[u->n], sizeof u->placeholders[u->n], "%.*s", (int)strcspn(next, seps), next);
                next += strcspn(next, seps);
            } else {
                u->opts[u->n].flag = &u->flags[u->n];
            }
            u->n++;
        } else if (p[0] >= 'A' && p[0] <= 'Z' && (p == usage || p[-1] == ' ' || p[-1] == '[')) {
            /* a positional word; "PARTY|KEY|FINGERPRINT" is one, "PARTY KEY" two */
            if (u->npos++ == 0)
                snprintf(u->pos_placeholder, sizeof u->pos_placeholder, "%.*s", (int)len, p);
        }
        p = next;
    }
}

/* One argument's value, checked as the handler that takes it checks it; a refusal must be answerable. */
static void check_value(const knoop_control_cmd_t *c, const char *opt, const char *placeholder, const char *v)
{
    char error[1024] = "";
    int64_t n;
    const knoop_network_t *net = config->network;
    if (!strcmp(placeholder, "N") || !strcmp(placeholder, "ID") || !strcmp(placeholder, "SEQ")) {
        if (knoop_ctl_number(opt, v, 1, INT64_MAX, &n, error, sizeof error) != 0)
            refuse(c, error);
    } else if (!strcmp(placeholder, "TIME")) {
        int64_t us;
        char shown[64];
        if (knoop_time_parse_us(v, &us) == 0) {
            knoop_time_format_us(us, shown, sizeof shown);
        } else {
            snprintf(error, sizeof error, "--to wants ISO-8601 UTC (2026-11-23T10:00:00Z) or unix seconds, not '%s'",
                     v);
            refuse(c, error);
        }
    } else if (!strcmp(placeholder, "K")) {
        if (knoop_kind_parse(v) <= 0 && knoop_ctl_number(opt, v, 1, KNOOP__KIND__OTHER, &n, error, sizeof error) != 0)
            refuse(c, error);
    } else if (!strcmp(placeholder, "B") || !strcmp(placeholder, "BSN")) {
        (void)knoop_bsn_is_valid(v);
    } else if (!strcmp(placeholder, "PARTY") || !strcmp(placeholder, "P")) {
        if (knoop_code_is_party(v))
            (void)knoop_network_party(net, v);
        (void)knoop_curve_key_valid(v); /* clients add PARTY KEY, clients revoke PARTY|KEY|FINGERPRINT */
        const knoop_contract_t *k = knoop_network_contract_at(net, 0);
        knoop_period_t period;
        if (k && !strcmp(opt, "--period"))
            (void)knoop_calendar_parse(k, v, &period);
    } else if (!strcmp(placeholder, "C")) {
        (void)knoop_network_contract(net, v);
    } else if (!strcmp(placeholder, "F")) {
        (void)knoop_report_format(v);
    }
}

static void check_arguments(const knoop_control_cmd_t *c, int argc, const char *const *argv)
{
    char error[1024] = "";
    if (!c->usage[0]) { /* knoop_control_execute's rule for a command without arguments */
        if (argc > 0) {
            snprintf(error, sizeof error, "'%s' takes no arguments, not '%s'", c->name, argv[0]);
            refuse(c, error);
        }
        return;
    }
    usage_opts_t u;
    read_usage(c->usage, &u);
    const char *pos[2] = {NULL, NULL};
    int npos = u.npos > 2 ? 2 : u.npos;
    if (knoop_ctl_args(argc, argv, u.opts, pos, npos, error, sizeof error) != 0) {
        refuse(c, error);
        return;
    }
    for (int i = 0; i < npos; i++)
        if (pos[i])
            check_value(c, c->name, u.pos_placeholder, pos[i]);
    for (int i = 0; i < u.n; i++)
        if (u.vals[i])
            check_value(c, u.names[i], u.placeholders[i], u.vals[i]);
}

static void one_line(const char *line, size_t len)
{
    json_error_t jerr;
    json_t *req = json_loadb(line, len, 0, &jerr);
    if (!req) { /* control.c's handle_line */
        answer(knoop_control_not_json(&jerr));
        return;
    }
    knoop_control_parsed_t p;
    const char *bad = NULL;
    int rc = knoop_control_parse(req, &p, &bad);
    if (rc == -ENOENT) {
        answer(json_pack("{s:b, s:s+}", "ok", 0, "error", bad, p.words[0]));
    } else if (rc != 0) {
        if (!bad || !bad[0])
            abort();
        answer(knoop_control_refusal(NULL, bad));
    } else {
        const knoop_control_cmd_t *c = p.cmd;
        if (!c || p.nwords < 1 || p.nwords > KNOOP_CONTROL_WORDS_MAX || p.consumed < 1 || p.consumed > p.nwords ||
            knoop_cmd_words_match(c->name, p.nwords, p.words) != p.consumed)
            abort();
        for (size_t i = 0; c->role == KNOOP_ROLE_ADMIN && i < sizeof peers / sizeof peers[0]; i++) {
            char why[256] = "", error[512];
            if (knoop_control_is_admin(&config->settings, &peers[i], why, sizeof why))
                continue;
            snprintf(error, sizeof error, "'%s' changes the broker and needs an admin: %s", c->name, why);
            refuse(c, error);
        }
        check_arguments(c, p.nwords - p.consumed, p.words + p.consumed);
    }
    json_decref(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t start = 0;
    for (int lines = 0; start < size && lines < LINES_MAX; lines++) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t len = nl ? (size_t)(nl - (text + start)) : size - start;
        one_line(text + start, len);
        start += len + 1;
    }
    return 0;
}
