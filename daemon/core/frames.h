/* frames.h — outgoing frames: encode one frame and send it to one peer over the ROUTER socket; the typed
 * answers (Error, Rejected, Deliver) every layer above uses.
 */
#ifndef KNOOP_CORE_FRAMES_H
#define KNOOP_CORE_FRAMES_H
#include "core/broker.h"

/* frames_out.c: encode and send to one peer (0, or -errno when the peer cannot take it now) */
int knoop_send_frame(knoop_broker_t *b, knoop_peer_t *p, const Knoop__Frame *f);
int knoop_send_error(knoop_broker_t *b, knoop_peer_t *p, Knoop__ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reasons are formatted in wire mode (base/textfmt.h): always valid UTF-8, a %s value that could be a BSN withheld. */
/* An Error about one stream (Subscribe, Unsubscribe, Credit, Ack, Nack): Error.stream lets the client correlate. It is
 * the stream as given, whole; left out when it is not valid UTF-8 or could hold a BSN (a run of 9+ digits). */
int knoop_send_stream_error(knoop_broker_t *b, knoop_peer_t *p, Knoop__ErrorCode code, const char *stream,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int knoop_send_rejected(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, Knoop__ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The stream a Subscribe, Unsubscribe, Credit, Ack or Nack names; NULL for the other frames. */
const char *knoop_frame_stream(const Knoop__Frame *f);
/* The answer to a frame other than Hello or Heartbeat before Hello: Rejected{NO_HELLO} for a Publish (its ref),
 * else Error{NO_HELLO} naming the stream of a Subscribe, Unsubscribe, Credit, Ack or Nack. frame_name: "Subscribe". */
int knoop_send_no_hello(knoop_broker_t *b, knoop_peer_t *p, const Knoop__Frame *f, const char *frame_name);
int knoop_send_deliver(knoop_broker_t *b, knoop_peer_t *p, const char *stream, uint64_t seq, uint32_t attempt,
                       const void *envelope, size_t envelope_len);

#endif
