/* sd_notify.h — knoopd under systemd (Type=notify): READY=1 once start-up is done, STOPPING=1 when the stop begins,
 * and WATCHDOG=1 from the loop while it turns. Without NOTIFY_SOCKET (not under systemd) every call does nothing. */
#ifndef KNOOP_APP_SD_NOTIFY_H
#define KNOOP_APP_SD_NOTIFY_H
#include "core/broker.h"

/* After start-up: READY=1 with a STATUS line, and the watchdog interval systemd asks for (WATCHDOG_USEC). */
void knoop_sd_ready(knoop_broker_t *b);
/* The job (every tick, also while stopping): STOPPING=1 once b->stopping, WATCHDOG=1 at half of WATCHDOG_USEC. */
void knoop_sd_tick(knoop_broker_t *b);
#endif
