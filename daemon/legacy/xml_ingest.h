/* xml_ingest.h — the iWmo 3.2 / iJw 3.2 protocol adapter (ingest/adapter.h): level 1 and 2 checks, the assignment
 * ledger, the retour the standard asks for, white-label rewriting. Its row in app/adapter_table.c puts these
 * functions into the one ingest pipeline (ingest/pipeline.c); start-up calls knoop_xml_open. */
#ifndef KNOOP_XML_INGEST_H
#define KNOOP_XML_INGEST_H
#include <stdbool.h>
#include "core/broker.h"
#include "ingest/adapter.h"
#include "ingest/message_op.h"

/* True for content types "application/xml; iwmo-3.2; ..." and "application/xml; ijw-3.2; ...". */
bool knoop_xml_is_istd(const char *content_type);

/* Start-up: load the schema set (settings.schemas_dir, or found beside the binary) and the ledger. */
int knoop_xml_open(knoop_broker_t *b, char *errbuf, size_t errlen);
void knoop_xml_close(knoop_broker_t *b);

/* The adapter's steps (ingest/adapter.h). step: level 1 (a failure is a refusal: Rejected, no retour), the envelope
 * fields from the XML, level 2 and the ledger check (a failure makes the message undelivered: journaled for the
 * record with a retour naming the codes). finish: the retour (a companion), the ledger rows
 * of an accepted 301 (assignments) or 323 (declared Prestaties) and the expectations. release: takes an unstored
 * 301/323 back out of the ledger. */
void knoop_xml_step(knoop_broker_t *b, const char *publisher, Knoop__Envelope *env, knoop_facts_t *f);
void knoop_xml_finish(knoop_broker_t *b, knoop_facts_t *f, Knoop__Envelope *env, const knoop_route_result_t *route,
                      knoop_msg_op_t *m);
void knoop_xml_release(knoop_broker_t *b, knoop_facts_t *f, bool stored);
/* The adapter's white-label rewrite (ingest/adapter.h): parse, knoop_istd_whitelabel_out, encode. */
int knoop_xml_whitelabel(knoop_broker_t *b, const uint8_t *payload, size_t len, const char *const *members, size_t n,
                         const char *to, uint8_t **out, size_t *out_len, char *why, size_t whylen);
#endif
