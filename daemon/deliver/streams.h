/* streams.h — the loop-side stream objects: found or created by name, loaded at start-up, told when a commit
 * appended to them, and pumped once per loop iteration.
 */
#ifndef KNOOP_DELIVER_STREAMS_H
#define KNOOP_DELIVER_STREAMS_H
#include "core/broker.h"

/* streams.c */
knoop_stream_t *knoop_stream_get(knoop_broker_t *b, const char *name, bool create);
int knoop_streams_load(knoop_broker_t *b, char *errbuf, size_t errlen);
void knoop_streams_free(knoop_broker_t *b);
void knoop_stream_appended(knoop_broker_t *b, knoop_stream_t *s, uint64_t seq); /* after commit */
void knoop_streams_pump_dirty(knoop_broker_t *b); /* once per loop iteration: wake groups of appended streams */

#endif
