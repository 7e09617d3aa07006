/* retour.c — the answer knoop sends for a heen message: the retour (302/306/308/316/318/320, IV028) and the
 * declaratie-antwoord 325 for a 323 (IV087), both built from the kept heen document and the level-2 errors. */
#include "istd/istd.h"
#include "istd/xml_util.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CODES 8

/* How the retour is shaped (IV028 / IV032). */
typedef enum { R_ACCEPTED, R_HEADER_ONLY, R_FULL } retour_mode_t;

typedef struct codes {
    const char *v[MAX_CODES];
    size_t n;
} codes_t;

static void codes_add(codes_t *c, const char *code)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i], code) == 0)
            return;
    if (c->n < MAX_CODES)
        c->v[c->n++] = code;
}

static void prefix_of(const knoop_istd_type_t *t, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", t->name);
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

/* The berichtklasse (of the answer type) an error belongs to: its node or the nearest ancestor that is one. */
static const xmlNode *klasse_of(const knoop_istd_schemas_t *s, const knoop_istd_type_t *a, const xmlNode *n)
{
    for (; n && n->type == XML_ELEMENT_NODE; n = n->parent)
        if (!knoop_istd_x_is(n, "Header") && knoop_istd_is_klasse(s, a, (const char *)n->name))
            return n;
    return NULL;
}

static bool is_rule_error(const knoop_istd_error_t *e)
{
    return e->level == KNOOP_ISTD_LEVEL_RULE;
}
static bool is_niveau2(const knoop_istd_error_t *e)
{
    return is_rule_error(e) && strcmp(e->code, "0001") == 0;
}

/* Decide the shape, and the Header codes. */
static retour_mode_t classify(const knoop_istd_schemas_t *s, const knoop_istd_type_t *a,
                              const knoop_istd_errors_t *errs, codes_t *header)
{
    bool any = false, niveau2 = false;
    for (size_t i = 0; errs && i < errs->n; i++) {
        const knoop_istd_error_t *e = &errs->v[i];
        if (!is_rule_error(e))
            continue;
        any = true;
        if (is_niveau2(e))
            niveau2 = true;
        else if (!klasse_of(s, a, e->klasse))
            codes_add(header, e->code);
    }
    if (!any)
        return R_ACCEPTED;
    if (niveau2) {
        header->n = 0;
        codes_add(header, "0001");
        return R_HEADER_ONLY;
    }
    if (header->n)
        return R_HEADER_ONLY;
    codes_add(header, "0200");
    return R_FULL;
}

static void codes_for(const knoop_istd_schemas_t *s, const knoop_istd_type_t *a, const knoop_istd_errors_t *errs,
                      const xmlNode *heen_node, codes_t *out)
{
    for (size_t i = 0; errs && i < errs->n; i++)
        if (is_rule_error(&errs->v[i]) && !is_niveau2(&errs->v[i]) && klasse_of(s, a, errs->v[i].klasse) == heen_node)
            codes_add(out, errs->v[i].code);
}

static void add_retourcodes(xmlNode *parent, xmlNs *ns, const codes_t *c)
{
    xmlNode *rc = knoop_istd_x_add(parent, ns, "RetourCodes", NULL);
    for (size_t i = 0; rc && i < c->n; i++)
        knoop_istd_x_add(rc, ns, "RetourCode", c->v[i]);
}

static void rename_ns(xmlNode *n, const char *from, const char *to, const char *prefix)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        for (xmlNs *d = n->nsDef; d; d = d->next)
            if (d->href && strcmp((const char *)d->href, from) == 0) {
                xmlFree((xmlChar *)d->href);
                d->href = xmlStrdup(BAD_CAST to);
                if (d->prefix) {
                    xmlFree((xmlChar *)d->prefix);
                    d->prefix = xmlStrdup(BAD_CAST prefix);
                }
            }
        rename_ns(n->children, from, to, prefix);
    }
}

static void set_text(xmlNode *n, const char *text)
{
    if (n)
        xmlNodeSetContent(n, BAD_CAST text);
}

/* Element children of `parent` with basis-namespace children, like XsdVersie / BerichtIdentificatie. */
static xmlNode *add_pair(xmlNode *parent, xmlNs *ns, xmlNs *basis, const char *name, const char *n1, const char *v1,
                         const char *n2, const char *v2)
{
    xmlNode *e = knoop_istd_x_add(parent, ns, name, NULL);
    if (e) {
        knoop_istd_x_add(e, basis, n1, v1);
        knoop_istd_x_add(e, basis, n2, v2);
    }
    return e;
}

static xmlNs *find_ns(xmlNode *root, const char *href)
{
    for (xmlNs *d = root->nsDef; d; d = d->next)
        if (d->href && strcmp((const char *)d->href, href) == 0)
            return d;
    return NULL;
}

/* Pairs of (heen node, copy node) for every berichtklasse below the root, found by walking both trees at once. */
typedef struct pair {
    const xmlNode *heen;
    xmlNode *copy;
} pair_t;
typedef struct pairs {
    pair_t *v;
    size_t n, cap;
} pairs_t;

static int collect_pairs(const knoop_istd_schemas_t *s, const knoop_istd_type_t *a, const xmlNode *h, xmlNode *c,
                         pairs_t *out)
{
    for (; h && c; h = h->next, c = c->next) {
        if (h->type != XML_ELEMENT_NODE)
            continue;
        if (!knoop_istd_x_is(h, "Header") && knoop_istd_is_klasse(s, a, (const char *)h->name)) {
            void *grown = knoop_istd_grow(out->v, &out->cap, out->n, sizeof *out->v);
            if (!grown)
                return -ENOMEM;
            out->v = grown;
            out->v[out->n++] = (pair_t){h, c};
        }
        int rc = collect_pairs(s, a, h->children, c->children, out);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The versions of the XSD the answer is made with (IV034); the heen's own if the XSD states none. */
static void our_versie(const knoop_istd_schemas_t *s, const knoop_istd_type_t *a, const knoop_istd_msg_t *heen, char *b,
                       char *m, size_t cap)
{
    const char *xb, *xm;
    if (knoop_istd_xsd_versie(s, a, &xb, &xm) == 0) {
        snprintf(b, cap, "%s", xb);
        snprintf(m, cap, "%s", xm);
        return;
    }
    knoop_istd_x_text(heen->header, "XsdVersie/BasisschemaXsdVersie", b, cap);
    knoop_istd_x_text(heen->header, "XsdVersie/BerichtXsdVersie", m, cap);
}

static void header_additions(const knoop_istd_schemas_t *s, const knoop_istd_type_t *a, xmlNode *hdr, xmlNs *ns,
                             xmlNs *basis, const knoop_istd_msg_t *heen, const knoop_istd_retour_opts_t *o)
{
    char b[16], m[16];
    our_versie(s, a, heen, b, m, sizeof b);
    knoop_istd_x_add(hdr, ns, "IdentificatieRetour", o->identificatie);
    knoop_istd_x_add(hdr, ns, "DagtekeningRetour", o->dagtekening);
    knoop_istd_x_add(hdr, ns, "XsltVersie", o->xslt_versie ? o->xslt_versie : "1.0.0");
    add_pair(hdr, ns, basis, "XsdVersieRetour", "BasisschemaXsdVersie", b, "BerichtXsdVersie", m);
}

static int build_retour(const knoop_istd_schemas_t *s, const knoop_istd_msg_t *heen, const knoop_istd_type_t *a,
                        const knoop_istd_errors_t *errs, const knoop_istd_retour_opts_t *o, xmlDoc **out)
{
    codes_t hcodes = {0};
    retour_mode_t mode = classify(s, a, errs, &hcodes);
    xmlDoc *doc = xmlCopyDoc(heen->doc, 1);
    if (!doc)
        return -ENOMEM;
    xmlNode *root = xmlDocGetRootElement(doc);
    pairs_t pairs = {0};
    int rc = 0;
    if (mode == R_FULL)
        rc = collect_pairs(s, a, xmlDocGetRootElement(heen->doc)->children, root->children, &pairs);
    if (rc < 0) {
        xmlFreeDoc(doc);
        free(pairs.v);
        return rc;
    }
    for (size_t i = 0; i < pairs.n; i++) {
        codes_t c = {0};
        codes_for(s, a, errs, pairs.v[i].heen, &c);
        if (!c.n)
            codes_add(&c, "0200");
        add_retourcodes(pairs.v[i].copy, root->ns, &c);
    }
    free(pairs.v);
    char prefix[16];
    prefix_of(a, prefix, sizeof prefix);
    rename_ns(root, heen->type->ns, a->ns, prefix);
    xmlNs *basis = find_ns(root, knoop_istd_basis_ns(a->standard));
    xmlNode *hdr = (xmlNode *)knoop_istd_x_child(root, "Header");
    set_text((xmlNode *)knoop_istd_x_child(hdr, "BerichtCode"), a->berichtcode);
    header_additions(s, a, hdr, root->ns, basis, heen, o);
    if (mode != R_ACCEPTED)
        add_retourcodes(hdr, root->ns, &hcodes);
    if (mode != R_FULL) {
        xmlNode *next;
        for (xmlNode *c = hdr->next; c; c = next) {
            next = c->next;
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
    }
    knoop_istd_x_strip_blanks(root); /* generated: pretty-printed by knoop_istd_encode_doc */
    *out = doc;
    return 0;
}

/* ---- 325 ---------------------------------------------------------------------------------------- */

/* Copy element src (from the 323) into parent, moving it into the 325's namespaces; whitespace is dropped. */
static void copy_into(const xmlNode *src, xmlNode *parent, const char *heen_ns, xmlNs *ns, xmlNs *basis)
{
    xmlNs *use = src->ns && strcmp((const char *)src->ns->href, heen_ns) == 0 ? ns : basis;
    xmlNode *e = xmlNewChild(parent, use, src->name, NULL);
    if (!e)
        return;
    for (const xmlNode *c = src->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            copy_into(c, e, heen_ns, ns, basis);
        else if (c->type == XML_TEXT_NODE && !xmlIsBlankNode(c))
            xmlNodeAddContent(e, c->content);
    }
}

static void amount(long long cents, char *num, size_t cap, const char **dc)
{
    snprintf(num, cap, "%lld", cents < 0 ? -cents : cents);
    *dc = cents < 0 ? "C" : "D";
}

static int build_325(const knoop_istd_schemas_t *s, const knoop_istd_msg_t *heen, const knoop_istd_type_t *a,
                     const char *const *line_codes, const codes_t *hcodes, const codes_t *decl_codes,
                     const knoop_istd_retour_opts_t *o, xmlDoc **out)
{
    xmlDoc *doc = xmlNewDoc(BAD_CAST "1.0");
    if (!doc)
        return -ENOMEM;
    char prefix[16];
    prefix_of(a, prefix, sizeof prefix);
    xmlNode *root = xmlNewDocNode(doc, NULL, BAD_CAST "Bericht", NULL);
    xmlDocSetRootElement(doc, root);
    xmlNs *basis = xmlNewNs(root, BAD_CAST knoop_istd_basis_ns(a->standard),
                            BAD_CAST(a->standard == KNOOP_ISTD_IWMO ? "iwmo" : "ijw"));
    xmlNs *ns = xmlNewNs(root, BAD_CAST a->ns, BAD_CAST prefix);
    xmlSetNs(root, ns);
    char b[16], m[16], hb[16], hm[16];
    our_versie(s, a, heen, b, m, sizeof b);
    knoop_istd_x_text(heen->header, "XsdVersie/BasisschemaXsdVersie", hb, sizeof hb);
    knoop_istd_x_text(heen->header, "XsdVersie/BerichtXsdVersie", hm, sizeof hm);
    xmlNode *h = knoop_istd_x_add(root, ns, "Header", NULL);
    knoop_istd_x_add(h, ns, "BerichtCode", a->berichtcode);
    knoop_istd_x_add(h, ns, "BerichtVersie", heen->versie);
    knoop_istd_x_add(h, ns, "BerichtSubversie", heen->subversie);
    knoop_istd_x_add(h, ns, "Afzender", heen->ontvanger);
    knoop_istd_x_add(h, ns, "Ontvanger", heen->afzender);
    add_pair(h, ns, basis, "BerichtIdentificatie", "Identificatie", o->identificatie, "Dagtekening", o->dagtekening);
    add_pair(h, ns, basis, "XsdVersie", "BasisschemaXsdVersie", b, "BerichtXsdVersie", m);
    add_pair(h, ns, basis, "DeclaratieIdentificatie", "Identificatie", heen->identificatie, "Dagtekening",
             heen->dagtekening);
    knoop_istd_x_add(h, ns, "XsltVersie", o->xslt_versie ? o->xslt_versie : "1.0.0");
    add_pair(h, ns, basis, "XsdVersieDeclaratie", "BasisschemaXsdVersie", hb, "BerichtXsdVersie", hm);
    codes_t ok = {0};
    codes_add(&ok, "0200");
    add_retourcodes(h, ns, hcodes && hcodes->n ? hcodes : &ok);
    if (hcodes && hcodes->n) {
        *out = doc;
        return 0;
    } /* header rejected: Header only */

    const xmlNode *decl = knoop_istd_x_child(xmlDocGetRootElement(heen->doc), "Declaratie");
    char nummer[32], total[24], dc[4];
    knoop_istd_x_text(decl, "DeclaratieNummer", nummer, sizeof nummer);
    knoop_istd_x_text(decl, "TotaalIngediendBedrag/TotaalBedrag", total, sizeof total);
    knoop_istd_x_text(decl, "TotaalIngediendBedrag/DebetCredit", dc, sizeof dc);
    long long granted = 0;
    size_t rejected = 0;
    for (size_t i = 0; i < heen->n_lines; i++) {
        if (line_codes && line_codes[i])
            rejected++;
        else
            granted += heen->lines[i].bedrag;
    }
    xmlNode *da = knoop_istd_x_add(root, ns, "DeclaratieAntwoord", NULL);
    knoop_istd_x_add(da, ns, "DeclaratieNummer", nummer);
    add_pair(da, ns, basis, "TotaalIngediendBedrag", "TotaalBedrag", total, "DebetCredit", dc);
    char g[24];
    const char *gdc;
    amount(granted, g, sizeof g, &gdc);
    add_pair(da, ns, basis, "TotaalToegekendBedrag", "TotaalBedrag", g, "DebetCredit", gdc);
    if (rejected) {
        xmlNode *clienten = knoop_istd_x_add(da, ns, "Clienten", NULL);
        for (size_t ci = 0; ci < heen->n_clients; ci++) {
            xmlNode *client = NULL, *prestaties = NULL;
            for (size_t i = 0; i < heen->n_lines; i++) {
                if (heen->lines[i].client != ci || !line_codes[i])
                    continue;
                if (!client) {
                    client = knoop_istd_x_add(clienten, ns, "Client", NULL);
                    knoop_istd_x_add(client, ns, "Bsn", heen->clients[ci].bsn);
                    prestaties = knoop_istd_x_add(client, ns, "Prestaties", NULL);
                }
                copy_into(heen->lines[i].node, prestaties, heen->type->ns, ns, basis);
                codes_t c = {0};
                codes_add(&c, line_codes[i]);
                add_retourcodes(prestaties->last, ns, &c);
            }
            if (client)
                add_retourcodes(client, ns, &ok);
        }
        add_retourcodes(da, ns, decl_codes && decl_codes->n ? decl_codes : &ok);
    } else {
        codes_t full = {0};
        codes_add(&full, "8001");
        add_retourcodes(da, ns, &full);
    }
    *out = doc;
    return 0;
}

int knoop_istd_declaratie_antwoord(const knoop_istd_schemas_t *s, const knoop_istd_msg_t *heen,
                                   const char *const *codes, const knoop_istd_retour_opts_t *o, xmlDoc **out)
{
    if (!heen || !o || !o->identificatie || !o->dagtekening || !out || heen->type->number != 323)
        return -EINVAL;
    *out = NULL;
    return build_325(s, heen, knoop_istd_type_find(heen->type->standard, 325), codes, NULL, NULL, o, out);
}

/* A 323 answered from its level-2 errors: an error on a Prestatie rejects it, on a Client all its Prestaties. */
static int retour_323(const knoop_istd_schemas_t *s, const knoop_istd_msg_t *heen, const knoop_istd_type_t *a,
                      const knoop_istd_errors_t *errs, const knoop_istd_retour_opts_t *o, xmlDoc **out)
{
    codes_t hcodes = {0};
    retour_mode_t mode = classify(s, a, errs, &hcodes);
    if (mode == R_HEADER_ONLY)
        return build_325(s, heen, a, NULL, &hcodes, NULL, o, out);
    const char **codes = calloc(heen->n_lines ? heen->n_lines : 1, sizeof *codes);
    if (!codes)
        return -ENOMEM;
    for (size_t i = 0; errs && i < errs->n; i++) {
        const knoop_istd_error_t *e = &errs->v[i];
        if (!is_rule_error(e))
            continue;
        for (size_t l = 0; l < heen->n_lines; l++) {
            const knoop_istd_line_t *ln = &heen->lines[l];
            bool hit =
                e->klasse == ln->node || (ln->client < heen->n_clients && e->klasse == heen->clients[ln->client].node);
            if (hit && !codes[l])
                codes[l] = e->code;
        }
    }
    int rc = build_325(s, heen, a, codes, NULL, NULL, o, out);
    free(codes);
    return rc;
}

int knoop_istd_retour(const knoop_istd_schemas_t *s, const knoop_istd_msg_t *heen, const knoop_istd_errors_t *errs,
                      const knoop_istd_retour_opts_t *o, xmlDoc **out)
{
    if (!s || !heen || !o || !o->identificatie || !o->dagtekening || !out)
        return -EINVAL;
    *out = NULL;
    if (!heen->type->answer)
        return -EINVAL;
    const knoop_istd_type_t *a = knoop_istd_type_find(heen->type->standard, heen->type->answer);
    if (!a)
        return -EINVAL;
    if (heen->type->number == 323)
        return retour_323(s, heen, a, errs, o, out);
    return build_retour(s, heen, a, errs, o, out);
}
