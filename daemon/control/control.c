/* control.c — the control socket's transport: a libuv pipe server, line framing (a request may be at most
 * 1 MiB; a longer line is answered with an error and the connection closed), JSON in and out with jansson.
 * Start-up fails with the reason when the socket cannot be made; a failure on one connection is logged and closes
 * that connection only. */
#include "control/control.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>
#include "core/broker.h"
#include "base/log.h"

#define LINE_MAX_BYTES (1u << 20)

typedef struct control_conn control_conn_t;

/* Freed when it is destroyed and the last of its handles (server, refused, connections) has finished closing:
 * libuv runs close callbacks in no order one may rely on. */
struct knoop_control {
    knoop_broker_t *b;
    uv_pipe_t server;
    bool server_open;      /* uv_pipe_init succeeded: the handle must be closed */
    char *path;            /* owned */
    bool bound;            /* the socket file at path is ours to remove */
    uv_pipe_t refused;     /* takes a connection no conn could be made for, and closes it at once */
    bool refusing;         /* refused is open (its close has not finished) */
    control_conn_t *conns; /* the open connections, closed with the server */
    int handles;           /* handles initialised and not yet closed */
    bool destroyed;
    knoop_control_req_t *current; /* the request being served (borrowed for the call), or NULL */
};

struct control_conn {
    uv_pipe_t pipe;
    knoop_control_t *control;
    control_conn_t *prev, *next; /* in control->conns */
    char *buf;                   /* owned: bytes of the current, unfinished line */
    size_t len, cap;
    bool closing;
    knoop_control_peer_t peer; /* who connected (roles.h): their role, and the actor of their audit rows */
};

static void handle_gone(knoop_control_t *ctl)
{
    if (--ctl->handles == 0 && ctl->destroyed)
        free(ctl);
}

static void conn_closed(uv_handle_t *h)
{
    control_conn_t *c = h->data;
    knoop_control_t *ctl = c->control;
    if (c->prev)
        c->prev->next = c->next;
    else
        ctl->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c->buf);
    free(c);
    handle_gone(ctl);
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
    write_req_t *w = (write_req_t *)req;
    if (status != 0 && status != UV_ECANCELED)
        knoop_log_warn("control.write", "error=\"%s\"", uv_strerror(status));
    free(w->data);
    free(w);
}

/* Sends one response line; when it cannot, the client would wait for an answer that never comes, so the
 * connection is closed instead (knoopctl then says the daemon hung up). */
static void respond(control_conn_t *c, json_t *response)
{
    char *text = response ? json_dumps(response, JSON_COMPACT) : NULL;
    json_decref(response);
    size_t n = text ? strlen(text) : 0;
    write_req_t *w = text ? malloc(sizeof *w) : NULL;
    char *line = w ? realloc(text, n + 2) : NULL;
    if (!line) {
        knoop_log_error("control.respond", "error=\"out of memory\"");
        free(w);
        free(text);
        conn_close(c);
        return;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    w->data = line;
    uv_buf_t buf = uv_buf_init(line, (unsigned)(n + 1));
    int rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, on_written);
    if (rc != 0) {
        knoop_log_warn("control.write", "error=\"%s\"", uv_strerror(rc));
        free(line);
        free(w);
        conn_close(c);
    }
}

static void handle_line(control_conn_t *c, char *line, size_t len)
{
    json_error_t jerr;
    json_t *req = json_loadb(line, len, 0, &jerr);
    if (!req) {
        respond(c, knoop_control_not_json(&jerr));
        return;
    }
    knoop_broker_t *b = c->control->b;
    knoop_control_req_t r = {.peer = &c->peer};
    snprintf(b->control_actor, sizeof b->control_actor, "%s", c->peer.actor);
    c->control->current = &r;
    json_t *response = knoop_control_execute(b, &r, req);
    c->control->current = NULL;
    b->control_actor[0] = '\0';
    respond(c, response);
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
        if (nread != UV_EOF)
            knoop_log_warn("control.read", "error=\"%s\"", uv_strerror((int)nread));
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
                knoop_log_error("control.read", "error=\"out of memory\"");
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

static void refused_closed(uv_handle_t *h)
{
    knoop_control_t *ctl = h->data;
    ctl->refusing = false;
    handle_gone(ctl);
}

/* libuv watches the listening socket again only once the pending connection is accepted: take it and hang up, so
 * one failed connection does not stop the control socket. */
static void refuse(knoop_control_t *ctl, uv_stream_t *server)
{
    if (ctl->refusing || uv_pipe_init(server->loop, &ctl->refused, 0) != 0) {
        knoop_log_error("control.accept", "error=\"cannot refuse the connection; the control socket waits\"");
        return;
    }
    ctl->refusing = true;
    ctl->handles++;
    ctl->refused.data = ctl;
    int rc = uv_accept(server, (uv_stream_t *)&ctl->refused);
    if (rc != 0)
        knoop_log_warn("control.accept", "error=\"%s\"", uv_strerror(rc));
    uv_close((uv_handle_t *)&ctl->refused, refused_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0) {
        knoop_log_warn("control.accept", "error=\"%s\"", uv_strerror(status));
        return;
    }
    knoop_control_t *ctl = server->data;
    control_conn_t *c = calloc(1, sizeof *c);
    int rc = c ? uv_pipe_init(server->loop, &c->pipe, 0) : UV_ENOMEM;
    if (rc != 0) {
        knoop_log_error("control.accept", "error=\"%s\"", uv_strerror(rc));
        free(c);
        refuse(ctl, server);
        return;
    }
    c->control = ctl;
    c->pipe.data = c;
    ctl->handles++;
    c->next = ctl->conns;
    if (c->next)
        c->next->prev = c;
    ctl->conns = c;
    if ((rc = uv_accept(server, (uv_stream_t *)&c->pipe)) != 0 ||
        (rc = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read)) != 0) {
        knoop_log_warn("control.accept", "error=\"%s\"", uv_strerror(rc));
        conn_close(c);
        return;
    }
    uv_os_fd_t fd;
    knoop_control_peer_read(uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 ? fd : -1, &c->peer);
}

knoop_control_req_t *knoop_control_current(knoop_broker_t *b)
{
    return b && b->control ? b->control->current : NULL;
}

static void server_closed(uv_handle_t *h)
{
    handle_gone(h->data);
}

/* Fails start-up with what went wrong and where: "control socket /run/knoop/knoopd.sock: bind: permission denied". */
static int fail(knoop_control_t *c, const char *path, const char *what, int rc, char *errbuf, size_t errlen)
{
    snprintf(errbuf, errlen, "control socket %s: %s: %s", path, what, uv_strerror(rc));
    knoop_control_destroy(&c);
    return rc;
}

int knoop_control_new(knoop_broker_t *b, const char *path, int mode, knoop_control_t **out, char *errbuf, size_t errlen)
{
    *out = NULL;
    if (strlen(path) >= sizeof((struct sockaddr_un *)0)->sun_path) {
        snprintf(errbuf, errlen, "control socket %s: longer than the %zu bytes a Unix socket path may have", path,
                 sizeof((struct sockaddr_un *)0)->sun_path - 1);
        return -ENAMETOOLONG;
    }
    knoop_control_t *c = calloc(1, sizeof *c);
    if (!c)
        return snprintf(errbuf, errlen, "control socket %s: out of memory", path), -ENOMEM;
    c->b = b;
    if (!(c->path = strdup(path))) {
        free(c);
        return snprintf(errbuf, errlen, "control socket %s: out of memory", path), -ENOMEM;
    }
    int rc = uv_pipe_init(b->loop, &c->server, 0);
    if (rc != 0)
        return fail(c, path, "init", rc, errbuf, errlen);
    c->server_open = true;
    c->handles++;
    c->server.data = c;
    /* A socket file left by a crash: the daemon holds the data_dir lock, so no live daemon owns it. Anything else
     * at that path is not ours to remove: bind then says the address is in use. */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && unlink(path) != 0)
        return fail(c, path, "remove the stale socket", -errno, errbuf, errlen);
    if ((rc = uv_pipe_bind(&c->server, path)) != 0) {
        /* libuv reports a missing directory as EACCES (as Windows would): say which it is. */
        char dir[sizeof((struct sockaddr_un *)0)->sun_path];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        if (rc == UV_EACCES && stat(slash ? dir : ".", &st) != 0)
            rc = -errno;
        return fail(c, path, "bind", rc, errbuf, errlen);
    }
    c->bound = true;
    /* The mode before listen: until listen, a connect is refused, so no one reaches the socket under the umask's
     * mode in between. */
    if (chmod(path, (mode_t)mode) != 0)
        return fail(c, path, "chmod", -errno, errbuf, errlen);
    if ((rc = uv_listen((uv_stream_t *)&c->server, 64, on_connection)) != 0)
        return fail(c, path, "listen", rc, errbuf, errlen);
    *out = c;
    return 0;
}

void knoop_control_destroy(knoop_control_t **cp)
{
    if (!cp || !*cp)
        return;
    knoop_control_t *c = *cp;
    *cp = NULL;
    if (c->bound && unlink(c->path) != 0 && errno != ENOENT)
        knoop_log_warn("control.unlink", "path=\"%s\" error=\"%s\"", c->path, strerror(errno));
    free(c->path);
    c->path = NULL;
    c->destroyed = true;
    for (control_conn_t *conn = c->conns; conn; conn = conn->next)
        conn_close(conn);
    if (c->server_open)
        uv_close((uv_handle_t *)&c->server, server_closed);
    if (c->handles == 0)
        free(c);
}
