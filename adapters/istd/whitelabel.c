/* whitelabel.c — identity rewrite for white-label contracts: a member's AGB code becomes the cooperative's
 * AGB code in every field where the standard puts a provider code (and back again for what returns). */
#include "istd/istd.h"
#include "istd/xml_util.h"
#include "base/codes.h"
#include <errno.h>
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
