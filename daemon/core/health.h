/* health.h — is this knoopd ready to take messages, and if not, why: the journal takes writes (a probe row written
 * every health_check_interval_ms, and every message commit), the data directory's disk has room, checkpoints keep up
 * (the WAL's size), and it is neither draining nor stopping. `knoopctl health` and /healthz both read it. */
#ifndef KNOOP_CORE_HEALTH_H
#define KNOOP_CORE_HEALTH_H
#include <stdbool.h>
#include <stdint.h>

struct knoop_broker;

/* The loop's memory of the journal's writes; zero-initialised is valid (nothing failed yet). */
typedef struct knoop_health {
    int journal_status;       /* the last storage outcome (probe or message commit): 0 or a negative errno */
    uint64_t journal_fail_ms; /* when it last failed */
    bool probe_in_flight;
    uint64_t probe_sent_ms, probe_ok_ms;
} knoop_health_t;

typedef struct knoop_health_report {
    bool ready;
    char reasons[768];   /* why not, "; "-separated ("" when ready) */
    uint64_t free_bytes; /* on the data directory's file system (0 when unknown) */
    uint64_t wal_bytes;
    int journal_status;
    uint64_t probe_ok_ms; /* wall-clock ms of the last successful probe, 0: none yet */
} knoop_health_report_t;

/* A journal op finished: 0 clears a failure, a storage error (-ENOSPC, -EIO, -EROFS, ...) records one; a row an op
 * refused (-EINVAL) says nothing about the journal. */
void knoop_health_journal_result(struct knoop_broker *b, int status);
/* The job (app/jobs.c, every health_check_interval_ms): queues the probe write unless one is still in flight. */
void knoop_health_tick(struct knoop_broker *b);
/* Evaluates every condition now (statvfs, the WAL's size): loop thread. */
void knoop_health_check(struct knoop_broker *b, knoop_health_report_t *r);
#endif
