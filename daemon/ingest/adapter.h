/* adapter.h — the interface protocol adapters plug into. An adapter is a row of a table (name, content-type matcher,
 * step) declared here and defined in app/adapter_table.c, which start-up sets into the context (b->adapters), so
 * ingest never includes an adapter: legacy/ (iWmo/iJw) sits above ingest/ and plugs in from there.
 *
 * The step turns a payload into FACTS; the one ingest pipeline (pipeline.c) then runs the shared envelope check ->
 * route -> journal path on them, for native and adapter messages alike:
 *
 *   step     before the checks: a refusal (Rejected, code + reason), or the envelope fields the payload carries
 *            (sender, receiver, kind, message_type, identificatie: filled in env when empty, checked when given),
 *            the client reference (keyed BSN hash), whether the message is delivered or only journaled for the record
 *   finish   after routing, with the op built: the payload as the receivers see it (white label), companion messages
 *            (the retour knoopd sends back) and extra rows written in the same transaction (ledger, expectations)
 *   release  after the commit (or its failure): undo what finish did to memory if the rows were not stored; free
 *   whitelabel  the payload as a white-label financier may see it (ingest/whitelabel.c calls it on every outbound path:
 *            publish and `dlq retry`): member codes replaced by the cooperative's where the format allows, or a refusal
 *            that makes the message a dead letter */
#ifndef KNOOP_INGEST_ADAPTER_H
#define KNOOP_INGEST_ADAPTER_H
#include <stdbool.h>
#include <stdint.h>
#include "core/broker.h"
#include "ingest/route_step.h"

struct knoop_msg_op;

typedef struct knoop_facts {
    /* set by ingest before the step */
    bool identity_reused; /* a second pass: the journal holds this sender's (message_type, identificatie) with another
                             payload (iWmo/iJw TR056). The step answers with the refusal the standard asks for. */
    /* the step's answer */
    Knoop__ErrorCode refused; /* != OK: the publisher gets Rejected{refused, reason}; nothing is journaled */
    char reason[400];
    bool has_client_ref; /* the client the payload is about: knoop_client_ref_of_bsn (base/pseudonym.h) */
    uint8_t client_ref[32];
    bool undelivered;    /* journaled for the record (with its companions), routed to nobody, not deduplicated */
    char explain[400];   /* undelivered: why (knoopctl route explain) */
    bool check_identity; /* the journal compares the payload of an earlier message under (publisher, message_type,
                            identificatie): another payload there makes the pipeline run the step again with
                            identity_reused (a retry with the same payload stays a retry) */
    void *state;         /* the adapter's own, kept until release */
} knoop_facts_t;

typedef struct knoop_adapter {
    const char *name;                          /* for logs ("istd"); NULL ends a table */
    bool (*matches)(const char *content_type); /* the envelopes this adapter takes */
    /* env is the pipeline's shallow copy of the published envelope: fields may be pointed at f->state's memory. */
    void (*step)(knoop_broker_t *b, const char *publisher, Knoop__Envelope *env, knoop_facts_t *f);
    /* m is built but not packed: env->payload may be replaced (memory owned by f->state). NULL: nothing to add. */
    void (*finish)(knoop_broker_t *b, knoop_facts_t *f, Knoop__Envelope *env, const knoop_route_result_t *route,
                   struct knoop_msg_op *m);
    /* stored: the op committed and wrote its rows (not a duplicate, not refused by the journal). Frees f->state. */
    void (*release)(knoop_broker_t *b, knoop_facts_t *f, bool stored);
    /* payload -> *out (malloc'd, *out_len bytes) with every code of members[0..n) (AGB codes) replaced by `to` or the
     * payload's own format rid of it; 0, or a negative errno with why (no member code, no payload value in it).
     * NULL: the adapter's payloads are checked as they are. */
    int (*whitelabel)(knoop_broker_t *b, const uint8_t *payload, size_t len, const char *const *members, size_t n,
                      const char *to, uint8_t **out, size_t *out_len, char *why, size_t whylen);
} knoop_adapter_t;

/* The table of app/adapter_table.c (the last row has name NULL); start-up sets b->adapters to it. */
extern const knoop_adapter_t knoop_adapter_table[];

/* The first row of table (NULL-terminated, may itself be NULL) that takes content_type, or NULL: a native or
 * opaque payload, which the pipeline checks and routes as it is. */
const knoop_adapter_t *knoop_adapter_find(const knoop_adapter_t *table, const char *content_type);
#endif
