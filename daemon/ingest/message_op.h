/* message_op.h — the journal operation for one published message: deduplicate, store once, reference it from each
 * stream it was routed to, record a dead letter when routing found none; answered after the commit. The SQL is
 * store/messages.c; this op decides what to write and what to answer. */
#ifndef KNOOP_MESSAGE_OP_H
#define KNOOP_MESSAGE_OP_H
#include "core/broker.h"
#include "ingest/route_step.h"

struct knoop_adapter;
struct knoop_facts;

#define KNOOP_MSG_EXTRAS 3 /* extra row writers per message: assignment ledger, expectations, budget ledger */

typedef struct knoop_msg_op {
    knoop_jop_t op;     /* first member: the journal sees only this */
    knoop_peer_t *peer; /* borrowed; kept alive by publishes_in_flight (NULL: file/internal source) */
    uint64_t ref;
    uint8_t *blob; /* owned: packed Envelope without seq */
    size_t blob_len;
    uint64_t queued_bytes; /* counted in b->publish_bytes_queued and the peer's publish_bytes_in_flight until done */
    uint64_t received_us;  /* monotonic: when its Publish frame was read; 0: not measured (core/metrics.h stages) */

    char sender[16];    /* the identity receivers see: the dedup key's sender */
    char publisher[16]; /* who published it (differs from sender for a white-label member) */
    char receiver[16], message_type[33], identificatie[13], message_id[33];
    int kind;
    int64_t accepted_us;
    uint8_t client_ref[32];
    bool has_client_ref;
    bool client_seen; /* refresh the client's last-seen record (ingest/client_seen.h) in this transaction */
    char route[400];
    int nstreams;
    knoop_stream_t *streams[KNOOP_ROUTE_STREAMS_MAX]; /* borrowed: streams live as long as the broker */
    bool create_stream[KNOOP_ROUTE_STREAMS_MAX];
    bool dead_letter;
    char dead_letter_reason[320];
    knoop_route_row_t *route_row; /* owned; NULL unless the routing decision changed the router's memory */
    /* Written in the same transaction when the message is new (not a duplicate): */
    struct knoop_msg_op *companion; /* owned: a message the broker sends because of this one (an iWmo retour) */
    struct {
        int (*apply)(knoop_jtx_t *tx, void *arg, uint64_t seq); /* more rows (the ledger, expectations, budget) */
        void *arg;                                              /* owned, freed with free() */
    } extras[KNOOP_MSG_EXTRAS];
    /* An adapter message (ingest/adapter.h): its facts, released in done; and the identity check of apply. */
    const struct knoop_adapter *adapter;
    struct knoop_facts *facts; /* owned */
    bool check_identity;       /* before writing: does (publisher, message_type, identity) hold another payload? */
    char identity[13];         /* the envelope's identificatie (identificatie above is "" for a refused message) */
    uint8_t *source;           /* owned: the checked envelope as published (packed), for a second pass */
    size_t source_len;
    void (*again)(knoop_broker_t *b, struct knoop_msg_op *m); /* done: reused identity -> run the adapter again */
    bool second_pass;
    /* results, written by apply */
    uint64_t seq;
    bool duplicate;
    bool identity_taken; /* the Identificatie is used under this sender identity by another publisher */
    bool reused;         /* check_identity found another payload: nothing was written */
    char original_id[33];
    /* who to tell: a peer (Accepted/Rejected) or a callback for internal sources such as the file adapter */
    void (*on_result)(knoop_broker_t *b, struct knoop_msg_op *m, int status, void *arg);
    void *on_result_arg;
} knoop_msg_op_t;

/* Builds the op from a checked envelope without submitting it (for a companion, or to add extra rows). */
knoop_msg_op_t *knoop_message_build(knoop_broker_t *b, knoop_peer_t *peer, uint64_t ref, Knoop__Envelope *env,
                                    const uint8_t *client_ref, const knoop_route_result_t *route,
                                    void (*on_result)(knoop_broker_t *, knoop_msg_op_t *, int, void *), void *arg);
/* knoop_message_build in two halves, for the pipeline: the op's fields, then (after an adapter's finish may have
 * replaced the payload) the packed envelope. pack frees nothing on failure: free with knoop_message_free. */
knoop_msg_op_t *knoop_message_new(knoop_broker_t *b, knoop_peer_t *peer, uint64_t ref, const Knoop__Envelope *env,
                                  const uint8_t *client_ref, const knoop_route_result_t *route,
                                  void (*on_result)(knoop_broker_t *, knoop_msg_op_t *, int, void *), void *arg);
int knoop_message_pack(knoop_msg_op_t *m, Knoop__Envelope *env, const knoop_route_result_t *route);
/* Adds an extra row writer (arg owned by m from the call on, freed with free()): 0, or -ENOSPC when every slot is
 * taken (then arg is freed at once). */
int knoop_message_add_extra(knoop_msg_op_t *m, int (*apply)(knoop_jtx_t *tx, void *arg, uint64_t seq), void *arg);
/* Frees an op that was never queued (and its companion and extras). */
void knoop_message_free(knoop_msg_op_t *m);
void knoop_message_queue(knoop_broker_t *b, knoop_msg_op_t *m);

/* Builds the op from a checked envelope and submits it. The envelope is packed with the broker's fields
 * (message_id, accepted_at_us, client_ref; no seq, no BSN) and left as it was found: it is not kept. */
int knoop_message_submit(knoop_broker_t *b, knoop_peer_t *peer, uint64_t ref, Knoop__Envelope *env,
                         const uint8_t *client_ref, const knoop_route_result_t *route,
                         void (*on_result)(knoop_broker_t *, knoop_msg_op_t *, int, void *), void *arg);

/* What a publisher is told when the commit holding its message failed with status (a negative errno from the
 * journal: -ENOSPC full disk, -EIO, -EROFS, ...): something it can act on, never a bare strerror. */
void knoop_message_journal_reason(int status, char *out, size_t len);
#endif
