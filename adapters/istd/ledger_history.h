/* ledger_history.h — inside the adapter only: the ledger's rules on a 323 that look back on earlier declarations
 * and on the assigned volume (ledger_history.c), called by knoop_ledger_check (ledger.c). */
#ifndef KNOOP_LEDGER_HISTORY_H
#define KNOOP_LEDGER_HISTORY_H
#include "istd/ledger.h"

/* The client key of bsn: the BSN itself (key NULL) or key's answer. 0 or a negative errno. */
int knoop_ledger_client_key(knoop_ledger_key_fn key, void *ctx, const char *bsn, unsigned char *out, size_t *len);

/* A 323's lines not already refused (skip[i] false) against what the client x Afzender declared before and against
 * the assignment's volume; a line refused here is marked in skip. Returns the number of errors added. */
int knoop_ledger_history_check(const knoop_ledger_t *l, const knoop_istd_msg_t *m, knoop_ledger_key_fn key, void *ctx,
                               bool *skip, knoop_istd_errors_t *errs);
#endif
