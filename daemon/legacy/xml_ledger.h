/* xml_ledger.h — the daemon's side of the iWmo/iJw assignment ledger (adapters/istd/ledger.h): loaded from the
 * journal once at start-up (store/ledger.h), held in memory, changed by every accepted 301 and persisted in that
 * 301's transaction. The checks of 305/307/317/323 read memory only: no SQL per message. */
#ifndef KNOOP_XML_LEDGER_H
#define KNOOP_XML_LEDGER_H
#include <stddef.h>
#include <stdint.h>
#include "core/broker.h"
#include "istd/istd.h"

typedef struct knoop_xml_ledger_undo knoop_xml_ledger_undo_t;

/* The ledger's client key: the keyed BSN hash (base/pseudonym.h), ctx = the broker. A knoop_ledger_key_fn. */
int knoop_xml_key_of_bsn(void *ctx, const char *bsn, unsigned char *key, size_t cap, size_t *len);

/* Start-up: a new ledger in b->ledger with the journal's rows. 0 or a negative errno with errbuf. */
int knoop_xml_ledger_open(knoop_broker_t *b, size_t *sets, char *errbuf, size_t errlen);

/* An accepted 301 (its assignments) or 323 (its Prestaties): applied to the in-memory ledger at once (a 305 or a
 * 323 right behind it sees it). *rows: the sets to
 * write, one block freed with free(), for an op's extras with knoop_xml_ledger_persist; *undo: what to put back if
 * the 301 is not stored after all. 0 or a negative errno (then nothing changed). */
int knoop_xml_ledger_apply(knoop_broker_t *b, const knoop_istd_msg_t *m301, void **rows,
                           knoop_xml_ledger_undo_t **undo);
/* An op extra (writer thread): writes the rows of knoop_xml_ledger_apply. */
int knoop_xml_ledger_persist(knoop_jtx_t *tx, void *rows, uint64_t seq);
/* The message was not stored (a duplicate, a reused Identificatie, a failed commit): each set it replaced is put back,
 * unless a later 301 changed it since. Frees undo. */
void knoop_xml_ledger_undo(knoop_broker_t *b, knoop_xml_ledger_undo_t *undo);
void knoop_xml_ledger_undo_free(knoop_xml_ledger_undo_t *undo);

/* Forgetting a client: every set of the client (its internal reference) leaves memory now; *sets says how many. *undo
 * (NULL when there were none) puts them back with knoop_xml_ledger_undo if the forget is not committed, or is freed
 * with knoop_xml_ledger_undo_free when it is. The rows themselves go with store/clients.h. 0 or a negative errno
 * (nothing changed). */
int knoop_xml_ledger_forget(knoop_broker_t *b, const uint8_t client[32], size_t *sets, knoop_xml_ledger_undo_t **undo);
#endif
