/* fuzz_frame.c — what knoopd does with the bytes of one client frame before it routes or stores anything: the ref peek
 * of an oversized Publish, the capped decode, the UTF-8 rule, and each body's checks (Hello's party, the envelope
 * rules, the BSN's pseudonym, a native payload's domain checks and read-only routing decision, Subscribe's names and
 * read right), against the demo network. No daemon, journal or socket: the decode and checks are pure functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/codes.h"
#include "base/pb_budget.h"
#include "base/strmap.h"
#include "base/textfmt.h"
#include "config/config.h"
#include "core/broker.h"
#include "core/frame_text.h"
#include "core/frames.h"
#include "deliver/streams.h"
#include "fuzz.h"
#include "ingest/envelope_check.h"
#include "ingest/handlers.h"
#include "route/access.h"
#include "route/domain_check.h"
#include "route/route_state.h"
#include "route/router.h"

static knoop_broker_t broker; /* only config, streams, route_state and pseudonym_key are set: what the checks read */
static const char *const some_party = "99990001";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[1024];
    if (knoop_config_load_demo(&broker.config, err, sizeof err) != 0 || !broker.config->network) {
        fprintf(stderr, "fuzz_frame: the embedded demo configuration does not load: %s\n", err);
        abort();
    }
    if (!(broker.streams = knoop_strmap_new()) ||
        knoop_route_state_new(broker.config->network, 16, &broker.route_state) != 0)
        abort();
    memset(broker.pseudonym_key, 0x5a, sizeof broker.pseudonym_key);
    return 0;
}

/* A reason goes to the client as a protobuf string: it must be UTF-8 text, never empty, and never repeat the BSN
 * (textfmt's wire mode withholds every run of nine digits, in id-shaped values too). */
static void check_reason(const char *reason, const char *bsn)
{
    size_t n = strlen(reason);
    if (n == 0 || !knoop_utf8_valid(reason, n))
        abort();
    if (!bsn || strlen(bsn) != 9 || !knoop_bsn_is_valid(bsn))
        return;
    if (strstr(reason, bsn))
        abort();
}

/* Past the UTF-8 rule, every decoded string the handlers read is text (protobuf-c stops at a NUL; the rule refused
 * those, so the decoded string is the whole field). */
static void check_text(const char *s)
{
    if (s && !knoop_utf8_valid(s, strlen(s)))
        abort();
}

static void check_envelope(Knoop__Envelope *env)
{
    check_text(env->sender);
    check_text(env->receiver);
    check_text(env->message_type);
    check_text(env->identificatie);
    check_text(env->correlation_id);
    check_text(env->client_bsn);
    check_text(env->content_type);
    (void)knoop__envelope__get_packed_size(env); /* handle_publish's in-flight bytes */
    /* The publisher: the envelope's sender when the network knows it (as if it had said Hello), so the fuzzer reaches
     * the rules past "publish only as yourself"; else a member. */
    const char *publisher = env->sender && knoop_code_is_party(env->sender) && knoop_party_known(&broker, env->sender)
                                ? env->sender
                                : some_party;
    char reason[400], bsn[64] = "";
    if (env->client_bsn)
        snprintf(bsn, sizeof bsn, "%s", env->client_bsn);
    Knoop__ErrorCode code = knoop_envelope_check(&broker, publisher, env, reason, sizeof reason);
    if (code != KNOOP__ERROR_CODE__OK) {
        check_reason(reason, bsn);
        return;
    }
    uint8_t ref[32];
    bool has_client = knoop_envelope_pseudonymise(&broker, env, ref);
    for (size_t i = 0; has_client && i < strlen(bsn); i++)
        if (env->client_bsn[i] != '\0')
            abort(); /* wiped in place */
    if (!env->content_type || !knoop_domain_is_native(env->content_type))
        return;
    /* route/route.c's checks of a native payload, and the decision the router would take (read-only). */
    const knoop_network_t *net = broker.config->network;
    knoop_domain_facts_t facts;
    memset(&facts, 0, sizeof facts);
    size_t max_items = broker.config->settings.max_list_items;
    if (knoop_domain_check_bounded(net, NULL, env->content_type, env->payload.data, env->payload.len, max_items, &facts,
                                   reason, sizeof reason) != 0) {
        check_reason(reason, bsn);
        return;
    }
    if (knoop_domain_check_client(&facts, has_client, reason, sizeof reason) != 0) {
        check_reason(reason, bsn);
        return;
    }
    knoop_route_in_t in;
    knoop_route_in_from_envelope(&in, env, has_client ? ref : NULL, has_client ? 32 : 0, &facts);
    knoop_route_decision_t d;
    if (knoop_route_explain(net, broker.route_state, &in, &d) == 0 && d.contract &&
        knoop_domain_check_bounded(net, d.contract, env->content_type, env->payload.data, env->payload.len, max_items,
                                   NULL, reason, sizeof reason) != 0)
        check_reason(reason, bsn);
}

static void check_stream(const char *stream)
{
    check_text(stream);
    if (!stream)
        return;
    (void)knoop_may_read(&broker, some_party, stream);
    (void)knoop_may_read(&broker, "0917", stream);
    if (knoop_stream_get(&broker, stream, false)) /* nothing is created: the registry stays empty */
        abort();
}

static void check_body(Knoop__Frame *f)
{
    switch (f->body_case) {
    case KNOOP__FRAME__BODY_HELLO:
        check_text(f->hello->party);
        check_text(f->hello->client_name);
        if (knoop_code_is_party(f->hello->party))
            (void)knoop_party_known(&broker, f->hello->party);
        size_t cut = knoop_utf8_whole(f->hello->client_name, strnlen(f->hello->client_name, 63));
        if (!knoop_utf8_valid(f->hello->client_name, cut))
            abort(); /* the name a session keeps is cut between characters */
        break;
    case KNOOP__FRAME__BODY_PUBLISH:
        if (f->publish->envelope)
            check_envelope(f->publish->envelope);
        break;
    case KNOOP__FRAME__BODY_SUBSCRIBE:
        check_stream(f->subscribe->stream);
        check_text(f->subscribe->subscriber);
        (void)knoop_subscriber_name_ok(f->subscribe->subscriber);
        break;
    case KNOOP__FRAME__BODY_UNSUBSCRIBE:
        check_stream(f->unsubscribe->stream);
        break;
    case KNOOP__FRAME__BODY_CREDIT:
        check_stream(f->credit->stream);
        break;
    case KNOOP__FRAME__BODY_ACK:
        check_stream(f->ack->stream);
        break;
    case KNOOP__FRAME__BODY_NACK:
        check_stream(f->nack->stream);
        check_text(f->nack->reason);
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The dispatcher (core/dispatch.c) peeks at a frame over max_message_bytes without decoding it. */
    (void)knoop_frame_peek_publish_ref(data, size);
    knoop_pb_budget_t budget;
    knoop_pb_budget_init(&budget, KNOOP_PB_BUDGET(size));
    Knoop__Frame *f = knoop__frame__unpack(&budget.allocator, size, data);
    if (budget.peak > budget.limit)
        abort();
    if (!f) {
        if (budget.used != 0)
            abort(); /* a refused decode gives back all it took */
        return 0;
    }
    char path[128];
    int rc = knoop_frame_text_check(data, size, path, sizeof path);
    if (rc != 0) {
        if (path[0] == '\0' || !knoop_utf8_valid(path, strlen(path)))
            abort(); /* the refusal names the field */
    } else {
        (void)knoop_frame_stream(f);
        check_body(f);
    }
    knoop__frame__free_unpacked(f, &budget.allocator);
    if (budget.used != 0)
        abort();
    return 0;
}
