/* budget.h — the budget ledger's tables behind typed calls: episodes of care (a client with a product under a contract,
 * from a start to a stop; an intensity change closes one and opens the next), the units and euros declared per day,
 * and the intensity changes. Writer calls run in the transaction of the message that feeds them; reader calls on the
 * loop thread, for the finance job and the reports (never per published message), each a range of a primary key or
 * an index. Days are day numbers (days since 1970-01-01, base/civil.h). */
#ifndef KNOOP_STORE_BUDGET_H
#define KNOOP_STORE_BUDGET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "store/journal.h"

/* One episode to open. Strings are borrowed for the call. */
typedef struct knoop_store_episode {
    const char *contract;
    const uint8_t *client_ref;
    size_t client_ref_len;
    const char *product;
    const char *grp; /* the product's group (intensities of one group replace each other); the product when none */
    const char *member;
    int32_t day;
} knoop_store_episode_t;

/* Units and euros of one declaration line. */
typedef struct knoop_store_use {
    const char *contract;
    int32_t day;
    const char *product;
    const char *member;
    const uint8_t *client_ref; /* may be NULL */
    size_t client_ref_len;
    double units;
    int64_t amount_cents;   /* tariff x units */
    int64_t declared_cents; /* what the provider declared */
} knoop_store_use_t;

/* ---- writer side (inside an apply callback); 0 or a negative errno ---- */

/* Opens the episode unless the client has one open with this product already (a repeated start). */
int knoop_store_budget_start(knoop_jtx_t *tx, const knoop_store_episode_t *e, uint64_t seq);
/* Closes the client's open episodes under the contract (of product, or all when product is "" or NULL) on day. */
int knoop_store_budget_stop(knoop_jtx_t *tx, const char *contract, const uint8_t *client_ref, size_t client_ref_len,
                            const char *product, int32_t day);
/* The provider changed the intensity: the client's open episode of e->grp with another product ends the day before
 * e->day, e opens, and the change is recorded. from (may be NULL) gets the product it replaced, or "" when there was
 * none (then it is a start). */
int knoop_store_budget_change(knoop_jtx_t *tx, const knoop_store_episode_t *e, uint64_t seq, char *from,
                              size_t from_len);
/* Adds a declaration line's units and euros. */
int knoop_store_budget_use_add(knoop_jtx_t *tx, const knoop_store_use_t *u);

/* ---- reader side (loop thread); 0 or a negative errno with err ---- */

typedef void (*knoop_store_count_fn)(void *ctx, const char *product, const char *member, int64_t clients);
/* Clients in care on day: *distinct the number of distinct clients; fn (may be NULL) per product and member. */
int knoop_store_budget_in_care(knoop_journal_t *j, const char *contract, int32_t day, int64_t *distinct,
                               knoop_store_count_fn fn, void *ctx, char *err, size_t errlen);
/* Episodes that started / stopped within [from, to]. */
int knoop_store_budget_flow(knoop_journal_t *j, const char *contract, int32_t from, int32_t to, int64_t *started,
                            int64_t *stopped, char *err, size_t errlen);

typedef void (*knoop_store_use_fn)(void *ctx, const char *product, const char *member, double units,
                                   int64_t amount_cents, int64_t declared_cents);
/* Units and euros within [from, to], per product and member. */
int knoop_store_budget_use_sum(knoop_journal_t *j, const char *contract, int32_t from, int32_t to,
                               knoop_store_use_fn fn, void *ctx, char *err, size_t errlen);

typedef void (*knoop_store_client_use_fn)(void *ctx, const uint8_t *client_ref, size_t client_ref_len,
                                          const char *product, double units, int64_t amount_cents,
                                          int64_t declared_cents);
/* Units and euros within [from, to] per client and product, the largest amounts first, at most limit rows. */
int knoop_store_budget_use_by_client(knoop_journal_t *j, const char *contract, int32_t from, int32_t to, int64_t limit,
                                     knoop_store_client_use_fn fn, void *ctx, char *err, size_t errlen);

typedef void (*knoop_store_change_fn)(void *ctx, int32_t day, const uint8_t *client_ref, size_t client_ref_len,
                                      const char *from_product, const char *to_product);
/* Intensity changes within [from, to], in order, at most limit. */
int knoop_store_budget_changes(knoop_journal_t *j, const char *contract, int32_t from, int32_t to, int64_t limit,
                               knoop_store_change_fn fn, void *ctx, char *err, size_t errlen);
#endif
