/* rules.c — level 2: the content rules a retour reports, in ONE table (id, retour code, berichtklasse, text, check).
 * docs/xml-adapter.md lists the same table; tests/unit/test_istd_rules.c checks that the two agree. */
#include "istd/istd.h"
#include "istd/xml_util.h"
#include "base/codes.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rule_ctx {
    const knoop_istd_msg_t *m;
    const knoop_istd_check_opts_t *o;
    knoop_istd_errors_t *errs;
    const knoop_istd_rule_t *rule;
    int failures;
} rule_ctx_t;

typedef void (*rule_fn)(rule_ctx_t *c);

static void fail(rule_ctx_t *c, const xmlNode *klasse, const char *fmt, const char *a, const char *b)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    const xmlNode *at = klasse ? klasse : c->m->header;
    knoop_istd_errors_add(c->errs, KNOOP_ISTD_LEVEL_RULE, c->rule->code, c->rule->id, at ? (int)xmlGetLineNo(at) : 0,
                          klasse, "%s", msg);
    c->failures++;
}

/* ---- header rules ---- */
static bool shape_ok(const char *code, bool gemeente)
{
    return gemeente ? knoop_code_is_cbs(code) : knoop_code_is_agb(code);
}

static void r_afzender(rule_ctx_t *c)
{
    bool g = c->m->type->from_gemeente;
    if (!shape_ok(c->m->afzender, g))
        fail(c, NULL, "Afzender '%s' is not %s", c->m->afzender,
             g ? "a CBS gemeentecode (4 digits)" : "an AGB code (8 digits)");
}

static void r_ontvanger(rule_ctx_t *c)
{
    bool g = !c->m->type->from_gemeente;
    if (!shape_ok(c->m->ontvanger, g))
        fail(c, NULL, "Ontvanger '%s' is not %s", c->m->ontvanger,
             g ? "a CBS gemeentecode (4 digits)" : "an AGB code (8 digits)");
}

static void r_known(rule_ctx_t *c)
{
    if (!c->o->known)
        return;
    if (!c->o->known(c->o->known_ctx, c->m->afzender))
        fail(c, NULL, "Afzender '%s' is not a known party%s", c->m->afzender, NULL);
    if (!c->o->known(c->o->known_ctx, c->m->ontvanger))
        fail(c, NULL, "Ontvanger '%s' is not a known party%s", c->m->ontvanger, NULL);
}

static void r_ident_len(rule_ctx_t *c)
{
    size_t n = strlen(c->m->identificatie);
    if (n == 0 || n > 12)
        fail(c, NULL, "Identificatie '%s' must have 1 to 12 characters%s", c->m->identificatie, NULL);
}

/* A retour's own identity is IdentificatieRetour/DagtekeningRetour and its sender the Header's Ontvanger. */
static void r_unique(rule_ctx_t *c)
{
    const char *id = knoop_istd_msg_identificatie(c->m);
    if (c->o->seen && c->o->seen(c->o->seen_ctx, knoop_istd_msg_sender(c->m), c->m->type->name, id))
        fail(c, NULL, "Identificatie '%s' was already used by this sender for %s", id, c->m->type->name);
}

static void r_dagtekening(rule_ctx_t *c)
{
    const char *d = knoop_istd_msg_dagtekening(c->m);
    if (c->o->today && strcmp(d, c->o->today) > 0)
        fail(c, NULL, "Dagtekening %s is after today (%s)", d, c->o->today);
}

/* ---- client rules ---- */
static void r_bsn(rule_ctx_t *c)
{
    for (size_t i = 0; i < c->m->n_clients; i++)
        if (!knoop_bsn_is_valid(c->m->clients[i].bsn)) /* the BSN itself stays out of the message */
        {
            char nr[24];
            snprintf(nr, sizeof nr, "%zu", i + 1);
            fail(c, c->m->clients[i].node, "Bsn of client %s fails the 11-test%s", nr, NULL);
        }
}

/* ---- line rules ---- */
/* TR101: no two lines with the same logical key (301: ToewijzingNummer; 305/307: ToewijzingNummer + Begindatum). */
static void r_duplicates(rule_ctx_t *c)
{
    bool with_begin = c->m->type->number != 301;
    for (size_t i = 0; i < c->m->n_lines; i++)
        for (size_t j = 0; j < i; j++) {
            const knoop_istd_line_t *a = &c->m->lines[i], *b = &c->m->lines[j];
            if (a->client == b->client && strcmp(a->toewijzing, b->toewijzing) == 0 &&
                (!with_begin || strcmp(a->begin, b->begin) == 0)) {
                fail(c, a->node, "ToewijzingNummer %s occurs more than once%s", a->toewijzing,
                     with_begin ? " with this Begindatum" : "");
                break;
            }
        }
}

/* TR302 (301) / TR386 (315) / TR410 (317 NieuwProduct): the same product occurs twice only with periods that do
 * not overlap; without a code compared per category, without a category against everything. Deleted
 * assignments (Einddatum = Ingangsdatum with RedenWijziging 13 or 01) do not count. */
static bool same_product(const knoop_istd_line_t *a, const knoop_istd_line_t *b)
{
    if (!a->categorie[0] || !b->categorie[0])
        return true;
    if (strcmp(a->categorie, b->categorie) != 0)
        return false;
    return !a->code[0] || !b->code[0] || strcmp(a->code, b->code) == 0;
}

static bool overlaps(const knoop_istd_line_t *a, const knoop_istd_line_t *b)
{
    bool a_before_b = a->end[0] && strcmp(a->end, b->begin) < 0;
    bool b_before_a = b->end[0] && strcmp(b->end, a->begin) < 0;
    return !a_before_b && !b_before_a;
}

static bool is_withdrawn(const knoop_istd_line_t *l)
{
    return l->end[0] && strcmp(l->end, l->begin) == 0 &&
           (strcmp(l->reden_wijziging, "13") == 0 || strcmp(l->reden_wijziging, "01") == 0);
}

static void r_overlap(rule_ctx_t *c)
{
    const char *element = c->m->type->number == 301   ? "ToegewezenProduct"
                          : c->m->type->number == 315 ? "AangevraagdProduct"
                                                      : "NieuwProduct";
    for (size_t i = 0; i < c->m->n_lines; i++) {
        const knoop_istd_line_t *a = &c->m->lines[i];
        if (!knoop_istd_x_is(a->node, element) || is_withdrawn(a))
            continue;
        for (size_t j = 0; j < i; j++) {
            const knoop_istd_line_t *b = &c->m->lines[j];
            if (!knoop_istd_x_is(b->node, element) || is_withdrawn(b) || a->client != b->client)
                continue;
            if (same_product(a, b) && overlaps(a, b)) {
                fail(c, a->node, "product %s/%s occurs twice with overlapping periods",
                     a->categorie[0] ? a->categorie : "-", a->code[0] ? a->code : "-");
                break;
            }
        }
    }
}

/* TR018 (307): Einddatum >= Begindatum. */
static void r_stop_order(rule_ctx_t *c)
{
    for (size_t i = 0; i < c->m->n_lines; i++) {
        const knoop_istd_line_t *l = &c->m->lines[i];
        if (l->begin[0] && l->end[0] && strcmp(l->end, l->begin) < 0)
            fail(c, l->node, "Einddatum %s lies before Begindatum %s", l->end, l->begin);
    }
}

/* TR137 (323): a period's Einddatum is >= its Begindatum and not after the Dagtekening. */
static void r_period_end(rule_ctx_t *c)
{
    const xmlNode *decl = knoop_istd_x_child(xmlDocGetRootElement(c->m->doc), "Declaratie");
    char b[11], e[11];
    knoop_istd_x_text(decl, "DeclaratiePeriode/Begindatum", b, sizeof b);
    knoop_istd_x_text(decl, "DeclaratiePeriode/Einddatum", e, sizeof e);
    if (strcmp(e, b) < 0 || strcmp(e, c->m->dagtekening) > 0)
        fail(c, decl, "DeclaratiePeriode ends %s: before its Begindatum or after the Dagtekening %s", e,
             c->m->dagtekening);
    for (size_t i = 0; i < c->m->n_lines; i++) {
        const knoop_istd_line_t *l = &c->m->lines[i];
        if (strcmp(l->end, l->begin) < 0 || strcmp(l->end, c->m->dagtekening) > 0)
            fail(c, l->node, "ProductPeriode ends %s: before its Begindatum or after the Dagtekening %s", l->end,
                 c->m->dagtekening);
    }
}

/* TR002: a Geboortedatum lies at most 120 years before the Dagtekening, unless it is unknown (1900-01-01, DatumGebruik 3). */
static void r_geboortedatum(rule_ctx_t *c)
{
    for (size_t i = 0; i < c->m->n_clients; i++) {
        const xmlNode *g = knoop_istd_x_child(c->m->clients[i].node, "Geboortedatum");
        char d[11], gebruik[4];
        knoop_istd_x_text(g, "Datum", d, sizeof d);
        knoop_istd_x_text(g, "DatumGebruik", gebruik, sizeof gebruik);
        if (!d[0] || (strcmp(d, "1900-01-01") == 0 && strcmp(gebruik, "3") == 0) || strlen(c->m->dagtekening) != 10)
            continue;
        char limit[11];
        int year = atoi(c->m->dagtekening) - 120;
        snprintf(limit, sizeof limit, "%04d%s", year < 0 ? 0 : year % 10000, c->m->dagtekening + 4);
        if (strcmp(d, limit) < 0)
            fail(c, c->m->clients[i].node, "Geboortedatum lies more than 120 years before %s%s", c->m->dagtekening, "");
    }
}

/* TR352 / TR353 (317): a change request names at least one current product, and changes or adds at least one. */
static size_t count_lines(const knoop_istd_msg_t *m, const char *a, const char *b)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_lines; i++)
        if (knoop_istd_x_is(m->lines[i].node, a) || knoop_istd_x_is(m->lines[i].node, b))
            n++;
    return n;
}

static void r_vow_current(rule_ctx_t *c)
{
    if (!count_lines(c->m, "OngewijzigdProduct", "TeWijzigenProduct"))
        fail(c, c->m->n_clients ? c->m->clients[0].node : NULL, "no OngewijzigdProduct or TeWijzigenProduct%s%s", "",
             "");
}

static void r_vow_change(rule_ctx_t *c)
{
    if (!count_lines(c->m, "TeWijzigenProduct", "NieuwProduct"))
        fail(c, c->m->n_clients ? c->m->clients[0].node : NULL, "no TeWijzigenProduct or NieuwProduct%s%s", "", "");
}

/* TR383 (315): ReferentieAanbieder is unique per AangevraagdProduct within the message. */
static void r_referentie_aanbieder(rule_ctx_t *c)
{
    for (size_t i = 0; i < c->m->n_lines; i++) {
        char a[32];
        knoop_istd_x_text(c->m->lines[i].node, "ReferentieAanbieder", a, sizeof a);
        for (size_t j = 0; j < i && a[0]; j++) {
            char b[32];
            knoop_istd_x_text(c->m->lines[j].node, "ReferentieAanbieder", b, sizeof b);
            if (strcmp(a, b) == 0) {
                fail(c, c->m->lines[i].node, "ReferentieAanbieder %s occurs more than once%s", a, "");
                break;
            }
        }
    }
}

static void r_bedrag(rule_ctx_t *c)
{
    for (size_t i = 0; i < c->m->n_lines; i++) {
        const knoop_istd_line_t *l = &c->m->lines[i];
        if (strcmp(l->eenheid, "83") == 0 || l->volume < 0 || l->tarief < 0)
            continue;
        long long want = l->volume * l->tarief;
        long long got = l->bedrag < 0 ? -l->bedrag : l->bedrag;
        if (want != got) {
            char a[32], b[32];
            snprintf(a, sizeof a, "%lld", got);
            snprintf(b, sizeof b, "%lld", want);
            fail(c, l->node, "IngediendBedrag %s eurocents is not GeleverdVolume x ProductTarief = %s", a, b);
        }
    }
}

/* TR319: a ProductPeriode lies in the current DeclaratiePeriode or an earlier one, never after it. */
static void r_periode(rule_ctx_t *c)
{
    const xmlNode *decl = knoop_istd_x_child(xmlDocGetRootElement(c->m->doc), "Declaratie");
    char e[11];
    knoop_istd_x_text(decl, "DeclaratiePeriode/Einddatum", e, sizeof e);
    for (size_t i = 0; i < c->m->n_lines; i++) {
        const knoop_istd_line_t *l = &c->m->lines[i];
        if (strcmp(l->end, e) > 0)
            fail(c, l->node, "ProductPeriode of ToewijzingNummer %s ends after the DeclaratiePeriode (%s)",
                 l->toewijzing, e);
    }
}

/* TR314 within the message. The standard's text asks a unique ReferentieNummer "both within one message and across
 * messages", but the official iJw 323 example declares RN004 for March and for April of one assignment, and TR389
 * matches a credit to its debit by VorigReferentieNummer AND ProductPeriode. So a ReferentieNummer may repeat for
 * the same client and ToewijzingNummer over periods that do not overlap (one line of care declared per month);
 * any other repeat is 8021. Earlier messages: the ledger (ledger_history.c). */
static bool same_care_line(const knoop_istd_line_t *a, const knoop_istd_line_t *b)
{
    bool overlap =
        strcmp(a->begin, b->end[0] ? b->end : "9999") <= 0 && strcmp(b->begin, a->end[0] ? a->end : "9999") <= 0;
    return a->client == b->client && strcmp(a->toewijzing, b->toewijzing) == 0 && a->credit == b->credit && !overlap;
}

static void r_referentie(rule_ctx_t *c)
{
    for (size_t i = 0; i < c->m->n_lines; i++)
        for (size_t j = 0; j < i; j++)
            if (c->m->lines[i].referentie[0] && strcmp(c->m->lines[i].referentie, c->m->lines[j].referentie) == 0 &&
                !same_care_line(&c->m->lines[i], &c->m->lines[j])) {
                fail(c, c->m->lines[i].node, "ReferentieNummer %s occurs more than once%s", c->m->lines[i].referentie,
                     " (other client, assignment or an overlapping period)");
                break;
            }
}

static void r_totaal(rule_ctx_t *c)
{
    const xmlNode *decl = knoop_istd_x_child(xmlDocGetRootElement(c->m->doc), "Declaratie");
    char t[24], dc[4];
    knoop_istd_x_text(decl, "TotaalIngediendBedrag/TotaalBedrag", t, sizeof t);
    knoop_istd_x_text(decl, "TotaalIngediendBedrag/DebetCredit", dc, sizeof dc);
    long long total = 0;
    for (size_t i = 0; i < c->m->n_lines; i++)
        total += c->m->lines[i].bedrag;
    char want[32];
    snprintf(want, sizeof want, "%s%lld", total < 0 ? "-" : "", total < 0 ? -total : total);
    char got[32];
    snprintf(got, sizeof got, "%s%s", strcmp(dc, "C") == 0 ? "-" : "", t);
    if (strcmp(want, got) != 0 && !(total == 0 && strcmp(t, "0") == 0))
        fail(c, decl, "TotaalIngediendBedrag %s eurocents is not the sum of the prestaties (%s)", got, want);
}

/* TR342 (325): the rejected Prestaties explain the difference: SUM(IngediendBedrag) = TotaalIngediend - TotaalToegekend. */
static long long signed_total(const xmlNode *n, const char *el)
{
    char t[24], dc[4];
    knoop_istd_x_text(n, el, t, sizeof t);
    char path[64];
    snprintf(path, sizeof path, "%s", el);
    char *slash = strrchr(path, '/');
    if (slash)
        snprintf(slash + 1, sizeof path - (size_t)(slash + 1 - path), "DebetCredit");
    knoop_istd_x_text(n, path, dc, sizeof dc);
    long long v = atoll(t);
    return strcmp(dc, "C") == 0 ? -v : v;
}

static void r_antwoord_som(rule_ctx_t *c)
{
    const xmlNode *da = knoop_istd_x_child(xmlDocGetRootElement(c->m->doc), "DeclaratieAntwoord");
    if (!da)
        return;
    const xmlNode *rc = knoop_istd_x_at(da, "RetourCodes/RetourCode");
    char code[8];
    knoop_istd_x_text(rc, NULL, code, sizeof code);
    long long ingediend = signed_total(da, "TotaalIngediendBedrag/TotaalBedrag");
    long long toegekend = signed_total(da, "TotaalToegekendBedrag/TotaalBedrag");
    long long rejected = 0;
    for (size_t i = 0; i < c->m->n_lines; i++)
        rejected += c->m->lines[i].bedrag;
    bool whole_rejected = code[0] && strcmp(code, "0200") != 0 && strcmp(code, "8001") != 0;
    if (whole_rejected ? toegekend != 0 : rejected != ingediend - toegekend) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%lld", rejected);
        snprintf(b, sizeof b, "%lld", ingediend - toegekend);
        fail(c, da, "rejected Prestaties sum to %s eurocents, TotaalIngediend - TotaalToegekend is %s", a, b);
    }
}

typedef struct rule_row {
    knoop_istd_rule_t r;
    int only[4]; /* message numbers it applies to; none = all */
    rule_fn fn;
} rule_row_t;

static const rule_row_t rules[] = {
    {{"KN-AFZENDER", 2, "0001", "Header", "all",
      "Afzender is a CBS gemeentecode (4 digits) when a gemeente sends, an AGB code (8 digits) when an aanbieder "
      "sends"},
     {0},
     r_afzender},
    {{"KN-ONTVANGER", 2, "0001", "Header", "all",
      "Ontvanger is an AGB code (8 digits) when a gemeente sends, a CBS gemeentecode (4 digits) otherwise"},
     {0},
     r_ontvanger},
    {{"KN-PARTY", 2, "0001", "Header", "all",
      "Afzender and Ontvanger are parties knoop knows (caller's callback; the standard's TR378/S300 is not a valid 3.2 "
      "retour code)"},
     {0},
     r_known},
    {{"KN-IDENT", 2, "0001", "Header", "all", "Identificatie has 1 to 12 characters"}, {0}, r_ident_len},
    {{"TR056", 3, "9056", "Header", "all",
      "Identificatie is unique per message type per sender (caller's callback, from the journal)"},
     {0},
     r_unique},
    {{"TR135", 4, "8848", "Header", "all", "Dagtekening is today or earlier"}, {0}, r_dagtekening},
    {{"KN-BSN", 2, "0001", "Client", "all", "Bsn passes the 11-test (elfproef)"}, {0}, r_bsn},
    {{"TR002", 2, "0001", "Client", "301 305 307 315",
      "Geboortedatum lies at most 120 years before the Dagtekening, unless unknown"},
     {301, 305, 307, 315},
     r_geboortedatum},
    {{"TR101", 2, "0001", "product line", "301 305 307",
      "No two lines with the same logical key (ToewijzingNummer; 305/307: with Begindatum)"},
     {301, 305, 307},
     r_duplicates},
    {{"TR302", 2, "0001", "ToegewezenProduct", "301",
      "A product occurs more than once only with periods that do not overlap"},
     {301},
     r_overlap},
    {{"TR386", 2, "0001", "AangevraagdProduct", "315",
      "A product occurs more than once only with periods that do not overlap"},
     {315},
     r_overlap},
    {{"TR410", 2, "0001", "NieuwProduct", "317",
      "A product occurs more than once only with periods that do not overlap"},
     {317},
     r_overlap},
    {{"TR018", 2, "0001", "StopProduct", "307", "Einddatum is on or after Begindatum"}, {307}, r_stop_order},
    {{"TR383", 2, "0001", "AangevraagdProduct", "315",
      "ReferentieAanbieder is unique per AangevraagdProduct within the message"},
     {315},
     r_referentie_aanbieder},
    {{"TR352", 2, "0001", "Client", "317", "At least one OngewijzigdProduct or TeWijzigenProduct"},
     {317},
     r_vow_current},
    {{"TR353", 2, "0001", "Client", "317", "At least one TeWijzigenProduct or NieuwProduct"}, {317}, r_vow_change},
    {{"TR137", 2, "0001", "Declaratie / Prestatie", "323",
      "A period's Einddatum is on or after its Begindatum and not after the Dagtekening"},
     {323},
     r_period_end},
    {{"TR358", 2, "0001", "Declaratie", "323",
      "TotaalIngediendBedrag is the signed sum of all IngediendBedrag, in eurocents"},
     {323},
     r_totaal},
    {{"TR314", 3, "8021", "Prestatie", "323",
      "ProductReferentie/ReferentieNummer is not delivered twice; within the message it repeats only for one client "
      "and ToewijzingNummer over periods that do not overlap (earlier messages: the ledger)"},
     {323},
     r_referentie},
    {{"TR319", 3, "9319", "Prestatie", "323", "ProductPeriode lies in the current DeclaratiePeriode or an earlier one"},
     {323},
     r_periode},
    {{"TR346", 4, "9346", "Prestatie", "323",
      "Eenheid is not 83 (euro): IngediendBedrag = GeleverdVolume x ProductTarief, in eurocents"},
     {323},
     r_bedrag},
    {{"TR342", 2, "0001", "DeclaratieAntwoord", "325",
      "The rejected Prestaties sum to TotaalIngediendBedrag - TotaalToegekendBedrag"},
     {325},
     r_antwoord_som},
};

static bool applies(const rule_row_t *r, int number)
{
    if (!r->only[0])
        return true;
    for (size_t i = 0; i < sizeof r->only / sizeof r->only[0] && r->only[i]; i++)
        if (r->only[i] == number)
            return true;
    return false;
}

#define N_RULES (sizeof rules / sizeof rules[0])

size_t knoop_istd_rule_count(void)
{
    return N_RULES;
}

const knoop_istd_rule_t *knoop_istd_rule_at(size_t i)
{
    return i < N_RULES ? &rules[i].r : NULL;
}

int knoop_istd_check(const knoop_istd_msg_t *m, const knoop_istd_check_opts_t *o, knoop_istd_errors_t *errs)
{
    if (!m || !m->header)
        return -EINVAL;
    knoop_istd_check_opts_t none = {0};
    rule_ctx_t c = {.m = m, .o = o ? o : &none, .errs = errs};
    for (size_t i = 0; i < N_RULES; i++) {
        if (!applies(&rules[i], m->type->number))
            continue;
        c.rule = &rules[i].r;
        rules[i].fn(&c);
    }
    return c.failures;
}
