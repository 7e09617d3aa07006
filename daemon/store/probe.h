/* probe.h — the health check's proof that the journal takes writes: one small row rewritten in a transaction of the
 * writer, so a full disk, a read-only mount or a damaged file shows before a publisher meets it. */
#ifndef KNOOP_STORE_PROBE_H
#define KNOOP_STORE_PROBE_H
#include <stdint.h>
#include "store/journal.h"

/* Writer side, inside an apply: rewrites the meta row 'health_probe' with now_us. 0 or a negative errno. */
int knoop_store_health_probe(knoop_jtx_t *tx, int64_t now_us);
#endif
