/* jobs.c — every periodic job of the daemon is a row here; a job that is not in the table does not run. Core's tick
 * (every KNOOP_TICK_MS) runs a row when it is due; each job has an end-to-end test of its effect. */
#include "app/jobs.h"
#include "control/control_forget.h"
#include "deliver/delivery.h"
#include "deliver/retention.h"
#include "legacy/expectations.h"

#define EXPECTATIONS_FIRST_MS 1000 /* once shortly after start-up: what fell due while knoopd was down */

static uint64_t purge_interval(const knoop_settings_t *s)
{
    return s->purge_interval_ms;
}

static uint64_t deadline_check_interval(const knoop_settings_t *s)
{
    return s->deadline_check_interval_ms;
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
};
const size_t knoop_job_table_len = sizeof knoop_job_table / sizeof knoop_job_table[0];
