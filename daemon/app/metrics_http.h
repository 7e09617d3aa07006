/* metrics_http.h — the HTTP endpoint of metrics_listen (/metrics, /healthz): started and stopped by app/lifecycle.c,
 * fed a snapshot by the "metrics" row of the job table. */
#ifndef KNOOP_APP_METRICS_HTTP_H
#define KNOOP_APP_METRICS_HTTP_H
#include "core/broker.h"

typedef struct knoop_metrics_http knoop_metrics_http_t;

/* Listens on metrics_listen when it is set (else does nothing): 0, or a negative errno with err set. */
int knoop_metrics_http_start(knoop_broker_t *b, char *err, size_t errlen);
/* The job: renders the metrics and the health verdict and swaps them in for the HTTP thread. */
void knoop_metrics_http_publish(knoop_broker_t *b);
/* Stops the HTTP thread and frees the snapshot (before the layers it reports on close). */
void knoop_metrics_http_stop(knoop_broker_t *b);
#endif
