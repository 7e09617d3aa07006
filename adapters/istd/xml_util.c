/* xml_util.c — internal helpers of the istd adapter over libxml2 trees (lookup by local name, text, append).
 * iWmo/iJw element names are unique per parent, so local names are enough to navigate a validated message. */
#include "istd/xml_util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool knoop_istd_x_is(const xmlNode *n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0;
}

const xmlNode *knoop_istd_x_child(const xmlNode *n, const char *local)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (knoop_istd_x_is(c, local))
            return c;
    return NULL;
}

const xmlNode *knoop_istd_x_next(const xmlNode *n)
{
    for (const xmlNode *c = n ? n->next : NULL; c; c = c->next)
        if (knoop_istd_x_is(c, (const char *)n->name))
            return c;
    return NULL;
}

const xmlNode *knoop_istd_x_at(const xmlNode *n, const char *path)
{
    char part[64];
    while (n && path && *path) {
        const char *slash = strchr(path, '/');
        size_t len = slash ? (size_t)(slash - path) : strlen(path);
        if (len >= sizeof part)
            return NULL;
        memcpy(part, path, len);
        part[len] = '\0';
        n = knoop_istd_x_child(n, part);
        path = slash ? slash + 1 : NULL;
    }
    return n;
}

int knoop_istd_x_text(const xmlNode *n, const char *path, char *buf, size_t cap)
{
    if (!cap)
        return -E2BIG;
    buf[0] = '\0';
    const xmlNode *e = path && *path ? knoop_istd_x_at(n, path) : n;
    if (!e)
        return 0;
    xmlChar *t = xmlNodeGetContent(e);
    if (!t)
        return 0;
    const char *s = (const char *)t;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        len--;
    int rc = 0;
    if (len >= cap) {
        len = cap - 1;
        rc = -E2BIG;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    xmlFree(t);
    return rc;
}

xmlNode *knoop_istd_x_add(xmlNode *parent, xmlNs *ns, const char *name, const char *text)
{
    return xmlNewTextChild(parent, ns, BAD_CAST name, text ? BAD_CAST text : NULL);
}

const xmlNode *knoop_istd_x_ancestor(const xmlNode *n, const char *local)
{
    for (; n; n = n->parent)
        if (knoop_istd_x_is(n, local))
            return n;
    return NULL;
}

void knoop_istd_x_strip_blanks(xmlNode *n)
{
    xmlNode *next;
    for (; n; n = next) {
        next = n->next;
        if (n->type == XML_TEXT_NODE && xmlIsBlankNode(n)) {
            xmlUnlinkNode(n);
            xmlFreeNode(n);
        } else if (n->type == XML_ELEMENT_NODE) {
            knoop_istd_x_strip_blanks(n->children);
        }
    }
}

void *knoop_istd_grow(void *v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap && v)
        return v;
    size_t nc = *cap ? *cap * 2 : 8;
    void *nv = realloc(v, nc * elem);
    if (nv)
        *cap = nc;
    return nv;
}
