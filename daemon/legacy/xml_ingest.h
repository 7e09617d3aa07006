/* xml_ingest.h — iWmo 3.2 / iJw 3.2 messages arriving at knoopd (over ZeroMQ inside an envelope, or from the file
 * adapter): level 1 and 2 checks, the assignment ledger, the retour the standard asks for, white-label rewriting. */
#ifndef KNOOP_XML_INGEST_H
#define KNOOP_XML_INGEST_H
#include <stdbool.h>
#include "core/broker.h"

/* True for content types "application/xml; iwmo-3.2; ..." and "application/xml; ijw-3.2; ...". */
bool knoop_xml_is_istd(const char *content_type);

/* Start-up: load the schema set (settings.schemas_dir, or found beside the binary) and the ledger. */
int knoop_xml_open(knoop_broker_t *b, char *errbuf, size_t errlen);
void knoop_xml_close(knoop_broker_t *b);

/* A Publish whose envelope carries an iStandaarden message. Answers the peer itself (Rejected for a level-1 failure
 * or an envelope that contradicts the XML; Accepted once journaled — the retour tells the sender whether the
 * message passed level 2). */
void knoop_xml_publish(knoop_broker_t *b, knoop_peer_t *p, uint64_t ref, Knoop__Envelope *env);
#endif
