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

/* Every consumer group of every stream (g->stream is its stream), for walks over all of them:
 *   knoop_group_iter_t it = {0};
 *   for (knoop_group_t *g; (g = knoop_group_next(b, &it));) ...
 * The same map walk as the strmaps' own, so the body may do what a walk of those maps may do. */
typedef struct knoop_group_iter {
    size_t stream_pos, group_pos;
    knoop_stream_t *stream; /* NULL before the first stream */
} knoop_group_iter_t;
knoop_group_t *knoop_group_next(knoop_broker_t *b, knoop_group_iter_t *it);

#endif
