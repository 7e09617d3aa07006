/* route.c — ingest's routing step, without stream objects. With a network: the native payload is checked against its
 * contract, the router (router.c) decides, and the decision becomes stream names, the identity receivers see and a
 * route-state row to persist. Without a network: a message addressed to a party goes to inbox.<receiver>; one
 * without a receiver is a dead letter. The rows' SQL is store/route_state.c; ingest/route_step.c resolves the names. */
#include "route/route.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "route/domain_check.h"
#include "base/log.h"
#include "config/network.h"
#include "route/router.h"
#include "store/route_state.h"

static void add_stream(knoop_route_plan_t *out, const char *name)
{
    if (out->nstreams < KNOOP_ROUTE_STREAMS_MAX)
        snprintf(out->streams[out->nstreams++], KNOOP_ROUTE_STREAM_NAME_MAX, "%s", name);
}

static void dead_letter(knoop_route_plan_t *out)
{
    out->dead_letter = true;
    snprintf(out->explain, sizeof out->explain, "dead-letter: %s", out->reason); /* as router.c names the rule */
    add_stream(out, "deadletters");
}

static void route_without_network(const Knoop__Envelope *env, knoop_route_plan_t *out)
{
    if (env->receiver && env->receiver[0]) {
        char name[64];
        snprintf(name, sizeof name, "inbox.%s", env->receiver);
        add_stream(out, name);
        snprintf(out->explain, sizeof out->explain, "addressed: inbox.%s", env->receiver);
        return;
    }
    snprintf(out->reason, sizeof out->reason, "no receiver and no network of contracts to route kind %d from %s",
             (int)env->kind, env->sender);
    dead_letter(out);
}

Knoop__ErrorCode knoop_route_plan(knoop_broker_t *b, const Knoop__Envelope *env, const uint8_t *client_ref,
                                  knoop_route_plan_t *out, char *reason, size_t reason_len)
{
    memset(out, 0, sizeof *out);
    const knoop_network_t *net = b->config->network;
    if (!net || !b->route_state) {
        route_without_network(env, out);
        return KNOOP__ERROR_CODE__OK;
    }
    knoop_domain_facts_t facts;
    memset(&facts, 0, sizeof facts);
    bool native = env->content_type && knoop_domain_is_native(env->content_type);
    if (native && (knoop_domain_check_bounded(net, NULL, env->content_type, env->payload.data, env->payload.len,
                                              b->config->settings.max_list_items, &facts, reason, reason_len) != 0 ||
                   knoop_domain_check_client(&facts, client_ref != NULL, reason, reason_len) != 0))
        return KNOOP__ERROR_CODE__INVALID_FIELD;
    knoop_route_in_t in;
    knoop_route_in_from_envelope(&in, env, client_ref, client_ref ? 32 : 0, native ? &facts : NULL);
    knoop_route_decision_t d;
    /* Check the payload against the contract the message will travel under before the decision changes state. */
    if (native && knoop_route_explain(net, b->route_state, &in, &d) == 0 && d.contract &&
        knoop_domain_check_bounded(net, d.contract, env->content_type, env->payload.data, env->payload.len,
                                   b->config->settings.max_list_items, NULL, reason, reason_len) != 0)
        return KNOOP__ERROR_CODE__INVALID_FIELD;
    int rc = knoop_route(net, b->route_state, &in, &d);
    if (rc != 0) {
        snprintf(reason, reason_len, "routing failed (%s); publish again", strerror(-rc));
        return KNOOP__ERROR_CODE__INTERNAL;
    }
    snprintf(out->explain, sizeof out->explain, "%s: %s", knoop_route_rule_name(d.rule), d.explanation);
    if (d.dead_letter) {
        snprintf(out->reason, sizeof out->reason, "%s", d.explanation);
        dead_letter(out);
        return KNOOP__ERROR_CODE__OK;
    }
    if (d.contract)
        snprintf(out->contract, sizeof out->contract, "%s", d.contract->name);
    for (size_t i = 0; i < d.n_streams; i++)
        add_stream(out, d.streams[i]);
    if (strcmp(d.sender_as_seen, env->sender) != 0)
        snprintf(out->sender_as_seen, sizeof out->sender_as_seen, "%s", d.sender_as_seen);
    if (d.change != KNOOP_CHANGE_NONE && client_ref) {
        bool passed = d.change == KNOOP_CHANGE_PASSED || d.change == KNOOP_CHANGE_UNPASSED;
        const void *scope = passed ? (const void *)knoop_network_party(net, d.receiver) : (const void *)d.contract;
        if (scope && knoop_route_state_row(b->route_state, passed ? KNOOP_ROW_PASSED : KNOOP_ROW_STICKY, scope,
                                           client_ref, 32, &out->row) == 0)
            out->has_row = true;
    }
    return KNOOP__ERROR_CODE__OK;
}

int knoop_route_row_apply(knoop_jtx_t *tx, const knoop_route_row_t *row, int64_t now_us)
{
    knoop_store_route_row_t r = {.kind = (int)row->kind,
                                 .scope = row->scope,
                                 .client_ref = row->client_ref,
                                 .client_ref_len = row->client_ref_len,
                                 .party = row->party,
                                 .active = row->active,
                                 .former = row->former};
    return knoop_store_route_state_put(tx, &r, now_us);
}

typedef struct load_ctx {
    knoop_route_state_t *st;
    size_t loaded, dropped;
} load_ctx_t;

static int load_row(const knoop_store_route_row_t *r, void *arg)
{
    load_ctx_t *c = arg;
    knoop_route_row_t row;
    memset(&row, 0, sizeof row);
    row.kind = (knoop_route_row_kind_t)r->kind;
    snprintf(row.scope, sizeof row.scope, "%s", r->scope ? r->scope : "");
    row.client_ref_len = r->client_ref_len > sizeof row.client_ref ? sizeof row.client_ref : r->client_ref_len;
    if (row.client_ref_len)
        memcpy(row.client_ref, r->client_ref, row.client_ref_len);
    snprintf(row.party, sizeof row.party, "%s", r->party ? r->party : "");
    row.active = r->active;
    snprintf(row.former, sizeof row.former, "%s", r->former ? r->former : "");
    if (knoop_route_state_import(c->st, &row) == 0)
        c->loaded++;
    else
        c->dropped++; /* its contract or member is no longer in the network: history stays in the journal */
    return 0;
}

int knoop_route_state_open(knoop_broker_t *b, char *errbuf, size_t errlen)
{
    if (!b->config->network)
        return 0;
    int rc = knoop_route_state_new(b->config->network, 16384, &b->route_state);
    if (rc != 0) {
        snprintf(errbuf, errlen, "route state: %s", strerror(-rc));
        return rc;
    }
    load_ctx_t c = {b->route_state, 0, 0};
    if ((rc = knoop_store_route_state_each(b->journal, load_row, &c, errbuf, errlen)) != 0)
        return rc;
    knoop_log_info("route_state.loaded", "rows=%zu not_in_network=%zu", c.loaded, c.dropped);
    return 0;
}

static int import_row(const knoop_route_row_t *row, void *arg)
{
    knoop_route_state_import(arg, row); /* rows the new network no longer knows are left behind */
    return 0;
}

int knoop_route_state_rebind(knoop_broker_t *b, const knoop_network_t *next)
{
    if (!next) {
        knoop_route_state_destroy(&b->route_state);
        return 0;
    }
    knoop_route_state_t *fresh = NULL;
    int rc = knoop_route_state_new(next, 16384, &fresh);
    if (rc != 0)
        return rc;
    if (b->route_state)
        knoop_route_state_export(b->route_state, import_row, fresh);
    knoop_route_state_destroy(&b->route_state);
    b->route_state = fresh;
    return 0;
}
