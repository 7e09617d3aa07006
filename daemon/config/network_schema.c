/* network_schema.c — the libcyaml schema of the `network:` section and the spelling of every enumeration.
 * The tables here are the single source for parsing (typos are rejected by name) and for the names in messages. */
#include "config/network.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cyaml_strval_t party_kinds[] = {
    {"gemeente", KNOOP_PARTY_GEMEENTE},
    {"zorgkantoor", KNOOP_PARTY_ZORGKANTOOR},
    {"zorgverzekeraar", KNOOP_PARTY_ZORGVERZEKERAAR},
    {"cooperative", KNOOP_PARTY_COOPERATIVE},
    {"member", KNOOP_PARTY_MEMBER},
    {"provider", KNOOP_PARTY_PROVIDER},
    {"subcontractor", KNOOP_PARTY_SUBCONTRACTOR},
    {"buurtteam", KNOOP_PARTY_BUURTTEAM},
};
static const cyaml_strval_t identities[] = {
    {"white-label", KNOOP_IDENTITY_WHITE_LABEL},
    {"legacy", KNOOP_IDENTITY_LEGACY},
};
static const cyaml_strval_t financings[] = {
    {"inspanningsgericht", KNOOP_FIN_INSPANNINGSGERICHT},
    {"outputgericht", KNOOP_FIN_OUTPUTGERICHT},
    {"taakgericht", KNOOP_FIN_TAAKGERICHT},
    {"populatie", KNOOP_FIN_POPULATIE},
};
static const cyaml_strval_t protocols[] = {
    {"iwmo-3.2", KNOOP_PROTO_IWMO_32},
    {"ijw-3.2", KNOOP_PROTO_IJW_32},
    {"native", KNOOP_PROTO_NATIVE},
};
static const cyaml_strval_t cadences[] = {
    {"none", KNOOP_CADENCE_NONE},           {"4-weekly", KNOOP_CADENCE_4_WEEKLY}, {"monthly", KNOOP_CADENCE_MONTHLY},
    {"quarterly", KNOOP_CADENCE_QUARTERLY}, {"yearly", KNOOP_CADENCE_YEARLY},
};
static const cyaml_strval_t laws[] = {
    {"wmo", KNOOP_LAW_WMO},
    {"jeugdwet", KNOOP_LAW_JEUGDWET},
    {"wlz", KNOOP_LAW_WLZ},
    {"zvw", KNOOP_LAW_ZVW},
};
static const cyaml_strval_t value_types[] = {
    {"scale", KNOOP_VALUE_SCALE},   {"count", KNOOP_VALUE_COUNT},     {"percentage", KNOOP_VALUE_PERCENTAGE},
    {"amount", KNOOP_VALUE_AMOUNT}, {"boolean", KNOOP_VALUE_BOOLEAN}, {"text", KNOOP_VALUE_TEXT},
};
static const cyaml_strval_t levels[] = {
    {"light", KNOOP_LEVEL_LIGHT},
    {"medium", KNOOP_LEVEL_MEDIUM},
    {"heavy", KNOOP_LEVEL_HEAVY},
};
static const cyaml_strval_t units[] = {
    {"hour", KNOOP_UNIT_HOUR},   {"day", KNOOP_UNIT_DAY},   {"week", KNOOP_UNIT_WEEK}, {"4-weeks", KNOOP_UNIT_4_WEEKS},
    {"month", KNOOP_UNIT_MONTH}, {"year", KNOOP_UNIT_YEAR}, {"ride", KNOOP_UNIT_RIDE},
};
static const cyaml_strval_t budget_models[] = {
    {"lump-sum", KNOOP_MODEL_LUMP_SUM},
    {"volume-price", KNOOP_MODEL_VOLUME_PRICE},
    {"arrangement", KNOOP_MODEL_ARRANGEMENT},
};

static const char *strval_name(const cyaml_strval_t *t, size_t n, int64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].val == v)
            return t[i].str;
    return "?";
}
const char *knoop_party_kind_name(knoop_party_kind_t k)
{
    return strval_name(party_kinds, N(party_kinds), k);
}
const char *knoop_identity_name(knoop_identity_t v)
{
    return strval_name(identities, N(identities), v);
}
const char *knoop_financing_name(knoop_financing_t v)
{
    return strval_name(financings, N(financings), v);
}
const char *knoop_protocol_name(knoop_protocol_t v)
{
    return strval_name(protocols, N(protocols), v);
}
const char *knoop_cadence_name(knoop_cadence_t v)
{
    return strval_name(cadences, N(cadences), v);
}
const char *knoop_value_type_name(knoop_value_type_t v)
{
    return strval_name(value_types, N(value_types), v);
}
const char *knoop_price_unit_name(knoop_price_unit_t v)
{
    return strval_name(units, N(units), v);
}
const char *knoop_level_name(knoop_level_t v)
{
    return v == KNOOP_LEVEL_NONE ? "" : strval_name(levels, N(levels), v);
}
const char *knoop_budget_model_name(knoop_budget_model_t v)
{
    return v == KNOOP_MODEL_NONE ? "none" : strval_name(budget_models, N(budget_models), v);
}

#define OPT                 (CYAML_FLAG_OPTIONAL)
#define PTR                 (CYAML_FLAG_POINTER)
#define STRICT              (CYAML_FLAG_STRICT) /* enumerations and flags: only the names, never a number */
#define STR_REQ(key, st, m) CYAML_FIELD_STRING_PTR(key, PTR, st, m, 1, CYAML_UNLIMITED)
#define STR_OPT(key, st, m) CYAML_FIELD_STRING_PTR(key, PTR | OPT, st, m, 0, CYAML_UNLIMITED)

static const cyaml_schema_value_t string_entry = {CYAML_VALUE_STRING(PTR, char, 1, CYAML_UNLIMITED)};
static const cyaml_schema_value_t uint_entry = {CYAML_VALUE_UINT(CYAML_FLAG_DEFAULT, unsigned)};

static const cyaml_schema_field_t party_fields[] = {
    STR_REQ("code", knoop_network_doc_party_t, code),
    CYAML_FIELD_ENUM("kind", STRICT, knoop_network_doc_party_t, kind, party_kinds, N(party_kinds)),
    STR_OPT("name", knoop_network_doc_party_t, name),
    CYAML_FIELD_SEQUENCE("products", PTR | OPT, knoop_network_doc_party_t, products, &string_entry, 0, CYAML_UNLIMITED),
    STR_OPT("main_contractor", knoop_network_doc_party_t, main_contractor),
    STR_OPT("gemeente", knoop_network_doc_party_t, gemeente),
    CYAML_FIELD_END};
static const cyaml_schema_value_t party_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, knoop_network_doc_party_t, party_fields)};

static const cyaml_schema_field_t scale_fields[] = {
    CYAML_FIELD_FLOAT("min", CYAML_FLAG_DEFAULT, knoop_network_doc_scale_t, min),
    CYAML_FIELD_FLOAT("max", CYAML_FLAG_DEFAULT, knoop_network_doc_scale_t, max), CYAML_FIELD_END};
static const cyaml_schema_field_t indicator_fields[] = {
    STR_REQ("name", knoop_network_doc_indicator_t, name), STR_OPT("label", knoop_network_doc_indicator_t, label),
    CYAML_FIELD_ENUM("type", STRICT | OPT, knoop_network_doc_indicator_t, type, value_types, N(value_types)),
    CYAML_FIELD_MAPPING_PTR("scale", PTR | OPT, knoop_network_doc_indicator_t, scale, scale_fields), CYAML_FIELD_END};
static const cyaml_schema_value_t indicator_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, knoop_network_doc_indicator_t, indicator_fields)};
static const cyaml_schema_field_t indicator_set_fields[] = {
    STR_REQ("name", knoop_network_doc_indicator_set_t, name),
    STR_OPT("description", knoop_network_doc_indicator_set_t, description),
    CYAML_FIELD_SEQUENCE("indicators", PTR, knoop_network_doc_indicator_set_t, indicators, &indicator_entry, 1,
                         CYAML_UNLIMITED),
    CYAML_FIELD_END};
static const cyaml_schema_value_t indicator_set_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, knoop_network_doc_indicator_set_t, indicator_set_fields)};

static const cyaml_schema_field_t product_fields[] = {
    STR_REQ("code", knoop_network_doc_product_t, code),
    STR_OPT("name", knoop_network_doc_product_t, name),
    STR_OPT("group", knoop_network_doc_product_t, group),
    CYAML_FIELD_ENUM("level", STRICT | OPT, knoop_network_doc_product_t, level, levels, N(levels)),
    STR_OPT("istd_code", knoop_network_doc_product_t, istd_code),
    CYAML_FIELD_END};
static const cyaml_schema_value_t product_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, knoop_network_doc_product_t, product_fields)};

static const cyaml_schema_field_t outcomes_fields[] = {
    STR_REQ("indicator_set", knoop_network_doc_outcomes_t, indicator_set),
    CYAML_FIELD_ENUM("cadence", STRICT, knoop_network_doc_outcomes_t, cadence, cadences, N(cadences)),
    CYAML_FIELD_SEQUENCE("required", PTR | OPT, knoop_network_doc_outcomes_t, required, &string_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("watch", PTR | OPT, knoop_network_doc_outcomes_t, watch, &string_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_UINT_PTR("due_days", OPT, knoop_network_doc_outcomes_t, due_days),
    CYAML_FIELD_END};
static const cyaml_schema_field_t share_fields[] = {
    STR_REQ("party", knoop_network_doc_share_t, party),
    CYAML_FIELD_FLOAT("amount", CYAML_FLAG_DEFAULT, knoop_network_doc_share_t, amount), CYAML_FIELD_END};
static const cyaml_schema_value_t share_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, knoop_network_doc_share_t, share_fields)};
static const cyaml_schema_field_t budget_fields[] = {
    CYAML_FIELD_ENUM("model", STRICT, knoop_network_doc_budget_t, model, budget_models, N(budget_models)),
    CYAML_FIELD_FLOAT("amount", CYAML_FLAG_DEFAULT, knoop_network_doc_budget_t, amount),
    CYAML_FIELD_ENUM("period", STRICT, knoop_network_doc_budget_t, period, units, N(units)),
    CYAML_FIELD_FLOAT("band_above_pct", OPT, knoop_network_doc_budget_t, band_above_pct),
    CYAML_FIELD_FLOAT("band_below_pct", OPT, knoop_network_doc_budget_t, band_below_pct),
    CYAML_FIELD_UINT("volume", OPT, knoop_network_doc_budget_t, volume),
    CYAML_FIELD_SEQUENCE("shares", PTR | OPT, knoop_network_doc_budget_t, shares, &share_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};
static const cyaml_schema_field_t period_fields[] = {
    STR_REQ("start", knoop_network_doc_period_t, start), STR_REQ("end", knoop_network_doc_period_t, end),
    CYAML_FIELD_SEQUENCE("extension_years", PTR | OPT, knoop_network_doc_period_t, extension_years, &uint_entry, 0,
                         KNOOP_MAX_EXTENSIONS),
    CYAML_FIELD_UINT("extended", OPT, knoop_network_doc_period_t, extended), CYAML_FIELD_END};
static const cyaml_schema_field_t scope_fields[] = {
    CYAML_FIELD_SEQUENCE("included", PTR | OPT, knoop_network_doc_scope_t, included, &string_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("excluded", PTR | OPT, knoop_network_doc_scope_t, excluded, &string_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};
static const cyaml_schema_field_t tariff_fields[] = {
    STR_REQ("product", knoop_network_doc_tariff_t, product),
    CYAML_FIELD_FLOAT("price", CYAML_FLAG_DEFAULT, knoop_network_doc_tariff_t, price),
    CYAML_FIELD_ENUM("unit", STRICT, knoop_network_doc_tariff_t, unit, units, N(units)), CYAML_FIELD_END};
static const cyaml_schema_value_t tariff_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, knoop_network_doc_tariff_t, tariff_fields)};

static const cyaml_schema_field_t contract_fields[] = {
    STR_REQ("name", knoop_network_doc_contract_t, name),
    STR_REQ("financier", knoop_network_doc_contract_t, financier),
    STR_REQ("provider", knoop_network_doc_contract_t, provider),
    STR_OPT("lead", knoop_network_doc_contract_t, lead),
    CYAML_FIELD_FLAGS("law", STRICT | OPT, knoop_network_doc_contract_t, law, laws, N(laws)),
    CYAML_FIELD_ENUM("identity", STRICT, knoop_network_doc_contract_t, identity, identities, N(identities)),
    CYAML_FIELD_ENUM("financing", STRICT, knoop_network_doc_contract_t, financing, financings, N(financings)),
    CYAML_FIELD_ENUM("protocol", STRICT, knoop_network_doc_contract_t, protocol, protocols, N(protocols)),
    CYAML_FIELD_MAPPING_PTR("outcomes", PTR | OPT, knoop_network_doc_contract_t, outcomes, outcomes_fields),
    CYAML_FIELD_SEQUENCE("co_financiers", PTR | OPT, knoop_network_doc_contract_t, co_financiers, &string_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("members", PTR | OPT, knoop_network_doc_contract_t, members, &string_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("subcontractors", PTR | OPT, knoop_network_doc_contract_t, subcontractors, &string_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_MAPPING_PTR("budget", PTR | OPT, knoop_network_doc_contract_t, budget, budget_fields),
    CYAML_FIELD_SEQUENCE("tariffs", PTR | OPT, knoop_network_doc_contract_t, tariffs, &tariff_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_MAPPING_PTR("period", PTR | OPT, knoop_network_doc_contract_t, period, period_fields),
    CYAML_FIELD_MAPPING_PTR("scope", PTR | OPT, knoop_network_doc_contract_t, scope, scope_fields),
    CYAML_FIELD_BOOL_PTR("assignments", OPT, knoop_network_doc_contract_t, assignments),
    CYAML_FIELD_BOOL_PTR("declarations", OPT, knoop_network_doc_contract_t, declarations),
    CYAML_FIELD_BOOL_PTR("personal_contribution", OPT, knoop_network_doc_contract_t, personal_contribution),
    CYAML_FIELD_END};
static const cyaml_schema_value_t contract_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, knoop_network_doc_contract_t, contract_fields)};

const cyaml_schema_field_t knoop_network_fields[] = {
    STR_OPT("name", knoop_network_doc_t, name),
    CYAML_FIELD_SEQUENCE("parties", PTR, knoop_network_doc_t, parties, &party_entry, 1, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("indicator_sets", PTR | OPT, knoop_network_doc_t, indicator_sets, &indicator_set_entry, 0,
                         CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("products", PTR | OPT, knoop_network_doc_t, products, &product_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_SEQUENCE("contracts", PTR | OPT, knoop_network_doc_t, contracts, &contract_entry, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};
