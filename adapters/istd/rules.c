/* rules.c — level 2: the content rules a retour reports, in ONE table (id, retour code, berichtklasse, text, check).
 * docs/xml-adapter.md lists the same table; tests/unit/test_istd_rules.c checks that the two agree. */
#include "istd/istd.h"
#include "istd/xml_util.h"
#include "codes.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct rule_ctx {
  const knoop_istd_msg_t *m;
  const knoop_istd_check_opts_t *o;
  knoop_istd_errors_t *errs;
  const knoop_istd_rule_t *rule;
  int failures;
} rule_ctx_t;

typedef void (*rule_fn)(rule_ctx_t *c);

static void fail(rule_ctx_t *c, const xmlNode *klasse, const char *fmt, const char *a, const char *b) {
  char msg[256];
  snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
  const xmlNode *at = klasse ? klasse : c->m->header;
  knoop_istd_errors_add(c->errs, KNOOP_ISTD_LEVEL_RULE, c->rule->code, c->rule->id, at ? (int)xmlGetLineNo(at) : 0,
                        klasse, "%s", msg);
  c->failures++;
}

/* ---- header rules ---- */
static bool shape_ok(const char *code, bool gemeente) {
  return gemeente ? knoop_code_is_cbs(code) : knoop_code_is_agb(code);
}

static void r_afzender(rule_ctx_t *c) {
  bool g = c->m->type->from_gemeente;
  if (!shape_ok(c->m->afzender, g))
    fail(c, NULL, "Afzender '%s' is not %s", c->m->afzender, g ? "a CBS gemeentecode (4 digits)" : "an AGB code (8 digits)");
}

static void r_ontvanger(rule_ctx_t *c) {
  bool g = !c->m->type->from_gemeente;
  if (!shape_ok(c->m->ontvanger, g))
    fail(c, NULL, "Ontvanger '%s' is not %s", c->m->ontvanger, g ? "a CBS gemeentecode (4 digits)" : "an AGB code (8 digits)");
}

static void r_known(rule_ctx_t *c) {
  if (!c->o->known) return;
  if (!c->o->known(c->o->known_ctx, c->m->afzender)) fail(c, NULL, "Afzender '%s' is not a known party%s", c->m->afzender, NULL);
  if (!c->o->known(c->o->known_ctx, c->m->ontvanger)) fail(c, NULL, "Ontvanger '%s' is not a known party%s", c->m->ontvanger, NULL);
}

static void r_ident_len(rule_ctx_t *c) {
  size_t n = strlen(c->m->identificatie);
  if (n == 0 || n > 12) fail(c, NULL, "Identificatie '%s' must have 1 to 12 characters%s", c->m->identificatie, NULL);
}

/* A retour's own identity is IdentificatieRetour/DagtekeningRetour and its sender the Header's Ontvanger. */
static void r_unique(rule_ctx_t *c) {
  const char *id = knoop_istd_msg_identificatie(c->m);
  if (c->o->seen && c->o->seen(c->o->seen_ctx, knoop_istd_msg_sender(c->m), c->m->type->name, id))
    fail(c, NULL, "Identificatie '%s' was already used by this sender for %s", id, c->m->type->name);
}

static void r_dagtekening(rule_ctx_t *c) {
  const char *d = knoop_istd_msg_dagtekening(c->m);
  if (c->o->today && strcmp(d, c->o->today) > 0) fail(c, NULL, "Dagtekening %s is after today (%s)", d, c->o->today);
}

/* ---- client rules ---- */
static void r_bsn(rule_ctx_t *c) {
  for (size_t i = 0; i < c->m->n_clients; i++)
    if (!knoop_bsn_is_valid(c->m->clients[i].bsn))   /* the BSN itself stays out of the message */
{
      char nr[24];
      snprintf(nr, sizeof nr, "%zu", i + 1);
      fail(c, c->m->clients[i].node, "Bsn of client %s fails the 11-test%s", nr, NULL);
    }
}

/* ---- line rules ---- */
static void r_toewijzing_unique(rule_ctx_t *c) {
  for (size_t i = 0; i < c->m->n_lines; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(c->m->lines[i].toewijzing, c->m->lines[j].toewijzing) == 0) {
        fail(c, c->m->lines[i].node, "ToewijzingNummer %s occurs more than once%s", c->m->lines[i].toewijzing, NULL);
        break;
      }
}

static void r_period_order(rule_ctx_t *c) {
  for (size_t i = 0; i < c->m->n_lines; i++) {
    const knoop_istd_line_t *l = &c->m->lines[i];
    if (l->begin[0] && l->end[0] && strcmp(l->end, l->begin) < 0)
      fail(c, l->node, "Einddatum %s lies before the begin date %s", l->end, l->begin);
  }
}

static void r_bedrag(rule_ctx_t *c) {
  for (size_t i = 0; i < c->m->n_lines; i++) {
    const knoop_istd_line_t *l = &c->m->lines[i];
    if (strcmp(l->eenheid, "83") == 0 || l->volume < 0 || l->tarief < 0) continue;
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

static void r_periode(rule_ctx_t *c) {
  const xmlNode *decl = knoop_istd_x_child(xmlDocGetRootElement(c->m->doc), "Declaratie");
  char b[11], e[11];
  knoop_istd_x_text(decl, "DeclaratiePeriode/Begindatum", b, sizeof b);
  knoop_istd_x_text(decl, "DeclaratiePeriode/Einddatum", e, sizeof e);
  for (size_t i = 0; i < c->m->n_lines; i++) {
    const knoop_istd_line_t *l = &c->m->lines[i];
    if (strcmp(l->begin, b) < 0 || strcmp(l->end, e) > 0)
      fail(c, l->node, "ProductPeriode of ToewijzingNummer %s lies outside DeclaratiePeriode (from %s)", l->toewijzing, b);
  }
}

static void r_referentie(rule_ctx_t *c) {
  for (size_t i = 0; i < c->m->n_lines; i++)
    for (size_t j = 0; j < i; j++)
      if (c->m->lines[i].referentie[0] && strcmp(c->m->lines[i].referentie, c->m->lines[j].referentie) == 0) {
        fail(c, c->m->lines[i].node, "ReferentieNummer %s occurs more than once%s", c->m->lines[i].referentie, NULL);
        break;
      }
}

static void r_totaal(rule_ctx_t *c) {
  const xmlNode *decl = knoop_istd_x_child(xmlDocGetRootElement(c->m->doc), "Declaratie");
  char t[24], dc[4];
  knoop_istd_x_text(decl, "TotaalIngediendBedrag/TotaalBedrag", t, sizeof t);
  knoop_istd_x_text(decl, "TotaalIngediendBedrag/DebetCredit", dc, sizeof dc);
  long long total = 0;
  for (size_t i = 0; i < c->m->n_lines; i++) total += c->m->lines[i].bedrag;
  char want[32];
  snprintf(want, sizeof want, "%s%lld", total < 0 ? "-" : "", total < 0 ? -total : total);
  char got[32];
  snprintf(got, sizeof got, "%s%s", strcmp(dc, "C") == 0 ? "-" : "", t);
  if (strcmp(want, got) != 0 && !(total == 0 && strcmp(t, "0") == 0))
    fail(c, decl, "TotaalIngediendBedrag %s eurocents is not the sum of the prestaties (%s)", got, want);
}

typedef struct rule_row {
  knoop_istd_rule_t r;
  int only;                /* message number (301, 323) or 0 for all */
  rule_fn fn;
} rule_row_t;

static const rule_row_t rules[] = {
  { { "KN-AFZENDER", 2, "0001", "Header", "all", "Afzender is a CBS gemeentecode (4 digits) when a gemeente sends, an AGB code (8 digits) when an aanbieder sends" }, 0, r_afzender },
  { { "KN-ONTVANGER", 2, "0001", "Header", "all", "Ontvanger is an AGB code (8 digits) when a gemeente sends, a CBS gemeentecode (4 digits) otherwise" }, 0, r_ontvanger },
  { { "KN-PARTY", 2, "0001", "Header", "all", "Afzender and Ontvanger are parties knoop knows (caller's callback)" }, 0, r_known },
  { { "KN-IDENT", 2, "0001", "Header", "all", "Identificatie has 1 to 12 characters" }, 0, r_ident_len },
  { { "TR056", 3, "9056", "Header", "all", "Identificatie is unique per message type per sender (caller's callback, from the journal)" }, 0, r_unique },
  { { "TR135", 4, "8848", "Header", "all", "Dagtekening is today or earlier" }, 0, r_dagtekening },
  { { "KN-BSN", 2, "0001", "Client", "all", "Bsn passes the 11-test (elfproef)" }, 0, r_bsn },
  { { "KN-PERIODE", 2, "0001", "product line", "all", "An Einddatum is not before its Ingangsdatum/Begindatum (ToegewezenProduct, StopProduct, Prestatie, ...)" }, 0, r_period_order },
  { { "TR332", 3, "9332", "ToegewezenProduct", "301", "ToewijzingNummer is unique (within the message)" }, 301, r_toewijzing_unique },
  { { "TR314", 3, "8021", "Prestatie", "323", "ProductReferentie/ReferentieNummer is not delivered twice (within the message)" }, 323, r_referentie },
  { { "TR319", 3, "9319", "Prestatie", "323", "ProductPeriode lies within the DeclaratiePeriode" }, 323, r_periode },
  { { "TR346", 3, "9346", "Prestatie", "323", "Eenheid is not 83 (euro): IngediendBedrag = GeleverdVolume x ProductTarief, in eurocents" }, 323, r_bedrag },
  { { "KN-TOTAAL", 2, "0001", "Declaratie", "323", "TotaalIngediendBedrag is the signed sum of all IngediendBedrag, in eurocents" }, 323, r_totaal },
};

#define N_RULES (sizeof rules / sizeof rules[0])

size_t knoop_istd_rule_count(void) { return N_RULES; }

const knoop_istd_rule_t *knoop_istd_rule_at(size_t i) { return i < N_RULES ? &rules[i].r : NULL; }

int knoop_istd_check(const knoop_istd_msg_t *m, const knoop_istd_check_opts_t *o, knoop_istd_errors_t *errs) {
  if (!m || !m->header) return -EINVAL;
  knoop_istd_check_opts_t none = { 0 };
  rule_ctx_t c = { .m = m, .o = o ? o : &none, .errs = errs };
  for (size_t i = 0; i < N_RULES; i++) {
    if (rules[i].only && rules[i].only != m->type->number) continue;
    c.rule = &rules[i].r;
    rules[i].fn(&c);
  }
  return c.failures;
}
