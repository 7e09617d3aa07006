/* frame_text.h — the text rule of incoming frames: every string field of every frame (Hello, Publish and its
 * Envelope, Subscribe, Unsubscribe, Credit, Ack, Nack) is valid UTF-8 without NUL, or the frame is refused with
 * BAD_FRAME naming the field. Run by the dispatcher before any handler, so no handler sees such a string. Also the
 * one read of a frame's bytes before decoding: the ref of an oversized Publish. */
#ifndef KNOOP_CORE_FRAME_TEXT_H
#define KNOOP_CORE_FRAME_TEXT_H
#include <stddef.h>
#include <stdint.h>
#include "core/broker.h"

/* Checks the wire bytes of a frame, guided by the schema. 0 when every string is UTF-8 text; -EILSEQ (not valid
 * UTF-8) or -EINVAL (a NUL character) with the field's path ("envelope.correlation_id", "hello.party") in path. */
int knoop_frame_text_check(const uint8_t *data, size_t len, char *path, size_t pathlen);

/* The ref of a Publish, read straight from the wire bytes, so that even a frame that is not decoded (over
 * max_message_bytes) can be answered with a Rejected the client can correlate. 0 when it is not a Publish or has no
 * ref. */
uint64_t knoop_frame_peek_publish_ref(const uint8_t *data, size_t len);

/* For the dispatcher: checks f (decoded from data) and, when a string fails, answers the peer (Rejected{BAD_FRAME}
 * for a Publish, with its ref; else Error{BAD_FRAME} with the stream when that is not the field at fault) and returns
 * true: the frame goes no further. */
bool knoop_frame_text_refused(knoop_broker_t *b, knoop_peer_t *p, const Knoop__Frame *f, const uint8_t *data,
                              size_t len);
#endif
