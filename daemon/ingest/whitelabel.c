/* whitelabel.c — the outbound white-label step (whitelabel.h): which codes a route's streams must not see (from the
 * network), the payload's rewrite (the adapter's for XML, route/domain_whitelabel.c for native messages; opaque
 * payloads are not rewritten), and the last check over every byte a client put in the envelope and the payload as
 * rewritten. Fields the broker generates (message_id, client_ref, times) are not checked: they hold no client text,
 * and a hex id or a hash could match eight digits by chance. */
#include "ingest/whitelabel.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/codes.h"
#include "base/log.h"
#include "base/textfmt.h"
#include "deliver/streams.h"
#include "ingest/adapter.h"
#include "route/domain_check.h"

/* The financier whose stream this is ("inbox.<party>" of a financier or its neighbourhood team, "outcomes.<F>"). */
static const knoop_party_t *financier_of_stream(const knoop_network_t *net, const char *stream)
{
    const char *code = strncmp(stream, "inbox.", 6) == 0      ? stream + 6
                       : strncmp(stream, "outcomes.", 9) == 0 ? stream + 9
                                                              : NULL;
    return code ? knoop_party_financier(knoop_network_party(net, code)) : NULL;
}

/* A member of coop, or a subcontractor working for one (or for coop itself). */
static bool works_for(const knoop_party_t *p, const knoop_party_t *coop)
{
    if (p->kind == KNOOP_PARTY_MEMBER)
        return p->cooperative == coop;
    if (p->kind == KNOOP_PARTY_SUBCONTRACTOR && p->main_contractor)
        return p->main_contractor == coop || p->main_contractor->cooperative == coop;
    return false;
}

static void add_code(const char **codes, size_t *n, size_t cap, const char *code)
{
    for (size_t i = 0; i < *n; i++)
        if (codes[i] == code)
            return;
    if (*n < cap)
        codes[(*n)++] = code;
}

size_t knoop_whitelabel_codes(const knoop_network_t *net, const knoop_route_result_t *route, const char **coop,
                              const char **codes, size_t cap)
{
    size_t n = 0;
    *coop = NULL;
    for (int s = 0; net && s < route->nstreams; s++) {
        const knoop_party_t *f = financier_of_stream(net, route->streams[s]->name);
        const knoop_contract_t *wl = f ? knoop_network_white_label_of(net, f) : NULL;
        if (!wl)
            continue;
        *coop = wl->provider->code;
        for (size_t i = 0; i < knoop_network_party_count(net); i++) {
            const knoop_party_t *p = knoop_network_party_at(net, i);
            if (!works_for(p, wl->provider) || !knoop_code_is_agb(p->code))
                continue;
            const knoop_contract_t *own = knoop_network_contract_between(net, f, p);
            if (own && own->identity == KNOOP_IDENTITY_LEGACY)
                continue; /* f contracts it under its own AGB: the code is no secret to f */
            add_code(codes, &n, cap, p->code);
        }
    }
    return n;
}

static void streams_text(const knoop_route_result_t *route, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < route->nstreams && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", route->streams[i]->name);
}

/* The route becomes a dead letter: journaled for the record on deadletters, delivered to nobody; what the router's
 * memory changed is kept (the row is still written), as for any dead letter. */
static void dead(knoop_broker_t *b, knoop_route_result_t *route, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void dead(knoop_broker_t *b, knoop_route_result_t *route, const char *fmt, ...)
{
    char reason[sizeof route->reason], streams[200], explain[sizeof route->explain];
    va_list ap;
    va_start(ap, fmt);
    knoop_textfmt(reason, sizeof reason, KNOOP_TEXT_WIRE, NULL, fmt, ap);
    va_end(ap);
    streams_text(route, streams, sizeof streams);
    knoop_textfmtf(explain, sizeof explain, KNOOP_TEXT_WIRE,
                   "dead-letter: %s (not appended to %s; the router said: %s)", reason, streams,
                   route->explain); /* cut, if at all, between characters */
    knoop_log_warn("whitelabel.dead_letter", "streams=%s reason=%s", streams, reason);
    knoop_stream_t *dl = knoop_stream_get(b, "deadletters", true);
    route->nstreams = 0;
    if (dl)
        route->streams[route->nstreams++] = dl;
    route->dead_letter = true;
    route->sender_as_seen[0] = '\0'; /* journaled as published: a `dlq retry` routes it from its publisher again */
    memcpy(route->reason, reason, sizeof reason);
    memcpy(route->explain, explain, sizeof explain);
}

/* Where a client-set field of the envelope (as receivers would see it) holds a member code, or NULL. */
static const char *envelope_leak(const Knoop__Envelope *env, const char *sender, const char **codes, size_t n)
{
    const struct {
        const char *name, *value;
    } fields[] = {{"envelope.sender", sender},
                  {"envelope.receiver", env->receiver},
                  {"envelope.message_type", env->message_type},
                  {"envelope.identificatie", env->identificatie},
                  {"envelope.correlation_id", env->correlation_id},
                  {"envelope.content_type", env->content_type}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].value && knoop_agb_find(fields[i].value, strlen(fields[i].value), codes, n, NULL) >= 0)
            return fields[i].name;
    return NULL;
}

void knoop_whitelabel_out(knoop_broker_t *b, const Knoop__Envelope *env, knoop_route_result_t *route,
                          knoop_wl_out_t *out)
{
    memset(out, 0, sizeof *out);
    const knoop_network_t *net = b->config->network;
    if (!net || route->dead_letter)
        return;
    const char *codes[KNOOP_WL_CODES_MAX], *coop;
    size_t n = knoop_whitelabel_codes(net, route, &coop, codes, KNOOP_WL_CODES_MAX);
    if (n == 0)
        return;
    const uint8_t *payload = env->payload.data;
    size_t len = env->payload.len;
    char why[300] = "", where[96] = "";
    int rc = 0;
    const knoop_adapter_t *a = knoop_adapter_find(b->adapters, env->content_type);
    if (a && a->whitelabel) {
        rc = a->whitelabel(b, payload, len, codes, n, coop, &out->payload, &out->payload_len, why, sizeof why);
    } else if (knoop_domain_descriptor(env->content_type) &&
               knoop_agb_find((const char *)payload, len, codes, n, NULL) >= 0) {
        rc = knoop_domain_whitelabel(env->content_type, payload, len, codes, n, coop, &out->payload, &out->payload_len,
                                     where, sizeof where);
        if (rc == -EPERM)
            snprintf(why, sizeof why,
                     "a member's AGB code stands in %s, which is neither a provider code nor free text", where);
        else if (rc != 0)
            snprintf(why, sizeof why, "the payload could not be rewritten (%s)", strerror(-rc));
    }
    if (rc != 0) {
        free(out->payload);
        memset(out, 0, sizeof *out);
        dead(b, route, "white-label rewrite failed: %s; the message is not delivered", why);
        return;
    }
    if (out->payload)
        payload = out->payload, len = out->payload_len;
    /* The last check: whatever the rewrite did or did not know, no member code leaves towards the financier. */
    const char *leak = envelope_leak(env, route->sender_as_seen[0] ? route->sender_as_seen : env->sender, codes, n);
    if (!leak && knoop_agb_find((const char *)payload, len, codes, n, NULL) >= 0)
        leak = "the payload";
    if (leak) {
        free(out->payload);
        memset(out, 0, sizeof *out);
        dead(b, route,
             "white-label last check: %s holds the AGB code of a member of cooperative %s; the message is not "
             "delivered",
             leak, coop);
    }
}
