/* xml_util.h — small internal helpers of the istd adapter over libxml2 trees: find children by local name,
 * read trimmed text at a path, add elements. Not part of the public API (istd.h). */
#ifndef KNOOP_ISTD_XML_UTIL_H
#define KNOOP_ISTD_XML_UTIL_H
#include <stdbool.h>
#include <stddef.h>
#include <libxml/tree.h>

const xmlNode *knoop_istd_x_child(const xmlNode *n, const char *local); /* first element child */
const xmlNode *knoop_istd_x_next(const xmlNode *n);                     /* next sibling, same name */
const xmlNode *knoop_istd_x_at(const xmlNode *n, const char *path);     /* "A/B/C" */
/* Trimmed text of the element at path ("" if absent). 0, or -E2BIG (truncated). */
int knoop_istd_x_text(const xmlNode *n, const char *path, char *buf, size_t cap);
bool knoop_istd_x_is(const xmlNode *n, const char *local); /* element with this local name */
/* New element `name` in ns, with optional text, appended to parent (or after `after` if given). */
xmlNode *knoop_istd_x_add(xmlNode *parent, xmlNs *ns, const char *name, const char *text);
/* The ancestor-or-self element with this local name, or NULL. */
const xmlNode *knoop_istd_x_ancestor(const xmlNode *n, const char *local);
/* Room for one more element in a growable array v of *cap elements of which n are used (doubling).
 * Returns the (possibly moved) array, or NULL when out of memory (then v and *cap are unchanged). */
void *knoop_istd_grow(void *v, size_t *cap, size_t n, size_t elem);
/* Removes whitespace-only text nodes below n (so that a generated document can be pretty-printed). */
void knoop_istd_x_strip_blanks(xmlNode *n);
#endif
