/* group_rules.h — consumer groups belong to their party: who may join a group (the party that created it), how many
 * groups (a name on a stream) a party may own (subscriber_max_per_party), and when a group nobody uses expires
 * (subscriber_idle_expiry). */
#ifndef KNOOP_DELIVER_GROUP_RULES_H
#define KNOOP_DELIVER_GROUP_RULES_H
#include <stddef.h>
#include "core/broker.h"

/* Whether party may join (or create) the group name on stream s: 0 yes; -EACCES the group belongs to another party;
 * -EDQUOT the name is new and party owns subscriber_max_per_party groups already; -EIO the journal cannot say now.
 * why says it in words a client can act on (never naming the other party). An ephemeral name ('~...') always may. */
int knoop_group_may_join(knoop_broker_t *b, knoop_stream_t *s, const char *name, const char *party, char *why,
                         size_t len);
/* Every purge_interval_ms (loop): removes groups with no member and nothing to deliver whose cursor row has not
 * changed for subscriber_idle_expiry (their cursor rows and attempt rows deleted, each audited). */
void knoop_group_expiry_tick(knoop_broker_t *b);
#endif
