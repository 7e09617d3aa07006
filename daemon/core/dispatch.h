/* dispatch.h — the ROUTER socket joined to the libuv loop, for broker.c: watch ZMQ_FD, drain what arrived and hand
 * each frame to its row of the frame-handler table. */
#ifndef KNOOP_CORE_DISPATCH_H
#define KNOOP_CORE_DISPATCH_H
#include "core/broker.h"

/* Joins the bound ROUTER to the loop (uv_poll on ZMQ_FD, the check and idle handles). Logs what failed. */
int knoop_dispatch_start(knoop_broker_t *b);
/* A step of core's start-up: logs a failed libuv call (rc < 0) as daemon.listen step=... and passes rc on. */
int knoop_listen_step(int rc, const char *step);
#endif
