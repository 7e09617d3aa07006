/* ledger.h — the assignment ledger: per client x provider the current set of assignments from 301 messages and the
 * Prestaties of accepted 323s, and the check of 305/307/317/323 lines against both. In memory; export/import persist. */
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
    bool has_budget;         /* the 301 gave a Budget (TR369): the declared amounts must stay within it */
    long long budget;        /* Budget in eurocents */
    char gemeente[8];        /* the 301's Afzender: a ToewijzingNummer is unique per gemeente and domain (TR332); ""
                              * when imported from a KL1/KL2 blob */
    char domain;             /* 'W' iWmo, 'J' iJw, 0 unknown (KL1/KL2) */
} knoop_ledger_assignment_t;

/* One Prestatie of an accepted 323 (ledger_history.c): what TR314/TR323/TR389/TR390/TR322 look back on. */
typedef struct knoop_ledger_declared {
    char referentie[24]; /* ReferentieNummer */
    char vorig[24];      /* a credit: VorigReferentieNummer, the debit it takes back; "" for a debit */
    char toewijzing[24];
    char categorie[4];
    char code[8];
    char begin[11]; /* ProductPeriode */
    char end[11];
    long long volume; /* GeleverdVolume, -1 if none */
    char eenheid[4];
    long long bedrag; /* IngediendBedrag in eurocents, negative for a credit; 0 when imported from a KL2 blob */
    char domain;      /* 'W' iWmo, 'J' iJw: a ReferentieNummer is unique per provider per wettelijk domein */
    bool credit;      /* a credit Prestatie (DebetCredit C) */
    bool credited;    /* a debit a later credit took back: it no longer counts and its reference is free again */
} knoop_ledger_declared_t;

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
/* The declared Prestaties of client x provider (borrowed, valid until the next change); *n = 0 when none. */
int knoop_ledger_get_declared(const knoop_ledger_t *l, const unsigned char *client, size_t client_len,
                              const char *provider, const knoop_ledger_declared_t **d, size_t *n);
/* Replace the declared Prestaties of client x provider (the assignments stay). 0, -EINVAL, -ENOMEM. */
int knoop_ledger_set_declared(knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                              const knoop_ledger_declared_t *d, size_t n);

/* Borrowed view of one set (valid until the next change); *n = 0 when unknown. */
int knoop_ledger_get(const knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                     const knoop_ledger_assignment_t **a, size_t *n);

/* A decoded 301 carries the FULL current set per client for its Ontvanger: replace each client's set (the declared
 * Prestaties stay). */
int knoop_ledger_apply(knoop_ledger_t *l, const knoop_istd_msg_t *m301, knoop_ledger_key_fn key, void *ctx);
/* An accepted 323: each Prestatie is recorded for its client x Afzender; a credit marks the debit it names (by
 * VorigReferentieNummer and ProductPeriode) credited. 0, -EINVAL (not a 323), -ENOMEM. */
int knoop_ledger_declare(knoop_ledger_t *l, const knoop_istd_msg_t *m323, knoop_ledger_key_fn key, void *ctx);

/* TR418: the tariff the contract between sender and receiver sets for a ProductCode, in eurocents per unit of
 * Eenheid. Returns 1 with *cents when the contract sets one in a unit that fits Eenheid, 0 when it sets none (the line
 * is not checked). The caller knows the contracts (knoopd: daemon/legacy/xml_tariff.c); the adapter does not. */
typedef int (*knoop_ledger_tariff_fn)(void *ctx, const char *sender, const char *receiver, const char *code,
                                      const char *eenheid, long long *cents);

typedef struct knoop_ledger_check_opts {
    knoop_ledger_key_fn key; /* NULL: the BSN is the client key */
    void *key_ctx;
    knoop_ledger_tariff_fn tariff; /* NULL: TR418 is not checked */
    void *tariff_ctx;
} knoop_ledger_check_opts_t;

/* For a 301: 9332 (TR332) on each ToegewezenProduct whose ToewijzingNummer the same gemeente already gave, in the same
 * domain, to an assignment of the same client at another provider (a walk over every set: 301s are few).
 * For a 305/307/317/323: one level-2 error (retour code, berichtklasse = the line) per line without a matching
 * assignment (317: also per client whose current assignments are not all named, on the Client); a 323 line that
 * matches is then checked against the declared history and the assigned volume (ledger_history.c). Returns the
 * number of errors added, or -EINVAL for other messages. */
int knoop_ledger_check(const knoop_ledger_t *l, const knoop_istd_msg_t *m, knoop_ledger_key_fn key, void *ctx,
                       knoop_istd_errors_t *errs);
/* The same with the contract's tariffs: a 323 debit line that matched its assignment and whose ProductTarief is not
 * the contract's gets 0611 (TR418) before the history rules run. */
int knoop_ledger_check_with(const knoop_ledger_t *l, const knoop_istd_msg_t *m, const knoop_ledger_check_opts_t *o,
                            knoop_istd_errors_t *errs);

/* One set as a compact, versioned blob and back: "KL1\n" + one tab-separated line per assignment while nothing is
 * declared and no assignment has a Budget; otherwise "KL3\n" + the same lines tagged "A\t" with the Budget appended
 * (-1: none), the gemeente and the domain appended and one "D\t" line per declared Prestatie with its IngediendBedrag appended. Import reads KL1, KL3 and
 * the KL2 of earlier versions (KL3 without the two appended fields). *blob malloc'ed, caller frees. Import replaces the set. 0, -EINVAL (bad blob), -ENOMEM. */
int knoop_ledger_export(const knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                        unsigned char **blob, size_t *len);
int knoop_ledger_import(knoop_ledger_t *l, const unsigned char *client, size_t client_len, const char *provider,
                        const unsigned char *blob, size_t len);

/* Calls each with every provider that holds a set of client (stops at and returns its first non-zero result): to
 * forget a client, set by set. */
int knoop_ledger_providers(const knoop_ledger_t *l, const unsigned char *client, size_t client_len,
                           int (*each)(void *arg, const char *provider), void *arg);
#endif
