/* access.c — authorisation on the loop thread: which parties exist and which streams a party may read.
 * Without a configured network a party reads only its own inbox.<party> and outcomes.<party>. */
#include <stdio.h>
#include <string.h>
#include "core/broker.h"
#include "config/network.h"
#include "route/router.h"
#include "route/access.h"

bool knoop_party_known(const knoop_broker_t *b, const char *party)
{
    if (!b->config->network)
        return true;
    return knoop_network_party(b->config->network, party) != NULL;
}

bool knoop_may_read(const knoop_broker_t *b, const char *party, const char *stream)
{
    if (b->config->network)
        return knoop_router_may_read(b->config->network, party, stream);
    char own[64];
    snprintf(own, sizeof own, "inbox.%s", party);
    if (strcmp(stream, own) == 0)
        return true;
    snprintf(own, sizeof own, "outcomes.%s", party);
    return strcmp(stream, own) == 0;
}
