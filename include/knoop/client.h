/* client.h — libknoop, the C client of knoopd's wire protocol (proto/knoop.proto): a ZeroMQ DEALER that says
 * Hello, publishes envelopes, subscribes, settles deliveries. Used by knoop-send, knoop-tail and knoop-bench. */
#ifndef KNOOP_CLIENT_H
#define KNOOP_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include "knoop.pb-c.h"
#include "knoop/names.h"

typedef struct knoop_client knoop_client_t;

/* Connects and completes the Hello/Welcome handshake (timeout_ms for the Welcome), with ZeroMQ's NULL mechanism: for
 * a knoopd that runs auth: none (loopback, development). */
int knoop_client_connect(const char *endpoint, const char *party, const char *client_name, int timeout_ms,
                         knoop_client_t **out, char *errbuf, size_t errlen);

/* CURVE keys, each 40 characters of Z85 (knoopctl keys generate writes them; docs/protocol.md). */
typedef struct knoop_client_curve {
    const char *server_public_key; /* the knoopd's public key */
    const char *public_key;        /* this client's key pair; its public key is a client key of its party */
    const char *secret_key;
} knoop_client_curve_t;

/* knoop_client_connect over CURVE (curve NULL: NULL mechanism). Party must be the one the key belongs to. A refused
 * handshake (an unknown or revoked key, a server without CURVE or with another key) fails at once with the reason,
 * not after timeout_ms; a NULL client whose connection knoopd drops three times during the handshake (a server that
 * wants CURVE, its reset arriving before its greeting is read) is told so too. */
int knoop_client_connect_curve(const char *endpoint, const knoop_client_curve_t *curve, const char *party,
                               const char *client_name, int timeout_ms, knoop_client_t **out, char *errbuf,
                               size_t errlen);
void knoop_client_destroy(knoop_client_t **c);
const Knoop__Welcome *knoop_client_welcome(const knoop_client_t *c);

int knoop_client_send(knoop_client_t *c, const Knoop__Frame *f); /* 0 or -errno */
int knoop_client_publish(knoop_client_t *c, uint64_t ref, const Knoop__Envelope *env);
/* Sends raw bytes as one frame (tests and fault injection). */
int knoop_client_send_raw(knoop_client_t *c, const void *data, size_t len);
/* Waits up to timeout_ms (-1: forever) for the next frame; *out is freed with knoop_client_frame_free.
 * Returns 0, -EAGAIN on timeout, -EPROTO for an undecodable frame. */
int knoop_client_recv(knoop_client_t *c, int timeout_ms, Knoop__Frame **out);
void knoop_client_frame_free(Knoop__Frame *f);
int knoop_client_subscribe(knoop_client_t *c, const char *stream, const char *subscriber, Knoop__StartAt start,
                           uint64_t start_seq, int64_t start_time_us, uint32_t credit);
int knoop_client_ack(knoop_client_t *c, const char *stream, uint64_t seq);
int knoop_client_nack(knoop_client_t *c, const char *stream, uint64_t seq, uint32_t delay_ms, const char *reason);
int knoop_client_heartbeat(knoop_client_t *c);
/* The socket, for zmq_poll in callers that multiplex. */
void *knoop_client_socket(knoop_client_t *c);

#endif
