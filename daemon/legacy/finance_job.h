/* finance_job.h — the finance job (a row of app/jobs.c, every deadline_check_interval_ms): each completed period of a
 * contract's calendar gets its report on the financier's report stream, and each signal (finance/signals.h) is raised
 * once on the financier's signals stream and on `alerts`. docs/finance.md. */
#ifndef KNOOP_FINANCE_JOB_H
#define KNOOP_FINANCE_JOB_H
#include "core/broker.h"

#define KNOOP_FINANCE_PER_TICK 32 /* reports and signals one run publishes at most; the next run takes the rest */

/* The periodic run. Skipped while an earlier run's messages are not yet stored, so nothing is published twice. */
void knoop_finance_tick(knoop_broker_t *b);
/* The streams of a financier: "signals.<code>" and "reports.<code>" (buf at least KNOOP_ROUTE_STREAM_NAME_MAX). */
void knoop_finance_stream(const char *what, const char *code, char *buf, size_t len);
#endif
