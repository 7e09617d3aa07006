/* xml_ingest.c — the iWmo/iJw protocol adapter: the legacy system's way in, as a step of the one ingest pipeline
 * (ingest/pipeline.c, interface ingest/adapter.h). knoopd acts as the validating node between a financier and a
 * provider: a heen message that fails level 1 is refused to its sender (no retour); one that passes is checked at
 * level 2 and against the assignment ledger, and knoopd answers it with the standard's retour (302/306/...; a 325
 * for a 323) on the sender's inbox, in the same transaction (a 323 is answered with a 325 only when knoopd refuses
 * it; an accepted 323 goes to the financier, whose 325 is routed back). Accepted messages are routed on; refused ones
 * are journaled but not delivered. A white-label member's message is rewritten to the cooperative's AGB before it
 * reaches the financier: by the pipeline's one white-label step (ingest/whitelabel.c), through knoop_xml_whitelabel
 * below, so that `dlq retry` rewrites exactly as publishing does.
 *
 * No SQL here, and none on the loop thread per message:
 * - the ledger is in memory, loaded once at start-up (xml_ledger.c, store/ledger.c); a 301's (or 323's) rows are an extra of
 *   its op, so ledger refusals (301/305/307/317/323) and their retour codes are decided from memory and journaled with
 *   the message in one transaction;
 * - the Identificatie-reuse rule (TR056, retour code 9056: the same Identificatie for this sender and message type
 *   with other content) needs the journal. It used to be a SELECT on the reader connection for every message. Now
 *   the step asks for the check (facts.check_identity) and the message op decides it inside its transaction
 *   (ingest/message_op.c): an earlier message with another payload means nothing is written and the pipeline runs
 *   this step again with facts.identity_reused, whose answer (undelivered, a retour with 9056) is journaled by a
 *   second op; the same payload again is a retry, answered by deduplication. What the first pass did to memory is
 *   taken back in release (the ledger; the route state keeps a sticky choice, as for any duplicate). */
#include "legacy/xml_ingest.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/clock.h"
#include "base/log.h"
#include "base/textfmt.h"
#include "finance/terms.h"
#include "istd/istd.h"
#include "istd/ledger.h"
#include "legacy/expectations.h"
#include "legacy/workdays.h"
#include "legacy/xml_budget.h"
#include "legacy/xml_ledger.h"
#include "legacy/xml_tariff.h"
#include "route/access.h"

#define XML_MAX_DEPTH 256

bool knoop_xml_is_istd(const char *ct)
{
    return ct && strncmp(ct, "application/xml", 15) == 0 && (strstr(ct, "iwmo-3.2") || strstr(ct, "ijw-3.2"));
}

/* ---- start-up ------------------------------------------------------------------------------------------ */

static int find_schemas(const knoop_broker_t *b, char *dir, size_t len)
{
    if (b->config->settings.schemas_dir[0]) {
        snprintf(dir, len, "%s", b->config->settings.schemas_dir);
        return 0;
    }
    char exe[4096];
    size_t n = sizeof exe;
    if (uv_exepath(exe, &n) == 0) {
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        /* build/knoopd and build/asan/knoopd sit below the source tree */
        const char *ups[] = {"/..", "/../.."};
        for (size_t i = 0; i < 2; i++) {
            snprintf(dir, len, "%s%s/adapters/istd/schemas", exe, ups[i]);
            char probe[4200];
            snprintf(probe, sizeof probe, "%s/iwmo-3.2/WMO301.xsd", dir);
            if (access(probe, R_OK) == 0)
                return 0;
        }
    }
    snprintf(dir, len, "/usr/share/knoop/schemas");
    return 0;
}

int knoop_xml_open(knoop_broker_t *b, char *errbuf, size_t errlen)
{
    char dir[4200];
    find_schemas(b, dir, sizeof dir);
    knoop_istd_errors_t errs = {0};
    int rc = knoop_istd_schemas_new(&b->schemas, dir, &errs);
    if (rc != 0) {
        snprintf(errbuf, errlen, "iWmo/iJw schemas in %s: %s (set daemon.schemas_dir)", dir,
                 errs.n ? errs.v[0].message : strerror(-rc));
        knoop_istd_errors_clear(&errs);
        return rc;
    }
    knoop_istd_errors_clear(&errs);
    size_t sets = 0;
    if ((rc = knoop_xml_ledger_open(b, &sets, errbuf, errlen)) != 0)
        return rc;
    knoop_log_info("xml.ready", "schemas=\"%s\" ledger_sets=%zu", dir, sets);
    return 0;
}

void knoop_xml_close(knoop_broker_t *b)
{
    knoop_istd_schemas_destroy((knoop_istd_schemas_t **)&b->schemas);
    knoop_ledger_destroy((knoop_ledger_t **)&b->ledger);
}

/* ---- the adapter's state, from step to release ---------------------------------------------------------- */

typedef struct xml_state {
    knoop_istd_msg_t *msg; /* decoded; freed at the end of finish */
    knoop_istd_errors_t errs;
    bool accepted; /* no level-2 or ledger failure */
    char today[KNOOP_DATE_STR_SIZE];
    char summary[200];
    /* the envelope fields the XML filled in (the pipeline's envelope copy points here until the op is packed) */
    char sender[64], receiver[64], message_type[64], identificatie[64];
    knoop_xml_ledger_undo_t *undo; /* an accepted 301's or 323's change to the ledger */
} xml_state_t;

static void state_free(xml_state_t *s)
{
    if (!s)
        return;
    knoop_istd_msg_destroy(&s->msg);
    knoop_istd_errors_clear(&s->errs);
    knoop_xml_ledger_undo_free(s->undo);
    free(s);
}

/* ---- level 1 and the envelope ---------------------------------------------------------------------------- */

static void refuse_level1(knoop_facts_t *f, const knoop_istd_errors_t *errs, int rc)
{
    const knoop_istd_error_t *first = errs->n ? &errs->v[0] : NULL;
    bool parse = first && first->level == KNOOP_ISTD_LEVEL_PARSE;
    char where[32] = "";
    if (first && first->line)
        snprintf(where, sizeof where, " at line %d", first->line);
    f->refused = KNOOP__ERROR_CODE__INVALID_FIELD;
    knoop_textfmtf(f->reason, sizeof f->reason, KNOOP_TEXT_WIRE,
                   "%s%s: %s (%zu error%s in all; a message "
                   "that fails level 1 gets no retour)",
                   parse ? "XML not accepted" : "XSD validation failed", where, first ? first->message : strerror(-rc),
                   errs->n, errs->n == 1 ? "" : "s");
}

/* An envelope field the sender left empty takes the XML's value (a copy in buf); one it filled must agree. */
static bool same_or_fill(char **field, const char *value, char *buf, size_t cap)
{
    if (!*field || !(*field)[0]) {
        snprintf(buf, cap, "%s", value);
        *field = buf;
        return true;
    }
    return strcmp(*field, value) == 0;
}

/* ---- level 2 ---------------------------------------------------------------------------------------------- */

/* TR056 for knoop_istd_check: the journal's answer, given to a second pass (see the header). */
static bool seen_before(void *ctx, const char *sender, const char *message_type, const char *identificatie)
{
    (void)sender, (void)message_type, (void)identificatie;
    return ((const knoop_facts_t *)ctx)->identity_reused;
}

static bool party_known(void *ctx, const char *code)
{
    return knoop_party_known(ctx, code);
}

static void summarise(const knoop_istd_errors_t *errs, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    size_t n2 = 0;
    for (size_t i = 0; i < errs->n; i++) {
        if (errs->v[i].level != KNOOP_ISTD_LEVEL_RULE)
            continue;
        if (n2++ < 6)
            used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s %s", n2 > 1 ? "; " : "",
                                     errs->v[i].code, errs->v[i].rule ? errs->v[i].rule : "");
    }
    if (n2 == 0)
        snprintf(out, len, "accepted (no retour codes)");
}

void knoop_xml_step(knoop_broker_t *b, const char *publisher, Knoop__Envelope *env, knoop_facts_t *f)
{
    xml_state_t *s = calloc(1, sizeof *s);
    if (!s) {
        f->refused = KNOOP__ERROR_CODE__INTERNAL;
        snprintf(f->reason, sizeof f->reason, "out of memory; publish again");
        return;
    }
    f->state = s;
    if (!b->schemas) {
        f->refused = KNOOP__ERROR_CODE__INTERNAL;
        snprintf(f->reason, sizeof f->reason, "this knoopd has no iWmo/iJw schemas loaded");
        return;
    }
    knoop_istd_limits_t lim = {.max_bytes = b->config->settings.max_message_bytes,
                               .max_depth = XML_MAX_DEPTH,
                               .max_nodes = b->config->settings.xml_max_nodes};
    int rc = knoop_istd_decode((const knoop_istd_schemas_t *)b->schemas, (const char *)env->payload.data,
                               env->payload.len, &lim, &s->msg, &s->errs);
    if (rc != 0) {
        refuse_level1(f, &s->errs, rc);
        return;
    }
    const knoop_istd_type_t *t = s->msg->type;
    const char *xml_sender = knoop_istd_msg_sender(s->msg), *xml_receiver = knoop_istd_msg_receiver(s->msg);
    /* The envelope may leave these to the XML; what it does say must agree with it. */
    const char *given_sender = env->sender, *given_receiver = env->receiver, *given_type = env->message_type;
    if (!same_or_fill(&env->sender, xml_sender, s->sender, sizeof s->sender))
        knoop_textfmtf(f->reason, sizeof f->reason, KNOOP_TEXT_WIRE,
                       "envelope.sender: %s differs from the XML's sender %s", given_sender, xml_sender);
    else if (!same_or_fill(&env->receiver, xml_receiver, s->receiver, sizeof s->receiver))
        knoop_textfmtf(f->reason, sizeof f->reason, KNOOP_TEXT_WIRE,
                       "envelope.receiver: %s differs from the XML's receiver %s", given_receiver, xml_receiver);
    else if (!same_or_fill(&env->message_type, t->name, s->message_type, sizeof s->message_type))
        knoop_textfmtf(f->reason, sizeof f->reason, KNOOP_TEXT_WIRE,
                       "envelope.message_type: %s differs from the XML's message %s", given_type, t->name);
    else if (!same_or_fill(&env->identificatie, knoop_istd_msg_identificatie(s->msg), s->identificatie,
                           sizeof s->identificatie))
        snprintf(f->reason, sizeof f->reason, "envelope.identificatie: differs from the XML's Identificatie");
    /* The financing model allows this message under the parties' contract (no 301 without a beschikking, no 323
     * under a lump sum), or the sender is told so, naming the contract. */
    if (!f->reason[0] && b->config->network)
        knoop_terms_check_istd(knoop_terms_contract_of(b->config->network, xml_sender, xml_receiver), t->number,
                               t->name, f->reason, sizeof f->reason);
    if (f->reason[0]) {
        f->refused = KNOOP__ERROR_CODE__INVALID_FIELD;
        return;
    }
    env->kind = (Knoop__Kind)t->kind;

    /* Level 2 and the ledger: a failure is not a refusal but a retour with its codes. */
    knoop_date_t d;
    knoop_date_from_unix_amsterdam((int64_t)(knoop_now_us() / 1000000), &d);
    knoop_date_format(d, s->today, sizeof s->today);
    knoop_istd_check_opts_t co = {
        .today = s->today, .seen = seen_before, .seen_ctx = f, .known = party_known, .known_ctx = b};
    knoop_istd_check(s->msg, &co, &s->errs);
    int number = t->number;
    if (number == 301 || number == 305 || number == 307 || number == 317 || number == 323)
        knoop_ledger_check_with((knoop_ledger_t *)b->ledger, s->msg,
                                &(knoop_ledger_check_opts_t){.key = knoop_xml_key_of_bsn,
                                                             .key_ctx = b,
                                                             .tariff = knoop_xml_tariff_of, /* TR418 */
                                                             .tariff_ctx = b},
                                &s->errs);
    s->accepted = knoop_istd_errors_count(&s->errs, KNOOP_ISTD_LEVEL_RULE) == 0;
    summarise(&s->errs, s->summary, sizeof s->summary);

    if (s->msg->n_clients > 0) {
        size_t klen;
        f->has_client_ref =
            knoop_xml_key_of_bsn(b, s->msg->clients[0].bsn, f->client_ref, sizeof f->client_ref, &klen) == 0;
    }
    /* An accepted message is routed; a refused one is journaled for the record but goes nowhere. */
    f->undelivered = !s->accepted;
    if (f->undelivered)
        snprintf(f->explain, sizeof f->explain, "refused at level 2 (%s): not delivered; retour to %s", s->summary,
                 publisher);
    f->check_identity = !f->identity_reused;
}

/* ---- the retour -------------------------------------------------------------------------------------------- */

/* IdentificatieRetour: at most 12 characters, unique per sender and message type. "KR" + 10 base-36 digits of
 * (instance, counter) is unique for this broker. */
static void retour_id(knoop_broker_t *b, char out[13])
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    uint64_t v = (b->instance_id << 24) ^ ++b->message_counter;
    out[0] = 'K';
    out[1] = 'R';
    for (int i = 11; i >= 2; i--) {
        out[i] = digits[v % 36];
        v /= 36;
    }
    out[12] = '\0';
}

static knoop_msg_op_t *build_retour(knoop_broker_t *b, const xml_state_t *s, const char *publisher)
{
    const knoop_istd_msg_t *heen = s->msg;
    const knoop_istd_type_t *answer = knoop_istd_type_find(heen->type->standard, heen->type->answer);
    if (!answer)
        return NULL;
    char id[13];
    retour_id(b, id);
    knoop_istd_retour_opts_t ro = {.identificatie = id, .dagtekening = s->today, .xslt_versie = NULL};
    xmlDoc *doc = NULL;
    if (knoop_istd_retour((const knoop_istd_schemas_t *)b->schemas, heen, &s->errs, &ro, &doc) != 0 || !doc)
        return NULL;
    char *xml = NULL;
    size_t xml_len = 0;
    int rc = knoop_istd_encode_doc(doc, &xml, &xml_len);
    xmlFreeDoc(doc);
    if (rc != 0)
        return NULL;
    char ct[96];
    knoop_istd_content_type(answer, ct, sizeof ct);
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    env.sender = (char *)knoop_istd_msg_receiver(heen); /* answered on behalf of the heen's receiver */
    env.receiver = (char *)publisher;
    env.kind = (Knoop__Kind)answer->kind;
    env.message_type = (char *)answer->name;
    env.identificatie = id;
    env.correlation_id = (char *)knoop_istd_msg_identificatie(heen);
    env.content_type = ct;
    env.payload.data = (uint8_t *)xml;
    env.payload.len = xml_len;
    char inbox[64], explain[400];
    snprintf(inbox, sizeof inbox, "inbox.%s", publisher);
    snprintf(explain, sizeof explain, "retour %s by knoopd for %s %s: %s", answer->name, heen->type->name,
             knoop_istd_msg_identificatie(heen), s->summary);
    knoop_route_result_t route;
    knoop_route_to(b, inbox, explain, &route);
    knoop_msg_op_t *m = knoop_message_build(b, NULL, 0, &env, NULL, &route, NULL, NULL);
    free(xml);
    return m;
}

/* ---- after routing ------------------------------------------------------------------------------------------ */

void knoop_xml_finish(knoop_broker_t *b, knoop_facts_t *f, Knoop__Envelope *env, const knoop_route_result_t *route,
                      knoop_msg_op_t *m)
{
    xml_state_t *s = f->state;
    const knoop_istd_type_t *t = s->msg->type;
    int number = t->number;
    (void)env,
        (void)route; /* the white-label rewrite is the pipeline's (ingest/whitelabel.c -> knoop_xml_whitelabel) */
    /* Every heen message gets its technical retour from knoopd. A 323 is different: its answer, the 325, is the
     * financier's decision on the claim; knoopd answers it only when it refuses the claim itself (ledger, rules). */
    if (t->answer && (number != 323 || !s->accepted))
        m->companion = build_retour(b, s, m->publisher);
    if (s->accepted && (number == 301 || number == 323)) {
        void *rows = NULL;
        if (knoop_xml_ledger_apply(b, s->msg, &rows, &s->undo) == 0) {
            m->extras[0].apply = knoop_xml_ledger_persist;
            m->extras[0].arg = rows;
        }
    }
    if (s->accepted)
        knoop_expectations_on_message(b, m, s->msg, m->companion != NULL);
    if (s->accepted && (number == 305 || number == 307 || number == 323))
        knoop_xml_budget_rows(b, s->msg, route->contract, m);
    knoop_log_info("xml.ingest", "party=%s type=%s accepted=%d codes=\"%s\"%s", m->publisher, t->name, s->accepted,
                   s->summary, f->identity_reused ? " identificatie_reused=1" : "");
    /* The decoded document is no longer needed: the envelope points at s's copies. */
    knoop_istd_msg_destroy(&s->msg);
    knoop_istd_errors_clear(&s->errs);
}

void knoop_xml_release(knoop_broker_t *b, knoop_facts_t *f, bool stored)
{
    xml_state_t *s = f->state;
    if (!s)
        return;
    if (!stored && s->undo) {
        knoop_xml_ledger_undo(b, s->undo); /* frees it */
        s->undo = NULL;
    }
    state_free(s);
    f->state = NULL;
}

/* ---- white label ------------------------------------------------------------------------------------------------ */

int knoop_xml_whitelabel(knoop_broker_t *b, const uint8_t *payload, size_t len, const char *const *members, size_t n,
                         const char *to, uint8_t **out, size_t *out_len, char *why, size_t whylen)
{
    knoop_istd_limits_t lim = {.max_bytes = b->config->settings.max_message_bytes, .max_depth = XML_MAX_DEPTH};
    knoop_istd_errors_t errs = {0};
    xmlDoc *doc = NULL, *wl = NULL;
    char where[96] = "";
    int rc = knoop_istd_parse((const char *)payload, len, &lim, &doc, &errs);
    knoop_istd_errors_clear(&errs);
    if (rc != 0) {
        snprintf(why, whylen, "the XML does not parse");
        return rc;
    }
    rc = knoop_istd_whitelabel_out(doc, members, n, to, &wl, NULL, where, sizeof where);
    xmlFreeDoc(doc);
    if (rc == -EPERM) {
        snprintf(why, whylen, "a member's AGB code stands in %s, which is neither a provider code nor free text",
                 where);
        return rc;
    }
    char *xml = NULL;
    if (rc == 0)
        rc = knoop_istd_encode_doc(wl, &xml, out_len);
    if (wl)
        xmlFreeDoc(wl);
    if (rc != 0) {
        snprintf(why, whylen, "the XML could not be rewritten (%s)", strerror(-rc));
        return rc;
    }
    *out = (uint8_t *)xml;
    return 0;
}
