/* test_histogram.c — the log-scale latency histogram: bucket bounds (two per power of two, contiguous), percentiles
 * of known data exact where a bucket holds one value and within a bucket's width elsewhere, p50 <= p99 <= max, and
 * the difference of two readings (what knoop-bench reports per case). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>
#include "base/histogram.h"

static void buckets_are_contiguous_two_per_power(void **state)
{
    (void)state;
    static const uint64_t lower[] = {0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
    for (unsigned i = 0; i < sizeof lower / sizeof lower[0]; i++)
        assert_int_equal(knoop_hist_lower(i), lower[i]);
    for (unsigned i = 0; i + 1 < KNOOP_HIST_BUCKETS; i++) {
        assert_int_equal(knoop_hist_upper(i), knoop_hist_lower(i + 1));
        assert_int_equal(knoop_hist_bucket_of(knoop_hist_lower(i)), i);
        assert_int_equal(knoop_hist_bucket_of(knoop_hist_upper(i) - 1), i);
    }
    /* beyond the last bound: the last bucket, never past the array */
    assert_int_equal(knoop_hist_bucket_of(UINT64_MAX), KNOOP_HIST_BUCKETS - 1);
    assert_int_equal(knoop_hist_upper(KNOOP_HIST_BUCKETS - 1), UINT64_MAX);
}

static void empty_histogram_says_zero(void **state)
{
    (void)state;
    knoop_hist_t h = {0};
    assert_int_equal(knoop_hist_quantile(&h, 0.5), 0);
    assert_int_equal(knoop_hist_quantile(&h, 0.99), 0);
}

static void percentiles_of_known_data(void **state)
{
    (void)state;
    knoop_hist_t h = {0};
    /* 1..1000 us once each: the true p50 is 500, p90 900, p99 990 */
    for (uint64_t v = 1; v <= 1000; v++)
        knoop_hist_record(&h, v);
    assert_int_equal(h.count, 1000);
    assert_int_equal(h.sum_us, 500500);
    assert_int_equal(h.max_us, 1000);
    /* the answer is the top of the bucket holding the true value: 500 in [384,512), 900 in [768,1024) */
    assert_int_equal(knoop_hist_quantile(&h, 0.50), 511);
    assert_int_equal(knoop_hist_quantile(&h, 0.90), 1000); /* capped at max */
    assert_int_equal(knoop_hist_quantile(&h, 0.99), 1000);
    assert_int_equal(knoop_hist_quantile(&h, 1.0), 1000);

    /* 99 fast values and one slow one: p50 and p90 are the fast bucket, p99 still fast, max the slow one */
    knoop_hist_t g = {0};
    for (int i = 0; i < 99; i++)
        knoop_hist_record(&g, 5);
    knoop_hist_record(&g, 70000);
    assert_int_equal(knoop_hist_quantile(&g, 0.50), 5); /* bucket [4,6): its top, 5, is the value itself */
    assert_int_equal(knoop_hist_quantile(&g, 0.99), 5);
    assert_int_equal(knoop_hist_quantile(&g, 0.999), 70000);
    assert_int_equal(g.max_us, 70000);

    /* values that sit alone in their buckets come back exactly */
    knoop_hist_t e = {0};
    knoop_hist_record(&e, 0);
    knoop_hist_record(&e, 1);
    knoop_hist_record(&e, 2);
    knoop_hist_record(&e, 3);
    assert_int_equal(knoop_hist_quantile(&e, 0.25), 0);
    assert_int_equal(knoop_hist_quantile(&e, 0.50), 1);
    assert_int_equal(knoop_hist_quantile(&e, 0.75), 2);
    assert_int_equal(knoop_hist_quantile(&e, 1.00), 3);
}

static void relative_error_is_bounded(void **state)
{
    (void)state;
    /* whatever one value is recorded, its quantile is at least the value and less than 1.5 times it */
    for (uint64_t v = 1; v < 100000000; v = v * 3 + 1) {
        knoop_hist_t h = {0};
        knoop_hist_record(&h, v);
        knoop_hist_record(&h, v + 1000000000); /* so max does not cap the answer */
        uint64_t q = knoop_hist_quantile(&h, 0.5);
        assert_true(q >= v);
        assert_true(q * 2 < v * 3);
    }
}

static void ordered_on_any_data(void **state)
{
    (void)state;
    knoop_hist_t h = {0};
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 10000; i++) { /* xorshift: spread over many powers of two */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        knoop_hist_record(&h, (x % 1000000) >> (x % 20));
    }
    uint64_t p50 = knoop_hist_quantile(&h, 0.5), p90 = knoop_hist_quantile(&h, 0.9);
    uint64_t p99 = knoop_hist_quantile(&h, 0.99);
    assert_true(p50 <= p90 && p90 <= p99 && p99 <= h.max_us);
}

static void since_subtracts_two_readings(void **state)
{
    (void)state;
    knoop_hist_t h = {0}, before, d;
    for (int i = 0; i < 100; i++)
        knoop_hist_record(&h, 3000);
    before = h;
    for (int i = 0; i < 10; i++)
        knoop_hist_record(&h, 20);
    knoop_hist_since(&d, &h, &before);
    assert_int_equal(d.count, 10);
    assert_int_equal(d.sum_us, 200);
    assert_int_equal(knoop_hist_quantile(&d, 0.5), 23); /* bucket [16,24) */
    assert_int_equal(d.max_us, 23);                     /* the bucket's top: the earlier 3000 is not this case's */
    knoop_hist_since(&d, &h, &h);
    assert_int_equal(d.count, 0);
    assert_int_equal(d.max_us, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buckets_are_contiguous_two_per_power),
        cmocka_unit_test(empty_histogram_says_zero),
        cmocka_unit_test(percentiles_of_known_data),
        cmocka_unit_test(relative_error_is_bounded),
        cmocka_unit_test(ordered_on_any_data),
        cmocka_unit_test(since_subtracts_two_readings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
