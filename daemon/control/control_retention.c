/* control_retention.c — `purge now`: runs the retention purge at once (deliver/retention.h queues the batches, the
 * journal's writer deletes them) and audits that an operator asked for it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "control/audit.h"
#include "control/control.h"
#include "core/broker.h"
#include "deliver/retention.h"

json_t *knoop_cmd_purge_now(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv;
    uint64_t selected = 0;
    int rc = knoop_retention_run(b, 1000, &selected);
    if (rc != 0) {
        snprintf(error, errlen, "purge failed: %s", strerror(-rc));
        return NULL;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "selected=%" PRIu64, selected);
    knoop_audit_submit(b, "purge now", detail);
    return json_pack("{s:I, s:I}", "purging", (json_int_t)selected, "purged_since_start", (json_int_t)b->purged);
}
