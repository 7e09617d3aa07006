/* audit.c — the audit rows of operator actions, under the actor of the control command being served ("control
 * uid=U gid=G pid=P", control/roles.h). The rows themselves are written by store/audit.c. */
#include "control/audit.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/log.h"
#include "base/clock.h"
#include "store/audit.h"

int knoop_audit_apply(knoop_jtx_t *tx, const char *actor, const char *action, const char *detail)
{
    return knoop_store_audit_insert(tx, (int64_t)knoop_now_us(), actor, action, detail);
}

typedef struct audit_op {
    knoop_jop_t op;
    char actor[96], action[48], detail[512];
    uint8_t client_ref[32];
    bool has_client_ref;
    uint64_t seq;
} audit_op_t;

static int apply_audit(knoop_jtx_t *tx, knoop_jop_t *op)
{
    audit_op_t *a = (audit_op_t *)op;
    return knoop_store_audit_insert_about(tx, (int64_t)knoop_now_us(), a->actor, a->action, a->detail,
                                          a->has_client_ref ? a->client_ref : NULL, a->seq);
}

static void done_audit(void *ctx, knoop_jop_t *op, int status)
{
    (void)ctx;
    audit_op_t *a = (audit_op_t *)op;
    if (status != 0)
        knoop_log_error("audit.failed", "action=\"%s\" status=%d", a->action, status);
    free(a);
}

int knoop_audit_submit_about(knoop_broker_t *b, const char *action, const char *detail, const uint8_t *client_ref,
                             uint64_t seq)
{
    audit_op_t *a = calloc(1, sizeof *a);
    if (!a) {
        knoop_log_error("audit.failed", "action=\"%s\" error=\"out of memory\"", action);
        return -ENOMEM;
    }
    a->op.apply = apply_audit;
    a->op.done = done_audit;
    snprintf(a->actor, sizeof a->actor, "%s", b->control_actor[0] ? b->control_actor : "control");
    snprintf(a->action, sizeof a->action, "%s", action);
    snprintf(a->detail, sizeof a->detail, "%s", detail);
    if (client_ref) {
        memcpy(a->client_ref, client_ref, sizeof a->client_ref);
        a->has_client_ref = true;
    }
    a->seq = seq;
    knoop_journal_submit(b->journal, &a->op);
    return 0;
}

int knoop_audit_submit(knoop_broker_t *b, const char *action, const char *detail)
{
    return knoop_audit_submit_about(b, action, detail, NULL, 0);
}
