/* streams.c — the loop's registry of named streams: loaded from the journal at start (id, name, last seq: index
 * look-ups only, so start-up does not grow with the number of messages: store/streams.h), created on first use, woken
 * on append. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/broker.h"
#include "deliver/delivery.h"
#include "deliver/streams.h"
#include "deliver/op_retry.h"
#include "store/streams.h"

static knoop_stream_t *stream_new(knoop_broker_t *b, const char *name, int64_t id)
{
    knoop_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->name = strdup(name);
    s->id = id;
    s->groups = knoop_strmap_new();
    if (!s->name || !s->groups || knoop_strmap_put(b->streams, name, s) != 0) {
        free(s->name);
        knoop_strmap_destroy(&s->groups);
        free(s);
        return NULL;
    }
    if (id >= b->next_stream_id)
        b->next_stream_id = id + 1;
    return s;
}

/* Stream names are short, printable, and dotted: inbox.0917, outcomes.0917, alerts, deadletters. */
static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_'))
            return false;
    }
    return true;
}

knoop_stream_t *knoop_stream_get(knoop_broker_t *b, const char *name, bool create)
{
    knoop_stream_t *s = knoop_strmap_get(b->streams, name);
    if (s || !create || !name_ok(name))
        return s;
    if (b->next_stream_id == 0)
        b->next_stream_id = 1;
    return stream_new(b, name, b->next_stream_id);
}

static int load_one(void *ctx, int64_t id, const char *name, uint64_t last_seq)
{
    knoop_stream_t *s = stream_new(ctx, name, id);
    if (!s)
        return -ENOMEM;
    s->persisted = true;
    s->last_seq = last_seq;
    return 0;
}

int knoop_streams_load(knoop_broker_t *b, char *errbuf, size_t errlen)
{
    int rc = knoop_store_streams_each(b->journal, load_one, b, errbuf, errlen);
    if (rc == -ENOMEM)
        snprintf(errbuf, errlen, "out of memory loading streams");
    return rc;
}

void knoop_streams_free(knoop_broker_t *b)
{
    knoop_op_retry_free(b); /* delivery writes still waiting for a journal that is closed now: given up, logged */
    size_t pos = 0;
    void *v;
    while (knoop_strmap_next(b->streams, &pos, NULL, &v)) {
        knoop_stream_t *s = v;
        size_t gpos = 0;
        void *g;
        while (knoop_strmap_next(s->groups, &gpos, NULL, &g))
            knoop_group_free(g);
        knoop_strmap_destroy(&s->groups);
        free(s->name);
        free(s);
    }
    knoop_strmap_destroy(&b->streams);
}

knoop_group_t *knoop_group_next(knoop_broker_t *b, knoop_group_iter_t *it)
{
    for (;;) {
        void *v;
        if (it->stream && knoop_strmap_next(it->stream->groups, &it->group_pos, NULL, &v))
            return v;
        if (!knoop_strmap_next(b->streams, &it->stream_pos, NULL, &v))
            return NULL;
        it->stream = v;
        it->group_pos = 0;
    }
}

void knoop_stream_appended(knoop_broker_t *b, knoop_stream_t *s, uint64_t seq)
{
    if (seq > s->last_seq)
        s->last_seq = seq;
    s->appended++;
    if (!s->dirty) {
        s->dirty = true;
        s->next_dirty = b->dirty_streams;
        b->dirty_streams = s;
    }
}

/* Pumping once per loop iteration instead of once per message lets one read serve a whole commit batch. */
void knoop_streams_pump_dirty(knoop_broker_t *b)
{
    while (b->dirty_streams) {
        knoop_stream_t *s = b->dirty_streams;
        b->dirty_streams = s->next_dirty;
        s->dirty = false;
        s->next_dirty = NULL;
        size_t pos = 0;
        void *g;
        while (knoop_strmap_next(s->groups, &pos, NULL, &g))
            knoop_group_pump(b, g);
    }
}
