/* schemas.c — the set of 28 compiled XSDs (iWmo 3.2 + iJw 3.2), parsed once and then shared read-only;
 * level-1 validation with a fresh validation context per call, and the berichtklassen read from each XSD. */
#include "istd/istd.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#define MAX_KLASSEN 32

typedef struct entry {
    const knoop_istd_type_t *type;
    xmlSchema *schema;          /* owned */
    char *klassen[MAX_KLASSEN]; /* owned: element names that carry RetourCodes */
    size_t n_klassen;
    char basis_versie[16], bericht_versie[16]; /* appinfo BasisschemaXsdVersie / BerichtXsdVersie */
} entry_t;

struct knoop_istd_schemas {
    entry_t *v; /* owned, one per row of knoop_istd_types() */
    size_t n;
};

static void on_error(void *ctx, xmlError *err)
{
    knoop_istd_errors_t *errs = ctx;
    if (!err || err->level == XML_ERR_WARNING)
        return;
    knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_SCHEMA, NULL, NULL, err->line, NULL, "%s%s%s",
                          err->file ? err->file : "", err->file ? ": " : "", err->message ? err->message : "error");
}

static bool is_xs(const xmlNode *n, const char *local)
{
    return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST local);
}

static bool has_retourcodes(const xmlNode *ct)
{
    for (const xmlNode *seq = ct->children; seq; seq = seq->next) {
        if (!is_xs(seq, "sequence"))
            continue;
        for (const xmlNode *el = seq->children; el; el = el->next) {
            if (!is_xs(el, "element"))
                continue;
            xmlChar *name = xmlGetProp(el, BAD_CAST "name");
            bool yes = name && xmlStrEqual(name, BAD_CAST "RetourCodes");
            xmlFree(name);
            if (yes)
                return true;
        }
    }
    return false;
}

static int add_klasse(entry_t *e, const char *name)
{
    for (size_t i = 0; i < e->n_klassen; i++)
        if (strcmp(e->klassen[i], name) == 0)
            return 0;
    if (e->n_klassen == MAX_KLASSEN)
        return -E2BIG;
    e->klassen[e->n_klassen] = strdup(name);
    if (!e->klassen[e->n_klassen])
        return -ENOMEM;
    e->n_klassen++;
    return 0;
}

/* Every xs:element below n whose type is one of the given complexTypes (XSDs are shallow: recursion is fine). */
static int add_typed_elements(entry_t *e, const xmlNode *n, char types[][64], size_t nt)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (is_xs(c, "element")) {
            xmlChar *type = xmlGetProp(c, BAD_CAST "type");
            xmlChar *name = xmlGetProp(c, BAD_CAST "name");
            const char *local = type ? strchr((const char *)type, ':') : NULL;
            local = local ? local + 1 : (const char *)type;
            int rc = 0;
            for (size_t i = 0; local && name && i < nt && rc == 0; i++)
                if (strcmp(local, types[i]) == 0 && strcmp((const char *)name, "RetourCodes") != 0)
                    rc = add_klasse(e, (const char *)name);
            xmlFree(type);
            xmlFree(name);
            if (rc < 0)
                return rc;
        }
        int rc = add_typed_elements(e, c, types, nt);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* IV034: a message states the XSD versions it was made with, as the schema's appinfo gives them. */
static void read_versions(entry_t *e, const xmlNode *root)
{
    for (const xmlNode *ann = root ? root->children : NULL; ann; ann = ann->next) {
        if (!is_xs(ann, "annotation"))
            continue;
        for (const xmlNode *ai = ann->children; ai; ai = ai->next) {
            if (!is_xs(ai, "appinfo"))
                continue;
            for (const xmlNode *v = ai->children; v; v = v->next) {
                char *dst = is_xs(v, "BasisschemaXsdVersie") ? e->basis_versie
                            : is_xs(v, "BerichtXsdVersie")   ? e->bericht_versie
                                                             : NULL;
                if (!dst)
                    continue;
                xmlChar *t = xmlNodeGetContent(v);
                snprintf(dst, sizeof e->basis_versie, "%s", t ? (const char *)t : "");
                xmlFree(t);
            }
        }
    }
}

/* A berichtklasse is an element whose complexType (in this message's own namespace) ends in RetourCodes.
 * Reading it from the XSD keeps the retour generator free of per-message tables. */
static int read_klassen(entry_t *e, const char *path)
{
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return -EINVAL;
    const xmlNode *root = xmlDocGetRootElement(doc);
    char types[MAX_KLASSEN][64];
    size_t nt = 0;
    for (const xmlNode *n = root ? root->children : NULL; n; n = n->next) {
        if (!is_xs(n, "complexType") || !has_retourcodes(n))
            continue;
        xmlChar *name = xmlGetProp(n, BAD_CAST "name");
        if (name && nt < MAX_KLASSEN)
            snprintf(types[nt++], sizeof types[0], "%s", (const char *)name);
        xmlFree(name);
    }
    int rc = add_typed_elements(e, root, types, nt);
    read_versions(e, root);
    xmlFreeDoc(doc);
    return rc;
}

static int load_one(entry_t *e, const char *dir, knoop_istd_errors_t *errs)
{
    char path[PATH_MAX];
    int w =
        snprintf(path, sizeof path, "%s/%s/%s.xsd", dir, knoop_istd_standard_name(e->type->standard), e->type->name);
    if (w < 0 || (size_t)w >= sizeof path)
        return -ENAMETOOLONG;
    FILE *f = fopen(path, "rb");
    if (!f) {
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_SCHEMA, NULL, NULL, 0, NULL, "%s: cannot open schema", path);
        return -ENOENT;
    }
    fclose(f);
    xmlSchemaParserCtxt *pc = xmlSchemaNewParserCtxt(path);
    if (!pc)
        return -ENOMEM;
    xmlSchemaSetParserStructuredErrors(pc, on_error, errs);
    e->schema = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    if (!e->schema) {
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_SCHEMA, NULL, NULL, 0, NULL, "%s: schema does not compile", path);
        return -EINVAL;
    }
    return read_klassen(e, path);
}

int knoop_istd_schemas_new(knoop_istd_schemas_t **out, const char *dir, knoop_istd_errors_t *errs)
{
    if (!out || !dir)
        return -EINVAL;
    *out = NULL;
    xmlInitParser(); /* idempotent; must happen before other threads use libxml2 */
    size_t n;
    const knoop_istd_type_t *types = knoop_istd_types(&n);
    knoop_istd_schemas_t *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->v = calloc(n, sizeof *s->v);
    if (!s->v) {
        free(s);
        return -ENOMEM;
    }
    s->n = n;
    for (size_t i = 0; i < n; i++) {
        s->v[i].type = &types[i];
        int rc = load_one(&s->v[i], dir, errs);
        if (rc < 0) {
            knoop_istd_schemas_destroy(&s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

void knoop_istd_schemas_destroy(knoop_istd_schemas_t **p)
{
    if (!p || !*p)
        return;
    knoop_istd_schemas_t *s = *p;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].schema)
            xmlSchemaFree(s->v[i].schema);
        for (size_t k = 0; k < s->v[i].n_klassen; k++)
            free(s->v[i].klassen[k]);
    }
    free(s->v);
    free(s);
    *p = NULL;
}

static const entry_t *find(const knoop_istd_schemas_t *s, const knoop_istd_type_t *t)
{
    for (size_t i = 0; s && t && i < s->n; i++)
        if (s->v[i].type == t)
            return &s->v[i];
    return NULL;
}

int knoop_istd_validate(const knoop_istd_schemas_t *s, const knoop_istd_type_t *t, xmlDoc *doc,
                        knoop_istd_errors_t *errs)
{
    const entry_t *e = find(s, t);
    if (!e || !doc)
        return -EINVAL;
    xmlSchemaValidCtxt *vc = xmlSchemaNewValidCtxt(e->schema);
    if (!vc)
        return -ENOMEM;
    xmlSchemaSetValidStructuredErrors(vc, on_error, errs);
    int rc = xmlSchemaValidateDoc(vc, doc);
    xmlSchemaFreeValidCtxt(vc);
    if (rc == 0)
        return 0;
    if (knoop_istd_errors_count(errs, KNOOP_ISTD_LEVEL_SCHEMA) == 0)
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_SCHEMA, NULL, NULL, 0, NULL,
                              "document is not valid against %s.xsd", t->name);
    return rc < 0 ? -ENOMEM : -EBADMSG;
}

int knoop_istd_xsd_versie(const knoop_istd_schemas_t *s, const knoop_istd_type_t *t, const char **basis,
                          const char **bericht)
{
    const entry_t *e = find(s, t);
    if (!e || !e->basis_versie[0] || !e->bericht_versie[0])
        return -ENOENT;
    *basis = e->basis_versie;
    *bericht = e->bericht_versie;
    return 0;
}

bool knoop_istd_is_klasse(const knoop_istd_schemas_t *s, const knoop_istd_type_t *t, const char *local)
{
    const entry_t *e = find(s, t);
    for (size_t i = 0; e && local && i < e->n_klassen; i++)
        if (strcmp(e->klassen[i], local) == 0)
            return true;
    return false;
}
