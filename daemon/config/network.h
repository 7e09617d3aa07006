/* network.h — the care network knoopd routes for (parties, indicator sets, products, contracts): libcyaml fills a
 * knoop_network_doc_t from `network:`, knoop_network_build() validates and indexes it into a read-only knoop_network_t. */
#ifndef KNOOP_NETWORK_H
#define KNOOP_NETWORK_H
#include <cyaml/cyaml.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/cfg_error.h"

#define KNOOP_CODE_MAX          9  /* 8 digits + NUL: the longest party code (AGB) */
#define KNOOP_MAX_CO_FINANCIERS 6  /* a contract fans outcomes out to at most this many co-financiers */
#define KNOOP_MAX_COOP_MEMBERS  64 /* the route state keeps a member's history as a 64-bit set */
#define KNOOP_NAME_MAX          64 /* contract and indicator set names, NUL included */
#define KNOOP_MAX_EXTENSIONS    8  /* options to extend a contract's period */
#define KNOOP_ISTD_CODE_MAX     6  /* an iWmo/iJw ProductCode: 5 characters + NUL */

/* ---- enumerations (also the YAML spellings, see knoop_network_fields) ---- */
typedef enum knoop_party_kind {
    KNOOP_PARTY_GEMEENTE = 1,    /* municipality, CBS code */
    KNOOP_PARTY_ZORGKANTOOR,     /* care office (Wlz), UZOVI code */
    KNOOP_PARTY_ZORGVERZEKERAAR, /* health insurer (Zvw), UZOVI code */
    KNOOP_PARTY_COOPERATIVE,     /* cooperative of providers, AGB */
    KNOOP_PARTY_MEMBER,          /* member provider of the cooperative, AGB */
    KNOOP_PARTY_PROVIDER,        /* provider contracted directly (no cooperative), AGB */
    KNOOP_PARTY_SUBCONTRACTOR,   /* works for a main contractor, AGB */
    KNOOP_PARTY_BUURTTEAM,       /* neighbourhood team of a municipality, 8 digits 9998xxxx */
} knoop_party_kind_t;

typedef enum knoop_identity { KNOOP_IDENTITY_WHITE_LABEL = 1, KNOOP_IDENTITY_LEGACY } knoop_identity_t;
typedef enum knoop_financing {
    KNOOP_FIN_INSPANNINGSGERICHT = 1,
    KNOOP_FIN_OUTPUTGERICHT,
    KNOOP_FIN_TAAKGERICHT,
    KNOOP_FIN_POPULATIE,
} knoop_financing_t;
typedef enum knoop_protocol { KNOOP_PROTO_IWMO_32 = 1, KNOOP_PROTO_IJW_32, KNOOP_PROTO_NATIVE } knoop_protocol_t;
typedef enum knoop_cadence {
    KNOOP_CADENCE_NONE = 0,
    KNOOP_CADENCE_4_WEEKLY,
    KNOOP_CADENCE_MONTHLY,
    KNOOP_CADENCE_QUARTERLY,
    KNOOP_CADENCE_YEARLY,
} knoop_cadence_t;
enum knoop_law { KNOOP_LAW_WMO = 1 << 0, KNOOP_LAW_JEUGDWET = 1 << 1, KNOOP_LAW_WLZ = 1 << 2, KNOOP_LAW_ZVW = 1 << 3 };
typedef enum knoop_value_type {
    KNOOP_VALUE_UNSET = 0,  /* not written: a `scale` must be given */
    KNOOP_VALUE_SCALE,      /* integer score within scale.min..scale.max (ZRM 1..5) */
    KNOOP_VALUE_COUNT,      /* non-negative integer (clients reached) */
    KNOOP_VALUE_PERCENTAGE, /* 0..100 */
    KNOOP_VALUE_AMOUNT,     /* money, euros */
    KNOOP_VALUE_BOOLEAN,    /* 0 or 1 (goal reached) */
    KNOOP_VALUE_TEXT,       /* free text, no numeric value */
} knoop_value_type_t;
typedef enum knoop_level {
    KNOOP_LEVEL_NONE = 0,
    KNOOP_LEVEL_LIGHT,
    KNOOP_LEVEL_MEDIUM,
    KNOOP_LEVEL_HEAVY
} knoop_level_t;
typedef enum knoop_price_unit {
    KNOOP_UNIT_NONE = 0,
    KNOOP_UNIT_HOUR,
    KNOOP_UNIT_DAY,
    KNOOP_UNIT_WEEK,
    KNOOP_UNIT_4_WEEKS,
    KNOOP_UNIT_MONTH,
    KNOOP_UNIT_YEAR,
    KNOOP_UNIT_RIDE, /* a tariff per ride (transport); not a budget period */
} knoop_price_unit_t;
/* How a contract's budget is spent (contract.budget.model): what the budget ledger counts and what its report shows. */
typedef enum knoop_budget_model {
    KNOOP_MODEL_NONE = 0,     /* no budget */
    KNOOP_MODEL_LUMP_SUM,     /* one amount per period, divided over the parties that carry it (shares) */
    KNOOP_MODEL_VOLUME_PRICE, /* a tariff per product (group x intensity) times the units delivered; an agreed
                                 volume of clients with a band around it (Goeree-Overflakkee) */
    KNOOP_MODEL_ARRANGEMENT,  /* a tariff per arrangement; use per client, per arrangement and in total */
} knoop_budget_model_t;

const char *knoop_party_kind_name(knoop_party_kind_t k);
const char *knoop_identity_name(knoop_identity_t v);
const char *knoop_financing_name(knoop_financing_t v);
const char *knoop_protocol_name(knoop_protocol_t v);
const char *knoop_cadence_name(knoop_cadence_t v);
const char *knoop_value_type_name(knoop_value_type_t v);
const char *knoop_price_unit_name(knoop_price_unit_t v);
const char *knoop_level_name(knoop_level_t v);
const char *knoop_budget_model_name(knoop_budget_model_t v);
bool knoop_party_kind_is_financier(knoop_party_kind_t k);
bool knoop_party_kind_is_provider(knoop_party_kind_t k); /* cooperative, member, provider, subcontractor */

/* ---- the document libcyaml fills (owned by the loader, freed with cyaml_free) ---- */
typedef struct knoop_network_doc_party {
    char *code, *name;
    knoop_party_kind_t kind;
    char **products;
    unsigned products_count;
    char *main_contractor; /* subcontractor: AGB of its main contractor */
    char *gemeente;        /* buurtteam: CBS code of its municipality */
} knoop_network_doc_party_t;

typedef struct knoop_network_doc_scale {
    double min, max;
} knoop_network_doc_scale_t;
typedef struct knoop_network_doc_indicator {
    char *name, *label;
    knoop_value_type_t type;
    knoop_network_doc_scale_t *scale; /* NULL when absent */
} knoop_network_doc_indicator_t;
typedef struct knoop_network_doc_indicator_set {
    char *name, *description;
    knoop_network_doc_indicator_t *indicators;
    unsigned indicators_count;
} knoop_network_doc_indicator_set_t;

typedef struct knoop_network_doc_product {
    char *code, *name, *group;
    knoop_level_t level;
    char *istd_code; /* the iWmo/iJw ProductCode that stands for it in 301/305/307/323 lines, or NULL */
} knoop_network_doc_product_t;

typedef struct knoop_network_doc_outcomes {
    char *indicator_set;
    knoop_cadence_t cadence;
    char **required; /* indicators a contract-level report must hold; absent: all of the set */
    unsigned required_count;
    char **watch; /* indicators whose fall from one period to the next is signalled (Brunssum: bereik) */
    unsigned watch_count;
    unsigned *due_days; /* a period's report is due this many days after the period ends; absent: 30 */
} knoop_network_doc_outcomes_t;
typedef struct knoop_network_doc_share {
    char *party;
    double amount;
} knoop_network_doc_share_t;
typedef struct knoop_network_doc_budget {
    knoop_budget_model_t model;
    double amount; /* euros per period */
    knoop_price_unit_t period;
    double band_above_pct, band_below_pct; /* alert when spending leaves [-below %, +above %] */
    unsigned volume;                       /* volume-price: the contracted number of clients */
    knoop_network_doc_share_t *shares;     /* lump-sum: how the amount is divided */
    unsigned shares_count;
} knoop_network_doc_budget_t;
typedef struct knoop_network_doc_period {
    char *start, *end;         /* YYYY-MM-DD, both days included */
    unsigned *extension_years; /* the options to extend, in years each */
    unsigned extension_years_count;
    unsigned extended; /* how many of the options were taken */
} knoop_network_doc_period_t;
typedef struct knoop_network_doc_scope {
    char **included; /* absent: every product of the network except the excluded ones */
    unsigned included_count;
    char **excluded;
    unsigned excluded_count;
} knoop_network_doc_scope_t;
typedef struct knoop_network_doc_tariff {
    char *product;
    double price;
    knoop_price_unit_t unit;
} knoop_network_doc_tariff_t;

typedef struct knoop_network_doc_contract {
    char *name, *financier, *provider, *lead;
    unsigned law; /* enum knoop_law flags */
    knoop_identity_t identity;
    knoop_financing_t financing;
    knoop_protocol_t protocol;
    knoop_network_doc_outcomes_t *outcomes; /* NULL: no outcome reporting */
    char **co_financiers;
    unsigned co_financiers_count;
    char **members;
    unsigned members_count;
    char **subcontractors;
    unsigned subcontractors_count;
    knoop_network_doc_budget_t *budget;
    knoop_network_doc_tariff_t *tariffs;
    unsigned tariffs_count;
    knoop_network_doc_period_t *period;
    knoop_network_doc_scope_t *scope;
    bool *assignments;           /* NULL: true */
    bool *declarations;          /* NULL: true unless the budget is a lump sum */
    bool *personal_contribution; /* NULL: true */
} knoop_network_doc_contract_t;

typedef struct knoop_network_doc {
    char *name;
    knoop_network_doc_party_t *parties;
    unsigned parties_count;
    knoop_network_doc_indicator_set_t *indicator_sets;
    unsigned indicator_sets_count;
    knoop_network_doc_product_t *products;
    unsigned products_count;
    knoop_network_doc_contract_t *contracts;
    unsigned contracts_count;
} knoop_network_doc_t;

extern const cyaml_schema_field_t knoop_network_fields[]; /* fields of the `network:` mapping */

/* ---- the validated network (read-only after build; all pointers owned by the knoop_network_t) ---- */
typedef struct knoop_party knoop_party_t;
typedef struct knoop_indicator_set knoop_indicator_set_t;
typedef struct knoop_contract knoop_contract_t;

typedef struct knoop_indicator {
    char *name, *label; /* owned */
    knoop_value_type_t type;
    double min, max; /* bounds implied by the type or given by the scale */
} knoop_indicator_t;

struct knoop_indicator_set {
    size_t index;
    char *name, *description; /* owned */
    knoop_indicator_t *indicators;
    size_t n_indicators; /* owned */
};

typedef struct knoop_product {
    char *code, *name, *group; /* owned; name/group may be NULL */
    knoop_level_t level;
    uint64_t offered_by;                 /* set of cooperative member slots offering it */
    char istd_code[KNOOP_ISTD_CODE_MAX]; /* the iWmo/iJw ProductCode it is known by, or "" */
} knoop_product_t;

struct knoop_party {
    size_t index;
    char code[KNOOP_CODE_MAX];
    char *name; /* owned */
    knoop_party_kind_t kind;
    const char **products;
    size_t n_products;                    /* owned array; strings borrowed from knoop_product_t */
    const knoop_party_t *main_contractor; /* subcontractor */
    const knoop_party_t **subcontractors;
    size_t n_subcontractors;          /* owned array: those working for it */
    const knoop_party_t *gemeente;    /* buurtteam */
    const knoop_party_t *cooperative; /* member: the network's cooperative */
    int member_slot;                  /* member: 0..63 among the cooperative's members, else -1 */
    const knoop_contract_t **contracts;
    size_t n_contracts; /* owned array: as financier, provider, member,
                                                          co-financier or subcontractor; borrowed contracts */
};

typedef struct knoop_share {
    const knoop_party_t *party;
    double amount; /* euros per budget period */
} knoop_share_t;
typedef struct knoop_budget {
    bool present;
    double amount, band_above_pct, band_below_pct;
    knoop_price_unit_t period;
    knoop_budget_model_t model;
    unsigned volume; /* volume-price: the contracted number of clients (0: none agreed) */
    knoop_share_t *shares;
    size_t n_shares; /* owned by the contract: lump-sum division over its parties */
} knoop_budget_t;
typedef enum knoop_budget_state {
    KNOOP_BUDGET_NONE = 0, /* the contract has no budget */
    KNOOP_BUDGET_WITHIN,   /* inside [-band_below_pct, +band_above_pct] of the amount */
    KNOOP_BUDGET_OVER,     /* spent more than amount + band_above_pct */
    KNOOP_BUDGET_UNDER,    /* spent less than amount - band_below_pct */
} knoop_budget_state_t;
/* Where spending over one budget period stands against the band; *deviation_pct (may be NULL) gets
 * (spent - amount) / amount in %. Prorating a partial period is the caller's business. */
knoop_budget_state_t knoop_budget_state(const knoop_budget_t *b, double spent, double *deviation_pct);
typedef struct knoop_tariff {
    const knoop_product_t *product;
    double price;
    knoop_price_unit_t unit;
} knoop_tariff_t;
/* The contract's period: start .. end (both included), moved by the extension options that were taken. */
typedef struct knoop_contract_period {
    bool present;
    int32_t start, end; /* days since 1970-01-01 (base/civil.h); end includes the options taken */
    int32_t signed_end; /* the end before any option */
    unsigned extension_years[KNOOP_MAX_EXTENSIONS];
    size_t n_extensions;
    unsigned extended; /* options taken */
} knoop_contract_period_t;

struct knoop_contract {
    size_t index;
    char *name; /* owned */
    const knoop_party_t *financier, *provider;
    const knoop_party_t *lead; /* consortium lead contractor (penvoerder), or NULL */
    unsigned law;
    knoop_identity_t identity;
    knoop_financing_t financing;
    knoop_protocol_t protocol;
    const knoop_indicator_set_t *indicator_set; /* NULL: no outcome reporting */
    knoop_cadence_t cadence;
    const knoop_party_t *co_financiers[KNOOP_MAX_CO_FINANCIERS];
    size_t n_co_financiers;
    const knoop_party_t **members;
    size_t n_members;     /* owned array */
    uint64_t member_mask; /* cooperative member slots taking part (white-label: the dispatch
                                            pool; all members when `members` is not given) */
    const knoop_party_t **subcontractors;
    size_t n_subcontractors; /* owned array */
    knoop_budget_t budget;
    knoop_tariff_t *tariffs;
    size_t n_tariffs; /* owned */
    /* The terms the financier pays for (network_terms.c): period, product scope, what the financing model allows,
     * and the reporting calendar's required and watched indicators. */
    knoop_contract_period_t period;
    const knoop_product_t **scope_included;
    size_t n_scope_included; /* owned array; 0: every product but the excluded ones */
    const knoop_product_t **scope_excluded;
    size_t n_scope_excluded;    /* owned array */
    bool assignments;           /* iWmo/iJw 301 (a beschikking) exists under it */
    bool declarations;          /* iWmo/iJw 323 exists under it (not under a lump sum) */
    bool personal_contribution; /* the client pays an eigen bijdrage (CAK) */
    const knoop_indicator_t **required;
    size_t n_required; /* owned array: what a contract-level report must hold */
    const knoop_indicator_t **watch;
    size_t n_watch;    /* owned array: a fall from one period to the next is signalled */
    unsigned due_days; /* a period's report is due this many days after the period ends */
};

typedef struct knoop_network knoop_network_t;

int knoop_network_build(const knoop_network_doc_t *doc, knoop_network_t **out, knoop_cfg_error_t *err);
void knoop_network_destroy(knoop_network_t **net);

/* Counts and iteration (index 0..n-1). */
const char *knoop_network_name(const knoop_network_t *net);
size_t knoop_network_party_count(const knoop_network_t *net);
size_t knoop_network_contract_count(const knoop_network_t *net);
size_t knoop_network_indicator_set_count(const knoop_network_t *net);
size_t knoop_network_product_count(const knoop_network_t *net);
size_t knoop_network_count_kind(const knoop_network_t *net, knoop_party_kind_t kind);
const knoop_party_t *knoop_network_party_at(const knoop_network_t *net, size_t i);
const knoop_contract_t *knoop_network_contract_at(const knoop_network_t *net, size_t i);
const knoop_indicator_set_t *knoop_network_indicator_set_at(const knoop_network_t *net, size_t i);
const knoop_product_t *knoop_network_product_at(const knoop_network_t *net, size_t i);

/* Lookups: NULL when unknown. */
const knoop_party_t *knoop_network_party(const knoop_network_t *net, const char *code);
const knoop_party_t *knoop_network_cooperative(const knoop_network_t *net);
const knoop_contract_t *knoop_network_contract(const knoop_network_t *net, const char *name);
const knoop_indicator_set_t *knoop_network_indicator_set(const knoop_network_t *net, const char *name);
const knoop_indicator_t *knoop_indicator_set_find(const knoop_indicator_set_t *set, const char *name);
const knoop_product_t *knoop_network_product(const knoop_network_t *net, const char *code);
/* The member slots (see knoop_party_t.member_slot) of the cooperative's members offering a product. */
uint64_t knoop_network_members_offering(const knoop_network_t *net, const char *product);
const knoop_party_t *knoop_network_member_by_slot(const knoop_network_t *net, int slot);
size_t knoop_network_member_count(const knoop_network_t *net);

/* Contracts of a party. Fills up to cap pointers, returns how many exist (may exceed cap). */
size_t knoop_network_contracts_of_financier(const knoop_network_t *net, const knoop_party_t *financier,
                                            const knoop_contract_t **out, size_t cap);
size_t knoop_network_contracts_of_provider(const knoop_network_t *net, const knoop_party_t *provider,
                                           const knoop_contract_t **out, size_t cap);
/* The contract between a financier and a provider-side party (the contracted provider itself, a listed
 * member/partner, or a subcontractor working under it); NULL when none. Prefers legacy over white-label
 * when both bind the pair (a member's own AGB contract is the more specific relation). */
const knoop_contract_t *knoop_network_contract_between(const knoop_network_t *net, const knoop_party_t *financier,
                                                       const knoop_party_t *provider);
/* The white-label contract of a financier with the cooperative, or NULL. */
const knoop_contract_t *knoop_network_white_label_of(const knoop_network_t *net, const knoop_party_t *financier);
bool knoop_contract_has_member(const knoop_contract_t *c, const knoop_party_t *p);
bool knoop_contract_is_co_financier(const knoop_contract_t *c, const knoop_party_t *p);
/* The financier a party speaks for: itself for a financier, its gemeente for a buurtteam, else NULL. */
const knoop_party_t *knoop_party_financier(const knoop_party_t *p);
const knoop_party_t *knoop_party_main_contractor(const knoop_party_t *p);
bool knoop_party_offers(const knoop_party_t *p, const char *product);
/* Contract terms (network_terms.c). Is the product within the contract's scope? An empty or unknown product is
 * (the network's own checks refuse unknown ones). */
bool knoop_contract_covers(const knoop_contract_t *c, const char *product);
/* The product a contract's tariff names for a product code, or NULL. */
const knoop_tariff_t *knoop_contract_tariff(const knoop_contract_t *c, const knoop_product_t *product);
/* The product of the network known by an iWmo/iJw ProductCode, or NULL. */
const knoop_product_t *knoop_network_product_by_istd(const knoop_network_t *net, const char *istd_code);
/* Neighbourhood teams of a municipality. Fills up to cap, returns how many exist. */
size_t knoop_network_buurtteams_of(const knoop_network_t *net, const knoop_party_t *gemeente, const knoop_party_t **out,
                                   size_t cap);
#endif
