/* auth.h — client authentication as a whole (docs/protocol.md, Transport security): the server's CURVE key on the
 * ROUTER, the ZAP handler, the client key directory and what changing it does to live sessions. */
#ifndef KNOOP_CORE_AUTH_H
#define KNOOP_CORE_AUTH_H
#include <stddef.h>
#include "core/broker.h"

/* Start-up, after the ROUTER is made and before it binds: loads the client key directory (made when missing) and,
 * with auth: curve, the server's secret key (a file only its owner may read), makes the ROUTER a CURVE server that
 * refuses every handshake its ZAP handler does not accept, and starts the handler. Logs what failed. */
int knoop_auth_start(knoop_broker_t *b);
/* `knoopd -t`: reads what start-up would (the server key, the directory if it exists) and changes nothing. */
int knoop_auth_check(const knoop_settings_t *s, char *err, size_t errlen);

/* Reload, in two steps so that a configuration that fails to reload changes nothing: read the directory anew... */
int knoop_auth_reload_read(knoop_broker_t *b, struct knoop_clients **next, char *msg, size_t len);
/* ...then swap it in: sessions whose key is gone or now names another party end at once. Appends a note to msg. */
void knoop_auth_reload_swap(knoop_broker_t *b, struct knoop_clients *next, char *msg, size_t len);

/* `knoopctl clients add`: the key becomes the party's (a file in the directory) and is accepted from now on. */
int knoop_auth_add(knoop_broker_t *b, const char *party, const char *public_key, char *err, size_t errlen);
/* `knoopctl clients revoke`: the key's file goes, new handshakes with it are refused, and its sessions end now (told
 * so in an Error NOT_AUTHORISED). *ended: how many sessions ended. */
int knoop_auth_revoke(knoop_broker_t *b, const char *public_key, size_t *ended, char *err, size_t errlen);
/* How many live sessions use the key (for `knoopctl clients`). */
size_t knoop_auth_sessions(knoop_broker_t *b, const char *public_key);
#endif
