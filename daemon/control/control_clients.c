/* control_clients.c — the control commands of the client keys (core/auth.h, config/clients.h): `clients` lists them,
 * `clients add PARTY KEY` and `clients revoke PARTY|KEY|FINGERPRINT` change the key directory at once and are
 * audited. A key is shown by its fingerprint, never whole. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/codes.h"
#include "base/curve_key.h"
#include "config/clients.h"
#include "config/network.h"
#include "control/audit.h"
#include "control/control.h"
#include "control/control_table.h"
#include "core/auth.h"
#include "core/broker.h"

json_t *knoop_cmd_clients(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv, (void)error, (void)errlen;
    json_t *t = knoop_table_new((const char *[]){"party", "fingerprint", "added", "sessions", NULL});
    for (size_t i = 0; i < knoop_clients_count(b->clients); i++) {
        const knoop_client_key_t *k = knoop_clients_at(b->clients, i);
        knoop_table_add(t, json_pack("[s,s,s,I]", k->party, k->fingerprint, k->added,
                                     (json_int_t)knoop_auth_sessions(b, k->public_key)));
    }
    return t;
}

/* The words as the command takes them: exactly n, any of which may start with '-' (a Z85 key may). */
static bool words(int argc, int n, const char *usage, char *error, size_t errlen)
{
    if (argc == n)
        return true;
    snprintf(error, errlen, "usage: %s%s", usage,
             argc > n ? " (a key that starts with '-' goes after --: knoopctl clients add -- PARTY KEY)" : "");
    return false;
}

json_t *knoop_cmd_clients_add(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    if (!words(argc, 2, "clients add PARTY KEY", error, errlen))
        return NULL;
    const char *party = argv[0], *key = argv[1];
    if (knoop_code_is_party(party) && b->config->network && !knoop_network_party(b->config->network, party)) {
        snprintf(error, errlen, "party %s is not in this broker's network", party);
        return NULL;
    }
    if (knoop_auth_add(b, party, key, error, errlen) != 0)
        return NULL;
    const knoop_client_key_t *k = knoop_clients_find(b->clients, key);
    char detail[128];
    snprintf(detail, sizeof detail, "party=%s fingerprint=%s", k->party, k->fingerprint);
    knoop_audit_submit(b, "clients add", detail);
    return json_pack("{s:s, s:s, s:s, s:s}", "party", k->party, "fingerprint", k->fingerprint, "added", k->added,
                     "file", k->file);
}

/* The keys a revoke names: every key of a party, the key itself, or the key with that fingerprint. */
static size_t keys_named(const knoop_clients_t *c, const char *what, char keys[][KNOOP_CURVE_KEY_LEN + 1], size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < knoop_clients_count(c) && n < max; i++) {
        const knoop_client_key_t *k = knoop_clients_at(c, i);
        if (strcmp(k->party, what) == 0 || strcmp(k->public_key, what) == 0 || strcmp(k->fingerprint, what) == 0)
            snprintf(keys[n++], KNOOP_CURVE_KEY_LEN + 1, "%s", k->public_key);
    }
    return n;
}

json_t *knoop_cmd_clients_revoke(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    if (!words(argc, 1, "clients revoke PARTY|KEY|FINGERPRINT", error, errlen))
        return NULL;
    /* copied out first: each revoke changes the list */
    size_t max = knoop_clients_count(b->clients);
    char(*keys)[KNOOP_CURVE_KEY_LEN + 1] = calloc(max ? max : 1, sizeof *keys); /* owned here */
    if (!keys)
        return snprintf(error, errlen, "out of memory"), NULL;
    size_t n = keys_named(b->clients, argv[0], keys, max);
    if (n == 0) {
        free(keys);
        snprintf(error, errlen, "no client key of party, with key or with fingerprint '%.48s' (see knoopctl clients)",
                 argv[0]);
        return NULL;
    }
    json_t *revoked = json_array();
    size_t sessions = 0;
    for (size_t i = 0; i < n; i++) {
        const knoop_client_key_t *k = knoop_clients_find(b->clients, keys[i]);
        char party[16], fp[KNOOP_CURVE_FINGERPRINT_LEN + 1], detail[128];
        snprintf(party, sizeof party, "%s", k->party);
        snprintf(fp, sizeof fp, "%s", k->fingerprint);
        size_t ended = 0;
        if (knoop_auth_revoke(b, keys[i], &ended, error, errlen) != 0) {
            json_decref(revoked);
            free(keys);
            return NULL; /* the keys revoked before it stay revoked, each audited */
        }
        snprintf(detail, sizeof detail, "party=%s fingerprint=%s sessions_ended=%zu", party, fp, ended);
        knoop_audit_submit(b, "clients revoke", detail);
        json_array_append_new(revoked, json_pack("{s:s, s:s}", "party", party, "fingerprint", fp));
        sessions += ended;
    }
    free(keys);
    return json_pack("{s:o, s:I}", "revoked", revoked, "sessions_ended", (json_int_t)sessions);
}
