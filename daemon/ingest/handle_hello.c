/* handle_hello.c — Hello: who the client is. The party code must have a valid shape and, when a network is
 * configured, be one of its parties; a second Hello on the same connection may not change the party. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "core/broker.h"
#include "base/codes.h"
#include "base/log.h"
#include "route/access.h"
#include "ingest/handlers.h"
#include "core/frames.h"
#include "core/peer_limits.h"

void knoop_handle_hello(knoop_broker_t *b, knoop_peer_t *p, Knoop__Hello *m)
{
    if (m->protocol_version != 0 && m->protocol_version != KNOOP_PROTOCOL_VERSION) {
        knoop_send_error(b, p, KNOOP__ERROR_CODE__PROTOCOL_VERSION,
                         "protocol_version %u is not supported; this "
                         "broker speaks %d",
                         m->protocol_version, KNOOP_PROTOCOL_VERSION);
        return;
    }
    if (!knoop_code_is_party(m->party)) {
        knoop_send_error(b, p, KNOOP__ERROR_CODE__INVALID_PARTY,
                         "party '%.32s' is not a party code (CBS or UZOVI: "
                         "4 digits, AGB: 8 digits)",
                         m->party);
        return;
    }
    if (!knoop_party_known(b, m->party)) {
        knoop_send_error(b, p, KNOOP__ERROR_CODE__INVALID_PARTY, "party %s is not in this broker's network", m->party);
        return;
    }
    if (p->party[0] && strcmp(p->party, m->party) != 0) {
        knoop_send_error(b, p, KNOOP__ERROR_CODE__NOT_AUTHORISED,
                         "this connection is already party %s; open a new "
                         "connection for %s",
                         p->party, m->party);
        return;
    }
    if (knoop_party_session_add(b, p, m->party) != 0) { /* max_connections_per_party (core/peer_limits.c) */
        knoop_send_error(b, p, KNOOP__ERROR_CODE__INTERNAL,
                         "party %s has %llu sessions, its limit (max_connections_per_party); close one or try "
                         "again later",
                         m->party, (unsigned long long)knoop_party_sessions(b, m->party));
        return;
    }
    snprintf(p->party, sizeof p->party, "%s", m->party);
    snprintf(p->client_name, sizeof p->client_name, "%s", m->client_name);
    if (!p->session[0]) {
        uint8_t raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(p->session, sizeof p->session, raw, sizeof raw);
    }
    knoop_log_info("peer.hello", "party=%s client=\"%s\" session=%s", p->party, p->client_name, p->session);
    Knoop__Welcome w = KNOOP__WELCOME__INIT;
    w.session = p->session;
    w.protocol_version = KNOOP_PROTOCOL_VERSION;
    w.max_message_bytes = b->config->settings.max_message_bytes;
    w.heartbeat_ms = (uint32_t)b->config->settings.heartbeat_ms;
    w.broker_version = KNOOP_VERSION;
    w.peer_timeout_ms = (uint32_t)b->config->settings.peer_timeout_ms;
    w.max_credit = (uint32_t)b->config->settings.max_credit;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_WELCOME;
    f.welcome = &w;
    knoop_send_frame(b, p, &f);
}
