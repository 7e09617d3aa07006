/* parse.c — safe parsing of untrusted iWmo/iJw XML: size limit, no network, no entities, no DOCTYPE, depth and node
 * limits.
 * libxml2's errors go to the caller's list through the parser's own structured handler, never to stderr. */
#include "istd/istd.h"
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

typedef struct parse_ctx {
    knoop_istd_errors_t *errs;
    bool doctype;
    size_t nodes, max_nodes;
    bool too_many;
} parse_ctx_t;

static void on_error(void *data, xmlError *err)
{
    xmlParserCtxt *ctxt = data;
    parse_ctx_t *pc = ctxt ? ctxt->_private : NULL;
    if (!pc || !err || err->level == XML_ERR_WARNING)
        return;
    knoop_istd_errors_add(pc->errs, KNOOP_ISTD_LEVEL_PARSE, NULL, NULL, err->line, NULL, "%s",
                          err->message ? err->message : "XML error");
}

/* Called at "<!DOCTYPE", before any entity declaration is read: stop there (XML bombs, XXE). */
static void on_doctype(void *data, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    (void)name, (void)ext, (void)sys;
    xmlParserCtxt *ctxt = data;
    parse_ctx_t *pc = ctxt->_private;
    pc->doctype = true;
    knoop_istd_errors_add(pc->errs, KNOOP_ISTD_LEVEL_PARSE, NULL, NULL, xmlSAX2GetLineNumber(ctxt), NULL,
                          "DOCTYPE / entity declarations are not allowed in iWmo/iJw messages (refused)");
    xmlStopParser(ctxt);
}

static void on_entity_decl(void *data, const xmlChar *name, int type, const xmlChar *pub, const xmlChar *sys,
                           xmlChar *content)
{
    (void)name, (void)type, (void)pub, (void)sys, (void)content;
    xmlParserCtxt *ctxt = data;
    ((parse_ctx_t *)ctxt->_private)->doctype = true;
    xmlStopParser(ctxt);
}

/* Counts n more nodes; past the limit the parser stops before it builds them. */
static bool count_nodes(xmlParserCtxt *ctxt, size_t n)
{
    parse_ctx_t *pc = ctxt->_private;
    pc->nodes += n;
    if (pc->nodes <= pc->max_nodes)
        return true;
    if (!pc->too_many) {
        pc->too_many = true;
        knoop_istd_errors_add(pc->errs, KNOOP_ISTD_LEVEL_PARSE, NULL, NULL, xmlSAX2GetLineNumber(ctxt), NULL,
                              "more than %zu XML nodes (elements, attributes, comments); the limit is %zu",
                              pc->max_nodes, pc->max_nodes);
    }
    xmlStopParser(ctxt);
    return false;
}

static void on_start_element(void *data, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri,
                             int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                             const xmlChar **attributes)
{
    if (count_nodes(data, 1 + (size_t)(nb_attributes > 0 ? nb_attributes : 0) +
                              (size_t)(nb_namespaces > 0 ? nb_namespaces : 0)))
        xmlSAX2StartElementNs(data, local, prefix, uri, nb_namespaces, namespaces, nb_attributes, nb_defaulted,
                              attributes);
}

static void on_comment(void *data, const xmlChar *value)
{
    if (count_nodes(data, 1))
        xmlSAX2Comment(data, value);
}

static void on_pi(void *data, const xmlChar *target, const xmlChar *value)
{
    if (count_nodes(data, 1))
        xmlSAX2ProcessingInstruction(data, target, value);
}

static const xmlNode *first_elem(const xmlNode *n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

static int depth_of(const xmlNode *root)
{
    int max = 0, d = 1;
    const xmlNode *n = root;
    for (;;) {
        if (d > max)
            max = d;
        const xmlNode *c = first_elem(n->children);
        if (c) {
            n = c;
            d++;
            continue;
        }
        while (n != root) {
            const xmlNode *sib = first_elem(n->next);
            if (sib) {
                n = sib;
                break;
            }
            n = n->parent;
            d--;
        }
        if (n == root)
            return max;
    }
}

int knoop_istd_parse(const char *buf, size_t len, const knoop_istd_limits_t *lim, xmlDoc **out,
                     knoop_istd_errors_t *errs)
{
    if (!out || (!buf && len))
        return -EINVAL;
    *out = NULL;
    size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : KNOOP_ISTD_MAX_BYTES_DEFAULT;
    int max_depth = lim && lim->max_depth > 0 ? lim->max_depth : KNOOP_ISTD_MAX_DEPTH_DEFAULT;
    if (len > max_bytes) {
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_PARSE, NULL, NULL, 0, NULL,
                              "message of %zu bytes exceeds the limit of %zu bytes", len, max_bytes);
        return -EMSGSIZE;
    }
    if (len > INT_MAX)
        return -EMSGSIZE;
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return -ENOMEM;
    parse_ctx_t pc = {.errs = errs, .max_nodes = lim && lim->max_nodes ? lim->max_nodes : KNOOP_ISTD_MAX_NODES_DEFAULT};
    ctxt->_private = &pc;
    ctxt->sax->startElementNs = on_start_element;
    ctxt->sax->comment = on_comment;
    ctxt->sax->processingInstruction = on_pi;
    ctxt->sax->serror = on_error;
    ctxt->sax->error = NULL;
    ctxt->sax->warning = NULL;
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->initialized = XML_SAX2_MAGIC;
    /* NONET: no fetching; no NOENT/DTDLOAD/DTDATTR: nothing is substituted or loaded */
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    bool wf = ctxt->wellFormed && !pc.doctype && !pc.too_many;
    xmlFreeParserCtxt(ctxt);
    if (pc.too_many) {
        if (doc)
            xmlFreeDoc(doc);
        return -EMSGSIZE;
    }
    if (doc && (doc->intSubset || doc->extSubset))
        pc.doctype = true, wf = false;
    if (!doc || !wf) {
        if (doc)
            xmlFreeDoc(doc);
        if (knoop_istd_errors_count(errs, KNOOP_ISTD_LEVEL_PARSE) == 0)
            knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_PARSE, NULL, NULL, 0, NULL, "not well-formed XML");
        return -EBADMSG;
    }
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root) {
        xmlFreeDoc(doc);
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_PARSE, NULL, NULL, 0, NULL, "document has no root element");
        return -EBADMSG;
    }
    int depth = depth_of(root);
    if (depth > max_depth) {
        xmlFreeDoc(doc);
        knoop_istd_errors_add(errs, KNOOP_ISTD_LEVEL_PARSE, NULL, NULL, 0, NULL,
                              "element depth %d exceeds the limit of %d", depth, max_depth);
        return -EBADMSG;
    }
    *out = doc;
    return 0;
}
