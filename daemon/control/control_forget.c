/* control_forget.c — forgetting a client. The router's route state and the ledger forget at once, on the loop; one
 * journal op then deletes the client's rows (ledger, route_state, expectations, its last-seen record) and, for an
 * operator, writes the audit row in the same transaction. Memory first and rows after keeps the two alike whatever is
 * in flight: a message routed before the forget has its rows deleted with the rest, one routed after starts afresh in
 * memory and in the journal. A failed commit puts memory back. The messages about the client stay, sealed, until
 * their retention. The forget job does the same for each client whose last message is older than every retention. */
#include "control/control_forget.h"
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/codes.h"
#include "base/log.h"
#include "base/pseudonym.h"
#include "control/audit.h"
#include "control/control.h"
#include "control/control_args.h"
#include "core/broker.h"
#include "base/clock.h"
#include "ingest/client_seen.h"
#include "legacy/xml_ledger.h"
#include "route/route_state.h"
#include "store/clients.h"

#define JOB_BATCH 64 /* clients the forget job forgets per run */

typedef struct forget_op {
    knoop_jop_t op;
    uint8_t ref[KNOOP_CLIENT_REF_BYTES];
    bool by_operator; /* `forget client`: audited */
    char actor[96];
    knoop_store_client_rows_t gone; /* what the commit deleted */
    knoop_route_row_t *routes;      /* owned: the route state memory forgot, to put back on failure */
    size_t nroutes, routes_cap;
    knoop_xml_ledger_undo_t *ledger; /* owned: the ledger sets memory forgot, likewise */
    size_t ledger_sets;
} forget_op_t;

static void forget_free(forget_op_t *f)
{
    sodium_memzero(f->ref, sizeof f->ref);
    free(f->routes);
    knoop_xml_ledger_undo_free(f->ledger);
    free(f);
}

static int apply_forget(knoop_jtx_t *tx, knoop_jop_t *op)
{
    forget_op_t *f = (forget_op_t *)op;
    int rc = knoop_store_client_forget(tx, f->ref, sizeof f->ref, &f->gone);
    if (rc == 0 && f->by_operator) {
        /* Counts only: the audit row must not name the client it was asked to forget. */
        char detail[160];
        snprintf(detail, sizeof detail, "ledger=%" PRIu64 " route_state=%" PRIu64 " expectations=%" PRIu64,
                 f->gone.ledger, f->gone.route_state, f->gone.expectations);
        rc = knoop_audit_apply(tx, f->actor, "forget client", detail);
    }
    return rc;
}

static void done_forget(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    forget_op_t *f = (forget_op_t *)op;
    b->forget_in_flight--;
    const char *by = f->by_operator ? "operator" : "retention";
    if (status != 0) {
        for (size_t i = 0; b->route_state && i < f->nroutes; i++)
            knoop_route_state_import(b->route_state, &f->routes[i]);
        knoop_xml_ledger_undo(b, f->ledger); /* frees it */
        f->ledger = NULL;
        knoop_log_error("client.forget_failed", "by=%s status=%d reason=\"%s\" memory=restored", by, status,
                        strerror(-status));
    } else {
        knoop_log_info("client.forgotten", "by=%s ledger=%" PRIu64 " route_state=%" PRIu64 " expectations=%" PRIu64, by,
                       f->gone.ledger, f->gone.route_state, f->gone.expectations);
    }
    forget_free(f);
}

static int keep_route(const knoop_route_row_t *row, void *arg)
{
    forget_op_t *f = arg;
    if (f->nroutes == f->routes_cap) {
        size_t cap = f->routes_cap ? f->routes_cap * 2 : 4;
        knoop_route_row_t *more = realloc(f->routes, cap * sizeof *more);
        if (!more)
            return -ENOMEM;
        f->routes = more;
        f->routes_cap = cap;
    }
    f->routes[f->nroutes++] = *row;
    return 0;
}

/* Forgets ref in memory and queues the op that deletes its rows. Returns the op (owned by the journal now) or NULL
 * with error set, memory unchanged. */
static forget_op_t *forget(knoop_broker_t *b, const uint8_t ref[KNOOP_CLIENT_REF_BYTES], bool by_operator, char *error,
                           size_t errlen)
{
    forget_op_t *f = calloc(1, sizeof *f);
    if (!f)
        return snprintf(error, errlen, "out of memory"), NULL;
    f->op.apply = apply_forget;
    f->op.done = done_forget;
    memcpy(f->ref, ref, sizeof f->ref);
    f->by_operator = by_operator;
    snprintf(f->actor, sizeof f->actor, "%s", b->control_actor[0] ? b->control_actor : "control");
    int rc = b->route_state ? knoop_route_state_forget(b->route_state, ref, KNOOP_CLIENT_REF_BYTES, keep_route, f) : 0;
    if (rc > 0 && f->nroutes < (size_t)rc)
        rc = -ENOMEM; /* a row could not be kept for the undo: put back the ones that were, and refuse */
    if (rc >= 0)
        rc = knoop_xml_ledger_forget(b, ref, &f->ledger_sets, &f->ledger);
    if (rc < 0) {
        for (size_t i = 0; b->route_state && i < f->nroutes; i++)
            knoop_route_state_import(b->route_state, &f->routes[i]);
        snprintf(error, errlen, "the client could not be forgotten: %s", strerror(-rc));
        forget_free(f);
        return NULL;
    }
    knoop_client_seen_forget(b, ref); /* a message after the forget records the client anew */
    b->forget_in_flight++;
    knoop_journal_submit(b->journal, &f->op);
    return f;
}

/* forget client BSN */
json_t *knoop_cmd_forget_client(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    const char *bsn = NULL;
    const knoop_ctl_opt_t opts[] = {{NULL, NULL, NULL}};
    if (knoop_ctl_args(argc, argv, opts, &bsn, 1, error, errlen) != 0)
        return NULL;
    if (!bsn)
        return snprintf(error, errlen, "usage: forget client BSN"), NULL;
    if (!knoop_bsn_is_valid(bsn)) /* the message never repeats it: it may be a mistyped BSN */
        return snprintf(error, errlen, "not a valid BSN (9 digits passing the 11-test)"), NULL;
    uint8_t ref[KNOOP_CLIENT_REF_BYTES];
    knoop_client_ref_of_bsn(b->pseudonym_key, bsn, strlen(bsn), ref);
    knoop_store_client_rows_t rows;
    int rc = knoop_store_client_count(b->journal, ref, sizeof ref, &rows);
    forget_op_t *f = rc == 0 ? forget(b, ref, true, error, errlen) : NULL;
    sodium_memzero(ref, sizeof ref);
    if (rc != 0)
        return snprintf(error, errlen, "reading the journal: %s", strerror(-rc)), NULL;
    if (!f)
        return NULL;
    /* The rows as the journal holds them now; the op deletes them (and any a message still in flight adds) in the
     * next commit, with the audit row. */
    return json_pack("{s:I, s:I, s:I, s:{s:I, s:I}, s:s}", "ledger", (json_int_t)rows.ledger, "route_state",
                     (json_int_t)rows.route_state, "expectations", (json_int_t)rows.expectations, "memory",
                     "route_state", (json_int_t)f->nroutes, "ledger", (json_int_t)f->ledger_sets, "note",
                     "the rows go in the next commit, audited; messages about the client stay, sealed, until their "
                     "retention");
}

void knoop_forget_tick(knoop_broker_t *b)
{
    if (b->forget_in_flight || b->stopping)
        return;
    /* Unseen for longer than every retention, and by the record's granularity more: its last message is gone. */
    const knoop_settings_t *s = &b->config->settings;
    int64_t before =
        (int64_t)knoop_now_us() - knoop_client_seen_longest_retention_us(s) - knoop_client_seen_granularity_us(s);
    uint8_t refs[JOB_BATCH][KNOOP_CLIENT_REF_BYTES];
    int n = knoop_store_clients_unseen(b->journal, before, refs, JOB_BATCH);
    if (n < 0)
        knoop_log_error("client.forget_job", "status=%d reason=\"%s\"", n, strerror(-n));
    for (int i = 0; i < n; i++) {
        char error[160];
        if (!forget(b, refs[i], false, error, sizeof error))
            knoop_log_error("client.forget_failed", "by=retention reason=\"%s\"", error);
    }
    sodium_memzero(refs, sizeof refs);
}
