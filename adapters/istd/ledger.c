/* ledger.c — the assignment ledger: a hash table from (client key, provider AGB) to the current set of
 * assignments, replaced by every 301 (OP087: the message carries the full state), checked for 305/307/323, and the
 * Prestaties declared so far (kept here and persisted with the set; their rules are in ledger_history.c). */
#include "istd/ledger.h"
#include "istd/ledger_history.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    unsigned char *key; /* owned: client bytes, 0x00, provider; NULL = empty */
    size_t key_len;
    knoop_ledger_assignment_t *a; /* owned */
    size_t n;
    knoop_ledger_declared_t *d; /* owned: declared Prestaties (a 301 replaces a, never d) */
    size_t nd;
    bool tomb; /* deleted: keeps probe chains intact */
} slot_t;

struct knoop_ledger {
    slot_t *v; /* owned */
    size_t cap, used, live;
    /* Every provider that has had a set, so the sets of one client are found by one look-up per provider instead of a
     * walk over the table (TR332 on each 301 line, forgetting a client). Providers are the network's, a few dozen. */
    char **providers; /* owned, each owned */
    size_t n_providers, cap_providers;
};

/* ---- the checks: which mismatch of which line gets which retour code (WJ001) ---------------------- */
typedef enum {
    M_UNKNOWN,
    M_DELETED,
    M_CATEGORIE,
    M_CODE,
    M_BEGIN,
    M_END,
    M_MONTH_BEGIN,
    M_MONTH_END,
    M_INCOMPLETE,
    M_TARIFF,
    M_NOT_UNIQUE
} mismatch_t;

typedef struct check_row {
    int message;
    const char *element; /* the line's berichtklasse */
    mismatch_t what;
    const char *code;
    const char *rule; /* the TR the code belongs to */
    const char *text;
} check_row_t;

static const check_row_t checks[] = {
    {305, "StartProduct", M_UNKNOWN, "9019", "TR019", "no assignment with this ToewijzingNummer"},
    {305, "StartProduct", M_DELETED, "9019", "TR019", "the assignment was deleted (RedenWijziging 13)"},
    {305, "StartProduct", M_CATEGORIE, "9019", "TR019", "category differs from the assigned product"},
    {305, "StartProduct", M_CODE, "9019", "TR019", "product code differs from the assigned product"},
    {305, "StartProduct", M_BEGIN, "9019", "TR019", "Begindatum lies outside the assignment period"},
    {307, "StopProduct", M_UNKNOWN, "9019", "TR019", "no assignment with this ToewijzingNummer"},
    {307, "StopProduct", M_DELETED, "9019", "TR019", "the assignment was deleted (RedenWijziging 13)"},
    {307, "StopProduct", M_CATEGORIE, "9019", "TR019", "category differs from the assigned product"},
    {307, "StopProduct", M_CODE, "9019", "TR019", "product code differs from the assigned product"},
    {307, "StopProduct", M_BEGIN, "9019", "TR019", "Begindatum lies outside the assignment period"},
    {307, "StopProduct", M_END, "9019", "TR019", "Einddatum lies outside the assignment period"},
    {317, "OngewijzigdProduct", M_UNKNOWN, "9350", "TR350", "not related to a current assignment by ToewijzingNummer"},
    {317, "OngewijzigdProduct", M_DELETED, "9350", "TR350", "the assignment was deleted (RedenWijziging 13)"},
    {317, "TeWijzigenProduct", M_DELETED, "9351", "TR351", "the assignment was deleted (RedenWijziging 13)"},
    {317, "TeWijzigenProduct", M_UNKNOWN, "9351", "TR351", "not related to a current assignment by ToewijzingNummer"},
    {317, "Client", M_INCOMPLETE, "9349", "TR349",
     "a current assignment is in neither OngewijzigdProduct nor TeWijzigenProduct"},
    {323, "Prestatie", M_UNKNOWN, "9338", "TR338", "not related to an assigned product by ToewijzingNummer"},
    {323, "Prestatie", M_DELETED, "9384", "TR384", "declaration on an assignment deleted with RedenWijziging 13"},
    {323, "Prestatie", M_CATEGORIE, "9339", "TR339", "ProductCategorie differs from the ToegewezenProduct"},
    {323, "Prestatie", M_CODE, "9340", "TR340", "ProductCode differs from the ToegewezenProduct"},
    {323, "Prestatie", M_BEGIN, "9307", "TR307", "Begindatum of the prestatie lies outside the assignment period"},
    {323, "Prestatie", M_END, "9308", "TR308", "Einddatum of the prestatie lies outside the assignment period"},
    {323, "Prestatie", M_MONTH_BEGIN, "9387", "TR387",
     "ProductPeriode does not begin on the 1st of the month nor on the assignment's Ingangsdatum"},
    {323, "Prestatie", M_MONTH_END, "9388", "TR388",
     "ProductPeriode does not end on the last day of the month nor on the assignment's Einddatum"},
    /* The standard's text of TR418 is not at hand; 0611 is the LDT_RetourCode whose text says exactly this. */
    {323, "Prestatie", M_TARIFF, "0611", "TR418", "ProductTarief is not the tariff the contract sets for this product"},
    {301, "ToegewezenProduct", M_NOT_UNIQUE, "9332", "TR332",
     "this gemeente gave the ToewijzingNummer to this client at another provider in the same domain"},
};

static const check_row_t *check_for(int message, const char *element, mismatch_t what)
{
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (checks[i].message == message && checks[i].what == what && strcmp(checks[i].element, element) == 0)
            return &checks[i];
    return NULL;
}

/* ---- hash table --------------------------------------------------------------------------------- */
static uint64_t hash(const unsigned char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return h;
}

static int make_key(const unsigned char *client, size_t clen, const char *provider, unsigned char *out, size_t cap,
                    size_t *len)
{
    size_t plen = provider ? strlen(provider) : 0;
    if (!client || !clen || !plen || clen + 1 + plen > cap)
        return -EINVAL;
    memcpy(out, client, clen);
    out[clen] = 0;
    memcpy(out + clen + 1, provider, plen);
    *len = clen + 1 + plen;
    return 0;
}

static slot_t *lookup(const knoop_ledger_t *l, const unsigned char *k, size_t klen, bool for_insert)
{
    if (!l->cap)
        return NULL;
    size_t i = hash(k, klen) & (l->cap - 1);
    slot_t *first_tomb = NULL;
    for (size_t probes = 0; probes < l->cap; probes++, i = (i + 1) & (l->cap - 1)) {
        slot_t *s = &l->v[i];
        if (!s->key) {
            if (s->tomb) {
                if (!first_tomb)
                    first_tomb = s;
                continue;
            }
            return for_insert ? (first_tomb ? first_tomb : s) : NULL;
        }
        if (s->key_len == klen && memcmp(s->key, k, klen) == 0)
            return s;
    }
    return for_insert ? first_tomb : NULL;
}

static int note_provider(knoop_ledger_t *l, const char *provider)
{
    for (size_t i = 0; i < l->n_providers; i++)
        if (strcmp(l->providers[i], provider) == 0)
            return 0;
    if (l->n_providers == l->cap_providers) {
        size_t cap = l->cap_providers ? l->cap_providers * 2 : 16;
        char **p = realloc(l->providers, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        l->providers = p;
        l->cap_providers = cap;
    }
    if (!(l->providers[l->n_providers] = strdup(provider)))
        return -ENOMEM;
    l->n_providers++;
    return 0;
}

static int grow(knoop_ledger_t *l)
{
    size_t cap = l->cap ? l->cap * 2 : 64;
    slot_t *old = l->v;
    size_t old_cap = l->cap;
    l->v = calloc(cap, sizeof *l->v);
    if (!l->v) {
        l->v = old;
        return -ENOMEM;
    }
    l->cap = cap;
    l->used = l->live;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].key)
            continue;
        slot_t *s = lookup(l, old[i].key, old[i].key_len, true);
        *s = old[i];
    }
    free(old);
    return 0;
}

int knoop_ledger_new(knoop_ledger_t **out)
{
    if (!out)
        return -EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void knoop_ledger_destroy(knoop_ledger_t **p)
{
    if (!p || !*p)
        return;
    for (size_t i = 0; i < (*p)->cap; i++) {
        free((*p)->v[i].key);
        free((*p)->v[i].a);
        free((*p)->v[i].d);
    }
    free((*p)->v);
    for (size_t i = 0; i < (*p)->n_providers; i++)
        free((*p)->providers[i]);
    free((*p)->providers);
    free(*p);
    *p = NULL;
}

size_t knoop_ledger_count(const knoop_ledger_t *l)
{
    return l ? l->live : 0;
}

int knoop_ledger_replace(knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                         const knoop_ledger_assignment_t *a, size_t n)
{
    unsigned char k[KNOOP_LEDGER_KEY_MAX + 16];
    size_t klen;
    if (!l || (n && !a) || make_key(client, client_len, provider, k, sizeof k, &klen) < 0)
        return -EINVAL;
    slot_t *s = lookup(l, k, klen, false);
    if (!n && s && s->nd) { /* no assignments left, but the declared history stays (TR314 looks back on it) */
        free(s->a);
        s->a = NULL;
        s->n = 0;
        return 0;
    }
    if (!n) {
        if (s) {
            free(s->key);
            free(s->a);
            *s = (slot_t){.tomb = true};
            l->live--;
        }
        return 0;
    }
    knoop_ledger_assignment_t *copy = malloc(n * sizeof *copy);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, a, n * sizeof *copy);
    if (s) {
        free(s->a);
        s->a = copy;
        s->n = n;
        return 0;
    }
    if (((l->used + 1) * 10 >= l->cap * 7 && grow(l) < 0) || note_provider(l, provider) < 0) {
        free(copy);
        return -ENOMEM;
    }
    s = lookup(l, k, klen, true);
    unsigned char *key = malloc(klen);
    if (!key) {
        free(copy);
        return -ENOMEM;
    }
    memcpy(key, k, klen);
    if (!s->tomb)
        l->used++;
    *s = (slot_t){.key = key, .key_len = klen, .a = copy, .n = n};
    l->live++;
    return 0;
}

int knoop_ledger_get_declared(const knoop_ledger_t *l, const unsigned char *client, size_t client_len,
                              const char *provider, const knoop_ledger_declared_t **d, size_t *n)
{
    unsigned char k[KNOOP_LEDGER_KEY_MAX + 16];
    size_t klen;
    if (!l || !d || !n || make_key(client, client_len, provider, k, sizeof k, &klen) < 0)
        return -EINVAL;
    const slot_t *s = lookup(l, k, klen, false);
    *d = s ? s->d : NULL;
    *n = s ? s->nd : 0;
    return 0;
}

int knoop_ledger_set_declared(knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                              const knoop_ledger_declared_t *d, size_t n)
{
    unsigned char k[KNOOP_LEDGER_KEY_MAX + 16];
    size_t klen;
    if (!l || (n && !d) || make_key(client, client_len, provider, k, sizeof k, &klen) < 0)
        return -EINVAL;
    slot_t *s = lookup(l, k, klen, false);
    if (!s && n) { /* declarations before any assignment arrive: an empty set to hang them on */
        knoop_ledger_assignment_t none = {0};
        int rc = knoop_ledger_replace(l, client, client_len, provider, &none, 1);
        if (rc < 0)
            return rc;
        s = lookup(l, k, klen, false);
        free(s->a);
        s->a = NULL;
        s->n = 0;
    }
    if (!s)
        return 0;
    knoop_ledger_declared_t *copy = NULL;
    if (n && !(copy = malloc(n * sizeof *copy)))
        return -ENOMEM;
    if (n)
        memcpy(copy, d, n * sizeof *copy);
    free(s->d);
    s->d = copy;
    s->nd = n;
    if (!s->n && !s->nd)
        return knoop_ledger_replace(l, client, client_len, provider, NULL, 0);
    return 0;
}

int knoop_ledger_get(const knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                     const knoop_ledger_assignment_t **a, size_t *n)
{
    unsigned char k[KNOOP_LEDGER_KEY_MAX + 16];
    size_t klen;
    if (!l || !a || !n || make_key(client, client_len, provider, k, sizeof k, &klen) < 0)
        return -EINVAL;
    const slot_t *s = lookup(l, k, klen, false);
    *a = s ? s->a : NULL;
    *n = s ? s->n : 0;
    return 0;
}

/* ---- messages ----------------------------------------------------------------------------------- */
int knoop_ledger_client_key(knoop_ledger_key_fn key, void *ctx, const char *bsn, unsigned char *out, size_t *len)
{
    if (!key) {
        size_t n = strlen(bsn);
        if (!n || n > KNOOP_LEDGER_KEY_MAX)
            return -EINVAL;
        memcpy(out, bsn, n);
        *len = n;
        return 0;
    }
    return key(ctx, bsn, out, KNOOP_LEDGER_KEY_MAX, len);
}

static void from_line(knoop_ledger_assignment_t *a, const knoop_istd_line_t *l)
{
    memset(a, 0, sizeof *a);
    snprintf(a->toewijzing, sizeof a->toewijzing, "%s", l->toewijzing);
    snprintf(a->categorie, sizeof a->categorie, "%s", l->categorie);
    snprintf(a->code, sizeof a->code, "%s", l->code);
    snprintf(a->begin, sizeof a->begin, "%s", l->begin);
    snprintf(a->end, sizeof a->end, "%s", l->end);
    snprintf(a->eenheid, sizeof a->eenheid, "%s", l->eenheid);
    snprintf(a->frequentie, sizeof a->frequentie, "%s", l->frequentie);
    snprintf(a->reden_wijziging, sizeof a->reden_wijziging, "%s", l->reden_wijziging);
    a->volume = l->volume;
    a->has_budget = l->budget >= 0;
    a->budget = a->has_budget ? l->budget : 0;
}

int knoop_ledger_apply(knoop_ledger_t *l, const knoop_istd_msg_t *m, knoop_ledger_key_fn key, void *ctx)
{
    if (!l || !m || m->type->number != 301)
        return -EINVAL;
    knoop_ledger_assignment_t *set = malloc((m->n_lines ? m->n_lines : 1) * sizeof *set);
    if (!set)
        return -ENOMEM;
    int rc = 0;
    for (size_t c = 0; c < m->n_clients && rc == 0; c++) {
        size_t n = 0;
        for (size_t i = 0; i < m->n_lines; i++)
            if (m->lines[i].client == c) {
                from_line(&set[n], &m->lines[i]);
                snprintf(set[n].gemeente, sizeof set[n].gemeente, "%s", m->afzender);
                set[n++].domain = m->type->standard == KNOOP_ISTD_IWMO ? 'W' : 'J';
            }
        unsigned char k[KNOOP_LEDGER_KEY_MAX];
        size_t klen;
        rc = knoop_ledger_client_key(key, ctx, m->clients[c].bsn, k, &klen);
        if (rc == 0)
            rc = knoop_ledger_replace(l, k, klen, m->ontvanger, set, n);
    }
    free(set);
    return rc;
}

/* "YYYY-MM-DD" is the last day of its month (Gregorian). */
static bool is_month_end(const char *d)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(d) != 10)
        return false;
    int y = atoi(d), m = atoi(d + 5), day = atoi(d + 8);
    if (m < 1 || m > 12)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return day == days[m - 1] + (m == 2 && leap);
}

static bool is_deleted(const knoop_ledger_assignment_t *a)
{
    return strcmp(a->reden_wijziging, "13") == 0;
}

static bool within(const char *d, const knoop_ledger_assignment_t *a)
{
    return d[0] && strcmp(d, a->begin) >= 0 && (!a->end[0] || strcmp(d, a->end) <= 0);
}

/* The first row of the table the line fails, or NULL when it matches (or has no rows: NieuwProduct). */
static const check_row_t *first_mismatch(int msg, const knoop_istd_line_t *ln, const knoop_ledger_assignment_t *set,
                                         size_t n)
{
    const char *el = (const char *)ln->node->name;
    const knoop_ledger_assignment_t *a = NULL;
    for (size_t i = 0; i < n && !a; i++)
        if (strcmp(set[i].toewijzing, ln->toewijzing) == 0)
            a = &set[i];
    if (!a)
        return check_for(msg, el, M_UNKNOWN);
    if (is_deleted(a))
        return check_for(msg, el, M_DELETED);
    bool exact = msg != 323; /* 305/307 repeat the assigned product (IV075); 323 may refine an aspecific one */
    const check_row_t *r;
    if ((r = check_for(msg, el, M_CATEGORIE)) && (exact || a->categorie[0]) && strcmp(a->categorie, ln->categorie))
        return r;
    if ((r = check_for(msg, el, M_CODE)) && (exact || a->code[0]) && strcmp(a->code, ln->code))
        return r;
    if ((r = check_for(msg, el, M_BEGIN)) && !within(ln->begin, a))
        return r;
    if ((r = check_for(msg, el, M_END)) && ln->end[0] && !within(ln->end, a))
        return r;
    if ((r = check_for(msg, el, M_MONTH_BEGIN)) && strcmp(ln->begin + 8, "01") != 0 && strcmp(ln->begin, a->begin) != 0)
        return r;
    if ((r = check_for(msg, el, M_MONTH_END)) && !is_month_end(ln->end) && strcmp(ln->end, a->end) != 0)
        return r;
    return NULL;
}

static int lookup_set(const knoop_ledger_t *l, const knoop_istd_msg_t *m, size_t client, knoop_ledger_key_fn key,
                      void *ctx, const knoop_ledger_assignment_t **set, size_t *n)
{
    unsigned char k[KNOOP_LEDGER_KEY_MAX];
    size_t klen;
    *set = NULL;
    *n = 0;
    if (client >= m->n_clients)
        return -EINVAL;
    int rc = knoop_ledger_client_key(key, ctx, m->clients[client].bsn, k, &klen);
    return rc < 0 ? rc : knoop_ledger_get(l, k, klen, m->afzender, set, n);
}

/* 317 (TR349): every current assignment (no Einddatum or not ended at the Dagtekening) must be named. */
static int check_complete(const knoop_ledger_t *l, const knoop_istd_msg_t *m, knoop_ledger_key_fn key, void *ctx,
                          knoop_istd_errors_t *errs)
{
    const check_row_t *row = check_for(m->type->number, "Client", M_INCOMPLETE);
    int refused = 0;
    for (size_t c = 0; row && c < m->n_clients; c++) {
        const knoop_ledger_assignment_t *set;
        size_t n;
        lookup_set(l, m, c, key, ctx, &set, &n);
        for (size_t i = 0; i < n; i++) {
            if ((set[i].end[0] && strcmp(set[i].end, m->dagtekening) < 0) || is_deleted(&set[i]))
                continue;
            bool named = false;
            for (size_t j = 0; j < m->n_lines && !named; j++)
                named = m->lines[j].client == c && strcmp(m->lines[j].toewijzing, set[i].toewijzing) == 0;
            if (named)
                continue;
            knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_RULE, row->code, row->rule,
                                  (int)xmlGetLineNo(m->clients[c].node), m->clients[c].node, "ToewijzingNummer %s: %s",
                                  set[i].toewijzing, row->text);
            refused++;
            break;
        }
    }
    return refused;
}

/* TR418 on a 323 debit line that matched its assignment: a credit takes back its debit at the tariff it was declared
 * at, so it is not held to today's contract. */
static const check_row_t *tariff_mismatch(const knoop_istd_msg_t *m, const knoop_istd_line_t *ln,
                                          const knoop_ledger_check_opts_t *o, long long *contract)
{
    if (m->type->number != 323 || !o->tariff || ln->credit || ln->tarief < 0 ||
        o->tariff(o->tariff_ctx, m->afzender, m->ontvanger, ln->code, ln->eenheid, contract) != 1 ||
        *contract == ln->tarief)
        return NULL;
    return check_for(323, "Prestatie", M_TARIFF);
}

/* TR332 on a 301: the client's sets at other providers that hold a line's ToewijzingNummer from the same gemeente in
 * the same domain. Not across clients: the official JW323 declares ToewijzingNummer 10073 of gemeente 0384 for two
 * clients, so the 301s it rests on would fail a per-gemeente reading (docs/xml-adapter.md, Known gaps). The ledger is
 * keyed per client x provider: one look-up per provider the ledger knows. */
static int check_unique_numbers(const knoop_ledger_t *l, const knoop_istd_msg_t *m, knoop_ledger_key_fn key, void *ctx,
                                knoop_istd_errors_t *errs)
{
    const check_row_t *row = check_for(301, "ToegewezenProduct", M_NOT_UNIQUE);
    char domain = m->type->standard == KNOOP_ISTD_IWMO ? 'W' : 'J';
    int refused = 0;
    for (size_t i = 0; i < m->n_lines; i++) {
        const knoop_istd_line_t *ln = &m->lines[i];
        unsigned char c[KNOOP_LEDGER_KEY_MAX];
        size_t clen;
        if (ln->client >= m->n_clients || !ln->toewijzing[0] ||
            knoop_ledger_client_key(key, ctx, m->clients[ln->client].bsn, c, &clen) != 0)
            continue;
        bool taken = false;
        for (size_t p = 0; p < l->n_providers && !taken; p++) {
            unsigned char other[KNOOP_LEDGER_KEY_MAX + 16];
            size_t xlen;
            if (strcmp(l->providers[p], m->ontvanger) == 0 ||
                make_key(c, clen, l->providers[p], other, sizeof other, &xlen) != 0)
                continue; /* this very set */
            const slot_t *s = lookup(l, other, xlen, false);
            for (size_t j = 0; s && j < s->n && !taken; j++)
                taken = s->a[j].domain == domain && strcmp(s->a[j].gemeente, m->afzender) == 0 &&
                        strcmp(s->a[j].toewijzing, ln->toewijzing) == 0;
        }
        if (!taken)
            continue;
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_RULE, row->code, row->rule, ln->lineno, ln->node,
                              "ToewijzingNummer %s: %s", ln->toewijzing, row->text);
        refused++;
    }
    return refused;
}

int knoop_ledger_check(const knoop_ledger_t *l, const knoop_istd_msg_t *m, knoop_ledger_key_fn key, void *ctx,
                       knoop_istd_errors_t *errs)
{
    return knoop_ledger_check_with(l, m, &(knoop_ledger_check_opts_t){.key = key, .key_ctx = ctx}, errs);
}

int knoop_ledger_check_with(const knoop_ledger_t *l, const knoop_istd_msg_t *m, const knoop_ledger_check_opts_t *o,
                            knoop_istd_errors_t *errs)
{
    if (!l || !m || !o)
        return -EINVAL;
    knoop_ledger_key_fn key = o->key;
    void *ctx = o->key_ctx;
    int msg = m->type->number;
    if (msg == 301)
        return check_unique_numbers(l, m, key, ctx, errs);
    if (msg != 305 && msg != 307 && msg != 317 && msg != 323)
        return -EINVAL;
    int refused = 0;
    bool *bad = calloc(m->n_lines ? m->n_lines : 1, sizeof *bad); /* lines refused here skip the history rules */
    if (!bad)
        return -ENOMEM;
    for (size_t i = 0; i < m->n_lines; i++) {
        const knoop_istd_line_t *ln = &m->lines[i];
        const knoop_ledger_assignment_t *set;
        size_t n;
        lookup_set(l, m, ln->client, key, ctx, &set, &n);
        const check_row_t *row = first_mismatch(msg, ln, set, n);
        long long contract;
        if (!row && (row = tariff_mismatch(m, ln, o, &contract))) {
            knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_RULE, row->code, row->rule, ln->lineno, ln->node,
                                  "ReferentieNummer %s: %s (%lld, not %lld eurocents)", ln->referentie, row->text,
                                  ln->tarief, contract);
            bad[i] = true;
            refused++;
            continue;
        }
        if (!row)
            continue;
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_RULE, row->code, row->rule, ln->lineno, ln->node,
                              "ToewijzingNummer %s: %s", ln->toewijzing, row->text);
        bad[i] = true;
        refused++;
    }
    if (msg == 323) {
        int h = knoop_ledger_history_check(l, m, key, ctx, bad, errs);
        refused += h > 0 ? h : 0;
    }
    free(bad);
    return refused + check_complete(l, m, key, ctx, errs);
}

/* ---- persistence -------------------------------------------------------------------------------- */
/* KL1: assignments only (what every set was before declarations were kept; still written while nothing is
 * declared and nothing has a Budget, so such a set's blob is byte for byte what it was). KL2: every line tagged, "A" or
 * "D". KL3: KL2 with the assignment's Budget and the Prestatie's IngediendBedrag appended (TR369). */
#define MAGIC         "KL1\n"
#define MAGIC2        "KL2\n" /* read only: what versions before the Budget wrote */
#define MAGIC3        "KL3\n"
#define DECLARED_LINE 230 /* upper bound of one "D" line */

int knoop_ledger_export(const knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                        unsigned char **blob, size_t *len)
{
    const knoop_ledger_assignment_t *a;
    const knoop_ledger_declared_t *d;
    size_t n, nd;
    if (!blob || !len || knoop_ledger_get(l, client, client_len, provider, &a, &n) < 0 ||
        knoop_ledger_get_declared(l, client, client_len, provider, &d, &nd) < 0)
        return -EINVAL;
    /* KL1 while it can say everything (nothing declared, no Budget): such a set's blob stays what it always was */
    bool v3 = nd > 0;
    for (size_t i = 0; i < n && !v3; i++)
        v3 = a[i].has_budget || a[i].gemeente[0];
    size_t cap = sizeof MAGIC + n * 160 + nd * DECLARED_LINE;
    char *out = malloc(cap);
    if (!out)
        return -ENOMEM;
    size_t w = (size_t)snprintf(out, cap, "%s", v3 ? MAGIC3 : MAGIC);
    for (size_t i = 0; i < n; i++) {
        w += (size_t)snprintf(out + w, cap - w, "%s%s\t%s\t%s\t%s\t%s\t%lld\t%s\t%s\t%s", v3 ? "A\t" : "",
                              a[i].toewijzing, a[i].categorie, a[i].code, a[i].begin, a[i].end, a[i].volume,
                              a[i].eenheid, a[i].frequentie, a[i].reden_wijziging);
        if (v3)
            w += (size_t)snprintf(out + w, cap - w, "\t%lld\t%s\t%c", a[i].has_budget ? a[i].budget : -1, a[i].gemeente,
                                  a[i].domain ? a[i].domain : '-');
        w += (size_t)snprintf(out + w, cap - w, "\n");
    }
    for (size_t i = 0; i < nd; i++)
        w += (size_t)snprintf(out + w, cap - w, "D\t%c\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%lld\t%s\t%lld\n",
                              d[i].domain, d[i].credit, d[i].credited, d[i].referentie, d[i].vorig, d[i].toewijzing,
                              d[i].categorie, d[i].code, d[i].begin, d[i].end, d[i].volume, d[i].eenheid, d[i].bedrag);
    *blob = (unsigned char *)out;
    *len = w;
    return 0;
}

static int field(const char **p, const char *end, char *out, size_t cap, char stop)
{
    const char *q = *p;
    while (q < end && *q != stop)
        q++;
    if (q >= end || (size_t)(q - *p) >= cap)
        return -EINVAL;
    memcpy(out, *p, (size_t)(q - *p));
    out[q - *p] = '\0';
    *p = q + 1;
    return 0;
}

static int number(const char *s, long long *out)
{
    char *e;
    *out = strtoll(s, &e, 10);
    return *e || !s[0] ? -EINVAL : 0;
}

static int read_assignment(const char **p, const char *end, knoop_ledger_assignment_t *a, bool v3)
{
    char vol[24], budget[24], domain[2] = "";
    int rc = field(p, end, a->toewijzing, sizeof a->toewijzing, '\t');
    if (!rc)
        rc = field(p, end, a->categorie, sizeof a->categorie, '\t');
    if (!rc)
        rc = field(p, end, a->code, sizeof a->code, '\t');
    if (!rc)
        rc = field(p, end, a->begin, sizeof a->begin, '\t');
    if (!rc)
        rc = field(p, end, a->end, sizeof a->end, '\t');
    if (!rc)
        rc = field(p, end, vol, sizeof vol, '\t');
    if (!rc)
        rc = field(p, end, a->eenheid, sizeof a->eenheid, '\t');
    if (!rc)
        rc = field(p, end, a->frequentie, sizeof a->frequentie, '\t');
    if (!rc)
        rc = field(p, end, a->reden_wijziging, sizeof a->reden_wijziging, v3 ? '\t' : '\n');
    if (!rc && v3 && !(rc = field(p, end, budget, sizeof budget, '\t')) && !(rc = number(budget, &a->budget)) &&
        !(rc = field(p, end, a->gemeente, sizeof a->gemeente, '\t')) &&
        !(rc = field(p, end, domain, sizeof domain, '\n'))) {
        a->has_budget = a->budget >= 0;
        a->budget = a->has_budget ? a->budget : 0;
        a->domain = domain[0] == 'W' || domain[0] == 'J' ? domain[0] : 0;
    }
    return rc ? rc : number(vol, &a->volume);
}

static int read_declared(const char **p, const char *end, knoop_ledger_declared_t *d, bool v3)
{
    char dom[2] = "", credit[2] = "", credited[2] = "", vol[24], bedrag[24];
    int rc = field(p, end, dom, sizeof dom, '\t');
    if (!rc)
        rc = field(p, end, credit, sizeof credit, '\t');
    if (!rc)
        rc = field(p, end, credited, sizeof credited, '\t');
    if (!rc)
        rc = field(p, end, d->referentie, sizeof d->referentie, '\t');
    if (!rc)
        rc = field(p, end, d->vorig, sizeof d->vorig, '\t');
    if (!rc)
        rc = field(p, end, d->toewijzing, sizeof d->toewijzing, '\t');
    if (!rc)
        rc = field(p, end, d->categorie, sizeof d->categorie, '\t');
    if (!rc)
        rc = field(p, end, d->code, sizeof d->code, '\t');
    if (!rc)
        rc = field(p, end, d->begin, sizeof d->begin, '\t');
    if (!rc)
        rc = field(p, end, d->end, sizeof d->end, '\t');
    if (!rc)
        rc = field(p, end, vol, sizeof vol, '\t');
    if (!rc)
        rc = field(p, end, d->eenheid, sizeof d->eenheid, v3 ? '\t' : '\n');
    if (!rc && v3 && !(rc = field(p, end, bedrag, sizeof bedrag, '\n')))
        rc = number(bedrag, &d->bedrag);
    if (!rc)
        rc = number(vol, &d->volume);
    if (!rc && ((dom[0] != 'W' && dom[0] != 'J') || (credit[0] != '0' && credit[0] != '1') ||
                (credited[0] != '0' && credited[0] != '1')))
        rc = -EINVAL;
    d->domain = dom[0];
    d->credit = credit[0] == '1';
    d->credited = credited[0] == '1';
    return rc;
}

int knoop_ledger_import(knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                        const unsigned char *blob, size_t len)
{
    if (!l || !blob || len < 4)
        return -EINVAL;
    bool v3 = memcmp(blob, MAGIC3, 4) == 0, v2 = v3 || memcmp(blob, MAGIC2, 4) == 0; /* v2: lines are tagged */
    if (!v2 && memcmp(blob, MAGIC, 4) != 0)
        return -EINVAL;
    const char *p = (const char *)blob + 4, *end = (const char *)blob + len;
    size_t cap = 0, n = 0, nd = 0;
    for (const char *q = p; q < end; q++)
        cap += *q == '\n';
    knoop_ledger_assignment_t *set = calloc(cap + 1, sizeof *set); /* + a torn last record */
    knoop_ledger_declared_t *dec = v2 ? calloc(cap + 1, sizeof *dec) : NULL;
    if (!set || (v2 && !dec)) {
        free(set);
        free(dec);
        return -ENOMEM;
    }
    int rc = 0;
    while (p < end && rc == 0) {
        char tag = 'A';
        if (v2) {
            tag = *p;
            p += 2;
            if (p > end || (tag != 'A' && tag != 'D') || p[-1] != '\t') {
                rc = -EINVAL;
                break;
            }
        }
        if (tag == 'A')
            rc = read_assignment(&p, end, &set[n++], v3);
        else
            rc = read_declared(&p, end, &dec[nd++], v3);
    }
    if (rc == 0) /* the set as a whole: an empty set with a history keeps its slot (replace, then the history) */
        rc = knoop_ledger_set_declared(l, client, client_len, provider, NULL, 0);
    if (rc == 0)
        rc = knoop_ledger_replace(l, client, client_len, provider, set, n);
    if (rc == 0)
        rc = knoop_ledger_set_declared(l, client, client_len, provider, dec, nd);
    free(set);
    free(dec);
    return rc;
}

int knoop_ledger_providers(const knoop_ledger_t *l, const unsigned char *client, size_t client_len,
                           int (*each)(void *arg, const char *provider), void *arg)
{
    /* One look-up per provider the ledger knows (the key is client, 0x00, provider). */
    for (size_t i = 0; i < l->n_providers; i++) {
        unsigned char k[KNOOP_LEDGER_KEY_MAX + 16];
        size_t klen;
        if (make_key(client, client_len, l->providers[i], k, sizeof k, &klen) != 0 || !lookup(l, k, klen, false))
            continue;
        int rc = each(arg, l->providers[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}
