/* knoop-nats-bench — the peer `make bench` measures knoopd against: the same publish cases as knoop-bench (payload
 * 1 KiB and 256 B, W = 1, 64, 1024 in flight, one producer) against NATS JetStream with file storage, over NATS's
 * own text protocol (PUB with a reply subject; the stream's PubAck answers it). JetStream acknowledges a publish
 * once it is in the stream's file, before fsync (its sync_interval): the figures are labelled so. Writes the same
 * JSON shape as knoop-bench (cases with msgs_per_s, p50_us, p99_us) for knoop-bench --peer.
 * Usage: knoop-nats-bench -a HOST:PORT [-s SECONDS] [-o JSON] */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct conn {
    int fd;
    char buf[1 << 20];
    size_t len, off;
} conn_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int send_all(conn_t *c, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The next protocol line (without CRLF) into out; 0, or -1 when the connection ends. */
static int read_line(conn_t *c, char *out, size_t cap)
{
    for (;;) {
        char *crlf = c->len > c->off ? memmem(c->buf + c->off, c->len - c->off, "\r\n", 2) : NULL;
        if (crlf) {
            size_t n = (size_t)(crlf - (c->buf + c->off));
            snprintf(out, cap, "%.*s", (int)n, c->buf + c->off);
            c->off += n + 2;
            return 0;
        }
        if (c->off > 0) {
            memmove(c->buf, c->buf + c->off, c->len - c->off);
            c->len -= c->off;
            c->off = 0;
        }
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
    }
}

/* The payload of a MSG (n bytes and its CRLF). */
static int read_payload(conn_t *c, char *out, size_t cap, size_t n)
{
    while (c->len - c->off < n + 2) {
        if (c->off > 0) {
            memmove(c->buf, c->buf + c->off, c->len - c->off);
            c->len -= c->off;
            c->off = 0;
        }
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
    }
    snprintf(out, cap, "%.*s", (int)n, c->buf + c->off);
    c->off += n + 2;
    return 0;
}

/* Waits for the next MSG addressed to an _INBOX.kb.* subject; answers PINGs on the way. *tag: the subject's tail. */
static int next_msg(conn_t *c, char *tag, size_t tagcap, char *payload, size_t cap)
{
    char line[1024];
    while (read_line(c, line, sizeof line) == 0) {
        if (strcmp(line, "PING") == 0) {
            if (send_all(c, "PONG\r\n", 6) != 0)
                return -1;
            continue;
        }
        if (strncmp(line, "-ERR", 4) == 0) {
            fprintf(stderr, "knoop-nats-bench: server: %s\n", line);
            return -1;
        }
        char subject[256], sid[32];
        size_t n;
        if (sscanf(line, "MSG %255s %31s %zu", subject, sid, &n) == 3) {
            if (read_payload(c, payload, cap, n) != 0)
                return -1;
            const char *t = strncmp(subject, "_INBOX.kb.", 10) == 0 ? subject + 10 : subject;
            snprintf(tag, tagcap, "%s", t);
            return 0;
        }
    }
    return -1;
}

static int request(conn_t *c, const char *subject, const char *body, char *answer, size_t cap)
{
    char head[512], tag[64];
    snprintf(head, sizeof head, "PUB %s _INBOX.kb.req %zu\r\n", subject, strlen(body));
    if (send_all(c, head, strlen(head)) != 0 || send_all(c, body, strlen(body)) != 0 || send_all(c, "\r\n", 2) != 0)
        return -1;
    do {
        if (next_msg(c, tag, sizeof tag, answer, cap) != 0)
            return -1;
    } while (strcmp(tag, "req") != 0);
    return 0;
}

static int connect_nats(conn_t *c, const char *addr)
{
    char host[256], port[16];
    const char *colon = strrchr(addr, ':');
    if (!colon)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    snprintf(port, sizeof port, "%s", colon + 1);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    c->fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    int one = 1; /* small publishes go out at once, as ZeroMQ's do (it sets TCP_NODELAY) */
    int rc = c->fd >= 0 && setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0
                 ? connect(c->fd, ai->ai_addr, ai->ai_addrlen)
                 : -1;
    freeaddrinfo(ai);
    char line[4096];
    if (rc != 0 || read_line(c, line, sizeof line) != 0 || strncmp(line, "INFO", 4) != 0)
        return -1;
    const char *hello = "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"knoop-nats-bench\"}\r\nPING\r\n"
                        "SUB _INBOX.kb.* 1\r\n";
    if (send_all(c, hello, strlen(hello)) != 0)
        return -1;
    while (read_line(c, line, sizeof line) == 0)
        if (strcmp(line, "PONG") == 0)
            return 0;
    return -1;
}

typedef struct result {
    double msgs_per_s, p50_us, p99_us;
    long acked, failed;
} result_t;

/* One producer keeping `window` publishes in flight for `seconds`; each ack names its publish by the reply tag. */
static int publish_run(conn_t *c, size_t payload, int window, double seconds, result_t *out)
{
    size_t cap = 1 << 22;
    double *sent = calloc(cap, sizeof *sent), *lat = calloc(cap, sizeof *lat);
    char *body = malloc(payload), head[128], tag[64], ack[1024];
    memset(body, 'k', payload);
    size_t next = 1, nlat = 0;
    long in_flight = 0;
    double t0 = now_s(), deadline = t0 + seconds;
    while (now_s() < deadline || in_flight > 0) {
        while (in_flight < window && now_s() < deadline && next < cap) {
            int h = snprintf(head, sizeof head, "PUB bench.p _INBOX.kb.%zu %zu\r\n", next, payload);
            sent[next++] = now_s();
            if (send_all(c, head, (size_t)h) != 0 || send_all(c, body, payload) != 0 || send_all(c, "\r\n", 2) != 0)
                goto broken;
            in_flight++;
        }
        if (next_msg(c, tag, sizeof tag, ack, sizeof ack) != 0)
            goto broken;
        size_t ref = strtoul(tag, NULL, 10);
        if (ref == 0 || ref >= next)
            continue;
        if (strstr(ack, "\"error\"") || !strstr(ack, "\"seq\"")) {
            if (out->failed++ == 0)
                fprintf(stderr, "knoop-nats-bench: publish refused: %s\n", ack);
        } else {
            lat[nlat++] = (now_s() - sent[ref]) * 1e6;
            out->acked++;
        }
        in_flight--;
    }
    double elapsed = now_s() - t0;
    qsort(lat, nlat, sizeof *lat, cmp_double);
    out->msgs_per_s = (double)out->acked / elapsed;
    out->p50_us = nlat ? lat[nlat / 2] : 0;
    out->p99_us = nlat ? lat[(nlat * 99) / 100] : 0;
    free(sent);
    free(lat);
    free(body);
    return out->failed ? -1 : 0;
broken:
    fprintf(stderr, "knoop-nats-bench: connection to nats-server lost\n");
    free(sent);
    free(lat);
    free(body);
    return -1;
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1:4222", *out_path = "build/bench/nats.json";
    double seconds = 3.0;
    int o;
    while ((o = getopt(argc, argv, "a:s:o:")) != -1) {
        if (o == 'a')
            addr = optarg;
        else if (o == 's')
            seconds = atof(optarg);
        else if (o == 'o')
            out_path = optarg;
        else {
            fprintf(stderr, "usage: knoop-nats-bench -a HOST:PORT [-s SECONDS] [-o JSON]\n");
            return 2;
        }
    }
    static conn_t c;
    if (connect_nats(&c, addr) != 0) {
        fprintf(stderr, "knoop-nats-bench: cannot connect to nats-server at %s\n", addr);
        return 1;
    }
    char answer[4096];
    request(&c, "$JS.API.STREAM.DELETE.KNOOPBENCH", "", answer, sizeof answer);
    if (request(&c, "$JS.API.STREAM.CREATE.KNOOPBENCH",
                "{\"name\":\"KNOOPBENCH\",\"subjects\":[\"bench.>\"],\"storage\":\"file\",\"retention\":\"limits\"}",
                answer, sizeof answer) != 0 ||
        strstr(answer, "\"error\"")) {
        fprintf(stderr, "knoop-nats-bench: cannot create the stream: %s\n", answer);
        return 1;
    }
    static const struct {
        const char *name;
        size_t payload;
        int window;
    } cases[] = {{"publish-1k-w1", 1024, 1}, {"publish-1k-w64", 1024, 64}, {"publish-1k-w1024", 1024, 1024},
                 {"publish-256-w1", 256, 1}, {"publish-256-w64", 256, 64}, {"publish-256-w1024", 256, 1024}};
    json_t *results = json_array();
    int failures = 0;
    printf("NATS JetStream (file storage; acks before fsync):\n%-20s %8s %6s %10s %9s %9s\n", "case", "payload",
           "window", "msgs/s", "p50_us", "p99_us");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result_t r = {0};
        if (publish_run(&c, cases[i].payload, cases[i].window, seconds, &r) != 0)
            failures++;
        printf("%-20s %8zu %6d %10.0f %9.0f %9.0f\n", cases[i].name, cases[i].payload, cases[i].window, r.msgs_per_s,
               r.p50_us, r.p99_us);
        json_array_append_new(results, json_pack("{s:s, s:I, s:i, s:f, s:f, s:f}", "name", cases[i].name, "payload",
                                                 (json_int_t)cases[i].payload, "window", cases[i].window, "msgs_per_s",
                                                 r.msgs_per_s, "p50_us", r.p50_us, "p99_us", r.p99_us));
    }
    json_t *doc =
        json_pack("{s:s, s:s, s:o}", "peer", "nats-jetstream", "durability", "acks before fsync", "cases", results);
    json_dump_file(doc, out_path, JSON_INDENT(2));
    json_decref(doc);
    close(c.fd);
    return failures ? 1 : 0;
}
