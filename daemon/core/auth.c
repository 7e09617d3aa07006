/* auth.c — client authentication (auth.h): with auth: curve the ROUTER is a CURVE server whose handshakes the ZAP
 * handler (zap.c) decides, from the client key directory (config/clients.h) that this file loads, reloads and changes.
 * A change applies at once: a key that is gone ends its sessions, as a closed connection does. With auth: none
 * (loopback only, checked by the configuration) there is no key and no handler; the directory is still kept. */
#include "core/auth.h"
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>
#include "base/curve_key.h"
#include "base/log.h"
#include "config/clients.h"
#include "core/peers.h"
#include "core/zap.h"

/* In zmq.h's draft section, yet honoured by libzmq 4.3 builds without the draft API: with a ZAP domain set, a CURVE
 * handshake fails when no handler answers, instead of being accepted (ZeroMQ's default). */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif
#define ZAP_DOMAIN "knoop"

static bool is_curve(const knoop_settings_t *s)
{
    return strcmp(s->auth, "curve") == 0;
}

static int curve_server(knoop_broker_t *b)
{
    const knoop_settings_t *s = &b->config->settings;
    char err[600];
    knoop_curve_keyfile_t key, *k = &key; /* wiped below, once ZeroMQ has its copy */
    int rc = knoop_curve_keyfile_read(s->server_key_file, true, k, err, sizeof err);
    if (rc != 0) {
        knoop_log_error("auth.server_key", "setting=server_key_file error=\"%s\"", err);
        return rc;
    }
    char fp[KNOOP_CURVE_FINGERPRINT_LEN + 1];
    knoop_curve_fingerprint(k->public_key, fp);
    int one = 1;
    const char *step = NULL;
    if (zmq_setsockopt(b->router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0)
        step = "ZMQ_CURVE_SERVER";
    else if (zmq_setsockopt(b->router, ZMQ_CURVE_SECRETKEY, k->secret_key, KNOOP_CURVE_KEY_LEN) != 0)
        step = "ZMQ_CURVE_SECRETKEY";
    else if (zmq_setsockopt(b->router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) != 0)
        step = "ZMQ_ZAP_DOMAIN";
    sodium_memzero(k, sizeof *k); /* ZeroMQ keeps its own copy */
    if (step) {
        knoop_log_error("daemon.listen", "step=zmq_setsockopt(%s) error=\"%s\"", step, zmq_strerror(zmq_errno()));
        return -EINVAL;
    }
    /* Without it, ZeroMQ would accept any key should the handler be missing; the handler is bound before the
     * ROUTER and closed after it, so this only guards against what cannot happen. */
    if (zmq_setsockopt(b->router, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof one) != 0)
        knoop_log_warn("auth.zap", "step=zmq_setsockopt(ZMQ_ZAP_ENFORCE_DOMAIN) error=\"%s\"",
                       zmq_strerror(zmq_errno()));
    if ((rc = knoop_zap_start(b)) != 0)
        return rc;
    knoop_log_info("auth.curve", "server_key=%s clients=%zu clients_dir=\"%s\"", fp, knoop_clients_count(b->clients),
                   s->clients_dir);
    return 0;
}

int knoop_auth_start(knoop_broker_t *b)
{
    const knoop_settings_t *s = &b->config->settings;
    char err[600];
    int rc = knoop_clients_load(s->clients_dir, true, &b->clients, err, sizeof err);
    if (rc != 0) {
        knoop_log_error("auth.clients", "setting=clients_dir error=\"%s\"", err);
        return rc;
    }
    if (is_curve(s))
        return curve_server(b);
    knoop_log_warn("auth.none",
                   "listen=\"%s\" note=\"no authentication (ZeroMQ NULL): a client is the party it says "
                   "in Hello; for development on loopback only\"",
                   s->listen);
    return 0;
}

int knoop_auth_check(const knoop_settings_t *s, char *err, size_t errlen)
{
    char why[600];
    if (is_curve(s)) {
        knoop_curve_keyfile_t k;
        int rc = knoop_curve_keyfile_read(s->server_key_file, true, &k, why, sizeof why);
        sodium_memzero(&k, sizeof k);
        if (rc != 0)
            return snprintf(err, errlen, "daemon.server_key_file: %s", why), rc;
    }
    knoop_clients_t *c = NULL;
    int rc = knoop_clients_load(s->clients_dir, false, &c, why, sizeof why);
    knoop_clients_destroy(&c);
    if (rc != 0)
        snprintf(err, errlen, "daemon.clients_dir: %s", why);
    return rc;
}

/* ---- changes to the key directory ------------------------------------------------------------------------------ */

/* A session whose key is no longer its party's: removed from the directory, or moved to another party. */
static bool key_gone(const knoop_peer_t *p, const void *ctx)
{
    const knoop_client_key_t *k = knoop_clients_find(ctx, p->client_key);
    return p->client_key[0] && (!k || strcmp(k->party, p->user_id) != 0);
}

static bool uses_key(const knoop_peer_t *p, const void *ctx)
{
    return strcmp(p->client_key, ctx) == 0;
}

int knoop_auth_reload_read(knoop_broker_t *b, knoop_clients_t **next, char *msg, size_t len)
{
    char err[600];
    int rc = knoop_clients_load(b->config->settings.clients_dir, true, next, err, sizeof err);
    if (rc != 0)
        snprintf(msg, len, "clients_dir: %s", err);
    return rc;
}

void knoop_auth_reload_swap(knoop_broker_t *b, knoop_clients_t *next, char *msg, size_t len)
{
    knoop_clients_t *old = b->clients;
    b->clients = next;
    knoop_clients_destroy(&old);
    size_t ended = knoop_peers_end(b, key_gone, b->clients, "key_revoked",
                                   "this client key is no longer authorised (removed from the client keys)");
    size_t used = strlen(msg);
    snprintf(msg + used, len > used ? len - used : 0, "; %zu client keys%s", knoop_clients_count(b->clients),
             ended ? ", sessions of removed keys ended" : "");
    knoop_log_info("auth.reloaded", "clients=%zu sessions_ended=%zu", knoop_clients_count(b->clients), ended);
}

int knoop_auth_add(knoop_broker_t *b, const char *party, const char *public_key, char *err, size_t errlen)
{
    int rc = knoop_clients_add(b->clients, party, public_key, err, errlen);
    if (rc == 0) {
        const knoop_client_key_t *k = knoop_clients_find(b->clients, public_key);
        knoop_log_info("auth.key_added", "party=%s fingerprint=%s", k->party, k->fingerprint);
    }
    return rc;
}

int knoop_auth_revoke(knoop_broker_t *b, const char *public_key, size_t *ended, char *err, size_t errlen)
{
    *ended = 0;
    const knoop_client_key_t *k = knoop_clients_find(b->clients, public_key);
    if (!k)
        return snprintf(err, errlen, "not a client key"), -ENOENT;
    char key[KNOOP_CURVE_KEY_LEN + 1], party[16], fp[KNOOP_CURVE_FINGERPRINT_LEN + 1];
    snprintf(key, sizeof key, "%s", k->public_key); /* k is freed by the removal */
    snprintf(party, sizeof party, "%s", k->party);
    snprintf(fp, sizeof fp, "%s", k->fingerprint);
    int rc = knoop_clients_remove(b->clients, key, err, errlen);
    if (rc != 0)
        return rc;
    *ended = knoop_peers_end(b, uses_key, key, "key_revoked", "this client key has been revoked");
    knoop_log_info("auth.key_revoked", "party=%s fingerprint=%s sessions_ended=%zu", party, fp, *ended);
    return 0;
}

static bool live_with_key(const knoop_peer_t *p, const void *ctx)
{
    return !p->gone && strcmp(p->client_key, ctx) == 0;
}

size_t knoop_auth_sessions(knoop_broker_t *b, const char *public_key)
{
    size_t n = 0, pos = 0;
    void *v;
    while (knoop_strmap_next(b->peers, &pos, NULL, &v))
        if (live_with_key(v, public_key))
            n++;
    return n;
}
