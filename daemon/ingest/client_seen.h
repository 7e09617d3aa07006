/* client_seen.h — when a client was last seen, kept cheaply: the journal's `clients` table holds each client's last
 * message time (store/clients.h), refreshed by a message at most once per interval (the record's granularity), so the
 * journal is not written once more per message; a small fixed-size table in memory says which clients are due. The
 * forget job reads the table to forget the clients whose last message the retention has long removed. */
#ifndef KNOOP_INGEST_CLIENT_SEEN_H
#define KNOOP_INGEST_CLIENT_SEEN_H
#include <stdbool.h>
#include <stdint.h>
#include "core/broker.h"

/* How stale the record of a client's last message may be: the longest retention of any kind / 8, at most an hour. */
int64_t knoop_client_seen_granularity_us(const knoop_settings_t *s);
/* The longest retention of any kind (retention_days, retention_per_kind), in microseconds. */
int64_t knoop_client_seen_longest_retention_us(const knoop_settings_t *s);

/* Loop thread: should a message about ref (accepted at now_us) refresh the client's record? True when memory does not
 * know it was refreshed within the granularity (a slot lost to another client only costs one more write). */
bool knoop_client_seen_due(knoop_broker_t *b, const uint8_t ref[32], int64_t now_us);
/* Loop thread: the record of ref was committed at seen_us. */
void knoop_client_seen_written(knoop_broker_t *b, const uint8_t ref[32], int64_t seen_us);
/* Loop thread: the client was forgotten (its record deleted): its next message writes a new record. */
void knoop_client_seen_forget(knoop_broker_t *b, const uint8_t ref[32]);
/* Frees the memory (at the stop). */
void knoop_client_seen_free(knoop_broker_t *b);
#endif
