/* op_retry.h — delivery's journal writes that failed (attempt counts, dead letters) wait here and are submitted
 * again after a backoff shared by all of them (100 ms doubling to 10 s), never at once: a full disk costs a few
 * failed transactions a second, not a loop. While the broker stops they get one more try, then are given up. */
#ifndef KNOOP_DELIVER_OP_RETRY_H
#define KNOOP_DELIVER_OP_RETRY_H
#include <stddef.h>
#include "core/broker.h"

#define KNOOP_OP_RETRY_MAX 65536 /* failed writes kept at most; beyond, new failures are given up (logged) */

/* The head of a retryable op: embed it as the FIRST member of the op struct (its own first member is the jop). */
typedef struct knoop_retry_op {
    knoop_jop_t op;
    struct knoop_retry_op *next_retry;
    const char *what; /* "attempts", "dead_letter": for the log */
    /* Frees the op, after logging what is lost with it (at error level when it is more than a count). */
    void (*give_up)(knoop_broker_t *b, struct knoop_retry_op *r);
} knoop_retry_op_t;

/* From an op's done with a failed status: keeps it for the next round (or gives it up: stopping, list full). */
void knoop_op_retry_later(knoop_broker_t *b, knoop_retry_op_t *r, int status);
/* From an op's done with status 0: the journal writes again (ends the backoff, logs the recovery once). */
void knoop_op_retry_succeeded(knoop_broker_t *b);
/* The delivery tick: submits the waiting ops when their round is due (and at once, once, when the broker stops). */
void knoop_op_retry_tick(knoop_broker_t *b);
/* Writes waiting now (status, tests). */
size_t knoop_op_retry_waiting(const knoop_broker_t *b);
/* Gives up every waiting op (logged) and frees the list: at the stop, after the journal closed. */
void knoop_op_retry_free(knoop_broker_t *b);
#endif
