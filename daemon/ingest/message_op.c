/* message_op.c — one published message through the journal. apply (writer thread): for an adapter message the identity
 * check first (the earlier message under (publisher, message_type, identificatie), if any, is compared by payload:
 * another payload is a reuse, nothing is written and done runs the adapter again — the check the iWmo/iJw TR056 rule
 * needs, decided inside the transaction instead of by a SELECT on the loop thread); then the message row (one
 * INSERT .. ON CONFLICT DO NOTHING against the dedup index in the common case), one stream entry per stream, the
 * route-state row, the extras, the companion and the routing dead letter, all through store/messages.h.
 * done (loop thread): answer (a failed commit as a reason the publisher can act on), then wake subscribers. */
#include "ingest/message_op.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "base/clock.h"
#include "deliver/streams.h"
#include "core/frames.h"
#include "ingest/adapter.h"
#include "ingest/client_seen.h"
#include "store/clients.h"
#include "store/messages.h"

/* Do two packed envelopes carry the same payload? (Writer thread; only when an identity is found.) */
static bool same_payload(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    Knoop__Envelope *x = knoop__envelope__unpack(NULL, alen, a);
    Knoop__Envelope *y = knoop__envelope__unpack(NULL, blen, b);
    bool same = x && y && x->payload.len == y->payload.len &&
                (x->payload.len == 0 || memcmp(x->payload.data, y->payload.data, x->payload.len) == 0);
    if (x)
        knoop__envelope__free_unpacked(x, NULL);
    if (y)
        knoop__envelope__free_unpacked(y, NULL);
    return same;
}

static int apply_message(knoop_jtx_t *tx, knoop_jop_t *op)
{
    knoop_msg_op_t *m = (knoop_msg_op_t *)op;
    knoop_store_message_found_t found;
    int rc;
    if (m->check_identity && m->identity[0] && m->source) {
        rc = knoop_store_message_find(tx, m->publisher, m->message_type, m->identity, true, &found);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            /* against the envelope as journaled (a white-label payload is stored rewritten, and rewriting the same
             * published payload gives the same bytes): a retry stays a retry */
            bool same = same_payload(found.envelope, found.envelope_len, m->blob, m->blob_len);
            free(found.envelope);
            if (!same) {
                m->reused = true; /* the same message again is a retry, left to deduplication below */
                return 0;
            }
        }
    }
    knoop_store_message_t row = {.message_id = m->message_id,
                                 .sender = m->sender,
                                 .publisher = m->publisher,
                                 .receiver = m->receiver,
                                 .kind = m->kind,
                                 .message_type = m->message_type,
                                 .identificatie = m->identificatie,
                                 .client_ref = m->has_client_ref ? m->client_ref : NULL,
                                 .accepted_us = m->accepted_us,
                                 .route = m->route,
                                 .envelope = m->blob,
                                 .envelope_len = m->blob_len};
    uint64_t seq = 0;
    rc = knoop_store_message_insert(tx, &row, &seq);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        /* The dedup index refused it: the same (sender, message_type, identificatie) is already journaled. */
        rc = knoop_store_message_find(tx, m->sender, m->message_type, m->identificatie, false, &found);
        if (rc <= 0)
            return rc < 0 ? rc : -EIO;
        m->seq = found.seq;
        snprintf(m->original_id, sizeof m->original_id, "%s", found.message_id);
        /* The same identity from another publisher (two members behind one cooperative) is not a retry. */
        m->identity_taken = strcmp(found.publisher, m->publisher) != 0;
        m->duplicate = !m->identity_taken;
        return 0;
    }
    m->seq = seq;
    m->duplicate = false;
    for (int i = 0; i < m->nstreams; i++) {
        if (m->create_stream[i] &&
            (rc = knoop_store_stream_create(tx, m->streams[i]->id, m->streams[i]->name, m->accepted_us)) != 0)
            return rc;
        if ((rc = knoop_store_stream_append(tx, m->streams[i]->id, m->seq)) != 0)
            return rc;
    }
    if (m->route_row && (rc = knoop_route_row_apply(tx, m->route_row, m->accepted_us)) != 0)
        return rc;
    if (m->client_seen && (rc = knoop_store_client_seen(tx, m->client_ref, sizeof m->client_ref, m->accepted_us)) != 0)
        return rc;
    for (int i = 0; i < KNOOP_MSG_EXTRAS; i++)
        if (m->extras[i].apply && (rc = m->extras[i].apply(tx, m->extras[i].arg, m->seq)) != 0)
            return rc < 0 ? rc : -EIO;
    if (m->companion && (rc = apply_message(tx, &m->companion->op)) != 0)
        return rc;
    if (m->dead_letter &&
        (rc = knoop_store_dead_letter_unroutable(tx, m->seq, m->dead_letter_reason, m->accepted_us)) != 0)
        return rc;
    return 0;
}

void knoop_message_journal_reason(int status, char *out, size_t len)
{
    const char *tail = "nothing was accepted; publish it again later";
    switch (-status) {
    case ENOSPC:
        snprintf(out, len,
                 "the broker's disk is full: the journal could not store the message and %s (the operator "
                 "must free disk space)",
                 tail);
        break;
    case EIO:
        snprintf(out, len, "journal write failed (an I/O error on the broker's disk): %s", tail);
        break;
    case EROFS:
        snprintf(out, len, "the broker's journal is read-only (its file system is mounted read-only): %s", tail);
        break;
    case ENOMEM:
        snprintf(out, len, "the broker ran out of memory writing the journal: %s", tail);
        break;
    case EBUSY:
        snprintf(out, len, "the broker's journal was locked by another process: %s", tail);
        break;
    default:
        snprintf(out, len, "the journal could not store the message (error %d): %s", -status, tail);
        break;
    }
}

static void reply_to_peer(knoop_broker_t *b, knoop_msg_op_t *m, int status, void *arg)
{
    (void)arg;
    knoop_peer_t *p = m->peer;
    if (status == 0 && m->identity_taken) {
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__INVALID_FIELD,
                            "identificatie %s of %s is already used "
                            "under the identity %s by another party; choose a unique Identificatie (iWmo/iJw retour "
                            "code 9056)",
                            m->identificatie, m->message_type, m->sender);
        return;
    }
    if (status != 0) {
        char reason[300];
        knoop_message_journal_reason(status, reason, sizeof reason);
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__INTERNAL, "%s", reason);
        return;
    }
    Knoop__Accepted a = KNOOP__ACCEPTED__INIT;
    a.ref = m->ref;
    a.seq = m->seq;
    a.message_id = m->duplicate ? m->original_id : m->message_id;
    a.duplicate = m->duplicate;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_ACCEPTED;
    f.accepted = &a;
    knoop_send_frame(b, p, &f);
}

static void release_facts(knoop_broker_t *b, knoop_msg_op_t *m, bool stored)
{
    if (m->adapter && m->facts && m->adapter->release)
        m->adapter->release(b, m->facts, stored);
    free(m->facts);
    m->facts = NULL;
}

void knoop_message_free(knoop_msg_op_t *m)
{
    if (!m)
        return;
    knoop_message_free(m->companion);
    for (int i = 0; i < KNOOP_MSG_EXTRAS; i++)
        free(m->extras[i].arg);
    free(m->route_row);
    free(m->source);
    free(m->blob);
    free(m->facts); /* released by the caller (an op never queued has no adapter state left) */
    free(m);
}

static void done_message(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    knoop_msg_op_t *m = (knoop_msg_op_t *)op;
    bool stored = status == 0 && !m->duplicate && !m->identity_taken && !m->reused;
    knoop_health_journal_result(b, status); /* a storage error makes knoopd not ready until a write succeeds */
    if (stored)
        knoop_metrics_count_in(&b->metrics, m->publisher, m->kind);
    if (status == 0 && !m->identity_taken && !m->reused) {
        if (m->duplicate)
            b->stats.duplicates++;
        else
            b->stats.accepted++;
        if (m->dead_letter && !m->duplicate)
            b->stats.dead_lettered++;
    }
    if (!stored)
        for (int i = 0; i < m->nstreams; i++)
            if (m->create_stream[i])
                m->streams[i]->persisted = false; /* the next message on it creates the row again */
    release_facts(b, m, stored);                  /* before a second pass: it undoes what this pass did to memory */
    if (status == 0 && m->reused && m->again)
        m->again(b, m); /* the adapter's answer to the reuse, journaled by a second op that answers the publisher */
    else {
        m->on_result(b, m, status, m->on_result_arg);
        if (m->received_us) /* answered now: where this publish's time went */
            knoop_metrics_count_stages(&b->metrics, m->received_us, &m->op);
    }
    if (stored)
        for (int i = 0; i < m->nstreams; i++)
            knoop_stream_appended(b, m->streams[i], m->seq);
    if (stored && m->client_seen)
        knoop_client_seen_written(b, m->client_ref, m->accepted_us);
    knoop_msg_op_t *c = m->companion;
    if (c && stored && !c->duplicate) {
        b->stats.accepted++;
        for (int i = 0; i < c->nstreams; i++)
            knoop_stream_appended(b, c->streams[i], c->seq);
    }
    if (c && !stored)
        for (int i = 0; i < c->nstreams; i++)
            if (c->create_stream[i])
                c->streams[i]->persisted = false;
    knoop_peer_t *peer = m->peer;
    uint64_t bytes = m->queued_bytes;
    knoop_message_free(m);
    b->publish_bytes_queued -= bytes;
    if (peer) {
        peer->publishes_in_flight--;
        peer->publish_bytes_in_flight -= bytes;
        knoop_peer_release(b, peer);
    }
}

int knoop_message_add_extra(knoop_msg_op_t *m, int (*apply)(knoop_jtx_t *tx, void *arg, uint64_t seq), void *arg)
{
    for (int i = 0; i < KNOOP_MSG_EXTRAS; i++)
        if (!m->extras[i].apply && !m->extras[i].arg) {
            m->extras[i].apply = apply;
            m->extras[i].arg = arg;
            return 0;
        }
    free(arg);
    return -ENOSPC;
}

knoop_msg_op_t *knoop_message_new(knoop_broker_t *b, knoop_peer_t *peer, uint64_t ref, const Knoop__Envelope *env,
                                  const uint8_t *client_ref, const knoop_route_result_t *route,
                                  void (*on_result)(knoop_broker_t *, knoop_msg_op_t *, int, void *), void *arg)
{
    knoop_msg_op_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->op.apply = apply_message;
    m->op.done = done_message;
    m->peer = peer;
    m->ref = ref;
    m->on_result = on_result ? on_result : reply_to_peer;
    m->on_result_arg = arg;
    snprintf(m->message_id, sizeof m->message_id, "%016" PRIx64 "%016" PRIx64, b->instance_id, ++b->message_counter);
    m->accepted_us = (int64_t)knoop_now_us();
    snprintf(m->publisher, sizeof m->publisher, "%s", env->sender);
    snprintf(m->sender, sizeof m->sender, "%s", route->sender_as_seen[0] ? route->sender_as_seen : env->sender);
    snprintf(m->receiver, sizeof m->receiver, "%s", env->receiver ? env->receiver : "");
    snprintf(m->message_type, sizeof m->message_type, "%s", env->message_type);
    snprintf(m->identificatie, sizeof m->identificatie, "%s", env->identificatie ? env->identificatie : "");
    m->kind = (int)env->kind;
    if (client_ref) {
        memcpy(m->client_ref, client_ref, sizeof m->client_ref);
        m->has_client_ref = true;
        m->client_seen = knoop_client_seen_due(b, client_ref, m->accepted_us);
    }
    snprintf(m->route, sizeof m->route, "%s", route->explain);
    m->nstreams = route->nstreams;
    for (int i = 0; i < route->nstreams; i++) {
        m->streams[i] = route->streams[i];
        m->create_stream[i] = !route->streams[i]->persisted;
    }
    m->dead_letter = route->dead_letter;
    if (route->has_row) {
        m->route_row = malloc(sizeof *m->route_row);
        if (!m->route_row) {
            free(m);
            return NULL;
        }
        *m->route_row = route->row;
    }
    snprintf(m->dead_letter_reason, sizeof m->dead_letter_reason, "%s", route->reason);
    return m;
}

int knoop_message_pack(knoop_msg_op_t *m, Knoop__Envelope *env, const knoop_route_result_t *route)
{
    /* The envelope's own fields belong to its unpacked frame: swap ours in for packing, then put them back. */
    Knoop__Envelope saved = *env;
    if (route->sender_as_seen[0])
        env->sender = (char *)route->sender_as_seen; /* white label: receivers see the cooperative */
    env->seq = 0;
    env->message_id = m->message_id;
    env->accepted_at_us = m->accepted_us;
    env->client_bsn = (char *)"";
    env->client_ref.data = m->has_client_ref ? m->client_ref : NULL;
    env->client_ref.len = m->has_client_ref ? sizeof m->client_ref : 0;
    free(m->blob);
    m->blob_len = knoop__envelope__get_packed_size(env);
    m->blob = malloc(m->blob_len ? m->blob_len : 1);
    if (m->blob)
        knoop__envelope__pack(env, m->blob);
    *env = saved;
    if (!m->blob)
        return -ENOMEM;
    /* Only a message that will be queued creates its streams' rows; the next one does if this op fails. */
    for (int i = 0; i < m->nstreams; i++)
        m->streams[i]->persisted = true;
    return 0;
}

knoop_msg_op_t *knoop_message_build(knoop_broker_t *b, knoop_peer_t *peer, uint64_t ref, Knoop__Envelope *env,
                                    const uint8_t *client_ref, const knoop_route_result_t *route,
                                    void (*on_result)(knoop_broker_t *, knoop_msg_op_t *, int, void *), void *arg)
{
    knoop_msg_op_t *m = knoop_message_new(b, peer, ref, env, client_ref, route, on_result, arg);
    if (m && knoop_message_pack(m, env, route) != 0) {
        knoop_message_free(m);
        return NULL;
    }
    return m;
}

void knoop_message_queue(knoop_broker_t *b, knoop_msg_op_t *m)
{
    /* What this op holds until done: the limits of handle_publish.c count it (docs/protocol.md section 11). */
    m->queued_bytes = m->blob_len + m->source_len + (m->companion ? m->companion->blob_len : 0);
    b->publish_bytes_queued += m->queued_bytes;
    if (m->peer) {
        m->peer->publishes_in_flight++;
        m->peer->publish_bytes_in_flight += m->queued_bytes;
    }
    if (!m->second_pass)
        b->stats.published++;
    knoop_journal_submit(b->journal, &m->op);
}

int knoop_message_submit(knoop_broker_t *b, knoop_peer_t *peer, uint64_t ref, Knoop__Envelope *env,
                         const uint8_t *client_ref, const knoop_route_result_t *route,
                         void (*on_result)(knoop_broker_t *, knoop_msg_op_t *, int, void *), void *arg)
{
    knoop_msg_op_t *m = knoop_message_build(b, peer, ref, env, client_ref, route, on_result, arg);
    if (!m)
        return -ENOMEM;
    knoop_message_queue(b, m);
    return 0;
}
