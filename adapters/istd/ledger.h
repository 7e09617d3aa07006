/* ledger.h — the assignment ledger: per client x provider the current set of assignments from 301 messages,
 * and the check of 305/307/317/323 lines against it. Pure in-memory; export/import let the daemon persist it. */
#ifndef KNOOP_LEDGER_H
#define KNOOP_LEDGER_H
#include "istd/istd.h"
#include <stddef.h>

typedef struct knoop_ledger knoop_ledger_t;

typedef struct knoop_ledger_assignment {
    char toewijzing[24]; /* ToewijzingNummer */
    char categorie[4];   /* "" = generic assignment (no product) */
    char code[8];        /* "" = aspecific assignment (category only) */
    char begin[11];      /* Ingangsdatum */
    char end[11];        /* Einddatum, "" = open */
    long long volume;    /* Omvang/Volume, -1 if none */
    char eenheid[4];
    char frequentie[4];
    char reden_wijziging[4]; /* "13" = deleted (Verwijderd): nothing may refer to it any more */
} knoop_ledger_assignment_t;

/* The client key is an opaque byte string: the BSN itself (key NULL) or, in the daemon, its keyed hash.
 * Writes at most cap bytes to key and the length to *len; 0 or negative errno. */
typedef int (*knoop_ledger_key_fn)(void *ctx, const char *bsn, unsigned char *key, size_t cap, size_t *len);
#define KNOOP_LEDGER_KEY_MAX 64

int knoop_ledger_new(knoop_ledger_t **out);
void knoop_ledger_destroy(knoop_ledger_t **p);
size_t knoop_ledger_count(const knoop_ledger_t *l); /* client x provider sets held */

/* Replace (never merge) the set of client x provider; n == 0 removes it. 0, -EINVAL, -ENOMEM. */
int knoop_ledger_replace(knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                         const knoop_ledger_assignment_t *a, size_t n);
/* Borrowed view of one set (valid until the next change); *n = 0 when unknown. */
int knoop_ledger_get(const knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                     const knoop_ledger_assignment_t **a, size_t *n);

/* A decoded 301 carries the FULL current set per client for its Ontvanger: replace each client's set. */
int knoop_ledger_apply(knoop_ledger_t *l, const knoop_istd_msg_t *m301, knoop_ledger_key_fn key, void *ctx);

/* For a 305/307/317/323: one level-2 error (retour code, berichtklasse = the line) per line without a matching
 * assignment (317: also per client whose current assignments are not all named, on the Client). Returns the
 * number of errors added, or -EINVAL for other messages. */
int knoop_ledger_check(const knoop_ledger_t *l, const knoop_istd_msg_t *m, knoop_ledger_key_fn key, void *ctx,
                       knoop_istd_errors_t *errs);

/* One set as a compact, versioned blob ("KL1\n" + one tab-separated line per assignment) and back.
 * *blob malloc'ed, caller frees. Import replaces the set. 0, -EINVAL (bad blob), -ENOMEM. */
int knoop_ledger_export(const knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                        unsigned char **blob, size_t *len);
int knoop_ledger_import(knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                        const unsigned char *blob, size_t len);

/* Calls each with every provider that holds a set of client (stops at and returns its first non-zero result): to
 * forget a client, set by set. */
int knoop_ledger_providers(const knoop_ledger_t *l, const unsigned char *client, size_t client_len,
                           int (*each)(void *arg, const char *provider), void *arg);
#endif
