/* control_audit.c — `audit client BSN`: every access to one client's messages, newest first — each delivery of a
 * message about the client (who received which message, when: deliver/read_audit.c) and each operator command that
 * read about the client — from the two audit tables along their client indexes (store/audit_reads.h). The BSN is
 * turned into the client reference at once and never stored or shown; the lookup itself is audited. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "base/codes.h"
#include "base/pseudonym.h"
#include "control/control.h"
#include "control/control_args.h"
#include "control/control_table.h"
#include "control/control_time.h"
#include "core/broker.h"
#include "store/audit_reads.h"

#define AUDIT_LIST_DEFAULT 1000
#define AUDIT_LIST_MAX     10000

static void add_access(void *ctx, const knoop_store_access_t *a)
{
    char at[32], what[320];
    knoop_time_format_us(a->at_us, at, sizeof at);
    if (a->seq)
        snprintf(what, sizeof what, "stream=%s subscriber=%s seq=%" PRIu64 " attempt=%u", a->stream, a->subscriber,
                 a->seq, a->attempt);
    else
        snprintf(what, sizeof what, "%s", a->detail);
    knoop_table_add(ctx, json_pack("[s,s,s,s,I,s]", at, a->source, a->who, a->action, (json_int_t)a->seq, what));
}

/* audit client BSN [--limit N] */
json_t *knoop_cmd_audit_client(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    const char *bsn, *limit_text;
    int64_t limit = AUDIT_LIST_DEFAULT;
    const knoop_ctl_opt_t opts[] = {{"--limit", &limit_text, NULL}, {NULL, NULL, NULL}};
    if (knoop_ctl_args(argc, argv, opts, &bsn, 1, error, errlen) != 0 ||
        (limit_text && knoop_ctl_number("--limit", limit_text, 1, AUDIT_LIST_MAX, &limit, error, errlen) != 0))
        return NULL;
    if (!bsn)
        return snprintf(error, errlen, "usage: audit client BSN [--limit N]"), NULL;
    if (!knoop_bsn_is_valid(bsn))
        return snprintf(error, errlen, "not a valid BSN (9 digits passing the 11-test)"), NULL;
    uint8_t ref[KNOOP_CLIENT_REF_BYTES];
    knoop_client_ref_of_bsn(b->pseudonym_key, bsn, strlen(bsn), ref);
    knoop_control_note(b, ref, 0, "limit=%" PRId64, limit);
    json_t *t = knoop_table_new((const char *[]){"at", "source", "who", "action", "seq", "detail", NULL});
    if (knoop_store_audit_client(b->journal, ref, limit, add_access, t, error, errlen) != 0) {
        json_decref(t);
        return NULL;
    }
    return t;
}
