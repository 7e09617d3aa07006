/* ledger_history.c — the 323 rules that need history (berichtoverstijgend): a ReferentieNummer delivered before
 * (TR314), credits and their debits (TR323/TR389/TR390), volumes (TR321/TR322) and amounts (TR369) against the
 * assignment, checked
 * against the Prestaties of earlier accepted 323s that the ledger keeps per client x provider (knoop_ledger_declare). */
#include "istd/ledger_history.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- which failure gets which retour code (WJ001) ---------------------------------------------------------- */
typedef enum { H_DELIVERED, H_NO_DEBIT, H_CREDITED, H_DEBIT_TWICE, H_VOLUME, H_VOLUME_SUM, H_BUDGET } history_t;

typedef struct history_row {
    history_t what;
    const char *code;
    const char *rule;
    const char *text;
} history_row_t;

static const history_row_t rows[] = {
    {H_DELIVERED, "8021", "TR314", "ReferentieNummer was delivered in an earlier declaration (and not credited)"},
    {H_NO_DEBIT, "8017", "TR323", "credit: no earlier debit with this VorigReferentieNummer and ProductPeriode"},
    {H_CREDITED, "9390", "TR390", "credit: the debit it names was credited already"},
    {H_DEBIT_TWICE, "9389", "TR389",
     "debit: an earlier debit for this ProductPeriode, product and ToewijzingNummer has no credit"},
    {H_VOLUME, "9321", "TR321", "GeleverdVolume exceeds the assigned volume for the ProductPeriode"},
    {H_VOLUME_SUM, "9322", "TR322", "the declared volumes together exceed the assigned volume over the assignment"},
    {H_BUDGET, "9369", "TR369", "the declared amounts together exceed the assignment's Budget"},
};

/* ---- dates: "YYYY-MM-DD" ------------------------------------------------------------------------------------ */
static long day_number(const char *d) /* days since 1970-01-01 (proleptic Gregorian) */
{
    long y = atol(d), m = atol(d + 5), day = atol(d + 8);
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* How many of frequentie's units (WMO757: 1 day, 2 week, 4 month) [begin, end] touches: the most a volume per unit
 * can add up to over that period. A week is a calendar week (Monday to Sunday), as the standard counts them. 0 =
 * not countable (6 = over the whole assignment, unknown codes, open end). */
static long units(const char *frequentie, const char *begin, const char *end)
{
    if (strlen(begin) != 10 || strlen(end) != 10 || strcmp(begin, end) > 0)
        return 0;
    long b = day_number(begin), e = day_number(end);
    if (strcmp(frequentie, "1") == 0)
        return e - b + 1;
    if (strcmp(frequentie, "2") == 0) /* 1970-01-01 was a Thursday: +3 makes weeks start on Monday */
        return (e + 3) / 7 - (b + 3) / 7 + 1;
    if (strcmp(frequentie, "4") == 0)
        return (atol(end) * 12 + atol(end + 5)) - (atol(begin) * 12 + atol(begin + 5)) + 1;
    return 0;
}

/* ---- the checks ----------------------------------------------------------------------------------------------- */
typedef struct hctx {
    const knoop_istd_msg_t *m;
    char domain;
    bool *skip;
    size_t *credits; /* indexes of the message's credit lines (few: the loops below stay linear) */
    size_t n_credits;
} hctx_t;

static bool same_period(const char *b1, const char *e1, const char *b2, const char *e2)
{
    return strcmp(b1, b2) == 0 && strcmp(e1, e2) == 0;
}

/* A credit line of this message takes d back: d no longer counts for this message's other lines (correcting a
 * month is a credit and a new debit, often in one message). */
static bool taken_back_here(const hctx_t *h, size_t client, const knoop_ledger_declared_t *d)
{
    for (size_t x = 0; x < h->n_credits; x++) {
        size_t j = h->credits[x];
        const knoop_istd_line_t *c = &h->m->lines[j];
        if (c->client == client && !h->skip[j] && strcmp(c->vorig, d->referentie) == 0 &&
            same_period(c->begin, c->end, d->begin, d->end))
            return true;
    }
    return false;
}

/* A debit of the history that still counts: not credited before, not taken back in this message. */
static bool live_debit(const hctx_t *h, size_t client, const knoop_ledger_declared_t *d)
{
    return d->domain == h->domain && !d->credit && !d->credited && !taken_back_here(h, client, d);
}

static const knoop_ledger_assignment_t *assignment_of(const knoop_ledger_assignment_t *a, size_t n, const char *nr)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i].toewijzing, nr) == 0)
            return &a[i];
    return NULL;
}

/* TR321/TR322: only where the assignment has an Omvang in the same Eenheid (no conversion between units) */
static int volume_failure(const hctx_t *h, size_t i, const knoop_ledger_declared_t *d, size_t nd,
                          const knoop_ledger_assignment_t *a, history_t *what)
{
    const knoop_istd_line_t *ln = &h->m->lines[i];
    if (a->volume < 0 || ln->volume < 0 || strcmp(a->eenheid, ln->eenheid) != 0)
        return 0;
    long per = units(a->frequentie, ln->begin, ln->end);
    if (per > 0 && ln->volume > a->volume * per)
        return *what = H_VOLUME, 1;
    long long most = strcmp(a->frequentie, "6") == 0 ? a->volume : a->volume * units(a->frequentie, a->begin, a->end);
    if (most <= 0)
        return 0; /* an open-ended assignment per day/week/month has no total */
    long long sum = ln->volume;
    for (size_t k = 0; k < nd; k++)
        if (live_debit(h, ln->client, &d[k]) && strcmp(d[k].toewijzing, ln->toewijzing) == 0 &&
            strcmp(d[k].eenheid, ln->eenheid) == 0 && d[k].volume > 0)
            sum += d[k].volume;
    for (size_t j = 0; j < i; j++) {
        const knoop_istd_line_t *o = &h->m->lines[j];
        if (!h->skip[j] && !o->credit && o->client == ln->client && strcmp(o->toewijzing, ln->toewijzing) == 0 &&
            strcmp(o->eenheid, ln->eenheid) == 0 && o->volume > 0)
            sum += o->volume;
    }
    if (sum > most)
        return *what = H_VOLUME_SUM, 1;
    return 0;
}

/* TR369: the amounts declared on the assignment (IngediendBedrag of its uncredited debits, from earlier messages and
 * from lines before this one, and this line's) within its Budget. The retour code's text speaks of GeleverdVolume, but the Budget is in
 * eurocents (LDT_Budget); IngediendBedrag is GeleverdVolume x ProductTarief in eurocents (TR346), and the amount
 * itself where the Eenheid is 83 (euro). */
static bool over_budget(const hctx_t *h, size_t i, const knoop_ledger_declared_t *d, size_t nd,
                        const knoop_ledger_assignment_t *a)
{
    const knoop_istd_line_t *ln = &h->m->lines[i];
    long long sum = ln->bedrag;
    for (size_t k = 0; k < nd; k++)
        if (live_debit(h, ln->client, &d[k]) && strcmp(d[k].toewijzing, ln->toewijzing) == 0)
            sum += d[k].bedrag;
    for (size_t j = 0; j < i; j++) {
        const knoop_istd_line_t *o = &h->m->lines[j];
        if (!h->skip[j] && !o->credit && o->client == ln->client && strcmp(o->toewijzing, ln->toewijzing) == 0)
            sum += o->bedrag;
    }
    return sum > a->budget;
}

static int first_failure(const hctx_t *h, size_t i, const knoop_ledger_declared_t *d, size_t nd,
                         const knoop_ledger_assignment_t *set, size_t n, history_t *what)
{
    const knoop_istd_line_t *ln = &h->m->lines[i];
    /* TR314: a reference still standing in the history (a debit not credited, or any credit) */
    for (size_t k = 0; k < nd; k++)
        if (d[k].domain == h->domain && strcmp(d[k].referentie, ln->referentie) == 0 &&
            (d[k].credit || live_debit(h, ln->client, &d[k])))
            return *what = H_DELIVERED, 1;
    if (ln->credit) { /* TR323, TR390: the debit it takes back */
        const knoop_ledger_declared_t *debit = NULL;
        for (size_t k = 0; k < nd && !debit; k++)
            if (d[k].domain == h->domain && !d[k].credit && strcmp(d[k].referentie, ln->vorig) == 0 &&
                same_period(d[k].begin, d[k].end, ln->begin, ln->end))
                debit = &d[k];
        if (!debit)
            return *what = H_NO_DEBIT, 1;
        if (debit->credited)
            return *what = H_CREDITED, 1;
        return 0; /* a credit lowers what was declared: no volume rule applies */
    }
    /* TR389: the same period, product and assignment declared before and not credited */
    for (size_t k = 0; k < nd; k++)
        if (live_debit(h, ln->client, &d[k]) && strcmp(d[k].toewijzing, ln->toewijzing) == 0 &&
            strcmp(d[k].categorie, ln->categorie) == 0 && strcmp(d[k].code, ln->code) == 0 &&
            same_period(d[k].begin, d[k].end, ln->begin, ln->end))
            return *what = H_DEBIT_TWICE, 1;
    const knoop_ledger_assignment_t *a = assignment_of(set, n, ln->toewijzing);
    if (!a)
        return 0;
    if (volume_failure(h, i, d, nd, a, what))
        return 1;
    if (a->has_budget && over_budget(h, i, d, nd, a))
        return *what = H_BUDGET, 1;
    return 0;
}

int knoop_ledger_history_check(const knoop_ledger_t *l, const knoop_istd_msg_t *m, knoop_ledger_key_fn key, void *ctx,
                               bool *skip, knoop_istd_errors_t *errs)
{
    if (!l || !m || m->type->number != 323)
        return -EINVAL;
    hctx_t h = {.m = m, .domain = m->type->standard == KNOOP_ISTD_IWMO ? 'W' : 'J', .skip = skip};
    if (!(h.credits = malloc((m->n_lines ? m->n_lines : 1) * sizeof *h.credits)))
        return -ENOMEM;
    for (size_t i = 0; i < m->n_lines; i++)
        if (m->lines[i].credit)
            h.credits[h.n_credits++] = i;
    int refused = 0;
    for (size_t i = 0; i < m->n_lines; i++) {
        const knoop_istd_line_t *ln = &m->lines[i];
        if (skip[i] || ln->client >= m->n_clients)
            continue;
        unsigned char k[KNOOP_LEDGER_KEY_MAX];
        size_t klen;
        const knoop_ledger_declared_t *d = NULL;
        const knoop_ledger_assignment_t *set = NULL;
        size_t nd = 0, n = 0;
        if (knoop_ledger_client_key(key, ctx, m->clients[ln->client].bsn, k, &klen) == 0) {
            knoop_ledger_get_declared(l, k, klen, m->afzender, &d, &nd);
            knoop_ledger_get(l, k, klen, m->afzender, &set, &n);
        }
        history_t what;
        if (!first_failure(&h, i, d, nd, set, n, &what))
            continue;
        const history_row_t *r = &rows[what];
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_RULE, r->code, r->rule, ln->lineno, ln->node,
                              "ReferentieNummer %s: %s", ln->referentie, r->text);
        skip[i] = true;
        refused++;
    }
    free(h.credits);
    return refused;
}

/* ---- recording an accepted 323 ---------------------------------------------------------------------------------- */
int knoop_ledger_declare(knoop_ledger_t *l, const knoop_istd_msg_t *m, knoop_ledger_key_fn key, void *ctx)
{
    if (!l || !m || m->type->number != 323)
        return -EINVAL;
    char domain = m->type->standard == KNOOP_ISTD_IWMO ? 'W' : 'J';
    int rc = 0;
    for (size_t i = 0; i < m->n_lines && rc == 0; i++) {
        const knoop_istd_line_t *ln = &m->lines[i];
        if (ln->client >= m->n_clients)
            continue;
        unsigned char k[KNOOP_LEDGER_KEY_MAX];
        size_t klen, nd;
        const knoop_ledger_declared_t *old;
        if ((rc = knoop_ledger_client_key(key, ctx, m->clients[ln->client].bsn, k, &klen)) != 0 ||
            (rc = knoop_ledger_get_declared(l, k, klen, m->afzender, &old, &nd)) != 0)
            break;
        knoop_ledger_declared_t *d = malloc((nd + 1) * sizeof *d);
        if (!d)
            return -ENOMEM;
        if (nd)
            memcpy(d, old, nd * sizeof *d);
        knoop_ledger_declared_t *x = &d[nd];
        memset(x, 0, sizeof *x);
        snprintf(x->referentie, sizeof x->referentie, "%s", ln->referentie);
        snprintf(x->vorig, sizeof x->vorig, "%s", ln->credit ? ln->vorig : "");
        snprintf(x->toewijzing, sizeof x->toewijzing, "%s", ln->toewijzing);
        snprintf(x->categorie, sizeof x->categorie, "%s", ln->categorie);
        snprintf(x->code, sizeof x->code, "%s", ln->code);
        snprintf(x->begin, sizeof x->begin, "%s", ln->begin);
        snprintf(x->end, sizeof x->end, "%s", ln->end);
        snprintf(x->eenheid, sizeof x->eenheid, "%s", ln->eenheid);
        x->volume = ln->volume;
        x->bedrag = ln->bedrag;
        x->domain = domain;
        x->credit = ln->credit;
        for (size_t j = 0; ln->credit && j < nd; j++) /* the debit it takes back no longer counts */
            if (d[j].domain == domain && !d[j].credit && !d[j].credited && strcmp(d[j].referentie, ln->vorig) == 0 &&
                same_period(d[j].begin, d[j].end, ln->begin, ln->end))
                d[j].credited = true;
        rc = knoop_ledger_set_declared(l, k, klen, m->afzender, d, nd + 1);
        free(d);
    }
    return rc;
}
