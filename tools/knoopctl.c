/* knoopctl — the operator's command line for knoopd's control socket: sends the words as one JSON request and
 * prints the answer as a table or key: value lines (--json: raw). knoopctl's own options may stand anywhere on the
 * line; a command's options are read from its usage in the command table (control/commands.def, compiled in as
 * data), so a typo is refused here with exit 2 and everything else goes to the daemon, which checks it again.
 * `help` and `-h` work without a running daemon, and so does `keys generate` (a new CURVE key pair, written here).
 * An answer with "follow" (a backup, a drain) is asked again with the words it names until it has none, printing its
 * "progress" as it changes; an answer that is one "text" is printed as it is (`metrics`). */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "base/cmdwords.h"
#include "base/ctl_request.h"
#include "base/curve_key.h"

#define EXIT_USAGE 2
#define WORDS_MAX  64  /* the daemon takes at most 64 words per request */
#define FOLLOW_MS  250 /* how often a long operation is asked again */

/* The daemon's command table as data (control/commands.def): names, roles, usage and help, without the handlers. */
typedef struct ctl_command {
    const char *name, *role, *usage, *help;
} ctl_command_t;
#define ROLE_READ  "read"
#define ROLE_ADMIN "admin"
static const ctl_command_t commands[] = {
#define KNOOP_CMD(name, role, audit, usage, help, fn) {name, ROLE_##role, usage, help},
#include "control/commands.def"
#undef KNOOP_CMD
    {NULL, NULL, NULL, NULL},
};

/* Commands knoopctl runs itself, without a daemon (they touch only local files). */
static const ctl_command_t local_commands[] = {
    {"keys generate", "local", "BASE",
     "write a new CURVE key pair: BASE.key (public and secret, mode 0600) and BASE.pub (public); no daemon needed"},
    {NULL, NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: knoopctl [OPTIONS] COMMAND [ARGS...]   (OPTIONS may also follow the command)\n"
                 "  -s, --socket SOCKET  control socket (default ./var/knoopd.sock, or $KNOOP_CONTROL)\n"
                 "  --json               print the daemon's JSON answer as it is\n"
                 "  -h, --help           this help; after a command, that command's usage\n"
                 "  --                   the words after it go to the daemon as they are\n"
                 "exit status: 0 done, 1 the daemon refused or could not be reached, 2 a usage error\n"
                 "roles: read (anyone who can open the socket), admin (root, knoopd's uid, control_admin_uids and\n"
                 "  members of control_admin_gids)\n"
                 "commands:\n");
    for (const ctl_command_t *c = commands; c->name; c++)
        fprintf(out, "  %-22s %-5s %-26s %s\n", c->name, c->role, c->usage, c->help);
    for (const ctl_command_t *c = local_commands; c->name; c++)
        fprintf(out, "  %-22s %-5s %-26s %s\n", c->name, c->role, c->usage, c->help);
}

/* `keys generate BASE`: the key pair is made and written here; only the public key and its fingerprint are printed
 * (the secret one stays in BASE.key). */
static int keys_generate(int nwords, char **words, bool json)
{
    if (nwords != 3) {
        fprintf(stderr, "knoopctl: usage: knoopctl keys generate BASE (writes BASE.key and BASE.pub)\n");
        return EXIT_USAGE;
    }
    char pub[KNOOP_CURVE_KEY_LEN + 1], fp[KNOOP_CURVE_FINGERPRINT_LEN + 1], err[600];
    if (knoop_curve_keypair_generate(words[2], pub, err, sizeof err) != 0) {
        fprintf(stderr, "knoopctl: %s\n", err);
        return 1;
    }
    knoop_curve_fingerprint(pub, fp);
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s+, s:s+}", "public_key", pub, "fingerprint", fp, "secret_key_file",
                              words[2], ".key", "public_key_file", words[2], ".pub");
        char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
        if (text)
            puts(text);
        free(text);
        json_decref(o);
        return 0;
    }
    printf("public key:  %s\nfingerprint: %s\nsecret file: %s.key (mode 0600: it stays with its owner)\n"
           "public file: %s.pub\n",
           pub, fp, words[2], words[2]);
    return 0;
}

/* ---- the command line ------------------------------------------------------------------------------------ */

/* The longest command the words start with (the daemon's rule: base/cmdwords.h), or NULL. */
static const ctl_command_t *find_command(int n, char **words)
{
    const ctl_command_t *best = NULL;
    int best_words = 0;
    for (const ctl_command_t *c = commands; c->name; c++) {
        int w = knoop_cmd_words_match(c->name, n, (const char *const *)words);
        if (w > best_words) {
            best = c;
            best_words = w;
        }
    }
    return best;
}

/* Whether the command's usage names option opt (as "--opt"), and whether a value follows it there: an upper-case
 * placeholder ("--stream S", "--to TIME|--seq N") rather than another option or nothing ("--all-matching"). */
static bool command_option(const ctl_command_t *c, const char *opt, size_t optlen, bool *takes_value)
{
    const char *seps = " |[]";
    const char *p = c->usage;
    while (*p) {
        p += strspn(p, seps);
        size_t len = strcspn(p, seps);
        if (len == optlen && strncmp(p, opt, len) == 0) {
            const char *next = p + len + strspn(p + len, seps);
            *takes_value = *next >= 'A' && *next <= 'Z';
            return true;
        }
        p += len;
    }
    return false;
}

typedef struct ctl_line {
    const char *socket;
    bool json, help;
    int nwords;
    char *words[WORDS_MAX]; /* borrowed from argv ("--opt=value" is split in place into two words) */
    const ctl_command_t *command;
} ctl_line_t;

static int add_word(ctl_line_t *l, char *w)
{
    if (l->nwords == WORDS_MAX) {
        fprintf(stderr, "knoopctl: more than %d words\n", WORDS_MAX);
        return -E2BIG;
    }
    l->words[l->nwords++] = w;
    l->command = find_command(l->nwords, l->words);
    return 0;
}

static int unknown_option(const ctl_line_t *l, const char *arg)
{
    if (l->command)
        fprintf(stderr,
                "knoopctl: unknown option '%s' for '%s' (it takes: %s; knoopctl's own: -s SOCKET, --json, -h)\n", arg,
                l->command->name, l->command->usage[0] ? l->command->usage : "no arguments");
    else
        fprintf(stderr,
                "knoopctl: unknown option '%s' (knoopctl's options: -s SOCKET, --socket SOCKET, --json, -h, "
                "--help; see knoopctl --help)\n",
                arg);
    return -EINVAL;
}

/* Takes knoopctl's options out of the line wherever they stand; the command's own options and their values stay
 * in the words, in order. A command option wins over a global one of the same name once the command is known. */
static int parse_line(int argc, char **argv, ctl_line_t *l)
{
    bool verbatim = false;
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        if (verbatim || arg[0] != '-' || arg[1] == '\0') {
            if (add_word(l, arg) != 0)
                return -E2BIG;
            continue;
        }
        size_t name_len = strcspn(arg, "=");
        bool takes_value;
        if (l->command && command_option(l->command, arg, name_len, &takes_value)) {
            if (arg[name_len] == '=') { /* "--stream=S": two words, as the daemon reads them */
                if (!takes_value) {
                    fprintf(stderr, "knoopctl: %.*s takes no value\n", (int)name_len, arg);
                    return -EINVAL;
                }
                arg[name_len] = '\0';
                if (add_word(l, arg) != 0 || add_word(l, arg + name_len + 1) != 0)
                    return -E2BIG;
                continue;
            }
            if (add_word(l, arg) != 0)
                return -E2BIG;
            if (takes_value) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "knoopctl: %s needs a value (%s %s)\n", arg, l->command->name, l->command->usage);
                    return -EINVAL;
                }
                if (add_word(l, argv[++i]) != 0)
                    return -E2BIG;
            }
        } else if (strcmp(arg, "--") == 0) {
            verbatim = true;
        } else if (strcmp(arg, "-s") == 0 || strcmp(arg, "--socket") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "knoopctl: %s needs the control socket's path\n", arg);
                return -EINVAL;
            }
            l->socket = argv[++i];
        } else if (strncmp(arg, "--socket=", 9) == 0) {
            l->socket = arg + 9;
        } else if (strcmp(arg, "--json") == 0) {
            l->json = true;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            l->help = true;
        } else {
            return unknown_option(l, arg);
        }
    }
    return 0;
}

/* ---- printing ------------------------------------------------------------------------------------------- */

static void print_cell(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_null(v) || !v)
        snprintf(buf, len, "-");
    else {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(buf, len, "%s", s ? s : "?");
        free(s);
    }
}

static void print_table(json_t *cols, json_t *rows)
{
    size_t ncol = json_array_size(cols), nrow = json_array_size(rows);
    size_t *width = calloc(ncol ? ncol : 1, sizeof *width);
    char cell[512];
    if (!width) {
        fprintf(stderr, "knoopctl: out of memory\n");
        return;
    }
    for (size_t c = 0; c < ncol; c++)
        width[c] = strlen(json_string_value(json_array_get(cols, c)) ? json_string_value(json_array_get(cols, c)) : "");
    for (size_t r = 0; r < nrow; r++)
        for (size_t c = 0; c < ncol; c++) {
            print_cell(json_array_get(json_array_get(rows, r), c), cell, sizeof cell);
            if (strlen(cell) > width[c])
                width[c] = strlen(cell);
        }
    for (size_t c = 0; c < ncol; c++) {
        print_cell(json_array_get(cols, c), cell, sizeof cell);
        printf("%-*s%s", c + 1 < ncol ? (int)width[c] : 0, cell, c + 1 < ncol ? "  " : "\n");
    }
    for (size_t r = 0; r < nrow; r++)
        for (size_t c = 0; c < ncol; c++) {
            print_cell(json_array_get(json_array_get(rows, r), c), cell, sizeof cell);
            printf("%-*s%s", c + 1 < ncol ? (int)width[c] : 0, cell, c + 1 < ncol ? "  " : "\n");
        }
    if (nrow == 0)
        printf("(none)\n");
    free(width);
}

static void print_result(json_t *result)
{
    json_t *text = json_object_get(result, "text");
    if (json_is_string(text) && json_object_size(result) == 1) {
        fputs(json_string_value(text), stdout);
        return;
    }
    /* A document (a report as JSON, CSV or HTML) is printed as it is, so it can be redirected to a file. */
    const char *doc = json_string_value(json_object_get(result, "document"));
    if (doc) {
        fputs(doc, stdout);
        return;
    }
    json_t *cols = json_object_get(result, "columns"), *rows = json_object_get(result, "rows");
    if (json_is_array(cols) && json_is_array(rows)) {
        print_table(cols, rows);
        return;
    }
    const char *key;
    json_t *v;
    char cell[1024];
    json_object_foreach(result, key, v)
    {
        print_cell(v, cell, sizeof cell);
        printf("%s: %s\n", key, cell);
    }
}

/* ---- the request ---------------------------------------------------------------------------------------- */

/* Sends the words as one request line and returns the daemon's answer (NULL after saying why on stderr). */
static json_t *ask(const char *path, int nwords, char **words)
{
    json_t *r;
    char err[4400];
    if (knoop_ctl_request(path, nwords, words, &r, err, sizeof err) != 0) {
        fprintf(stderr, "knoopctl: %s\n", err);
        return NULL;
    }
    return r;
}

/* While the answer names a command to follow with, asks it every FOLLOW_MS and prints each new progress line (on
 * stderr, so stdout holds the final answer only). Returns the last answer (NULL when the daemon went away). */
static json_t *follow(const char *socket, json_t *r)
{
    char last[512] = "";
    for (;;) {
        json_t *result = json_object_get(r, "result");
        json_t *words = json_object_get(result, "follow");
        if (!json_is_true(json_object_get(r, "ok")) || !json_is_array(words))
            break;
        const char *progress = json_string_value(json_object_get(result, "progress"));
        if (progress && strcmp(progress, last) != 0) {
            fprintf(stderr, "%s\n", progress);
            snprintf(last, sizeof last, "%s", progress);
        }
        char *argv[WORDS_MAX];
        int n = 0;
        for (size_t i = 0; i < json_array_size(words) && n < WORDS_MAX; i++)
            if (json_is_string(json_array_get(words, i)))
                argv[n++] = (char *)json_string_value(json_array_get(words, i));
        struct timespec ts = {.tv_sec = 0, .tv_nsec = FOLLOW_MS * 1000000L};
        nanosleep(&ts, NULL);
        json_t *next = ask(socket, n, argv);
        json_decref(r);
        if (!next)
            return NULL;
        r = next;
    }
    return r;
}

int main(int argc, char **argv)
{
    ctl_line_t l = {.socket = getenv("KNOOP_CONTROL") ? getenv("KNOOP_CONTROL") : "./var/knoopd.sock"};
    if (parse_line(argc, argv, &l) != 0)
        return EXIT_USAGE;
    if (l.help && l.command && strcmp(l.command->name, "help") != 0) {
        printf("usage: knoopctl [OPTIONS] %s %s\n  %s\n  role: %s\n", l.command->name, l.command->usage,
               l.command->help, l.command->role);
        return 0;
    }
    if (l.help || (l.nwords > 0 && strcmp(l.words[0], "help") == 0 && l.nwords == 1 && !l.json)) {
        usage(stdout);
        return 0;
    }
    if (l.nwords == 0) {
        fprintf(stderr, "knoopctl: no command given\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    if (knoop_cmd_words_match(local_commands[0].name, l.nwords, (const char *const *)l.words) == 2)
        return keys_generate(l.nwords, l.words, l.json);
    json_t *r = ask(l.socket, l.nwords, l.words);
    if (r && !l.json)
        r = follow(l.socket, r);
    if (!r)
        return 1;
    int ok = json_is_true(json_object_get(r, "ok"));
    if (l.json) {
        char *s = json_dumps(r, JSON_INDENT(2));
        if (s)
            puts(s);
        free(s);
    } else if (ok) {
        print_result(json_object_get(r, "result"));
    } else {
        const char *error = json_string_value(json_object_get(r, "error"));
        fprintf(stderr, "knoopctl: %s\n", error ? error : "the daemon refused without saying why");
    }
    json_decref(r);
    return ok ? 0 : 1;
}
