/* knoopctl — the operator's command line for knoopd's control socket: sends the words as one JSON request and
 * prints the answer as a table or key: value lines (--json: raw). `help` works without a running daemon: it
 * prints the same command table the daemon dispatches from. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The daemon's command table as data (control/commands.def): names, usage and help, without the handlers. */
typedef struct ctl_command {
    const char *name, *usage, *help;
} ctl_command_t;
static const ctl_command_t commands[] = {
#define KNOOP_CMD(name, usage, help, fn) {name, usage, help},
#include "control/commands.def"
#undef KNOOP_CMD
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: knoopctl [-s SOCKET] [--json] COMMAND [ARGS...]\n"
                 "  -s SOCKET  control socket (default ./var/knoopd.sock, or $KNOOP_CONTROL)\n"
                 "  --json     print the daemon's JSON answer as it is\n"
                 "commands:\n");
    for (const ctl_command_t *c = commands; c->name; c++)
        fprintf(out, "  %-22s %-26s %s\n", c->name, c->usage, c->help);
}

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
    size_t *width = calloc(ncol, sizeof *width);
    char cell[512];
    for (size_t c = 0; c < ncol; c++)
        width[c] = strlen(json_string_value(json_array_get(cols, c)));
    for (size_t r = 0; r < nrow; r++)
        for (size_t c = 0; c < ncol; c++) {
            print_cell(json_array_get(json_array_get(rows, r), c), cell, sizeof cell);
            if (strlen(cell) > width[c])
                width[c] = strlen(cell);
        }
    for (size_t c = 0; c < ncol; c++)
        printf("%-*s%s", c + 1 < ncol ? (int)width[c] : 0, json_string_value(json_array_get(cols, c)),
               c + 1 < ncol ? "  " : "\n");
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

int main(int argc, char **argv)
{
    const char *path = getenv("KNOOP_CONTROL") ? getenv("KNOOP_CONTROL") : "./var/knoopd.sock";
    int raw = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            raw = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[i], "help") == 0 && !raw) {
        usage(stdout);
        return 0;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "knoopctl: cannot connect to %s: %s (is knoopd running? use -s SOCKET)\n", path,
                strerror(errno));
        return 1;
    }
    json_t *jargv = json_array();
    for (int a = i; a < argc; a++)
        json_array_append_new(jargv, json_string(argv[a]));
    json_t *req = json_pack("{s:o}", "argv", jargv);
    char *line = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    size_t n = strlen(line);
    line = realloc(line, n + 2);
    line[n] = '\n';
    if (write(fd, line, n + 1) != (ssize_t)(n + 1)) {
        fprintf(stderr, "knoopctl: write failed: %s\n", strerror(errno));
        return 1;
    }
    free(line);
    size_t cap = 65536, len = 0;
    char *resp = malloc(cap);
    for (;;) {
        if (len + 1 >= cap)
            resp = realloc(resp, cap *= 2);
        ssize_t got = read(fd, resp + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
        if (memchr(resp + len - (size_t)got, '\n', (size_t)got))
            break;
    }
    close(fd);
    resp[len] = '\0';
    json_error_t jerr;
    json_t *r = json_loads(resp, 0, &jerr);
    free(resp);
    if (!r) {
        fprintf(stderr, "knoopctl: the daemon's answer is not JSON: %s\n", jerr.text);
        return 1;
    }
    int ok = json_is_true(json_object_get(r, "ok"));
    if (raw) {
        char *s = json_dumps(r, JSON_INDENT(2));
        puts(s);
        free(s);
    } else if (ok) {
        print_result(json_object_get(r, "result"));
    } else {
        fprintf(stderr, "knoopctl: %s\n", json_string_value(json_object_get(r, "error")));
    }
    json_decref(r);
    return ok ? 0 : 1;
}
