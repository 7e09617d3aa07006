/* control_network.c — the control commands that show the live network and routing: parties, contracts, and
 * `route explain` (the decision journaled with a message, or a dry run for a message not sent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "store/journal_sql.h"
#include "base/pseudonym.h"
#include "core/broker.h"
#include "base/codes.h"
#include "control/control.h"
#include "control/control_table.h"
#include "config/network.h"
#include "route/router.h"

static const knoop_network_t *need_network(knoop_broker_t *b, char *error, size_t errlen)
{
    if (!b->config->network)
        snprintf(error, errlen, "this knoopd has no network configured (routing by receiver only)");
    return b->config->network;
}

json_t *knoop_cmd_parties(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv;
    const knoop_network_t *net = need_network(b, error, errlen);
    if (!net)
        return NULL;
    json_t *t = knoop_table_new((const char *[]){"code", "kind", "name", "products", "relation", "contracts", NULL});
    for (size_t i = 0; i < knoop_network_party_count(net); i++) {
        const knoop_party_t *p = knoop_network_party_at(net, i);
        char products[256] = "", relation[64] = "";
        for (size_t k = 0; k < p->n_products; k++)
            snprintf(products + strlen(products), sizeof products - strlen(products), "%s%s", k ? "," : "",
                     p->products[k]);
        if (p->main_contractor)
            snprintf(relation, sizeof relation, "subcontractor of %s", p->main_contractor->code);
        else if (p->gemeente)
            snprintf(relation, sizeof relation, "team of %s", p->gemeente->code);
        else if (p->cooperative && p->member_slot >= 0)
            snprintf(relation, sizeof relation, "member of %s", p->cooperative->code);
        knoop_table_add(t, json_pack("[s,s,s,s,s,I]", p->code, knoop_party_kind_name(p->kind), p->name ? p->name : "",
                                     products, relation, (json_int_t)p->n_contracts));
    }
    return t;
}

json_t *knoop_cmd_contracts(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv;
    const knoop_network_t *net = need_network(b, error, errlen);
    if (!net)
        return NULL;
    json_t *t = knoop_table_new((const char *[]){"contract", "financier", "provider", "identity", "financing",
                                                 "protocol", "outcomes", "cadence", "co-financiers", NULL});
    for (size_t i = 0; i < knoop_network_contract_count(net); i++) {
        const knoop_contract_t *c = knoop_network_contract_at(net, i);
        char cofin[128] = "";
        for (size_t k = 0; k < c->n_co_financiers; k++)
            snprintf(cofin + strlen(cofin), sizeof cofin - strlen(cofin), "%s%s", k ? "," : "",
                     c->co_financiers[k]->code);
        knoop_table_add(t,
                        json_pack("[s,s,s,s,s,s,s,s,s]", c->name, c->financier->code, c->provider->code,
                                  knoop_identity_name(c->identity), knoop_financing_name(c->financing),
                                  knoop_protocol_name(c->protocol), c->indicator_set ? c->indicator_set->name : "none",
                                  c->indicator_set ? knoop_cadence_name(c->cadence) : "-", cofin));
    }
    return t;
}

/* `route explain SEQ` reads the decision journaled with a message; `route explain --from P [--to P] --kind K
 * [--bsn BSN] [--product X]` asks the router what it would decide now, without changing its memory. */
json_t *knoop_cmd_route_explain(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    if (argc == 1 && argv[0][0] >= '0' && argv[0][0] <= '9') {
        sqlite3_stmt *st;
        sqlite3 *db = knoop_journal_reader(b->journal);
        if (sqlite3_prepare_v2(db,
                               "SELECT seq, message_id, sender, receiver, kind, message_type, identificatie, "
                               "accepted_us, route FROM messages WHERE seq = ?",
                               -1, &st, NULL) != SQLITE_OK) {
            snprintf(error, errlen, "%s", sqlite3_errmsg(db));
            return NULL;
        }
        sqlite3_bind_int64(st, 1, strtoll(argv[0], NULL, 10));
        json_t *r = NULL;
        if (sqlite3_step(st) == SQLITE_ROW)
            r = json_pack("{s:I, s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:s?}", "seq", sqlite3_column_int64(st, 0),
                          "message_id", sqlite3_column_text(st, 1), "publisher", sqlite3_column_text(st, 2), "receiver",
                          sqlite3_column_text(st, 3), "kind", sqlite3_column_int(st, 4), "message_type",
                          sqlite3_column_text(st, 5), "identificatie", sqlite3_column_text(st, 6), "accepted_us",
                          sqlite3_column_int64(st, 7), "decision", sqlite3_column_text(st, 8));
        else
            snprintf(error, errlen, "no message with seq %s (purged, or not yet journaled)", argv[0]);
        sqlite3_finalize(st);
        return r;
    }
    const knoop_network_t *net = need_network(b, error, errlen);
    if (!net)
        return NULL;
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    const char *bsn = NULL;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--from") == 0)
            env.sender = (char *)argv[i + 1];
        else if (strcmp(argv[i], "--to") == 0)
            env.receiver = (char *)argv[i + 1];
        else if (strcmp(argv[i], "--kind") == 0)
            env.kind = (Knoop__Kind)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--type") == 0)
            env.message_type = (char *)argv[i + 1];
        else if (strcmp(argv[i], "--bsn") == 0)
            bsn = argv[i + 1];
    }
    if (!env.sender[0] || !env.kind) {
        snprintf(error, errlen,
                 "usage: route explain SEQ | route explain --from PARTY [--to PARTY] --kind N "
                 "[--type T] [--bsn BSN]");
        return NULL;
    }
    uint8_t ref[32];
    if (bsn) {
        if (!knoop_bsn_is_valid(bsn)) {
            snprintf(error, errlen, "--bsn is not a valid BSN");
            return NULL;
        }
        knoop_client_ref_of_bsn(b->pseudonym_key, bsn, strlen(bsn), ref);
    }
    knoop_route_in_t in;
    knoop_route_in_from_envelope(&in, &env, bsn ? ref : NULL, bsn ? 32 : 0, NULL);
    knoop_route_decision_t d;
    if (!b->route_state || knoop_route_explain(net, b->route_state, &in, &d) != 0) {
        snprintf(error, errlen, "the router could not decide");
        return NULL;
    }
    json_t *streams = json_array();
    for (size_t i = 0; i < d.n_streams; i++)
        json_array_append_new(streams, json_string(d.streams[i]));
    return json_pack("{s:s, s:b, s:o, s:s, s:s, s:s, s:s?, s:s}", "rule", knoop_route_rule_name(d.rule), "dead_letter",
                     d.dead_letter, "streams", streams, "sender_as_seen", d.sender_as_seen, "receiver", d.receiver,
                     "member", d.member, "contract", d.contract ? d.contract->name : NULL, "explanation",
                     d.explanation);
}
