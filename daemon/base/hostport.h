/* hostport.h — "HOST:PORT" for knoopd's plain TCP listener (the metrics and health endpoint): an IPv4 address,
 * [IPv6] or localhost, and a port; no name resolution, so what is written is what is bound. */
#ifndef KNOOP_BASE_HOSTPORT_H
#define KNOOP_BASE_HOSTPORT_H
#include <stdbool.h>
#include <sys/socket.h>

/* Parses text into *out (*outlen its size) and says whether it is a loopback address (127.0.0.0/8, ::1).
 * Returns 0, or -EINVAL when it is not HOST:PORT with a port from 1 to 65535. */
int knoop_hostport_parse(const char *text, struct sockaddr_storage *out, socklen_t *outlen, bool *loopback);
#endif
