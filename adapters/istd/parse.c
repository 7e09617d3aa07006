/* parse.c — safe parsing of untrusted iWmo/iJw XML: size limit, no network, no entities, no DOCTYPE, depth limit.
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
    parse_ctx_t pc = {.errs = errs};
    ctxt->_private = &pc;
    ctxt->sax->serror = on_error;
    ctxt->sax->error = NULL;
    ctxt->sax->warning = NULL;
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->entityDecl = on_entity_decl;
    ctxt->sax->initialized = XML_SAX2_MAGIC;
    /* NONET: no fetching; no NOENT/DTDLOAD/DTDATTR: nothing is substituted or loaded */
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    bool wf = ctxt->wellFormed && !pc.doctype;
    xmlFreeParserCtxt(ctxt);
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
