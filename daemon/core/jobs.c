/* jobs.c — periodic work is a table, not a list of calls in the tick: each row (name, interval, fn) runs when it is
 * due, on the loop thread. A row's interval may be a setting, read at every run, so a reload changes it. */
#include "core/jobs.h"
#include <errno.h>
#include "base/log.h"

static uint64_t interval_of(const knoop_broker_t *b, const knoop_job_t *job)
{
    return job->interval_setting ? job->interval_setting(&b->config->settings) : job->interval_ms;
}

int knoop_jobs_start(knoop_broker_t *b, uint64_t now_ms)
{
    if (b->n_jobs > KNOOP_JOBS_MAX) {
        knoop_log_error("daemon.jobs", "error=\"%zu periodic jobs, core runs at most %d\"", b->n_jobs, KNOOP_JOBS_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < b->n_jobs; i++) {
        const knoop_job_t *job = &b->jobs[i];
        if (!job->fn) {
            knoop_log_error("daemon.jobs", "job=%s error=\"no function\"", job->name);
            return -EINVAL;
        }
        b->job_due_ms[i] = now_ms + (job->first_ms ? job->first_ms : interval_of(b, job));
    }
    return 0;
}

void knoop_jobs_run_due(knoop_broker_t *b, uint64_t now_ms)
{
    for (size_t i = 0; i < b->n_jobs; i++) {
        const knoop_job_t *job = &b->jobs[i];
        if (now_ms < b->job_due_ms[i] || (b->stopping && !job->while_stopping))
            continue;
        job->fn(b);
        b->job_due_ms[i] = now_ms + interval_of(b, job);
    }
}

void knoop_jobs_run_final(knoop_broker_t *b)
{
    for (size_t i = 0; i < b->n_jobs; i++)
        if (b->jobs[i].while_stopping)
            b->jobs[i].fn(b);
}
