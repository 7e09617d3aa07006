/* decode.c — from XML to knoop_istd_msg_t: identify the message by root namespace and BerichtCode, validate
 * (level 1), extract the Header, the clients and the ledger lines; and serialise the kept document back. */
#include "istd/istd.h"
#include "istd/xml_util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

/* What a ledger needs from each kind of line; paths are relative to the line element. */
typedef struct line_spec {
    const char *element;
    const char *toewijzing, *categorie, *code, *begin, *end, *volume, *eenheid, *frequentie;
} line_spec_t;

static const line_spec_t line_specs[] = {
    {"ToegewezenProduct", "ToewijzingNummer", "Product/Categorie", "Product/Code", "Ingangsdatum", "Einddatum",
     "Omvang/Volume", "Omvang/Eenheid", "Omvang/Frequentie"},
    {"StartProduct", "ToewijzingNummer", "Product/Categorie", "Product/Code", "Begindatum", NULL, NULL, NULL, NULL},
    {"StopProduct", "ToewijzingNummer", "Product/Categorie", "Product/Code", "Begindatum", "Einddatum", NULL, NULL,
     NULL},
    {"Prestatie", "ToewijzingNummer", "ProductCategorie", "ProductCode", "ProductPeriode/Begindatum",
     "ProductPeriode/Einddatum", "GeleverdVolume", "Eenheid", NULL},
    {"AangevraagdProduct", NULL, "Product/Categorie", "Product/Code", "ToewijzingIngangsdatum", "ToewijzingEinddatum",
     "Omvang/Volume", "Omvang/Eenheid", "Omvang/Frequentie"},
    {"OngewijzigdProduct", "ToewijzingNummer", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    {"TeWijzigenProduct", "ToewijzingNummer", NULL, NULL, "GewensteIngangsdatum", "Einddatum", "Omvang/Volume",
     "Omvang/Eenheid", "Omvang/Frequentie"},
    {"NieuwProduct", NULL, "Product/Categorie", "Product/Code", "GewensteIngangsdatum", "Einddatum", "Omvang/Volume",
     "Omvang/Eenheid", "Omvang/Frequentie"},
};

static const line_spec_t *spec_for(const xmlNode *n)
{
    for (size_t i = 0; i < sizeof line_specs / sizeof line_specs[0]; i++)
        if (knoop_istd_x_is(n, line_specs[i].element))
            return &line_specs[i];
    return NULL;
}

void knoop_istd_msg_destroy(knoop_istd_msg_t **p)
{
    if (!p || !*p)
        return;
    if ((*p)->doc)
        xmlFreeDoc((*p)->doc);
    free((*p)->clients);
    free((*p)->lines);
    free(*p);
    *p = NULL;
}

bool knoop_istd_msg_is_retour(const knoop_istd_msg_t *m)
{
    return m->type->kind == 10; /* knoop.Kind RETOUR */
}

const char *knoop_istd_msg_sender(const knoop_istd_msg_t *m)
{
    return knoop_istd_msg_is_retour(m) ? m->ontvanger : m->afzender;
}

const char *knoop_istd_msg_receiver(const knoop_istd_msg_t *m)
{
    return knoop_istd_msg_is_retour(m) ? m->afzender : m->ontvanger;
}

const char *knoop_istd_msg_identificatie(const knoop_istd_msg_t *m)
{
    return knoop_istd_msg_is_retour(m) ? m->identificatie_retour : m->identificatie;
}

const char *knoop_istd_msg_dagtekening(const knoop_istd_msg_t *m)
{
    return knoop_istd_msg_is_retour(m) ? m->dagtekening_retour : m->dagtekening;
}

static long long num_or(const xmlNode *n, const char *path, long long dflt)
{
    char buf[24];
    if (!path || knoop_istd_x_text(n, path, buf, sizeof buf) < 0 || !buf[0])
        return dflt;
    char *end;
    long long v = strtoll(buf, &end, 10);
    return *end ? dflt : v;
}

static void text(const xmlNode *n, const char *path, char *buf, size_t cap)
{
    if (!path) {
        buf[0] = '\0';
        return;
    }
    (void)knoop_istd_x_text(n, path, buf, cap); /* validated input: fields fit; a longer one is truncated */
}

static int push_client(knoop_istd_msg_t *m, const xmlNode *c, size_t *cap)
{
    void *grown = knoop_istd_grow(m->clients, cap, m->n_clients, sizeof *m->clients);
    if (!grown)
        return -ENOMEM;
    m->clients = grown;
    knoop_istd_client_t *x = &m->clients[m->n_clients++];
    memset(x, 0, sizeof *x);
    text(c, "Bsn", x->bsn, sizeof x->bsn);
    x->node = c;
    return 0;
}

static int push_line(knoop_istd_msg_t *m, const xmlNode *n, const line_spec_t *sp, size_t *cap)
{
    void *grown = knoop_istd_grow(m->lines, cap, m->n_lines, sizeof *m->lines);
    if (!grown)
        return -ENOMEM;
    m->lines = grown;
    knoop_istd_line_t *l = &m->lines[m->n_lines++];
    memset(l, 0, sizeof *l);
    l->client = (size_t)-1;
    const xmlNode *client = knoop_istd_x_ancestor(n, "Client");
    for (size_t i = 0; i < m->n_clients; i++)
        if (m->clients[i].node == client)
            l->client = i;
    text(n, sp->toewijzing, l->toewijzing, sizeof l->toewijzing);
    text(n, sp->categorie, l->categorie, sizeof l->categorie);
    text(n, sp->code, l->code, sizeof l->code);
    text(n, sp->begin, l->begin, sizeof l->begin);
    text(n, sp->end, l->end, sizeof l->end);
    text(n, sp->eenheid, l->eenheid, sizeof l->eenheid);
    text(n, sp->frequentie, l->frequentie, sizeof l->frequentie);
    l->volume = num_or(n, sp->volume, -1);
    l->tarief = num_or(n, "ProductTarief", -1);
    l->budget = num_or(n, "Budget", -1);
    l->bedrag = num_or(n, "IngediendBedrag/Bedrag", 0);
    char dc[4];
    text(n, "IngediendBedrag/DebetCredit", dc, sizeof dc);
    l->credit = strcmp(dc, "C") == 0;
    if (l->credit)
        l->bedrag = -l->bedrag;
    text(n, "ProductReferentie/ReferentieNummer", l->referentie, sizeof l->referentie);
    text(n, "ProductReferentie/VorigReferentieNummer", l->vorig, sizeof l->vorig);
    text(n, "RedenWijziging", l->reden_wijziging, sizeof l->reden_wijziging);
    l->lineno = (int)xmlGetLineNo(n);
    l->node = n;
    return 0;
}

/* Clients first (document order), then lines, so each line can point at its client. */
static int collect(knoop_istd_msg_t *m, const xmlNode *root)
{
    size_t ccap = 0, lcap = 0;
    for (int pass = 0; pass < 2; pass++) {
        const xmlNode *n = root;
        while (n) {
            if (n->type == XML_ELEMENT_NODE) {
                int rc = 0;
                const line_spec_t *sp;
                if (pass == 0 && knoop_istd_x_is(n, "Client") && knoop_istd_x_child(n, "Bsn"))
                    rc = push_client(m, n, &ccap);
                else if (pass == 1 && (sp = spec_for(n)))
                    rc = push_line(m, n, sp, &lcap);
                if (rc < 0)
                    return rc;
            }
            if (n->children && n->type == XML_ELEMENT_NODE) {
                n = n->children;
                continue;
            }
            while (n && n != root && !n->next)
                n = n->parent;
            if (!n || n == root)
                break;
            n = n->next;
        }
    }
    return 0;
}

static int decode_header(knoop_istd_msg_t *m, knoop_istd_errors_t *errs)
{
    const xmlNode *h = m->header;
    text(h, "BerichtCode", m->berichtcode, sizeof m->berichtcode);
    text(h, "BerichtVersie", m->versie, sizeof m->versie);
    text(h, "BerichtSubversie", m->subversie, sizeof m->subversie);
    text(h, "Afzender", m->afzender, sizeof m->afzender);
    text(h, "Ontvanger", m->ontvanger, sizeof m->ontvanger);
    text(h, "BerichtIdentificatie/Identificatie", m->identificatie, sizeof m->identificatie);
    text(h, "BerichtIdentificatie/Dagtekening", m->dagtekening, sizeof m->dagtekening);
    if (knoop_istd_x_child(h, "IdentificatieRetour")) {
        text(h, "IdentificatieRetour", m->identificatie_retour, sizeof m->identificatie_retour);
        text(h, "DagtekeningRetour", m->dagtekening_retour, sizeof m->dagtekening_retour);
    } else {
        text(h, "DeclaratieIdentificatie/Identificatie", m->identificatie_retour, sizeof m->identificatie_retour);
        text(h, "DeclaratieIdentificatie/Dagtekening", m->dagtekening_retour, sizeof m->dagtekening_retour);
    }
    if (strcmp(m->berichtcode, m->type->berichtcode) != 0) {
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_SCHEMA, NULL, NULL, (int)xmlGetLineNo(h), NULL,
                              "BerichtCode %s does not belong to namespace of %s (expected %s)", m->berichtcode,
                              m->type->name, m->type->berichtcode);
        return -EBADMSG;
    }
    return 0;
}

int knoop_istd_decode_doc(const knoop_istd_schemas_t *s, xmlDoc *doc, knoop_istd_msg_t **out, knoop_istd_errors_t *errs)
{
    if (!out || !doc) {
        if (doc)
            xmlFreeDoc(doc);
        return -EINVAL;
    }
    *out = NULL;
    const xmlNode *root = xmlDocGetRootElement(doc);
    const char *ns = root && root->ns ? (const char *)root->ns->href : NULL;
    const knoop_istd_type_t *t = knoop_istd_type_by_ns(ns);
    if (!t || !knoop_istd_x_is(root, "Bericht")) {
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_SCHEMA, NULL, NULL, root ? (int)xmlGetLineNo(root) : 0, NULL,
                              "not an iWmo 3.2 / iJw 3.2 message: root element %s in namespace %s",
                              root ? (const char *)root->name : "(none)", ns ? ns : "(none)");
        xmlFreeDoc(doc);
        return -EBADMSG;
    }
    int rc = knoop_istd_validate(s, t, doc, errs);
    if (rc < 0) {
        xmlFreeDoc(doc);
        return rc;
    }
    knoop_istd_msg_t *m = calloc(1, sizeof *m);
    if (!m) {
        xmlFreeDoc(doc);
        return -ENOMEM;
    }
    m->type = t;
    m->doc = doc;
    m->header = knoop_istd_x_child(root, "Header");
    rc = decode_header(m, errs);
    if (rc == 0)
        rc = collect(m, root);
    if (rc < 0) {
        knoop_istd_msg_destroy(&m);
        return rc;
    }
    *out = m;
    return 0;
}

int knoop_istd_decode(const knoop_istd_schemas_t *s, const char *buf, size_t len, const knoop_istd_limits_t *lim,
                      knoop_istd_msg_t **out, knoop_istd_errors_t *errs)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    xmlDoc *doc = NULL;
    int rc = knoop_istd_parse(buf, len, lim, &doc, errs);
    if (rc < 0)
        return rc;
    return knoop_istd_decode_doc(s, doc, out, errs);
}

int knoop_istd_encode_doc(xmlDoc *doc, char **out, size_t *len)
{
    if (!doc || !out)
        return -EINVAL;
    xmlChar *mem = NULL;
    int n = 0;
    /* format=1 indents generated documents; a received one keeps its own layout (libxml2 does not
   * re-indent elements that already hold text nodes) */
    xmlDocDumpFormatMemoryEnc(doc, &mem, &n, "UTF-8", 1);
    if (!mem)
        return -ENOMEM;
    char *copy = malloc((size_t)n + 1);
    if (!copy) {
        xmlFree(mem);
        return -ENOMEM;
    }
    memcpy(copy, mem, (size_t)n);
    copy[n] = '\0';
    xmlFree(mem);
    *out = copy;
    if (len)
        *len = (size_t)n;
    return 0;
}

int knoop_istd_encode(const knoop_istd_msg_t *m, char **out, size_t *len)
{
    if (!m)
        return -EINVAL;
    return knoop_istd_encode_doc(m->doc, out, len);
}
