/* histogram.h — a fixed log-scale histogram of microseconds: two buckets per power of two (bounds 1, 2, 3, 4, 6, 8,
 * 12, 16, ... us), so recording is a few instructions and a percentile is never half again above the truth. */
#ifndef KNOOP_BASE_HISTOGRAM_H
#define KNOOP_BASE_HISTOGRAM_H
#include <stdint.h>

/* Bucket i holds the values in [knoop_hist_lower(i), knoop_hist_upper(i)); the last one also everything above
 * (2^28 us, about 4.5 minutes, is far beyond any stage a publish waits for). */
#define KNOOP_HIST_BUCKETS 56

/* Zero-initialised is an empty histogram. One writer at a time (the owner's thread); plain memory, no locks. */
typedef struct knoop_hist {
    uint64_t bucket[KNOOP_HIST_BUCKETS];
    uint64_t count;
    uint64_t sum_us;
    uint64_t max_us;
} knoop_hist_t;

void knoop_hist_record(knoop_hist_t *h, uint64_t us);
unsigned knoop_hist_bucket_of(uint64_t us);
uint64_t knoop_hist_lower(unsigned i); /* smallest value of bucket i */
uint64_t knoop_hist_upper(unsigned i); /* first value above bucket i (exclusive bound); UINT64_MAX for the last */
/* The q-quantile (0 < q <= 1): the largest value of the bucket that holds the ceil(q * count)-th smallest value,
 * never more than max_us; 0 when empty. So p50 <= p90 <= p99 <= max always holds. */
uint64_t knoop_hist_quantile(const knoop_hist_t *h, double q);
/* What was recorded in later but not in earlier (two readings of one histogram, earlier taken first): buckets, count
 * and sum are exact; max_us is the largest value the highest non-empty bucket can hold, capped at later's max. */
void knoop_hist_since(knoop_hist_t *out, const knoop_hist_t *later, const knoop_hist_t *earlier);
#endif
