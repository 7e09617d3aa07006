/* xml_budget.c — the iWmo/iJw adapter's part in the budget ledger: the lines of an accepted 305, 307 or 323, each with
 * its client's keyed BSN hash, handed to finance/budget_ledger.c, whose rows are written in the message's transaction.
 * The decoded message is the adapter's; the ledger sees only neutral lines (no BSN, no XML). */
#include "legacy/xml_budget.h"
#include <stdlib.h>
#include "finance/budget_ledger.h"
#include "legacy/xml_ledger.h"
void knoop_xml_budget_rows(knoop_broker_t *b, const knoop_istd_msg_t *msg, const char *contract, knoop_msg_op_t *m)
{
    knoop_budget_line_t *lines = calloc(msg->n_lines ? msg->n_lines : 1, sizeof *lines);
    uint8_t(*keys)[32] = calloc(msg->n_clients ? msg->n_clients : 1, sizeof *keys);
    bool *keyed = calloc(msg->n_clients ? msg->n_clients : 1, sizeof *keyed);
    for (size_t c = 0; lines && keys && keyed && c < msg->n_clients; c++) {
        size_t klen;
        keyed[c] = knoop_xml_key_of_bsn(b, msg->clients[c].bsn, keys[c], sizeof keys[c], &klen) == 0 && klen == 32;
    }
    size_t n = 0;
    for (size_t i = 0; lines && keys && keyed && i < msg->n_lines; i++) {
        const knoop_istd_line_t *l = &msg->lines[i];
        if (l->client >= msg->n_clients || !keyed[l->client])
            continue;
        lines[n++] = (knoop_budget_line_t){.number = msg->type->number,
                                           .client_ref = keys[l->client],
                                           .client_ref_len = 32,
                                           .code = l->code,
                                           .begin = l->begin,
                                           .end = l->end,
                                           .volume = l->volume,
                                           .bedrag = l->bedrag};
    }
    void *rows = n ? knoop_budget_istd(b->config->network, contract, knoop_istd_msg_sender(msg),
                                       knoop_istd_msg_receiver(msg), lines, n)
                   : NULL;
    if (rows)
        knoop_message_add_extra(m, knoop_budget_apply, rows);
    free(lines);
    free(keys);
    free(keyed);
}
