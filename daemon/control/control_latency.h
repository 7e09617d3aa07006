/* control_latency.h — where a publish's time goes, as the control socket tells it: the `latency` command (a table of
 * the four stages, with each histogram's buckets for tools such as knoop-bench) and the summary `status` shows. */
#ifndef KNOOP_CONTROL_LATENCY_H
#define KNOOP_CONTROL_LATENCY_H
#include <jansson.h>
#include "control/control.h"

KNOOP_CONTROL_CMD(knoop_cmd_latency);

/* Adds publish_stage_<stage>_us: {count, p50, p90, p99, max} for each stage to a status object. */
void knoop_latency_status_fields(struct knoop_broker *b, json_t *o);
#endif
