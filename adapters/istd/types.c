/* types.c — the table of the 28 iWmo 3.2 / iJw 3.2 messages knoop speaks: BerichtCode, namespace, kind, answer.
 * Everything that differs per message type is a row here, so the rest of the adapter is table-driven. */
#include "istd/istd.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NS_WMO(n) "http://www.istandaarden.nl/iwmo/3_2/wmo" #n "/schema"
#define NS_JW(n)  "http://www.istandaarden.nl/ijw/3_2/jw" #n "/schema"
/* kinds: enum knoop.Kind in proto/knoop.proto */
enum {
    K_ASSIGNMENT = 2,
    K_START = 3,
    K_STOP = 4,
    K_REQUEST = 5,
    K_CHANGE = 6,
    K_ANSWER = 7,
    K_DECL = 8,
    K_DECL_ANSWER = 9,
    K_RETOUR = 10
};
#define ROW(std, pfx, NSM, n, code, kind, answer, fromg)                                                               \
    {                                                                                                                  \
        std, n, pfx #n, code, NSM(n), kind, answer, fromg                                                              \
    }
#define WMO(n, code, kind, answer, fromg) ROW(KNOOP_ISTD_IWMO, "WMO", NS_WMO, n, code, kind, answer, fromg)
#define JW(n, code, kind, answer, fromg)  ROW(KNOOP_ISTD_IJW, "JW", NS_JW, n, code, kind, answer, fromg)

static const knoop_istd_type_t types[] = {
    WMO(301, "414", K_ASSIGNMENT, 302, true), WMO(302, "415", K_RETOUR, 0, true),
    WMO(305, "418", K_START, 306, false),     WMO(306, "419", K_RETOUR, 0, false),
    WMO(307, "420", K_STOP, 308, false),      WMO(308, "421", K_RETOUR, 0, false),
    WMO(315, "444", K_REQUEST, 316, false),   WMO(316, "445", K_RETOUR, 0, false),
    WMO(317, "480", K_CHANGE, 318, false),    WMO(318, "481", K_RETOUR, 0, false),
    WMO(319, "482", K_ANSWER, 320, true),     WMO(320, "483", K_RETOUR, 0, true),
    WMO(323, "484", K_DECL, 325, false),      WMO(325, "485", K_DECL_ANSWER, 0, true),
    JW(301, "436", K_ASSIGNMENT, 302, true),  JW(302, "437", K_RETOUR, 0, true),
    JW(305, "438", K_START, 306, false),      JW(306, "439", K_RETOUR, 0, false),
    JW(307, "440", K_STOP, 308, false),       JW(308, "441", K_RETOUR, 0, false),
    JW(315, "446", K_REQUEST, 316, false),    JW(316, "447", K_RETOUR, 0, false),
    JW(317, "486", K_CHANGE, 318, false),     JW(318, "487", K_RETOUR, 0, false),
    JW(319, "488", K_ANSWER, 320, true),      JW(320, "489", K_RETOUR, 0, true),
    JW(323, "490", K_DECL, 325, false),       JW(325, "491", K_DECL_ANSWER, 0, true),
};

const knoop_istd_type_t *knoop_istd_types(size_t *n)
{
    if (n)
        *n = sizeof types / sizeof types[0];
    return types;
}

const knoop_istd_type_t *knoop_istd_type_find(knoop_istd_standard_t s, int number)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].standard == s && types[i].number == number)
            return &types[i];
    return NULL;
}

const knoop_istd_type_t *knoop_istd_type_by_ns(const char *ns)
{
    if (!ns)
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].ns, ns) == 0)
            return &types[i];
    return NULL;
}

const char *knoop_istd_standard_name(knoop_istd_standard_t s)
{
    return s == KNOOP_ISTD_IWMO ? "iwmo-3.2" : s == KNOOP_ISTD_IJW ? "ijw-3.2" : "?";
}

const char *knoop_istd_basis_ns(knoop_istd_standard_t s)
{
    return s == KNOOP_ISTD_IWMO ? "http://www.istandaarden.nl/iwmo/3_2/basisschema/schema"
                                : "http://www.istandaarden.nl/ijw/3_2/basisschema/schema";
}

int knoop_istd_content_type(const knoop_istd_type_t *t, char *buf, size_t cap)
{
    if (!t || !buf)
        return -EINVAL;
    int n = snprintf(buf, cap, "application/xml; %s; %s", knoop_istd_standard_name(t->standard), t->name);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}
