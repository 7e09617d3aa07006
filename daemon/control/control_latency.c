/* control_latency.c — the stages of a publish (core/metrics.h: ingest, queue, commit, answer) from the loop's
 * histograms: a summary per stage (count, p50, p90, p99, max in microseconds) for `status` and `latency`, and for
 * `latency` the non-empty buckets too, so a tool can subtract two readings and get the figures of what ran between. */
#include "control/control_latency.h"
#include "base/histogram.h"
#include "control/control_table.h"
#include "core/broker.h"
#include "core/metrics.h"

static json_t *summary(const knoop_hist_t *h)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "count", (json_int_t)h->count, "p50",
                     (json_int_t)knoop_hist_quantile(h, 0.50), "p90", (json_int_t)knoop_hist_quantile(h, 0.90), "p99",
                     (json_int_t)knoop_hist_quantile(h, 0.99), "max", (json_int_t)h->max_us);
}

void knoop_latency_status_fields(knoop_broker_t *b, json_t *o)
{
    char key[48];
    for (int s = 0; s < KNOOP_STAGES; s++) {
        snprintf(key, sizeof key, "publish_stage_%s_us", knoop_stage_names[s]);
        json_object_set_new(o, key, summary(&b->metrics.stage[s]));
    }
}

/* {count, sum_us, max_us, buckets: [[lower_us, n], ...]} with the non-empty buckets only. */
static json_t *histogram(const knoop_hist_t *h)
{
    json_t *buckets = json_array();
    for (unsigned i = 0; i < KNOOP_HIST_BUCKETS; i++)
        if (h->bucket[i])
            json_array_append_new(buckets,
                                  json_pack("[I,I]", (json_int_t)knoop_hist_lower(i), (json_int_t)h->bucket[i]));
    return json_pack("{s:I, s:I, s:I, s:o}", "count", (json_int_t)h->count, "sum_us", (json_int_t)h->sum_us, "max_us",
                     (json_int_t)h->max_us, "buckets", buckets);
}

static const char *const what[KNOOP_STAGES] = {
    "frame read -> queued to the journal (decode, checks, route)",
    "queued -> taken into a batch by the writer",
    "taken -> COMMIT returned (the transaction and its fsync)",
    "COMMIT returned -> answer sent (the completion reaching the loop)",
};

json_t *knoop_cmd_latency(knoop_broker_t *b, int argc, const char *const *argv, char *error, size_t errlen)
{
    (void)argc, (void)argv, (void)error, (void)errlen;
    json_t *t = knoop_table_new(
        (const char *[]){"stage", "count", "p50_us", "p90_us", "p99_us", "max_us", "what it measures", NULL});
    json_t *hists = json_object();
    for (int s = 0; s < KNOOP_STAGES; s++) {
        const knoop_hist_t *h = &b->metrics.stage[s];
        knoop_table_add(t, json_pack("[s,I,I,I,I,I,s]", knoop_stage_names[s], (json_int_t)h->count,
                                     (json_int_t)knoop_hist_quantile(h, 0.50), (json_int_t)knoop_hist_quantile(h, 0.90),
                                     (json_int_t)knoop_hist_quantile(h, 0.99), (json_int_t)h->max_us, what[s]));
        json_object_set_new(hists, knoop_stage_names[s], histogram(h));
    }
    json_object_set_new(t, "histograms", hists);
    return t;
}
