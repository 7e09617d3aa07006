/* sd_notify.c — the systemd notification protocol through libsystemd's sd_notify: READY=1 after the control socket
 * listens (so `systemctl start` returns when knoopd takes clients), STOPPING=1 as the graceful stop begins, and the
 * watchdog fed from the job table: only a loop that still runs its tick sends WATCHDOG=1, so a hung loop is
 * restarted by systemd. */
#include "app/sd_notify.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include "base/clock.h"
#include "base/log.h"

void knoop_sd_ready(knoop_broker_t *b)
{
    uint64_t usec = 0;
    /* > 0: the watchdog is on for this process (WATCHDOG_USEC, and WATCHDOG_PID is ours or unset) */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        b->watchdog_us = usec;
        b->watchdog_due_ms = knoop_now_ms(); /* the first ping with the next tick */
    }
    char msg[256];
    snprintf(msg, sizeof msg, "READY=1\nSTATUS=serving %s, last seq %" PRIu64, b->config->settings.listen,
             knoop_journal_last_seq(b->journal));
    int rc = sd_notify(0, msg);
    if (rc < 0)
        knoop_log_warn("systemd.notify", "message=READY error=\"%s\"", strerror(-rc));
    else if (rc > 0)
        knoop_log_info("systemd.ready", "watchdog_ms=%" PRIu64, b->watchdog_us / 1000);
}

void knoop_sd_tick(knoop_broker_t *b)
{
    if (b->stopping && !b->notified_stopping) {
        b->notified_stopping = true;
        int rc = sd_notify(0, "STOPPING=1\nSTATUS=stopping: finishing the commits in flight");
        if (rc < 0)
            knoop_log_warn("systemd.notify", "message=STOPPING error=\"%s\"", strerror(-rc));
    }
    if (!b->watchdog_us)
        return;
    uint64_t now = knoop_now_ms();
    if (now < b->watchdog_due_ms)
        return;
    b->watchdog_due_ms = now + b->watchdog_us / 2000; /* half the interval, as sd_watchdog_enabled(3) advises */
    int rc = sd_notify(0, "WATCHDOG=1");
    if (rc < 0)
        knoop_log_warn("systemd.notify", "message=WATCHDOG error=\"%s\"", strerror(-rc));
}
