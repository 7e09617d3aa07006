/* control_forget.h — forgetting a client (its ledger sets, route state and expectations): the operator's
 * `forget client BSN` and the periodic job that forgets the clients whose last message the retention purge removed. */
#ifndef KNOOP_CONTROL_FORGET_H
#define KNOOP_CONTROL_FORGET_H

struct knoop_broker;

/* The job (app/jobs.c): takes clients off the journal's forget queue (store/clients.h) and forgets each that no
 * retained message concerns; one batch in flight at a time. */
void knoop_forget_tick(struct knoop_broker *b);
#endif
