/* peers.c — the peers map: a session (peer) is created by the first frame of a connection and keyed by the hex of
 * its routing id; it belongs to that connection and identity, and ends when either changes, when the connection
 * closes (core/conns.c), when its key is revoked (core/auth.c) or when it goes silent (the tick). Its struct lives on
 * while journal ops still point at it (publishes_in_flight), but nothing is sent to it any more. */
#include "core/peers.h"
#include <errno.h>
#include "core/peer_limits.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/log.h"
#include "config/clients.h"
#include "core/frames.h"

static void peer_drop(knoop_broker_t *b, knoop_peer_t *p, const char *why);

/* Under CURVE a session may begin only while the connection's key is still a client key of the party ZAP named at
 * the handshake: a key revoked (or given to another party) since then makes no new session on an old connection. */
static bool origin_authorised(const knoop_broker_t *b, const knoop_peer_origin_t *o)
{
    if (!b->zap)
        return true;
    const knoop_client_key_t *k = knoop_clients_find(b->clients, o->client_key);
    return o->user_id[0] && k && strcmp(k->party, o->user_id) == 0;
}

int knoop_peer_for(knoop_broker_t *b, const uint8_t *id, size_t len, const knoop_peer_origin_t *o, knoop_peer_t **out)
{
    char key[2 * KNOOP_ROUTING_ID_MAX + 1];
    *out = NULL;
    if (len == 0 || len > KNOOP_ROUTING_ID_MAX)
        return -EINVAL;
    sodium_bin2hex(key, sizeof key, id, len);
    knoop_peer_t *p = knoop_strmap_get(b->peers, key);
    if (p && !p->gone) {
        if (p->conn == o->conn && strcmp(p->user_id, o->user_id) == 0) {
            *out = p;
            return 0;
        }
        /* The routing id speaks from another connection (reused by a new one) or as another identity: whatever
         * this frame is, the old session is not its session. */
        peer_drop(b, p, p->conn != o->conn ? "connection_changed" : "identity_changed");
        p = knoop_strmap_get(b->peers, key);
    }
    if (p) /* ended, now speaking again: a new session; the old struct lives on until answered */
        knoop_strmap_remove(b->peers, key);
    if (!origin_authorised(b, o))
        return -EACCES;
    if (!knoop_peer_admit(b, id, len)) /* max_connections: answered, its frame is ignored */
        return -EBUSY;
    p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    memcpy(p->routing_id, id, len);
    p->routing_id_len = len;
    memcpy(p->key, key, sizeof key);
    p->conn = o->conn;
    snprintf(p->user_id, sizeof p->user_id, "%s", o->user_id);
    snprintf(p->client_key, sizeof p->client_key, "%s", o->client_key);
    p->connected_us = knoop_now_us();
    if (knoop_strmap_put(b->peers, key, p) != 0) {
        free(p);
        return -ENOMEM;
    }
    *out = p;
    return 0;
}

static void leaving(knoop_broker_t *b, knoop_peer_t *p)
{
    knoop_party_session_remove(b, p);
    if (b->hooks.peer_leaving)
        b->hooks.peer_leaving(b, p);
}

static void peer_free(knoop_broker_t *b, knoop_peer_t *p)
{
    leaving(b, p);
    if (knoop_strmap_get(b->peers, p->key) == p) /* a reconnect may own the key by now */
        knoop_strmap_remove(b->peers, p->key);
    free(p);
}

/* A peer that went silent: its deliveries return now; the struct lives until its publishes are answered. */
static void peer_drop(knoop_broker_t *b, knoop_peer_t *p, const char *why)
{
    knoop_log_info("peer.dropped", "party=%s client=\"%s\" reason=%s", p->party[0] ? p->party : "-", p->client_name,
                   why);
    leaving(b, p);
    p->gone = true;
    if (p->publishes_in_flight == 0)
        peer_free(b, p);
}

void knoop_peer_release(knoop_broker_t *b, knoop_peer_t *p)
{
    if (p->gone && p->publishes_in_flight == 0)
        peer_free(b, p);
}

size_t knoop_peers_end(knoop_broker_t *b, bool (*match)(const knoop_peer_t *p, const void *ctx), const void *ctx,
                       const char *why, const char *reason)
{
    size_t ended = 0;
    for (;;) { /* in rounds of 64: the map must not change while it is walked; an ended peer no longer matches */
        size_t pos = 0;
        void *v;
        knoop_peer_t *found[64];
        int n = 0;
        while (n < 64 && knoop_strmap_next(b->peers, &pos, NULL, &v))
            if (!((knoop_peer_t *)v)->gone && match(v, ctx))
                found[n++] = v;
        if (n == 0)
            return ended;
        for (int i = 0; i < n; i++) {
            if (reason)
                knoop_send_error(b, found[i], KNOOP__ERROR_CODE__NOT_AUTHORISED, "%s", reason);
            peer_drop(b, found[i], why);
        }
        ended += (size_t)n;
    }
}

void knoop_peers_expire(knoop_broker_t *b, uint64_t now_ms)
{
    size_t pos = 0;
    void *v;
    knoop_peer_t *silent[64]; /* at most 64 per tick: the map must not change while it is walked */
    int nsilent = 0;
    while (nsilent < 64 && knoop_strmap_next(b->peers, &pos, NULL, &v)) {
        knoop_peer_t *p = v;
        if (!p->gone && (p->send_full || now_ms - p->last_seen_ms > b->config->settings.peer_timeout_ms))
            silent[nsilent++] = p;
    }
    for (int i = 0; i < nsilent; i++) /* send_full: core/peer_limits.c */
        peer_drop(b, silent[i], silent[i]->send_full ? "send_queue_full" : "heartbeat_timeout");
}

void knoop_peers_free_all(knoop_broker_t *b)
{
    if (!b->peers)
        return;
    size_t pos = 0;
    void *v;
    while (pos = 0, knoop_strmap_next(b->peers, &pos, NULL, &v))
        peer_free(b, v);
    knoop_strmap_destroy(&b->peers);
}
