/* access.h — who may read what: a party reads its own inbox and outcome streams, the operators' streams are
 * for nobody over the wire.
 */
#ifndef KNOOP_ROUTE_ACCESS_H
#define KNOOP_ROUTE_ACCESS_H
#include <stdbool.h>
#include "core/broker.h"

/* access.c: who may read what */
bool knoop_may_read(const knoop_broker_t *b, const char *party, const char *stream);
bool knoop_party_known(const knoop_broker_t *b, const char *party);
#endif
