/* broker.c — the context object's life: ZeroMQ ROUTER joined to the libuv loop (ZMQ_FD + uv_poll, drained while
 * ZMQ_EVENTS has POLLIN, re-checked after every loop iteration since sends can swallow the edge), frame dispatch
 * through one table, peer liveness, signals, reload and the graceful stop. */
#include "store/journal_sql.h"
#include "store/entries.h"
#include "core/broker.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include "control/control.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "route/route.h"
#include "legacy/xml_ingest.h"
#include "legacy/expectations.h"
#include "base/clock.h"
#include "deliver/retention.h"
#include "deliver/delivery.h"
#include "deliver/streams.h"
#include "ingest/handlers.h"
#include "core/frames.h"
#include "core/frame_text.h"

#define DRAIN_BUDGET 2048 /* frames per wake-up before yielding to the rest of the loop */
#define TICK_MS      50

/* ---- frame dispatch ---------------------------------------------------------------------------------- */

static void handle_heartbeat(knoop_broker_t *b, knoop_peer_t *p, Knoop__Frame *f)
{
    (void)f;
    Knoop__Heartbeat hb = KNOOP__HEARTBEAT__INIT;
    Knoop__Frame out = KNOOP__FRAME__INIT;
    out.body_case = KNOOP__FRAME__BODY_HEARTBEAT;
    out.heartbeat = &hb;
    knoop_send_frame(b, p, &out);
}

#define ADAPT(fn, member)                                                                                              \
    static void fn##_frame(knoop_broker_t *b, knoop_peer_t *p, Knoop__Frame *f)                                        \
    {                                                                                                                  \
        fn(b, p, f->member);                                                                                           \
    }
ADAPT(knoop_handle_hello, hello)
ADAPT(knoop_handle_publish, publish)
ADAPT(knoop_handle_subscribe, subscribe)
ADAPT(knoop_handle_unsubscribe, unsubscribe)
ADAPT(knoop_handle_credit, credit)
ADAPT(knoop_handle_ack, ack)
ADAPT(knoop_handle_nack, nack)

typedef struct frame_handler {
    Knoop__Frame__BodyCase body;
    const char *name;
    bool needs_hello;
    void (*fn)(knoop_broker_t *b, knoop_peer_t *p, Knoop__Frame *f);
} frame_handler_t;

static const frame_handler_t frame_handlers[] = {
    {KNOOP__FRAME__BODY_HELLO, "Hello", false, knoop_handle_hello_frame},
    {KNOOP__FRAME__BODY_PUBLISH, "Publish", true, knoop_handle_publish_frame},
    {KNOOP__FRAME__BODY_SUBSCRIBE, "Subscribe", true, knoop_handle_subscribe_frame},
    {KNOOP__FRAME__BODY_UNSUBSCRIBE, "Unsubscribe", true, knoop_handle_unsubscribe_frame},
    {KNOOP__FRAME__BODY_CREDIT, "Credit", true, knoop_handle_credit_frame},
    {KNOOP__FRAME__BODY_ACK, "Ack", true, knoop_handle_ack_frame},
    {KNOOP__FRAME__BODY_NACK, "Nack", true, knoop_handle_nack_frame},
    {KNOOP__FRAME__BODY_HEARTBEAT, "Heartbeat", false, handle_heartbeat},
};

static const frame_handler_t *handler_for(Knoop__Frame__BodyCase body)
{
    for (size_t i = 0; i < sizeof frame_handlers / sizeof frame_handlers[0]; i++)
        if (frame_handlers[i].body == body)
            return &frame_handlers[i];
    return NULL;
}

/* The ref of a Publish, read straight from the wire so that even a frame we refuse to decode (too large)
 * can be answered with a Rejected the client can correlate. 0 when it is not a Publish or has no ref. */
static uint64_t peek_publish_ref(const uint8_t *d, size_t len)
{
    size_t i = 0;
    uint64_t v = 0;
    int shift = 0;
    if (len < 2 || d[i++] != ((3 << 3) | 2))
        return 0;
    while (i < len && (d[i] & 0x80)) /* skip the Publish length */
        i++;
    i++;
    if (i >= len || d[i++] != ((1 << 3) | 0))
        return 0;
    while (i < len && shift < 64) {
        v |= (uint64_t)(d[i] & 0x7f) << shift;
        if (!(d[i++] & 0x80))
            return v;
        shift += 7;
    }
    return 0;
}

static knoop_peer_t *peer_for(knoop_broker_t *b, const uint8_t *id, size_t len)
{
    char key[2 * KNOOP_ROUTING_ID_MAX + 1];
    if (len == 0 || len > KNOOP_ROUTING_ID_MAX)
        return NULL;
    sodium_bin2hex(key, sizeof key, id, len);
    knoop_peer_t *p = knoop_strmap_get(b->peers, key);
    if (p && !p->gone)
        return p;
    if (p) /* dropped for silence, now speaking again: a new session; the old struct lives on until answered */
        knoop_strmap_remove(b->peers, key);
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    memcpy(p->routing_id, id, len);
    p->routing_id_len = len;
    memcpy(p->key, key, sizeof key);
    p->connected_us = knoop_now_us();
    if (knoop_strmap_put(b->peers, key, p) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

static void peer_free(knoop_broker_t *b, knoop_peer_t *p)
{
    while (p->subs)
        knoop_sub_detach(b, p->subs);
    if (knoop_strmap_get(b->peers, p->key) == p) /* a reconnect may own the key by now */
        knoop_strmap_remove(b->peers, p->key);
    free(p);
}

/* A peer that went silent: its deliveries return now; the struct lives until its publishes are answered. */
static void peer_drop(knoop_broker_t *b, knoop_peer_t *p, const char *why)
{
    knoop_log_info("peer.dropped", "party=%s client=\"%s\" reason=%s", p->party[0] ? p->party : "-", p->client_name,
                   why);
    while (p->subs)
        knoop_sub_detach(b, p->subs);
    p->gone = true;
    if (p->publishes_in_flight == 0)
        peer_free(b, p);
}

void knoop_peer_release(knoop_broker_t *b, knoop_peer_t *p)
{
    if (p->gone && p->publishes_in_flight == 0)
        peer_free(b, p);
}

static void handle_message(knoop_broker_t *b, knoop_peer_t *p, const uint8_t *data, size_t len)
{
    p->last_seen_ms = knoop_now_ms();
    if (len > b->config->settings.max_message_bytes) {
        uint64_t ref = peek_publish_ref(data, len);
        b->stats.bad_frames++;
        if (ref)
            knoop_send_rejected(b, p, ref, KNOOP__ERROR_CODE__TOO_LARGE,
                                "frame of %zu bytes exceeds "
                                "max_message_bytes (%" PRIu64 ")",
                                len, b->config->settings.max_message_bytes);
        else
            knoop_send_error(b, p, KNOOP__ERROR_CODE__TOO_LARGE,
                             "frame of %zu bytes exceeds max_message_bytes "
                             "(%" PRIu64 ")",
                             len, b->config->settings.max_message_bytes);
        return;
    }
    Knoop__Frame *f = knoop__frame__unpack(NULL, len, data);
    if (!f) {
        b->stats.bad_frames++;
        knoop_send_error(b, p, KNOOP__ERROR_CODE__BAD_FRAME,
                         "not a knoop.Frame (%zu bytes could not be decoded "
                         "as protobuf)",
                         len);
        return;
    }
    const frame_handler_t *h = handler_for(f->body_case);
    if (!h) {
        b->stats.bad_frames++;
        knoop_send_error(b, p, KNOOP__ERROR_CODE__UNKNOWN_FRAME,
                         "frame has no known body (case %d); this broker "
                         "speaks protocol %d",
                         (int)f->body_case, KNOOP_PROTOCOL_VERSION);
    } else if (knoop_frame_text_refused(b, p, f, data, len)) {
        /* answered: a string field that is not UTF-8 text (core/frame_text.c) */
    } else if (h->needs_hello && p->party[0] == '\0') {
        knoop_send_no_hello(b, p, f, h->name);
    } else {
        h->fn(b, p, f);
    }
    knoop__frame__free_unpacked(f, NULL);
}

/* Receives until the socket is empty or the budget is spent; returns true when it emptied the socket. */
static bool drain_router(knoop_broker_t *b)
{
    for (int budget = DRAIN_BUDGET; budget > 0 && !b->reading_stopped; budget--) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, b->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            return true;
        }
        zmq_msg_init(&body);
        bool ok = zmq_msg_more(&id) && zmq_msg_recv(&body, b->router, 0) >= 0;
        bool extra = ok && zmq_msg_more(&body);
        while (ok && zmq_msg_more(&body)) { /* a multi-part message is not ours: swallow the rest */
            zmq_msg_close(&body);
            zmq_msg_init(&body);
            if (zmq_msg_recv(&body, b->router, 0) < 0)
                break;
        }
        knoop_peer_t *p = ok ? peer_for(b, zmq_msg_data(&id), zmq_msg_size(&id)) : NULL;
        if (p && extra) {
            p->last_seen_ms = knoop_now_ms();
            b->stats.bad_frames++;
            knoop_send_error(b, p, KNOOP__ERROR_CODE__BAD_FRAME,
                             "multi-part message: send one Frame per "
                             "ZeroMQ message");
        } else if (p) {
            handle_message(b, p, zmq_msg_data(&body), zmq_msg_size(&body));
        }
        zmq_msg_close(&body);
        zmq_msg_close(&id);
    }
    return false;
}

/* While the loop has an active idle handle it polls without blocking, so a drain cut short by the budget
 * resumes on the next iteration (in on_zcheck) instead of waiting for a new edge on ZMQ_FD. */
static void on_zidle(uv_idle_t *h)
{
    (void)h;
}

static void pump_router(knoop_broker_t *b)
{
    if (b->reading_stopped)
        return;
    int events = 0;
    size_t sz = sizeof events;
    if (zmq_getsockopt(b->router, ZMQ_EVENTS, &events, &sz) != 0 || !(events & ZMQ_POLLIN))
        return;
    if (!drain_router(b) && !uv_is_active((uv_handle_t *)&b->zidle))
        uv_idle_start(&b->zidle, on_zidle);
}

static void on_zpoll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    pump_router(h->data);
}

static void on_zcheck(uv_check_t *h)
{
    knoop_broker_t *b = h->data;
    int events = 0;
    size_t sz = sizeof events;
    if (uv_is_active((uv_handle_t *)&b->zidle))
        uv_idle_stop(&b->zidle);
    knoop_streams_pump_dirty(b);
    if (!b->reading_stopped && zmq_getsockopt(b->router, ZMQ_EVENTS, &events, &sz) == 0 && (events & ZMQ_POLLIN))
        pump_router(b);
}

/* ---- timers, signals, stop --------------------------------------------------------------------------- */

static void finish_stop(knoop_broker_t *b);

static void on_tick(uv_timer_t *t)
{
    knoop_broker_t *b = t->data;
    uint64_t now = knoop_now_ms();
    size_t pos = 0;
    void *v;
    knoop_peer_t *silent[64];
    int nsilent = 0;
    while (nsilent < 64 && knoop_strmap_next(b->peers, &pos, NULL, &v)) {
        knoop_peer_t *p = v;
        if (!p->gone && now - p->last_seen_ms > b->config->settings.peer_timeout_ms)
            silent[nsilent++] = p;
    }
    for (int i = 0; i < nsilent; i++)
        peer_drop(b, silent[i], "heartbeat_timeout");
    knoop_delivery_tick(b);
    knoop_retention_tick(b);
    if (b->stopping && knoop_journal_pending(b->journal) == 0)
        finish_stop(b);
}

static void on_signal(uv_signal_t *s, int signum)
{
    knoop_broker_t *b = s->data;
    if (signum == SIGHUP) {
        char msg[1024];
        int rc = knoop_broker_reload(b, msg, sizeof msg);
        if (rc == 0)
            knoop_log_info("config.reloaded", "source=\"%s\" note=\"%s\"", b->config->source, msg);
        else
            knoop_log_error("config.reload_failed", "error=\"%s\" action=kept_running_config", msg);
        return;
    }
    knoop_log_info("daemon.stopping", "signal=%d", signum);
    knoop_broker_stop(b);
}

void knoop_broker_stop(knoop_broker_t *b)
{
    if (b->stopping)
        return;
    b->stopping = true;
    b->reading_stopped = true; /* stop accepting; what is queued still commits and is answered */
    uv_poll_stop(&b->zpoll);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void finish_stop(knoop_broker_t *b)
{
    knoop_delivery_tick(b); /* queue the last cursor updates */
    if (knoop_journal_pending(b->journal) != 0)
        return; /* the next tick tries again */
    knoop_log_info("daemon.stopped", "last_seq=%" PRIu64, knoop_journal_last_seq(b->journal));
    uv_timer_stop(&b->tick);
    close_handle((uv_handle_t *)&b->tick);
    close_handle((uv_handle_t *)&b->zpoll);
    close_handle((uv_handle_t *)&b->zcheck);
    close_handle((uv_handle_t *)&b->zidle);
    close_handle((uv_handle_t *)&b->sigterm);
    close_handle((uv_handle_t *)&b->sigint);
    close_handle((uv_handle_t *)&b->sighup);
    knoop_control_destroy(&b->control);
    knoop_store_entries_close(&b->entries_reader);
    knoop_journal_close(&b->journal);
    size_t pos = 0;
    void *v;
    while (pos = 0, knoop_strmap_next(b->peers, &pos, NULL, &v))
        peer_free(b, v);
    knoop_strmap_destroy(&b->peers);
    knoop_streams_free(b);
    knoop_route_state_destroy(&b->route_state);
    knoop_xml_close(b);
    int linger = 2000; /* let the last Accepted frames leave */
    zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(b->router);
    zmq_ctx_term(b->zctx);
    b->router = b->zctx = NULL;
}

/* ---- start-up ------------------------------------------------------------------------------------------ */

static int load_pseudonym_key(knoop_broker_t *b, char *errbuf, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/pseudonym.key", b->config->settings.data_dir);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, b->pseudonym_key, sizeof b->pseudonym_key);
        close(fd);
        if (n == (ssize_t)sizeof b->pseudonym_key)
            return 0;
        snprintf(errbuf, errlen, "%s: expected %zu bytes", path, sizeof b->pseudonym_key);
        return -EINVAL;
    }
    randombytes_buf(b->pseudonym_key, sizeof b->pseudonym_key);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || write(fd, b->pseudonym_key, sizeof b->pseudonym_key) != (ssize_t)sizeof b->pseudonym_key ||
        fsync(fd) != 0) {
        snprintf(errbuf, errlen, "%s: cannot write: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -EIO;
    }
    close(fd);
    return 0;
}

/* After a failed start: release whatever knoop_broker_init got to, in reverse; the caller runs the loop once more
 * so closed handles finish closing. */
void knoop_broker_abort(knoop_broker_t *b)
{
    knoop_control_destroy(&b->control);
    if (b->journal)
        knoop_journal_close(&b->journal);
    knoop_xml_close(b);
    knoop_route_state_destroy(&b->route_state);
    if (b->peers)
        knoop_strmap_destroy(&b->peers);
    if (b->streams)
        knoop_streams_free(b);
    if (b->router)
        zmq_close(b->router);
    if (b->zctx)
        zmq_ctx_term(b->zctx);
    b->router = b->zctx = NULL;
}

int knoop_broker_init(knoop_broker_t *b, uv_loop_t *loop, knoop_config_t *config, const char *config_path)
{
    char err[1024] = "";
    memset(b, 0, sizeof *b);
    b->loop = loop;
    b->config = config;
    snprintf(b->config_path, sizeof b->config_path, "%s", config_path ? config_path : "");
    b->started_us = knoop_now_us();
    randombytes_buf(&b->instance_id, sizeof b->instance_id);
    b->peers = knoop_strmap_new();
    b->streams = knoop_strmap_new();
    const knoop_settings_t *s = &config->settings;
    knoop_log_set_level(KNOOP_LOG_INFO);
    knoop_log_level_t lvl;
    if (knoop_log_level_parse(s->log_level, &lvl) == 0)
        knoop_log_set_level(lvl);
    int rc = knoop_mkdir_p(s->data_dir, 0700);
    if (rc != 0) {
        knoop_log_error("daemon.data_dir", "path=\"%s\" error=\"%s\"", s->data_dir, strerror(-rc));
        return rc;
    }
    if ((rc = load_pseudonym_key(b, err, sizeof err)) != 0) {
        knoop_log_error("daemon.pseudonym_key", "error=\"%s\"", err);
        return rc;
    }
    char dbpath[4200];
    snprintf(dbpath, sizeof dbpath, "%s/knoop.db", s->data_dir);
    knoop_journal_options_t jopt = {
        .path = dbpath, .batch_max = s->commit_batch_max, .checkpoint_pages = s->checkpoint_pages};
    if ((rc = knoop_journal_open(&jopt, loop, b, &b->journal, err, sizeof err)) != 0) {
        knoop_log_error("journal.open", "error=\"%s\"", err);
        return rc;
    }
    b->boot_last_seq = knoop_journal_last_seq(b->journal); /* delivery: attempt > 1 only for what came before */
    if ((rc = knoop_streams_load(b, err, sizeof err)) != 0) {
        knoop_log_error("journal.streams", "error=\"%s\"", err);
        return rc;
    }
    if ((rc = knoop_route_state_open(b, err, sizeof err)) != 0) {
        knoop_log_error("route_state.open", "error=\"%s\"", err);
        return rc;
    }
    if ((rc = knoop_xml_open(b, err, sizeof err)) != 0) {
        knoop_log_error("xml.open", "error=\"%s\"", err);
        return rc;
    }

    b->zctx = zmq_ctx_new();
    b->router = zmq_socket(b->zctx, ZMQ_ROUTER);
    int one = 1, hwm = 0;
    /* A hard guard against memory exhaustion, far above the limit: frames between the two are answered TOO_LARGE;
     * ZeroMQ drops a connection that sends more than the guard (it cannot be answered: it never arrives). */
    int64_t maxmsg = (int64_t)s->max_message_bytes * 4 > (64 << 20) ? (int64_t)s->max_message_bytes * 4 : (64 << 20);
    zmq_setsockopt(b->router, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    zmq_setsockopt(b->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(b->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(b->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (zmq_bind(b->router, s->listen) != 0) {
        int e = errno;
        knoop_log_error("daemon.listen", "endpoint=\"%s\" error=\"%s\"", s->listen, zmq_strerror(e));
        return e > 0 && e < 1000 ? -e : -EINVAL; /* ZeroMQ's own errors (wrong transport) are above 1000 */
    }
    int fd;
    size_t fdlen = sizeof fd;
    zmq_getsockopt(b->router, ZMQ_FD, &fd, &fdlen);
    uv_poll_init(loop, &b->zpoll, fd);
    b->zpoll.data = b;
    uv_poll_start(&b->zpoll, UV_READABLE, on_zpoll);
    uv_check_init(loop, &b->zcheck);
    b->zcheck.data = b;
    uv_check_start(&b->zcheck, on_zcheck);
    uv_idle_init(loop, &b->zidle);
    b->zidle.data = b;
    uv_timer_init(loop, &b->tick);
    b->tick.data = b;
    uv_timer_start(&b->tick, on_tick, TICK_MS, TICK_MS);
    uv_signal_t *sigs[] = {&b->sigterm, &b->sigint, &b->sighup};
    int signums[] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(loop, sigs[i]);
        sigs[i]->data = b;
        uv_signal_start(sigs[i], on_signal, signums[i]);
    }
    signal(SIGPIPE, SIG_IGN);
    if ((rc = knoop_control_new(b, s->control_socket, (int)s->control_socket_mode, &b->control, err, sizeof err)) !=
        0) {
        knoop_log_error("control.listen", "error=\"%s\"", err);
        return rc;
    }
    knoop_log_info("daemon.ready",
                   "version=%s listen=\"%s\" control=\"%s\" data_dir=\"%s\" last_seq=%" PRIu64
                   " streams=%zu config=\"%s\"",
                   KNOOP_VERSION, s->listen, s->control_socket, s->data_dir, knoop_journal_last_seq(b->journal),
                   knoop_strmap_size(b->streams), config->source);
    return 0;
}

int knoop_broker_reload(knoop_broker_t *b, char *msg, size_t len)
{
    knoop_config_t *next = NULL;
    char err[1024];
    int rc = b->config_path[0] ? knoop_config_load_file(b->config_path, &next, err, sizeof err)
                               : knoop_config_load_demo(&next, err, sizeof err);
    if (rc != 0) {
        snprintf(msg, len, "%s", err);
        return rc;
    }
    if (b->config->network && !next->network) {
        snprintf(msg, len,
                 "%s has no network: section (the running configuration has one); an empty or truncated "
                 "file is not reloaded",
                 next->source);
        knoop_config_destroy(&next);
        return -EINVAL;
    }
    char fixed[512];
    int nfixed = knoop_settings_restart_needed(&b->config->settings, &next->settings, fixed, sizeof fixed);
    if (knoop_settings_keep_fixed(&b->config->settings, &next->settings) != 0) {
        knoop_config_destroy(&next);
        snprintf(msg, len, "out of memory");
        return -ENOMEM;
    }
    if (knoop_route_state_rebind(b, next->network) != 0) {
        knoop_config_destroy(&next);
        snprintf(msg, len, "out of memory carrying the route state over");
        return -ENOMEM;
    }
    knoop_config_t *old = b->config;
    b->config = next; /* messages already queued keep the routing decision made at their ingest */
    knoop_config_destroy(&old);
    knoop_log_level_t lvl;
    if (knoop_log_level_parse(next->settings.log_level, &lvl) == 0)
        knoop_log_set_level(lvl);
    if (nfixed)
        snprintf(msg, len, "reloaded; these settings changed but take effect only after a restart: %s", fixed);
    else
        snprintf(msg, len, "reloaded");
    return 0;
}
