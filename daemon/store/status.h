/* status.h — the journal figures `knoopctl status` shows that only the database knows: the oldest and newest
 * retained message. Two look-ups on the primary key, so the answer costs the same for ten messages or ten million. */
#ifndef KNOOP_STORE_STATUS_H
#define KNOOP_STORE_STATUS_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

typedef struct knoop_store_span {
    uint64_t first_seq, last_seq; /* 0, 0: no message retained */
    uint64_t retained; /* last - first + 1: seqs are assigned densely and purged oldest first, so this is the count
                        * but for the holes a per-kind retention or a dlq retry (which moves a message) leaves */
} knoop_store_span_t;

/* Loop thread (reader connection). Returns 0, or -EIO with err set. */
int knoop_store_message_span(knoop_journal_t *j, knoop_store_span_t *out, char *err, size_t errlen);
/* Open iWmo/iJw expectations whose due day (YYYY-MM-DD) is before today, alerted or not: a range count on the index
 * of open expectations (closed_seq, due), so it costs what is overdue, not what is open. Loop thread; the count or a
 * negative errno. */
int64_t knoop_store_overdue_count(knoop_journal_t *j, const char *today);
#endif
