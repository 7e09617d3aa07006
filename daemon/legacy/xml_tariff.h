/* xml_tariff.h — the contract's tariffs for the iWmo/iJw ledger's TR418 (adapters/istd/ledger.h asks through a
 * knoop_ledger_tariff_fn): the adapter knows no contracts, so knoopd answers from its network. */
#ifndef KNOOP_XML_TARIFF_H
#define KNOOP_XML_TARIFF_H

/* A knoop_ledger_tariff_fn, ctx = the broker: 1 with the tariff in eurocents when the contract between sender and
 * receiver prices the product known by this iWmo/iJw ProductCode in a unit that fits the Prestatie's Eenheid, else 0. */
int knoop_xml_tariff_of(void *ctx, const char *sender, const char *receiver, const char *code, const char *eenheid,
                        long long *cents);
#endif
