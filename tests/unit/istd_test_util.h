/* istd_test_util.h — helpers shared by the tests/unit/test_istd_*.c programs: find the conformance data, read
 * files, load the schema set, decode examples, edit copies and compare documents structurally. */
#ifndef ISTD_TEST_UTIL_H
#define ISTD_TEST_UTIL_H
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <libxml/parser.h>
#include "istd/istd.h"

#define ISTD_SCHEMAS "adapters/istd/schemas"

/* $KNOOP_CONFORMANCE, else tests/data/conformance from the repository root; fails the test when missing. */
static inline const char *istd_conformance(void)
{
    const char *d = getenv("KNOOP_CONFORMANCE");
    if (!d || !*d)
        d = "tests/data/conformance";
    struct stat st;
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
        fail_msg("conformance data not found at %s (set KNOOP_CONFORMANCE or run from the repository root)", d);
    return d;
}

static inline char *istd_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

/* "iwmo-3.2/examples/WMO301.xml" -> contents */
static inline char *istd_read_conf(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", istd_conformance(), rel);
    return istd_read(path, len);
}

static inline knoop_istd_schemas_t *istd_schemas(void)
{
    knoop_istd_errors_t e = {0};
    knoop_istd_schemas_t *s = NULL;
    int rc = knoop_istd_schemas_new(&s, ISTD_SCHEMAS, &e);
    if (rc != 0)
        fail_msg("schemas: %d %s", rc, e.n ? e.v[0].message : "");
    knoop_istd_errors_clear(&e);
    return s;
}

/* The schema set every test of a program shares: loaded once by the group setup, freed by the group teardown. */
static knoop_istd_schemas_t *S;

static inline int istd_group_setup(void **state)
{
    (void)state;
    S = istd_schemas();
    return 0;
}

static inline int istd_group_teardown(void **state)
{
    (void)state;
    knoop_istd_schemas_destroy(&S);
    xmlCleanupParser();
    return 0;
}

static inline void istd_print_errors(const knoop_istd_errors_t *e)
{
    for (size_t i = 0; i < e->n; i++)
        print_message("  level %d line %d code %s: %s\n", e->v[i].level, e->v[i].line, e->v[i].code, e->v[i].message);
}

/* Decode a buffer, failing the test on any error. */
static inline knoop_istd_msg_t *istd_decode_buf(const knoop_istd_schemas_t *s, const char *buf, size_t len)
{
    knoop_istd_errors_t e = {0};
    knoop_istd_msg_t *m = NULL;
    int rc = knoop_istd_decode(s, buf, len, NULL, &m, &e);
    if (rc != 0) {
        istd_print_errors(&e);
        fail_msg("decode failed: %d", rc);
    }
    assert_int_equal(e.n, 0);
    knoop_istd_errors_clear(&e);
    return m;
}

static inline knoop_istd_msg_t *istd_decode_conf(const knoop_istd_schemas_t *s, const char *rel)
{
    size_t len;
    char *buf = istd_read_conf(rel, &len);
    knoop_istd_msg_t *m = istd_decode_buf(s, buf, len);
    free(buf);
    return m;
}

/* Decode a (tampered) copy of a document; the copy is owned by the message. */
static inline int istd_decode_copy(const knoop_istd_schemas_t *s, xmlDoc *doc, knoop_istd_msg_t **m,
                                   knoop_istd_errors_t *e)
{
    return knoop_istd_decode_doc(s, xmlCopyDoc(doc, 1), m, e);
}

/* The n-th (0-based, document order) element with this local name, or NULL. */
static inline xmlNode *istd_nth(xmlNode *n, const char *local, int *nth)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)n->name, local) == 0 && (*nth)-- == 0)
            return n;
        xmlNode *r = istd_nth(n->children, local, nth);
        if (r)
            return r;
    }
    return NULL;
}

static inline xmlNode *istd_find(xmlDoc *doc, const char *local, int nth)
{
    return istd_nth(xmlDocGetRootElement(doc), local, &nth);
}

static inline void istd_set(xmlDoc *doc, const char *local, int nth, const char *text)
{
    xmlNode *n = istd_find(doc, local, nth);
    if (!n)
        fail_msg("no element %s #%d", local, nth);
    xmlNodeSetContent(n, BAD_CAST text);
}

static inline void istd_trim(const xmlChar *in, char *out, size_t cap)
{
    const char *s = in ? (const char *)in : "";
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* Structural equality: same element names and namespaces, same order, same trimmed leaf text; whitespace,
 * prefixes and formatting do not count. Returns NULL or a description of the first difference. */
static inline const char *istd_equiv_nodes(const xmlNode *a, const xmlNode *b, char *why, size_t cap)
{
    for (;;) {
        while (a && a->type != XML_ELEMENT_NODE)
            a = a->next;
        while (b && b->type != XML_ELEMENT_NODE)
            b = b->next;
        if (!a || !b) {
            if (a || b) {
                snprintf(why, cap, "extra element %s (line %ld)", (const char *)(a ? a : b)->name,
                         xmlGetLineNo(a ? a : b));
                return why;
            }
            return NULL;
        }
        const char *na = a->ns ? (const char *)a->ns->href : "", *nb = b->ns ? (const char *)b->ns->href : "";
        if (strcmp((const char *)a->name, (const char *)b->name) != 0 || strcmp(na, nb) != 0) {
            snprintf(why, cap, "element %s vs %s (line %ld / %ld)", a->name, b->name, xmlGetLineNo(a), xmlGetLineNo(b));
            return why;
        }
        const xmlNode *ca = a->children, *cb = b->children;
        while (ca && ca->type != XML_ELEMENT_NODE)
            ca = ca->next;
        while (cb && cb->type != XML_ELEMENT_NODE)
            cb = cb->next;
        if (!ca && !cb) {
            xmlChar *ta = xmlNodeGetContent(a), *tb = xmlNodeGetContent(b);
            char sa[256], sb[256];
            istd_trim(ta, sa, sizeof sa);
            istd_trim(tb, sb, sizeof sb);
            xmlFree(ta);
            xmlFree(tb);
            if (strcmp(sa, sb) != 0) {
                snprintf(why, cap, "%.64s: '%.160s' vs '%.160s'", a->name, sa, sb);
                return why;
            }
        } else {
            const char *r = istd_equiv_nodes(a->children, b->children, why, cap);
            if (r)
                return r;
        }
        a = a->next;
        b = b->next;
    }
}

static inline void istd_assert_equiv(xmlDoc *got, xmlDoc *want, const char *what)
{
    char why[512];
    const char *r = istd_equiv_nodes(xmlDocGetRootElement(got), xmlDocGetRootElement(want), why, sizeof why);
    if (r)
        fail_msg("%s: documents differ: %s", what, r);
}

static inline xmlDoc *istd_parse_conf(const char *rel)
{
    size_t len;
    char *buf = istd_read_conf(rel, &len);
    xmlDoc *d = NULL;
    knoop_istd_errors_t e = {0};
    assert_int_equal(knoop_istd_parse(buf, len, NULL, &d, &e), 0);
    knoop_istd_errors_clear(&e);
    free(buf);
    return d;
}

/* A generated document must validate against the XSD of its own type (by root namespace). */
static inline void istd_assert_valid(const knoop_istd_schemas_t *s, xmlDoc *doc)
{
    const xmlNode *root = xmlDocGetRootElement(doc);
    assert_non_null(root);
    assert_non_null(root->ns);
    const knoop_istd_type_t *t = knoop_istd_type_by_ns((const char *)root->ns->href);
    assert_non_null(t);
    knoop_istd_errors_t e = {0};
    int rc = knoop_istd_validate(s, t, doc, &e);
    if (rc != 0) {
        istd_print_errors(&e);
        fail_msg("%s does not validate", t->name);
    }
    knoop_istd_errors_clear(&e);
}

/* The retour of heen with the errors errs: built, and valid against its own XSD. The caller frees it. */
static inline xmlDoc *istd_valid_retour(const knoop_istd_schemas_t *s, const knoop_istd_msg_t *heen,
                                        const knoop_istd_errors_t *errs, const char *identificatie,
                                        const char *dagtekening)
{
    knoop_istd_retour_opts_t o = {.identificatie = identificatie, .dagtekening = dagtekening};
    xmlDoc *r = NULL;
    assert_int_equal(knoop_istd_retour(s, heen, errs, &o, &r), 0);
    assert_non_null(r);
    istd_assert_valid(s, r);
    return r;
}

static inline bool istd_has_code(const knoop_istd_errors_t *e, const char *code)
{
    for (size_t i = 0; i < e->n; i++)
        if (e->v[i].level == KNOOP_ISTD_LEVEL_RULE && strcmp(e->v[i].code, code) == 0)
            return true;
    return false;
}

/* The RetourCode texts of a document's Header, joined by ','. */
static inline void istd_header_codes(xmlDoc *doc, char *out, size_t cap)
{
    out[0] = '\0';
    xmlNode *h = istd_find(doc, "Header", 0);
    for (xmlNode *c = h ? h->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "RetourCodes") != 0)
            continue;
        for (xmlNode *r = c->children; r; r = r->next) {
            if (r->type != XML_ELEMENT_NODE)
                continue;
            xmlChar *t = xmlNodeGetContent(r);
            size_t l = strlen(out);
            snprintf(out + l, cap - l, "%s%s", l ? "," : "", (const char *)t);
            xmlFree(t);
        }
    }
}
static inline char *istd_replace_all(const char *in, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *p = strstr(in, from); p; p = strstr(p + fl, from))
        n++;
    char *out = malloc(strlen(in) + n * (tl > fl ? tl - fl : 0) + 1);
    assert_non_null(out);
    char *w = out;
    for (const char *p = in;;) {
        const char *q = strstr(p, from);
        if (!q) {
            strcpy(w, p);
            break;
        }
        memcpy(w, p, (size_t)(q - p));
        w += q - p;
        memcpy(w, to, tl);
        w += tl;
        p = q + fl;
    }
    return out;
}

/* An iJw message derived from the iWmo example of the same number: namespaces, prefixes and BerichtCode. */
static inline char *istd_to_ijw(const char *xml, int number)
{
    const knoop_istd_type_t *w = knoop_istd_type_find(KNOOP_ISTD_IWMO, number);
    const knoop_istd_type_t *j = knoop_istd_type_find(KNOOP_ISTD_IJW, number);
    char from[32], to[32];
    char *a = istd_replace_all(xml, "http://www.istandaarden.nl/iwmo/3_2/", "http://www.istandaarden.nl/ijw/3_2/");
    snprintf(from, sizeof from, "wmo%d", number);
    snprintf(to, sizeof to, "jw%d", number);
    char *b = istd_replace_all(a, from, to);
    char *c = istd_replace_all(b, "iwmo:", "ijw:");
    char *d = istd_replace_all(c, "xmlns:iwmo=", "xmlns:ijw=");
    snprintf(from, sizeof from, "BerichtCode>%s<", w->berichtcode);
    snprintf(to, sizeof to, "BerichtCode>%s<", j->berichtcode);
    char *e = istd_replace_all(d, from, to);
    /* the iJw code lists differ: jeugdhulp product categories are 31..55 */
    char *f0 = istd_replace_all(e, "Categorie>01<", "Categorie>45<");
    char *f = istd_replace_all(f0, "Categorie>02<", "Categorie>46<");
    free(f0);
    free(a), free(b), free(c), free(d), free(e);
    return f;
}

#endif
