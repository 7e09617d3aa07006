/* journal.c — the writer thread (group commit), the checkpointer thread and the loop-side completion path.
 * The loop queues ops; the writer takes everything queued (up to batch_max) into one BEGIN IMMEDIATE..COMMIT,
 * so the batch grows by itself with the load; only after COMMIT returns are the ops handed back as durable. */
#include "store/journal_sql.h"
#include "store/sql_errno.h"
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <sys/stat.h>
#include <time.h>
#include "store/journal_schema.h"
#include "base/log.h"

#define LATENCY_RING    4096
#define JTX_CACHE_SLOTS 256 /* a power of two, well above the writer statements the store files hold */

struct knoop_jtx {
    sqlite3 *db;
    /* The writer's prepared statements, keyed by the address of their SQL text (a string literal in the store
     * file that owns the statement): one key is one statement, so two call sites can never share a slot. */
    struct jtx_cached {
        const char *sql;
        sqlite3_stmt *st;
    } cache[JTX_CACHE_SLOTS];
    uint64_t seq; /* last seq assigned (committed or in this transaction) */
    /* Failure lines are rate-limited (writer thread): a full disk fails every op, and a client that publishes again
     * at once would otherwise write a log line per attempt. */
    uint64_t fail_log_us;      /* when the last failure line was written */
    uint64_t fail_unlogged;    /* failures since, not written */
    const uint8_t *data_key;   /* the journal's (journal.h: knoop_journal_options_t) */
    knoop_seal_buf_t seal_buf; /* owned: the value the writer sealed last */
    knoop_seal_buf_t open_buf; /* owned: the value the writer opened last */
};

struct knoop_journal {
    knoop_journal_options_t opt;
    char *path;            /* owned */
    knoop_jtx_t tx;        /* writer thread only */
    sqlite3 *reader;       /* loop thread only */
    sqlite3 *checkpointer; /* checkpointer thread only */

    pthread_mutex_t lock; /* guards everything below up to the stats */
    pthread_cond_t wake_writer;
    pthread_cond_t wake_checkpointer;
    knoop_jop_t *queue_head, *queue_tail;
    knoop_jop_t *done_head, *done_tail;
    uint64_t queue_len;
    uint64_t last_batch, last_commit_us; /* writer's memory for the adaptive gather */
    bool stopping;
    bool checkpoint_wanted;
    uint64_t stats_commits, stats_ops, stats_max_batch, stats_checkpoints;
    uint32_t latency_us[LATENCY_RING];

    pthread_t writer_thread, checkpointer_thread;
    uv_async_t completed; /* writer -> loop */
    void *loop_ctx;
    atomic_uint_fast64_t committed_seq;
    uint64_t pending;                       /* loop thread: submitted and not yet handed back */
    uint8_t data_key[KNOOP_SEAL_KEY_BYTES]; /* a copy, wiped when the journal is freed */
    uint8_t pseudonym_key[KNOOP_SEAL_KEY_BYTES];
    bool has_pseudonym_key;
    uint8_t previous_key[KNOOP_SEAL_KEY_BYTES]; /* only until the open: wiped once the keys are bound */
    bool has_previous_key;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

sqlite3_stmt *knoop_jtx_stmt(knoop_jtx_t *tx, const char *sql)
{
    size_t h = ((uintptr_t)sql >> 3) * 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < JTX_CACHE_SLOTS; i++) {
        struct jtx_cached *c = &tx->cache[(h + i) & (JTX_CACHE_SLOTS - 1)];
        if (c->sql == sql) {
            /* One slot, one statement: the SQL a slot was prepared from is the SQL asked for. */
            assert(strcmp(sqlite3_sql(c->st), sql) == 0);
            (void)sqlite3_reset(c->st);          /* repeats the last step's error, already handled by its caller */
            (void)sqlite3_clear_bindings(c->st); /* always SQLITE_OK */
            return c->st;
        }
        if (!c->sql) {
            if (sqlite3_prepare_v3(tx->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->st, NULL) != SQLITE_OK) {
                knoop_log_error("journal.prepare", "error=\"%s\"", sqlite3_errmsg(tx->db));
                c->st = NULL;
                return NULL;
            }
            c->sql = sql;
            return c->st;
        }
    }
    knoop_log_error("journal.prepare", "error=\"statement cache full (%d)\"", JTX_CACHE_SLOTS);
    return NULL;
}

sqlite3 *knoop_jtx_db(knoop_jtx_t *tx)
{
    return tx->db;
}

int knoop_jtx_errno(knoop_jtx_t *tx)
{
    int e = knoop_sql_errno(sqlite3_errcode(tx->db));
    return e ? e : -EIO;
}
uint64_t knoop_jtx_next_seq(knoop_jtx_t *tx)
{
    return ++tx->seq;
}
uint64_t knoop_jtx_peek_seq(const knoop_jtx_t *tx)
{
    return tx->seq + 1;
}

int knoop_jtx_seal(knoop_jtx_t *tx, const void *ad, size_t adlen, const void *plain, size_t len, const uint8_t **out,
                   size_t *outlen)
{
    return knoop_seal(&tx->seal_buf, tx->data_key, ad, adlen, plain, len, out, outlen);
}

/* A stored value that does not open under the journal's key was damaged or written under another key (the check
 * value at open rules the latter out for the whole journal): worth an error in the log, never its bytes. */
static int unsealed(int rc, const char *where)
{
    if (rc == -EBADMSG)
        knoop_log_error("journal.unseal_failed",
                        "connection=%s reason=\"a stored value does not open under the "
                        "data key: damaged, or not this journal's\"",
                        where);
    return rc;
}

int knoop_jtx_unseal(knoop_jtx_t *tx, const void *ad, size_t adlen, const void *sealed, size_t len, const uint8_t **out,
                     size_t *outlen)
{
    return unsealed(knoop_unseal(&tx->open_buf, tx->data_key, ad, adlen, sealed, len, out, outlen), "writer");
}

int knoop_journal_unseal(knoop_journal_t *j, knoop_seal_buf_t *buf, const void *ad, size_t adlen, const void *sealed,
                         size_t len, const uint8_t **out, size_t *outlen)
{
    return unsealed(knoop_unseal(buf, j->data_key, ad, adlen, sealed, len, out, outlen), "reader");
}

static int exec_simple(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* What an op's done hears when apply did not return 0. The store files say -EIO for "a statement failed"; the
 * connection still holds why, so a full disk reaches the publisher as -ENOSPC rather than a bare I/O error. */
static int apply_status(knoop_jtx_t *tx, int applied)
{
    if (applied > 0)
        return knoop_sql_errno(applied);
    if (applied == -EIO) {
        int why = knoop_sql_errno(sqlite3_extended_errcode(tx->db));
        if (why != 0)
            return why;
    }
    return applied;
}

#define FAIL_LOG_US 1000000 /* at most one failure line a second; the next one says how many were left out */

/* One line for a failed commit or op, unless one was written less than a second ago (then it is counted). */
static void log_failure(knoop_jtx_t *tx, const char *event, int status)
{
    uint64_t now = now_us();
    if (tx->fail_log_us && now - tx->fail_log_us < FAIL_LOG_US) {
        tx->fail_unlogged++;
        return;
    }
    knoop_log_error(event, "status=%d error=\"%s\" sqlite=\"%s\" not_logged_since=%llu", status,
                    strerror(status < 0 ? -status : EIO), sqlite3_errmsg(tx->db),
                    (unsigned long long)tx->fail_unlogged);
    tx->fail_log_us = now;
    tx->fail_unlogged = 0;
}

/* Ends a failed transaction. SQLite may have rolled it back already (a failed COMMIT on a full disk does). */
static void rollback(knoop_jtx_t *tx)
{
    if (sqlite3_get_autocommit(tx->db))
        return;
    int rc = exec_simple(tx->db, "ROLLBACK");
    if (rc != SQLITE_OK)
        knoop_log_error("journal.rollback", "error=\"%s\"", sqlite3_errmsg(tx->db));
}

/* Runs ops [head, count) in one transaction. On a failure the batch is rolled back and each op is retried in a
 * transaction of its own, so one bad op cannot fail its neighbours; each failed op's status says why (journal.h). */
static void commit_batch(knoop_journal_t *j, knoop_jop_t *head)
{
    knoop_jtx_t *tx = &j->tx;
    uint64_t seq_before = tx->seq;
    int rc = exec_simple(tx->db, "BEGIN IMMEDIATE");
    int failed = rc != SQLITE_OK;
    for (knoop_jop_t *op = head; op && !failed; op = op->next) {
        op->status = op->apply(tx, op);
        failed = op->status != 0;
    }
    if (!failed) {
        rc = exec_simple(tx->db, "COMMIT");
        if (rc == SQLITE_OK) {
            atomic_store(&j->committed_seq, tx->seq);
            return;
        }
        log_failure(tx, "journal.commit", knoop_sql_errno(rc));
    }
    rollback(tx);
    tx->seq = seq_before;
    for (knoop_jop_t *op = head; op; op = op->next) {
        uint64_t seq_op = tx->seq;
        rc = exec_simple(tx->db, "BEGIN IMMEDIATE");
        op->status = rc == SQLITE_OK ? apply_status(tx, op->apply(tx, op)) : knoop_sql_errno(rc);
        if (op->status == 0) {
            rc = exec_simple(tx->db, "COMMIT");
            if (rc == SQLITE_OK) {
                atomic_store(&j->committed_seq, tx->seq);
                continue;
            }
            op->status = knoop_sql_errno(rc);
        }
        log_failure(tx, "journal.op_failed", op->status);
        rollback(tx);
        tx->seq = seq_op;
    }
}

static void *writer_main(void *arg)
{
    knoop_journal_t *j = arg;
    pthread_mutex_lock(&j->lock);
    for (;;) {
        while (!j->queue_head && !j->stopping)
            pthread_cond_wait(&j->wake_writer, &j->lock);
        if (!j->queue_head && j->stopping)
            break;
        /* Adaptive gather: when the last batch was large and few ops are queued now, the producers are most likely
         * answering the acks of that batch right now. Waiting a fraction of a commit for them merges the batches
         * (64 + 64 instead of 64, 5, 59, 5, ...); with one message in flight (last batch 1) nothing ever waits. */
        if (!j->stopping && j->last_batch > 1 && j->queue_len < j->last_batch / 2) {
            uint64_t wait_us = j->last_commit_us / 2 < 2000 ? j->last_commit_us / 2 : 2000;
            struct timespec deadline;
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline.tv_nsec += (long)wait_us * 1000;
            deadline.tv_sec += deadline.tv_nsec / 1000000000;
            deadline.tv_nsec %= 1000000000;
            while (j->queue_len < j->last_batch && !j->stopping)
                if (pthread_cond_timedwait(&j->wake_writer, &j->lock, &deadline) != 0)
                    break;
        }
        /* Take up to batch_max ops: everything that queued while the last commit was running. */
        uint64_t t0 = now_us();
        knoop_jop_t *head = j->queue_head, *last = head;
        uint64_t n = 1;
        head->taken_us = t0;
        while (last->next && n < j->opt.batch_max) {
            last = last->next;
            last->taken_us = t0;
            n++;
        }
        j->queue_head = last->next;
        if (!j->queue_head)
            j->queue_tail = NULL;
        last->next = NULL;
        j->queue_len -= n;
        pthread_mutex_unlock(&j->lock);

        commit_batch(j, head);
        uint64_t t1 = now_us(), dt = t1 - t0;
        for (knoop_jop_t *op = head; op; op = op->next)
            op->committed_us = t1;

        pthread_mutex_lock(&j->lock);
        j->latency_us[j->stats_commits % LATENCY_RING] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
        j->stats_commits++;
        j->stats_ops += n;
        j->last_batch = n;
        j->last_commit_us = dt;
        if (n > j->stats_max_batch)
            j->stats_max_batch = n;
        if (j->done_tail)
            j->done_tail->next = head;
        else
            j->done_head = head;
        j->done_tail = last;
        int rc = uv_async_send(&j->completed);
        if (rc != 0) /* only while closing, which waits for this thread and then hands back what is left */
            knoop_log_error("journal.wake_loop", "error=\"%s\"", uv_strerror(rc));
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* SQLite calls this after each commit on the writer connection with the WAL size in pages; the checkpoint
 * itself runs on the checkpointer's connection so no commit ever waits for it. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    knoop_journal_t *j = arg;
    if ((uint64_t)pages >= j->opt.checkpoint_pages) {
        pthread_mutex_lock(&j->lock);
        if (!j->checkpoint_wanted) {
            j->checkpoint_wanted = true;
            pthread_cond_signal(&j->wake_checkpointer);
        }
        pthread_mutex_unlock(&j->lock);
    }
    return SQLITE_OK;
}

static void *checkpointer_main(void *arg)
{
    knoop_journal_t *j = arg;
    pthread_mutex_lock(&j->lock);
    for (;;) {
        while (!j->checkpoint_wanted && !j->stopping)
            pthread_cond_wait(&j->wake_checkpointer, &j->lock);
        if (j->stopping)
            break;
        j->checkpoint_wanted = false;
        pthread_mutex_unlock(&j->lock);
        int log_pages = 0, done_pages = 0;
        int rc = sqlite3_wal_checkpoint_v2(j->checkpointer, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &done_pages);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            knoop_log_warn("journal.checkpoint", "error=\"%s\"", sqlite3_errmsg(j->checkpointer));
        pthread_mutex_lock(&j->lock);
        j->stats_checkpoints++;
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* Loop thread: hand every completed op to its done callback. */
static void on_completed(uv_async_t *handle)
{
    knoop_journal_t *j = handle->data;
    pthread_mutex_lock(&j->lock);
    knoop_jop_t *op = j->done_head;
    j->done_head = j->done_tail = NULL;
    pthread_mutex_unlock(&j->lock);
    while (op) {
        knoop_jop_t *next = op->next;
        j->pending--;
        op->next = NULL;
        op->done(j->loop_ctx, op, op->status);
        op = next;
    }
}

static int open_db(const char *path, int flags, sqlite3 **db, const char *pragmas, char *errbuf, size_t errlen)
{
    int rc = sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(*db, 10000);
    if (rc == SQLITE_OK && pragmas)
        rc = sqlite3_exec(*db, pragmas, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "%s: %s", path, *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        sqlite3_close(*db); /* a failed open still allocates a handle; closing it frees it, whatever it returns */
        *db = NULL;
        return knoop_sql_errno(rc);
    }
    return 0;
}

/* The database and its WAL files are private to the daemon: a mode looser than 0600 (a file made before knoopd set
 * its umask, or copied in by an operator) is tightened, and said so, before anything else is written. */
static int make_private(const char *path, char *errbuf, size_t errlen)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char file[4200];
        struct stat st;
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        if (stat(file, &st) != 0) {
            if (errno == ENOENT && i > 0)
                continue; /* the WAL files come and go with the connections */
            int e = errno;
            snprintf(errbuf, errlen, "%s: %s", file, strerror(e));
            return -e;
        }
        if ((st.st_mode & 077) == 0)
            continue;
        if (chmod(file, 0600) != 0) {
            int e = errno;
            snprintf(errbuf, errlen, "%s: cannot make it private (mode 0600): %s", file, strerror(e));
            return -e;
        }
        knoop_log_warn("journal.mode_tightened", "file=\"%s\" was=%04o now=0600", file, (unsigned)(st.st_mode & 07777));
    }
    return 0;
}

/* The writer connection, with the schema brought up to date, the keys bound and the last seq read. secure_delete:
 * the purge's DELETE overwrites a removed row's bytes with zeros instead of leaving them in free space. */
static int open_writer(knoop_journal_t *j, char *errbuf, size_t errlen)
{
    int rc = open_db(j->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &j->tx.db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;"
                     "PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
                     "PRAGMA foreign_keys=OFF; PRAGMA secure_delete=ON;",
                     errbuf, errlen);
    if (rc != 0)
        return rc;
    /* journal_mode answers with the mode it got rather than failing: the reader beside the writer needs WAL. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->tx.db, "PRAGMA journal_mode", -1, &st, NULL) != SQLITE_OK) {
        snprintf(errbuf, errlen, "%s: %s", j->path, sqlite3_errmsg(j->tx.db));
        return -EIO;
    }
    bool wal = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
               strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!wal) {
        snprintf(errbuf, errlen, "%s: the file system does not support SQLite's WAL mode", j->path);
        return -EINVAL;
    }
    if ((rc = make_private(j->path, errbuf, errlen)) != 0)
        return rc;
    if (knoop_journal_migrate(j->tx.db, errbuf, errlen) != 0)
        return -EINVAL;
    rc = knoop_journal_bind_keys(j->tx.db, j->path, j->data_key, j->has_previous_key ? j->previous_key : NULL,
                                 j->has_pseudonym_key ? j->pseudonym_key : NULL, errbuf, errlen);
    sodium_memzero(j->previous_key, sizeof j->previous_key);
    if (rc != 0)
        return rc;
    rc = sqlite3_prepare_v2(j->tx.db, "SELECT coalesce(max(seq), 0) FROM messages", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            j->tx.seq = (uint64_t)sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK) {
        snprintf(errbuf, errlen, "%s: reading the last seq: %s", j->path, sqlite3_errmsg(j->tx.db));
        return rc == SQLITE_DONE ? -EIO : knoop_sql_errno(rc);
    }
    atomic_store(&j->committed_seq, j->tx.seq);
    return 0;
}

static int init_sync(knoop_journal_t *j, char *errbuf, size_t errlen)
{
    pthread_condattr_t cattr;
    int rc = pthread_mutex_init(&j->lock, NULL);
    if (rc == 0 && (rc = pthread_condattr_init(&cattr)) == 0) {
        if ((rc = pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC)) == 0 &&
            (rc = pthread_cond_init(&j->wake_writer, &cattr)) == 0 &&
            (rc = pthread_cond_init(&j->wake_checkpointer, NULL)) != 0)
            pthread_cond_destroy(&j->wake_writer);
        pthread_condattr_destroy(&cattr);
        if (rc != 0)
            pthread_mutex_destroy(&j->lock);
    }
    if (rc != 0)
        snprintf(errbuf, errlen, "journal locks: %s", strerror(rc));
    return -rc;
}

static void close_connections(knoop_journal_t *j)
{
    for (int i = 0; i < JTX_CACHE_SLOTS; i++)
        sqlite3_finalize(j->tx.cache[i].st); /* returns the statement's last error, handled when it happened */
    /* A statement still prepared keeps its connection (and its memory) alive: close for real. */
    sqlite3 *conns[] = {j->tx.db, j->reader, j->checkpointer};
    for (int i = 0; i < 3; i++) {
        if (!conns[i])
            continue;
        sqlite3_stmt *left;
        while ((left = sqlite3_next_stmt(conns[i], NULL)) != NULL) {
            knoop_log_debug("journal.close", "finalizing a statement left open: %s", sqlite3_sql(left));
            sqlite3_finalize(left);
        }
        if (sqlite3_close(conns[i]) != SQLITE_OK)
            knoop_log_error("journal.close", "error=\"%s\"", sqlite3_errmsg(conns[i]));
    }
}

/* Stops the threads that run (writer, checkpointer): they finish what they hold first. */
static void stop_threads(knoop_journal_t *j, bool writer, bool checkpointer)
{
    pthread_mutex_lock(&j->lock);
    j->stopping = true;
    pthread_cond_broadcast(&j->wake_writer);
    pthread_cond_broadcast(&j->wake_checkpointer);
    pthread_mutex_unlock(&j->lock);
    int rc;
    if (writer && (rc = pthread_join(j->writer_thread, NULL)) != 0)
        knoop_log_error("journal.close", "thread=writer error=\"%s\"", strerror(rc));
    if (checkpointer && (rc = pthread_join(j->checkpointer_thread, NULL)) != 0)
        knoop_log_error("journal.close", "thread=checkpointer error=\"%s\"", strerror(rc));
}

static void free_journal(knoop_journal_t *j)
{
    close_connections(j);
    knoop_seal_buf_free(&j->tx.seal_buf);
    knoop_seal_buf_free(&j->tx.open_buf);
    sodium_memzero(j->data_key, sizeof j->data_key);
    sodium_memzero(j->pseudonym_key, sizeof j->pseudonym_key);
    sodium_memzero(j->previous_key, sizeof j->previous_key);
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->wake_writer);
    pthread_cond_destroy(&j->wake_checkpointer);
    free(j->path);
    free(j);
}

static void on_async_closed(uv_handle_t *h)
{
    free_journal(h->data);
}

int knoop_journal_open(const knoop_journal_options_t *opt, uv_loop_t *loop, void *loop_ctx, knoop_journal_t **out,
                       char *errbuf, size_t errlen)
{
    *out = NULL;
    if (!opt->data_key) {
        snprintf(errbuf, errlen, "%s: no data key to seal the journal's payloads with", opt->path);
        return -EINVAL;
    }
    knoop_journal_t *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(opt->path))) {
        free(j);
        snprintf(errbuf, errlen, "out of memory");
        return -ENOMEM;
    }
    j->opt = *opt;
    j->opt.data_key = j->opt.pseudonym_key = j->opt.data_key_previous = NULL; /* the copies below are the journal's */
    if (opt->data_key_previous) {
        memcpy(j->previous_key, opt->data_key_previous, sizeof j->previous_key);
        j->has_previous_key = true;
    }
    memcpy(j->data_key, opt->data_key, sizeof j->data_key);
    j->tx.data_key = j->data_key;
    if (opt->pseudonym_key) {
        memcpy(j->pseudonym_key, opt->pseudonym_key, sizeof j->pseudonym_key);
        j->has_pseudonym_key = true;
    }
    j->loop_ctx = loop_ctx;
    int rc = init_sync(j, errbuf, errlen);
    if (rc != 0) {
        sodium_memzero(j->data_key, sizeof j->data_key);
        sodium_memzero(j->pseudonym_key, sizeof j->pseudonym_key);
        sodium_memzero(j->previous_key, sizeof j->previous_key);
        free(j->path);
        free(j);
        return rc;
    }
    rc = open_writer(j, errbuf, errlen);
    if (rc == 0)
        rc = open_db(j->path, SQLITE_OPEN_READWRITE, &j->reader, "PRAGMA query_only=1; PRAGMA cache_size=-32768;",
                     errbuf, errlen);
    if (rc == 0)
        rc = open_db(j->path, SQLITE_OPEN_READWRITE, &j->checkpointer, NULL, errbuf, errlen);
    if (rc == 0 && (rc = uv_async_init(loop, &j->completed, on_completed)) != 0)
        snprintf(errbuf, errlen, "journal wake-up handle: %s", uv_strerror(rc));
    if (rc != 0) {
        free_journal(j);
        return rc;
    }
    j->completed.data = j;
    sqlite3_wal_hook(j->tx.db, wal_hook, j); /* returns the previous hook's argument, not a status */
    bool writer = false;
    if ((rc = pthread_create(&j->writer_thread, NULL, writer_main, j)) == 0) {
        writer = true;
        rc = pthread_create(&j->checkpointer_thread, NULL, checkpointer_main, j);
    }
    if (rc != 0) { /* the handle closes (and frees the journal) when the caller runs the loop */
        snprintf(errbuf, errlen, "journal threads: %s", strerror(rc));
        stop_threads(j, writer, false);
        uv_close((uv_handle_t *)&j->completed, on_async_closed);
        return -rc;
    }
    *out = j;
    return 0;
}

void knoop_journal_submit(knoop_journal_t *j, knoop_jop_t *op)
{
    op->next = NULL;
    op->queued_us = now_us();
    j->pending++;
    pthread_mutex_lock(&j->lock);
    if (j->queue_tail)
        j->queue_tail->next = op;
    else
        j->queue_head = op;
    j->queue_tail = op;
    j->queue_len++;
    pthread_cond_signal(&j->wake_writer);
    pthread_mutex_unlock(&j->lock);
}

uint64_t knoop_journal_pending(const knoop_journal_t *j)
{
    return j->pending;
}
sqlite3 *knoop_journal_reader(knoop_journal_t *j)
{
    return j->reader;
}
uint64_t knoop_journal_last_seq(const knoop_journal_t *j)
{
    return atomic_load(&j->committed_seq);
}

int64_t knoop_journal_db_bytes(knoop_journal_t *j)
{
    struct stat st;
    int64_t total = 0;
    char wal[4200];
    if (stat(j->path, &st) == 0)
        total += st.st_size;
    snprintf(wal, sizeof wal, "%s-wal", j->path);
    if (stat(wal, &st) == 0)
        total += st.st_size;
    return total;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void knoop_journal_stats(knoop_journal_t *j, knoop_journal_stats_t *out)
{
    static uint32_t sorted[LATENCY_RING]; /* loop thread only; kept off the stack */
    pthread_mutex_lock(&j->lock);
    out->commits = j->stats_commits;
    out->ops = j->stats_ops;
    out->max_batch = j->stats_max_batch;
    out->checkpoints = j->stats_checkpoints;
    size_t n = j->stats_commits < LATENCY_RING ? j->stats_commits : LATENCY_RING;
    memcpy(sorted, j->latency_us, n * sizeof *sorted);
    pthread_mutex_unlock(&j->lock);
    qsort(sorted, n, sizeof *sorted, cmp_u32);
    out->commit_us_p50 = n ? sorted[n / 2] : 0;
    out->commit_us_p99 = n ? sorted[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] : 0;
    out->last_seq = knoop_journal_last_seq(j);
}

void knoop_journal_close(knoop_journal_t **journal)
{
    if (!journal || !*journal)
        return;
    knoop_journal_t *j = *journal;
    *journal = NULL;
    stop_threads(j, true, true);
    on_completed(&j->completed); /* whatever the last commit handed back */
    if (j->tx.fail_unlogged)
        knoop_log_error("journal.failures", "not_logged_since=%llu at=close", (unsigned long long)j->tx.fail_unlogged);
    /* A final checkpoint so the next start opens a small WAL; TRUNCATE resets the file. It fails on a full disk (the
     * database file cannot grow): nothing is lost — every commit is in the WAL, which the next start replays — but
     * the operator should know why the WAL stayed large. */
    int log_pages = -1, done_pages = -1;
    int rc = sqlite3_wal_checkpoint_v2(j->tx.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_pages, &done_pages);
    if (rc != SQLITE_OK)
        knoop_log_error("journal.checkpoint_failed",
                        "at=close error=\"%s\" status=%d wal_pages=%d checkpointed=%d note=\"nothing is lost: the "
                        "next start replays the WAL; free disk space\"",
                        sqlite3_errmsg(j->tx.db), knoop_sql_errno(rc), log_pages, done_pages);
    uv_close((uv_handle_t *)&j->completed, on_async_closed);
}
