/* knoop-files — the file-exchange adapter: for each party, publishes the iWmo/iJw files dropped in ROOT/P/inbox as P
 * (moving each to done/ or failed/ only after knoopd answered) and writes P's inbox stream to ROOT/P/outbox/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>
#include "base/curve_key.h"
#include "files/files.h"
#include "knoop/client.h"

#define MAX_PARTIES       64
#define ENVELOPE_HEADROOM 4096 /* the envelope's other fields around the payload, within max_message_bytes */

typedef struct party {
    char code[16];
    char inbox[4096], done[4096], failed[4096], outbox[4096];
    knoop_client_t *c; /* owned; NULL while disconnected */
    char session[64];
    int subscribed;
    double last_send, last_recv, last_hello, next_connect; /* last_recv: a frame other than Heartbeat */
    char **queue; /* owned: names found by the last scan, taken one at a time */
    size_t nq, iq;
    double last_scan;
    int scan_empty; /* the last scan found nothing to do */
    int busy;       /* a file is published and its answer awaited */
    char name[1024];
    uint64_t ref;
    double sent_at;
} party_t;

typedef struct files_ctx {
    const char *endpoint, *root, *subscriber;
    const char *server_key, *key_dir; /* CURVE: the server's public key file, PARTY.key per party (NULL: NULL) */
    int once;
    long interval_ms, idle_ms, answer_timeout_ms, credit;
    const char *fault; /* KNOOP_FILES_FAULT: test-only crash points */
    party_t parties[MAX_PARTIES];
    size_t n;
    double last_activity;
    int errors;
} files_ctx_t;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void utc_now(char ts[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One line per event, key=value; never a payload or a BSN (file names are the back-office's own). */
static void logline(const char *event, const char *fmt, ...)
{
    char ts[32];
    utc_now(ts);
    fprintf(stderr, "%s knoop-files %s ", ts, event);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: knoop-files -e ENDPOINT --root ROOT [options] PARTY...\n"
            "  For each PARTY: publish ROOT/PARTY/inbox/*.xml as PARTY (then move to done/ or failed/) and write\n"
            "  the stream inbox.PARTY to ROOT/PARTY/outbox/. See docs/file-exchange.md.\n"
            "  -e, --endpoint URL        knoopd (default tcp://127.0.0.1:5570)\n"
            "      --root DIR            the folder holding one folder per party (required)\n"
            "      --party PARTY         a party (repeatable; or give them as arguments)\n"
            "      --once                process what is there and exit when the inboxes are empty and no delivery\n"
            "                            arrived for --idle ms (for tests and cron)\n"
            "      --interval MS         how often to look into the inboxes (default 1000)\n"
            "      --idle MS             --once: quiet time before exiting (default 1000)\n"
            "      --subscriber NAME     durable subscriber name for the outboxes (default files)\n"
            "      --credit N            deliveries in flight per party (default 16)\n"
            "      --answer-timeout MS   reconnect and publish again when knoopd does not answer (default 30000)\n"
            "      --server-key FILE     CURVE: knoopd's public key (its .pub file); with --key-dir\n"
            "      --key-dir DIR         CURVE: DIR/PARTY.key is each party's key pair (knoopctl keys generate "
            "DIR/PARTY)\n");
}

/* ---- connection --------------------------------------------------------------------------------------- */

static int send_frame(party_t *p, Knoop__Frame *f)
{
    int rc = knoop_client_send(p->c, f);
    p->last_send = now_s();
    return rc;
}

static void subscribe(files_ctx_t *x, party_t *p)
{
    char stream[64];
    snprintf(stream, sizeof stream, "inbox.%s", p->code);
    p->subscribed = 0;
    knoop_client_subscribe(p->c, stream, x->subscriber, KNOOP__START_AT__DURABLE, 0, 0, (uint32_t)x->credit);
    p->last_send = now_s();
}

static void hello_again(party_t *p)
{
    Knoop__Hello h = KNOOP__HELLO__INIT;
    h.party = p->code;
    h.client_name = "knoop-files";
    h.protocol_version = 1;
    Knoop__Frame f = KNOOP__FRAME__INIT;
    f.body_case = KNOOP__FRAME__BODY_HELLO;
    f.hello = &h;
    send_frame(p, &f);
    p->last_hello = now_s();
}

static void disconnect(party_t *p, const char *why)
{
    if (!p->c)
        return;
    logline("disconnect", "party=%s reason=\"%s\"", p->code, why);
    knoop_client_destroy(&p->c);
    p->busy = 0; /* the file stays in the inbox and is published again: knoopd deduplicates it */
    p->subscribed = 0;
}

/* The party's CURVE keys, read at every connect so a key replaced on disk is used from the next one. */
static int connect_party(files_ctx_t *x, party_t *p)
{
    char err[512];
    knoop_curve_client_keys_t k;
    int rc = knoop_curve_client_keys(x->server_key, NULL, x->key_dir, p->code, &k, err, sizeof err);
    knoop_client_curve_t curve = {k.server_public, k.public_key, k.secret_key};
    if (rc == 0)
        rc = knoop_client_connect_curve(x->endpoint, k.enabled ? &curve : NULL, p->code, "knoop-files", 5000, &p->c,
                                        err, sizeof err);
    sodium_memzero(&k, sizeof k);
    if (rc != 0) {
        logline("connect.failed", "party=%s endpoint=%s reason=\"%s\"", p->code, x->endpoint, err);
        p->next_connect = now_s() + (double)x->interval_ms / 1000.0 + 1.0;
        return -1;
    }
    const Knoop__Welcome *w = knoop_client_welcome(p->c);
    snprintf(p->session, sizeof p->session, "%s", w->session);
    p->last_send = p->last_recv = p->last_hello = now_s();
    logline("connected", "party=%s session=%s max_message_bytes=%u heartbeat_ms=%u", p->code, p->session,
            w->max_message_bytes, w->heartbeat_ms);
    subscribe(x, p);
    return 0;
}

static double heartbeat_s(const party_t *p)
{
    uint32_t ms = p->c ? knoop_client_welcome(p->c)->heartbeat_ms : 5000;
    return (ms ? ms : 5000) / 1000.0;
}

/* ---- inbox: one file at a time per party ---------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_queue(party_t *p)
{
    for (size_t i = 0; i < p->nq; i++)
        free(p->queue[i]);
    free(p->queue);
    p->queue = NULL;
    p->nq = p->iq = 0;
}

/* Names in the inbox worth a look, in name order (a back-office that numbers its files gets them in order). */
static void scan(party_t *p)
{
    free_queue(p);
    p->last_scan = now_s();
    DIR *d = opendir(p->inbox);
    if (!d) {
        logline("scan.failed", "party=%s dir=%s reason=\"%s\"", p->code, p->inbox, strerror(errno));
        p->scan_empty = 1;
        return;
    }
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (knoop_files_ignored_name(e->d_name))
            continue;
        if (p->nq == cap) {
            cap = cap ? cap * 2 : 16;
            char **q = realloc(p->queue, cap * sizeof *q);
            if (!q)
                break;
            p->queue = q;
        }
        p->queue[p->nq] = strdup(e->d_name);
        if (p->queue[p->nq])
            p->nq++;
    }
    closedir(d);
    if (p->nq)
        qsort(p->queue, p->nq, sizeof *p->queue, cmp_names);
    p->scan_empty = p->nq == 0;
}

/* The file in hand goes back to the inbox's turn: drop the rest of the queue and look again at the next tick. */
static void rescan_soon(party_t *p)
{
    p->iq = p->nq;
    p->last_scan = 0;
    p->scan_empty = 0;
}

static void write_error(party_t *p, const char *final, const char *code, const char *reason)
{
    char name[1200], text[2048], ts[32];
    utc_now(ts);
    snprintf(name, sizeof name, "%s.error.txt", final);
    int n = snprintf(text, sizeof text, "file: %s\nparty: %s\ncode: %s\nreason: %s\nat: %s\n", final, p->code, code,
                     reason, ts);
    int rc = knoop_files_write_atomic(p->failed, name, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
    if (rc != 0)
        logline("error_file.failed", "party=%s file=%s reason=\"%s\"", p->code, name, strerror(-rc));
}

/* To failed/ with its reason next to it: the reason first, so a crash in between never leaves a file unexplained. */
static void to_failed(files_ctx_t *x, party_t *p, const char *name, const char *code, const char *reason)
{
    char final[1024];
    int rc = knoop_files_free_name(p->failed, name, final, sizeof final);
    if (rc == 0) {
        write_error(p, final, code, reason);
        rc = knoop_files_move(p->inbox, name, p->failed, final, sizeof final);
    }
    if (rc != 0) {
        logline("file", "party=%s file=%s result=failed code=%s reason=\"%s\" moved=no move_error=\"%s\"", p->code,
                name, code, reason, strerror(-rc));
        x->errors++;
        return;
    }
    logline("file", "party=%s file=%s result=failed code=%s reason=\"%s\" moved=failed/%s", p->code, name, code, reason,
            final);
}

static void to_done(files_ctx_t *x, party_t *p, const char *name, const Knoop__Accepted *a)
{
    char final[1024];
    int rc = knoop_files_move(p->inbox, name, p->done, final, sizeof final);
    if (rc != 0) {
        logline("file", "party=%s file=%s result=accepted seq=%llu duplicate=%d moved=no move_error=\"%s\"", p->code,
                name, (unsigned long long)a->seq, a->duplicate, strerror(-rc));
        x->errors++;
        return;
    }
    logline("file", "party=%s file=%s result=accepted seq=%llu duplicate=%d moved=done/%s", p->code, name,
            (unsigned long long)a->seq, a->duplicate, final);
}

/* Reads inbox/name (a regular file, not through a symlink, at most `limit` bytes). 0, or -errno with `why`. */
static int read_file(const party_t *p, const char *name, size_t limit, char **buf, size_t *len, char *why,
                     size_t whylen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", p->inbox, name);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(why, whylen, e == ELOOP ? "not a regular file (a symbolic link)" : "cannot open: %s", strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "not a regular file");
        close(fd);
        return -EINVAL;
    }
    if ((size_t)st.st_size > limit) {
        snprintf(why, whylen,
                 "too large: %lld bytes; knoopd takes messages of at most %zu bytes (max_message_bytes "
                 "less the envelope); not sent",
                 (long long)st.st_size, limit);
        close(fd);
        return -EMSGSIZE;
    }
    char *b = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (b && n < (size_t)st.st_size) {
        ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    int e = errno;
    close(fd);
    if (!b || n != (size_t)st.st_size) {
        snprintf(why, whylen, "cannot read: %s", b ? strerror(e) : "out of memory");
        free(b);
        return -EIO;
    }
    *buf = b;
    *len = n;
    return 0;
}

/* Takes the next file of the queue: refuses it locally (to failed/) or publishes it and waits for the answer. */
static void take_next(files_ctx_t *x, party_t *p)
{
    while (p->iq < p->nq && !p->busy && !stop_requested) {
        const char *name = p->queue[p->iq++];
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", p->inbox, name);
        if (lstat(path, &st) != 0 || S_ISDIR(st.st_mode))
            continue; /* gone meanwhile (another instance took it), or a folder */
        uint32_t max = knoop_client_welcome(p->c)->max_message_bytes;
        size_t limit = max > ENVELOPE_HEADROOM ? max - ENVELOPE_HEADROOM : 0;
        char *buf = NULL, why[512], ct[128], type[40];
        size_t len = 0;
        if (read_file(p, name, limit, &buf, &len, why, sizeof why) != 0) {
            to_failed(x, p, name, "LOCAL", why);
            continue;
        }
        if (knoop_files_detect(buf, len, ct, sizeof ct, type, sizeof type, why, sizeof why) != 0) {
            free(buf);
            to_failed(x, p, name, "LOCAL", why);
            continue;
        }
        /* message_type, identificatie, receiver and kind stay empty: knoopd takes them from the XML. */
        Knoop__Envelope env = KNOOP__ENVELOPE__INIT;
        env.sender = p->code;
        env.content_type = ct;
        env.payload.data = (uint8_t *)buf;
        env.payload.len = len;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        env.created_at_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
        p->ref++;
        int rc = knoop_client_publish(p->c, p->ref, &env);
        p->last_send = now_s();
        free(buf);
        if (rc != 0) {
            logline("publish.failed", "party=%s file=%s reason=\"%s\"", p->code, name, strerror(-rc));
            rescan_soon(p);
            disconnect(p, "publish failed");
            return;
        }
        snprintf(p->name, sizeof p->name, "%s", name);
        p->busy = 1;
        p->sent_at = now_s();
    }
}

static void on_answer(files_ctx_t *x, party_t *p, Knoop__Frame *f)
{
    if (!p->busy)
        return;
    if (f->body_case == KNOOP__FRAME__BODY_ACCEPTED) {
        if (f->accepted->ref != p->ref)
            return;
        if (x->fault && strcmp(x->fault, "kill-before-move") == 0)
            raise(SIGKILL);
        to_done(x, p, p->name, f->accepted);
    } else {
        if (f->rejected->ref != p->ref)
            return;
        int code = f->rejected->code;
        /* Retry later, file untouched: the broker was stopping or could not store it, or forgot this session. */
        if (code == KNOOP__ERROR_CODE__SHUTTING_DOWN || code == KNOOP__ERROR_CODE__INTERNAL ||
            code == KNOOP__ERROR_CODE__NO_HELLO) {
            logline("file", "party=%s file=%s result=retry code=%s reason=\"%s\"", p->code, p->name,
                    knoop_error_code_name(code), f->rejected->reason);
            p->busy = 0;
            rescan_soon(p);
            if (code == KNOOP__ERROR_CODE__NO_HELLO)
                hello_again(p);
            return;
        }
        to_failed(x, p, p->name, knoop_error_code_name(code), f->rejected->reason);
    }
    p->busy = 0;
    x->last_activity = now_s();
}

/* ---- outbox ------------------------------------------------------------------------------------------------ */

static void on_deliver(files_ctx_t *x, party_t *p, const Knoop__Deliver *d)
{
    const Knoop__Envelope *e = d->envelope;
    char name[256];
    knoop_files_outbox_name((unsigned long long)d->seq, e ? e->message_type : "", e ? e->identificatie : "",
                            e ? e->content_type : "", name, sizeof name);
    int rc = knoop_files_write_atomic(p->outbox, name, e ? e->payload.data : NULL, e ? e->payload.len : 0);
    x->last_activity = now_s();
    if (rc != 0) {
        char reason[300];
        snprintf(reason, sizeof reason, "knoop-files could not write outbox/%s: %s", name, strerror(-rc));
        logline("outbox", "party=%s file=%s seq=%llu result=nack reason=\"%s\"", p->code, name,
                (unsigned long long)d->seq, strerror(-rc));
        knoop_client_nack(p->c, d->stream, d->seq, 5000, reason);
        p->last_send = now_s();
        x->errors++;
        return;
    }
    if (x->fault && strcmp(x->fault, "kill-before-ack") == 0)
        raise(SIGKILL);
    knoop_client_ack(p->c, d->stream, d->seq);
    p->last_send = now_s();
    logline("outbox", "party=%s file=%s seq=%llu attempt=%u result=written", p->code, name, (unsigned long long)d->seq,
            d->attempt);
}

static void dispatch(files_ctx_t *x, party_t *p, Knoop__Frame *f)
{
    if (f->body_case != KNOOP__FRAME__BODY_HEARTBEAT)
        p->last_recv = now_s();
    switch (f->body_case) {
    case KNOOP__FRAME__BODY_ACCEPTED:
    case KNOOP__FRAME__BODY_REJECTED:
        on_answer(x, p, f);
        break;
    case KNOOP__FRAME__BODY_DELIVER:
        on_deliver(x, p, f->deliver);
        break;
    case KNOOP__FRAME__BODY_SUBSCRIBED:
        p->subscribed = 1;
        logline("subscribed", "party=%s stream=%s subscriber=%s position=%llu", p->code, f->subscribed->stream,
                f->subscribed->subscriber, (unsigned long long)f->subscribed->position);
        break;
    case KNOOP__FRAME__BODY_WELCOME:
        /* A Hello after silence: a new session id means knoopd forgot us (restart, drop): subscribe again and
         * publish the file in hand again (deduplicated if it had been stored). */
        if (strcmp(f->welcome->session, p->session) != 0) {
            logline("session.new", "party=%s session=%s", p->code, f->welcome->session);
            snprintf(p->session, sizeof p->session, "%s", f->welcome->session);
            subscribe(x, p);
            /* A publish sent after the Hello reached the new session (one connection keeps order): its answer
             * is on its way. One sent before it may have been lost with the old session. */
            if (p->busy && p->sent_at < p->last_hello) {
                p->busy = 0;
                rescan_soon(p);
            }
        }
        break;
    case KNOOP__FRAME__BODY_ERROR:
        logline("error", "party=%s code=%s reason=\"%s\"", p->code, knoop_error_code_name(f->error->code),
                f->error->reason);
        if (f->error->code == KNOOP__ERROR_CODE__NO_HELLO)
            hello_again(p);
        else if (!p->subscribed)
            x->errors++;
        break;
    default:
        break;
    }
}

/* ---- the loop ---------------------------------------------------------------------------------------------- */

static int party_dirs(files_ctx_t *x, party_t *p)
{
    snprintf(p->inbox, sizeof p->inbox, "%s/%s/inbox", x->root, p->code);
    snprintf(p->done, sizeof p->done, "%s/%s/done", x->root, p->code);
    snprintf(p->failed, sizeof p->failed, "%s/%s/failed", x->root, p->code);
    snprintf(p->outbox, sizeof p->outbox, "%s/%s/outbox", x->root, p->code);
    const char *dirs[] = {p->inbox, p->done, p->failed, p->outbox};
    for (size_t i = 0; i < 4; i++) {
        int rc = knoop_files_mkdirs(dirs[i]);
        if (rc != 0) {
            fprintf(stderr, "knoop-files: %s: %s\n", dirs[i], strerror(-rc));
            return -1;
        }
    }
    return 0;
}

static int all_quiet(const files_ctx_t *x)
{
    for (size_t i = 0; i < x->n; i++) {
        const party_t *p = &x->parties[i];
        if (!p->c || !p->subscribed || p->busy || p->iq < p->nq || !p->scan_empty)
            return 0;
    }
    return now_s() - x->last_activity >= (double)x->idle_ms / 1000.0;
}

static int any_busy(const files_ctx_t *x)
{
    for (size_t i = 0; i < x->n; i++)
        if (x->parties[i].busy && x->parties[i].c)
            return 1;
    return 0;
}

static void tick(files_ctx_t *x, party_t *p)
{
    double now = now_s();
    if (!p->c) {
        if (now < p->next_connect || stop_requested)
            return;
        if (connect_party(x, p) != 0) {
            if (x->once)
                x->errors++;
            return;
        }
    }
    double hb = heartbeat_s(p);
    if (p->busy && now - p->sent_at > (double)x->answer_timeout_ms / 1000.0) {
        logline("file", "party=%s file=%s result=retry reason=\"no answer within %ld ms\"", p->code, p->name,
                x->answer_timeout_ms);
        rescan_soon(p);
        disconnect(p, "no answer");
        return;
    }
    if (!p->busy && !stop_requested) {
        if (p->iq >= p->nq && now - p->last_scan >= (double)x->interval_ms / 1000.0)
            scan(p);
        take_next(x, p);
    }
    if (p->c && now - p->last_recv > 3 * hb && now - p->last_hello > 3 * hb)
        hello_again(p); /* heartbeats are answered even by a broker that forgot us: Hello tells */
    else if (p->c && now_s() - p->last_send > hb / 2) {
        knoop_client_heartbeat(p->c);
        p->last_send = now_s();
    }
}

static int run(files_ctx_t *x)
{
    x->last_activity = now_s();
    double stop_deadline = 0;
    for (;;) {
        if (stop_requested) {
            if (!stop_deadline)
                stop_deadline = now_s() + (double)x->answer_timeout_ms / 1000.0;
            if (!any_busy(x) || now_s() > stop_deadline)
                break;
        }
        for (size_t i = 0; i < x->n; i++)
            tick(x, &x->parties[i]);
        if (x->once && (all_quiet(x) || x->errors))
            break;
        zmq_pollitem_t items[MAX_PARTIES];
        party_t *who[MAX_PARTIES];
        int n = 0;
        for (size_t i = 0; i < x->n; i++) {
            if (!x->parties[i].c)
                continue;
            items[n] = (zmq_pollitem_t){knoop_client_socket(x->parties[i].c), 0, ZMQ_POLLIN, 0};
            who[n++] = &x->parties[i];
        }
        long wait = x->interval_ms < 100 ? x->interval_ms : 100;
        if (n == 0) {
            struct timespec ts = {0, wait * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (zmq_poll(items, n, wait) <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            party_t *p = who[i];
            Knoop__Frame *f;
            while (p->c && knoop_client_recv(p->c, 0, &f) == 0) {
                dispatch(x, p, f);
                knoop_client_frame_free(f);
            }
        }
    }
    for (size_t i = 0; i < x->n; i++) {
        party_t *p = &x->parties[i];
        if (p->c) {
            char stream[64];
            snprintf(stream, sizeof stream, "inbox.%s", p->code);
            Knoop__Unsubscribe u = KNOOP__UNSUBSCRIBE__INIT;
            u.stream = stream;
            Knoop__Frame f = KNOOP__FRAME__INIT;
            f.body_case = KNOOP__FRAME__BODY_UNSUBSCRIBE;
            f.unsubscribe = &u;
            send_frame(p, &f);
            knoop_client_destroy(&p->c);
        }
        free_queue(p);
    }
    return x->once && x->errors ? 1 : 0; /* a daemon reports its errors per file in the log */
}

static int add_party(files_ctx_t *x, const char *code)
{
    if (x->n == MAX_PARTIES || strlen(code) >= sizeof x->parties[0].code) {
        fprintf(stderr, "knoop-files: too many parties or party code too long: %s\n", code);
        return -1;
    }
    size_t len = strlen(code);
    int digits = len == 4 || len == 8;
    for (const char *s = code; *s; s++)
        digits = digits && *s >= '0' && *s <= '9';
    if (!digits) {
        fprintf(stderr, "knoop-files: party '%s' is not a party code (4 or 8 digits)\n", code);
        return -1;
    }
    snprintf(x->parties[x->n++].code, sizeof x->parties[0].code, "%s", code);
    return 0;
}

int main(int argc, char **argv)
{
    files_ctx_t *x = calloc(1, sizeof *x); /* owned by main: the one context of this process */
    if (!x)
        return 1;
    x->endpoint = "tcp://127.0.0.1:5570";
    x->subscriber = "files";
    x->interval_ms = 1000;
    x->idle_ms = 1000;
    x->answer_timeout_ms = 30000;
    x->credit = 16;
    x->fault = getenv("KNOOP_FILES_FAULT");
    static const struct option opts[] = {{"endpoint", required_argument, 0, 'e'},
                                         {"root", required_argument, 0, 'r'},
                                         {"party", required_argument, 0, 'p'},
                                         {"once", no_argument, 0, 'o'},
                                         {"interval", required_argument, 0, 'i'},
                                         {"idle", required_argument, 0, 'I'},
                                         {"subscriber", required_argument, 0, 's'},
                                         {"credit", required_argument, 0, 'c'},
                                         {"answer-timeout", required_argument, 0, 'a'},
                                         {"server-key", required_argument, 0, 'S'},
                                         {"key-dir", required_argument, 0, 'K'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int o, code = 2;
    while ((o = getopt_long(argc, argv, "e:h", opts, NULL)) != -1) {
        switch (o) {
        case 'e':
            x->endpoint = optarg;
            break;
        case 'r':
            x->root = optarg;
            break;
        case 'p':
            if (add_party(x, optarg) != 0)
                goto out;
            break;
        case 'o':
            x->once = 1;
            break;
        case 'i':
            x->interval_ms = atol(optarg);
            break;
        case 'I':
            x->idle_ms = atol(optarg);
            break;
        case 's':
            x->subscriber = optarg;
            break;
        case 'c':
            x->credit = atol(optarg);
            break;
        case 'a':
            x->answer_timeout_ms = atol(optarg);
            break;
        case 'S':
            x->server_key = optarg;
            break;
        case 'K':
            x->key_dir = optarg;
            break;
        case 'h':
            usage(stdout);
            code = 0;
            goto out;
        default:
            usage(stderr);
            goto out;
        }
    }
    for (int i = optind; i < argc; i++)
        if (add_party(x, argv[i]) != 0)
            goto out;
    if (!x->server_key != !x->key_dir) {
        fprintf(stderr, "knoop-files: CURVE needs both --server-key FILE and --key-dir DIR\n");
        goto out;
    }
    if (!x->root || x->n == 0 || x->interval_ms <= 0 || x->idle_ms < 0 || x->credit <= 0 || x->answer_timeout_ms <= 0) {
        usage(stderr);
        goto out;
    }
    for (size_t i = 0; i < x->n; i++) {
        if (party_dirs(x, &x->parties[i]) != 0) {
            code = 1;
            goto out;
        }
        char err[512];
        knoop_curve_client_keys_t k; /* a key missing or readable by others: said now, not at every retry */
        int rc = knoop_curve_client_keys(x->server_key, NULL, x->key_dir, x->parties[i].code, &k, err, sizeof err);
        sodium_memzero(&k, sizeof k);
        if (rc != 0) {
            fprintf(stderr, "knoop-files: %s\n", err);
            code = 1;
            goto out;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    code = run(x);
    logline("exit", "code=%d", code);
out:
    free(x);
    return code;
}
