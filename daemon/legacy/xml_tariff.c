/* xml_tariff.c — TR418 (ProductTarief against the contract) from knoopd's side: the contract the parties exchange
 * under (finance/terms.h), the network's product for the ProductCode (its istd_code) and the contract's tariff for it.
 * A tariff is compared only where its unit and the Prestatie's Eenheid (WMO757) name the same thing; anything else (a
 * per-hour tariff declared in minutes, a daily tariff declared per dagdeel) would need a conversion the contract does
 * not state, so the line is not checked. */
#include "legacy/xml_tariff.h"
#include <math.h>
#include <string.h>
#include "core/broker.h"
#include "finance/terms.h"

/* Which Eenheid a contract unit is declared in: time units as such, a price per period or per ride as pieces (82
 * Stuks output, 84 Stuks inspanning). */
static const struct {
    knoop_price_unit_t unit;
    const char *eenheid[2];
} fits[] = {
    {KNOOP_UNIT_HOUR, {"04", NULL}},    {KNOOP_UNIT_DAY, {"14", NULL}},   {KNOOP_UNIT_WEEK, {"82", "84"}},
    {KNOOP_UNIT_4_WEEKS, {"82", "84"}}, {KNOOP_UNIT_MONTH, {"82", "84"}}, {KNOOP_UNIT_YEAR, {"82", "84"}},
    {KNOOP_UNIT_RIDE, {"82", "84"}},
};

static bool unit_fits(knoop_price_unit_t unit, const char *eenheid)
{
    for (size_t i = 0; i < sizeof fits / sizeof fits[0]; i++)
        if (fits[i].unit == unit)
            for (size_t k = 0; k < 2; k++)
                if (fits[i].eenheid[k] && strcmp(fits[i].eenheid[k], eenheid) == 0)
                    return true;
    return false;
}

int knoop_xml_tariff_of(void *ctx, const char *sender, const char *receiver, const char *code, const char *eenheid,
                        long long *cents)
{
    const knoop_broker_t *b = ctx;
    const knoop_network_t *net = b->config ? b->config->network : NULL;
    if (!net || !code[0])
        return 0;
    const knoop_contract_t *c = knoop_terms_contract_of(net, sender, receiver);
    const knoop_product_t *p = c ? knoop_network_product_by_istd(net, code) : NULL;
    const knoop_tariff_t *t = p ? knoop_contract_tariff(c, p) : NULL;
    if (!t || !unit_fits(t->unit, eenheid))
        return 0;
    *cents = llround(t->price * 100.0);
    return 1;
}
