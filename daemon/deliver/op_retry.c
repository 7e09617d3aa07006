/* op_retry.c — the waiting list of delivery's failed journal writes and its one backoff. A round submits every
 * waiting op; the first failure coming back from a round doubles the delay, the first success ends the backoff.
 * Logging follows the rounds (failures 1, 2, 4, 8 ...), so a disk that stays full for an hour adds a dozen lines. */
#include "deliver/op_retry.h"
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "base/clock.h"
#include "base/log.h"

#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS   10000

struct knoop_op_retry {
    knoop_retry_op_t *head, *tail; /* owned: the waiting ops, oldest first */
    size_t len;
    uint64_t due_ms;
    uint32_t failures; /* rounds failed in a row */
    bool round_out;    /* a round was submitted; its first failure counts */
    bool stop_round;   /* the one round after the broker began to stop was submitted */
    uint64_t given_up; /* ops given up because the list was full, since the last log */
};

static struct knoop_op_retry *state(knoop_broker_t *b)
{
    if (!b->op_retry)
        b->op_retry = calloc(1, sizeof *b->op_retry);
    return b->op_retry;
}

static uint64_t backoff_ms(uint32_t failures)
{
    uint64_t d = RETRY_FIRST_MS;
    for (uint32_t i = 1; i < failures && d < RETRY_MAX_MS; i++)
        d *= 2;
    return d < RETRY_MAX_MS ? d : RETRY_MAX_MS;
}

static bool power_of_two(uint32_t n)
{
    return n && !(n & (n - 1));
}

void knoop_op_retry_later(knoop_broker_t *b, knoop_retry_op_t *r, int status)
{
    struct knoop_op_retry *st = state(b);
    if (!st || b->stopping) { /* stopping: the stop round failed too, or it came in afterwards */
        r->give_up(b, r);
        return;
    }
    if (st->len >= KNOOP_OP_RETRY_MAX) {
        if (st->given_up++ == 0)
            knoop_log_error("delivery.write_given_up", "what=%s reason=\"%zu failed writes wait already\"", r->what,
                            st->len);
        r->give_up(b, r);
        return;
    }
    r->next_retry = NULL;
    if (st->tail)
        st->tail->next_retry = r;
    else
        st->head = r;
    st->tail = r;
    st->len++;
    uint64_t now = knoop_now_ms();
    if (st->failures == 0 || st->round_out) {
        st->failures++;
        st->round_out = false;
        st->due_ms = now + backoff_ms(st->failures);
        if (power_of_two(st->failures))
            knoop_log_error("delivery.write_failed",
                            "what=%s error=\"%s\" failures=%" PRIu32 " waiting=%zu retry_in_ms=%" PRIu64, r->what,
                            strerror(status < 0 ? -status : EIO), st->failures, st->len, st->due_ms - now);
    }
}

void knoop_op_retry_succeeded(knoop_broker_t *b)
{
    struct knoop_op_retry *st = b->op_retry;
    if (!st || st->failures == 0)
        return;
    knoop_log_info("delivery.write_recovered", "failures=%" PRIu32 " waiting=%zu", st->failures, st->len);
    st->failures = 0;
    st->round_out = false;
    st->due_ms = 0; /* what still waits goes with the next tick */
    if (st->given_up)
        knoop_log_warn("delivery.write_given_up", "count=%" PRIu64 " note=\"attempt counts not stored\"", st->given_up);
    st->given_up = 0;
}

void knoop_op_retry_tick(knoop_broker_t *b)
{
    struct knoop_op_retry *st = b->op_retry;
    if (!st || !st->head || !b->journal)
        return;
    bool stop_round = b->stopping && !st->stop_round;
    if (!stop_round && knoop_now_ms() < st->due_ms)
        return;
    if (b->stopping)
        st->stop_round = true;
    knoop_retry_op_t *r = st->head;
    st->head = st->tail = NULL;
    st->len = 0;
    st->round_out = true;
    while (r) {
        knoop_retry_op_t *next = r->next_retry;
        knoop_journal_submit(b->journal, &r->op);
        r = next;
    }
}

size_t knoop_op_retry_waiting(const knoop_broker_t *b)
{
    return b->op_retry ? b->op_retry->len : 0;
}

void knoop_op_retry_free(knoop_broker_t *b)
{
    struct knoop_op_retry *st = b->op_retry;
    if (!st)
        return;
    if (st->len)
        knoop_log_error("delivery.writes_given_up",
                        "count=%zu reason=\"the broker stopped before the journal "
                        "could take them\"",
                        st->len);
    knoop_retry_op_t *r = st->head;
    while (r) {
        knoop_retry_op_t *next = r->next_retry;
        r->give_up(b, r);
        r = next;
    }
    free(st);
    b->op_retry = NULL;
}
