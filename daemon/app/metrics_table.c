/* metrics_table.c — every metric knoopd serves is a row here: name, type, labels, what it counts, how to read it, and
 * the function that reads it from the loop's state. The rows drive /metrics, `knoopctl metrics` and docs/metrics.md
 * (knoopd --metrics-markdown; tests/unit/test_metrics.c checks the file). A metric that is not a row is not served. */
#include "app/metrics_table.h"
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>
#include "core/health.h"
#include "deliver/streams.h"
#include "knoop/names.h"
#include "legacy/workdays.h"
#include "store/journal.h"
#include "store/status.h"
#include "base/clock.h"

/* ---- counters kept by label (core/metrics.h) ---- */

static void emit_party_kind(knoop_metric_buf_t *o, const char *name, knoop_strmap_t *map)
{
    size_t pos = 0;
    void *v;
    char labels[160];
    while (map && knoop_strmap_next(map, &pos, NULL, &v)) {
        const knoop_metric_pk_t *e = v;
        knoop_metric_labels(labels, sizeof labels, "party", e->party, "kind", knoop_kind_name(e->kind), NULL);
        knoop_metric_sample_u(o, name, labels, e->n);
    }
}

static void emit_in(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    emit_party_kind(o, d->name, b->metrics.in);
}

static void emit_out(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    emit_party_kind(o, d->name, b->metrics.out);
}

static void emit_rejections(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    char labels[64];
    for (int code = 0; code < KNOOP_METRICS_CODES; code++)
        if (b->metrics.rejected[code]) {
            knoop_metric_labels(labels, sizeof labels, "code", knoop_error_code_name(code), NULL);
            knoop_metric_sample_u(o, d->name, labels, b->metrics.rejected[code]);
        }
}

/* ---- the broker's own figures ---- */

#define STAT_ROW(fn, field)                                                                                            \
    static void fn(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)                              \
    {                                                                                                                  \
        knoop_metric_sample_u(o, d->name, "", b->stats.field);                                                         \
    }
STAT_ROW(emit_published, published)
STAT_ROW(emit_duplicates, duplicates)
STAT_ROW(emit_deliveries, delivered)
STAT_ROW(emit_acks, acked)
STAT_ROW(emit_nacks, nacked)
STAT_ROW(emit_dead_letters, dead_lettered)
STAT_ROW(emit_bad_frames, bad_frames)

static void emit_redeliveries(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_metric_sample_u(o, d->name, "", b->metrics.redeliveries);
}

/* ---- the journal (store/journal.h's stats) ---- */

static void emit_commits(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_journal_stats_t js;
    knoop_journal_stats(b->journal, &js);
    knoop_metric_sample_u(o, d->name, "", js.commits);
}

static void emit_committed_ops(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_journal_stats_t js;
    knoop_journal_stats(b->journal, &js);
    knoop_metric_sample_u(o, d->name, "", js.ops);
}

static void emit_batch_max(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_journal_stats_t js;
    knoop_journal_stats(b->journal, &js);
    knoop_metric_sample_u(o, d->name, "", js.max_batch);
}

static void emit_commit_latency(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_journal_stats_t js;
    knoop_journal_stats(b->journal, &js);
    knoop_metric_sample(o, d->name, "quantile=\"0.5\"", (double)js.commit_us_p50 / 1e6);
    knoop_metric_sample(o, d->name, "quantile=\"0.99\"", (double)js.commit_us_p99 / 1e6);
}

static void emit_stages(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    char labels[64];
    for (int s = 0; s < KNOOP_STAGES; s++) {
        knoop_metric_labels(labels, sizeof labels, "stage", knoop_stage_names[s], NULL);
        knoop_metric_histogram(o, d->name, labels, &b->metrics.stage[s]);
    }
}

static void emit_checkpoints(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_journal_stats_t js;
    knoop_journal_stats(b->journal, &js);
    knoop_metric_sample_u(o, d->name, "", js.checkpoints);
}

static void emit_journal_queue(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_metric_sample_u(o, d->name, "", knoop_journal_pending(b->journal));
}

static void emit_last_seq(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_metric_sample_u(o, d->name, "", knoop_journal_last_seq(b->journal));
}

static void emit_db_bytes(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    int64_t n = knoop_journal_db_bytes(b->journal);
    knoop_metric_sample_u(o, d->name, "", n > 0 ? (uint64_t)n : 0);
}

/* ---- subscribers, deadlines, connections ---- */

static void emit_lag(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    char labels[400];
    knoop_group_iter_t it = {0};
    for (knoop_group_t *g; (g = knoop_group_next(b, &it));) {
        const knoop_stream_t *s = g->stream;
        if (g->name[0] == '~') /* an anonymous subscription: no cursor to fall behind on */
            continue;
        knoop_metric_labels(labels, sizeof labels, "stream", s->name, "subscriber", g->name, NULL);
        knoop_metric_sample_u(o, d->name, labels, s->last_seq > g->acked_seq ? s->last_seq - g->acked_seq : 0);
    }
}

static void emit_in_flight(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    uint64_t n = 0;
    size_t pos = 0;
    void *pv;
    while (knoop_strmap_next(b->peers, &pos, NULL, &pv))
        for (knoop_sub_t *s = ((knoop_peer_t *)pv)->subs; s; s = s->next_on_peer)
            n += s->in_flight;
    knoop_metric_sample_u(o, d->name, "", n);
}

static void emit_overdue(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_date_t today;
    char day[11];
    if (knoop_date_from_unix_amsterdam((int64_t)(knoop_now_us() / 1000000), &today) != 0 ||
        knoop_date_format(today, day, sizeof day) != 0)
        return;
    int64_t n = knoop_store_overdue_count(b->journal, day);
    if (n >= 0)
        knoop_metric_sample_u(o, d->name, "", (uint64_t)n);
}

static void emit_connections(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    uint64_t n = 0;
    size_t pos = 0;
    void *pv;
    while (knoop_strmap_next(b->peers, &pos, NULL, &pv))
        if (((knoop_peer_t *)pv)->party[0] && !((knoop_peer_t *)pv)->gone)
            n++;
    knoop_metric_sample_u(o, d->name, "", n);
}

/* ---- the process and its readiness ---- */

static void emit_rss(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    (void)b;
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size, resident;
    int n = f ? fscanf(f, "%llu %llu", &size, &resident) : 0;
    if (f)
        fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (n == 2 && page > 0)
        knoop_metric_sample_u(o, d->name, "", resident * (unsigned long long)page);
}

static void emit_uptime(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_metric_sample(o, d->name, "", (double)(knoop_now_us() - b->started_us) / 1e6);
}

static void emit_build_info(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    (void)b;
    char labels[64];
    knoop_metric_labels(labels, sizeof labels, "version", KNOOP_VERSION, NULL);
    knoop_metric_sample_u(o, d->name, labels, 1);
}

static void emit_ready(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_health_report_t r;
    knoop_health_check(b, &r);
    knoop_metric_sample_u(o, d->name, "", r.ready ? 1 : 0);
}

static void emit_draining(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_metric_sample_u(o, d->name, "", b->draining ? 1 : 0);
}

static void emit_disk_free(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_health_report_t r;
    knoop_health_check(b, &r);
    knoop_metric_sample_u(o, d->name, "", r.free_bytes);
}

static void emit_wal_bytes(knoop_broker_t *b, knoop_metric_buf_t *o, const knoop_metric_def_t *d)
{
    knoop_health_report_t r;
    knoop_health_check(b, &r);
    knoop_metric_sample_u(o, d->name, "", r.wal_bytes);
}

#define COUNTER KNOOP_METRIC_COUNTER
#define GAUGE   KNOOP_METRIC_GAUGE

const knoop_metric_def_t knoop_metric_table[] = {
    /* traffic */
    {"knoop_messages_in_total", COUNTER, "party, kind",
     "Messages journaled (Accepted, not a duplicate), by the publishing party and the kind.",
     "Grows by one per new message; `rate()` per party shows who sends what. Duplicates are not counted here.",
     emit_in},
    {"knoop_messages_out_total", COUNTER, "party, kind",
     "Deliveries sent, by the subscribing party and the message's kind (redeliveries included).",
     "Compare with knoop_messages_in_total: out lagging in for long means subscribers fall behind (see "
     "knoop_subscriber_lag).",
     emit_out},
    {"knoop_publishes_total", COUNTER, "", "Publishes that passed the checks and were queued to the journal.",
     "New messages plus duplicates plus the few the journal refused; what the checks refused is in "
     "knoop_rejections_total.",
     emit_published},
    {"knoop_duplicates_total", COUNTER, "", "Publishes answered as duplicates (same sender, type and Identificatie).",
     "A steady rate is normal for clients that retry; a jump means a client resends everything.", emit_duplicates},
    {"knoop_rejections_total", COUNTER, "code", "Rejected answers to Publish, by error code (knoop.proto ErrorCode).",
     "INTERNAL is knoopd's own trouble (often a full disk: check knoop_ready); the other codes are clients sending "
     "what the network refuses.",
     emit_rejections},
    {"knoop_bad_frames_total", COUNTER, "", "Frames that could not be decoded.",
     "Anything above zero is a client with a bug or a wrong protocol version.", emit_bad_frames},
    /* the journal */
    {"knoop_commits_total", COUNTER, "", "Journal transactions committed (group commit batches).",
     "knoop_committed_ops_total / knoop_commits_total is the mean batch size.", emit_commits},
    {"knoop_committed_ops_total", COUNTER, "", "Journal operations committed in those transactions.",
     "Messages, cursor moves, dead letters, probes: everything written.", emit_committed_ops},
    {"knoop_commit_batch_max", GAUGE, "", "Largest commit batch since start-up.",
     "Near commit_batch_max means the writer is saturated.", emit_batch_max},
    {"knoop_commit_latency_seconds", GAUGE, "quantile",
     "Commit time (BEGIN to durable COMMIT) over the last 4096 commits.",
     "quantile=0.99 above a few tens of milliseconds means a slow disk: every publisher waits that long for Accepted.",
     emit_commit_latency},
    {"knoop_publish_stage_seconds", KNOOP_METRIC_HISTOGRAM, "stage, le",
     "Where a publish's time goes, per publish answered after its commit: stage ingest (decode, checks, route), "
     "queue (waiting for the writer), commit (the transaction to a durable COMMIT), answer (to the answer sent).",
     "Buckets at powers of two of microseconds. A slow disk shows in commit; queue near commit means the writer is "
     "saturated; ingest or answer growing means the loop thread is (docs/bench.md, where the time goes).",
     emit_stages},
    {"knoop_checkpoints_total", COUNTER, "", "WAL checkpoints run by the checkpointer thread.",
     "Should grow with traffic; none while knoop_wal_bytes grows means checkpoints are starved.", emit_checkpoints},
    {"knoop_journal_queue", GAUGE, "", "Journal operations queued or being committed.",
     "Usually 0 to a few hundred; a queue that keeps growing means the disk cannot keep up.", emit_journal_queue},
    {"knoop_last_seq", GAUGE, "", "The last committed message sequence number.", "Moves with every new message.",
     emit_last_seq},
    {"knoop_database_bytes", GAUGE, "", "Size of the journal: knoop.db plus its WAL.",
     "Grows until retention purges; plan the disk from its slope.", emit_db_bytes},
    {"knoop_wal_bytes", GAUGE, "", "Size of the write-ahead log (knoop.db-wal).",
     "Above health_max_wal_mb knoopd reports not ready: checkpoints fall behind.", emit_wal_bytes},
    /* delivery */
    {"knoop_deliveries_total", COUNTER, "", "Deliver frames sent, first attempts and redeliveries.",
     "The sum of knoop_messages_out_total.", emit_deliveries},
    {"knoop_redeliveries_total", COUNTER, "", "Deliveries with attempt > 1 (after a nack, a timeout or a restart).",
     "A rising share of knoop_deliveries_total means a subscriber nacks or times out.", emit_redeliveries},
    {"knoop_acks_total", COUNTER, "", "Acks received.", "Follows knoop_deliveries_total when subscribers keep up.",
     emit_acks},
    {"knoop_nacks_total", COUNTER, "", "Nacks received.", "Each is a redelivery later, or a dead letter in the end.",
     emit_nacks},
    {"knoop_dead_letters_total", COUNTER, "",
     "Dead letters: messages a subscriber gave up on, and messages no rule could route.",
     "Any increase needs an operator: `knoopctl dlq list`.", emit_dead_letters},
    {"knoop_subscriber_lag", GAUGE, "stream, subscriber",
     "Per durable subscriber: the stream's last seq minus the subscriber's acked cursor.",
     "0 is caught up; a value that grows means the subscriber is down or too slow (the same as `knoopctl "
     "subscribers`).",
     emit_lag},
    {"knoop_deliveries_in_flight", GAUGE, "", "Deliveries sent to connected subscribers and not yet acked.",
     "Bounded by the subscribers' credit; at a drain it falls to 0 as subscribers ack.", emit_in_flight},
    {"knoop_deadlines_overdue", GAUGE, "", "Open iWmo/iJw expectations past their due day (alerted or not).",
     "Each one is an answer a party owes; `knoopctl deadlines` lists them.", emit_overdue},
    {"knoop_connections", GAUGE, "", "Clients connected that said Hello.",
     "Drops to 0 when the network between clients and knoopd fails.", emit_connections},
    /* the process */
    {"knoop_resident_memory_bytes", GAUGE, "", "Resident set size of knoopd.",
     "Stable under steady traffic; growth without traffic growth is worth a report.", emit_rss},
    {"knoop_uptime_seconds", GAUGE, "", "Seconds since knoopd started.", "Resets at each restart.", emit_uptime},
    {"knoop_build_info", GAUGE, "version", "Always 1; the label names knoopd's version.",
     "Join on it to see which version runs where.", emit_build_info},
    {"knoop_ready", GAUGE, "", "1 when knoopd is ready (the same as /healthz answering 200), else 0.",
     "0 says why in `knoopctl health`: journal not writable, disk space, checkpoint lag, draining.", emit_ready},
    {"knoop_draining", GAUGE, "", "1 while `knoopctl drain` holds publishes off.",
     "Expected during a planned stop only.", emit_draining},
    {"knoop_disk_free_bytes", GAUGE, "", "Free space on the data directory's file system (for knoopd's user).",
     "Below health_min_free_mb knoopd reports not ready; alert well before.", emit_disk_free},
};
const size_t knoop_metric_table_len = sizeof knoop_metric_table / sizeof knoop_metric_table[0];
