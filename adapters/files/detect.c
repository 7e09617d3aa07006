/* detect.c — which iWmo/iJw message a dropped file holds, read from the root element's namespace with a small
 * scanner that never expands an entity: knoopd validates the message itself; this only names its content type. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "files/files.h"
#include "istd/istd.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int starts(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* The first occurrence of lit in [p, end), or NULL. */
static const char *find(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);
    for (; (size_t)(end - p) >= n; p++)
        if (memcmp(p, lit, n) == 0)
            return p;
    return NULL;
}

static int fail(char *why, size_t len, const char *msg)
{
    snprintf(why, len, "%s", msg);
    return -EINVAL;
}

int knoop_files_detect(const char *buf, size_t len, char *ct, size_t ctlen, char *type, size_t typelen, char *why,
                       size_t whylen)
{
    const char *p = buf, *end = buf + len;
    if (len == 0)
        return fail(why, whylen, "empty file");
    if (len >= 2 && (((unsigned char)p[0] == 0xFE && (unsigned char)p[1] == 0xFF) ||
                     ((unsigned char)p[0] == 0xFF && (unsigned char)p[1] == 0xFE)))
        return fail(why, whylen, "UTF-16 is not accepted: iWmo/iJw files are UTF-8");
    if (starts(p, end, "\xEF\xBB\xBF"))
        p += 3;
    /* Prolog: XML declaration, processing instructions, comments. A DOCTYPE is refused outright: no iWmo/iJw
     * message has one, and refusing it here means no entity is ever declared, let alone expanded. */
    for (;;) {
        while (p < end && is_space(*p))
            p++;
        if (p >= end)
            return fail(why, whylen, "not XML: no root element");
        if (*p != '<')
            return fail(why, whylen, "not XML: the file does not start with '<'");
        if (starts(p, end, "<?")) {
            const char *q = find(p + 2, end, "?>");
            if (!q)
                return fail(why, whylen, "not XML: unterminated XML declaration or processing instruction");
            p = q + 2;
        } else if (starts(p, end, "<!--")) {
            const char *q = find(p + 4, end, "-->");
            if (!q)
                return fail(why, whylen, "not XML: unterminated comment");
            p = q + 3;
        } else if (starts(p, end, "<!")) {
            return fail(why, whylen,
                        "DOCTYPE / entity declarations are not allowed in iWmo/iJw messages "
                        "(XML bomb and XXE protection); not sent");
        } else {
            break;
        }
    }
    /* The root start tag: its qualified name, then attributes until '>'. */
    p++;
    const char *name = p;
    while (p < end && !is_space(*p) && *p != '>' && *p != '/')
        p++;
    size_t name_len = (size_t)(p - name);
    const char *colon = memchr(name, ':', name_len);
    const char *local = colon ? colon + 1 : name;
    size_t prefix_len = colon ? (size_t)(colon - name) : 0;
    if ((size_t)(name + name_len - local) != 7 || memcmp(local, "Bericht", 7) != 0)
        return fail(why, whylen, "not an iWmo/iJw message: the root element is not a Bericht");
    char ns[256] = "";
    for (;;) {
        while (p < end && is_space(*p))
            p++;
        if (p >= end)
            return fail(why, whylen, "not XML: the root element's start tag is not closed");
        if (*p == '>' || *p == '/')
            break;
        const char *an = p;
        while (p < end && !is_space(*p) && *p != '=' && *p != '>')
            p++;
        size_t an_len = (size_t)(p - an);
        while (p < end && is_space(*p))
            p++;
        if (p >= end || *p != '=')
            return fail(why, whylen, "not XML: an attribute of the root element has no value");
        p++;
        while (p < end && is_space(*p))
            p++;
        if (p >= end || (*p != '"' && *p != '\''))
            return fail(why, whylen, "not XML: an attribute value of the root element is not quoted");
        char quote = *p++;
        const char *v = p;
        while (p < end && *p != quote)
            p++;
        if (p >= end)
            return fail(why, whylen, "not XML: unterminated attribute value");
        size_t v_len = (size_t)(p - v);
        p++;
        int match = prefix_len ? (an_len == 6 + prefix_len && memcmp(an, "xmlns:", 6) == 0 &&
                                  memcmp(an + 6, name, prefix_len) == 0)
                               : (an_len == 5 && memcmp(an, "xmlns", 5) == 0);
        if (match && v_len < sizeof ns) {
            memcpy(ns, v, v_len);
            ns[v_len] = '\0';
        }
    }
    const knoop_istd_type_t *t = knoop_istd_type_by_ns(ns);
    if (!t) {
        snprintf(why, whylen,
                 "not an iWmo 3.2 / iJw 3.2 message: root namespace '%.200s' is not one of the 28 "
                 "message namespaces",
                 ns[0] ? ns : "(none)");
        return -EINVAL;
    }
    if (knoop_istd_content_type(t, ct, ctlen) != 0)
        return fail(why, whylen, "content type too long");
    snprintf(type, typelen, "%s", t->name);
    return 0;
}
