/* conns.c — the ROUTER's connections (conns.h). ZeroMQ 4.3 gives a ROUTER no per-connection notice (ROUTER_NOTIFY
 * is a draft option), so a socket monitor reports ACCEPTED and DISCONNECTED/CLOSED with the descriptor, and every
 * received frame says which descriptor it came from (ZMQ_SRCFD). A descriptor is reused by the kernel, so each
 * accepted connection gets a generation number; a session remembers the generation, not the descriptor.
 *
 * The race, and why it is handled this way: monitor events and frames reach us over two different queues. ZeroMQ's
 * one I/O thread (the context keeps the default of one) queues the ACCEPTED event before the connection's first frame
 * and the DISCONNECTED event after its last frame, and the descriptor is closed (free for reuse) only after that. So
 * dispatch.c drains the monitor after receiving each frame and before attributing it: every event that happened
 * before the frame was queued is then known, and a new connection that reuses a descriptor (and a routing id) can
 * never be taken for the old one. The monitor may be ahead of the frames, never behind: a frame read after its
 * connection's DISCONNECTED event finds no open connection and is dropped unanswered (an answer could reach whoever
 * holds that routing id now); a frame of the old connection read after the descriptor was reused is taken for the new
 * connection, which ends the old session before its time. Both only lose what a client loses at any disconnect
 * (unanswered publishes are sent again and deduplicated, unacked deliveries come again), and the User-Id check in
 * peers.c still refuses a frame of another party. */
#include "core/conns.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "base/clock.h"
#include "base/log.h"
#include "base/ratelimit.h"
#include "core/peers.h"

#define MONITOR_ENDPOINT "inproc://knoop.router.monitor"

typedef struct conn_slot {
    uint64_t gen; /* of the last connection accepted on this descriptor */
    bool open;
} conn_slot_t;

struct knoop_conns {
    conn_slot_t *by_fd; /* owned; indexed by descriptor */
    size_t cap;
    uint64_t last_gen;
    knoop_ratelimit_t refusals; /* log lines about refused connections */
};

bool knoop_conns_log_refusal(knoop_broker_t *b, uint64_t *suppressed)
{
    *suppressed = 0;
    return b->conns && knoop_ratelimit_take(&b->conns->refusals, knoop_now_ms(), 20, 5, suppressed);
}

/* A handshake that failed before ZAP was asked (ZAP's own refusals are logged by zap.c): the event names no peer,
 * but says why, which is what an operator needs to tell the client. */
static void handshake_failed(knoop_broker_t *b, uint16_t event, uint32_t code)
{
    uint64_t suppressed;
    if (!knoop_conns_log_refusal(b, &suppressed))
        return;
    const char *why = event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ? "connection_lost"
                      : code == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH
                          ? (b->zap ? "mechanism_mismatch (a client without CURVE)"
                                    : "mechanism_mismatch (a CURVE client; this knoopd runs auth: none)")
                      : code == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC
                          ? "cryptographic (a client with another server public key?)"
                          : "protocol_error";
    knoop_log_warn("auth.handshake_failed", "reason=\"%s\" code=0x%x suppressed=%llu", why, code,
                   (unsigned long long)suppressed);
}

static int monitor_step(int rc, const char *step)
{
    if (rc == 0)
        return 0;
    int e = zmq_errno();
    knoop_log_error("daemon.listen", "step=%s error=\"%s\"", step, zmq_strerror(e));
    return e > 0 && e < 1000 ? -e : -EINVAL;
}

int knoop_conns_start(knoop_broker_t *b)
{
    if (!(b->conns = calloc(1, sizeof *b->conns)))
        return -ENOMEM;
    int rc, unlimited = 0;
    if ((rc = monitor_step(zmq_socket_monitor(b->router, MONITOR_ENDPOINT,
                                              ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CLOSED |
                                                  ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                                  ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL),
                           "zmq_socket_monitor")) != 0)
        return rc;
    if (!(b->monitor = zmq_socket(b->zctx, ZMQ_PAIR)))
        return monitor_step(-1, "zmq_socket(monitor)");
    /* No limit on queued events: a lost DISCONNECTED would leave a session on a closed connection. */
    if ((rc = monitor_step(zmq_setsockopt(b->monitor, ZMQ_RCVHWM, &unlimited, sizeof unlimited),
                           "zmq_setsockopt(monitor ZMQ_RCVHWM)")) != 0 ||
        (rc = monitor_step(zmq_connect(b->monitor, MONITOR_ENDPOINT), "zmq_connect(monitor)")) != 0)
        return rc;
    return 0;
}

static bool on_conn(const knoop_peer_t *p, const void *ctx)
{
    return p->conn == *(const uint64_t *)ctx;
}

static void opened(knoop_conns_t *c, int fd)
{
    if ((size_t)fd >= c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap <= (size_t)fd)
            cap *= 2;
        conn_slot_t *bigger = realloc(c->by_fd, cap * sizeof *bigger);
        if (!bigger) { /* its frames will find no open connection and be dropped: refused, never misattributed */
            knoop_log_error("conn.accepted", "fd=%d error=\"out of memory\"", fd);
            return;
        }
        memset(bigger + c->cap, 0, (cap - c->cap) * sizeof *bigger);
        c->by_fd = bigger;
        c->cap = cap;
    }
    c->by_fd[fd].gen = ++c->last_gen;
    c->by_fd[fd].open = true;
}

static void closed(knoop_broker_t *b, int fd)
{
    knoop_conns_t *c = b->conns;
    if ((size_t)fd >= c->cap || !c->by_fd[fd].open)
        return; /* the listener's own CLOSED, or a connection we never saw */
    c->by_fd[fd].open = false;
    uint64_t gen = c->by_fd[fd].gen;
    knoop_peers_end(b, on_conn, &gen, "disconnected", NULL);
}

void knoop_conns_pump(knoop_broker_t *b)
{
    if (!b->monitor)
        return;
    for (;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, b->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&event, zmq_msg_data(&ev), 2);
            memcpy(&value, (const uint8_t *)zmq_msg_data(&ev) + 2, 4);
        }
        bool more = zmq_msg_more(&ev);
        zmq_msg_close(&ev);
        while (more) { /* the endpoint frame */
            zmq_msg_init(&addr);
            more = zmq_msg_recv(&addr, b->monitor, 0) >= 0 && zmq_msg_more(&addr);
            zmq_msg_close(&addr);
        }
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
            handshake_failed(b, event, value);
            continue;
        }
        int fd = (int)value;
        if (fd < 0)
            continue;
        if (event == ZMQ_EVENT_ACCEPTED)
            opened(b->conns, fd);
        else if (event == ZMQ_EVENT_DISCONNECTED || event == ZMQ_EVENT_CLOSED)
            closed(b, fd);
    }
}

uint64_t knoop_conns_current(knoop_broker_t *b, int fd)
{
    knoop_conns_t *c = b->conns;
    if (!c || fd < 0 || (size_t)fd >= c->cap || !c->by_fd[fd].open)
        return 0;
    return c->by_fd[fd].gen;
}

void knoop_conns_close(knoop_broker_t *b)
{
    if (b->monitor) {
        int linger = 0;
        zmq_setsockopt(b->monitor, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_close(b->monitor) != 0)
            knoop_log_warn("daemon.close", "step=zmq_close(monitor) error=\"%s\"", zmq_strerror(zmq_errno()));
        b->monitor = NULL;
    }
    if (b->conns) {
        free(b->conns->by_fd);
        free(b->conns);
        b->conns = NULL;
    }
}
