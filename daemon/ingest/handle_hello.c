/* handle_hello.c — Hello: who the client is. Under CURVE the party is the one the client's key belongs to (the ZAP
 * User-Id of its connection): Hello may only say that party. The party code must have a valid shape and, when a
 * network is configured, be one of its parties; a second Hello on the same connection may not change the party. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "core/broker.h"
#include "base/codes.h"
#include "base/curve_key.h"
#include "base/log.h"
#include "base/textfmt.h"
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
    if ((b->zap || p->user_id[0]) && strcmp(p->user_id, m->party) != 0) {
        knoop_log_warn("peer.refused", "reason=party_not_the_keys key_party=%s hello_party=%.16s", p->user_id,
                       knoop_code_is_party(m->party) ? m->party : "(invalid)");
        knoop_send_error(b, p, KNOOP__ERROR_CODE__NOT_AUTHORISED,
                         "this client's key belongs to party %s; it may say Hello only as %s", p->user_id, p->user_id);
        return;
    }
    if (!knoop_code_is_party(m->party)) {
        knoop_send_error(b, p, KNOOP__ERROR_CODE__INVALID_PARTY,
                         "party '%s' is not a party code (CBS or UZOVI: "
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
    /* kept to the buffer, cut between characters (a name is UTF-8 text: core/frame_text.c) */
    size_t name_len = knoop_utf8_whole(m->client_name, strnlen(m->client_name, sizeof p->client_name - 1));
    memcpy(p->client_name, m->client_name, name_len);
    p->client_name[name_len] = '\0';
    if (!p->session[0]) {
        uint8_t raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(p->session, sizeof p->session, raw, sizeof raw);
    }
    char fp[KNOOP_CURVE_FINGERPRINT_LEN + 1] = "-";
    if (p->client_key[0])
        knoop_curve_fingerprint(p->client_key, fp);
    knoop_log_info("peer.hello", "party=%s client=\"%s\" session=%s key=%s", p->party, p->client_name, p->session, fp);
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
