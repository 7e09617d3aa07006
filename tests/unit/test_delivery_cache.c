/* test_delivery_cache.c — the bounded envelope cache of a fan-out stream: it fills from reads that continue it, evicts
 * its oldest entries at its entry and byte bounds, answers exactly the seq range it holds (and nothing outside), and
 * clear empties it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "deliver/delivery_cache.h"

/* The bytes the test stores for seq: "env-<seq>" padded to len with the seq's low byte. */
static void fill(uint8_t *buf, size_t len, uint64_t seq)
{
    memset(buf, (int)(seq & 0xff), len);
    char head[32];
    int n = snprintf(head, sizeof head, "env-%llu", (unsigned long long)seq);
    memcpy(buf, head, (size_t)n < len ? (size_t)n : len);
}

static void append(knoop_env_cache_t *c, uint64_t seq, size_t len)
{
    uint8_t buf[512];
    assert_true(len <= sizeof buf);
    fill(buf, len, seq);
    assert_int_equal(knoop_env_cache_append(c, seq, buf, len), 0);
}

/* Walks the cache from `from` and checks it yields exactly seqs[0..n) with the bytes append stored. */
static void expect_from(knoop_env_cache_t *c, uint64_t from, const uint64_t *seqs, size_t n, size_t len)
{
    size_t avail = 99;
    const knoop_env_entry_t *e = knoop_env_cache_from(c, from, &avail);
    if (n == 0) {
        assert_null(e);
        assert_int_equal(avail, 0);
        return;
    }
    assert_non_null(e);
    assert_int_equal(avail, n);
    uint8_t want[512];
    size_t i = 0;
    for (; e; e = knoop_env_cache_next(c, e), i++) {
        assert_true(i < n);
        assert_int_equal(e->seq, seqs[i]);
        assert_int_equal(e->len, len);
        fill(want, len, seqs[i]);
        assert_memory_equal(e->data, want, len);
    }
    assert_int_equal(i, n);
}

static void fills_from_a_read_that_continues_it(void **state)
{
    (void)state;
    knoop_env_cache_t *c = knoop_env_cache_new(16, 1 << 20);
    assert_non_null(c);
    assert_false(knoop_env_cache_covers(c, 1)); /* empty: covers nothing */
    assert_true(knoop_env_cache_extends(c, 1)); /* an empty cache starts wherever a read starts */
    for (uint64_t s = 1; s <= 5; s++)
        append(c, s, 40);
    assert_int_equal(knoop_env_cache_hi(c), 5);
    const uint64_t all[] = {1, 2, 3, 4, 5};
    expect_from(c, 1, all, 5, 40);
    expect_from(c, 3, all + 2, 3, 40);
    /* Only a read that starts right after hi continues it. */
    assert_true(knoop_env_cache_extends(c, 6));
    assert_false(knoop_env_cache_extends(c, 7));
    assert_false(knoop_env_cache_extends(c, 5));
    append(c, 6, 40);
    assert_int_equal(knoop_env_cache_hi(c), 6);
    assert_true(knoop_env_cache_covers(c, 6));
    knoop_env_cache_destroy(&c);
    assert_null(c);
    knoop_env_cache_destroy(&c); /* destroying NULL is harmless */
}

static void evicts_the_oldest_at_its_entry_bound(void **state)
{
    (void)state;
    knoop_env_cache_t *c = knoop_env_cache_new(4, 1 << 20);
    assert_true(knoop_env_cache_extends(c, 1));
    for (uint64_t s = 1; s <= 10; s++) /* the ring wraps twice */
        append(c, s, 16);
    /* Holds 7..10: the evicted ones are no longer covered, so a group behind them reads the journal. */
    assert_false(knoop_env_cache_covers(c, 6));
    assert_true(knoop_env_cache_covers(c, 7));
    assert_true(knoop_env_cache_covers(c, 10));
    assert_false(knoop_env_cache_covers(c, 11));
    expect_from(c, 6, NULL, 0, 16);
    const uint64_t held[] = {7, 8, 9, 10};
    expect_from(c, 7, held, 4, 16);
    expect_from(c, 9, held + 2, 2, 16);
    knoop_env_cache_destroy(&c);
}

static void evicts_the_oldest_at_its_byte_bound(void **state)
{
    (void)state;
    knoop_env_cache_t *c = knoop_env_cache_new(100, 100);
    assert_true(knoop_env_cache_extends(c, 1));
    append(c, 1, 40);
    append(c, 2, 40); /* 80 bytes */
    const uint64_t two[] = {1, 2};
    expect_from(c, 1, two, 2, 40);
    append(c, 3, 40); /* 120 > 100: seq 1 goes */
    assert_false(knoop_env_cache_covers(c, 1));
    const uint64_t after3[] = {2, 3};
    expect_from(c, 2, after3, 2, 40);
    append(c, 4, 40);
    const uint64_t after4[] = {3, 4};
    expect_from(c, 3, after4, 2, 40);
    assert_false(knoop_env_cache_covers(c, 2));
    /* One entry larger than the whole bound evicts everything and is kept alone (the group still needs it). */
    append(c, 5, 300);
    assert_false(knoop_env_cache_covers(c, 4));
    const uint64_t big[] = {5};
    expect_from(c, 5, big, 1, 300);
    /* ... and goes as soon as the next one comes. */
    append(c, 6, 40);
    assert_false(knoop_env_cache_covers(c, 5));
    const uint64_t last[] = {6};
    expect_from(c, 6, last, 1, 40);
    knoop_env_cache_destroy(&c);
}

/* A stream's seqs have gaps (other streams' messages): the cache is complete between lo and hi, so it answers "the
 * next entry at or after from" inside that range, and nothing outside it. */
static void answers_exactly_the_range_it_holds(void **state)
{
    (void)state;
    knoop_env_cache_t *c = knoop_env_cache_new(16, 1 << 20);
    assert_true(knoop_env_cache_extends(c, 8)); /* a read from 8 found 10, 12, 15, and the stream ends at 20 */
    append(c, 10, 24);
    append(c, 12, 24);
    append(c, 15, 24);
    knoop_env_cache_complete_to(c, 20);
    assert_int_equal(knoop_env_cache_hi(c), 20);
    assert_false(knoop_env_cache_covers(c, 7));
    for (uint64_t s = 8; s <= 20; s++)
        assert_true(knoop_env_cache_covers(c, s));
    assert_false(knoop_env_cache_covers(c, 21));
    const uint64_t held[] = {10, 12, 15};
    expect_from(c, 8, held, 3, 24); /* 8 and 9 are not on the stream: the first entry is 10 */
    expect_from(c, 11, held + 1, 2, 24);
    expect_from(c, 15, held + 2, 1, 24);
    expect_from(c, 16, NULL, 0, 24); /* complete up to 20 with nothing there: the caller moves past hi */
    expect_from(c, 7, NULL, 0, 24);  /* below lo: unknown, read the journal */
    expect_from(c, 21, NULL, 0, 24); /* above hi: unknown */
    /* complete_to never lowers hi */
    knoop_env_cache_complete_to(c, 18);
    assert_int_equal(knoop_env_cache_hi(c), 20);
    /* the next read continues at 21 */
    assert_true(knoop_env_cache_extends(c, 21));
    append(c, 23, 24);
    const uint64_t more[] = {23};
    expect_from(c, 21, more, 1, 24);
    knoop_env_cache_destroy(&c);
}

static void clear_empties_it(void **state)
{
    (void)state;
    knoop_env_cache_t *c = knoop_env_cache_new(8, 1 << 20);
    assert_true(knoop_env_cache_extends(c, 1));
    for (uint64_t s = 1; s <= 6; s++)
        append(c, s, 32);
    knoop_env_cache_clear(c); /* messages left the journal (purge, dlq re-route) */
    for (uint64_t s = 0; s <= 7; s++)
        assert_false(knoop_env_cache_covers(c, s));
    expect_from(c, 1, NULL, 0, 32);
    /* After a clear any read may start it again, also one far ahead. */
    assert_true(knoop_env_cache_extends(c, 100));
    append(c, 100, 32);
    append(c, 101, 32);
    const uint64_t again[] = {100, 101};
    expect_from(c, 100, again, 2, 32);
    assert_false(knoop_env_cache_covers(c, 6));
    knoop_env_cache_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fills_from_a_read_that_continues_it),
        cmocka_unit_test(evicts_the_oldest_at_its_entry_bound),
        cmocka_unit_test(evicts_the_oldest_at_its_byte_bound),
        cmocka_unit_test(answers_exactly_the_range_it_holds),
        cmocka_unit_test(clear_empties_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
