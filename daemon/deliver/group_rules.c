/* group_rules.c — consumer groups belong to their party. The owner is the party whose Subscribe created the group
 * (stored with its cursor, store/cursors.h); another party is refused even where it may read the stream (a main
 * contractor and its subcontractor share the subcontractor's inbox, but not each other's cursors). A party owns at
 * most subscriber_max_per_party groups, so a client cannot grow the cursor table without bound. A durable cursor is a
 * promise, so expiry is slow and narrow: only a group with no member, nothing left to deliver (no stream entry above
 * its cursor), nothing unsettled, and a row unchanged for subscriber_idle_expiry (90 days by default) goes; the delete
 * checks that the row did not change in between, and is audited. */
#include "deliver/group_rules.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/log.h"
#include "deliver/delivery.h"
#include "deliver/streams.h"
#include "store/audit.h"
#include "store/cursors.h"

#define EXPIRE_SCAN 64 /* idle candidates one pass looks at */

/* Named groups of party created on the loop whose row is not committed yet: the journal cannot count them. A row
 * committed but not yet reported back to the loop (persisted_acked still unset) is in the journal's count already, so
 * it is asked for by its key: counted twice, it refused a party one group below its cap. */
static int64_t unjournaled_groups(knoop_broker_t *b, const char *party)
{
    int64_t n = 0;
    knoop_group_iter_t it = {0};
    for (knoop_group_t *g; (g = knoop_group_next(b, &it));) {
        uint64_t acked, delivered;
        char owner[KNOOP_OWNER_MAX];
        if (g->name[0] != '~' && g->persisted_acked == UINT64_MAX && strcmp(g->owner, party) == 0 &&
            knoop_store_cursor_get(b->journal, g->stream->id, g->name, &acked, &delivered, owner) == 0)
            n++;
    }
    return n;
}

int knoop_group_may_join(knoop_broker_t *b, knoop_stream_t *s, const char *name, const char *party, char *why,
                         size_t len)
{
    if (name[0] == '~')
        return 0;
    char owner[KNOOP_OWNER_MAX] = "";
    knoop_group_t *g = knoop_strmap_get(s->groups, name);
    if (g) {
        snprintf(owner, sizeof owner, "%s", g->owner);
    } else {
        uint64_t acked, delivered;
        int found = knoop_store_cursor_get(b->journal, s->id, name, &acked, &delivered, owner);
        if (found < 0)
            return snprintf(why, len, "the journal cannot be read now; subscribe again later"), -EIO;
        if (found == 0) { /* a new name: the cap */
            uint64_t cap = b->config->settings.subscriber_max_per_party;
            int64_t owned = knoop_store_cursors_owned(b->journal, party, (int64_t)cap + 1);
            if (owned < 0)
                return snprintf(why, len, "the journal cannot be read now; subscribe again later"), -EIO;
            owned += unjournaled_groups(b, party);
            if ((uint64_t)owned >= cap)
                return snprintf(why, len,
                                "party %s owns %" PRId64 " durable subscribers (a name on a stream), and "
                                "subscriber_max_per_party allows %" PRIu64 "; subscribe with one of them (or ask the "
                                "operator)",
                                party, owned, cap),
                       -EDQUOT;
            return 0;
        }
    }
    if (owner[0] && strcmp(owner, party) != 0)
        return snprintf(why, len, "subscriber '%.64s' on stream '%.64s' belongs to another party; choose another name",
                        name, s->name),
               -EACCES;
    return 0;
}

/* ---- idle expiry ---------------------------------------------------------------------------------------------- */

typedef struct expired {
    int64_t stream_id, updated_us;
    char stream[64], name[72], owner[KNOOP_OWNER_MAX];
    int removed; /* writer: 1 removed, 0 it changed meanwhile */
} expired_t;

typedef struct expiry_op {
    knoop_jop_t op;
    expired_t *rows; /* owned */
    size_t n;
} expiry_op_t;

static int apply_expiry(knoop_jtx_t *tx, knoop_jop_t *op)
{
    expiry_op_t *x = (expiry_op_t *)op;
    for (size_t i = 0; i < x->n; i++) {
        expired_t *e = &x->rows[i];
        e->removed = knoop_store_cursor_expire(tx, e->stream_id, e->name, e->updated_us);
        if (e->removed < 0)
            return e->removed;
        if (e->removed) {
            char detail[256];
            snprintf(detail, sizeof detail, "stream=%s subscriber=%s owner=%s idle_since_us=%" PRId64, e->stream,
                     e->name, e->owner, e->updated_us);
            int rc = knoop_store_audit_insert(tx, (int64_t)knoop_now_us(), "knoopd", "subscriber expired", detail);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static void done_expiry(void *ctx, knoop_jop_t *op, int status)
{
    knoop_broker_t *b = ctx;
    expiry_op_t *x = (expiry_op_t *)op;
    b->group_expire_busy = false;
    for (size_t i = 0; i < x->n; i++) {
        expired_t *e = &x->rows[i];
        if (status != 0) {
            knoop_log_error("subscriber.expire_failed", "stream=%s subscriber=%s status=%d", e->stream, e->name,
                            status);
            continue;
        }
        if (e->removed)
            knoop_log_info("subscriber.expired", "stream=%s subscriber=%s owner=%s", e->stream, e->name, e->owner);
        /* Subscribed again while the delete was on its way: the group lives, so its row must exist again. */
        knoop_stream_t *s = knoop_strmap_get(b->streams, e->stream);
        knoop_group_t *g = s ? knoop_strmap_get(s->groups, e->name) : NULL;
        if (g && e->removed)
            knoop_group_touch(b, g);
    }
    free(x->rows);
    free(x);
}

typedef struct scan {
    knoop_broker_t *b;
    expired_t *rows;
    size_t n, scanned;
} scan_t;

static knoop_stream_t *stream_by_id(knoop_broker_t *b, int64_t id)
{
    size_t pos = 0;
    void *v;
    while (knoop_strmap_next(b->streams, &pos, NULL, &v))
        if (((knoop_stream_t *)v)->id == id)
            return v;
    return NULL;
}

static int consider(void *ctx, const knoop_store_idle_cursor_t *c)
{
    scan_t *sc = ctx;
    sc->scanned++;
    knoop_stream_t *s = stream_by_id(sc->b, c->stream_id);
    if (!s)
        return 0;
    knoop_group_t *g = knoop_strmap_get(s->groups, c->name);
    sc->b->group_expire_from_us = c->updated_us;
    if (g && (g->members || g->ring_len || g->waiting || g->cursor_op_pending || g->touch ||
              g->acked_seq != g->persisted_acked))
        return 0; /* in use, or something of it is still on its way */
    uint64_t acked = g ? g->acked_seq : c->acked_seq;
    if (knoop_store_cursor_behind(sc->b->journal, c->stream_id, acked) != 0)
        return 0; /* it has something to deliver (or the journal cannot say): a durable subscriber that is away */
    expired_t *e = &sc->rows[sc->n++];
    e->stream_id = c->stream_id;
    e->updated_us = c->updated_us;
    snprintf(e->stream, sizeof e->stream, "%s", s->name);
    snprintf(e->name, sizeof e->name, "%s", c->name);
    snprintf(e->owner, sizeof e->owner, "%s", c->owner);
    if (g) { /* nobody holds it: the next Subscribe reads the journal again (and finds no row once this commits) */
        knoop_strmap_remove(s->groups, g->name);
        knoop_group_free(g);
    }
    return 0;
}

void knoop_group_expiry_tick(knoop_broker_t *b)
{
    const knoop_settings_t *set = &b->config->settings;
    uint64_t now = knoop_now_ms();
    if (set->subscriber_idle_expiry_s == 0 || b->group_expire_busy || b->stopping ||
        now - b->group_expire_ms < set->purge_interval_ms)
        return;
    b->group_expire_ms = now;
    scan_t sc = {.b = b, .rows = calloc(EXPIRE_SCAN, sizeof(expired_t))};
    if (!sc.rows)
        return;
    int64_t before_us = (int64_t)knoop_now_us() - set->subscriber_idle_expiry_s * 1000000;
    /* From where the last pass stopped, so idle groups that must stay (a backlog) do not hide the ones behind them;
     * a pass that reaches the end starts over. */
    int64_t from = b->group_expire_from_us;
    b->group_expire_from_us = INT64_MIN;
    if (knoop_store_cursors_idle(b->journal, from, before_us, EXPIRE_SCAN, consider, &sc) != 0)
        knoop_log_warn("subscriber.expiry_scan_failed", "note=\"tried again at the next interval\"");
    if (b->group_expire_from_us != INT64_MIN && sc.scanned < EXPIRE_SCAN)
        b->group_expire_from_us = INT64_MIN; /* the end: start over */
    expiry_op_t *x = sc.n ? calloc(1, sizeof *x) : NULL;
    if (!x) {
        free(sc.rows);
        return;
    }
    x->op.apply = apply_expiry;
    x->op.done = done_expiry;
    x->rows = sc.rows;
    x->n = sc.n;
    b->group_expire_busy = true;
    knoop_journal_submit(b->journal, &x->op);
}
