/* fuzz_istd.c — the iWmo/iJw adapter on hostile bytes: safe parse, level-1 validation and decode; for what decodes,
 * the level-2 rules, the retour, the white-label rewrite and re-encoding. Nothing may crash, leak or read out of
 * bounds; every error must be collected, not printed. Seeds: the official and derived examples in tests/data. */
#include <libxml/parser.h>
#include <stdlib.h>
#include "fuzz.h"
#include "istd/istd.h"

static knoop_istd_schemas_t *schemas;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    knoop_istd_errors_t errs = {0};
    const char *dir = getenv("KNOOP_SCHEMAS");
    if (knoop_istd_schemas_new(&schemas, dir && *dir ? dir : "adapters/istd/schemas", &errs) != 0)
        abort(); /* run from the repository root, or set KNOOP_SCHEMAS */
    knoop_istd_errors_clear(&errs);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    knoop_istd_errors_t errs = {0};
    knoop_istd_msg_t *msg = NULL;
    if (knoop_istd_decode(schemas, (const char *)data, size, NULL, &msg, &errs) == 0 && msg) {
        knoop_istd_errors_t rule_errs = {0};
        knoop_istd_check_opts_t opts = {.today = "2026-12-04"};
        knoop_istd_check(msg, &opts, &rule_errs);
        xmlDoc *retour = NULL;
        knoop_istd_retour_opts_t ropts = {.identificatie = "FUZZ1", .dagtekening = "2026-12-04"};
        if (knoop_istd_retour(schemas, msg, &rule_errs, &ropts, &retour) == 0)
            xmlFreeDoc(retour);
        xmlDoc *rewritten = NULL;
        if (knoop_istd_whitelabel(msg->doc, knoop_istd_msg_sender(msg), "99990000", &rewritten, NULL) == 0)
            xmlFreeDoc(rewritten);
        static const char *const members[] = {"42420001", "99990001"}; /* the outbound rewrite, with its refusals */
        char where[64];
        if (knoop_istd_whitelabel_out(msg->doc, members, 2, "99990000", &rewritten, NULL, where, sizeof where) == 0)
            xmlFreeDoc(rewritten);
        char *out = NULL;
        size_t len = 0;
        if (knoop_istd_encode(msg, &out, &len) == 0)
            free(out);
        knoop_istd_errors_clear(&rule_errs);
        knoop_istd_msg_destroy(&msg);
    }
    knoop_istd_errors_clear(&errs);
    return 0;
}
