/* knoop-bench — measures knoopd (durable publish at several in-flight windows and payload sizes; fan-out delivery to
 * 8 acking subscribers) and, in the same run, this machine's ceilings: the fdatasync rate of one small write and
 * SQLite synchronous=FULL batch inserts. Prints each case with its ratio to its ceiling and writes every figure to a
 * JSON file (build/bench/latest.json). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>
#include "base/ctl_request.h"
#include "base/curve_key.h"
#include "base/histogram.h"
#include "knoop/client.h"

/* --server-key FILE --key-dir DIR (CURVE, DIR/PARTY.key per party): set once by main, before any thread starts. */
static const char *curve_server_key, *curve_key_dir;

/* Connects as party, over CURVE when the options say so. */
static int bench_connect(const char *endpoint, const char *party, const char *name, knoop_client_t **c, char *err,
                         size_t errlen)
{
    knoop_curve_client_keys_t k;
    int rc = knoop_curve_client_keys(curve_server_key, NULL, curve_key_dir, party, &k, err, errlen);
    knoop_client_curve_t curve = {k.server_public, k.public_key, k.secret_key};
    if (rc == 0)
        rc = knoop_client_connect_curve(endpoint, k.enabled ? &curve : NULL, party, name, 5000, c, err, errlen);
    sodium_memzero(&k, sizeof k);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- where the time goes: knoopd's stage histograms, read before and after each case ---------------------- */

#define NSTAGES 4
static const char *const stage_names[NSTAGES] = {"ingest", "queue", "commit", "answer"}; /* knoopctl latency */

/* The histograms knoopd holds now (`latency` on its control socket); false when it cannot be asked. */
static bool read_stages(const char *control, knoop_hist_t out[NSTAGES])
{
    memset(out, 0, NSTAGES * sizeof *out);
    if (!control)
        return false;
    char *words[] = {"latency"}, err[4400];
    json_t *r;
    if (knoop_ctl_request(control, 1, words, &r, err, sizeof err) != 0) {
        fprintf(stderr, "knoop-bench: the stages: %s\n", err);
        return false;
    }
    json_t *hists = json_object_get(json_object_get(r, "result"), "histograms");
    bool ok = json_is_object(hists);
    for (int s = 0; ok && s < NSTAGES; s++) {
        json_t *h = json_object_get(hists, stage_names[s]), *b;
        size_t i;
        out[s].count = (uint64_t)json_integer_value(json_object_get(h, "count"));
        out[s].sum_us = (uint64_t)json_integer_value(json_object_get(h, "sum_us"));
        out[s].max_us = (uint64_t)json_integer_value(json_object_get(h, "max_us"));
        json_array_foreach(json_object_get(h, "buckets"), i, b)
        {
            uint64_t lower = (uint64_t)json_integer_value(json_array_get(b, 0));
            out[s].bucket[knoop_hist_bucket_of(lower)] = (uint64_t)json_integer_value(json_array_get(b, 1));
        }
    }
    json_decref(r);
    return ok;
}

/* The stages of what ran between the two readings: printed under the case's line and returned for its JSON row. */
static json_t *stages_between(const knoop_hist_t before[NSTAGES], const knoop_hist_t after[NSTAGES])
{
    json_t *o = json_object();
    printf("%-20s stages us p50/p99:", "");
    for (int s = 0; s < NSTAGES; s++) {
        knoop_hist_t d;
        knoop_hist_since(&d, &after[s], &before[s]);
        uint64_t p50 = knoop_hist_quantile(&d, 0.5), p90 = knoop_hist_quantile(&d, 0.9);
        uint64_t p99 = knoop_hist_quantile(&d, 0.99);
        printf("  %s %llu/%llu", stage_names[s], (unsigned long long)p50, (unsigned long long)p99);
        json_object_set_new(o, stage_names[s],
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:f}", "count", (json_int_t)d.count, "p50_us",
                                      (json_int_t)p50, "p90_us", (json_int_t)p90, "p99_us", (json_int_t)p99, "max_us",
                                      (json_int_t)d.max_us, "mean_us",
                                      d.count ? (double)d.sum_us / (double)d.count : 0.0));
    }
    printf("\n");
    return o;
}

/* ---- ceilings ------------------------------------------------------------------------------------------ */

static double ceiling_fsync(const char *dir, size_t payload, double seconds)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/fsync.probe", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 0;
    char *buf = calloc(1, payload);
    long n = 0;
    double t0 = now_s();
    while (now_s() - t0 < seconds) {
        if (write(fd, buf, payload) != (ssize_t)payload || fdatasync(fd) != 0)
            break;
        n++;
    }
    double rate = (double)n / (now_s() - t0);
    close(fd);
    unlink(path);
    free(buf);
    return rate;
}

/* Rows of (integer key, payload blob), `batch` per transaction, WAL + synchronous=FULL, checkpoints off during the
 * measurement: the same settings knoopd's writer uses, so the ratio compares like with like. */
static double ceiling_sqlite(const char *dir, size_t payload, int batch, double seconds)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/ceiling-%zu-%d.db", dir, payload, batch);
    unlink(path);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return 0;
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;"
                 "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB NOT NULL);",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO t(k, v) VALUES(?, ?)", -1, &st, NULL);
    char *blob = malloc(payload);
    memset(blob, 'x', payload);
    long rows = 0;
    double t0 = now_s();
    while (now_s() - t0 < seconds) {
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (int i = 0; i < batch; i++) {
            sqlite3_bind_int64(st, 1, ++rows);
            sqlite3_bind_blob(st, 2, blob, (int)payload, SQLITE_STATIC);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    }
    double rate = (double)rows / (now_s() - t0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(blob);
    char wal[4300];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    unlink(path);
    return rate;
}

/* ---- the publish workload ----------------------------------------------------------------------------- */

typedef struct run_result {
    double msgs_per_s, p50_us, p99_us;
    double fanout_ceiling; /* fan-out live: subscribers x the producer's rate in the same run */
    long accepted, rejected;
} run_result_t;

typedef struct workload {
    const char *sender, *receiver, *kind_name, *message_type;
    int bsn_clients; /* > 0: each message names one of this many clients (routing bench) */
    int subscribers; /* > 0: fan-out: this many acking subscribers (distinct names) on inbox.<receiver> */
    bool drain;      /* fan-out: publish first, then the subscribers read it all (no live latency) */
    bool xml;        /* publish the iWmo 301 of --xml, each with its own Identificatie (validate + route + journal) */
} workload_t;

/* The iWmo template for the xml cases (main() loads it) and where its 12-character Identificatie sits. */
typedef struct xml_template {
    char *text;        /* owned */
    size_t len, id_at; /* id_at: offset of the Identificatie's 12 characters */
} xml_template_t;

/* A valid test BSN for client i: 99999xxxx with the check digit that passes the 11-test (skip those that can't). */
static void bsn_for(long i, char out[10])
{
    for (long k = i;; k += 100000) {
        snprintf(out, 10, "9%07ld", 10000000 + (k % 9000000));
        int sum = 0;
        for (int d = 0; d < 8; d++)
            sum += (out[d] - '0') * (9 - d);
        int check = sum % 11;
        if (check <= 9) {
            out[8] = (char)('0' + check);
            out[9] = '\0';
            return;
        }
    }
}

/* Publishes for `seconds`, or (count > 0) exactly count messages however long that takes, then waits for every
 * answer. */
static int publish_run(const char *endpoint, const workload_t *w, size_t payload, int window, double seconds,
                       long count, const char *run_tag, const xml_template_t *xml, run_result_t *out)
{
    char err[512];
    knoop_client_t *c;
    if (bench_connect(endpoint, w->sender, "knoop-bench", &c, err, sizeof err) != 0) {
        fprintf(stderr, "knoop-bench: %s\n", err);
        return -1;
    }
    size_t cap = 1 << 22;
    double *sent_at = calloc(cap, sizeof *sent_at), *lat = calloc(cap, sizeof *lat);
    char *body = malloc(payload);
    memset(body, 'k', payload);
    Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
    env.sender = (char *)w->sender;
    env.receiver = (char *)w->receiver;
    env.kind = (Knoop__Kind)knoop_kind_parse(w->kind_name);
    env.message_type = (char *)w->message_type;
    env.payload.data = (uint8_t *)body;
    env.payload.len = payload;
    char ident[16], bsn[10];
    env.identificatie = ident;
    if (w->xml) { /* knoopd takes type, Identificatie and receiver from the XML itself */
        free(body);
        body = malloc(xml->len);
        memcpy(body, xml->text, xml->len);
        env.payload.data = (uint8_t *)body;
        env.payload.len = xml->len;
        env.identificatie = (char *)"";
        env.content_type = (char *)"application/xml; iwmo-3.2; WMO301";
    }
    uint64_t next_ref = 1;
    long in_flight = 0, done = 0, nlat = 0;
    out->rejected = 0;
    double t0 = now_s(), deadline = t0 + seconds;
    while ((count > 0 ? (long)next_ref <= count : now_s() < deadline) || in_flight > 0) {
        while (in_flight < window && (count > 0 ? (long)next_ref <= count : now_s() < deadline) && next_ref < cap) {
            snprintf(ident, sizeof ident, "%s%lx", run_tag, (unsigned long)next_ref);
            if (w->xml) {
                char id12[13];
                snprintf(id12, sizeof id12, "%-12.12s", ident);
                for (int k = 0; k < 12; k++)
                    if (id12[k] == ' ')
                        id12[k] = 'X';
                memcpy(body + xml->id_at, id12, 12);
            }
            if (w->bsn_clients > 0) {
                bsn_for((long)(next_ref % (uint64_t)w->bsn_clients), bsn);
                env.client_bsn = bsn;
            }
            sent_at[next_ref] = now_s();
            if (payload >= sizeof(double) && !w->xml)
                memcpy(body, &sent_at[next_ref], sizeof(double)); /* fan-out: publish -> deliver latency */
            knoop_client_publish(c, next_ref++, &env);
            in_flight++;
        }
        Knoop__Frame *f;
        if (knoop_client_recv(c, 5000, &f) != 0) {
            fprintf(stderr, "knoop-bench: no answer for 5 s with %ld in flight\n", in_flight);
            break;
        }
        double t = now_s();
        if (f->body_case == KNOOP__FRAME__BODY_ACCEPTED || f->body_case == KNOOP__FRAME__BODY_REJECTED) {
            uint64_t ref = f->body_case == KNOOP__FRAME__BODY_ACCEPTED ? f->accepted->ref : f->rejected->ref;
            if (f->body_case == KNOOP__FRAME__BODY_REJECTED && out->rejected++ == 0)
                fprintf(stderr, "knoop-bench: rejected: %s\n", f->rejected->reason);
            if (ref < cap)
                lat[nlat++] = (t - sent_at[ref]) * 1e6;
            in_flight--;
            done++;
        }
        knoop_client_frame_free(f);
    }
    double elapsed = now_s() - t0;
    qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
    out->accepted = done - out->rejected;
    out->msgs_per_s = (double)out->accepted / elapsed;
    out->p50_us = nlat ? lat[nlat / 2] : 0;
    out->p99_us = nlat ? lat[(nlat * 99) / 100 < nlat ? (nlat * 99) / 100 : nlat - 1] : 0;
    free(sent_at);
    free(lat);
    free(body);
    knoop_client_destroy(&c);
    return out->rejected ? -1 : 0;
}

/* ---- fan-out: N subscribers with distinct names on one stream, each acking every delivery ------------------- */

typedef struct fan_sub {
    pthread_t thread;
    const char *endpoint, *stream;
    char name[32];
    int64_t start_time_us; /* > 0: start at this time (drain), else LATEST */
    atomic_int ready;      /* 1: Subscribed arrived; -1: failed */
    atomic_long delivered;
    const atomic_long *expected; /* < 0 while the producer runs; then the count every subscriber must reach */
    double first_t, last_t;
    double *lat; /* owned: publish -> deliver, microseconds */
    size_t nlat, cap;
} fan_sub_t;

/* The subscribers read Deliver frames by hand (as knoopd writes them) and write Ack frames by hand, so that on a
 * machine shared with knoopd the bench's own protobuf work does not become the figure being measured. */
static const uint8_t *pb_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; p < end && shift < 64; shift += 7) {
        uint8_t byte = *p++;
        *v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return p;
    }
    return NULL;
}

/* Walks one message's fields; returns the value of varint field `want_varint` in *varint (if found) and the bytes
 * of length-delimited field `want_bytes` in *bytes and *blen. */
static void pb_fields(const uint8_t *p, const uint8_t *end, unsigned want_varint, uint64_t *varint, unsigned want_bytes,
                      const uint8_t **bytes, size_t *blen)
{
    while (p && p < end) {
        uint64_t key, v;
        if (!(p = pb_varint(p, end, &key)))
            return;
        switch (key & 7) {
        case 0:
            if (!(p = pb_varint(p, end, &v)))
                return;
            if ((key >> 3) == want_varint)
                *varint = v;
            break;
        case 2:
            if (!(p = pb_varint(p, end, &v)) || v > (uint64_t)(end - p))
                return;
            if ((key >> 3) == want_bytes) {
                *bytes = p;
                *blen = (size_t)v;
            }
            p += v;
            break;
        case 1:
            p += 8;
            break;
        case 5:
            p += 4;
            break;
        default:
            return;
        }
    }
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static int send_ack(knoop_client_t *c, const char *stream, uint64_t seq)
{
    uint8_t ack[128], frame[160];
    size_t slen = strlen(stream), n = 0, m = 0;
    ack[n++] = (1 << 3) | 2;
    n += put_varint(ack + n, slen);
    memcpy(ack + n, stream, slen);
    n += slen;
    ack[n++] = (2 << 3) | 0;
    n += put_varint(ack + n, seq);
    frame[m++] = (10 << 3) | 2;
    m += put_varint(frame + m, n);
    memcpy(frame + m, ack, n);
    return knoop_client_send_raw(c, frame, m + n);
}

static void *fan_sub_main(void *arg)
{
    fan_sub_t *f = arg;
    char err[256];
    knoop_client_t *c;
    if (bench_connect(f->endpoint, "99990000", f->name, &c, err, sizeof err) != 0) {
        fprintf(stderr, "knoop-bench: %s: %s\n", f->name, err);
        atomic_store(&f->ready, -1);
        return NULL;
    }
    knoop_client_subscribe(c, f->stream, f->name, f->start_time_us ? KNOOP__START_AT__TIME : KNOOP__START_AT__LATEST, 0,
                           f->start_time_us, 4096);
    double last_frame = now_s(), last_hb = now_s();
    void *sock = knoop_client_socket(c);
    for (;;) {
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        int rc = zmq_poll(&item, 1, 100) == 1 && zmq_msg_recv(&msg, sock, ZMQ_DONTWAIT) >= 0 ? 0 : -EAGAIN;
        double t = now_s();
        if (t - last_hb > 1.0) {
            knoop_client_heartbeat(c);
            last_hb = t;
        }
        long expected = atomic_load(f->expected);
        if (rc != 0) {
            zmq_msg_close(&msg);
            if ((expected >= 0 && atomic_load(&f->delivered) >= expected) || t - last_frame > 5.0)
                break;
            continue;
        }
        last_frame = t;
        const uint8_t *data = zmq_msg_data(&msg), *end = data + zmq_msg_size(&msg), *body = NULL;
        size_t blen = 0;
        uint64_t unused = 0;
        unsigned field = zmq_msg_size(&msg) ? data[0] >> 3 : 0;
        pb_fields(data, end, 0, &unused, field, &body, &blen);
        if (field == 7) { /* Subscribed */
            atomic_store(&f->ready, 1);
        } else if (field == 9 && body) { /* Deliver{stream=1, seq=2, envelope=3} */
            uint64_t seq = 0;
            const uint8_t *env = NULL, *payload = NULL;
            size_t elen = 0, plen = 0;
            pb_fields(body, body + blen, 2, &seq, 3, &env, &elen);
            if (atomic_load(&f->delivered) == 0)
                f->first_t = t;
            f->last_t = t;
            if (env)
                pb_fields(env, env + elen, 0, &unused, 12, &payload, &plen);
            if (!f->start_time_us && payload && plen >= sizeof(double) && f->nlat < f->cap) {
                double sent;
                memcpy(&sent, payload, sizeof sent);
                f->lat[f->nlat++] = (t - sent) * 1e6;
            }
            send_ack(c, f->stream, seq);
            atomic_fetch_add(&f->delivered, 1);
        } else if (field == 13) { /* Error */
            fprintf(stderr, "knoop-bench: %s: an Error frame arrived\n", f->name);
        }
        zmq_msg_close(&msg);
        if (expected >= 0 && atomic_load(&f->delivered) >= expected)
            break;
    }
    knoop_client_destroy(&c);
    return NULL;
}

/* Live: subscribers first, then the producer at the case's window; deliveries/s over the whole run and the latency
 * of every delivery. Drain: the producer first, then the subscribers read it from its start time. */
static int fanout_run(const char *endpoint, const workload_t *w, size_t payload, int window, double seconds,
                      const char *run_tag, run_result_t *out)
{
    int n = w->subscribers;
    fan_sub_t *subs = calloc((size_t)n, sizeof *subs);
    atomic_long expected = -1;
    char stream[64];
    snprintf(stream, sizeof stream, "inbox.%s", w->receiver);
    int64_t start_us = 0;
    if (w->drain) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        start_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    }
    double t0 = now_s();
    run_result_t pub = {0};
    if (w->drain && publish_run(endpoint, w, payload, window, seconds, 0, run_tag, NULL, &pub) != 0)
        return -1;
    double t_sub = now_s();
    for (int i = 0; i < n; i++) {
        fan_sub_t *f = &subs[i];
        f->endpoint = endpoint;
        f->stream = stream;
        snprintf(f->name, sizeof f->name, "fan%d-%s", i, run_tag);
        f->start_time_us = start_us;
        f->expected = &expected;
        f->cap = 1 << 21;
        f->lat = w->drain ? NULL : malloc(f->cap * sizeof *f->lat);
        if (!w->drain && !f->lat)
            f->cap = 0;
        if (w->drain)
            f->cap = 0;
        pthread_create(&f->thread, NULL, fan_sub_main, f);
    }
    if (!w->drain) {
        for (int i = 0; i < n; i++)
            while (atomic_load(&subs[i].ready) == 0)
                nanosleep(&(struct timespec){0, 1000000}, NULL);
        t0 = now_s();
        if (publish_run(endpoint, w, payload, window, seconds, 0, run_tag, NULL, &pub) != 0)
            fprintf(stderr, "knoop-bench: fan-out producer had rejections\n");
    }
    atomic_store(&expected, pub.accepted);
    long total = 0;
    double last = t0;
    size_t nlat = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(subs[i].thread, NULL);
        total += atomic_load(&subs[i].delivered);
        if (subs[i].last_t > last)
            last = subs[i].last_t;
        nlat += subs[i].nlat;
        if (atomic_load(&subs[i].delivered) < pub.accepted)
            fprintf(stderr, "knoop-bench: %s received %ld of %ld\n", subs[i].name, atomic_load(&subs[i].delivered),
                    pub.accepted);
    }
    double *lat = malloc((nlat ? nlat : 1) * sizeof *lat);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (lat && subs[i].nlat)
            memcpy(lat + k, subs[i].lat, subs[i].nlat * sizeof *lat);
        k += subs[i].nlat;
        free(subs[i].lat);
    }
    if (lat)
        qsort(lat, nlat, sizeof *lat, cmp_double);
    double from = w->drain ? t_sub : t0;
    out->msgs_per_s = last > from ? (double)total / (last - from) : 0;
    out->p50_us = lat && nlat ? lat[nlat / 2] : 0;
    out->p99_us = lat && nlat ? lat[(nlat * 99) / 100 < nlat ? (nlat * 99) / 100 : nlat - 1] : 0;
    out->accepted = total;
    out->rejected = pub.rejected;
    out->fanout_ceiling = (double)n * pub.msgs_per_s;
    printf("  (fan-out %s: %ld published at %.0f msgs/s, %ld deliveries to %d subscribers)\n",
           w->drain ? "drain" : "live", pub.accepted, pub.msgs_per_s, total, n);
    free(lat);
    free(subs);
    return total == pub.accepted * n ? 0 : -1;
}

/* ---- the cases -------------------------------------------------------------------------------------------- */

/* CEIL_FANOUT: live fan-out can deliver at most subscribers x what the producer publishes: the ratio says whether
 * delivery keeps up with publishing (the latency says how promptly). */
typedef enum ceiling_kind {
    CEIL_FSYNC,
    CEIL_SQLITE_64,
    CEIL_SQLITE_1024,
    CEIL_CASE,
    CEIL_ABSOLUTE,
    CEIL_FANOUT
} ceiling_kind_t;

typedef struct bench_case {
    const char *name;
    const char *group; /* "publish", "routing" or "fanout": selected with --cases */
    size_t payload;
    int window;
    ceiling_kind_t ceiling;   /* CEIL_CASE: the ratio is to another case's msgs/s; CEIL_ABSOLUTE: to absolute_target */
    const char *ceiling_case; /* for CEIL_CASE */
    double target;            /* DESIGN §7 */
    double absolute_target;   /* msgs/s, 0 if none */
    workload_t workload;
} bench_case_t;

#define PLAIN                                                                                                          \
    {                                                                                                                  \
        "0917", "99990000", "referral", "knoop.Referral", 0, 0, false, false                                           \
    }
#define XML301                                                                                                         \
    {                                                                                                                  \
        "0384", "", "assignment", "", 0, 0, false, true                                                                \
    }
#define ROUTED                                                                                                         \
    {                                                                                                                  \
        "0917", "", "referral", "knoop.domain.Referral", 10000, 0, false, false                                        \
    }
#define FANOUT_LIVE                                                                                                    \
    {                                                                                                                  \
        "0917", "99990000", "referral", "knoop.Referral", 0, 8, false, false                                           \
    }
#define FANOUT_DRAIN                                                                                                   \
    {                                                                                                                  \
        "0917", "99990000", "referral", "knoop.Referral", 0, 8, true, false                                            \
    }

static const bench_case_t cases[] = {
    {"publish-1k-w1", "publish", 1024, 1, CEIL_FSYNC, NULL, 0.70, 0, PLAIN},
    {"publish-1k-w64", "publish", 1024, 64, CEIL_SQLITE_64, NULL, 0.80, 0, PLAIN},
    {"publish-1k-w1024", "publish", 1024, 1024, CEIL_SQLITE_1024, NULL, 0.75, 0, PLAIN},
    {"publish-256-w1", "publish", 256, 1, CEIL_FSYNC, NULL, 0.70, 0, PLAIN},
    {"publish-256-w64", "publish", 256, 64, CEIL_SQLITE_64, NULL, 0.80, 0, PLAIN},
    {"publish-256-w1024", "publish", 256, 1024, CEIL_SQLITE_1024, NULL, 0.75, 250000, PLAIN},
    /* iWmo 301 (about 3 KiB) through level 1 (XSD), level 2, the ledger, routing, the journal and its 302: no DESIGN
     * target; the ratio is to plain 1 KiB publish at the same window. */
    {"xml-wmo301-w64", "xml", 0, 64, CEIL_CASE, "publish-1k-w64", 0.0, 0, XML301},
    {"routing-1k-w64", "routing", 1024, 64, CEIL_CASE, "publish-1k-w64", 0.85, 0, ROUTED},
    {"routing-1k-w1024", "routing", 1024, 1024, CEIL_CASE, "publish-1k-w1024", 0.85, 0, ROUTED},
    /* DESIGN §7: delivery to 8 subscribers >= 300k deliveries/s aggregate with acks (msgs/s = deliveries/s here):
     * drain measures that capacity; live (W=64) the publish -> deliver latency and whether delivery keeps up. */
    {"fanout8-1k-w64", "fanout", 1024, 64, CEIL_FANOUT, NULL, 0.95, 0, FANOUT_LIVE},
    {"fanout8-1k-drain", "fanout", 1024, 1024, CEIL_ABSOLUTE, NULL, 1.0, 300000, FANOUT_DRAIN},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* msgs/s of the case of that name in a knoop-bench / knoop-nats-bench JSON document; 0 when absent. */
static double case_rate(json_t *doc, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c)
    {
        const char *n = json_string_value(json_object_get(c, "name"));
        if (n && strcmp(n, name) == 0)
            return json_number_value(json_object_get(c, "msgs_per_s"));
    }
    return 0;
}

typedef struct ratio_text {
    char s[16];
} ratio_text_t;

static ratio_text_t fmt_ratio(double rate, double against)
{
    ratio_text_t t;
    if (against > 0)
        snprintf(t.s, sizeof t.s, "%.2f", rate / against);
    else
        snprintf(t.s, sizeof t.s, "-");
    return t;
}

/* Does the name t (n bytes, not terminated) name bc, as its group ("publish") or as its own name ("publish-1k-w64")? */
static bool names_case(const char *t, size_t n, const bench_case_t *bc)
{
    return (strlen(bc->group) == n && strncmp(t, bc->group, n) == 0) ||
           (strlen(bc->name) == n && strncmp(t, bc->name, n) == 0);
}

/* Is bc named in the -c list (comma-separated)? */
static bool selected(const char *list, const bench_case_t *bc)
{
    for (const char *t = list; *t;) {
        size_t n = strcspn(t, ",");
        if (names_case(t, n, bc))
            return true;
        t += n + (t[n] == ',');
    }
    return false;
}

int main(int argc, char **argv)
{
    const char *endpoint = "tcp://127.0.0.1:5570", *dir = ".", *out_path = "build/bench/latest.json";
    const char *groups = "publish", *baseline = NULL, *xml_path = "tools/bench-data/WMO301.xml";
    const char *floor_path = NULL, *peer_path = NULL; /* same cases run against knoop-floor and NATS JetStream */
    const char *control = NULL; /* knoopd's control socket: the stage histograms around each case */
    double seconds = 3.0, ceiling_seconds = 2.0;
    long fill = 0; /* --fill COUNT: only journal COUNT messages (the restart case's journal, end of tools/bench.sh) */
    static const struct option opts[] = {
        {"endpoint", required_argument, 0, 'e'}, {"dir", required_argument, 0, 'd'},
        {"out", required_argument, 0, 'o'},      {"seconds", required_argument, 0, 's'},
        {"cases", required_argument, 0, 'c'},    {"baseline", required_argument, 0, 'b'},
        {"xml", required_argument, 0, 'x'},      {"floor", required_argument, 0, 'F'},
        {"peer", required_argument, 0, 'P'},     {"server-key", required_argument, 0, 'S'},
        {"key-dir", required_argument, 0, 'K'},  {"control", required_argument, 0, 'C'},
        {"fill", required_argument, 0, 'n'},     {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "e:d:o:s:c:b:x:F:P:C:n:", opts, NULL)) != -1) {
        switch (o) {
        case 'e':
            endpoint = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 's':
            seconds = atof(optarg);
            break;
        case 'c':
            groups = optarg;
            break;
        case 'b':
            baseline = optarg;
            break;
        case 'x':
            xml_path = optarg;
            break;
        case 'F':
            floor_path = optarg;
            break;
        case 'P':
            peer_path = optarg;
            break;
        case 'S':
            curve_server_key = optarg;
            break;
        case 'K':
            curve_key_dir = optarg;
            break;
        case 'C':
            control = optarg;
            break;
        case 'n':
            fill = atol(optarg);
            break;
        default:
            fprintf(stderr, "usage: knoop-bench [-e ENDPOINT] [-d DIR for ceilings] [-o JSON] [-s SECONDS] "
                            "[-c publish,xml,routing,fanout or case names, e.g. publish-256-w1024] [-x WMO301.xml] "
                            "[--floor JSON] [--peer JSON] "
                            "[--server-key FILE --key-dir DIR (CURVE: DIR/PARTY.key for each party it connects as)] "
                            "[--control SOCKET (knoopd's: the stages of each case)] [--fill COUNT (only publish COUNT "
                            "plain 256-byte "
                            "messages at W=1024)]\n");
            return 2;
        }
    }
    for (const char *t = groups; *t;) { /* every name in -c names a group or a case: a typo runs nothing, silently */
        size_t n = strcspn(t, ",");
        bool known = false;
        for (size_t i = 0; i < NCASES && !known; i++)
            known = names_case(t, n, &cases[i]);
        if (!known) {
            fprintf(stderr, "knoop-bench: -c: no case or group is called \"%.*s\"\n", (int)n, t);
            return 2;
        }
        t += n + (t[n] == ',');
    }
    if (!curve_server_key != !curve_key_dir) {
        fprintf(stderr, "knoop-bench: CURVE needs both --server-key FILE and --key-dir DIR\n");
        return 2;
    }
    if (fill != 0) { /* no cases, no ceilings: a journal of COUNT messages for the restart case of tools/bench.sh */
        if (fill < 1 || fill >= (1L << 22) - 1) {
            fprintf(stderr, "knoop-bench: --fill takes 1 to %ld messages\n", (1L << 22) - 2);
            return 2;
        }
        run_result_t r = {0};
        double t0 = now_s();
        int rc = publish_run(endpoint, &(workload_t)PLAIN, 256, 1024, 0, fill, "F", NULL, &r);
        printf("filled %ld messages of 256 bytes in %.1f s (%.0f msgs/s)\n", r.accepted, now_s() - t0, r.msgs_per_s);
        return rc == 0 && r.accepted == fill ? 0 : 1;
    }
    xml_template_t xml = {0};
    if (strstr(groups, "xml")) {
        FILE *f = fopen(xml_path, "rb");
        if (!f) {
            fprintf(stderr, "knoop-bench: %s: %s\n", xml_path, strerror(errno));
            return 2;
        }
        xml.text = malloc(1 << 20);
        xml.len = xml.text ? fread(xml.text, 1, (1 << 20) - 1, f) : 0;
        fclose(f);
        if (!xml.text) {
            fprintf(stderr, "knoop-bench: out of memory\n");
            return 1;
        }
        xml.text[xml.len] = '\0';
        /* <iwmo:Identificatie>, not <wmo301:BerichtIdentificatie> */
        const char *id = strstr(xml.text, ":Identificatie>");
        if (id)
            id++;
        if (!id) {
            fprintf(stderr, "knoop-bench: %s is not an iWmo message with an Identificatie\n", xml_path);
            return 2;
        }
        xml.id_at = (size_t)(id - xml.text) + strlen("Identificatie>");
    }
    double ceil[2][3]; /* [payload 1k, 256][fsync, sqlite64, sqlite1024] */
    size_t sizes[2] = {1024, 256};
    static const char *const ceiling_keys[2][3] = {
        {"fsync_1k_per_s", "sqlite_batch64_1k_rows_per_s", "sqlite_batch1024_1k_rows_per_s"},
        {"fsync_256_per_s", "sqlite_batch64_256_rows_per_s", "sqlite_batch1024_256_rows_per_s"}};
    json_t *base = baseline ? json_load_file(baseline, 0, NULL) : NULL;
    printf("ceilings of this machine (same run):\n");
    for (int s = 0; s < 2; s++) {
        for (int k = 0; k < 3; k++)
            ceil[s][k] = json_real_value(json_object_get(json_object_get(base, "ceilings"), ceiling_keys[s][k]));
        if (!base) {
            ceil[s][CEIL_FSYNC] = ceiling_fsync(dir, sizes[s], ceiling_seconds);
            ceil[s][CEIL_SQLITE_64] = ceiling_sqlite(dir, sizes[s], 64, ceiling_seconds);
            ceil[s][CEIL_SQLITE_1024] = ceiling_sqlite(dir, sizes[s], 1024, ceiling_seconds);
        }
        printf("  payload %4zu B: fdatasync %8.0f/s   sqlite FULL batch-64 %8.0f rows/s   batch-1024 %8.0f rows/s\n",
               sizes[s], ceil[s][0], ceil[s][1], ceil[s][2]);
    }
    json_decref(base);
    json_t *results = json_array();
    double measured[NCASES] = {0};
    /* A baseline file (an earlier run of other cases, e.g. plain publish before the daemon was restarted with a
     * network) supplies those cases' figures: they are ceilings of cases here and are kept in the output. */
    if (baseline) {
        json_t *prev = json_load_file(baseline, 0, NULL);
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(prev, "cases"), k, c)
        {
            for (size_t i = 0; i < NCASES; i++)
                if (strcmp(cases[i].name, json_string_value(json_object_get(c, "name"))) == 0)
                    measured[i] = json_real_value(json_object_get(c, "msgs_per_s"));
            json_array_append(results, c);
        }
        json_decref(prev);
    }
    json_t *floor_doc = floor_path ? json_load_file(floor_path, 0, NULL) : NULL;
    json_t *peer_doc = peer_path ? json_load_file(peer_path, 0, NULL) : NULL;
    char tag[8];
    snprintf(tag, sizeof tag, "%04x", (unsigned)(time(NULL) & 0xffff));
    int failures = 0;
    printf("\n%-20s %8s %6s %10s %9s %9s %12s %7s %7s\n", "case", "payload", "window", "msgs/s", "p50_us", "p99_us",
           "ceiling/s", "ratio", "target");
    for (size_t i = 0; i < NCASES; i++) {
        const bench_case_t *bc = &cases[i];
        if (!selected(groups, bc))
            continue;
        char run_tag[8];
        snprintf(run_tag, sizeof run_tag, "%.3s%zx", tag, i);
        run_result_t r = {0};
        knoop_hist_t before[NSTAGES], after[NSTAGES];
        bool staged = read_stages(control, before);
        int rc = bc->workload.subscribers > 0
                     ? fanout_run(endpoint, &bc->workload, bc->payload, bc->window, seconds, run_tag, &r)
                     : publish_run(endpoint, &bc->workload, bc->payload, bc->window, seconds, 0, run_tag, &xml, &r);
        if (rc != 0)
            failures++;
        measured[i] = r.msgs_per_s;
        double ceiling = 0;
        if (bc->ceiling == CEIL_ABSOLUTE) {
            ceiling = bc->absolute_target;
        } else if (bc->ceiling == CEIL_FANOUT) {
            ceiling = r.fanout_ceiling;
        } else if (bc->ceiling == CEIL_CASE) {
            for (size_t k = 0; k < NCASES; k++)
                if (strcmp(cases[k].name, bc->ceiling_case) == 0)
                    ceiling = measured[k];
        } else {
            ceiling = ceil[bc->payload == 1024 ? 0 : 1][bc->ceiling];
        }
        double ratio = ceiling > 0 ? r.msgs_per_s / ceiling : 0;
        double floor_rate = case_rate(floor_doc, bc->name), peer_rate = case_rate(peer_doc, bc->name);
        char vs[64] = "";
        if (floor_rate > 0 || peer_rate > 0)
            snprintf(vs, sizeof vs, "  x floor %s  x nats %s", fmt_ratio(r.msgs_per_s, floor_rate).s,
                     fmt_ratio(r.msgs_per_s, peer_rate).s);
        printf("%-20s %8zu %6d %10.0f %9.0f %9.0f %12.0f %7.2f %7.2f%s%s\n", bc->name, bc->payload, bc->window,
               r.msgs_per_s, r.p50_us, r.p99_us, ceiling, ratio, bc->target,
               ratio >= bc->target ? "" : "  (below target)", vs);
        json_t *row =
            json_pack("{s:s, s:I, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "name", bc->name, "payload",
                      (json_int_t)bc->payload, "window", bc->window, "msgs_per_s", r.msgs_per_s, "p50_us", r.p50_us,
                      "p99_us", r.p99_us, "ceiling_msgs_per_s", ceiling, "ratio", ratio, "target", bc->target,
                      "absolute_target_msgs_per_s", bc->absolute_target, "accepted", (json_int_t)r.accepted);
        if (floor_rate > 0) {
            json_object_set_new(row, "floor_msgs_per_s", json_real(floor_rate));
            json_object_set_new(row, "ratio_to_floor", json_real(r.msgs_per_s / floor_rate));
        }
        if (peer_rate > 0) {
            json_object_set_new(row, "nats_msgs_per_s", json_real(peer_rate));
            json_object_set_new(row, "ratio_to_nats", json_real(r.msgs_per_s / peer_rate));
        }
        if (staged && read_stages(control, after))
            json_object_set_new(row, "stages", stages_between(before, after));
        json_array_append_new(results, row);
        if (bc->absolute_target > 0)
            printf("%-20s absolute target %.0f msgs/s: %s\n", "", bc->absolute_target,
                   r.msgs_per_s >= bc->absolute_target ? "met" : "not met");
    }
    json_decref(floor_doc);
    json_decref(peer_doc);
    json_t *ceilings = json_object();
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 3; k++)
            json_object_set_new(ceilings, ceiling_keys[s][k], json_real(ceil[s][k]));
    json_t *doc =
        json_pack("{s:I, s:o, s:o}", "generated_at", (json_int_t)time(NULL), "ceilings", ceilings, "cases", results);
    if (json_dump_file(doc, out_path, JSON_INDENT(2)) != 0)
        fprintf(stderr, "knoop-bench: cannot write %s\n", out_path);
    else
        printf("\nwritten: %s\n", out_path);
    json_decref(doc);
    return failures ? 1 : 0;
}
