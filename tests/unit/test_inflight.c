/* test_inflight.c — the pure core of a consumer group (deliver/inflight.h): the ring of unsettled deliveries grows,
 * wraps and finds; the cursor moves only over contiguous acks; a returned delivery waits, then becomes a dead letter
 * after the maximum attempts counted from its last retry; a requeue lies below the cursor; the backoff doubles with
 * jitter up to an hour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "core/broker.h"
#include "deliver/inflight.h"

static knoop_group_t *bare_group(void)
{
    knoop_group_t *g = calloc(1, sizeof *g);
    assert_non_null(g);
    return g;
}

static void free_bare_group(knoop_group_t *g)
{
    free(g->ring);
    free(g);
}

/* Reads seq as the pump does: pushed, sent to member, next_seq past it. */
static knoop_inflight_t *sent(knoop_group_t *g, uint64_t seq, knoop_sub_t *member)
{
    assert_int_equal(knoop_ring_push(g, seq), 0);
    knoop_inflight_t *e = knoop_ring_at(g, g->ring_len - 1);
    e->attempt = 1;
    e->state = INFLIGHT_SENT;
    e->member = member;
    if (member)
        member->in_flight++;
    g->next_seq = seq + 1;
    return e;
}

static void ring_grows_wraps_and_finds(void **state)
{
    (void)state;
    knoop_group_t *g = bare_group();
    for (uint64_t s = 1; s <= 100; s++) /* past the first capacity (64) */
        sent(g, s, NULL);
    assert_int_equal(g->ring_len, 100);
    for (uint64_t s = 1; s <= 100; s++)
        assert_int_equal(knoop_ring_find(g, s)->seq, s);
    assert_null(knoop_ring_find(g, 0));
    assert_null(knoop_ring_find(g, 101));
    /* Settle the first 90 and push more: the ring wraps around its end. */
    for (uint64_t s = 1; s <= 90; s++)
        assert_non_null(knoop_ring_ack(g, s));
    knoop_ring_settle(g);
    assert_int_equal(g->acked_seq, 90);
    assert_int_equal(g->ring_len, 10);
    size_t cap = g->ring_cap;
    for (uint64_t s = 101; s <= 250; s += 2) /* sparse seqs (another stream's messages in between) */
        sent(g, s, NULL);
    assert_int_equal(g->ring_cap, cap); /* room was there: wrapped, not grown */
    assert_true(g->ring_head + g->ring_len > g->ring_cap);
    for (uint64_t s = 91; s <= 100; s++)
        assert_int_equal(knoop_ring_find(g, s)->seq, s);
    for (uint64_t s = 101; s <= 250; s++) {
        knoop_inflight_t *e = knoop_ring_find(g, s);
        if (s % 2)
            assert_int_equal(e->seq, s);
        else
            assert_null(e);
    }
    for (size_t i = 1; i < g->ring_len; i++) /* still in seq order */
        assert_true(knoop_ring_at(g, i - 1)->seq < knoop_ring_at(g, i)->seq);
    free_bare_group(g);
}

static void cursor_moves_only_over_contiguous_acks(void **state)
{
    (void)state;
    knoop_group_t *g = bare_group();
    knoop_sub_t m = {.window = 10};
    for (uint64_t s = 1; s <= 5; s++)
        sent(g, s, &m);
    assert_int_equal(m.in_flight, 5);
    knoop_inflight_t *e = knoop_ring_ack(g, 2);
    assert_non_null(e);
    assert_int_equal(e->state, INFLIGHT_ACKED);
    assert_null(e->member);
    assert_int_equal(m.in_flight, 4); /* the window gets the slot back at once */
    assert_non_null(knoop_ring_ack(g, 3));
    knoop_ring_settle(g);
    assert_int_equal(g->acked_seq, 0); /* 1 is still out */
    assert_int_equal(g->ring_len, 5);
    assert_null(knoop_ring_ack(g, 2)); /* a second ack of the same seq changes nothing */
    assert_int_equal(m.in_flight, 3);
    assert_non_null(knoop_ring_ack(g, 1));
    knoop_ring_settle(g);
    assert_int_equal(g->acked_seq, 3);
    assert_int_equal(g->ring_len, 2);
    assert_non_null(knoop_ring_ack(g, 5));
    knoop_ring_settle(g);
    assert_int_equal(g->acked_seq, 3);
    assert_non_null(knoop_ring_ack(g, 4));
    knoop_ring_settle(g);
    assert_int_equal(g->acked_seq, 5);
    assert_int_equal(g->ring_len, 0);
    assert_int_equal(m.in_flight, 0);
    /* Nothing unsettled: the cursor takes in what was read past the last delivery (no entries on this stream). */
    g->next_seq = 9;
    knoop_ring_settle(g);
    assert_int_equal(g->acked_seq, 8);
    g->next_seq = 4; /* never backwards */
    knoop_ring_settle(g);
    assert_int_equal(g->acked_seq, 8);
    free_bare_group(g);
}

static void returned_delivery_waits_then_becomes_a_dead_letter(void **state)
{
    (void)state;
    knoop_group_t *g = bare_group();
    knoop_sub_t m = {.window = 10};
    knoop_inflight_t *e = sent(g, 7, &m);
    /* attempt 1 of at most 3: it waits for redelivery when due, its member's slot freed, the reason kept */
    assert_false(knoop_ring_return(g, e, 3, 12345, "cannot parse"));
    assert_int_equal(e->state, INFLIGHT_WAITING);
    assert_int_equal(e->due_ms, 12345);
    assert_int_equal(g->waiting, 1);
    assert_int_equal(m.in_flight, 0);
    assert_null(e->member);
    assert_string_equal(e->reason, "cannot parse");
    /* a nack of a delivery that is not out is not an ack either */
    assert_null(knoop_ring_ack(g, 7));
    /* sent again (attempt 2), returned: still waits */
    e->state = INFLIGHT_SENT, e->member = &m, m.in_flight++, g->waiting--, e->attempt = 2;
    assert_false(knoop_ring_return(g, e, 3, 1, "visibility timeout"));
    /* attempt 3 = the maximum: settled, for the caller to dead-letter; the cursor moves past it */
    e->state = INFLIGHT_SENT, e->member = &m, m.in_flight++, g->waiting--, e->attempt = 3;
    assert_true(knoop_ring_return(g, e, 3, 1, "still cannot parse"));
    assert_int_equal(e->state, INFLIGHT_ACKED);
    assert_int_equal(g->waiting, 0);
    assert_int_equal(m.in_flight, 0);
    assert_string_equal(e->reason, "still cannot parse");
    knoop_ring_settle(g);
    assert_int_equal(g->acked_seq, 7);
    free_bare_group(g);
}

static void requeue_below_the_cursor_gets_a_fresh_round(void **state)
{
    (void)state;
    knoop_group_t *g = bare_group();
    knoop_sub_t m = {.window = 10};
    g->acked_seq = 10;
    sent(g, 11, &m);
    sent(g, 12, &m);
    /* dlq retry of seq 5 (dead letter 42, 3 attempts so far): before everything unsettled, waiting, due now */
    assert_int_equal(knoop_ring_requeue(g, 5, 42, 3, 777), 0);
    assert_int_equal(g->ring_len, 3);
    knoop_inflight_t *e = knoop_ring_at(g, 0);
    assert_int_equal(e->seq, 5);
    assert_int_equal(e->state, INFLIGHT_WAITING);
    assert_int_equal(e->due_ms, 777);
    assert_int_equal(e->dl_id, 42);
    assert_int_equal(e->attempt, 3);
    assert_int_equal(e->attempt_floor, 3);
    assert_int_equal(g->waiting, 1);
    assert_int_equal(knoop_ring_at(g, 1)->seq, 11);
    assert_int_equal(knoop_ring_requeue(g, 5, 42, 3, 778), 0); /* already waiting: once */
    assert_int_equal(g->waiting, 1);
    assert_int_equal(knoop_ring_requeue(g, 11, 43, 1, 1), -EBUSY); /* out right now */
    /* The maximum counts from the retry: attempts 4, 5 come back, the 6th is the end of the new round. */
    g->waiting--;
    for (uint32_t a = 4; a <= 6; a++) {
        e->state = INFLIGHT_SENT, e->attempt = a;
        bool dead = knoop_ring_return(g, e, 3, 1, "nack");
        assert_true(dead == (a == 6));
        if (!dead)
            g->waiting--;
    }
    /* settled below the cursor: the cursor does not move back, and not past the unsettled 11 */
    knoop_ring_settle(g);
    assert_int_equal(g->acked_seq, 10);
    assert_int_equal(g->ring_len, 2);
    free_bare_group(g);
}

static void backoff_doubles_with_jitter_up_to_an_hour(void **state)
{
    (void)state;
    assert_int_equal(knoop_backoff_max_ms(1000, 0), 1000);
    assert_int_equal(knoop_backoff_max_ms(1000, 1), 1000);
    assert_int_equal(knoop_backoff_max_ms(1000, 2), 2000);
    assert_int_equal(knoop_backoff_max_ms(1000, 3), 4000);
    assert_int_equal(knoop_backoff_max_ms(1000, 12), 2048000);
    assert_int_equal(knoop_backoff_max_ms(1000, 13), 3600000); /* capped */
    assert_int_equal(knoop_backoff_max_ms(3600000, 1000), 3600000);
    assert_int_equal(knoop_backoff_max_ms(0, 5), 0);
    assert_int_equal(knoop_backoff_ms(0, 5), 0);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < 500; i++) {
        uint64_t d = knoop_backoff_ms(1000, 3);
        assert_true(d >= 2000 && d <= 4000);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    assert_true(hi - lo > 500); /* jitter: returned deliveries do not all come back at the same moment */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ring_grows_wraps_and_finds),
        cmocka_unit_test(cursor_moves_only_over_contiguous_acks),
        cmocka_unit_test(returned_delivery_waits_then_becomes_a_dead_letter),
        cmocka_unit_test(requeue_below_the_cursor_gets_a_fresh_round),
        cmocka_unit_test(backoff_doubles_with_jitter_up_to_an_hour),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
