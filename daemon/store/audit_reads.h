/* audit_reads.h — the audit of reads: a row per delivery in audit_reads (when, which message, who by reader id, which
 * attempt, and the message's client reference, kept with the row so the record outlives the message), the readers (party, stream, subscriber) they point to, and the one
 * question asked of both audit tables: every access to one client's data, newest first. */
#ifndef KNOOP_STORE_AUDIT_READS_H
#define KNOOP_STORE_AUDIT_READS_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* Writer thread: the id of reader (party, stream, subscriber), made on first use. 0 or a negative errno. */
int knoop_store_audit_reader(knoop_jtx_t *tx, const char *party, const char *stream, const char *subscriber,
                             int64_t *id);
/* Writer thread: one delivery of message seq to reader, about the client client_ref (32 bytes, or NULL: none). */
int knoop_store_audit_read(knoop_jtx_t *tx, int64_t at_us, uint64_t seq, int64_t reader, uint32_t attempt,
                           const uint8_t *client_ref);

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
