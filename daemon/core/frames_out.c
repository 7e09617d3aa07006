/* frames_out.c — everything knoopd sends goes through here: a routing-id frame then one packed knoop.Frame.
 * Deliver frames are assembled by hand from the stored envelope bytes, so delivery never unpacks a payload.
 * Reasons are formatted by base/textfmt.c in wire mode: valid UTF-8 whatever the client sent, and no value that
 * could be a BSN repeated; Error.stream is the stream as the client named it, whole, unless it could hold a BSN. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "core/broker.h"
#include "base/log.h"
#include "core/frames.h"
#include "base/textfmt.h"
#include "core/peer_limits.h"

static int send_raw(knoop_broker_t *b, knoop_peer_t *p, const void *data, size_t len)
{
    if (p->gone)
        return -ENOTCONN;
    if (p->send_full) /* its session is ending (core/peer_limits.c): nothing more is queued for it */
        return -EAGAIN;
    if (zmq_send(b->router, p->routing_id, p->routing_id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -errno;
    if (zmq_send(b->router, data, len, ZMQ_DONTWAIT) < 0)
        return -errno;
    return 0;
}

int knoop_send_frame(knoop_broker_t *b, knoop_peer_t *p, const Knoop__Frame *f)
{
    uint8_t small[512];
    size_t len = knoop__frame__get_packed_size(f);
    uint8_t *buf = len <= sizeof small ? small : malloc(len);
    if (!buf)
        return -ENOMEM;
    knoop__frame__pack(f, buf);
    int rc = send_raw(b, p, buf, len);
    if (buf != small)
        free(buf);
    if (rc == -EAGAIN) /* send_hwm frames queued: the client does not read; an answer is never dropped silently */
        knoop_peer_send_overflow(b, p);
    if (rc != 0)
        knoop_log_debug("peer.send_failed", "party=%s error=\"%s\"", p->party, strerror(-rc));
    return rc;
}

/* A reason for the wire (textfmt.h, wire mode). */
static void reason_v(char *out, size_t cap, const char *fmt, va_list ap)
{
    knoop_textfmt(out, cap, KNOOP_TEXT_WIRE, NULL, fmt, ap);
}

/* Error.stream: the name as the client sent it, whole, or left out when it is not UTF-8 or could hold a BSN. */
static bool stream_echoable(const char *stream)
{
    size_t n = stream ? strlen(stream) : 0;
    return n > 0 && knoop_utf8_valid(stream, n) && !knoop_text_may_hold_bsn(stream, n);
}

static int send_error_v(knoop_broker_t *b, knoop_peer_t *p, Knoop__ErrorCode code, const char *stream, const char *fmt,
                        va_list ap)
{
    char reason[512];
    reason_v(reason, sizeof reason, fmt, ap);
    Knoop__Error e = KNOOP__ERROR__INIT;
    e.code = code;
    e.reason = reason;
    if (stream_echoable(stream))
        e.stream = (char *)stream;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_ERROR;
    f.error = &e;
    return knoop_send_frame(b, p, &f);
}

int knoop_send_error(knoop_broker_t *b, knoop_peer_t *p, Knoop__ErrorCode code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = send_error_v(b, p, code, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int knoop_send_stream_error(knoop_broker_t *b, knoop_peer_t *p, Knoop__ErrorCode code, const char *stream,
                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = send_error_v(b, p, code, stream, fmt, ap);
    va_end(ap);
    return rc;
}

int knoop_send_rejected(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, Knoop__ErrorCode code, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    reason_v(reason, sizeof reason, fmt, ap);
    va_end(ap);
    Knoop__Rejected r = KNOOP__REJECTED__INIT;
    r.ref = ref;
    r.code = code;
    r.reason = reason;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_REJECTED;
    f.rejected = &r;
    b->stats.rejected++;
    knoop_metrics_count_rejected(&b->metrics, (int)code);
    return knoop_send_frame(b, p, &f);
}

const char *knoop_frame_stream(const Knoop__Frame *f)
{
    switch (f->body_case) {
    case KNOOP__FRAME__BODY_SUBSCRIBE:
        return f->subscribe->stream;
    case KNOOP__FRAME__BODY_UNSUBSCRIBE:
        return f->unsubscribe->stream;
    case KNOOP__FRAME__BODY_CREDIT:
        return f->credit->stream;
    case KNOOP__FRAME__BODY_ACK:
        return f->ack->stream;
    case KNOOP__FRAME__BODY_NACK:
        return f->nack->stream;
    default:
        return NULL;
    }
}

int knoop_send_no_hello(knoop_broker_t *b, knoop_peer_t *p, const Knoop__Frame *f, const char *frame_name)
{
    if (f->body_case == KNOOP__FRAME__BODY_PUBLISH)
        return knoop_send_rejected(b, p, f->publish->ref, KNOOP__ERROR_CODE__NO_HELLO, "send Hello first");
    return knoop_send_stream_error(b, p, KNOOP__ERROR_CODE__NO_HELLO, knoop_frame_stream(f),
                                   "%s before Hello: send Hello first", frame_name);
}

/* Protocol Buffers wire format, the little we need to write by hand. */
static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Frame{deliver=9: Deliver{stream=1, seq=2, envelope=3: stored bytes + Envelope.seq=1, attempt=4}}.
 * Appending field 1 after the stored bytes is valid protobuf: the stored envelope has no seq of its own. */
int knoop_send_deliver(knoop_broker_t *b, knoop_peer_t *p, const char *stream, uint64_t seq, uint32_t attempt,
                       const void *envelope, size_t envelope_len)
{
    size_t stream_len = strlen(stream);
    size_t env_len = envelope_len + 1 + varint_size(seq);
    size_t deliver_len = 1 + varint_size(stream_len) + stream_len + 1 + varint_size(seq) + 1 + varint_size(env_len) +
                         env_len + 1 + varint_size(attempt);
    size_t total = 1 + varint_size(deliver_len) + deliver_len;
    uint8_t stackbuf[2048];
    uint8_t *buf = total <= sizeof stackbuf ? stackbuf : malloc(total);
    if (!buf)
        return -ENOMEM;
    size_t n = 0;
    buf[n++] = (9 << 3) | 2;
    n += put_varint(buf + n, deliver_len);
    buf[n++] = (1 << 3) | 2;
    n += put_varint(buf + n, stream_len);
    memcpy(buf + n, stream, stream_len);
    n += stream_len;
    buf[n++] = (2 << 3) | 0;
    n += put_varint(buf + n, seq);
    buf[n++] = (3 << 3) | 2;
    n += put_varint(buf + n, env_len);
    memcpy(buf + n, envelope, envelope_len);
    n += envelope_len;
    buf[n++] = (1 << 3) | 0;
    n += put_varint(buf + n, seq);
    buf[n++] = (4 << 3) | 0;
    n += put_varint(buf + n, attempt);
    int rc = send_raw(b, p, buf, n);
    if (buf != stackbuf)
        free(buf);
    return rc;
}
