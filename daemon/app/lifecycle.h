/* lifecycle.h — knoopd's start-up, reload and stop across the layers, in one place: which layer opens what, in which
 * order, and the reverse on the way out. app/main.c calls it; core reaches the rest through the hooks it sets. */
#ifndef KNOOP_APP_LIFECYCLE_H
#define KNOOP_APP_LIFECYCLE_H
#include "core/broker.h"

/* Starts the daemon on loop: the context, the pseudonymisation key, the journal, streams, route state, the
 * iWmo/iJw adapter, the ROUTER socket, the tick and signals, the control socket. The broker owns config from here
 * on (also on failure: b->config). 0, or a negative errno after logging what failed; then call knoop_app_abort. */
int knoop_app_start(knoop_broker_t *b, uv_loop_t *loop, knoop_config_t *config, const char *config_path);
/* After a failed knoop_app_start: releases whatever it got to, in reverse. The caller runs the loop once more so
 * closed handles finish closing. */
void knoop_app_abort(knoop_broker_t *b);
#endif
