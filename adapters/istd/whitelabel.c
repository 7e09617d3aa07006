/* whitelabel.c — identity rewrite for white-label contracts: a member's AGB code becomes the cooperative's
 * AGB code in every field where the standard puts a provider code (and back again for what returns).
 * knoop_istd_whitelabel_out is the outbound rewrite towards a white-label financier: it also strips comments and
 * processing instructions and rewrites free text, and refuses what it cannot rewrite safely (a member code in any
 * other field or an attribute), so that the caller never sends a document that still names a member. */
#include "istd/istd.h"
#include "istd/xml_util.h"
#include "base/codes.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Elements of type LDT_AgbCode in the 28 iWmo/iJw 3.2 schemas (grep 'LDT_AgbCode' schemas/): the Header's
 * Afzender/Ontvanger (on the provider side of the message) and ZorgverlenerCode in the body. */
static const char *const agb_fields[] = {"Afzender", "Ontvanger", "ZorgverlenerCode"};

static bool is_agb_field(const xmlNode *n)
{
    for (size_t i = 0; i < sizeof agb_fields / sizeof agb_fields[0]; i++)
        if (knoop_istd_x_is(n, agb_fields[i]))
            return true;
    return false;
}

static void rewrite(xmlNode *n, const char *from, const char *to, size_t *count)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_agb_field(n)) {
            char v[32];
            if (knoop_istd_x_text(n, NULL, v, sizeof v) == 0 && strcmp(v, from) == 0) {
                xmlNodeSetContent(n, BAD_CAST to);
                (*count)++;
            }
        }
        rewrite(n->children, from, to, count);
    }
}

int knoop_istd_whitelabel(const xmlDoc *doc, const char *from, const char *to, xmlDoc **out, size_t *n)
{
    if (out)
        *out = NULL;
    if (!doc || !out || !knoop_code_is_agb(from) || !knoop_code_is_agb(to))
        return -EINVAL;
    xmlDoc *copy = xmlCopyDoc((xmlDoc *)doc, 1);
    if (!copy)
        return -ENOMEM;
    size_t count = 0;
    rewrite(xmlDocGetRootElement(copy), from, to, &count);
    if (n)
        *n = count;
    *out = copy;
    return 0;
}

/* ---- outbound towards a white-label financier ---------------------------------------------------------- */

/* Free text (LDT_Commentaar, LDT_Referentie in the 3.2 schemas): a member code in words is replaced, as in a
 * provider-code field. Any other field holding one (an Identificatie, a name, a number) is not rewritten: that would
 * change what the field means, so the rewrite fails instead. */
static const char *const free_text_fields[] = {"Commentaar", "ReferentieAanbieder"};

typedef struct wl_out {
    const char *const *members;
    size_t n_members;
    const char *to;
    size_t count;
    char *where;
    size_t wherelen;
} wl_out_t;

static bool rewritable(const xmlNode *element)
{
    if (!element || element->type != XML_ELEMENT_NODE)
        return false;
    if (is_agb_field(element))
        return true;
    for (size_t i = 0; i < sizeof free_text_fields / sizeof free_text_fields[0]; i++)
        if (knoop_istd_x_is(element, free_text_fields[i]))
            return true;
    return false;
}

static bool holds_member(const wl_out_t *w, const xmlChar *text)
{
    return text && knoop_agb_find((const char *)text, strlen((const char *)text), w->members, w->n_members, NULL) >= 0;
}

/* Replaces every member code in a text node of a rewritable element (same length: 8 digits for 8 digits). */
static int rewrite_text(wl_out_t *w, xmlNode *text)
{
    const char *old = (const char *)text->content;
    size_t len = strlen(old), k;
    char *copy = malloc(len + 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, old, len + 1);
    long at;
    for (size_t from = 0; (at = knoop_agb_find(copy + from, len - from, w->members, w->n_members, &k)) >= 0;) {
        memcpy(copy + from + (size_t)at, w->to, 8);
        from += (size_t)at + 8;
        w->count++;
    }
    xmlNodeSetContent(text, BAD_CAST copy); /* a text node's content is taken as it is, not parsed */
    free(copy);
    return 0;
}

static int fail_at(wl_out_t *w, const char *what, const xmlChar *name)
{
    if (w->where && w->wherelen)
        snprintf(w->where, w->wherelen, "%s%s", what, name ? (const char *)name : "?");
    return -EPERM;
}

/* Children of n: comments and processing instructions go, adjacent text merges (so a code split around a removed
 * comment is seen whole), and every text, attribute and namespace is checked for a member code. */
static int rewrite_out(wl_out_t *w, xmlNode *parent, xmlNode *first)
{
    for (xmlNode *n = first, *next; n; n = next) {
        next = n->next;
        if (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
            continue;
        }
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            while (n->type == XML_TEXT_NODE && next &&
                   (next->type == XML_COMMENT_NODE || next->type == XML_PI_NODE || next->type == XML_TEXT_NODE)) {
                xmlNode *after = next->next;
                if (next->type == XML_TEXT_NODE) {
                    if (!xmlTextMerge(n, next)) /* frees next; refuses two kinds of text: next is seen on its own */
                        break;
                } else {
                    xmlUnlinkNode(next);
                    xmlFreeNode(next);
                }
                next = after;
            }
            if (!holds_member(w, n->content))
                continue;
            if (!rewritable(parent))
                return fail_at(w, "element ", parent ? parent->name : NULL);
            int rc = rewrite_text(w, n);
            if (rc != 0)
                return rc;
            continue;
        }
        if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_NODE || n->type == XML_DTD_NODE)
            return fail_at(w, "entity or DTD ",
                           n->name); /* the parser refuses these; a document with one is not ours */
        if (n->type != XML_ELEMENT_NODE)
            continue;
        for (xmlAttr *a = n->properties; a; a = a->next)
            for (xmlNode *t = a->children; t; t = t->next)
                if (holds_member(w, t->content))
                    return fail_at(w, "attribute ", a->name);
        for (xmlNs *ns = n->nsDef; ns; ns = ns->next)
            if (holds_member(w, ns->href))
                return fail_at(w, "namespace of ", n->name);
        if (holds_member(w, n->name))
            return fail_at(w, "element name ", NULL);
        int rc = rewrite_out(w, n, n->children);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int knoop_istd_whitelabel_out(const xmlDoc *doc, const char *const *members, size_t n_members, const char *to,
                              xmlDoc **out, size_t *n, char *where, size_t wherelen)
{
    if (out)
        *out = NULL;
    if (where && wherelen)
        where[0] = '\0';
    if (!doc || !out || !knoop_code_is_agb(to) || (n_members && !members))
        return -EINVAL;
    for (size_t i = 0; i < n_members; i++)
        if (!knoop_code_is_agb(members[i]))
            return -EINVAL;
    xmlDoc *copy = xmlCopyDoc((xmlDoc *)doc, 1);
    if (!copy)
        return -ENOMEM;
    wl_out_t w = {.members = members, .n_members = n_members, .to = to, .where = where, .wherelen = wherelen};
    int rc = copy->intSubset || copy->extSubset ? fail_at(&w, "DTD ", NULL) : rewrite_out(&w, NULL, copy->children);
    if (rc != 0) {
        xmlFreeDoc(copy);
        return rc;
    }
    if (n)
        *n = w.count;
    *out = copy;
    return 0;
}
