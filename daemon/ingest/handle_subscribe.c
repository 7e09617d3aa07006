/* handle_subscribe.c — Subscribe, Unsubscribe and Credit: join a consumer group on a stream the party may read and
 * whose group is its own (deliver/group_rules.h: another party's group name is refused, and so is a new name beyond
 * the party's cap), leave it (unacked deliveries return at once), and widen the window of unacked deliveries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/broker.h"
#include "base/log.h"
#include "route/access.h"
#include "deliver/delivery.h"
#include "deliver/group_rules.h"
#include "deliver/streams.h"
#include "ingest/handlers.h"
#include "core/frames.h"

bool knoop_subscriber_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e || name[i] == '~')
            return false;
    return true;
}

void knoop_handle_subscribe(knoop_broker_t *b, knoop_peer_t *p, Knoop__Subscribe *m)
{
    if (!m->stream || !m->stream[0]) {
        knoop_send_stream_error(b, p, KNOOP__ERROR_CODE__MISSING_FIELD, m->stream, "subscribe.stream is required");
        return;
    }
    if (!knoop_subscriber_name_ok(m->subscriber)) {
        knoop_send_stream_error(b, p, KNOOP__ERROR_CODE__INVALID_FIELD, m->stream,
                                "subscribe.subscriber must be at most 64 printable "
                                "characters without spaces or '~'");
        return;
    }
    if ((int)m->start < 0 || (int)m->start > (int)KNOOP__START_AT__TIME) {
        knoop_send_stream_error(b, p, KNOOP__ERROR_CODE__INVALID_FIELD, m->stream,
                                "subscribe.start %d is not a StartAt", (int)m->start);
        return;
    }
    if (!knoop_may_read(b, p->party, m->stream)) {
        knoop_log_warn("subscribe.refused", "party=%s stream=%s", p->party, m->stream);
        knoop_send_stream_error(b, p, KNOOP__ERROR_CODE__NOT_AUTHORISED, m->stream, "party %s may not read stream '%s'",
                                p->party, m->stream);
        return;
    }
    if (knoop_sub_for(p, m->stream)) {
        knoop_send_stream_error(b, p, KNOOP__ERROR_CODE__INVALID_FIELD, m->stream,
                                "already subscribed to '%s' on this connection; "
                                "Unsubscribe first",
                                m->stream);
        return;
    }
    knoop_stream_t *s = knoop_stream_get(b, m->stream, true);
    if (!s) {
        knoop_send_stream_error(b, p, KNOOP__ERROR_CODE__UNKNOWN_STREAM, m->stream, "'%s' is not a valid stream name",
                                m->stream);
        return;
    }
    /* Without a name the subscription is ephemeral: its cursor is never stored. */
    char name[72];
    if (m->subscriber[0])
        snprintf(name, sizeof name, "%s", m->subscriber);
    else
        snprintf(name, sizeof name, "~%s", p->session);
    char why[256];
    int rc = knoop_group_may_join(b, s, name, p->party, why, sizeof why);
    if (rc != 0) {
        knoop_log_warn("subscribe.refused", "party=%s stream=%.64s subscriber=%.64s reason=\"%s\"", p->party, s->name,
                       name, why);
        knoop_send_stream_error(b, p,
                                rc == -EACCES   ? KNOOP__ERROR_CODE__NOT_AUTHORISED
                                : rc == -EDQUOT ? KNOOP__ERROR_CODE__INVALID_FIELD
                                                : KNOOP__ERROR_CODE__INTERNAL,
                                m->stream, "%s", why);
        return;
    }
    bool created;
    knoop_group_t *g = knoop_group_get(b, s, name, p->party, m->start, m->start_seq, m->start_time_us, &created);
    knoop_sub_t *sub = g ? calloc(1, sizeof *sub) : NULL;
    if (!sub) {
        knoop_send_stream_error(b, p, KNOOP__ERROR_CODE__INTERNAL, m->stream, "out of memory");
        return;
    }
    sub->peer = p;
    sub->group = g;
    uint64_t max = b->config->settings.max_credit;
    sub->window = m->credit < max ? m->credit : max;
    sub->next_on_peer = p->subs;
    p->subs = sub;
    sub->next_in_group = g->members;
    g->members = sub;
    knoop_log_info("subscribe", "party=%s stream=%s subscriber=%s position=%llu credit=%llu members=%s", p->party,
                   s->name, name, (unsigned long long)g->acked_seq, (unsigned long long)sub->window,
                   created ? "first" : "joined");
    Knoop__Subscribed r = KNOOP__SUBSCRIBED__INIT;
    r.stream = s->name;
    r.subscriber = name;
    r.position = g->acked_seq;
    r.credit = (uint32_t)sub->window;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_SUBSCRIBED;
    f.subscribed = &r;
    knoop_send_frame(b, p, &f);
    knoop_group_pump(b, g);
}

void knoop_handle_unsubscribe(knoop_broker_t *b, knoop_peer_t *p, Knoop__Unsubscribe *m)
{
    knoop_sub_t *sub = knoop_sub_required(b, p, m->stream, "Unsubscribe");
    if (!sub)
        return;
    knoop_sub_detach(b, sub);
}

void knoop_handle_credit(knoop_broker_t *b, knoop_peer_t *p, Knoop__Credit *m)
{
    knoop_sub_t *sub = knoop_sub_required(b, p, m->stream, "Credit");
    if (!sub)
        return;
    uint64_t max = b->config->settings.max_credit;
    sub->window = sub->window + m->n > max ? max : sub->window + m->n;
    knoop_group_pump_later(b, sub->group);
}
