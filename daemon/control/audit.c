/* audit.c — the audit rows of operator actions and the actor they name: "control" plus the Unix credentials of the
 * control socket's peer (SO_PEERCRED, a Linux feature: hence _GNU_SOURCE in this file only). The rows themselves
 * are written by store/audit.c. */
#define _GNU_SOURCE
#include "control/audit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
} audit_op_t;

static int apply_audit(knoop_jtx_t *tx, knoop_jop_t *op)
{
    audit_op_t *a = (audit_op_t *)op;
    return knoop_audit_apply(tx, a->actor, a->action, a->detail);
}

static void done_audit(void *ctx, knoop_jop_t *op, int status)
{
    (void)ctx;
    audit_op_t *a = (audit_op_t *)op;
    if (status != 0)
        knoop_log_error("audit.failed", "action=\"%s\" status=%d", a->action, status);
    free(a);
}

int knoop_audit_submit(knoop_broker_t *b, const char *action, const char *detail)
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
    knoop_journal_submit(b->journal, &a->op);
    return 0;
}

void knoop_audit_peer_actor(int fd, char *out, size_t len)
{
    struct ucred cred;
    socklen_t n = sizeof cred;
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) == 0 && n == sizeof cred) {
        snprintf(out, len, "control uid=%u gid=%u pid=%d", (unsigned)cred.uid, (unsigned)cred.gid, (int)cred.pid);
        return;
    }
    /* The action is still audited, under an actor that says the kernel did not tell who it was. */
    knoop_log_warn("control.peer_unknown", "error=\"%s\"", fd >= 0 ? strerror(errno) : "no descriptor");
    snprintf(out, len, "control");
}
