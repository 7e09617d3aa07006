/* peers.c — the peers map: a peer is created by its first frame and keyed by the hex of its routing id. A silent
 * peer is dropped on the tick; its struct lives on while journal ops still point at it (publishes_in_flight). */
#include "core/peers.h"
#include "core/peer_limits.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/log.h"

knoop_peer_t *knoop_peer_for(knoop_broker_t *b, const uint8_t *id, size_t len)
{
    char key[2 * KNOOP_ROUTING_ID_MAX + 1];
    if (len == 0 || len > KNOOP_ROUTING_ID_MAX)
        return NULL;
    sodium_bin2hex(key, sizeof key, id, len);
    knoop_peer_t *p = knoop_strmap_get(b->peers, key);
    if (p && !p->gone)
        return p;
    if (p) /* dropped for silence, now speaking again: a new session; the old struct lives on until answered */
        knoop_strmap_remove(b->peers, key);
    if (!knoop_peer_admit(b, id, len)) /* max_connections: answered, its frame is ignored */
        return NULL;
    p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    memcpy(p->routing_id, id, len);
    p->routing_id_len = len;
    memcpy(p->key, key, sizeof key);
    p->connected_us = knoop_now_us();
    if (knoop_strmap_put(b->peers, key, p) != 0) {
        free(p);
        return NULL;
    }
    return p;
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
