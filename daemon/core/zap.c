/* zap.c — the ZAP handler (zap.h): a REP socket on inproc://zeromq.zap.01 in the ROUTER's context, served on the loop
 * thread like the ROUTER (uv_poll on ZMQ_FD, drained while ZMQ_EVENTS says POLLIN, and again after every loop
 * iteration). On the loop, the key map it reads is the one reload and `knoopctl clients` change, with no lock. A
 * known key gets 200 with its party as User-Id and the key as metadata; anything else 400, logged with the key's
 * fingerprint and the peer's address, never the key. */
#include "core/zap.h"
#include <errno.h>
#include <string.h>
#include <zmq.h>
#include "base/curve_key.h"
#include "base/log.h"
#include "config/clients.h"
#include "core/conns.h"
#include "core/dispatch.h"

#define ZAP_ENDPOINT   "inproc://zeromq.zap.01"
#define ZAP_FRAMES_MAX 8
#define ZAP_FRAME_MAX  256

typedef struct zap_request {
    int n;
    size_t len[ZAP_FRAMES_MAX];
    char f[ZAP_FRAMES_MAX][ZAP_FRAME_MAX + 1]; /* 0 version, 1 request id, 2 domain, 3 address, 4 identity,
                                                * 5 mechanism, 6.. credentials */
} zap_request_t;

/* One whole request (every part, even past what we keep); false when none is queued. */
static bool recv_request(void *sock, zap_request_t *r)
{
    r->n = 0;
    bool more = true;
    for (int part = 0; more; part++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, part == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            return part > 0; /* a request cut short is still answered (as malformed) */
        }
        if (r->n < ZAP_FRAMES_MAX) {
            size_t len = zmq_msg_size(&m) < ZAP_FRAME_MAX ? zmq_msg_size(&m) : ZAP_FRAME_MAX;
            memcpy(r->f[r->n], zmq_msg_data(&m), len);
            r->f[r->n][len] = '\0';
            r->len[r->n++] = zmq_msg_size(&m);
        }
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    return true;
}

static void send_reply(void *sock, const zap_request_t *r, const char *status, const char *text, const char *user,
                       const char *key)
{
    /* metadata: one property in ZMTP form, name length (1 byte), name, value length (4 bytes, big-endian), value */
    uint8_t meta[1 + sizeof KNOOP_ZAP_KEY_PROPERTY + 4 + KNOOP_CURVE_KEY_LEN];
    size_t mlen = 0;
    if (key) {
        size_t nlen = strlen(KNOOP_ZAP_KEY_PROPERTY), vlen = strlen(key);
        meta[mlen++] = (uint8_t)nlen;
        memcpy(meta + mlen, KNOOP_ZAP_KEY_PROPERTY, nlen);
        mlen += nlen;
        meta[mlen++] = 0, meta[mlen++] = 0, meta[mlen++] = 0, meta[mlen++] = (uint8_t)vlen;
        memcpy(meta + mlen, key, vlen);
        mlen += vlen;
    }
    const char *request_id = r->n > 1 ? r->f[1] : "";
    size_t request_id_len = r->n > 1 ? (r->len[1] < ZAP_FRAME_MAX ? r->len[1] : ZAP_FRAME_MAX) : 0;
    if (zmq_send(sock, "1.0", 3, ZMQ_SNDMORE) < 0 || zmq_send(sock, request_id, request_id_len, ZMQ_SNDMORE) < 0 ||
        zmq_send(sock, status, 3, ZMQ_SNDMORE) < 0 || zmq_send(sock, text, strlen(text), ZMQ_SNDMORE) < 0 ||
        zmq_send(sock, user, strlen(user), ZMQ_SNDMORE) < 0 || zmq_send(sock, meta, mlen, 0) < 0)
        knoop_log_error("auth.zap", "step=reply error=\"%s\"", zmq_strerror(zmq_errno()));
}

static void answer(knoop_broker_t *b, const zap_request_t *r)
{
    const char *address = r->n > 3 ? r->f[3] : "?";
    uint64_t suppressed;
    if (r->n < 7 || strcmp(r->f[0], "1.0") != 0 || strcmp(r->f[5], "CURVE") != 0 || r->len[6] != 32) {
        if (knoop_conns_log_refusal(b, &suppressed))
            knoop_log_warn("auth.refused", "reason=bad_request peer=\"%s\" suppressed=%llu", address,
                           (unsigned long long)suppressed);
        send_reply(b->zap, r, "400", "CURVE only", "", NULL);
        return;
    }
    char key[KNOOP_CURVE_KEY_LEN + 1], fp[KNOOP_CURVE_FINGERPRINT_LEN + 1];
    if (!zmq_z85_encode(key, (const uint8_t *)r->f[6], 32) || knoop_curve_fingerprint(key, fp) != 0) {
        send_reply(b->zap, r, "500", "internal error", "", NULL);
        return;
    }
    const knoop_client_key_t *k = knoop_clients_find(b->clients, key);
    if (!k) {
        if (knoop_conns_log_refusal(b, &suppressed))
            knoop_log_warn("auth.refused", "reason=unknown_key fingerprint=%s peer=\"%s\" suppressed=%llu", fp, address,
                           (unsigned long long)suppressed);
        send_reply(b->zap, r, "400", "unknown client key", "", NULL);
        return;
    }
    knoop_log_debug("auth.accepted", "party=%s fingerprint=%s peer=\"%s\"", k->party, fp, address);
    send_reply(b->zap, r, "200", "OK", k->party, key);
}

void knoop_zap_pump(knoop_broker_t *b)
{
    if (!b->zap)
        return;
    zap_request_t r;
    while (recv_request(b->zap, &r))
        answer(b, &r);
}

static void on_zap_poll(uv_poll_t *h, int status, int events)
{
    (void)events;
    if (status < 0)
        knoop_log_error("auth.zap", "step=poll error=\"%s\"", uv_strerror(status));
    knoop_zap_pump(h->data);
}

int knoop_zap_start(knoop_broker_t *b)
{
    int fd, rc;
    size_t fdlen = sizeof fd;
    if (!(b->zap = zmq_socket(b->zctx, ZMQ_REP)) || zmq_bind(b->zap, ZAP_ENDPOINT) != 0 ||
        zmq_getsockopt(b->zap, ZMQ_FD, &fd, &fdlen) != 0) {
        knoop_log_error("daemon.listen", "step=zap_handler error=\"%s\"", zmq_strerror(zmq_errno()));
        return -EIO;
    }
    if ((rc = knoop_listen_step(uv_poll_init(b->loop, &b->zap_poll, fd), "uv_poll_init(zap)")) != 0)
        return rc;
    b->zap_poll.data = b;
    return knoop_listen_step(uv_poll_start(&b->zap_poll, UV_READABLE, on_zap_poll), "uv_poll_start(zap)");
}

void knoop_zap_close(knoop_broker_t *b)
{
    if (!b->zap)
        return;
    int linger = 0;
    zmq_setsockopt(b->zap, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_close(b->zap) != 0)
        knoop_log_warn("daemon.close", "step=zmq_close(zap) error=\"%s\"", zmq_strerror(zmq_errno()));
    b->zap = NULL;
}
