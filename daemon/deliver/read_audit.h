/* read_audit.h — the audit of reads: every delivery (who received which message, when, which attempt) becomes a row
 * in audit_reads. Recorded on the loop at send time into a batch that goes to the journal as ONE operation per tick
 * (or per READ_AUDIT_BATCH deliveries), so delivery never waits for a write; audit rows older than audit_retention
 * are deleted in small batches. */
#ifndef KNOOP_DELIVER_READ_AUDIT_H
#define KNOOP_DELIVER_READ_AUDIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/broker.h"

/* One delivery of seq (attempt counts from 1) from group g to peer to; env is the packed envelope sent, whose client
 * reference the row keeps. */
void knoop_read_audit_add(knoop_broker_t *b, const knoop_group_t *g, const knoop_peer_t *to, uint64_t seq,
                          uint32_t attempt, const void *env, size_t env_len);
/* The client reference (field 10) of a packed knoop.Envelope, read in place: true with out filled, false when it has
 * none (or the bytes do not parse). Unpacking with protobuf-c would copy the payload per delivery. */
bool knoop_envelope_client_ref(const void *env, size_t len, uint8_t out[32]);
/* Hands the deliveries recorded so far to the journal. */
void knoop_read_audit_flush(knoop_broker_t *b);
/* The journal is this far behind with audit rows: delivery waits until it catches up, so the record of reads stays
 * complete and memory bounded. */
bool knoop_read_audit_behind(const knoop_broker_t *b);
/* Per tick: flush; every purge_interval_ms one batch of audit retention (audit and audit_reads). */
void knoop_read_audit_tick(knoop_broker_t *b);
#endif
