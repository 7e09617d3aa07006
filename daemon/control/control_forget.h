/* control_forget.h — forgetting a client (its ledger sets, route state and expectations): the operator's
 * `forget client BSN` and the periodic job that forgets the clients whose last message is older than every
 * retention, so gone from the journal. */
#ifndef KNOOP_CONTROL_FORGET_H
#define KNOOP_CONTROL_FORGET_H

struct knoop_broker;

/* The job (app/jobs.c): forgets up to 64 clients not seen for longer than the longest retention of any kind plus the
 * granularity of the last-seen record (ingest/client_seen.h); one batch in flight at a time. */
void knoop_forget_tick(struct knoop_broker *b);
#endif
