/* xml_budget.h — feeds the budget ledger (finance/budget_ledger.h) from an accepted iWmo/iJw 305 (start), 307 (stop)
 * or 323 (declaration lines: units and euros), as an extra of the message's op. */
#ifndef KNOOP_XML_BUDGET_H
#define KNOOP_XML_BUDGET_H
#include "core/broker.h"
#include "ingest/message_op.h"
#include "istd/istd.h"

/* Adds the ledger rows of msg, travelling under contract (its name; "" adds nothing), to m. */
void knoop_xml_budget_rows(knoop_broker_t *b, const knoop_istd_msg_t *msg, const char *contract, knoop_msg_op_t *m);
#endif
