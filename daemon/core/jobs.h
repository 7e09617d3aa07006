/* jobs.h — the runner of the periodic-job table (b->jobs, rows from app/jobs.c), for broker.c's tick. */
#ifndef KNOOP_CORE_JOBS_H
#define KNOOP_CORE_JOBS_H
#include "core/broker.h"

/* Checks the table and schedules each row's first run from now_ms; -EINVAL (logged) for a table core cannot run. */
int knoop_jobs_start(knoop_broker_t *b, uint64_t now_ms);
/* Runs every job that is due (the tick). While the broker stops, only the rows marked while_stopping run. */
void knoop_jobs_run_due(knoop_broker_t *b, uint64_t now_ms);
/* Runs the while_stopping rows once, due or not: the last pass before the broker closes. */
void knoop_jobs_run_final(knoop_broker_t *b);
#endif
