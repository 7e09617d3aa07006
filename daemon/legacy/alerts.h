/* alerts.h — alerts raised by knoopd itself (an overdue retour or answer, a late start/stop report, a refused
 * message): journaled as ALERT messages on the `alerts` stream, logged, and listed by `knoopctl alerts`. */
#ifndef KNOOP_ALERTS_H
#define KNOOP_ALERTS_H
#include "core/broker.h"

/* What the raiser writes with its alert, in the same transaction, and hears back once it is stored. */
typedef struct knoop_alert_extra {
    int (*apply)(knoop_jtx_t *tx, void *arg, uint64_t seq);   /* writer thread: more rows; may be NULL */
    void (*stored)(knoop_broker_t *b, void *arg, int status); /* loop thread, after the commit (0) or its failure */
    void *arg; /* owned by the alert from the call on, also when it fails: freed with free() after stored */
} knoop_alert_extra_t;

/* Queues one alert. about: the party it concerns (may be ""); text: one line for an operator, never a BSN.
 * extra may be NULL. 0, or -ENOMEM (then stored is not called). */
int knoop_alert_raise(knoop_broker_t *b, const char *type, const char *about, const char *text,
                      const knoop_alert_extra_t *extra);
#endif
