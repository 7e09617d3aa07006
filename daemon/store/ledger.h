/* ledger.h — typed calls on the ledger table: the iWmo/iJw assignment ledger (adapters/istd/ledger.h) as one blob per
 * client x provider (knoop_ledger_export's format). Rows are written in the transaction of the 301 that changed them
 * (writer side) and read once at start-up into the in-memory ledger; nothing reads the table per message. */
#ifndef KNOOP_STORE_LEDGER_H
#define KNOOP_STORE_LEDGER_H
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* Writer side: the current set of (client_ref, provider) replaces the stored one. 0 or a negative errno. */
int knoop_store_ledger_put(knoop_jtx_t *tx, const uint8_t *client_ref, size_t client_ref_len, const char *provider,
                           const uint8_t *assignments, size_t len, int64_t now_us);

/* Start-up (loop thread, reader connection): calls each for every row; stops at and returns each's first non-zero
 * result. 0, or a negative errno with errbuf saying why. */
int knoop_store_ledger_each(knoop_journal_t *j,
                            int (*each)(void *arg, const uint8_t *client_ref, size_t client_ref_len,
                                        const char *provider, const uint8_t *assignments, size_t len),
                            void *arg, char *errbuf, size_t errlen);
#endif
