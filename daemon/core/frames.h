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
/* An Error about one stream (Subscribe, Unsubscribe, Credit, Ack, Nack): Error.stream lets the client correlate. */
int knoop_send_stream_error(knoop_broker_t *b, knoop_peer_t *p, Knoop__ErrorCode code, const char *stream,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int knoop_send_rejected(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, Knoop__ErrorCode code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int knoop_send_deliver(knoop_broker_t *b, knoop_peer_t *p, const char *stream, uint64_t seq, uint32_t attempt,
                       const void *envelope, size_t envelope_len);

#endif
