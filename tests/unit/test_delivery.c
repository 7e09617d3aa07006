/* test_delivery.c — consumer groups on a real temporary journal and a real ROUTER socket (inproc, one DEALER per
 * member), with a broker context holding only what delivery uses: competing consumers and credit, acks settling the
 * durable cursor across a restart, nacks with backoff, attempts that survive a restart, the dead letter and its
 * retry, a member that leaves or times out, an ephemeral group. The ring's own rules are test_inflight.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include "base/clock.h"
#include "base/log.h"
#include "core/broker.h"
#include "deliver/delivery.h"
#include "deliver/handlers.h"
#include "deliver/inflight.h"
#include "deliver/streams.h"
#include "store/attempts.h"
#include "store/cursors.h"
#include "store/entries.h"
#include "store/journal_sql.h"
#include "store/streams.h"

/* The data key every journal of this test is sealed with (a journal refuses to open without one). */
static const uint8_t test_data_key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

#define MEMBERS 2
#define STREAM  "inbox.test"

typedef struct fixture {
    char dir[64];
    uv_loop_t loop;
    knoop_config_t config;
    knoop_broker_t b;
    void *zctx;
    void *dealer[MEMBERS];
    knoop_peer_t peer[MEMBERS];
    int generation; /* restarts: a fresh inproc endpoint each time */
} fixture_t;

/* Runs the loop until every journal op is committed and handed back (done callbacks may queue more). */
static void drain(fixture_t *f)
{
    for (int i = 0; i < 100000 && knoop_journal_pending(f->b.journal) != 0; i++)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(knoop_journal_pending(f->b.journal), 0);
}

static void start(fixture_t *f)
{
    char path[128], err[256], endpoint[96];
    assert_int_equal(uv_loop_init(&f->loop), 0);
    memset(&f->b, 0, sizeof f->b);
    f->b.loop = &f->loop;
    f->b.config = &f->config;
    snprintf(path, sizeof path, "%s/knoop.db", f->dir);
    knoop_journal_options_t opt = {
        .path = path, .batch_max = 1024, .checkpoint_pages = 1000, .data_key = test_data_key};
    if (knoop_journal_open(&opt, &f->loop, &f->b, &f->b.journal, err, sizeof err) != 0)
        fail_msg("journal: %s", err);
    assert_non_null(f->b.streams = knoop_strmap_new());
    if (knoop_streams_load(&f->b, err, sizeof err) != 0)
        fail_msg("streams: %s", err);
    f->b.boot_last_seq = knoop_journal_last_seq(f->b.journal);
    assert_non_null(f->zctx = zmq_ctx_new());
    assert_non_null(f->b.router = zmq_socket(f->zctx, ZMQ_ROUTER));
    snprintf(endpoint, sizeof endpoint, "inproc://test-delivery-%d", f->generation++);
    assert_int_equal(zmq_bind(f->b.router, endpoint), 0);
    for (int i = 0; i < MEMBERS; i++) {
        knoop_peer_t *p = &f->peer[i];
        memset(p, 0, sizeof *p);
        p->routing_id_len = (size_t)snprintf((char *)p->routing_id, sizeof p->routing_id, "member%d", i);
        snprintf(p->party, sizeof p->party, "0917");
        assert_non_null(f->dealer[i] = zmq_socket(f->zctx, ZMQ_DEALER));
        assert_int_equal(zmq_setsockopt(f->dealer[i], ZMQ_ROUTING_ID, p->routing_id, p->routing_id_len), 0);
        assert_int_equal(zmq_connect(f->dealer[i], endpoint), 0);
        /* One frame in each direction's worth: the ROUTER knows the member's routing id once it has heard it. */
        assert_int_equal(zmq_send(f->dealer[i], "hi", 2, 0), 2);
        char id[64], body[8];
        assert_int_equal(zmq_recv(f->b.router, id, sizeof id, 0), (int)p->routing_id_len);
        assert_int_equal(zmq_recv(f->b.router, body, sizeof body, 0), 2);
    }
}

/* The daemon's stop, without the rest of the daemon: members leave (nothing counted against the messages), the last
 * cursor writes commit, the journal closes. */
static void stop(fixture_t *f)
{
    knoop_broker_t *b = &f->b;
    b->stopping = true;
    for (int i = 0; i < MEMBERS; i++)
        while (f->peer[i].subs)
            knoop_sub_detach(b, f->peer[i].subs);
    knoop_delivery_tick(b);
    drain(f);
    knoop_store_entries_close(&b->entries_reader);
    knoop_journal_close(&b->journal);
    knoop_streams_free(b);
    int linger = 0;
    for (int i = 0; i < MEMBERS; i++) {
        zmq_setsockopt(f->dealer[i], ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(f->dealer[i]);
    }
    zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(b->router);
    zmq_ctx_term(f->zctx);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0); /* no handle left behind */
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/knoop-delivery-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    knoop_settings_t *s = &f->config.settings;
    s->max_credit = 65536;
    s->redelivery_max_attempts = 3;
    s->redelivery_backoff_ms = 1000;
    s->visibility_timeout_ms = 300000;
    s->audit_retention_s = 86400;
    s->subscriber_max_per_party = 3;
    s->connection_max_unacked = 8192;
    s->connection_max_unacked_bytes = 8u << 20;
    knoop_log_set_level(KNOOP_LOG_ERROR);
    start(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    stop(f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static void restart(fixture_t *f)
{
    stop(f);
    start(f);
}

/* ---- messages in, deliveries out ---- */

typedef struct seed_op {
    knoop_jop_t op;
    int64_t stream_id;
    char stream[64];
    int n;
    uint64_t last;
} seed_op_t;

/* What ingest writes for one message, reduced to what delivery reads: the message row with a packed Envelope
 * (message_id "m<seq>"), and its entry on the stream. */
static int apply_seed(knoop_jtx_t *tx, knoop_jop_t *op)
{
    seed_op_t *s = (seed_op_t *)op;
    if (knoop_store_stream_insert(tx, s->stream_id, s->stream, 1) != 0)
        return -EIO;
    for (int i = 0; i < s->n; i++) {
        uint64_t seq = knoop_jtx_next_seq(tx);
        char id[32];
        snprintf(id, sizeof id, "m%llu", (unsigned long long)seq);
        Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
        env.message_id = id;
        uint8_t plain[64];
        const uint8_t *buf; /* sealed for its row, as ingest stores it */
        size_t len;
        if (knoop_jtx_seal(tx, id, strlen(id), plain, knoop__envelope__pack(&env, plain), &buf, &len) != 0)
            return -ENOMEM;
        sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO messages(seq, message_id, sender, publisher, receiver, "
                                              "kind, message_type, identificatie, accepted_us, envelope) "
                                              "VALUES(?, ?, '0917', '0917', '0918', 14, 'test', '', ?, ?)");
        if (!st || sqlite3_bind_int64(st, 1, (sqlite3_int64)seq) != SQLITE_OK ||
            sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
            sqlite3_bind_int64(st, 3, (sqlite3_int64)knoop_now_us()) != SQLITE_OK ||
            sqlite3_bind_blob(st, 4, buf, (int)len, SQLITE_TRANSIENT) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
            return -EIO;
        if (knoop_store_entry_add(tx, s->stream_id, seq) != 0)
            return -EIO;
        s->last = seq;
    }
    return 0;
}

static void done_seed(void *ctx, knoop_jop_t *op, int status)
{
    seed_op_t *s = (seed_op_t *)op;
    assert_int_equal(status, 0);
    knoop_stream_t *st = knoop_stream_get(ctx, s->stream, false);
    assert_non_null(st);
    knoop_stream_appended(ctx, st, s->last);
    free(s);
}

/* Publishes n messages on stream (as one commit) and wakes its groups. */
static knoop_stream_t *publish(fixture_t *f, const char *stream, int n)
{
    knoop_stream_t *s = knoop_stream_get(&f->b, stream, true);
    assert_non_null(s);
    seed_op_t *op = calloc(1, sizeof *op);
    op->op.apply = apply_seed;
    op->op.done = done_seed;
    op->stream_id = s->id;
    snprintf(op->stream, sizeof op->stream, "%s", stream);
    op->n = n;
    s->persisted = true;
    knoop_journal_submit(f->b.journal, &op->op);
    drain(f);
    knoop_streams_pump_dirty(&f->b);
    drain(f);
    return s;
}

typedef struct got {
    uint64_t seq;
    uint32_t attempt;
    int member;
} got_t;

/* Every Deliver frame the members have received since the last call, in arrival order per member. Checks that each
 * carries the stored envelope of its seq. */
static size_t received(fixture_t *f, got_t *out, size_t max)
{
    size_t n = 0;
    uint8_t buf[4096];
    for (int i = 0; i < MEMBERS; i++) {
        int len;
        while ((len = zmq_recv(f->dealer[i], buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
            Knoop__Frame *fr = knoop__frame__unpack(NULL, (size_t)len, buf);
            assert_non_null(fr);
            if (fr->body_case != KNOOP__FRAME__BODY_DELIVER) {
                knoop__frame__free_unpacked(fr, NULL);
                continue;
            }
            Knoop__Deliver *d = fr->deliver;
            assert_string_equal(d->stream, STREAM);
            assert_non_null(d->envelope);
            assert_int_equal(d->envelope->seq, d->seq);
            char id[32];
            snprintf(id, sizeof id, "m%llu", (unsigned long long)d->seq);
            assert_string_equal(d->envelope->message_id, id);
            assert_true(n < max);
            out[n++] = (got_t){d->seq, d->attempt, i};
            knoop__frame__free_unpacked(fr, NULL);
        }
    }
    return n;
}

/* The next frame a member received must be an Error with this code. */
static void expect_error(fixture_t *f, int member, Knoop__ErrorCode code)
{
    uint8_t buf[1024];
    int len = zmq_recv(f->dealer[member], buf, sizeof buf, ZMQ_DONTWAIT);
    assert_true(len > 0);
    Knoop__Frame *fr = knoop__frame__unpack(NULL, (size_t)len, buf);
    assert_non_null(fr);
    assert_int_equal(fr->body_case, KNOOP__FRAME__BODY_ERROR);
    assert_int_equal(fr->error->code, code);
    knoop__frame__free_unpacked(fr, NULL);
}

/* A subscription of peer `member` to g with this window, as Subscribe makes it. */
static knoop_sub_t *join(fixture_t *f, int member, knoop_group_t *g, uint64_t window)
{
    knoop_sub_t *sub = calloc(1, sizeof *sub);
    assert_non_null(sub);
    knoop_peer_t *p = &f->peer[member];
    sub->peer = p;
    sub->group = g;
    sub->window = window;
    sub->next_on_peer = p->subs;
    p->subs = sub;
    sub->next_in_group = g->members;
    g->members = sub;
    knoop_group_pump(&f->b, g);
    drain(f); /* the delivery lease is journaled before the first delivery */
    return sub;
}

static void ack(fixture_t *f, int member, uint64_t seq)
{
    Knoop__Ack a = KNOOP__ACK__INIT;
    a.stream = STREAM;
    a.seq = seq;
    knoop_handle_ack(&f->b, &f->peer[member], &a);
}

static void nack(fixture_t *f, int member, uint64_t seq, uint32_t delay_ms, char *reason)
{
    Knoop__Nack m = KNOOP__NACK__INIT;
    m.stream = STREAM;
    m.seq = seq;
    m.delay_ms = delay_ms;
    m.reason = reason;
    knoop_handle_nack(&f->b, &f->peer[member], &m);
}

/* After frames were handled: the refill at the end of the loop iteration, and its journal writes. */
static void end_of_iteration(fixture_t *f)
{
    knoop_streams_pump_dirty(&f->b);
    drain(f);
}

static knoop_group_t *group(fixture_t *f, const char *name)
{
    knoop_stream_t *s = knoop_stream_get(&f->b, STREAM, true);
    bool created;
    knoop_group_t *g = knoop_group_get(&f->b, s, name, "99990001", KNOOP__START_AT__DURABLE, 0, 0, &created);
    assert_non_null(g);
    return g;
}

static int holder(const got_t *got, size_t n, uint64_t seq)
{
    for (size_t i = 0; i < n; i++)
        if (got[i].seq == seq)
            return got[i].member;
    fail_msg("seq %llu was not delivered", (unsigned long long)seq);
    return -1;
}

static void competing_consumers_share_a_cursor_that_survives_a_restart(void **state)
{
    fixture_t *f = *state;
    knoop_stream_t *s = publish(f, STREAM, 6);
    assert_int_equal(s->last_seq, 6);
    knoop_group_t *g = group(f, "workers");
    assert_int_equal(g->acked_seq, 0); /* a new name starts at the beginning */
    knoop_sub_t *a = join(f, 0, g, 2);
    knoop_sub_t *b = join(f, 1, g, 2);
    got_t got[32];
    size_t n = received(f, got, 32);
    /* Each member holds its window and no more; together they got 1..4, each seq once, first attempts. */
    assert_int_equal(n, 4);
    assert_int_equal(a->in_flight, 2);
    assert_int_equal(b->in_flight, 2);
    bool seen[7] = {false};
    for (size_t i = 0; i < n; i++) {
        assert_true(got[i].seq >= 1 && got[i].seq <= 4);
        assert_false(seen[got[i].seq]);
        seen[got[i].seq] = true;
        assert_int_equal(got[i].attempt, 1);
    }
    /* Acks out of order: room comes back at once, the cursor waits for 1. */
    ack(f, holder(got, n, 2), 2);
    ack(f, holder(got, n, 3), 3);
    assert_int_equal(g->acked_seq, 0);
    end_of_iteration(f);
    got_t more[8];
    size_t m = received(f, more, 8);
    assert_int_equal(m, 2);
    assert_int_equal(more[0].seq + more[1].seq, 5 + 6);
    ack(f, holder(got, n, 1), 1);
    assert_int_equal(g->acked_seq, 3);
    ack(f, holder(more, m, 5), 5);
    assert_int_equal(g->acked_seq, 3);
    ack(f, holder(got, n, 4), 4);
    assert_int_equal(g->acked_seq, 5);
    ack(f, holder(more, m, 6), 6);
    assert_int_equal(g->acked_seq, 6);
    assert_int_equal(f->b.stats.acked, 6);
    ack(f, 0, 6); /* late duplicate: ignored */
    assert_int_equal(f->b.stats.acked, 6);
    /* An ack for a stream this connection does not read is an error the client can correlate. */
    Knoop__Ack stray = KNOOP__ACK__INIT;
    stray.stream = "inbox.other";
    stray.seq = 1;
    knoop_handle_ack(&f->b, &f->peer[0], &stray);
    expect_error(f, 0, KNOOP__ERROR_CODE__UNKNOWN_STREAM);

    /* The cursor is journaled on the tick; after a restart the name resumes after it. */
    knoop_delivery_tick(&f->b);
    drain(f);
    uint64_t acked = 0, delivered = 0;
    assert_int_equal(knoop_store_cursor_get(f->b.journal, s->id, "workers", &acked, &delivered, NULL), 1);
    assert_int_equal(acked, 6);
    assert_true(delivered >= 6); /* the lease covers everything sent */
    restart(f);
    s = knoop_stream_get(&f->b, STREAM, false);
    assert_non_null(s); /* loaded from the journal */
    assert_int_equal(s->last_seq, 6);
    g = knoop_group_find(&f->b, s, "workers");
    assert_non_null(g);
    assert_int_equal(g->acked_seq, 6);
    assert_null(knoop_group_find(&f->b, s, "nobody")); /* a name that never subscribed */
    publish(f, STREAM, 1);
    join(f, 0, g, 8);
    n = received(f, got, 32);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].seq, 7);
    assert_int_equal(got[0].attempt, 1); /* journaled after the restart: never delivered before it */
}

typedef struct entries_seen {
    size_t n;
    uint64_t seqs[8];
    char ids[8][32];
} entries_seen_t;

/* Collects what a store read hands back, decoding the envelope's message id. */
static int see_entry(void *ctx, uint64_t seq, const void *env, size_t len)
{
    entries_seen_t *s = ctx;
    assert_true(s->n < 8);
    Knoop__Envelope *e = knoop__envelope__unpack(NULL, len, env);
    assert_non_null(e);
    s->seqs[s->n] = seq;
    snprintf(s->ids[s->n++], sizeof s->ids[0], "%s", e->message_id);
    knoop__envelope__free_unpacked(e, NULL);
    return 0;
}

static int count_attempt(void *ctx, uint64_t seq, uint32_t attempts)
{
    (void)seq, (void)attempts;
    ((entries_seen_t *)ctx)->n++;
    return 0;
}

static void nacks_back_off_and_attempts_survive_a_restart_until_a_dead_letter(void **state)
{
    fixture_t *f = *state;
    knoop_stream_t *s = publish(f, STREAM, 2);
    knoop_group_t *g = group(f, "picky");
    join(f, 0, g, 10);
    got_t got[16];
    assert_int_equal(received(f, got, 16), 2);

    /* A nack without a delay waits redelivery_backoff_ms (1 s) with jitter: between half and all of it. */
    uint64_t before = knoop_now_ms();
    nack(f, 0, 1, 0, "cannot parse");
    uint64_t after = knoop_now_ms();
    knoop_inflight_t *e = knoop_ring_find(g, 1);
    assert_int_equal(e->state, INFLIGHT_WAITING);
    assert_true(e->due_ms >= before + 500 && e->due_ms <= after + 1000);
    end_of_iteration(f);
    assert_int_equal(received(f, got, 16), 0); /* not due yet */
    e->due_ms = knoop_now_ms();                /* the test does not wait the second */
    knoop_delivery_tick(&f->b);
    drain(f);
    assert_int_equal(received(f, got, 16), 1);
    assert_int_equal(got[0].seq, 1);
    assert_int_equal(got[0].attempt, 2);

    /* The returned attempt is journaled: after a second nack the row says 2. */
    nack(f, 0, 1, 60000, "cannot parse");
    end_of_iteration(f);
    ack(f, 0, 2);
    assert_int_equal(g->acked_seq, 0); /* 1 is unsettled */
    drain(f);
    knoop_stored_attempt_t rows[4];
    size_t nrows = 0;
    knoop_journal_t *j = f->b.journal;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(knoop_journal_reader(j),
                                        "SELECT seq, attempts, last_reason FROM delivery_attempts", -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        rows[nrows].seq = (uint64_t)sqlite3_column_int64(st, 0);
        rows[nrows++].attempts = (uint32_t)sqlite3_column_int(st, 1);
        assert_string_equal((const char *)sqlite3_column_text(st, 2), "cannot parse");
    }
    sqlite3_finalize(st);
    assert_int_equal(nrows, 1);
    assert_int_equal(rows[0].seq, 1);
    assert_int_equal(rows[0].attempts, 2);

    /* Restart: the count goes on (attempt 3), and seq 2 — acked, but the cursor could not pass 1 — comes again
     * flagged as a redelivery. */
    restart(f);
    s = knoop_stream_get(&f->b, STREAM, false);
    g = knoop_group_find(&f->b, s, "picky");
    assert_non_null(g);
    assert_int_equal(knoop_attempts_stored(g, 1), 2);
    join(f, 0, g, 10);
    size_t n = received(f, got, 16);
    assert_int_equal(n, 2);
    assert_int_equal(got[0].seq, 1);
    assert_int_equal(got[0].attempt, 3);
    assert_int_equal(got[1].seq, 2);
    assert_int_equal(got[1].attempt, 2);

    /* The third failure is the last (redelivery_max_attempts 3): a dead letter, and the cursor moves on. */
    nack(f, 0, 1, 1, "still cannot parse");
    ack(f, 0, 2);
    assert_int_equal(g->acked_seq, 2);
    end_of_iteration(f);
    assert_int_equal(f->b.stats.dead_lettered, 1);
    assert_int_equal(g->dead_letters, 1);
    assert_int_equal(sqlite3_prepare_v2(knoop_journal_reader(j = f->b.journal),
                                        "SELECT id, seq, stream, subscriber, source, reason, attempts, state "
                                        "FROM dead_letters",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t dl_id = sqlite3_column_int64(st, 0);
    assert_int_equal(sqlite3_column_int64(st, 1), 1);
    assert_string_equal((const char *)sqlite3_column_text(st, 2), STREAM);
    assert_string_equal((const char *)sqlite3_column_text(st, 3), "picky");
    assert_string_equal((const char *)sqlite3_column_text(st, 4), "delivery");
    assert_string_equal((const char *)sqlite3_column_text(st, 5), "still cannot parse");
    assert_int_equal(sqlite3_column_int(st, 6), 3);
    assert_string_equal((const char *)sqlite3_column_text(st, 7), "open");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    /* ... on the deadletters stream too, and its attempts row is gone. */
    knoop_stream_t *dl = knoop_stream_get(&f->b, "deadletters", false);
    assert_non_null(dl);
    assert_int_equal(dl->last_seq, 1);
    knoop_store_entries_t *r;
    assert_int_equal(knoop_store_entries_open(j, &r), 0);
    entries_seen_t seen = {0};
    assert_int_equal(knoop_store_entries_read(r, dl->id, 1, 100, see_entry, &seen), 0);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.seqs[0], 1);
    assert_string_equal(seen.ids[0], "m1"); /* the same message, referenced from the deadletters stream */
    knoop_store_entries_close(&r);
    seen.n = 0;
    assert_int_equal(knoop_store_attempts_each(j, s->id, "picky", 0, count_attempt, &seen), 0);
    assert_int_equal(seen.n, 0); /* settled: its attempts row is gone */

    /* dlq retry: back to the group with a fresh round; its ack settles the dead letter as 'retried'. */
    assert_int_equal(knoop_group_requeue(&f->b, g, 1, dl_id, 3), 0);
    n = received(f, got, 16);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].seq, 1);
    assert_int_equal(got[0].attempt, 4);
    ack(f, 0, 1);
    end_of_iteration(f);
    assert_int_equal(g->acked_seq, 2); /* below the cursor: it does not move back */
    assert_int_equal(
        sqlite3_prepare_v2(knoop_journal_reader(j), "SELECT state FROM dead_letters WHERE id = ?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, dl_id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "retried");
    sqlite3_finalize(st);
}

static void a_member_that_leaves_or_times_out_returns_its_deliveries(void **state)
{
    fixture_t *f = *state;
    f->config.settings.visibility_timeout_ms = 100;
    publish(f, STREAM, 2);
    knoop_group_t *g = group(f, "pair");
    knoop_sub_t *a = join(f, 0, g, 1);
    knoop_sub_t *b = join(f, 1, g, 2);
    got_t got[16];
    size_t n = received(f, got, 16);
    assert_int_equal(n, 2);
    assert_int_equal(a->in_flight + b->in_flight, 2);
    int left = a->in_flight ? 0 : 1; /* whichever holds a delivery leaves */
    uint64_t its_seq = got[0].member == left ? got[0].seq : got[1].seq;
    knoop_sub_detach(&f->b, left == 0 ? a : b);
    drain(f);
    knoop_sub_t *stays = left == 0 ? b : a;
    n = received(f, got, 16);
    assert_int_equal(n, 1); /* at once, to the member that stays */
    assert_int_equal(got[0].member, 1 - left);
    assert_int_equal(got[0].seq, its_seq);
    assert_int_equal(got[0].attempt, 2);
    assert_int_equal(stays->in_flight, 2);
    /* Nobody acks: after visibility_timeout_ms both come back, and go out again. */
    nanosleep(&(struct timespec){.tv_nsec = 150 * 1000 * 1000}, NULL);
    knoop_delivery_tick(&f->b);
    drain(f);
    n = received(f, got, 16);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++)
        assert_true(got[i].attempt >= 2);
    assert_true(g->redeliveries >= 3);

    /* An ephemeral subscription (no name) leaves no group behind. */
    knoop_stream_t *s = knoop_stream_get(&f->b, STREAM, false);
    bool created;
    knoop_group_t *eph = knoop_group_get(&f->b, s, "~session", "99990001", KNOOP__START_AT__LATEST, 0, 0, &created);
    assert_true(created);
    assert_int_equal(eph->acked_seq, 2);
    knoop_sub_t *sub = join(f, 0, eph, 4);
    assert_non_null(knoop_strmap_get(s->groups, "~session"));
    knoop_sub_detach(&f->b, sub);
    assert_null(knoop_strmap_get(s->groups, "~session"));
    drain(f);
    uint64_t acked, delivered;
    assert_int_equal(knoop_store_cursor_get(f->b.journal, s->id, "~session", &acked, &delivered, NULL), 0);
}

/* Only the member a delivery went to may settle it: an Ack or Nack from another member of the group is ignored and
 * counted, the delivery stays out with its holder, whose own Ack then settles it. */
static void only_the_holder_of_a_delivery_settles_it(void **state)
{
    fixture_t *f = *state;
    publish(f, STREAM, 2);
    knoop_group_t *g = group(f, "pair");
    knoop_sub_t *a = join(f, 0, g, 1);
    knoop_sub_t *b = join(f, 1, g, 1);
    got_t got[8];
    size_t n = received(f, got, 8);
    assert_int_equal(n, 2);
    uint64_t of0 = got[0].member == 0 ? got[0].seq : got[1].seq, of1 = got[0].member == 0 ? got[1].seq : got[0].seq;
    ack(f, 1, of0); /* member 1 acks what member 0 holds */
    nack(f, 1, of0, 0, "not mine");
    assert_int_equal(f->b.stats.settles_ignored, 2);
    assert_int_equal(f->b.stats.acked, 0);
    assert_int_equal(f->b.stats.nacked, 0);
    assert_int_equal(a->in_flight, 1);
    assert_int_equal(g->acked_seq, 0);
    knoop_inflight_t *e = knoop_ring_find(g, of0);
    assert_non_null(e);
    assert_int_equal(e->state, INFLIGHT_SENT);
    assert_ptr_equal(e->member, a);
    ack(f, 0, of0);
    ack(f, 1, of1);
    assert_int_equal(f->b.stats.acked, 2);
    assert_int_equal(a->in_flight + b->in_flight, 0);
    assert_int_equal(g->acked_seq, 2);
    assert_int_equal(f->b.stats.settles_ignored, 2);
}

static int count_rows(fixture_t *f, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(knoop_journal_reader(f->b.journal), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Every delivery — first ones and redeliveries — leaves one audit row (seq, reader, attempt), written on the tick in
 * one journal operation, not per delivery. */
static void every_delivery_leaves_an_audit_row_written_per_tick(void **state)
{
    fixture_t *f = *state;
    publish(f, STREAM, 5);
    knoop_group_t *g = group(f, "audited");
    join(f, 0, g, 8);
    got_t got[8];
    assert_int_equal(received(f, got, 8), 5);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_reads"), 0); /* not yet: batched */
    uint64_t ops = 0;
    knoop_journal_stats_t js;
    knoop_journal_stats(f->b.journal, &js);
    ops = js.ops;
    knoop_delivery_tick(&f->b);
    drain(f);
    knoop_journal_stats(f->b.journal, &js);
    assert_true(js.ops - ops <= 3); /* the batch, a cursor write, an audit retention pass */
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_reads r JOIN audit_readers p ON p.id = r.reader "
                                   "WHERE p.party = '0917' AND p.stream = 'inbox.test' AND p.subscriber = 'audited' "
                                   "AND r.attempt = 1 AND r.seq BETWEEN 1 AND 5 AND r.client_ref IS NULL"),
                     5);
    nack(f, 0, 3, 1, "again");
    nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    knoop_delivery_tick(&f->b); /* the redelivery goes out, and its audit row with the next batch */
    drain(f);
    knoop_delivery_tick(&f->b);
    drain(f);
    assert_int_equal(received(f, got, 8), 1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_reads WHERE seq = 3 AND attempt = 2"), 1);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_readers"), 1);
}

/* Idle expiry looks at 64 candidates a pass, oldest first, and goes on after them the next pass: groups that must
 * stay (something left to deliver) do not hide an idle one behind them. */
static void idle_expiry_goes_on_past_groups_that_must_stay(void **state)
{
    fixture_t *f = *state;
    f->config.settings.subscriber_idle_expiry_s = 1;
    knoop_stream_t *s = publish(f, STREAM, 1);
    for (int i = 0; i < 70; i++) { /* each has seq 1 still to deliver */
        char name[16];
        snprintf(name, sizeof name, "behind%02d", i);
        group(f, name);
    }
    drain(f);
    nanosleep(&(struct timespec){.tv_nsec = 50 * 1000 * 1000}, NULL);
    knoop_group_t *g = group(f, "idle");
    knoop_sub_t *sub = join(f, 0, g, 8);
    got_t got[4];
    assert_int_equal(received(f, got, 4), 1);
    ack(f, 0, 1);
    knoop_sub_detach(&f->b, sub); /* the last member leaves: the row's time is now */
    drain(f);
    nanosleep(&(struct timespec){.tv_sec = 1, .tv_nsec = 200 * 1000 * 1000}, NULL);
    uint64_t acked, delivered;
    knoop_delivery_tick(&f->b); /* the first 64 candidates: all stay */
    drain(f);
    assert_int_equal(knoop_store_cursor_get(f->b.journal, s->id, "idle", &acked, &delivered, NULL), 1);
    knoop_delivery_tick(&f->b); /* on from there: the idle one goes */
    drain(f);
    assert_int_equal(knoop_store_cursor_get(f->b.journal, s->id, "idle", &acked, &delivered, NULL), 0);
    assert_null(knoop_strmap_get(s->groups, "idle"));
    for (int i = 0; i < 70; i += 23) {
        char name[16];
        snprintf(name, sizeof name, "behind%02d", i);
        assert_int_equal(knoop_store_cursor_get(f->b.journal, s->id, name, &acked, &delivered, NULL), 1);
    }
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit WHERE action = 'subscriber expired' AND "
                                   "detail LIKE '%subscriber=idle %'"),
                     1);
}

/* A batch goes to the journal as soon as it holds 16,384 deliveries, without waiting for the tick; and while the
 * journal is 1,048,576 deliveries behind with audit rows, delivery waits. */
static void a_full_batch_goes_at_once_and_delivery_waits_for_a_writer_far_behind(void **state)
{
    fixture_t *f = *state;
    f->config.settings.max_credit = 1000000;
    f->config.settings.connection_max_unacked =
        100000; /* this test is about the audit batch, not the per-connection cap */
    f->config.settings.connection_max_unacked_bytes = 1u << 30;
    publish(f, STREAM, 16400);
    knoop_group_t *g = group(f, "bulk");
    f->b.read_audit_unwritten = 1048576; /* as if the writer were that far behind */
    knoop_sub_t *sub = join(f, 0, g, 20000);
    assert_int_equal(sub->in_flight, 0); /* nothing sent */
    f->b.read_audit_unwritten = 0;
    knoop_group_pump(&f->b, g);
    drain(f);
    assert_int_equal(sub->in_flight, 16400);
    /* no tick ran: the full batch went on its own, the rest waits for the tick */
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_reads"), 16384);
    knoop_delivery_tick(&f->b);
    drain(f);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_reads"), 16400);
    uint8_t buf[4096];
    while (zmq_recv(f->dealer[0], buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
        ; /* the deliveries themselves are not what this test reads */
}

typedef struct old_rows_op {
    knoop_jop_t op;
    int n;
} old_rows_op_t;

static int apply_old_rows(knoop_jtx_t *tx, knoop_jop_t *op)
{
    old_rows_op_t *o = (old_rows_op_t *)op;
    sqlite3_stmt *st = knoop_jtx_stmt(tx, "INSERT INTO audit_reads(at_us, seq, reader, attempt) VALUES(?, ?, 1, 1)");
    sqlite3_stmt *act = knoop_jtx_stmt(tx, "INSERT INTO audit(at_us, actor, action, detail) VALUES(?, 'x', 'y', '')");
    for (int i = 0; i < o->n; i++) {
        sqlite3_bind_int64(st, 1, 1000 + i);
        sqlite3_bind_int64(st, 2, i + 1);
        sqlite3_bind_int64(act, 1, 1000 + i);
        if (sqlite3_step(st) != SQLITE_DONE || sqlite3_step(act) != SQLITE_DONE)
            return -EIO;
        sqlite3_reset(st);
        sqlite3_reset(act);
    }
    return 0;
}

static void done_old_rows(void *ctx, knoop_jop_t *op, int status)
{
    (void)ctx;
    assert_int_equal(status, 0);
    free(op);
}

/* Audit rows older than audit_retention go in passes of at most 10,000 of each table; a full pass is followed by the
 * next one on the next tick instead of after purge_interval_ms. */
static void audit_retention_deletes_in_passes_until_done(void **state)
{
    fixture_t *f = *state;
    f->config.settings.purge_interval_ms = 3600000;
    old_rows_op_t *o = calloc(1, sizeof *o);
    o->op.apply = apply_old_rows;
    o->op.done = done_old_rows;
    o->n = 25000;
    knoop_journal_submit(f->b.journal, &o->op);
    drain(f);
    f->b.audit_expire_ms = 0;
    knoop_delivery_tick(&f->b);
    drain(f);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_reads"), 15000);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit"), 15000);
    knoop_delivery_tick(&f->b); /* at once, not an hour later */
    drain(f);
    knoop_delivery_tick(&f->b);
    drain(f);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit_reads"), 0);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM audit"), 0);
    knoop_delivery_tick(&f->b); /* nothing left: the next pass waits for the interval */
    assert_false(f->b.audit_expire_busy);
}

/* One connection holds at most connection_max_unacked deliveries (and about connection_max_unacked_bytes) over all
 * its subscriptions, whatever their windows; the rest waits in the journal and flows as it acks. When the member
 * leaves, its connection's counts are back at zero. */
static void a_connection_holds_at_most_its_unacked_cap(void **state)
{
    fixture_t *f = *state;
    f->config.settings.connection_max_unacked = 3;
    publish(f, STREAM, 10);
    knoop_group_t *g = group(f, "capped");
    knoop_sub_t *a = join(f, 0, g, 100);
    got_t got[32];
    size_t n = received(f, got, 32);
    assert_int_equal(n, 3);
    assert_int_equal(f->peer[0].deliveries_out, 3);
    assert_true(f->peer[0].delivery_bytes_out > 0);
    assert_int_equal(a->bytes_out, f->peer[0].delivery_bytes_out);
    ack(f, 0, got[0].seq);
    end_of_iteration(f);
    n = received(f, got, 32);
    assert_int_equal(n, 1); /* one slot came back: one more */
    assert_int_equal(got[0].seq, 4);
    /* bytes: a cap below one envelope lets one delivery through at a time */
    f->config.settings.connection_max_unacked = 8192;
    f->config.settings.connection_max_unacked_bytes = 1;
    ack(f, 0, 2);
    ack(f, 0, 3);
    ack(f, 0, 4);
    end_of_iteration(f);
    n = received(f, got, 32);
    assert_int_equal(n, 1);
    assert_int_equal(f->peer[0].deliveries_out, 1);
    knoop_sub_detach(&f->b, a);
    assert_int_equal(f->peer[0].deliveries_out, 0);
    assert_int_equal(f->peer[0].delivery_bytes_out, 0);
    drain(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(competing_consumers_share_a_cursor_that_survives_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(nacks_back_off_and_attempts_survive_a_restart_until_a_dead_letter, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_member_that_leaves_or_times_out_returns_its_deliveries, setup, teardown),
        cmocka_unit_test_setup_teardown(only_the_holder_of_a_delivery_settles_it, setup, teardown),
        cmocka_unit_test_setup_teardown(every_delivery_leaves_an_audit_row_written_per_tick, setup, teardown),
        cmocka_unit_test_setup_teardown(idle_expiry_goes_on_past_groups_that_must_stay, setup, teardown),
        cmocka_unit_test_setup_teardown(a_full_batch_goes_at_once_and_delivery_waits_for_a_writer_far_behind, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(audit_retention_deletes_in_passes_until_done, setup, teardown),
        cmocka_unit_test_setup_teardown(a_connection_holds_at_most_its_unacked_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
