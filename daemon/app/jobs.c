/* jobs.c — every periodic job of the daemon is a row here; a job that is not in the table does not run. Core's tick
 * (every KNOOP_TICK_MS) runs a row when it is due; each job has an end-to-end test of its effect. */
#include "app/jobs.h"
#include "app/metrics_http.h"
#include "app/sd_notify.h"
#include "core/health.h"
#include "control/control_forget.h"
#include "deliver/delivery.h"
#include "deliver/retention.h"
#include "legacy/expectations.h"
#include "legacy/finance_job.h"

#define EXPECTATIONS_FIRST_MS 1000 /* once shortly after start-up: what fell due while knoopd was down */
#define METRICS_SNAPSHOT_MS   1000 /* how old what /metrics and /healthz serve may be */

static uint64_t purge_interval(const knoop_settings_t *s)
{
    return s->purge_interval_ms;
}

static uint64_t deadline_check_interval(const knoop_settings_t *s)
{
    return s->deadline_check_interval_ms;
}

static uint64_t health_check_interval(const knoop_settings_t *s)
{
    return s->health_check_interval_ms;
}

const knoop_job_t knoop_job_table[] = {
    /* redelivery, visibility timeouts, cursor flushes; once more at the stop, so the last cursors are journaled */
    {.name = "delivery", .interval_ms = 0, .while_stopping = true, .fn = knoop_delivery_tick},
    /* the retention purge: every tick, it paces itself by purge_interval_ms and one batch in flight */
    {.name = "retention", .interval_ms = 0, .fn = knoop_retention_tick},
    /* clients whose last message is older than every retention are forgotten: ledger, route state (journal.md) */
    {.name = "forget", .interval_setting = purge_interval, .first_ms = EXPECTATIONS_FIRST_MS, .fn = knoop_forget_tick},
    /* overdue iWmo/iJw answers raise their alert (docs/deadlines.md) */
    {.name = "expectations",
     .interval_setting = deadline_check_interval,
     .first_ms = EXPECTATIONS_FIRST_MS,
     .fn = knoop_expectations_tick},
    /* readiness: a small write proves the journal takes writes, also when nobody publishes (core/health.h) */
    {.name = "health", .interval_setting = health_check_interval, .first_ms = 1, .fn = knoop_health_tick},
    /* the snapshot /metrics and /healthz serve from their own thread; while stopping too, so /healthz says so */
    {.name = "metrics",
     .interval_ms = METRICS_SNAPSHOT_MS,
     .first_ms = 1,
     .while_stopping = true,
     .fn = knoop_metrics_http_publish},
    /* systemd: STOPPING=1 once the stop begins, WATCHDOG=1 at half of WATCHDOG_USEC (app/sd_notify.c) */
    {.name = "systemd", .interval_ms = 0, .while_stopping = true, .fn = knoop_sd_tick},
    /* each contract period's report and each financier signal, once (docs/finance.md) */
    {.name = "finance",
     .interval_setting = deadline_check_interval,
     .first_ms = EXPECTATIONS_FIRST_MS,
     .fn = knoop_finance_tick},
};
const size_t knoop_job_table_len = sizeof knoop_job_table / sizeof knoop_job_table[0];
