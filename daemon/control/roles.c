/* roles.c — the control socket's two roles. Anyone who can open the socket (its file mode) may read; changing the
 * broker takes an admin. Root and knoopd's own uid are always admins: they can read and write the data directory and
 * its key anyway, so refusing them would protect nothing. The credentials are the kernel's (SO_PEERCRED and
 * SO_PEERGROUPS, Linux: hence _GNU_SOURCE in this file only), taken when the peer connected. */
#define _GNU_SOURCE
#include "control/roles.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "base/log.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13; older headers lack the name */
#endif

void knoop_control_peer_read(int fd, knoop_control_peer_t *out)
{
    memset(out, 0, sizeof *out);
    struct ucred cred;
    socklen_t n = sizeof cred;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) != 0 || n != sizeof cred) {
        /* Its actions are still audited, under an actor that says the kernel did not tell who it was. */
        knoop_log_warn("control.peer_unknown", "error=\"%s\"", fd >= 0 ? strerror(errno) : "no descriptor");
        snprintf(out->actor, sizeof out->actor, "control");
        return;
    }
    out->known = true;
    out->uid = (uint32_t)cred.uid;
    out->gid = (uint32_t)cred.gid;
    out->pid = (int32_t)cred.pid;
    snprintf(out->actor, sizeof out->actor, "control uid=%u gid=%u pid=%d", (unsigned)cred.uid, (unsigned)cred.gid,
             (int)cred.pid);
    gid_t groups[KNOOP_PEER_GROUPS_MAX];
    socklen_t glen = sizeof groups;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0) {
        out->ngroups = glen / sizeof groups[0];
        for (size_t i = 0; i < out->ngroups; i++)
            out->groups[i] = (uint32_t)groups[i];
    } else if (errno == ERANGE) {
        /* More groups than we keep: the primary gid and the uid still decide; say so once per connection. */
        knoop_log_warn("control.peer_groups",
                       "uid=%u note=\"more than %d supplementary groups; only the primary gid "
                       "counts for control_admin_gids\"",
                       (unsigned)cred.uid, KNOOP_PEER_GROUPS_MAX);
    }
}

static bool listed(const uint32_t *ids, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

bool knoop_control_is_admin(const knoop_settings_t *s, const knoop_control_peer_t *peer, char *why, size_t len)
{
    if (!peer || !peer->known) {
        snprintf(why, len, "the kernel did not say who is on the other end of the control socket");
        return false;
    }
    uint32_t self = (uint32_t)geteuid();
    if (peer->uid == 0 || peer->uid == self || listed(s->admin_uids, s->n_admin_uids, peer->uid) ||
        listed(s->admin_gids, s->n_admin_gids, peer->gid))
        return true;
    for (size_t i = 0; i < peer->ngroups; i++)
        if (listed(s->admin_gids, s->n_admin_gids, peer->groups[i]))
            return true;
    snprintf(why, len,
             "uid %u is not an admin (admins: root, knoopd's uid %u, control_admin_uids, and members of "
             "control_admin_gids)",
             (unsigned)peer->uid, (unsigned)self);
    return false;
}
