/* access.c — authorisation on the loop thread: which parties exist and which streams a party may read.
 * Without a configured network a party reads only its own inbox.<party> and outcomes.<party>; a financier alone reads
 * its signals.<code> and reports.<code> (operators read every stream through the control socket). */
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

/* A financier's finance streams (legacy/finance_job.c): its signals and its period reports are its own alone. */
static bool finance_stream(const char *stream, const char **owner)
{
    static const char *const prefixes[] = {"signals.", "reports."};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(stream, prefixes[i], strlen(prefixes[i])) == 0) {
            *owner = stream + strlen(prefixes[i]);
            return true;
        }
    return false;
}

bool knoop_may_read(const knoop_broker_t *b, const char *party, const char *stream)
{
    const char *owner;
    if (finance_stream(stream, &owner)) {
        const knoop_party_t *p = b->config->network ? knoop_network_party(b->config->network, party) : NULL;
        return strcmp(owner, party) == 0 && (!b->config->network || (p && knoop_party_kind_is_financier(p->kind)));
    }
    if (b->config->network)
        return knoop_router_may_read(b->config->network, party, stream);
    char own[64];
    snprintf(own, sizeof own, "inbox.%s", party);
    if (strcmp(stream, own) == 0)
        return true;
    snprintf(own, sizeof own, "outcomes.%s", party);
    return strcmp(stream, own) == 0;
}
