/* delivery.h — consumer groups and their subscriptions: credit, acks, redelivery, attempts that survive
 * restarts, dead letters, rewind and requeue. The ring of unsettled deliveries is inflight.h; the Ack and Nack frame
 * handlers are handlers.h; the journal's side of all this is store/ (cursors.h, attempts.h, dead_letters.h,
 * entries.h).
 */
#ifndef KNOOP_DELIVER_DELIVERY_H
#define KNOOP_DELIVER_DELIVERY_H
#include "core/broker.h"
#include "store/journal.h"

/* delivery.c: groups */
/* The group of name on s, created (*created) where the stored cursor says, or else where start says. NULL when out
 * of memory or when the stored cursor cannot be read. */
/* owner: the party that creates it (its connections only may join: deliver/group_rules.h checks); NULL keeps the
 * stored owner (a group the operator loads). */
knoop_group_t *knoop_group_get(knoop_broker_t *b, knoop_stream_t *s, const char *name, const char *owner,
                               Knoop__StartAt start, uint64_t start_seq, int64_t start_time_us, bool *created);
/* Writes the group's cursor row now, so its updated_us is now (the idle expiry's clock) and its owner is stored. */
void knoop_group_touch(knoop_broker_t *b, knoop_group_t *g);
/* The group of a durable name on a stream, loaded from the journal if no member joined yet; NULL if it never existed. */
knoop_group_t *knoop_group_find(knoop_broker_t *b, knoop_stream_t *s, const char *name);
void knoop_group_free(knoop_group_t *g);
void knoop_group_pump(knoop_broker_t *b, knoop_group_t *g);       /* send what the members have room for */
void knoop_group_pump_later(knoop_broker_t *b, knoop_group_t *g); /* at the end of this loop iteration */
void knoop_delivery_tick(knoop_broker_t *b);                      /* redelivery, visibility timeouts, cursors */
void knoop_delivery_cache_clear(knoop_broker_t *b);               /* messages left the journal (purge, dlq re-route) */
int knoop_group_rewind(knoop_broker_t *b, knoop_group_t *g, uint64_t acked_seq);
uint64_t knoop_seq_at_time(knoop_broker_t *b, int64_t time_us); /* first seq accepted at or after */
/* Puts a settled seq back for delivery (dlq retry): it goes out again before the cursor moves on. */
int knoop_group_requeue(knoop_broker_t *b, knoop_group_t *g, uint64_t seq, int64_t dl_id, uint32_t attempts);

/* delivery.c: subscriptions */
void knoop_sub_detach(knoop_broker_t *b, knoop_sub_t *sub);      /* unacked deliveries return to the group */
knoop_sub_t *knoop_sub_for(knoop_peer_t *p, const char *stream); /* this connection's subscription, or NULL */
/* The same, for a frame that needs one (Ack, Nack, Credit, Unsubscribe): without it, Error UNKNOWN_STREAM and NULL. */
knoop_sub_t *knoop_sub_required(knoop_broker_t *b, knoop_peer_t *p, const char *stream, const char *frame);

/* delivery_attempts.c: attempt counts that survive a restart */
void knoop_attempts_record(knoop_broker_t *b, knoop_group_t *g, knoop_inflight_t *e);
void knoop_attempts_forget(knoop_broker_t *b, knoop_group_t *g, knoop_inflight_t *e);
void knoop_attempts_load(knoop_broker_t *b, knoop_group_t *g);
uint32_t knoop_attempts_stored(const knoop_group_t *g, uint64_t seq);

/* dead_letters.c: a group gives up on an entry (a row and the deadletters stream); a retried one was acked */
void knoop_dead_letter_submit(knoop_broker_t *b, knoop_group_t *g, const knoop_inflight_t *e);
void knoop_dead_letter_retried(knoop_broker_t *b, int64_t id);
/* Writer thread: a dead letter's new state ('open', 'retrying', 'retried', 'discarded', 'expired'); reason NULL and
 * attempts < 0 keep what the row holds. knoop_store_dead_letter_set_state (store/dead_letters.h) at the current
 * time, which new callers use. */
int knoop_dead_letter_state_apply(knoop_jtx_t *tx, int64_t id, const char *state, const char *reason, int attempts);

#endif
