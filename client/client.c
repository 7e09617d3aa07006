/* client.c — libknoop: the client side of the wire protocol over a ZeroMQ DEALER. Blocking calls with timeouts,
 * no threads: the tools and the bench drive it from one thread each. */
#include "knoop/client.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

struct knoop_client {
    void *ctx;             /* owned */
    void *sock;            /* owned */
    Knoop__Frame *welcome; /* owned: the Welcome frame */
};

int knoop_client_send_raw(knoop_client_t *c, const void *data, size_t len)
{
    return zmq_send(c->sock, data, len, 0) < 0 ? -errno : 0;
}

int knoop_client_send(knoop_client_t *c, const Knoop__Frame *f)
{
    uint8_t small[4096];
    size_t len = knoop__frame__get_packed_size(f);
    uint8_t *buf = len <= sizeof small ? small : malloc(len);
    if (!buf)
        return -ENOMEM;
    knoop__frame__pack(f, buf);
    int rc = knoop_client_send_raw(c, buf, len);
    if (buf != small)
        free(buf);
    return rc;
}

int knoop_client_recv(knoop_client_t *c, int timeout_ms, Knoop__Frame **out)
{
    *out = NULL;
    zmq_pollitem_t item = {c->sock, 0, ZMQ_POLLIN, 0};
    int n = zmq_poll(&item, 1, timeout_ms);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -EAGAIN;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, c->sock, 0) < 0) {
        zmq_msg_close(&msg);
        return -errno;
    }
    *out = knoop__frame__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
    zmq_msg_close(&msg);
    return *out ? 0 : -EPROTO;
}

void knoop_client_frame_free(Knoop__Frame *f)
{
    if (f)
        knoop__frame__free_unpacked(f, NULL);
}

/* Sets the CURVE keys (ZeroMQ takes 40 characters as Z85); false with errbuf set. */
static bool set_curve(void *sock, const knoop_client_curve_t *k, char *errbuf, size_t errlen)
{
    const char *what = NULL;
    if (!k->server_public_key || strlen(k->server_public_key) != 40 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, k->server_public_key, 40) != 0)
        what = "server public key";
    else if (!k->public_key || strlen(k->public_key) != 40 ||
             zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, k->public_key, 40))
        what = "public key";
    else if (!k->secret_key || strlen(k->secret_key) != 40 ||
             zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, k->secret_key, 40))
        what = "secret key";
    if (what)
        snprintf(errbuf, errlen, "CURVE %s: not 40 characters of Z85 (%s)", what, zmq_strerror(zmq_errno()));
    return what == NULL;
}

/* What a failed handshake means to the person running the client. */
static void handshake_failed(uint16_t event, uint32_t value, bool curve, const char *endpoint, char *errbuf,
                             size_t errlen)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        snprintf(errbuf, errlen,
                 "%s: knoopd refused this client's key (ZAP status %u): it is not a client key there, or it was "
                 "revoked (knoopctl clients add PARTY KEY)",
                 endpoint, value);
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        snprintf(errbuf, errlen,
                 "%s: knoopd closed the connection during the CURVE handshake: is the server public key the one of "
                 "this knoopd?",
                 endpoint);
    else if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        snprintf(errbuf, errlen, "%s: %s", endpoint,
                 curve ? "knoopd does not speak CURVE (it runs auth: none): connect without keys"
                       : "knoopd wants CURVE (auth: curve): give the server's public key and this client's key pair");
    else
        snprintf(errbuf, errlen, "%s: the %s handshake failed (ZeroMQ protocol error 0x%x)%s", endpoint,
                 curve ? "CURVE" : "NULL", value, curve ? ": is the server public key the right one?" : "");
}

/* Waits for the answer to Hello, or for the handshake to fail (the monitor says so at once). */
static int wait_welcome(knoop_client_t *c, void *monitor, bool curve, const char *endpoint, int timeout_ms,
                        Knoop__Frame **r, char *errbuf, size_t errlen)
{
    zmq_pollitem_t items[2] = {{c->sock, 0, ZMQ_POLLIN, 0}, {monitor, 0, ZMQ_POLLIN, 0}};
    int drops = 0; /* connections lost before the answer (NULL clients only watch for them) */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        /* one deadline for the whole wait: a lost connection goes on waiting, it does not start the wait again */
        clock_gettime(CLOCK_MONOTONIC, &t);
        long spent_ms = (long)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        int n = spent_ms >= timeout_ms ? 0 : zmq_poll(items, monitor ? 2 : 1, timeout_ms - spent_ms);
        if (n < 0)
            return -errno;
        if (n == 0) {
            snprintf(errbuf, errlen, "%s: no answer to Hello within %d ms (is knoopd running?)", endpoint, timeout_ms);
            return -EAGAIN;
        }
        if (items[0].revents & ZMQ_POLLIN)
            return knoop_client_recv(c, 0, r);
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, monitor, 0) < 0) {
            zmq_msg_close(&ev);
            return -errno;
        }
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&event, zmq_msg_data(&ev), 2);
            memcpy(&value, (const uint8_t *)zmq_msg_data(&ev) + 2, 4);
        }
        zmq_msg_close(&ev);
        zmq_msg_init(&addr);
        zmq_msg_recv(&addr, monitor, 0);
        zmq_msg_close(&addr);
        if (event == ZMQ_EVENT_DISCONNECTED) {
            /* A NULL client's greeting against a CURVE knoopd: knoopd sees the mismatch and hangs up, and when its
             * reset arrives before the client has read knoopd's greeting, ZeroMQ reports a lost connection instead
             * of the mismatch, and reconnects. Once may be a restart; three times before any answer is not. */
            if (++drops < 3)
                continue;
            snprintf(errbuf, errlen,
                     "%s: knoopd closed the connection during the handshake %d times: most likely knoopd wants CURVE "
                     "(auth: curve): give the server's public key and this client's key pair",
                     endpoint, drops);
            return -EACCES;
        }
        handshake_failed(event, value, curve, endpoint, errbuf, errlen);
        return -EACCES;
    }
}

int knoop_client_connect_curve(const char *endpoint, const knoop_client_curve_t *curve, const char *party,
                               const char *client_name, int timeout_ms, knoop_client_t **out, char *errbuf,
                               size_t errlen)
{
    *out = NULL;
    knoop_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->ctx = zmq_ctx_new();
    c->sock = c->ctx ? zmq_socket(c->ctx, ZMQ_DEALER) : NULL;
    if (!c->sock) {
        snprintf(errbuf, errlen, "cannot make a ZeroMQ socket: %s", zmq_strerror(zmq_errno()));
        knoop_client_destroy(&c);
        return -ENOMEM;
    }
    int linger = 1000, hwm = 0;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(c->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (curve && !set_curve(c->sock, curve, errbuf, errlen)) {
        knoop_client_destroy(&c);
        return -EINVAL;
    }
    /* Only while connecting: a refused handshake is reported at once instead of as a silent timeout. */
    void *monitor = NULL;
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
    if (curve) /* knoopd closes a CURVE handshake it cannot decrypt: a wrong server public key */
        events |= ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    else /* knoopd hangs up on a NULL greeting when it wants CURVE, sometimes before the mismatch is seen here */
        events |= ZMQ_EVENT_DISCONNECTED;
    if (zmq_socket_monitor(c->sock, "inproc://knoop.client.monitor", events) == 0 &&
        (monitor = zmq_socket(c->ctx, ZMQ_PAIR)) != NULL &&
        zmq_connect(monitor, "inproc://knoop.client.monitor") != 0) {
        zmq_close(monitor);
        monitor = NULL;
    }
    if (zmq_connect(c->sock, endpoint) != 0) {
        snprintf(errbuf, errlen, "%s: %s", endpoint, zmq_strerror(errno));
        if (monitor)
            zmq_close(monitor);
        knoop_client_destroy(&c);
        return -EINVAL;
    }
    Knoop__Hello h = KNOOP__HELLO__INIT;
    h.party = (char *)party;
    h.client_name = (char *)client_name;
    h.protocol_version = 1;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_HELLO;
    f.hello = &h;
    knoop_client_send(c, &f);
    Knoop__Frame *r = NULL;
    int rc = wait_welcome(c, monitor, curve != NULL, endpoint, timeout_ms, &r, errbuf, errlen);
    if (monitor) {
        zmq_socket_monitor(c->sock, NULL, 0);
        int zero = 0;
        zmq_setsockopt(monitor, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(monitor);
    }
    if (rc != 0 || r->body_case != KNOOP__FRAME__BODY_WELCOME) {
        if (rc == -EPROTO)
            snprintf(errbuf, errlen, "%s: the answer to Hello is not a knoop frame", endpoint);
        else if (rc == 0 && r->body_case == KNOOP__FRAME__BODY_ERROR)
            snprintf(errbuf, errlen, "Hello refused: %s: %s", knoop_error_code_name(r->error->code), r->error->reason);
        else if (rc == 0)
            snprintf(errbuf, errlen, "unexpected answer to Hello");
        knoop_client_frame_free(r);
        knoop_client_destroy(&c);
        return rc ? rc : -EPROTO;
    }
    c->welcome = r;
    *out = c;
    return 0;
}

int knoop_client_connect(const char *endpoint, const char *party, const char *client_name, int timeout_ms,
                         knoop_client_t **out, char *errbuf, size_t errlen)
{
    return knoop_client_connect_curve(endpoint, NULL, party, client_name, timeout_ms, out, errbuf, errlen);
}

const Knoop__Welcome *knoop_client_welcome(const knoop_client_t *c)
{
    return c->welcome->welcome;
}
void *knoop_client_socket(knoop_client_t *c)
{
    return c->sock;
}

void knoop_client_destroy(knoop_client_t **cp)
{
    if (!cp || !*cp)
        return;
    knoop_client_t *c = *cp;
    knoop_client_frame_free(c->welcome);
    if (c->sock)
        zmq_close(c->sock);
    if (c->ctx)
        zmq_ctx_term(c->ctx);
    free(c);
    *cp = NULL;
}

int knoop_client_publish(knoop_client_t *c, uint64_t ref, const Knoop__Envelope *env)
{
    Knoop__Publish p = KNOOP__PUBLISH__INIT;
    p.ref = ref;
    p.envelope = (Knoop__Envelope *)env;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_PUBLISH;
    f.publish = &p;
    return knoop_client_send(c, &f);
}

int knoop_client_subscribe(knoop_client_t *c, const char *stream, const char *subscriber, Knoop__StartAt start,
                           uint64_t start_seq, int64_t start_time_us, uint32_t credit)
{
    Knoop__Subscribe s = KNOOP__SUBSCRIBE__INIT;
    s.stream = (char *)stream;
    s.subscriber = (char *)subscriber;
    s.start = start;
    s.start_seq = start_seq;
    s.start_time_us = start_time_us;
    s.credit = credit;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_SUBSCRIBE;
    f.subscribe = &s;
    return knoop_client_send(c, &f);
}

int knoop_client_ack(knoop_client_t *c, const char *stream, uint64_t seq)
{
    Knoop__Ack a = KNOOP__ACK__INIT;
    a.stream = (char *)stream;
    a.seq = seq;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_ACK;
    f.ack = &a;
    return knoop_client_send(c, &f);
}

int knoop_client_nack(knoop_client_t *c, const char *stream, uint64_t seq, uint32_t delay_ms, const char *reason)
{
    Knoop__Nack n = KNOOP__NACK__INIT;
    n.stream = (char *)stream;
    n.seq = seq;
    n.delay_ms = delay_ms;
    n.reason = (char *)reason;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_NACK;
    f.nack = &n;
    return knoop_client_send(c, &f);
}

int knoop_client_heartbeat(knoop_client_t *c)
{
    Knoop__Heartbeat h = KNOOP__HEARTBEAT__INIT;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_HEARTBEAT;
    f.heartbeat = &h;
    return knoop_client_send(c, &f);
}
