/* ctl_request.c — one request on the control socket (ctl_request.h): connect, write the line, read until the answer's
 * newline, parse. Blocking, for command-line tools; the daemon's side is control/control.c. */
#include "base/ctl_request.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int send_line(int fd, const char *path, int nwords, char *const *words, char *err, size_t errlen)
{
    json_t *jargv = json_array();
    for (int a = 0; a < nwords; a++)
        json_array_append_new(jargv, json_string(words[a]));
    json_t *req = json_pack("{s:o}", "argv", jargv);
    char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    size_t n = line ? strlen(line) : 0;
    char *framed = line ? realloc(line, n + 2) : NULL;
    if (!framed) {
        snprintf(err, errlen, "out of memory");
        free(line);
        return -ENOMEM;
    }
    framed[n] = '\n';
    size_t sent = 0;
    while (sent < n + 1) {
        ssize_t w = write(fd, framed + sent, n + 1 - sent);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            snprintf(err, errlen, "write to %s failed: %s", path, strerror(e));
            free(framed);
            return -e;
        }
        sent += (size_t)w;
    }
    free(framed);
    return 0;
}

/* Reads up to and including the answer's newline: a NUL-terminated buffer the caller frees, or NULL (err says). */
static char *read_answer(int fd, const char *path, char *err, size_t errlen)
{
    size_t cap = 65536, len = 0;
    char *resp = malloc(cap);
    bool complete = false;
    while (resp && !complete) {
        if (len + 1 >= cap) {
            char *bigger = realloc(resp, cap * 2);
            if (!bigger) {
                free(resp);
                resp = NULL;
                break;
            }
            resp = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, resp + len, cap - len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        complete = memchr(resp + len, '\n', (size_t)got) != NULL;
        len += (size_t)got;
    }
    if (!resp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    resp[len] = '\0';
    if (!complete) {
        snprintf(err, errlen, "%s closed the connection without a complete answer", path);
        free(resp);
        return NULL;
    }
    return resp;
}

int knoop_ctl_request(const char *path, int nwords, char *const *words, json_t **answer, char *err, size_t errlen)
{
    *answer = NULL;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, errlen, "socket path %s is longer than %zu bytes", path, sizeof addr.sun_path - 1);
        return -ENAMETOOLONG;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot connect to %s: %s (is knoopd running? use -s SOCKET)", path, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    int rc = send_line(fd, path, nwords, words, err, errlen);
    char *resp = rc == 0 ? read_answer(fd, path, err, errlen) : NULL;
    close(fd);
    if (rc != 0)
        return rc;
    if (!resp)
        return -EIO;
    json_error_t jerr;
    *answer = json_loads(resp, 0, &jerr);
    free(resp);
    if (!*answer) {
        snprintf(err, errlen, "the daemon's answer is not JSON: %s", jerr.text);
        return -EPROTO;
    }
    return 0;
}
