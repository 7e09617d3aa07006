/* journal_sql.h — the journal's SQLite side, for the files of daemon/store/ only (the layer check refuses
 * sqlite3 anywhere else): the writer's cached statements inside an apply callback, and the reader connection. */
#ifndef KNOOP_STORE_JOURNAL_SQL_H
#define KNOOP_STORE_JOURNAL_SQL_H
#include <sqlite3.h>
#include "store/journal.h"

/* For apply callbacks: the writer connection's prepared statement for sql, reset and with its bindings cleared.
 * Cached by the address of sql, so pass a string literal (the same text at two call sites may share a statement,
 * never two texts). */
sqlite3_stmt *knoop_jtx_stmt(knoop_jtx_t *tx, const char *sql);
sqlite3 *knoop_jtx_db(knoop_jtx_t *tx);
uint64_t knoop_jtx_next_seq(knoop_jtx_t *tx);       /* assigns the next message seq inside this transaction */
uint64_t knoop_jtx_peek_seq(const knoop_jtx_t *tx); /* the seq next_seq would assign, without assigning it */

/* A SQLite result code as a negative errno: store/sql_errno.h (knoop_sql_errno). */
#include "store/sql_errno.h"

/* The read connection (loop thread only). */
sqlite3 *knoop_journal_reader(knoop_journal_t *j);
#endif
