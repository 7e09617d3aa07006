/* peer_limits.c — the caps on clients: max_connections (peers knoopd knows), max_connections_per_party (sessions
 * after Hello), and the end of a session whose answers cannot be queued (its send queue holds send_hwm frames: the
 * client does not read). Each refusal says which setting it hit; refusals of newcomers are logged at most once a
 * second, so a flood of them cannot flood the log. */
#include "core/peer_limits.h"
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "base/log.h"
#include "core/frames.h"

#define REFUSED_LOG_MS      1000 /* newcomers refused for max_connections: one log line a second at most */
#define TRIM_AFTER_LEAVE_MS 1000
#define TRIM_EVERY_MS       10000

/* One line a second at most for refusals, whichever cap: a reconnect storm must not become a log storm. */
static void log_refused(knoop_broker_t *b, const char *reason, const char *party, uint64_t max, uint64_t now_count)
{
    b->refused_unlogged++;
    uint64_t now = knoop_now_ms();
    if (b->refused_log_ms && now - b->refused_log_ms < REFUSED_LOG_MS)
        return;
    knoop_log_warn("peer.refused", "reason=%s party=%s max=%" PRIu64 " now=%" PRIu64 " refused=%" PRIu64, reason,
                   party[0] ? party : "-", max, now_count, b->refused_unlogged);
    b->refused_log_ms = now;
    b->refused_unlogged = 0;
}

bool knoop_peer_admit(knoop_broker_t *b, const uint8_t *id, size_t len)
{
    uint64_t max = b->config->settings.max_connections;
    size_t known = knoop_strmap_size(b->peers);
    if (known < max)
        return true;
    log_refused(b, "max_connections", "", max, known);
    knoop_peer_t stranger; /* only for the answer: it is never put in the map */
    memset(&stranger, 0, sizeof stranger);
    memcpy(stranger.routing_id, id, len);
    stranger.routing_id_len = len;
    knoop_send_error(b, &stranger, KNOOP__ERROR_CODE__INTERNAL,
                     "the broker has %zu clients, its limit (max_connections %" PRIu64 "); try again later", known,
                     max);
    return false;
}

uint64_t knoop_party_sessions(const knoop_broker_t *b, const char *party)
{
    return b->party_sessions ? (uint64_t)(uintptr_t)knoop_strmap_get(b->party_sessions, party) : 0;
}

int knoop_party_session_add(knoop_broker_t *b, knoop_peer_t *p, const char *party)
{
    if (p->party_counted)
        return 0;
    if (!b->party_sessions && !(b->party_sessions = knoop_strmap_new()))
        return -ENOMEM;
    uint64_t n = knoop_party_sessions(b, party);
    if (n >= b->config->settings.max_connections_per_party) {
        log_refused(b, "max_connections_per_party", party, b->config->settings.max_connections_per_party, n);
        return -EUSERS;
    }
    if (knoop_strmap_put(b->party_sessions, party, (void *)(uintptr_t)(n + 1)) != 0)
        return -ENOMEM;
    p->party_counted = true;
    return 0;
}

void knoop_party_session_remove(knoop_broker_t *b, knoop_peer_t *p)
{
    if (!p->party_counted || !b->party_sessions)
        return;
    p->party_counted = false;
    uint64_t n = knoop_party_sessions(b, p->party);
    if (n <= 1)
        knoop_strmap_remove(b->party_sessions, p->party);
    else if (knoop_strmap_put(b->party_sessions, p->party, (void *)(uintptr_t)(n - 1)) != 0)
        knoop_strmap_remove(b->party_sessions, p->party); /* cannot fail on an existing key; never count high */
}

void knoop_peer_send_overflow(knoop_broker_t *b, knoop_peer_t *p)
{
    b->answers_lost++;
    if (!p->party[0] || p->gone || p->send_full)
        return; /* a stranger (nothing to end), or ending already */
    p->send_full = true;
    knoop_log_warn("peer.send_queue_full",
                   "party=%s client=\"%s\" session=%s send_hwm=%" PRIu64 " action=end_session "
                   "note=\"the client does not read its socket\"",
                   p->party, p->client_name, p->session, b->config->settings.send_hwm);
}

void knoop_memory_tick(knoop_broker_t *b, uint64_t now_ms)
{
    size_t known = b->peers ? knoop_strmap_size(b->peers) : 0;
    bool left = known < b->peers_at_trim;
    if (known > b->peers_at_trim)
        b->peers_at_trim = known;
    if (!(left && now_ms - b->trim_ms >= TRIM_AFTER_LEAVE_MS) && now_ms - b->trim_ms < TRIM_EVERY_MS)
        return;
#ifdef __GLIBC__
    /* glibc keeps freed memory in its arenas; what a departed client's queues used would otherwise stay in RSS. */
    (void)malloc_trim(0); /* returns whether memory was released: either is fine */
#endif
    b->trim_ms = now_ms;
    b->peers_at_trim = known;
}

void knoop_peer_limits_free(knoop_broker_t *b)
{
    knoop_strmap_destroy(&b->party_sessions);
}
