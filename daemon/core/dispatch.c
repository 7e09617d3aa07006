/* dispatch.c — ZeroMQ ROUTER joined to the libuv loop: ZMQ_FD + uv_poll wakes us, we drain while ZMQ_EVENTS has
 * POLLIN, and re-check after every loop iteration since sends can swallow the edge. Each frame is attributed to its
 * session by routing id, connection (ZMQ_SRCFD, core/conns.c) and authenticated identity (the ZAP User-Id), then goes
 * to its row of the frame-handler table app/ put in the context (b->frame_handlers); core knows no handler by name
 * but Heartbeat. */
#include "core/dispatch.h"
#include "core/frame_text.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>
#include "base/clock.h"
#include "base/log.h"
#include "core/conns.h"
#include "base/pb_budget.h"
#include "core/frames.h"
#include "core/peers.h"
#include "core/zap.h"

#define DRAIN_BUDGET 2048 /* frames per wake-up before yielding to the rest of the loop */

void knoop_handle_heartbeat(knoop_broker_t *b, knoop_peer_t *p, Knoop__Frame *f)
{
    (void)f;
    Knoop__Heartbeat hb = KNOOP__HEARTBEAT__INIT;
    Knoop__Frame out = KNOOP__FRAME__INIT;
    out.body_case = KNOOP__FRAME__BODY_HEARTBEAT;
    out.heartbeat = &hb;
    knoop_send_frame(b, p, &out);
}

static const knoop_frame_handler_t *handler_for(const knoop_broker_t *b, Knoop__Frame__BodyCase body)
{
    for (size_t i = 0; i < b->n_frame_handlers; i++)
        if (b->frame_handlers[i].body == body)
            return &b->frame_handlers[i];
    return NULL;
}

static void handle_message(knoop_broker_t *b, knoop_peer_t *p, const uint8_t *data, size_t len)
{
    b->frame_received_us = knoop_mono_us(); /* a publish's ingest stage starts before it is decoded */
    p->last_seen_ms = knoop_now_ms();
    if (len > b->config->settings.max_message_bytes) {
        uint64_t ref = knoop_frame_peek_publish_ref(data, len);
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
    /* Decoding may allocate only a bounded multiple of the frame's size (base/pb_budget.h): a frame of millions of
     * tiny or unknown fields is refused, not expanded in memory. */
    knoop_pb_budget_t budget;
    knoop_pb_budget_init(&budget, KNOOP_PB_BUDGET(len));
    Knoop__Frame *f = knoop__frame__unpack(&budget.allocator, len, data);
    if (!f) {
        b->stats.bad_frames++;
        if (budget.exceeded)
            knoop_send_error(b, p, KNOOP__ERROR_CODE__BAD_FRAME,
                             "frame of %zu bytes has too many fields to decode (at most %zu bytes of memory may "
                             "go to decoding it)",
                             len, budget.limit);
        else
            knoop_send_error(b, p, KNOOP__ERROR_CODE__BAD_FRAME,
                             "not a knoop.Frame (%zu bytes could not be decoded "
                             "as protobuf)",
                             len);
        return;
    }
    const knoop_frame_handler_t *h = handler_for(b, f->body_case);
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
    knoop__frame__free_unpacked(f, &budget.allocator);
}

/* The session of a received frame, or NULL when it has none: its connection has closed (nothing may be sent: the
 * routing id may be someone else's by now), or its key was revoked since the handshake (told so, no session). */
static knoop_peer_t *session_of(knoop_broker_t *b, zmq_msg_t *id, zmq_msg_t *body)
{
    knoop_conns_pump(b); /* every connection event queued before this frame, before it is attributed (conns.c) */
    int fd = zmq_msg_get(body, ZMQ_SRCFD);
    knoop_peer_origin_t o = {.conn = knoop_conns_current(b, fd), .user_id = "", .client_key = ""};
    if (o.conn == 0) {
        knoop_log_debug("peer.frame_dropped", "reason=connection_closed fd=%d", fd);
        return NULL;
    }
    if (b->zap) { /* CURVE: ZAP named the party and the key at the handshake; they come with every frame */
        const char *user = zmq_msg_gets(body, "User-Id"), *key = zmq_msg_gets(body, KNOOP_ZAP_KEY_PROPERTY);
        o.user_id = user ? user : "";
        o.client_key = key ? key : "";
    }
    knoop_peer_t *p = NULL;
    int rc = knoop_peer_for(b, zmq_msg_data(id), zmq_msg_size(id), &o, &p);
    if (rc == -EACCES) {
        knoop_peer_t stranger = {.routing_id_len = zmq_msg_size(id)}; /* answered, never kept */
        memcpy(stranger.routing_id, zmq_msg_data(id), stranger.routing_id_len);
        snprintf(stranger.party, sizeof stranger.party, "%s", o.user_id);
        knoop_send_error(b, &stranger, KNOOP__ERROR_CODE__NOT_AUTHORISED,
                         "this client key is no longer authorised (revoked); nothing from this connection is served");
    } else if (rc != 0 && rc != -EINVAL && rc != -EBUSY) { /* -EBUSY: max_connections, refused and logged */
        knoop_log_error("peer.session", "error=\"%s\"", strerror(-rc));
    }
    return p;
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
        knoop_peer_t *p = ok ? session_of(b, &id, &body) : NULL;
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

static bool router_readable(knoop_broker_t *b)
{
    int events = 0;
    size_t sz = sizeof events;
    if (zmq_getsockopt(b->router, ZMQ_EVENTS, &events, &sz) != 0) {
        knoop_log_error("daemon.zmq_events", "error=\"%s\"", zmq_strerror(zmq_errno()));
        return false;
    }
    return (events & ZMQ_POLLIN) != 0;
}

static void pump_router(knoop_broker_t *b)
{
    if (b->reading_stopped || !router_readable(b))
        return;
    if (!drain_router(b) && !uv_is_active((uv_handle_t *)&b->zidle)) {
        int rc = uv_idle_start(&b->zidle, on_zidle);
        if (rc != 0) /* the next ZMQ_FD edge or loop iteration drains the rest */
            knoop_log_error("daemon.idle_start", "error=\"%s\"", uv_strerror(rc));
    }
}

static void on_zpoll(uv_poll_t *h, int status, int events)
{
    (void)events;
    if (status < 0)
        knoop_log_error("daemon.poll", "error=\"%s\"", uv_strerror(status));
    pump_router(h->data);
}

static void on_zcheck(uv_check_t *h)
{
    knoop_broker_t *b = h->data;
    if (uv_is_active((uv_handle_t *)&b->zidle))
        uv_idle_stop(&b->zidle);
    knoop_conns_pump(b); /* a connection that closed ends its session now, not at the peer timeout */
    knoop_zap_pump(b);
    if (b->hooks.after_io)
        b->hooks.after_io(b);
    pump_router(b);
}

int knoop_listen_step(int rc, const char *step)
{
    if (rc != 0)
        knoop_log_error("daemon.listen", "step=%s error=\"%s\"", step, uv_strerror(rc));
    return rc;
}

int knoop_dispatch_start(knoop_broker_t *b)
{
    int fd, rc;
    size_t fdlen = sizeof fd;
    if (zmq_getsockopt(b->router, ZMQ_FD, &fd, &fdlen) != 0) {
        knoop_log_error("daemon.listen", "step=zmq_getsockopt(ZMQ_FD) error=\"%s\"", zmq_strerror(zmq_errno()));
        return -EIO;
    }
    if ((rc = knoop_listen_step(uv_poll_init(b->loop, &b->zpoll, fd), "uv_poll_init")) != 0)
        return rc;
    b->zpoll.data = b;
    if ((rc = knoop_listen_step(uv_poll_start(&b->zpoll, UV_READABLE, on_zpoll), "uv_poll_start")) != 0 ||
        (rc = knoop_listen_step(uv_check_init(b->loop, &b->zcheck), "uv_check_init")) != 0)
        return rc;
    b->zcheck.data = b;
    if ((rc = knoop_listen_step(uv_check_start(&b->zcheck, on_zcheck), "uv_check_start")) != 0 ||
        (rc = knoop_listen_step(uv_idle_init(b->loop, &b->zidle), "uv_idle_init")) != 0)
        return rc;
    b->zidle.data = b;
    return 0;
}
