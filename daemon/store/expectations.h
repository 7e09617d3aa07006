/* expectations.h — the `expectations` table (the open iWmo/iJw deadlines) behind typed calls: the writer side runs
 * inside a journal op's apply (knoop_jtx_t), the reader side on the loop thread; no caller sees SQL. */
#ifndef KNOOP_STORE_EXPECTATIONS_H
#define KNOOP_STORE_EXPECTATIONS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* One row. Texts are NUL-terminated and truncated to their field. */
typedef struct knoop_store_expectation {
    int64_t id;           /* assigned by the table (reads only) */
    uint64_t trigger_seq; /* the message that opened it (reads only: an open takes it from the transaction) */
    char kind[24];        /* "retour", "answer", ... (legacy/deadlines.h) */
    char trigger_type[8]; /* "WMO315" */
    char trigger_id[16];  /* the trigger's Identificatie */
    char owed_by[16];     /* the party that owes the answer */
    char owed_to[16];
    char expected[24]; /* message types that fulfil it, comma-separated: "WMO301,WMO319" */
    char due[11];      /* the last (Amsterdam) day on which it is on time, YYYY-MM-DD */
} knoop_store_expectation_t;

/* ---- writer side: inside an apply callback; 0 or a negative errno (journal.h: storage errors) ---- */

/* Opens one expectation, triggered by the message of seq. */
int knoop_store_expectation_open(knoop_jtx_t *tx, uint64_t seq, const knoop_store_expectation_t *e);
/* Closes, as fulfilled by the message of seq, the open expectation of this kind and trigger type owed by owed_by to
 * owed_to: the one whose trigger Identificatie is correlation when there is one (correlation may be "" or NULL),
 * else the oldest. *closed says whether one was open (may be NULL). */
int knoop_store_expectation_close(knoop_jtx_t *tx, uint64_t seq, const char *kind, const char *trigger_type,
                                  const char *owed_by, const char *owed_to, const char *correlation, bool *closed);
/* Marks an expectation alerted, in the transaction of its alert: it raises no second one, also after a restart. */
int knoop_store_expectation_alerted(knoop_jtx_t *tx, int64_t id);

/* ---- reader side: the loop thread ---- */

/* Open, not yet alerted expectations whose due day is before today (YYYY-MM-DD), the longest overdue first (then by
 * id): at most max into out, read from an index without sorting. Returns how many, or a negative errno. */
int knoop_store_expectations_overdue(knoop_journal_t *j, const char *today, knoop_store_expectation_t *out, size_t max);
#endif
