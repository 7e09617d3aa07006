/* message_op.c — apply (writer thread): the message row by INSERT .. ON CONFLICT DO NOTHING against the dedup index
 * (one statement in the common case), one stream_entries row per stream; done (loop thread): answer, then wake subscribers. */
#include "store/journal_sql.h"
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

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

static int apply_message(knoop_jtx_t *tx, knoop_jop_t *op)
{
    knoop_msg_op_t *m = (knoop_msg_op_t *)op;
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO messages(seq, message_id, sender, receiver, kind, message_type, "
                                          "identificatie, client_ref, accepted_us, route, envelope, publisher) "
                                          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
    if (!st)
        return -EIO;
    uint64_t seq = knoop_jtx_peek_seq(tx);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_text(st, 2, m->message_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->sender, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, m->receiver, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, m->kind);
    sqlite3_bind_text(st, 6, m->message_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, m->identificatie, -1, SQLITE_STATIC);
    if (m->has_client_ref)
        sqlite3_bind_blob(st, 8, m->client_ref, sizeof m->client_ref, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, m->accepted_us);
    sqlite3_bind_text(st, 10, m->route, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 11, m->blob, (int)m->blob_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, m->publisher, -1, SQLITE_STATIC);
    if (step_done(st) != 0)
        return -EIO;
    if (sqlite3_changes(knoop_jtx_db(tx)) == 0) {
        /* The dedup index refused it: the same (sender, message_type, identificatie) is already journaled. */
        st = knoop_jtx_stmt(tx, "SELECT seq, message_id, publisher FROM messages WHERE sender = ? AND "
                                "message_type = ? AND identificatie = ? AND identificatie <> ''");
        if (!st)
            return -EIO;
        sqlite3_bind_text(st, 1, m->sender, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->message_type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, m->identificatie, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW)
            return -EIO;
        m->seq = (uint64_t)sqlite3_column_int64(st, 0);
        snprintf(m->original_id, sizeof m->original_id, "%s", (const char *)sqlite3_column_text(st, 1));
        /* The same identity from another publisher (two members behind one cooperative) is not a retry. */
        m->identity_taken = strcmp((const char *)sqlite3_column_text(st, 2), m->publisher) != 0;
        m->duplicate = !m->identity_taken;
        sqlite3_reset(st);
        return 0;
    }
    m->seq = knoop_jtx_next_seq(tx);
    m->duplicate = false;
    for (int i = 0; i < m->nstreams; i++) {
        if (m->create_stream[i]) {
            st = knoop_jtx_stmt(tx, "INSERT OR IGNORE INTO streams(id, name, created_us) VALUES(?,?,?)");
            if (!st)
                return -EIO;
            sqlite3_bind_int64(st, 1, m->streams[i]->id);
            sqlite3_bind_text(st, 2, m->streams[i]->name, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, m->accepted_us);
            if (step_done(st) != 0)
                return -EIO;
        }
        st = knoop_jtx_stmt(tx, "INSERT INTO stream_entries(stream_id, seq) VALUES(?,?)");
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, m->streams[i]->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)m->seq);
        if (step_done(st) != 0)
            return -EIO;
    }
    if (m->route_row && knoop_route_row_apply(tx, m->route_row, m->accepted_us) != 0)
        return -EIO;
    for (int i = 0; i < 2; i++)
        if (m->extras[i].apply && m->extras[i].apply(tx, m->extras[i].arg, m->seq) != 0)
            return -EIO;
    if (m->companion && apply_message(tx, &m->companion->op) != 0)
        return -EIO;
    if (m->dead_letter) {
        st = knoop_jtx_stmt(tx,
                            "INSERT INTO dead_letters(seq, stream, subscriber, source, reason, attempts, created_us) "
                            "VALUES(?,?,?,?,?,?,?)");
        if (!st)
            return -EIO;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)m->seq);
        sqlite3_bind_text(st, 2, "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, "routing", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, m->dead_letter_reason, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, 0);
        sqlite3_bind_int64(st, 7, m->accepted_us);
        if (step_done(st) != 0)
            return -EIO;
    }
    return 0;
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
        knoop_send_rejected(b, p, m->ref, KNOOP__ERROR_CODE__INTERNAL,
                            "the journal could not store the message "
                            "(%s); nothing was accepted, publish it again",
                            strerror(-status));
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

static void done_message(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    knoop_msg_op_t *m = (knoop_msg_op_t *)op;
    if (status == 0 && !m->identity_taken) {
        if (m->duplicate)
            b->stats.duplicates++;
        else
            b->stats.accepted++;
        if (m->dead_letter && !m->duplicate)
            b->stats.dead_lettered++;
    } else {
        for (int i = 0; i < m->nstreams; i++)
            if (m->create_stream[i])
                m->streams[i]->persisted = false; /* the next message on it creates the row again */
    }
    m->on_result(b, m, status, m->on_result_arg);
    bool stored = status == 0 && !m->duplicate && !m->identity_taken;
    if (stored)
        for (int i = 0; i < m->nstreams; i++)
            knoop_stream_appended(b, m->streams[i], m->seq);
    knoop_msg_op_t *c = m->companion;
    if (c && stored && !c->duplicate) {
        b->stats.accepted++;
        for (int i = 0; i < c->nstreams; i++)
            knoop_stream_appended(b, c->streams[i], c->seq);
    }
    if (c) {
        free(c->blob);
        free(c->route_row);
        free(c->extras[0].arg);
        free(c->extras[1].arg);
        free(c);
    }
    free(m->extras[0].arg);
    free(m->extras[1].arg);
    free(m->route_row);
    if (m->peer) {
        m->peer->publishes_in_flight--;
        knoop_peer_release(b, m->peer);
    }
    free(m->blob);
    free(m);
}

knoop_msg_op_t *knoop_message_build(knoop_broker_t *b, knoop_peer_t *peer, uint64_t ref, Knoop__Envelope *env,
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
    m->blob_len = knoop__envelope__get_packed_size(env);
    m->blob = malloc(m->blob_len ? m->blob_len : 1);
    if (m->blob)
        knoop__envelope__pack(env, m->blob);
    *env = saved;
    if (!m->blob) {
        free(m->route_row);
        free(m);
        return NULL;
    }
    /* Only a message that will be queued creates its streams' rows; the next one does if this op fails. */
    for (int i = 0; i < m->nstreams; i++)
        m->streams[i]->persisted = true;
    return m;
}

void knoop_message_queue(knoop_broker_t *b, knoop_msg_op_t *m)
{
    if (m->peer)
        m->peer->publishes_in_flight++;
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
