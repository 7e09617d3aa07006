/* control_network.c — the control commands that show the live network and routing: parties, contracts, and
 * `route explain` (the decision journaled with a message, read through store/decisions.h, or a dry run for a
 * message not sent). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/pseudonym.h"
#include "core/broker.h"
#include "base/codes.h"
#include "control/control.h"
#include "control/control_args.h"
#include "control/control_table.h"
#include "config/network.h"
#include "knoop/names.h"
#include "route/router.h"
#include "store/decisions.h"

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

/* The decision journaled with a message, as `route explain SEQ` shows it. */
static void decision_json(void *ctx, const knoop_store_decision_t *d)
{
    *(json_t **)ctx = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:s?}", "seq", (json_int_t)d->seq,
                                "message_id", d->message_id, "publisher", d->publisher, "sender", d->sender, "receiver",
                                d->receiver, "kind", d->kind, "message_type", d->message_type, "identificatie",
                                d->identificatie, "accepted_us", (json_int_t)d->accepted_us, "decision", d->route);
}

static json_t *explain_journaled(knoop_broker_t *b, const char *seq_text, char *error, size_t errlen)
{
    int64_t seq;
    if (knoop_ctl_number("SEQ", seq_text, 1, INT64_MAX, &seq, error, errlen) != 0)
        return NULL;
    knoop_control_note(b, NULL, (uint64_t)seq, "seq=%" PRId64, seq); /* the audit row takes the message's client */
    json_t *r = NULL;
    int rc = knoop_store_decision_get(b->journal, (uint64_t)seq, decision_json, &r, error, errlen);
    if (rc == -ENOENT)
        snprintf(error, errlen, "no message with seq %s (purged, or not yet journaled)", seq_text);
    else if (rc == 0 && !r)
        snprintf(error, errlen, "out of memory");
    return rc == 0 ? r : NULL;
}

/* `route explain SEQ` reads the decision journaled with a message; `route explain --from P [--to P] --kind K
 * [--type T] [--bsn BSN]` asks the router what it would decide now, without changing its memory. */
json_t *knoop_cmd_route_explain(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    const char *seq, *from, *to, *kind, *type, *bsn;
    const knoop_ctl_opt_t opts[] = {{"--from", &from, NULL}, {"--to", &to, NULL},   {"--kind", &kind, NULL},
                                    {"--type", &type, NULL}, {"--bsn", &bsn, NULL}, {NULL, NULL, NULL}};
    if (knoop_ctl_args(argc, argv, opts, &seq, 1, error, errlen) != 0)
        return NULL;
    if (seq && (from || to || kind || type || bsn))
        return snprintf(error, errlen, "route explain takes a SEQ or --from/--kind, not both"), NULL;
    if (seq)
        return explain_journaled(b, seq, error, errlen);
    if (!from || !kind)
        return snprintf(error, errlen,
                        "usage: route explain SEQ | route explain --from PARTY [--to PARTY] --kind K "
                        "[--type T] [--bsn BSN]"),
               NULL;
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    env.sender = (char *)from;
    if (to)
        env.receiver = (char *)to;
    if (type)
        env.message_type = (char *)type;
    int64_t k = knoop_kind_parse(kind);
    if (k <= 0 && knoop_ctl_number("--kind", kind, 1, KNOOP__KIND__OTHER, &k, error, errlen) != 0)
        return snprintf(error, errlen,
                        "--kind wants a kind number (1 to %d) or name (referral, outcome-report, ...), "
                        "not '%s'",
                        KNOOP__KIND__OTHER, kind),
               NULL;
    env.kind = (Knoop__Kind)k;
    uint8_t ref[32];
    if (bsn) {
        if (!knoop_bsn_is_valid(bsn))
            return snprintf(error, errlen, "--bsn is not a valid BSN"), NULL;
        knoop_client_ref_of_bsn(b->pseudonym_key, bsn, strlen(bsn), ref);
    }
    /* Audited without the BSN: the row names the client by its reference. */
    knoop_control_note(b, bsn ? ref : NULL, 0, "from=%.16s to=%.16s kind=%.24s%s", from, to ? to : "-", kind,
                       bsn ? " bsn=yes" : "");
    const knoop_network_t *net = need_network(b, error, errlen);
    if (!net)
        return NULL;
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
