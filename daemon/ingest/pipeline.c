/* pipeline.c — the one ingest pipeline, for native and adapter (iWmo/iJw) messages alike:
 *
 *   1. adapter step   the row of b->adapters (app/adapter_table.c) whose matcher takes the content type turns the
 *                     payload into facts (ingest/adapter.h) or refuses it (Rejected, nothing journaled)
 *   2. check          the envelope rules (envelope_check.c), once, on the envelope as the adapter completed it
 *   3. client         the adapter's client reference, or the envelope's client_bsn pseudonymised (and wiped)
 *   4. route          the router's plan resolved to streams (route_step.c); a message the adapter marks undelivered
 *                     (refused at iWmo level 2) is journaled for the record and routed to nobody
 *   5. white label    towards a white-label financier: the payload rewritten and the last check (whitelabel.c); a
 *                     failure makes the message a dead letter, never sends the original
 *   6. finish         the adapter's companion messages and extra rows onto the op
 *   7. journal        message_op.c: one transaction holds the message, its stream entries, the route-state row, the
 *                     extras and the companions; the publisher is answered after the commit
 *
 * The pipeline works on a shallow copy of the published envelope, so an adapter may point fields at its own memory
 * without touching the frame. An adapter message whose identity the journal must check (facts.check_identity) keeps
 * a packed copy of that envelope with its op: if apply finds the identity under another payload, done runs this
 * pipeline again on the copy with facts.identity_reused, and the second op answers the publisher. */
#include "ingest/pipeline.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "core/frames.h"
#include "ingest/adapter.h"
#include "ingest/envelope_check.h"
#include "ingest/message_op.h"
#include "ingest/route_step.h"
#include "ingest/whitelabel.h"
#include "finance/budget_ledger.h"

const knoop_adapter_t *knoop_adapter_find(const knoop_adapter_t *table, const char *content_type)
{
    for (const knoop_adapter_t *a = table; a && a->name; a++)
        if (a->matches && a->matches(content_type))
            return a;
    return NULL;
}

static void again(knoop_broker_t *b, knoop_msg_op_t *first);

static void refuse(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, Knoop__ErrorCode code, const char *reason)
{
    knoop_log_info("publish.rejected", "party=%s ref=%llu code=%d reason=%s", p->party, (unsigned long long)ref,
                   (int)code, reason);
    knoop_send_rejected(b, p, ref, code, "%s", reason);
}

/* A refusal whose reason comes from the payload (the adapter's level 1, a native message's checks): the sender gets
 * the whole reason, the log only its part before ": ", which names the message and field and never a value (the
 * payload is never logged; see route/domain_check.c). */
static void refuse_payload(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, Knoop__ErrorCode code, const char *reason)
{
    const char *colon = strstr(reason, ": ");
    int where = colon ? (int)(colon - reason) : (int)strlen(reason);
    knoop_log_info("publish.rejected", "party=%s ref=%llu code=%d field=%.*s details=not_logged", p->party,
                   (unsigned long long)ref, (int)code, where, reason);
    knoop_send_rejected(b, p, ref, code, "%s", reason);
}

static void drop_facts(knoop_broker_t *b, const knoop_adapter_t *a, knoop_facts_t *f)
{
    if (!f)
        return;
    if (a && a->release)
        a->release(b, f, false);
    free(f);
}

/* Steps 1-6 on env (the pipeline's own shallow copy). identity_reused: the second pass of a reused identity. */
static void run(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, Knoop__Envelope *env, bool identity_reused)
{
    char reason[400];
    const knoop_adapter_t *a = knoop_adapter_find(b->adapters, env->content_type);
    knoop_facts_t *f = NULL;
    if (a) {
        if (!(f = calloc(1, sizeof *f))) {
            refuse(b, p, ref, KNOOP__ERROR_CODE__INTERNAL, "out of memory; publish again");
            return;
        }
        f->identity_reused = identity_reused;
        a->step(b, p->party, env, f);
        if (f->refused != KNOOP__ERROR_CODE__OK) {
            refuse_payload(b, p, ref, f->refused, f->reason);
            drop_facts(b, a, f);
            return;
        }
    }
    Knoop__ErrorCode code = knoop_envelope_check(b, p->party, env, reason, sizeof reason);
    if (code != KNOOP__ERROR_CODE__OK) {
        refuse(b, p, ref, code, reason);
        drop_facts(b, a, f);
        return;
    }
    uint8_t client_ref[32];
    bool has_client;
    if (f) {
        has_client = f->has_client_ref;
        if (has_client)
            memcpy(client_ref, f->client_ref, sizeof client_ref);
    } else {
        has_client = knoop_envelope_pseudonymise(b, env, client_ref);
    }
    knoop_route_result_t route;
    if (f && f->undelivered) {
        knoop_route_to(b, NULL, f->explain, &route);
    } else {
        code = knoop_route_message(b, env, has_client ? client_ref : NULL, &route, reason, sizeof reason);
        if (code != KNOOP__ERROR_CODE__OK) { /* INVALID_FIELD: the native payload's checks (route/domain_check.c) */
            (code == KNOOP__ERROR_CODE__INVALID_FIELD ? refuse_payload : refuse)(b, p, ref, code, reason);
            drop_facts(b, a, f);
            return;
        }
    }
    knoop_wl_out_t wl; /* the payload as a white-label financier sees it (or the route became a dead letter) */
    knoop_whitelabel_out(b, env, &route, &wl);
    knoop_msg_op_t *m = knoop_message_new(b, p, ref, env, has_client ? client_ref : NULL, &route, NULL, NULL);
    if (!m) {
        free(wl.payload);
        refuse(b, p, ref, KNOOP__ERROR_CODE__INTERNAL, "out of memory; publish again");
        drop_facts(b, a, f);
        return;
    }
    m->second_pass = identity_reused;
    /* The stages are a frame's: the second pass started in another op's done, long after its frame. */
    m->received_us = identity_reused ? 0 : b->frame_received_us;
    bool no_memory = false;
    if (f) {
        m->adapter = a;
        m->facts = f; /* released in done (or below) */
        /* A refused message is journaled for the record but does not take its Identificatie: the dedup index would
         * otherwise answer a later, corrected message as a duplicate of the refused one. */
        if (f->undelivered)
            m->identificatie[0] = '\0';
        if (f->check_identity && env->identificatie && env->identificatie[0]) {
            Knoop__Envelope src = *env;
            src.client_bsn = (char *)""; /* never kept */
            m->source_len = knoop__envelope__get_packed_size(&src);
            m->source = malloc(m->source_len ? m->source_len : 1);
            if (m->source) {
                knoop__envelope__pack(&src, m->source);
                m->check_identity = true;
                snprintf(m->identity, sizeof m->identity, "%s", env->identificatie);
                m->again = again;
            } else {
                no_memory = true;
            }
        }
    }
    /* The envelope copy borrows the rewritten payload for packing; the identity check above kept the published one. */
    ProtobufCBinaryData payload = env->payload;
    if (!no_memory && a && a->finish)
        a->finish(b, f, env, &route, m);
    if (wl.payload) {
        env->payload.data = wl.payload;
        env->payload.len = wl.payload_len;
    }
    /* The budget ledger's rows of a native message (plan updates, outcome values), in its transaction (finance/). */
    void *budget = a ? NULL : knoop_budget_of_message(b, env, p->party, route.contract, has_client ? client_ref : NULL);
    if (budget)
        knoop_message_add_extra(m, knoop_budget_apply, budget);
    int rc = no_memory ? -ENOMEM : knoop_message_pack(m, env, &route);
    env->payload = payload;
    free(wl.payload);
    if (rc != 0) {
        drop_facts(b, a, m->facts); /* undoes what finish did to memory */
        m->facts = NULL;
        knoop_message_free(m);
        refuse(b, p, ref, KNOOP__ERROR_CODE__INTERNAL, "out of memory; publish again");
        return;
    }
    knoop_message_queue(b, m);
}

void knoop_ingest_publish(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, const Knoop__Envelope *published)
{
    Knoop__Envelope env = *published; /* the steps may point fields elsewhere; the frame keeps its own */
    run(b, p, ref, &env, false);
}

/* done of an op whose identity was found under another payload: the same envelope once more, the adapter told. */
static void again(knoop_broker_t *b, knoop_msg_op_t *first)
{
    Knoop__Envelope *env = knoop__envelope__unpack(NULL, first->source_len, first->source);
    if (!env) {
        knoop_send_rejected(b, first->peer, first->ref, KNOOP__ERROR_CODE__INTERNAL, "out of memory; publish again");
        return;
    }
    Knoop__Envelope copy = *env;
    run(b, first->peer, first->ref, &copy, true);
    knoop__envelope__free_unpacked(env, NULL);
}
