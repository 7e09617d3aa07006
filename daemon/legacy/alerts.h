/* alerts.h — alerts raised by knoopd itself (an overdue retour or answer, a late start/stop report, a refused
 * message): journaled as ALERT messages on the `alerts` stream, logged, and listed by `knoopctl alerts`. */
#ifndef KNOOP_ALERTS_H
#define KNOOP_ALERTS_H
#include "core/broker.h"

/* Queues one alert. about: the party it concerns (may be ""); text: one line for an operator, never a BSN.
 * extra/arg: optional rows to write in the same transaction (e.g. marking an expectation alerted). */
int knoop_alert_raise(knoop_broker_t *b, const char *type, const char *about, const char *text,
                      int (*extra)(knoop_jtx_t *tx, void *arg, uint64_t seq), void *arg);
#endif
