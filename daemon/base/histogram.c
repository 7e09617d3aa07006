/* histogram.c — the log-scale histogram of histogram.h: a value's bucket from its highest set bit and the bit below
 * it, so the buckets need no table and no search. */
#include "base/histogram.h"
#include <math.h>

unsigned knoop_hist_bucket_of(uint64_t us)
{
    if (us < 2)
        return (unsigned)us;
    unsigned p = 63u - (unsigned)__builtin_clzll(us); /* 2^p <= us < 2^(p+1), p >= 1 */
    unsigned i = 2 * p + (unsigned)((us >> (p - 1)) & 1);
    return i < KNOOP_HIST_BUCKETS ? i : KNOOP_HIST_BUCKETS - 1;
}

uint64_t knoop_hist_lower(unsigned i)
{
    if (i < 2)
        return i;
    unsigned p = i / 2;
    return (1ull << p) + (i & 1 ? 1ull << (p - 1) : 0);
}

uint64_t knoop_hist_upper(unsigned i)
{
    return i + 1 < KNOOP_HIST_BUCKETS ? knoop_hist_lower(i + 1) : UINT64_MAX;
}

void knoop_hist_record(knoop_hist_t *h, uint64_t us)
{
    h->bucket[knoop_hist_bucket_of(us)]++;
    h->count++;
    h->sum_us += us;
    if (us > h->max_us)
        h->max_us = us;
}

uint64_t knoop_hist_quantile(const knoop_hist_t *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->count);
    if (rank < 1)
        rank = 1;
    if (rank > h->count)
        rank = h->count;
    uint64_t seen = 0;
    for (unsigned i = 0; i < KNOOP_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t top = knoop_hist_upper(i) - 1;
            return top < h->max_us ? top : h->max_us;
        }
    }
    return h->max_us;
}

void knoop_hist_since(knoop_hist_t *out, const knoop_hist_t *later, const knoop_hist_t *earlier)
{
    out->count = later->count - earlier->count;
    out->sum_us = later->sum_us - earlier->sum_us;
    out->max_us = 0;
    for (unsigned i = 0; i < KNOOP_HIST_BUCKETS; i++) {
        out->bucket[i] = later->bucket[i] - earlier->bucket[i];
        if (out->bucket[i]) {
            uint64_t top = knoop_hist_upper(i) - 1;
            out->max_us = top < later->max_us ? top : later->max_us;
        }
    }
}
