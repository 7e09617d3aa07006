/* adapter_table.c — the protocol adapters of the one ingest pipeline (ingest/adapter.h), one row each: name, the
 * content types it takes, its steps. Start-up sets b->adapters to this table; a payload no row takes is checked and
 * routed as it is (native knoop.domain protobuf, or opaque). */
#include "ingest/adapter.h"
#include "legacy/xml_ingest.h"

const knoop_adapter_t knoop_adapter_table[] = {
    /* iWmo 3.2 / iJw 3.2 XML: level 1 and 2, ledger, retour, white label (legacy/xml_ingest.c) */
    {"istd", knoop_xml_is_istd, knoop_xml_step, knoop_xml_finish, knoop_xml_release, knoop_xml_whitelabel},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};
