/* roles.h — who is on the other end of the control socket (its Unix credentials, taken from the kernel when it
 * connects) and whether that peer may run the commands that change the broker (role ADMIN in commands.def). */
#ifndef KNOOP_CONTROL_ROLES_H
#define KNOOP_CONTROL_ROLES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config/settings.h"

#define KNOOP_PEER_GROUPS_MAX 64

typedef struct knoop_control_peer {
    bool known; /* the kernel said who it is (SO_PEERCRED) */
    uint32_t uid, gid;
    int32_t pid;
    uint32_t groups[KNOOP_PEER_GROUPS_MAX]; /* its supplementary groups (SO_PEERGROUPS), as far as they fit */
    size_t ngroups;
    char actor[96]; /* "control uid=U gid=G pid=P", or "control" when the kernel does not say: the audit's actor */
} knoop_control_peer_t;

/* Reads the credentials of the process that connected on fd (a Unix socket); the peer is unknown when the kernel
 * does not say (logged). */
void knoop_control_peer_read(int fd, knoop_control_peer_t *out);

/* Whether peer is an admin: root (uid 0), knoopd's own effective uid, a uid in control_admin_uids, or a primary or
 * supplementary gid in control_admin_gids. An unknown peer is not. When not, why says so in words an operator can
 * act on. */
bool knoop_control_is_admin(const knoop_settings_t *s, const knoop_control_peer_t *peer, char *why, size_t len);
#endif
