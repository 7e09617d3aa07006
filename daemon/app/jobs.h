/* jobs.h — the periodic-job table: what core's tick runs and how often (app/lifecycle.c puts it in the context). */
#ifndef KNOOP_APP_JOBS_H
#define KNOOP_APP_JOBS_H
#include "core/broker.h"

extern const knoop_job_t knoop_job_table[];
extern const size_t knoop_job_table_len;
#endif
