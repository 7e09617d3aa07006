/* metrics_http.c — /metrics (Prometheus text) and /healthz on metrics_listen, served by libmicrohttpd's own thread.
 * That thread never reads the broker: the loop renders a snapshot (the metrics text and the health verdict) once a
 * second from the job table (the "metrics" row) and swaps it in under a mutex; a request copies the snapshot under
 * the same mutex. So a scrape costs the loop nothing, a slow scraper cannot stall it, and what is served is at most
 * one snapshot interval old (docs/metrics.md). */
#include "app/metrics_http.h"
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/hostport.h"
#include "base/log.h"
#include "core/health.h"
#include "core/metrics.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONNECTIONS_MAX      16
#define CONNECTION_TIMEOUT_S 10

struct knoop_metrics_http {
    struct MHD_Daemon *mhd;
    pthread_mutex_t lock; /* guards the snapshot below */
    char *metrics;        /* owned; NULL until the first snapshot */
    size_t metrics_len;
    bool ready;
    char health[800]; /* the body of /healthz */
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *type, char *body, size_t len)
{
    /* body is a copy this call owns: MHD frees it once sent */
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    enum MHD_Result rc = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (rc == MHD_YES)
        rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *msg)
{
    char *body = strdup(msg);
    return body ? answer(c, status, "text/plain; charset=utf-8", body, strlen(body)) : MHD_NO;
}

/* The HTTP thread: reads the snapshot only, under the lock. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
    (void)version, (void)upload, (void)req_cls;
    knoop_metrics_http_t *h = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (*upload_size)
        return text(c, MHD_HTTP_BAD_REQUEST, "no request body expected\n");
    bool metrics = strcmp(url, "/metrics") == 0, healthz = strcmp(url, "/healthz") == 0;
    if (!metrics && !healthz)
        return text(c, MHD_HTTP_NOT_FOUND, "not found: try /metrics or /healthz\n");
    char *body = NULL;
    size_t len = 0;
    unsigned status = MHD_HTTP_OK;
    pthread_mutex_lock(&h->lock);
    if (metrics && h->metrics) {
        body = malloc(h->metrics_len + 1);
        if (body)
            memcpy(body, h->metrics, (len = h->metrics_len) + 1);
    } else if (healthz && h->health[0]) {
        body = strdup(h->health);
        len = body ? strlen(body) : 0;
        status = h->ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    }
    pthread_mutex_unlock(&h->lock);
    if (!body && !len)
        return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "starting: no snapshot yet\n");
    if (!body)
        return MHD_NO;
    return answer(c, status, metrics ? CONTENT_TYPE_METRICS : "text/plain; charset=utf-8", body, len);
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    knoop_log_warn("metrics.http", "error=\"%s\"", msg);
}

int knoop_metrics_http_start(knoop_broker_t *b, char *err, size_t errlen)
{
    const knoop_settings_t *s = &b->config->settings;
    if (!s->metrics_listen[0])
        return 0;
    struct sockaddr_storage addr;
    socklen_t alen;
    bool loopback;
    if (knoop_hostport_parse(s->metrics_listen, &addr, &alen, &loopback) != 0) /* the settings checked it */
        return snprintf(err, errlen, "metrics_listen %s: not HOST:PORT", s->metrics_listen), -EINVAL;
    knoop_metrics_http_t *h = calloc(1, sizeof *h);
    if (!h)
        return snprintf(err, errlen, "metrics_listen: out of memory"), -ENOMEM;
    int rc = pthread_mutex_init(&h->lock, NULL);
    if (rc != 0) {
        free(h);
        return snprintf(err, errlen, "metrics_listen: %s", strerror(rc)), -rc;
    }
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    errno = 0;
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
                              (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_EXTERNAL_LOGGER, on_log, NULL, MHD_OPTION_END);
    if (!h->mhd) {
        int e = errno ? errno : EADDRINUSE;
        snprintf(err, errlen, "metrics_listen %s: cannot listen: %s", s->metrics_listen, strerror(e));
        pthread_mutex_destroy(&h->lock);
        free(h);
        return -e;
    }
    b->metrics_http = h;
    knoop_log_info("metrics.listening", "address=%s remote=%s", s->metrics_listen, loopback ? "no" : "yes");
    return 0;
}

void knoop_metrics_http_publish(knoop_broker_t *b)
{
    knoop_metrics_http_t *h = b->metrics_http;
    if (!h)
        return;
    size_t len = 0;
    char *text = knoop_metrics_render(b, &len);
    knoop_health_report_t r;
    knoop_health_check(b, &r);
    pthread_mutex_lock(&h->lock);
    if (text) { /* out of memory: the last snapshot is served a while longer */
        free(h->metrics);
        h->metrics = text;
        h->metrics_len = len;
    }
    h->ready = r.ready;
    snprintf(h->health, sizeof h->health, r.ready ? "ready\n" : "not ready: %s\n", r.reasons);
    pthread_mutex_unlock(&h->lock);
}

void knoop_metrics_http_stop(knoop_broker_t *b)
{
    knoop_metrics_http_t *h = b->metrics_http;
    if (!h)
        return;
    b->metrics_http = NULL;
    MHD_stop_daemon(h->mhd); /* joins the HTTP thread: nothing reads the snapshot after this */
    pthread_mutex_destroy(&h->lock);
    free(h->metrics);
    free(h);
}
