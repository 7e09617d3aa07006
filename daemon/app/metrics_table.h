/* metrics_table.h — the metric table: every metric knoopd serves (app/lifecycle.c puts it in the context; core's
 * renderer and knoopd --metrics-markdown read it). */
#ifndef KNOOP_APP_METRICS_TABLE_H
#define KNOOP_APP_METRICS_TABLE_H
#include "core/broker.h"

extern const knoop_metric_def_t knoop_metric_table[];
extern const size_t knoop_metric_table_len;
#endif
