/* expectations.h — the deadlines of the legacy standards, live: each accepted iWmo/iJw message opens what it makes
 * due (an answer to a 315/317, a 325 after a 323) and closes what it fulfils; overdue ones raise an alert once. */
#ifndef KNOOP_EXPECTATIONS_H
#define KNOOP_EXPECTATIONS_H
#include <stdbool.h>
#include "core/broker.h"
#include "istd/istd.h"
#include "ingest/message_op.h"

/* For an accepted message about to be journaled: adds the expectation rows it opens and closes to m (one of its
 * extras), and raises alerts for a late start/stop report. retour_by_knoopd: the technical retour is knoopd's
 * own (sent with the message), so no retour expectation is opened. */
void knoop_expectations_on_message(knoop_broker_t *b, knoop_msg_op_t *m, const knoop_istd_msg_t *msg,
                                   bool retour_by_knoopd);
/* The periodic overdue check (app/jobs.c, every deadline_check_interval_ms): one alert for each open expectation
 * past its due day, once in its life, also across restarts. */
void knoop_expectations_tick(knoop_broker_t *b);
#endif
