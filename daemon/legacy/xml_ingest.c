/* xml_ingest.c — the legacy system's way in. knoopd acts as the validating node between a financier and a provider:
 * a heen message that fails level 1 is refused to its sender (no retour); one that passes is checked at level 2 and
 * against the assignment ledger, and knoopd answers it with the standard's retour (302/306/...; a 325 for a 323) on
 * the sender's inbox, in the same transaction (a 323 is answered with a 325 only when knoopd refuses it; an accepted
 * 323 goes to the financier, whose 325 is routed back). Accepted messages are routed on; refused ones are journaled
 * but not delivered. A white-label member's message is rewritten to the cooperative's AGB before it reaches the financier. */
#include "store/journal_sql.h"
#include "base/pseudonym.h"
#include "legacy/xml_ingest.h"
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ingest/envelope_check.h"
#include "legacy/expectations.h"
#include "istd/istd.h"
#include "istd/ledger.h"
#include "base/log.h"
#include "ingest/message_op.h"
#include "route/route.h"
#include "legacy/workdays.h"
#include "base/clock.h"
#include "route/access.h"
#include "deliver/streams.h"
#include "core/frames.h"

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

static int key_of_bsn(void *ctx, const char *bsn, unsigned char *key, size_t cap, size_t *len)
{
    const knoop_broker_t *b = ctx;
    if (cap < 32)
        return -ENOSPC;
    knoop_client_ref_of_bsn(b->pseudonym_key, bsn, strlen(bsn), key);
    *len = 32;
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
    if ((rc = knoop_ledger_new(&b->ledger)) != 0)
        return rc;
    sqlite3_stmt *st;
    sqlite3 *db = knoop_journal_reader(b->journal);
    if (sqlite3_prepare_v2(db, "SELECT client_ref, provider, assignments FROM ledger", -1, &st, NULL) != SQLITE_OK) {
        snprintf(errbuf, errlen, "ledger: %s", sqlite3_errmsg(db));
        return -EIO;
    }
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (knoop_ledger_import(b->ledger, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                                (const char *)sqlite3_column_text(st, 1), sqlite3_column_blob(st, 2),
                                (size_t)sqlite3_column_bytes(st, 2)) == 0)
            n++;
    }
    sqlite3_finalize(st);
    knoop_log_info("xml.ready", "schemas=\"%s\" ledger_sets=%zu", dir, n);
    return 0;
}

void knoop_xml_close(knoop_broker_t *b)
{
    knoop_istd_schemas_destroy((knoop_istd_schemas_t **)&b->schemas);
    knoop_ledger_destroy((knoop_ledger_t **)&b->ledger);
}

/* ---- level-2 callbacks ------------------------------------------------------------------------------------ */

typedef struct seen_ctx {
    knoop_broker_t *b;
    const Knoop__Envelope *env;
} seen_ctx_t;

/* TR056: an Identificatie used before by this sender for this message type. The very same message again is a
 * retry, not a reuse: that one is left to deduplication (Accepted with the original seq). */
static bool seen_before(void *ctx, const char *sender, const char *message_type, const char *identificatie)
{
    seen_ctx_t *c = ctx;
    sqlite3_stmt *st;
    sqlite3 *db = knoop_journal_reader(c->b->journal);
    if (sqlite3_prepare_v2(db,
                           "SELECT envelope FROM messages WHERE sender = ? AND message_type = ? AND "
                           "identificatie = ? AND identificatie <> ''",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, sender, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, message_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, identificatie, -1, SQLITE_STATIC);
    bool reused = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        Knoop__Envelope *old =
            knoop__envelope__unpack(NULL, (size_t)sqlite3_column_bytes(st, 0), sqlite3_column_blob(st, 0));
        reused = !old || old->payload.len != c->env->payload.len ||
                 memcmp(old->payload.data, c->env->payload.data, old->payload.len) != 0;
        if (old)
            knoop__envelope__free_unpacked(old, NULL);
    }
    sqlite3_finalize(st);
    return reused;
}

static bool party_known(void *ctx, const char *code)
{
    return knoop_party_known(ctx, code);
}

/* ---- rows written with the message ------------------------------------------------------------------------- */

typedef struct ledger_rows {
    size_t n;
    struct {
        unsigned char client[32];
        char provider[16];
        unsigned char *blob; /* owned */
        size_t len;
    } row[];
} ledger_rows_t;

static int apply_ledger_rows(knoop_jtx_t *tx, void *arg, uint64_t seq)
{
    (void)seq;
    ledger_rows_t *r = arg;
    for (size_t i = 0; i < r->n; i++) {
        sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO ledger(client_ref, provider, assignments, updated_us) "
                                              "VALUES(?,?,?,?) ON CONFLICT(client_ref, provider) DO UPDATE SET "
                                              "assignments = excluded.assignments, updated_us = excluded.updated_us");
        if (!st)
            return -EIO;
        sqlite3_bind_blob(st, 1, r->row[i].client, 32, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->row[i].provider, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, r->row[i].blob, (int)r->row[i].len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)knoop_now_us());
        if (sqlite3_step(st) != SQLITE_DONE)
            return -EIO;
    }
    return 0;
}

/* After a 301 is applied to the in-memory ledger: the rows of every client it named, to persist with it.
 * The blobs are copied into one allocation so the op can free it with free(). */
static ledger_rows_t *ledger_rows_for(knoop_broker_t *b, const knoop_istd_msg_t *m)
{
    const char *provider = knoop_istd_msg_receiver(m);
    ledger_rows_t *r = calloc(1, sizeof *r + m->n_clients * sizeof r->row[0]);
    if (!r)
        return NULL;
    for (size_t i = 0; i < m->n_clients; i++) {
        size_t klen;
        key_of_bsn(b, m->clients[i].bsn, r->row[r->n].client, 32, &klen);
        snprintf(r->row[r->n].provider, sizeof r->row[r->n].provider, "%s", provider);
        if (knoop_ledger_export(b->ledger, r->row[r->n].client, 32, provider, &r->row[r->n].blob, &r->row[r->n].len) ==
            0)
            r->n++;
    }
    return r;
}

static void ledger_rows_free(ledger_rows_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->row[i].blob);
}

/* The blobs are separate allocations: copy them into the tail of one block so free(arg) releases everything. */
static void *ledger_rows_pack(ledger_rows_t *r)
{
    size_t total = sizeof *r + r->n * sizeof r->row[0];
    for (size_t i = 0; i < r->n; i++)
        total += r->row[i].len;
    ledger_rows_t *p = malloc(total);
    if (!p)
        return NULL;
    memcpy(p, r, sizeof *r + r->n * sizeof r->row[0]);
    unsigned char *tail = (unsigned char *)p + sizeof *r + r->n * sizeof r->row[0];
    for (size_t i = 0; i < r->n; i++) {
        memcpy(tail, r->row[i].blob, r->row[i].len);
        p->row[i].blob = tail;
        tail += r->row[i].len;
    }
    return p;
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

static knoop_msg_op_t *build_retour(knoop_broker_t *b, const knoop_istd_msg_t *heen, const knoop_istd_errors_t *errs,
                                    const char *publisher, const char *today, char *summary, size_t summary_len)
{
    const knoop_istd_type_t *answer = knoop_istd_type_find(heen->type->standard, heen->type->answer);
    if (!answer)
        return NULL;
    char id[13];
    retour_id(b, id);
    knoop_istd_retour_opts_t ro = {.identificatie = id, .dagtekening = today, .xslt_versie = NULL};
    xmlDoc *doc = NULL;
    if (knoop_istd_retour((const knoop_istd_schemas_t *)b->schemas, heen, errs, &ro, &doc) != 0 || !doc)
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
    knoop_route_result_t route;
    memset(&route, 0, sizeof route);
    char inbox[64];
    snprintf(inbox, sizeof inbox, "inbox.%s", publisher);
    knoop_stream_t *s = knoop_stream_get(b, inbox, true);
    if (s)
        route.streams[route.nstreams++] = s;
    snprintf(route.explain, sizeof route.explain, "retour %s by knoopd for %s %s: %s", answer->name, heen->type->name,
             knoop_istd_msg_identificatie(heen), summary);
    knoop_msg_op_t *m = knoop_message_build(b, NULL, 0, &env, NULL, &route, NULL, NULL);
    free(xml);
    (void)summary_len;
    return m;
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

/* ---- the way in -------------------------------------------------------------------------------------------- */

static void reject_level1(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, const knoop_istd_errors_t *errs, int rc)
{
    const knoop_istd_error_t *first = errs->n ? &errs->v[0] : NULL;
    bool parse = first && first->level == KNOOP_ISTD_LEVEL_PARSE;
    char where[32] = "";
    if (first && first->line)
        snprintf(where, sizeof where, " at line %d", first->line);
    knoop_send_rejected(b, p, ref, KNOOP__ERROR_CODE__INVALID_FIELD,
                        "%s%s: %s (%zu error%s in all; a message "
                        "that fails level 1 gets no retour)",
                        parse ? "XML not accepted" : "XSD validation failed", where,
                        first ? first->message : strerror(-rc), errs->n, errs->n == 1 ? "" : "s");
}

/* An envelope field the sender left empty takes the XML's value; one it filled must agree with it. */
static bool same_or_fill(char **field, const char *value)
{
    if (!*field || !(*field)[0]) {
        *field = (char *)value;
        return true;
    }
    return strcmp(*field, value) == 0;
}

void knoop_xml_publish(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, Knoop__Envelope *env)
{
    if (!b->schemas) {
        knoop_send_rejected(b, p, ref, KNOOP__ERROR_CODE__INTERNAL, "this knoopd has no iWmo/iJw schemas loaded");
        return;
    }
    knoop_istd_errors_t errs = {0};
    knoop_istd_limits_t lim = {.max_bytes = b->config->settings.max_message_bytes, .max_depth = XML_MAX_DEPTH};
    knoop_istd_msg_t *msg = NULL;
    int rc = knoop_istd_decode((const knoop_istd_schemas_t *)b->schemas, (const char *)env->payload.data,
                               env->payload.len, &lim, &msg, &errs);
    if (rc != 0) {
        reject_level1(b, p, ref, &errs, rc);
        knoop_istd_errors_clear(&errs);
        return;
    }
    const knoop_istd_type_t *t = msg->type;
    const char *xml_sender = knoop_istd_msg_sender(msg), *xml_receiver = knoop_istd_msg_receiver(msg);
    /* The envelope may leave these to the XML; what it does say must agree with it. */
    char *orig_type = env->message_type, *orig_id = env->identificatie, *orig_receiver = env->receiver;
    char *orig_sender = env->sender;
    Knoop__Kind orig_kind = env->kind;
    char why[256] = "";
    if (!same_or_fill(&env->sender, xml_sender))
        snprintf(why, sizeof why, "envelope.sender %.16s differs from the XML's sender %s", orig_sender, xml_sender);
    else if (!same_or_fill(&env->receiver, xml_receiver))
        snprintf(why, sizeof why, "envelope.receiver %.16s differs from the XML's receiver %s", orig_receiver,
                 xml_receiver);
    else if (!same_or_fill(&env->message_type, t->name))
        snprintf(why, sizeof why, "envelope.message_type %.32s differs from the XML's message %s", orig_type, t->name);
    else if (!same_or_fill(&env->identificatie, knoop_istd_msg_identificatie(msg)))
        snprintf(why, sizeof why, "envelope.identificatie differs from the XML's Identificatie");
    if (!why[0])
        env->kind = (Knoop__Kind)t->kind;
    Knoop__ErrorCode code = KNOOP__ERROR_CODE__OK;
    if (why[0])
        code = KNOOP__ERROR_CODE__INVALID_FIELD;
    else
        code = knoop_envelope_check(b, p->party, env, why, sizeof why);
    if (code != KNOOP__ERROR_CODE__OK) {
        knoop_send_rejected(b, p, ref, code, "%s", why);
        goto out;
    }

    /* Level 2 and the ledger. */
    char today[KNOOP_DATE_STR_SIZE];
    knoop_date_t d;
    knoop_date_from_unix_amsterdam((int64_t)(knoop_now_us() / 1000000), &d);
    knoop_date_format(d, today, sizeof today);
    seen_ctx_t sc = {b, env};
    knoop_istd_check_opts_t co = {
        .today = today, .seen = seen_before, .seen_ctx = &sc, .known = party_known, .known_ctx = b};
    knoop_istd_check(msg, &co, &errs);
    int number = t->number;
    if (number == 305 || number == 307 || number == 317 || number == 323)
        knoop_ledger_check((knoop_ledger_t *)b->ledger, msg, key_of_bsn, b, &errs);
    bool accepted = knoop_istd_errors_count(&errs, KNOOP_ISTD_LEVEL_RULE) == 0;
    char summary[200];
    summarise(&errs, summary, sizeof summary);

    /* Route an accepted message; a refused one is journaled for the record but goes nowhere. */
    knoop_route_result_t route;
    char reason[400];
    uint8_t client_ref[32];
    bool has_client = msg->n_clients > 0;
    if (has_client)
        key_of_bsn(b, msg->clients[0].bsn, client_ref, sizeof client_ref, &(size_t){0});
    if (accepted) {
        code = knoop_route_message(b, env, has_client ? client_ref : NULL, &route, reason, sizeof reason);
        if (code != KNOOP__ERROR_CODE__OK) {
            knoop_send_rejected(b, p, ref, code, "%s", reason);
            goto out;
        }
    } else {
        memset(&route, 0, sizeof route);
        snprintf(route.explain, sizeof route.explain, "refused at level 2 (%s): not delivered; retour to %s", summary,
                 p->party);
    }
    /* White label: the financier sees the cooperative in the XML too, not only in the envelope. */
    char *rewritten = NULL;
    size_t rewritten_len = 0;
    ProtobufCBinaryData orig_payload = env->payload;
    if (accepted && route.sender_as_seen[0]) {
        xmlDoc *wl = NULL;
        if (knoop_istd_whitelabel(msg->doc, xml_sender, route.sender_as_seen, &wl, NULL) == 0 && wl &&
            knoop_istd_encode_doc(wl, &rewritten, &rewritten_len) == 0) {
            env->payload.data = (uint8_t *)rewritten;
            env->payload.len = rewritten_len;
        }
        if (wl)
            xmlFreeDoc(wl);
    }
    knoop_msg_op_t *m = knoop_message_build(b, p, ref, env, has_client ? client_ref : NULL, &route, NULL, NULL);
    env->payload = orig_payload;
    free(rewritten);
    if (!m) {
        knoop_send_rejected(b, p, ref, KNOOP__ERROR_CODE__INTERNAL, "out of memory; publish again");
        goto out;
    }
    /* A refused message is journaled for the record but does not take its Identificatie: the dedup index would
     * otherwise answer a reuse (TR056, the very refusal being reported) as a duplicate of the first message.
     * The envelope keeps the Identificatie; only the dedup column is empty. */
    if (!accepted)
        m->identificatie[0] = '\0';
    /* Every heen message gets its technical retour from knoopd. A 323 is different: its answer, the 325, is the
     * financier's decision on the claim; knoopd answers it only when it refuses the claim itself (ledger, rules). */
    if (t->answer && (number != 323 || !accepted))
        m->companion = build_retour(b, msg, &errs, p->party, today, summary, sizeof summary);
    if (accepted && number == 301 && knoop_ledger_apply((knoop_ledger_t *)b->ledger, msg, key_of_bsn, b) == 0) {
        ledger_rows_t *rows = ledger_rows_for(b, msg);
        if (rows) {
            m->extras[0].arg = ledger_rows_pack(rows);
            m->extras[0].apply = m->extras[0].arg ? apply_ledger_rows : NULL;
            ledger_rows_free(rows);
            free(rows);
        }
    }
    if (accepted)
        knoop_expectations_on_message(b, m, msg, m->companion != NULL);
    knoop_log_info("xml.ingest", "party=%s type=%s accepted=%d codes=\"%s\"", p->party, t->name, accepted, summary);
    knoop_message_queue(b, m);
out:
    env->sender = orig_sender;
    env->receiver = orig_receiver;
    env->message_type = orig_type;
    env->identificatie = orig_id;
    env->kind = orig_kind;
    knoop_istd_msg_destroy(&msg);
    knoop_istd_errors_clear(&errs);
}
