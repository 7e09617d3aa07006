/* journal_sql.h — the journal's SQLite side, for the files of daemon/store/ only (the layer check refuses
 * sqlite3 anywhere else): the writer's cached statements inside an apply callback, and the reader connection. */
#ifndef KNOOP_STORE_JOURNAL_SQL_H
#define KNOOP_STORE_JOURNAL_SQL_H
#include <sqlite3.h>
#include "base/seal.h"
#include "store/journal.h"

/* For apply callbacks: the writer connection's prepared statement for sql, reset and with its bindings cleared.
 * Cached by the address of sql, so pass a string literal (the same text at two call sites may share a statement,
 * never two texts). */
sqlite3_stmt *knoop_jtx_stmt(knoop_jtx_t *tx, const char *sql);
sqlite3 *knoop_jtx_db(knoop_jtx_t *tx);
/* The writer connection's last error as a negative errno (-EIO when SQLite names none): what an apply callback returns
 * when knoop_jtx_stmt gave no statement. */
int knoop_jtx_errno(knoop_jtx_t *tx);

/* A SQLite result code as a negative errno: store/sql_errno.h (knoop_sql_errno). */
#include "store/sql_errno.h"

/* The read connection (loop thread only). */
sqlite3 *knoop_journal_reader(knoop_journal_t *j);

/* Client data at rest (base/seal.h) under the journal's data key. The writer seals into its own buffer (*out valid
 * until its next seal) and opens into another; a reader opens into a buffer it owns. ad names the row the value
 * belongs to (a message's message_id, a ledger set's client and provider). -EBADMSG: not sealed under this key for
 * this row. */
int knoop_jtx_seal(knoop_jtx_t *tx, const void *ad, size_t adlen, const void *plain, size_t len, const uint8_t **out,
                   size_t *outlen);
int knoop_jtx_unseal(knoop_jtx_t *tx, const void *ad, size_t adlen, const void *sealed, size_t len, const uint8_t **out,
                     size_t *outlen);
int knoop_journal_unseal(knoop_journal_t *j, knoop_seal_buf_t *buf, const void *ad, size_t adlen, const void *sealed,
                         size_t len, const uint8_t **out, size_t *outlen);

/* journal_keys.c: at open, on the writer connection: the check values of the keys (stored when absent, compared when
 * present); the payloads of a journal written before sealing existed sealed in place; with previous_key (may be
 * NULL) the rotation of a journal sealed under it to data_key. 0 or a negative errno (-EKEYREJECTED: a key is not
 * the journal's) with errbuf set. */
int knoop_journal_bind_keys(sqlite3 *db, const char *path, const uint8_t *data_key, const uint8_t *previous_key,
                            const uint8_t *pseudonym_key, char *errbuf, size_t errlen);
/* The associated data of a ledger set: "ledger", the client reference and the provider, in out (at least 128 bytes).
 * Returns its length. */
size_t knoop_ledger_seal_ad(const uint8_t *client_ref, size_t client_ref_len, const char *provider, uint8_t *out);
#endif
