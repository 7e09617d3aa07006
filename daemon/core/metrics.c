/* metrics.c — counters by label (party x kind, error code) kept in bounded maps, and the renderer that walks the
 * metric table: # HELP and # TYPE from the row, the samples from its emit function. The same table gives the Markdown
 * reference, so the documentation cannot describe a metric the daemon does not serve. */
#include "core/metrics.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "core/broker.h"
#include "store/journal.h"

#define LABEL_PAIRS_MAX 4096 /* party x kind pairs per map: parties are the network's, kinds are 14 */

int knoop_metrics_init(knoop_metrics_t *m)
{
    memset(m, 0, sizeof *m);
    m->in = knoop_strmap_new();
    m->out = knoop_strmap_new();
    if (!m->in || !m->out) {
        knoop_metrics_free(m);
        return -ENOMEM;
    }
    return 0;
}

static void free_map(knoop_strmap_t **map)
{
    if (!*map)
        return;
    size_t pos = 0;
    void *v;
    while (knoop_strmap_next(*map, &pos, NULL, &v))
        free(v);
    knoop_strmap_destroy(map);
}

void knoop_metrics_free(knoop_metrics_t *m)
{
    free_map(&m->in);
    free_map(&m->out);
}

static void count(knoop_metrics_t *m, knoop_strmap_t *map, const char *party, int kind)
{
    if (!map)
        return;
    char key[40];
    snprintf(key, sizeof key, "%.15s/%d", party, kind);
    knoop_metric_pk_t *e = knoop_strmap_get(map, key);
    if (!e) {
        if (knoop_strmap_size(map) >= LABEL_PAIRS_MAX) {
            m->full = true;
            snprintf(key, sizeof key, "other/%d", kind);
            party = "other";
            e = knoop_strmap_get(map, key);
        }
        if (!e) {
            e = calloc(1, sizeof *e);
            if (!e)
                return;
            snprintf(e->party, sizeof e->party, "%s", party);
            e->kind = kind;
            if (knoop_strmap_put(map, key, e) != 0) {
                free(e);
                return;
            }
        }
    }
    e->n++;
}

void knoop_metrics_count_in(knoop_metrics_t *m, const char *party, int kind)
{
    count(m, m->in, party, kind);
}

void knoop_metrics_count_out(knoop_metrics_t *m, const char *party, const void *env, size_t env_len, uint32_t attempt)
{
    if (attempt > 1)
        m->redeliveries++;
    if (m->out)
        count(m, m->out, party, knoop_envelope_peek_kind(env, env_len));
}

void knoop_metrics_count_rejected(knoop_metrics_t *m, int code)
{
    m->rejected[code >= 0 && code < KNOOP_METRICS_CODES ? code : KNOOP_METRICS_CODES - 1]++;
}

const char *const knoop_stage_names[KNOOP_STAGES] = {"ingest", "queue", "commit", "answer"};

/* A clock step cannot go backwards on CLOCK_MONOTONIC; the guard only keeps a zero stamp (an op the journal handed
 * back without taking it) from counting as years. */
static uint64_t span(uint64_t from, uint64_t to)
{
    return to > from ? to - from : 0;
}

void knoop_metrics_count_stages(knoop_metrics_t *m, uint64_t received_us, const struct knoop_jop *op)
{
    uint64_t now = knoop_mono_us();
    knoop_hist_record(&m->stage[KNOOP_STAGE_INGEST], span(received_us, op->queued_us));
    knoop_hist_record(&m->stage[KNOOP_STAGE_QUEUE], span(op->queued_us, op->taken_us));
    knoop_hist_record(&m->stage[KNOOP_STAGE_COMMIT], span(op->taken_us, op->committed_us));
    knoop_hist_record(&m->stage[KNOOP_STAGE_ANSWER], span(op->committed_us, now));
}

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return true;
    }
    return false;
}

int knoop_envelope_peek_kind(const void *env, size_t len)
{
    const uint8_t *p = env, *end = p + len;
    while (p < end) {
        uint64_t tag, v;
        if (!read_varint(&p, end, &tag))
            return 0;
        switch (tag & 7) {
        case 0:
            if (!read_varint(&p, end, &v))
                return 0;
            if ((tag >> 3) == 5) /* Envelope.kind */
                return v < 1000 ? (int)v : 0;
            break;
        case 1:
            if (end - p < 8)
                return 0;
            p += 8;
            break;
        case 2:
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return 0;
            p += v;
            break;
        case 5:
            if (end - p < 4)
                return 0;
            p += 4;
            break;
        default:
            return 0;
        }
    }
    return 0;
}

/* ---- rendering ---- */

static bool reserve(knoop_metric_buf_t *o, size_t more)
{
    if (o->failed)
        return false;
    if (o->len + more + 1 <= o->cap)
        return true;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + more + 1)
        cap *= 2;
    char *d = realloc(o->data, cap);
    if (!d) {
        o->failed = true;
        return false;
    }
    o->data = d;
    o->cap = cap;
    return true;
}

void knoop_metric_printf(knoop_metric_buf_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(o, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(o->data + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    o->len += (size_t)n;
}

void knoop_metric_sample(knoop_metric_buf_t *o, const char *name, const char *labels, double value)
{
    const char *open = labels && labels[0] ? "{" : "", *close = labels && labels[0] ? "}" : "";
    if (isnan(value))
        knoop_metric_printf(o, "%s%s%s%s NaN\n", name, open, labels ? labels : "", close);
    else
        knoop_metric_printf(o, "%s%s%s%s %.9g\n", name, open, labels ? labels : "", close, value);
}

void knoop_metric_sample_u(knoop_metric_buf_t *o, const char *name, const char *labels, uint64_t value)
{
    const char *open = labels && labels[0] ? "{" : "", *close = labels && labels[0] ? "}" : "";
    knoop_metric_printf(o, "%s%s%s%s %llu\n", name, open, labels ? labels : "", close, (unsigned long long)value);
}

void knoop_metric_histogram(knoop_metric_buf_t *o, const char *name, const char *labels, const knoop_hist_t *h)
{
    const char *sep = labels && labels[0] ? "," : "";
    uint64_t below = 0; /* values under 2^k us: the buckets before the one of 2^k (index 1 for 1 us, else 2k) */
    unsigned i = 0;
    for (unsigned k = 0; 2 * k < KNOOP_HIST_BUCKETS; k++) {
        for (; i < (k ? 2 * k : 1); i++)
            below += h->bucket[i];
        knoop_metric_printf(o, "%s_bucket{%s%sle=\"%.6f\"} %llu\n", name, labels ? labels : "", sep,
                            (double)(1ull << k) / 1e6, (unsigned long long)below);
    }
    knoop_metric_printf(o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels ? labels : "", sep,
                        (unsigned long long)h->count);
    const char *open = labels && labels[0] ? "{" : "", *close = labels && labels[0] ? "}" : "";
    knoop_metric_printf(o, "%s_sum%s%s%s %.6f\n", name, open, labels ? labels : "", close, (double)h->sum_us / 1e6);
    knoop_metric_printf(o, "%s_count%s%s%s %llu\n", name, open, labels ? labels : "", close,
                        (unsigned long long)h->count);
}

void knoop_metric_labels(char *buf, size_t len, ...)
{
    size_t used = 0;
    va_list ap;
    va_start(ap, len);
    const char *key;
    if (len)
        buf[0] = '\0';
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *val = va_arg(ap, const char *);
        int n = snprintf(buf + used, len > used ? len - used : 0, "%s%s=\"", used ? "," : "", key);
        if (n < 0 || used + (size_t)n >= len)
            break;
        used += (size_t)n;
        for (const char *c = val ? val : ""; *c && used + 3 < len; c++) {
            if (*c == '\\' || *c == '"' || *c == '\n') {
                buf[used++] = '\\';
                buf[used++] = *c == '\n' ? 'n' : *c;
            } else {
                buf[used++] = *c;
            }
        }
        if (used + 2 > len)
            break;
        buf[used++] = '"';
        buf[used] = '\0';
    }
    va_end(ap);
}

static const char *type_name(knoop_metric_type_t t)
{
    return t == KNOOP_METRIC_COUNTER ? "counter" : t == KNOOP_METRIC_HISTOGRAM ? "histogram" : "gauge";
}

char *knoop_metrics_render(knoop_broker_t *b, size_t *len)
{
    knoop_metric_buf_t o = {0};
    reserve(&o, 16384);
    for (size_t i = 0; i < b->n_metrics; i++) {
        const knoop_metric_def_t *d = &b->metric_table[i];
        knoop_metric_printf(&o, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help, d->name, type_name(d->type));
        d->emit(b, &o, d);
    }
    if (o.failed || !reserve(&o, 0)) {
        free(o.data);
        return NULL;
    }
    o.data[o.len] = '\0';
    if (len)
        *len = o.len;
    return o.data;
}

char *knoop_metrics_markdown(const knoop_metric_def_t *table, size_t n)
{
    knoop_metric_buf_t o = {0};
    knoop_metric_printf(&o, "| metric | type | labels | what it counts | how to read it |\n|---|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        const knoop_metric_def_t *d = &table[i];
        knoop_metric_printf(&o, "| `%s` | %s | %s | %s | %s |\n", d->name, type_name(d->type),
                            d->labels[0] ? d->labels : "—", d->help, d->reading);
    }
    if (o.failed || !reserve(&o, 0)) {
        free(o.data);
        return NULL;
    }
    o.data[o.len] = '\0';
    return o.data;
}
