/* metrics.h — the counters the layers bump as traffic passes (messages in and out by party and kind, rejections by
 * code, redeliveries) and the engine that turns the metric table (app/metrics_table.c, put in the context like the
 * job table) into Prometheus text and into its Markdown reference. Loop thread only: the HTTP endpoint serves a
 * copy the loop renders (app/metrics_http.c), never these. */
#ifndef KNOOP_CORE_METRICS_H
#define KNOOP_CORE_METRICS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/histogram.h"
#include "base/strmap.h"

struct knoop_broker;
struct knoop_jop;

#define KNOOP_METRICS_CODES 32 /* error codes counted one by one (knoop.proto's ErrorCode); larger ones share a slot */

/* Where a publish's time goes, from its frame to its answer (docs/bench.md): decoding, checks and routing on the loop;
 * waiting for the writer; the writer's transaction up to the durable COMMIT; the completion reaching the loop and the
 * answer sent. */
typedef enum knoop_stage {
    KNOOP_STAGE_INGEST,
    KNOOP_STAGE_QUEUE,
    KNOOP_STAGE_COMMIT,
    KNOOP_STAGE_ANSWER,
    KNOOP_STAGES
} knoop_stage_t;
extern const char *const knoop_stage_names[KNOOP_STAGES]; /* "ingest", "queue", "commit", "answer" */

/* The counters; zero-initialised is valid (nothing is counted until knoop_metrics_init). */
typedef struct knoop_metrics {
    knoop_strmap_t *in;  /* "party/kind" -> knoop_metric_pk_t (owned): messages journaled, by publisher and kind */
    knoop_strmap_t *out; /* the same for deliveries sent, by the subscriber's party and the message's kind */
    uint64_t rejected[KNOOP_METRICS_CODES];
    uint64_t redeliveries;            /* deliveries with attempt > 1 */
    bool full;                        /* a map hit its bound: further new label pairs are counted under party "other" */
    knoop_hist_t stage[KNOOP_STAGES]; /* microseconds, one value per publish answered after its commit */
} knoop_metrics_t;

typedef struct knoop_metric_pk {
    char party[16];
    int kind;
    uint64_t n;
} knoop_metric_pk_t;

int knoop_metrics_init(knoop_metrics_t *m); /* 0 or -ENOMEM */
void knoop_metrics_free(knoop_metrics_t *m);
void knoop_metrics_count_in(knoop_metrics_t *m, const char *party, int kind);
/* A delivery of the packed envelope env (its kind is read from the bytes, nothing is unpacked). */
void knoop_metrics_count_out(knoop_metrics_t *m, const char *party, const void *env, size_t env_len, uint32_t attempt);
void knoop_metrics_count_rejected(knoop_metrics_t *m, int code);
/* The stages of one publish answered just now: received_us is when its frame was read, op carries the journal's times
 * (all CLOCK_MONOTONIC microseconds, base/clock.h's knoop_mono_us). */
void knoop_metrics_count_stages(knoop_metrics_t *m, uint64_t received_us, const struct knoop_jop *op);
/* The kind field of a packed knoop.Envelope, or 0 when absent or unreadable. */
int knoop_envelope_peek_kind(const void *env, size_t len);

/* ---- the metric table and its rendering ---- */

/* A histogram row's emit writes name_bucket{...,le="..."} (cumulative), name_sum and name_count samples. */
typedef enum knoop_metric_type { KNOOP_METRIC_COUNTER, KNOOP_METRIC_GAUGE, KNOOP_METRIC_HISTOGRAM } knoop_metric_type_t;

/* A growing text buffer; after an allocation failure it stays failed and render returns NULL. */
typedef struct knoop_metric_buf {
    char *data;
    size_t len, cap;
    bool failed;
} knoop_metric_buf_t;

typedef struct knoop_metric_def knoop_metric_def_t;
struct knoop_metric_def {
    const char *name; /* knoop_messages_in_total */
    knoop_metric_type_t type;
    const char *labels;  /* "party, kind", or "" */
    const char *help;    /* one line: the # HELP text */
    const char *reading; /* how to read it, what to alert on (docs only) */
    /* Writes the samples (knoop_metric_sample) from the loop's state. */
    void (*emit)(struct knoop_broker *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d);
};

/* One sample line: name{labels} value. labels is "" or pre-built with knoop_metric_labels. */
void knoop_metric_sample(knoop_metric_buf_t *o, const char *name, const char *labels, double value);
void knoop_metric_sample_u(knoop_metric_buf_t *o, const char *name, const char *labels, uint64_t value);
/* A histogram's samples in seconds: name_bucket at every power of two of microseconds (1 us .. 2^27 us) and +Inf,
 * cumulative, then name_sum and name_count. labels ("" or pre-built) go before le. */
void knoop_metric_histogram(knoop_metric_buf_t *o, const char *name, const char *labels, const knoop_hist_t *h);
/* Builds key="value",... from NULL-terminated (key, value) pairs, escaping \, " and newlines as the format wants. */
void knoop_metric_labels(char *buf, size_t len, ...);
void knoop_metric_printf(knoop_metric_buf_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The Prometheus text (format 0.0.4) of every row of b->metric_table: NUL-terminated, caller frees; NULL when out of
 * memory. */
char *knoop_metrics_render(struct knoop_broker *b, size_t *len);
/* The Markdown reference of a table (docs/metrics.md is checked against it). Caller frees. */
char *knoop_metrics_markdown(const knoop_metric_def_t *table, size_t n);
#endif
