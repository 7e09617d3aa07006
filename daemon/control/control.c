/* control.c — the control socket's transport: a libuv pipe server, line framing (a request may be at most
 * 1 MiB; a longer line is answered with an error and the connection closed), JSON in and out with jansson. */
#include "control/control.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>
#include "control/audit.h"
#include "core/broker.h"
#include "base/log.h"

#define LINE_MAX_BYTES (1u << 20)

struct knoop_control {
    knoop_broker_t *b;
    uv_pipe_t server;
    char *path; /* owned */
};

typedef struct control_conn {
    uv_pipe_t pipe;
    knoop_control_t *control;
    char *buf; /* owned: bytes of the current, unfinished line */
    size_t len, cap;
    bool closing;
    char actor[96]; /* "control uid=.. pid=..": who the audit rows of this connection's commands name */
} control_conn_t;

static void conn_closed(uv_handle_t *h)
{
    control_conn_t *c = h->data;
    free(c->buf);
    free(c);
}

static void conn_close(control_conn_t *c)
{
    if (!c->closing) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->pipe, conn_closed);
    }
}

typedef struct write_req {
    uv_write_t req;
    char *data; /* owned */
} write_req_t;

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    write_req_t *w = (write_req_t *)req;
    free(w->data);
    free(w);
}

static void respond(control_conn_t *c, json_t *response)
{
    char *text = json_dumps(response, JSON_COMPACT);
    json_decref(response);
    if (!text)
        return;
    size_t n = strlen(text);
    write_req_t *w = malloc(sizeof *w);
    char *line = realloc(text, n + 2);
    if (!w || !line) {
        free(w);
        free(line ? line : text);
        return;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    w->data = line;
    uv_buf_t buf = uv_buf_init(line, (unsigned)(n + 1));
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, on_written) != 0) {
        free(line);
        free(w);
    }
}

static void handle_line(control_conn_t *c, char *line, size_t len)
{
    json_error_t jerr;
    json_t *req = json_loadb(line, len, 0, &jerr);
    if (!req) {
        respond(c, json_pack("{s:b, s:s+}", "ok", 0, "error", "request is not JSON: ", jerr.text));
        return;
    }
    snprintf(c->control->b->control_actor, sizeof c->control->b->control_actor, "%s", c->actor);
    respond(c, knoop_control_execute(c->control->b, req));
    c->control->b->control_actor[0] = '\0';
    json_decref(req);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    control_conn_t *c = s->data;
    if (nread < 0) {
        free(buf->base);
        conn_close(c);
        return;
    }
    for (ssize_t i = 0; i < nread && !c->closing; i++) {
        char ch = buf->base[i];
        if (ch == '\n') {
            handle_line(c, c->buf, c->len);
            c->len = 0;
            continue;
        }
        if (c->len + 1 > LINE_MAX_BYTES) {
            respond(c, json_pack("{s:b, s:s}", "ok", 0, "error", "request line longer than 1 MiB"));
            conn_close(c);
            break;
        }
        if (c->len + 1 > c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 1024;
            char *n = realloc(c->buf, ncap);
            if (!n) {
                conn_close(c);
                break;
            }
            c->buf = n;
            c->cap = ncap;
        }
        c->buf[c->len++] = ch;
    }
    free(buf->base);
}

static void on_connection(uv_stream_t *server, int status)
{
    knoop_control_t *ctl = server->data;
    if (status < 0)
        return;
    control_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->control = ctl;
    uv_pipe_init(server->loop, &c->pipe, 0);
    c->pipe.data = c;
    uv_os_fd_t fd;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0 ||
        uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) != 0) {
        conn_close(c);
        return;
    }
    knoop_audit_peer_actor(uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 ? fd : -1, c->actor, sizeof c->actor);
}

static void server_closed(uv_handle_t *h)
{
    free(h->data);
}

int knoop_control_new(knoop_broker_t *b, const char *path, int mode, knoop_control_t **out, char *errbuf, size_t errlen)
{
    knoop_control_t *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->b = b;
    c->path = strdup(path);
    /* A socket file left by a crash: the daemon holds the data_dir lock, so no live daemon owns it. */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    uv_pipe_init(b->loop, &c->server, 0);
    c->server.data = c;
    int rc = uv_pipe_bind(&c->server, path);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&c->server, 64, on_connection);
    if (rc == 0 && chmod(path, (mode_t)mode) != 0)
        rc = -errno;
    if (rc != 0) {
        snprintf(errbuf, errlen, "%s: %s", path, uv_strerror(rc));
        free(c->path);
        c->path = NULL;
        knoop_control_destroy(&c);
        *out = NULL;
        return rc;
    }
    *out = c;
    return 0;
}

void knoop_control_destroy(knoop_control_t **cp)
{
    if (!cp || !*cp)
        return;
    knoop_control_t *c = *cp;
    *cp = NULL;
    if (c->path) {
        unlink(c->path);
        free(c->path);
    }
    uv_close((uv_handle_t *)&c->server, server_closed);
    /* Open client connections close with the loop: broker_stop walks the loop's handles (main.c). */
}
