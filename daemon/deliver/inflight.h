/* inflight.h — a consumer group's unsettled deliveries: a ring ordered by seq (the ring fields of knoop_group_t),
 * the cursor that advances over its settled prefix only, and what happens to a delivery that comes back (backoff, or
 * a dead letter after the maximum attempts). Pure: no journal, no socket, no clock; delivery.c adds those. */
#ifndef KNOOP_DELIVER_INFLIGHT_H
#define KNOOP_DELIVER_INFLIGHT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/broker.h"

/* The i-th unsettled delivery, i < ring_len. Inline: it runs several times per ack. ring_head < ring_cap, so one
 * conditional subtraction instead of a division. */
static inline knoop_inflight_t *knoop_ring_at(knoop_group_t *g, size_t i)
{
    size_t k = g->ring_head + i;
    return &g->ring[k >= g->ring_cap ? k - g->ring_cap : k];
}

/* Appends seq (above every seq in the ring) as a fresh entry (state SENT, attempt 0, all else zero). 0 or -ENOMEM. */
int knoop_ring_push(knoop_group_t *g, uint64_t seq);
/* Takes back the entry the last push added (its send failed: the row is read again later). */
void knoop_ring_unpush(knoop_group_t *g);
/* A SENT entry leaves its member: the member's window slot and its connection's unacked count and bytes come back. */
void knoop_ring_release_member(knoop_inflight_t *e);
/* The entry of seq, or NULL. */
knoop_inflight_t *knoop_ring_find(knoop_group_t *g, uint64_t seq);
/* The entry of seq, inserted in order when absent (a requeued dead letter may lie below everything unsettled); a new
 * entry is settled (ACKED) until requeued. NULL when out of memory. */
knoop_inflight_t *knoop_ring_insert(knoop_group_t *g, uint64_t seq);
/* Pops the settled prefix: the cursor (acked_seq) moves to the last seq popped, or — nothing unsettled left — to all
 * that was read (next_seq - 1). It never moves back, and never over an unsettled seq. */
void knoop_ring_settle(knoop_group_t *g);

/* An Ack: the SENT entry of seq becomes ACKED and its member's window gets the slot back. NULL when seq is not out
 * (already settled, or returned by a timeout: at-least-once allows the late ack). Call knoop_ring_settle after. */
knoop_inflight_t *knoop_ring_ack(knoop_group_t *g, uint64_t seq);
/* A delivery comes back (nack, visibility timeout): its member's slot is freed and why kept. Returns true when it
 * used up max_attempts since its last `dlq retry` (attempt - attempt_floor): it is then settled (ACKED) and the caller
 * makes it a dead letter; false when it waits (WAITING) for redelivery at due_ms. */
bool knoop_ring_return(knoop_group_t *g, knoop_inflight_t *e, uint64_t max_attempts, uint64_t due_ms, const char *why);
/* Puts seq back for delivery at due_ms (dlq retry), with dl_id the dead letter it settles and at least attempts
 * counted before; the maximum counts from there. 0, -EBUSY (it is out right now) or -ENOMEM. */
int knoop_ring_requeue(knoop_group_t *g, uint64_t seq, int64_t dl_id, uint32_t attempts, uint64_t due_ms);

/* Exponential backoff before redelivery attempt + 1 when a Nack gives no delay: base_ms doubling per attempt, at most
 * an hour. knoop_backoff_ms draws between half and all of it (jitter, so returned deliveries do not come back in
 * step). */
uint64_t knoop_backoff_max_ms(uint64_t base_ms, uint32_t attempt);
uint64_t knoop_backoff_ms(uint64_t base_ms, uint32_t attempt);
#endif
