/* names.c — the protocol's names for kinds and error codes (knoop/names.h), shared by the daemon, libknoop and the
 * tools so a kind is spelled the same in a log line, a retention setting and a command-line option. */
#include "knoop/names.h"
#include <string.h>
#include "knoop.pb-c.h"

static const char *const kind_names[] = {
    "unspecified", "referral",    "assignment",         "start",  "stop",        "assignment-request", "change-request",
    "answer",      "declaration", "declaration-answer", "retour", "plan-update", "outcome-report",     "alert",
    "other",
};

int knoop_kind_parse(const char *name)
{
    for (int i = 1; i < (int)(sizeof kind_names / sizeof kind_names[0]); i++)
        if (strcmp(name, kind_names[i]) == 0)
            return i;
    return -1;
}

const char *knoop_kind_name(int kind)
{
    return kind >= 0 && kind < (int)(sizeof kind_names / sizeof kind_names[0]) ? kind_names[kind] : "?";
}

const char *knoop_error_code_name(int code)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&knoop__error_code__descriptor, code);
    return v ? v->name : "?";
}
