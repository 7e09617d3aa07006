/* knoop-floor — the floor `make bench` measures knoopd against: the simplest broker that makes knoopd's durability
 * promise and nothing more. One thread: a ZeroMQ ROUTER, SQLite in WAL mode with synchronous=FULL, one table
 * (seq INTEGER PRIMARY KEY, payload BLOB), one transaction for whatever arrived since the last commit, then the
 * Accepted answers. It speaks just enough of the wire protocol for knoop-bench (Hello -> Welcome, Publish ->
 * Accepted); no dedup, no routing, no delivery. Usage: knoop-floor -e ENDPOINT -d DIR (runs until SIGTERM). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "knoop.pb-c.h"

#define BATCH_MAX 4096

typedef struct pending {
    uint8_t id[256];
    size_t id_len;
    uint64_t ref;
} pending_t;

static volatile sig_atomic_t stop;
static void on_signal(int s)
{
    (void)s;
    stop = 1;
}

static void reply(void *sock, const uint8_t *id, size_t id_len, const Knoop__Frame *f)
{
    uint8_t buf[512];
    size_t n = knoop__frame__get_packed_size(f);
    if (n > sizeof buf)
        return;
    knoop__frame__pack(f, buf);
    zmq_send(sock, id, id_len, ZMQ_SNDMORE);
    zmq_send(sock, buf, n, 0);
}

static int fail(const char *what, sqlite3 *db)
{
    fprintf(stderr, "knoop-floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    const char *endpoint = "tcp://127.0.0.1:5571", *dir = ".";
    int o;
    while ((o = getopt(argc, argv, "e:d:")) != -1) {
        if (o == 'e')
            endpoint = optarg;
        else if (o == 'd')
            dir = optarg;
        else {
            fprintf(stderr, "usage: knoop-floor -e ENDPOINT -d DIR\n");
            return 2;
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    char path[4096];
    snprintf(path, sizeof path, "%s/floor.db", dir);
    sqlite3 *db;
    sqlite3_stmt *ins;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return fail("open", db);
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS messages(seq INTEGER PRIMARY KEY, payload BLOB)",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO messages(payload) VALUES(?)", -1, &ins, NULL) != SQLITE_OK)
        return fail("schema", db);
    void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_ROUTER);
    int zero = 0;
    if (zmq_setsockopt(sock, ZMQ_SNDHWM, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(sock, ZMQ_RCVHWM, &zero, sizeof zero) != 0 || zmq_bind(sock, endpoint) != 0)
        return fail("bind", NULL);
    static pending_t batch[BATCH_MAX];
    static uint8_t data[1 << 20];
    while (!stop) {
        size_t n = 0;
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 200) <= 0)
            continue;
        /* Everything that arrived since the last commit goes into the next one. */
        while (n < BATCH_MAX) {
            pending_t *p = &batch[n];
            int idn = zmq_recv(sock, p->id, sizeof p->id, ZMQ_DONTWAIT);
            if (idn < 0)
                break;
            p->id_len = (size_t)idn;
            int len = zmq_recv(sock, data, sizeof data, 0);
            if (len < 0 || (size_t)len > sizeof data)
                continue;
            Knoop__Frame *f = knoop__frame__unpack(NULL, (size_t)len, data);
            if (!f)
                continue;
            if (f->body_case == KNOOP__FRAME__BODY_HELLO) {
                Knoop__Welcome w = KNOOP__WELCOME__INIT;
                w.session = "floor";
                w.protocol_version = 1;
                Knoop__Frame out = KNOOP__FRAME__INIT;
                out.body_case = KNOOP__FRAME__BODY_WELCOME;
                out.welcome = &w;
                reply(sock, p->id, p->id_len, &out);
            } else if (f->body_case == KNOOP__FRAME__BODY_PUBLISH && f->publish->envelope) {
                p->ref = f->publish->ref;
                sqlite3_bind_blob(ins, 1, f->publish->envelope->payload.data, (int)f->publish->envelope->payload.len,
                                  SQLITE_TRANSIENT);
                if (n == 0 && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
                    return fail("begin", db);
                if (sqlite3_step(ins) != SQLITE_DONE)
                    return fail("insert", db);
                sqlite3_reset(ins);
                n++;
            }
            knoop__frame__free_unpacked(f, NULL);
        }
        if (n == 0)
            continue;
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            return fail("commit", db);
        /* Durable now: answer. The seqs of this batch are the last n rowids. */
        uint64_t last = (uint64_t)sqlite3_last_insert_rowid(db);
        for (size_t i = 0; i < n; i++) {
            Knoop__Accepted a = KNOOP__ACCEPTED__INIT;
            a.ref = batch[i].ref;
            a.seq = last - n + 1 + i;
            Knoop__Frame out = KNOOP__FRAME__INIT;
            out.body_case = KNOOP__FRAME__BODY_ACCEPTED;
            out.accepted = &a;
            reply(sock, batch[i].id, batch[i].id_len, &out);
        }
    }
    sqlite3_finalize(ins);
    sqlite3_close(db);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 0;
}
