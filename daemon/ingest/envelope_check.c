/* envelope_check.c — the rules every envelope passes before it is routed and journaled. Each rule is a row:
 * a test and what the sender is told when it fails. Order matters: the first failure is reported. */
#include "ingest/envelope_check.h"
#include "base/pseudonym.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include "base/codes.h"
#include "base/textfmt.h"
#include "route/access.h"

typedef struct check_ctx {
    const knoop_broker_t *b;
    const char *publisher;
    const Knoop__Envelope *env;
} check_ctx_t;

static bool empty(const char *s)
{
    return s == NULL || s[0] == '\0';
}

static bool has_sender(const check_ctx_t *c)
{
    return !empty(c->env->sender);
}
static bool sender_shape(const check_ctx_t *c)
{
    return knoop_code_is_party(c->env->sender);
}
static bool sender_is_publisher(const check_ctx_t *c)
{
    return strcmp(c->env->sender, c->publisher) == 0;
}
static bool receiver_shape(const check_ctx_t *c)
{
    return empty(c->env->receiver) || knoop_code_is_party(c->env->receiver);
}
static bool receiver_known(const check_ctx_t *c)
{
    return empty(c->env->receiver) || knoop_party_known(c->b, c->env->receiver);
}
static bool has_kind(const check_ctx_t *c)
{
    return c->env->kind != KNOOP__KIND__KIND_UNSPECIFIED;
}
static bool kind_known(const check_ctx_t *c)
{
    return (int)c->env->kind > 0 && (int)c->env->kind <= (int)KNOOP__KIND__OTHER;
}
static bool has_message_type(const check_ctx_t *c)
{
    return !empty(c->env->message_type);
}
static bool message_type_length(const check_ctx_t *c)
{
    return strlen(c->env->message_type) <= 32;
}
static bool identificatie_length(const check_ctx_t *c)
{
    return empty(c->env->identificatie) || strlen(c->env->identificatie) <= 12;
}
static bool bsn_valid(const check_ctx_t *c)
{
    return empty(c->env->client_bsn) || knoop_bsn_is_valid(c->env->client_bsn);
}
static bool content_type_length(const check_ctx_t *c)
{
    return empty(c->env->content_type) || strlen(c->env->content_type) <= 128;
}
static bool correlation_length(const check_ctx_t *c)
{
    return empty(c->env->correlation_id) || strlen(c->env->correlation_id) <= 64;
}

typedef struct envelope_rule {
    bool (*ok)(const check_ctx_t *c);
    Knoop__ErrorCode code;
    const char *reason; /* may contain one %s: the field's value (never for client_bsn) */
    const char *(*value)(const Knoop__Envelope *e);
} envelope_rule_t;

static const char *v_sender(const Knoop__Envelope *e)
{
    return e->sender;
}
static const char *v_receiver(const Knoop__Envelope *e)
{
    return e->receiver;
}

static const envelope_rule_t rules[] = {
    {has_sender, KNOOP__ERROR_CODE__MISSING_FIELD, "envelope.sender is required", NULL},
    {sender_shape, KNOOP__ERROR_CODE__INVALID_PARTY,
     "envelope.sender '%s' is not a party code (CBS/UZOVI 4 digits, AGB 8 digits)", v_sender},
    {sender_is_publisher, KNOOP__ERROR_CODE__NOT_AUTHORISED,
     "envelope.sender '%s' is not the party of this connection: publish only as yourself", v_sender},
    {receiver_shape, KNOOP__ERROR_CODE__INVALID_PARTY,
     "envelope.receiver '%s' is not a party code (CBS/UZOVI 4 digits, AGB 8 digits)", v_receiver},
    {receiver_known, KNOOP__ERROR_CODE__INVALID_PARTY, "envelope.receiver %s is not in this broker's network",
     v_receiver},
    {has_kind, KNOOP__ERROR_CODE__MISSING_FIELD, "envelope.kind is required", NULL},
    {kind_known, KNOOP__ERROR_CODE__INVALID_FIELD, "envelope.kind is not a known Kind", NULL},
    {has_message_type, KNOOP__ERROR_CODE__MISSING_FIELD, "envelope.message_type is required (e.g. WMO301)", NULL},
    {message_type_length, KNOOP__ERROR_CODE__INVALID_FIELD, "envelope.message_type is longer than 32 characters", NULL},
    {identificatie_length, KNOOP__ERROR_CODE__INVALID_FIELD, "envelope.identificatie is longer than 12 characters",
     NULL},
    {bsn_valid, KNOOP__ERROR_CODE__INVALID_BSN, "envelope.client_bsn is not a valid BSN (9 digits passing the 11-test)",
     NULL},
    {content_type_length, KNOOP__ERROR_CODE__INVALID_FIELD, "envelope.content_type is longer than 128 characters",
     NULL},
    {correlation_length, KNOOP__ERROR_CODE__INVALID_FIELD, "envelope.correlation_id is longer than 64 characters",
     NULL},
};

Knoop__ErrorCode knoop_envelope_check(const knoop_broker_t *b, const char *publisher, const Knoop__Envelope *env,
                                      char *reason, size_t len)
{
    check_ctx_t c = {b, publisher, env};
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (rules[i].ok(&c))
            continue;
        if (rules[i].value) /* wire mode: a value that could be a BSN is withheld, the text stays UTF-8 */
            knoop_textfmtf(reason, len, KNOOP_TEXT_WIRE, rules[i].reason, rules[i].value(env));
        else
            snprintf(reason, len, "%s", rules[i].reason);
        return rules[i].code;
    }
    return KNOOP__ERROR_CODE__OK;
}

bool knoop_envelope_pseudonymise(const knoop_broker_t *b, Knoop__Envelope *env, uint8_t ref_out[32])
{
    if (empty(env->client_bsn))
        return false;
    size_t n = strlen(env->client_bsn);
    knoop_client_ref_of_bsn(b->pseudonym_key, env->client_bsn, n, ref_out);
    sodium_memzero(env->client_bsn, n); /* wiped in place: the buffer belongs to the unpacked frame */
    return true;
}
