/* journal.h — the durable journal: one SQLite database (WAL, synchronous=FULL) written by ONE writer thread that
 * group-commits every operation queued while the previous commit ran; reads go through a separate connection. */
#ifndef KNOOP_JOURNAL_H
#define KNOOP_JOURNAL_H
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct knoop_journal knoop_journal_t;
typedef struct knoop_jtx knoop_jtx_t; /* the writer's open transaction, seen only by apply callbacks */
typedef struct knoop_jop knoop_jop_t;

/* One unit of work for the writer. Modules embed it as the FIRST member of their own op struct.
 * apply runs on the writer thread inside the transaction (return 0 or a negative errno / SQLite error);
 * done runs on the loop thread once the transaction is durable (status 0) or failed, and owns the op from then.
 *
 * A failed status is a negative errno that says what the caller can act on. When SQLite failed (BEGIN, a statement
 * of apply that returned -EIO or a SQLite code, or COMMIT), the engine maps its result code:
 *   SQLITE_FULL                 -> -ENOSPC   the disk (or the database's size limit) is full
 *   SQLITE_IOERR_*              -> -EIO      the disk failed a read or write
 *   SQLITE_READONLY_*           -> -EROFS    the database cannot be written (file, directory or mount read-only)
 *   SQLITE_CORRUPT_*, NOTADB    -> -EUCLEAN  the database file is damaged
 *   SQLITE_NOMEM                -> -ENOMEM
 *   SQLITE_BUSY_*, SQLITE_LOCKED_* -> -EBUSY another connection holds the lock beyond the busy timeout
 *   SQLITE_CONSTRAINT_*         -> -EEXIST   a row broke a uniqueness or other constraint
 *   SQLITE_TOOBIG               -> -EMSGSIZE a value is larger than SQLite takes
 *   anything else               -> -EIO
 * (store/sql_errno.h, the one mapping every store file uses.)
 * Any other negative errno an apply returns (-EINVAL: a row the op refused) reaches done unchanged. */
struct knoop_jop {
    knoop_jop_t *next;
    int (*apply)(knoop_jtx_t *tx, knoop_jop_t *op);
    void (*done)(void *loop_ctx, knoop_jop_t *op, int status);
    int status;
    /* When (CLOCK_MONOTONIC, microseconds) the op was queued (submit), taken into a batch by the writer and that
     * batch's COMMIT returned (or the batch failed): one clock read per batch, shared by its ops, so whoever answers
     * the op can tell waiting for the writer from committing. */
    uint64_t queued_us, taken_us, committed_us;
};

typedef struct knoop_journal_stats {
    uint64_t commits; /* transactions committed */
    uint64_t ops;     /* operations committed */
    uint64_t max_batch;
    uint64_t commit_us_p99; /* over the last 4096 commits */
    uint64_t commit_us_p50;
    uint64_t checkpoints;
    uint64_t last_seq;
} knoop_journal_stats_t;

typedef struct knoop_journal_options {
    const char *path;          /* the database file */
    uint64_t batch_max;        /* most ops per transaction */
    uint64_t checkpoint_pages; /* WAL pages that wake the checkpointer */
    /* Required, 32 bytes (copied): the data key. Every message envelope and ledger set is sealed with it at rest
     * (base/seal.h); the journal keeps its check value and refuses to open under another key. */
    const uint8_t *data_key;
    /* 32 bytes or NULL: the data key being rotated away from. A journal sealed under it is sealed anew under data_key
     * at open, in one transaction (docs/operations.md: rotating the data key). */
    const uint8_t *data_key_previous;
    /* 32 bytes or NULL: the pseudonymisation key, whose check value the journal keeps likewise, so a changed key is
     * refused at start instead of silently making every client reference stop matching. */
    const uint8_t *pseudonym_key;
} knoop_journal_options_t;

/* What start-up needs to know of a journal before its keys are loaded: may a missing key be made anew? */
typedef struct knoop_journal_facts {
    bool exists;              /* the database file is there */
    bool has_data;            /* it holds messages, ledger sets or route state */
    bool data_key_known;      /* it holds a data key check value: its payloads are sealed under that key */
    bool pseudonym_key_known; /* it holds a pseudonymisation key check value */
} knoop_journal_facts_t;
/* Reads the facts without changing the file (and without creating it). 0, or a negative errno with errbuf set. */
int knoop_journal_inspect(const char *path, knoop_journal_facts_t *out, char *errbuf, size_t errlen);

/* Opens (creating and migrating) the database and starts the writer and checkpointer threads. on_done is
 * signalled through loop, and calls each completed op's done(loop_ctx, ...). The files are made private (0600) and
 * the keys checked against the journal's check values: -EKEYREJECTED when a key is not the journal's. */
int knoop_journal_open(const knoop_journal_options_t *opt, uv_loop_t *loop, void *loop_ctx, knoop_journal_t **out,
                       char *errbuf, size_t errlen);
/* Waits for every queued op to commit and be handed back (their done callbacks run through the loop), stops the
 * threads, closes both connections. Call after the loop has delivered the last completions: see broker.c. */
void knoop_journal_close(knoop_journal_t **journal);
/* Queues one op (loop thread). */
void knoop_journal_submit(knoop_journal_t *j, knoop_jop_t *op);

/* For apply callbacks that write a message row (store/messages.h, a dead letter's retry): */
uint64_t knoop_jtx_next_seq(knoop_jtx_t *tx);       /* assigns the next message seq inside this transaction */
uint64_t knoop_jtx_peek_seq(const knoop_jtx_t *tx); /* the seq next_seq would assign, without assigning it */

/* Number of ops queued or being committed (loop thread, for shutdown). */
uint64_t knoop_journal_pending(const knoop_journal_t *j);
void knoop_journal_stats(knoop_journal_t *j, knoop_journal_stats_t *out);
uint64_t knoop_journal_last_seq(const knoop_journal_t *j); /* last committed seq, loop thread */
int64_t knoop_journal_db_bytes(knoop_journal_t *j);

#endif
