/* audit_reads.h — the audit of reads: a row per delivery in audit_reads (when, which message, who by reader id, which
 * attempt, and the message's client reference, kept with the row so the record outlives the message), the readers (party, stream, subscriber) they point to, and the one
 * question asked of both audit tables: every access to one client's data, newest first. */
#ifndef KNOOP_STORE_AUDIT_READS_H
#define KNOOP_STORE_AUDIT_READS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* Writer thread: the id of reader (party, stream, subscriber), made on first use. 0 or a negative errno. */
int knoop_store_audit_reader(knoop_jtx_t *tx, const char *party, const char *stream, const char *subscriber,
                             int64_t *id);
/* One delivery: message seq to reader (an index into the caller's reader ids), about client_ref when has_ref. */
typedef struct knoop_store_read {
    uint64_t seq;
    int64_t at_us;
    uint32_t reader;
    uint32_t attempt;
    bool has_ref;
    uint8_t client_ref[32];
} knoop_store_read_t;
/* Writer thread: a row per delivery, reader_ids[rows[i].reader] naming who received it. Rows go in as multi-row
 * INSERTs (32 a statement), which halves SQLite's cost per row. 0 or a negative errno. */
int knoop_store_audit_reads(knoop_jtx_t *tx, const knoop_store_read_t *rows, size_t n, const int64_t *reader_ids);

/* One access to a client's data: a delivery (source "delivery": who is the receiving party, stream and subscriber
 * set) or an operator's command (source "control": who is the actor, action and detail set). Borrowed for the
 * callback only. */
typedef struct knoop_store_access {
    int64_t at_us;
    const char *source, *who, *action, *stream, *subscriber, *detail;
    uint64_t seq;     /* delivery: the message */
    uint32_t attempt; /* delivery: which delivery of it */
} knoop_store_access_t;
typedef void (*knoop_store_access_fn)(void *ctx, const knoop_store_access_t *a);

/* Loop thread (reader connection): the accesses to the client with reference ref (32 bytes) in both audit tables,
 * newest first, at most limit; each table is read along its client index and the two are merged, so at most limit
 * rows of each are looked at. Returns 0 or -EIO (err says why). */
int knoop_store_audit_client(knoop_journal_t *j, const uint8_t *ref, int64_t limit, knoop_store_access_fn fn, void *ctx,
                             char *err, size_t errlen);
#endif
