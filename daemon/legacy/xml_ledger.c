/* xml_ledger.c — the assignment ledger in the daemon. The ledger lives in memory (adapters/istd/ledger.c), loaded
 * once at start-up; a 301 (its assignments) or an accepted 323 (its Prestaties, for the rules that look back on
 * them) changes it on the loop thread and the changed sets go into that message's own transaction as an op extra
 * (store/ledger.c holds the SQL; a set is one blob, so the declared Prestaties travel in it). Because memory changes before the commit, the change keeps what it replaced:
 * a 301 that ends up not stored is taken back, so memory follows the journal. */
#include "legacy/xml_ledger.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/pseudonym.h"
#include "istd/ledger.h"
#include "store/ledger.h"

#define CLIENT_KEY 32

int knoop_xml_key_of_bsn(void *ctx, const char *bsn, unsigned char *key, size_t cap, size_t *len)
{
    const knoop_broker_t *b = ctx;
    if (cap < CLIENT_KEY)
        return -ENOSPC;
    knoop_client_ref_of_bsn(b->pseudonym_key, bsn, strlen(bsn), key);
    *len = CLIENT_KEY;
    return 0;
}

static int import_row(void *arg, const uint8_t *client, size_t client_len, const char *provider,
                      const uint8_t *assignments, size_t len)
{
    knoop_broker_t *b = arg;
    knoop_ledger_import((knoop_ledger_t *)b->ledger, client, client_len, provider, assignments, len);
    return 0; /* a row that does not import (torn, foreign) is skipped, as before */
}

int knoop_xml_ledger_open(knoop_broker_t *b, size_t *sets, char *errbuf, size_t errlen)
{
    int rc = knoop_ledger_new((knoop_ledger_t **)&b->ledger);
    if (rc != 0) {
        snprintf(errbuf, errlen, "ledger: %s", strerror(-rc));
        return rc;
    }
    if ((rc = knoop_store_ledger_each(b->journal, import_row, b, errbuf, errlen)) != 0)
        return rc;
    *sets = knoop_ledger_count((const knoop_ledger_t *)b->ledger);
    return 0;
}

/* ---- a 301's change ---------------------------------------------------------------------------------------- */

/* The rows to persist: one block (header, rows, then the blobs) so the op frees it with free(). */
typedef struct ledger_rows {
    size_t n;
    struct {
        unsigned char client[CLIENT_KEY];
        char provider[16];
        const unsigned char *blob; /* into the block's tail */
        size_t len;
    } row[];
} ledger_rows_t;

struct knoop_xml_ledger_undo {
    size_t n;
    struct {
        unsigned char client[CLIENT_KEY];
        char provider[16];
        unsigned char *before, *after; /* owned: the set's export before and after the 301 */
        size_t before_len, after_len;
    } row[];
};

void knoop_xml_ledger_undo_free(knoop_xml_ledger_undo_t *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++) {
        free(u->row[i].before);
        free(u->row[i].after);
    }
    free(u);
}

static ledger_rows_t *pack_rows(const knoop_xml_ledger_undo_t *u)
{
    size_t total = sizeof(ledger_rows_t) + u->n * sizeof(((ledger_rows_t *)0)->row[0]);
    size_t head = total;
    for (size_t i = 0; i < u->n; i++)
        total += u->row[i].after_len;
    ledger_rows_t *r = malloc(total);
    if (!r)
        return NULL;
    r->n = u->n;
    unsigned char *tail = (unsigned char *)r + head;
    for (size_t i = 0; i < u->n; i++) {
        memcpy(r->row[i].client, u->row[i].client, CLIENT_KEY);
        memcpy(r->row[i].provider, u->row[i].provider, sizeof r->row[i].provider);
        memcpy(tail, u->row[i].after, u->row[i].after_len);
        r->row[i].blob = tail;
        r->row[i].len = u->row[i].after_len;
        tail += u->row[i].after_len;
    }
    return r;
}

int knoop_xml_ledger_apply(knoop_broker_t *b, const knoop_istd_msg_t *m, void **rows_out,
                           knoop_xml_ledger_undo_t **undo_out)
{
    knoop_ledger_t *l = (knoop_ledger_t *)b->ledger;
    bool declaration = m->type->number == 323; /* the provider sends a 323 and receives a 301 */
    const char *provider = declaration ? knoop_istd_msg_sender(m) : knoop_istd_msg_receiver(m);
    knoop_xml_ledger_undo_t *u = calloc(1, sizeof *u + m->n_clients * sizeof u->row[0]);
    if (!u)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < m->n_clients && rc == 0; i++) {
        size_t klen;
        knoop_xml_key_of_bsn(b, m->clients[i].bsn, u->row[i].client, CLIENT_KEY, &klen);
        snprintf(u->row[i].provider, sizeof u->row[i].provider, "%s", provider);
        rc = knoop_ledger_export(l, u->row[i].client, CLIENT_KEY, provider, &u->row[i].before, &u->row[i].before_len);
        u->n = i + 1;
    }
    if (rc == 0)
        rc = declaration ? knoop_ledger_declare(l, m, knoop_xml_key_of_bsn, b)
                         : knoop_ledger_apply(l, m, knoop_xml_key_of_bsn, b);
    for (size_t i = 0; i < u->n && rc == 0; i++)
        rc = knoop_ledger_export(l, u->row[i].client, CLIENT_KEY, provider, &u->row[i].after, &u->row[i].after_len);
    ledger_rows_t *rows = rc == 0 ? pack_rows(u) : NULL;
    if (!rows) {
        knoop_xml_ledger_undo(b, u); /* whatever was applied goes back */
        return rc ? rc : -ENOMEM;
    }
    *rows_out = rows;
    *undo_out = u;
    return 0;
}

int knoop_xml_ledger_persist(knoop_jtx_t *tx, void *arg, uint64_t seq)
{
    (void)seq;
    ledger_rows_t *r = arg;
    int64_t now = (int64_t)knoop_now_us();
    for (size_t i = 0; i < r->n; i++) {
        int rc = knoop_store_ledger_put(tx, r->row[i].client, CLIENT_KEY, r->row[i].provider, r->row[i].blob,
                                        r->row[i].len, now);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void knoop_xml_ledger_undo(knoop_broker_t *b, knoop_xml_ledger_undo_t *u)
{
    if (!u)
        return;
    knoop_ledger_t *l = (knoop_ledger_t *)b->ledger;
    for (size_t k = u->n; k-- > 0;) { /* newest first: a client named twice ends as it was before */
        if (!u->row[k].before)
            continue;
        unsigned char *now = NULL;
        size_t now_len = 0;
        bool unchanged =
            !u->row[k].after ||
            (knoop_ledger_export(l, u->row[k].client, CLIENT_KEY, u->row[k].provider, &now, &now_len) == 0 &&
             now_len == u->row[k].after_len && memcmp(now, u->row[k].after, now_len) == 0);
        free(now);
        if (unchanged) /* an empty "before" set imports as no set at all */
            knoop_ledger_import(l, u->row[k].client, CLIENT_KEY, u->row[k].provider, u->row[k].before,
                                u->row[k].before_len);
    }
    knoop_xml_ledger_undo_free(u);
}

/* ---- forgetting a client ----------------------------------------------------------------------------------- */

typedef struct forget_walk {
    char (*providers)[16];
    size_t n, cap;
} forget_walk_t;

static int note_provider(void *arg, const char *provider)
{
    forget_walk_t *w = arg;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        char(*more)[16] = realloc(w->providers, cap * sizeof *more);
        if (!more)
            return -ENOMEM;
        w->providers = more;
        w->cap = cap;
    }
    snprintf(w->providers[w->n++], sizeof w->providers[0], "%s", provider);
    return 0;
}

int knoop_xml_ledger_forget(knoop_broker_t *b, const uint8_t client[32], size_t *sets, knoop_xml_ledger_undo_t **undo)
{
    knoop_ledger_t *l = (knoop_ledger_t *)b->ledger;
    *sets = 0;
    *undo = NULL;
    if (!l)
        return 0;
    forget_walk_t w = {0};
    int rc = knoop_ledger_providers(l, client, CLIENT_KEY, note_provider, &w);
    knoop_xml_ledger_undo_t *u = rc == 0 ? calloc(1, sizeof *u + w.n * sizeof u->row[0]) : NULL;
    if (!u) {
        free(w.providers);
        return rc ? rc : -ENOMEM;
    }
    /* Each set is kept (before) and replaced by none (after: the empty set's export), so the undo of a failed forget
     * puts back exactly the sets no later 301 has changed since. */
    for (size_t i = 0; i < w.n && rc == 0; i++) {
        memcpy(u->row[i].client, client, CLIENT_KEY);
        snprintf(u->row[i].provider, sizeof u->row[i].provider, "%s", w.providers[i]);
        u->n = i + 1;
        rc = knoop_ledger_export(l, client, CLIENT_KEY, w.providers[i], &u->row[i].before, &u->row[i].before_len);
        if (rc == 0)
            rc = knoop_ledger_replace(l, client, CLIENT_KEY, w.providers[i], NULL, 0);
        if (rc == 0)
            rc = knoop_ledger_export(l, client, CLIENT_KEY, w.providers[i], &u->row[i].after, &u->row[i].after_len);
    }
    free(w.providers);
    if (rc != 0) {
        knoop_xml_ledger_undo(b, u);
        return rc;
    }
    *sets = u->n;
    *undo = u;
    return 0;
}
