/* journal_schema.c — every table of the journal lives in one database so a commit is atomic across them.
 * A migration is appended to the list, never edited once released; user_version says how many ran. */
#include "store/journal_schema.h"
#include <stdio.h>

static const char *const migrations[] = {
    /* 1: messages, deduplication, streams, cursors, dead letters, audit, routing. */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    /* One row per accepted message; envelope is the packed knoop.Envelope without seq (seq is the key). */
    "CREATE TABLE messages("
    "  seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL, sender TEXT NOT NULL, publisher TEXT NOT NULL,"
    "  receiver TEXT NOT NULL,"
    "  kind INTEGER NOT NULL, message_type TEXT NOT NULL, identificatie TEXT NOT NULL, client_ref BLOB,"
    "  accepted_us INTEGER NOT NULL, route TEXT, envelope BLOB NOT NULL);"
    /* sender is the identity receivers see (the cooperative for a white-label member), publisher who sent it.
     * Deduplication: (sender, message_type, identificatie) is unique among the retained messages, so a dedup key
     * lives exactly as long as its message and costs one index entry, not a table of its own. */
    "CREATE UNIQUE INDEX messages_dedup ON messages(sender, message_type, identificatie) WHERE identificatie <> '';"
    "CREATE TABLE streams(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_us INTEGER NOT NULL);"
    /* A message routed to several streams is stored once and referenced from each. */
    "CREATE TABLE stream_entries(stream_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  PRIMARY KEY(stream_id, seq)) WITHOUT ROWID;"
    /* Durable cursor of a named subscriber: everything up to acked_seq is settled; delivered_seq is the highest
     * seq ever sent, so a delivery after a restart of something sent before it says attempt > 1. */
    "CREATE TABLE subscribers(stream_id INTEGER NOT NULL, name TEXT NOT NULL, acked_seq INTEGER NOT NULL,"
    "  delivered_seq INTEGER NOT NULL, updated_us INTEGER NOT NULL, PRIMARY KEY(stream_id, name)) WITHOUT ROWID;"
    /* Deliveries beyond the first, kept so attempts survive a restart. */
    "CREATE TABLE delivery_attempts(stream_id INTEGER NOT NULL, name TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL, last_reason TEXT NOT NULL, PRIMARY KEY(stream_id, name, seq)) WITHOUT ROWID;"
    "CREATE TABLE dead_letters(id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, stream TEXT NOT NULL,"
    "  subscriber TEXT NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL, attempts INTEGER NOT NULL,"
    "  created_us INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'open', settled_us INTEGER);"
    /* state: open -> retrying (dlq retry of a delivery dead letter, until the group settles it) -> retried; open ->
     * discarded; open -> expired (retention purged its message). */
    "CREATE INDEX dead_letters_state ON dead_letters(state, id);"
    "CREATE INDEX dead_letters_seq ON dead_letters(seq);"
    /* Every operator action (dlq retry/discard, subscriber rewind, purge now): who, when, what. */
    "CREATE TABLE audit(id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, actor TEXT NOT NULL,"
    "  action TEXT NOT NULL, detail TEXT NOT NULL);"
    /* The iWmo/iJw assignment ledger (adapters/istd/ledger.h): per client x provider the current set from 301s. */
    "CREATE TABLE ledger(client_ref BLOB NOT NULL, provider TEXT NOT NULL, assignments BLOB NOT NULL,"
    "  updated_us INTEGER NOT NULL, PRIMARY KEY(client_ref, provider)) WITHOUT ROWID;"
    /* Open expectations of the iWmo/iJw deadlines (daemon/deadlines.h): what is owed, by whom, until when. */
    "CREATE TABLE expectations(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, trigger_seq INTEGER NOT NULL,"
    "  trigger_type TEXT NOT NULL, trigger_id TEXT NOT NULL, owed_by TEXT NOT NULL, owed_to TEXT NOT NULL,"
    "  expected TEXT NOT NULL, due TEXT NOT NULL, closed_seq INTEGER, alerted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX expectations_open ON expectations(closed_seq, due);"
    /* Router memory that must survive restarts (route_state.h rows): sticky client -> member per contract, clients
     * passed to subcontractors. Written in the same transaction as the message whose routing changed it. */
    "CREATE TABLE route_state(kind INTEGER NOT NULL, scope TEXT NOT NULL, client_ref BLOB NOT NULL,"
    "  party TEXT NOT NULL, active INTEGER NOT NULL, former TEXT NOT NULL, updated_us INTEGER NOT NULL,"
    "  PRIMARY KEY(kind, scope, client_ref)) WITHOUT ROWID;",
    /* 2: the expectations' look-ups in indexed time (store/expectations.c). The overdue check narrows to the open
     * rows not alerted yet and past due; closing finds the oldest open row of (kind, trigger, the two parties), in id
     * order, over open rows only. */
    "CREATE INDEX expectations_overdue ON expectations(closed_seq, alerted, due);"
    "CREATE INDEX expectations_owed ON expectations(kind, trigger_type, owed_by, owed_to) WHERE closed_seq IS NULL;",
    /* 3: the budget ledger (store/budget.c) and what the finance layer remembers (store/finance.c), written in the
     * transaction of the message that feeds them or of the signal or report knoopd publishes. Days are day numbers
     * (days since 1970-01-01), so any calendar period is a range of the primary key. */
    /* A client in care under a contract with one product, from since_day to until_day (open: NULL); a change of
     * intensity closes one episode of a product group and opens another. */
    "CREATE TABLE budget_episodes(contract TEXT NOT NULL, client_ref BLOB NOT NULL, product TEXT NOT NULL,"
    "  since_day INTEGER NOT NULL, until_day INTEGER, grp TEXT NOT NULL, member TEXT NOT NULL, seq INTEGER NOT NULL,"
    "  PRIMARY KEY(contract, client_ref, product, since_day)) WITHOUT ROWID;"
    "CREATE INDEX budget_episodes_open ON budget_episodes(contract, client_ref, grp) WHERE until_day IS NULL;"
    "CREATE INDEX budget_episodes_since ON budget_episodes(contract, since_day);"
    /* Units and euros per contract, day, product, member and client (declarations, iWmo 323 lines): tariff x units
     * as knoopd computes it, and what was declared. */
    "CREATE TABLE budget_use(contract TEXT NOT NULL, day INTEGER NOT NULL, product TEXT NOT NULL, member TEXT NOT NULL,"
    "  client_ref BLOB NOT NULL, units REAL NOT NULL, amount_cents INTEGER NOT NULL, declared_cents INTEGER NOT NULL,"
    "  PRIMARY KEY(contract, day, product, member, client_ref)) WITHOUT ROWID;"
    /* Changes of intensity the provider made (light -> medium), so the municipality learns of them. */
    "CREATE TABLE budget_changes(contract TEXT NOT NULL, day INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  client_ref BLOB NOT NULL, from_product TEXT NOT NULL, to_product TEXT NOT NULL,"
    "  PRIMARY KEY(contract, day, seq, to_product)) WITHOUT ROWID;"
    /* Outcome values per contract and reported period: a contract-level report's values (the latest replaces), the
     * sum and count of client-level scores. */
    "CREATE TABLE finance_outcomes(contract TEXT NOT NULL, start_day INTEGER NOT NULL, end_day INTEGER NOT NULL,"
    "  level INTEGER NOT NULL, indicator TEXT NOT NULL, grp TEXT NOT NULL, total REAL NOT NULL, n INTEGER NOT NULL,"
    "  text TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(contract, start_day, level, indicator, grp)) WITHOUT "
    "ROWID;"
    /* The day knoopd first saw a contract: its calendar's periods count from the one holding that day. */
    "CREATE TABLE finance_contracts(contract TEXT PRIMARY KEY, since_day INTEGER NOT NULL) WITHOUT ROWID;"
    /* Each signal once: (contract, kind, period) is raised by the message seq. */
    "CREATE TABLE finance_signals(contract TEXT NOT NULL, kind TEXT NOT NULL, period TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, PRIMARY KEY(contract, kind, period)) WITHOUT ROWID;"
    /* Each period's report once, with the figures it published (JSON). */
    "CREATE TABLE finance_reports(contract TEXT NOT NULL, period_day INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  figures TEXT NOT NULL, PRIMARY KEY(contract, period_day)) WITHOUT ROWID;",
    /* 4: trust. Audit rows name the client whose data an action read (client_ref: the keyed hash, never the BSN),
     * so `knoopctl audit client` is one index range per table; audit_reads has a row per delivery (who received
     * which message, when), written in batches (deliver/read_audit.c), with the message's client reference copied
     * in so the record outlives the message's retention. A consumer group belongs to the party that created it
     * (subscribers.owner; '' for a group made before this version: the first party to join claims it). */
    "ALTER TABLE audit ADD COLUMN client_ref BLOB;"
    "CREATE INDEX audit_client ON audit(client_ref, id) WHERE client_ref IS NOT NULL;"
    /* Who read: one row per (party, stream, subscriber), so a delivery row is a few integers. */
    "CREATE TABLE audit_readers(id INTEGER PRIMARY KEY, party TEXT NOT NULL, stream TEXT NOT NULL,"
    "  subscriber TEXT NOT NULL, UNIQUE(party, stream, subscriber));"
    "CREATE TABLE audit_reads(id INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  reader INTEGER NOT NULL, attempt INTEGER NOT NULL, client_ref BLOB);"
    "CREATE INDEX audit_reads_client ON audit_reads(client_ref, id) WHERE client_ref IS NOT NULL;"
    "ALTER TABLE subscribers ADD COLUMN owner TEXT NOT NULL DEFAULT '';"
    /* The cap on group names per party counts one owner's rows; idle expiry looks for the oldest updates. */
    "CREATE INDEX subscribers_owner ON subscribers(owner);"
    "CREATE INDEX subscribers_idle ON subscribers(updated_us);",
    /* 5: a client can be forgotten, and is once its messages are long gone (docs/journal.md: personal data). Each
     * table keyed by client reference is reachable by it in indexed time: route_state is rebuilt with the client
     * first in its primary key (a lookup by the whole key is as before, and no second index costs a write per row
     * change); an expectation takes the reference of the
     * message that opened it (store/expectations.c) and goes with that message's purge (by trigger_seq). clients holds
     * when each client's last message came (refreshed at most once per interval: ingest/client_seen.h), indexed by
     * that time for the forget job; it starts from what the journal holds (a one-time scan at this migration). No
     * index on messages.client_ref: it would cost a random index write per message. */
    "ALTER TABLE expectations ADD COLUMN client_ref BLOB;"
    "UPDATE expectations SET client_ref = (SELECT m.client_ref FROM messages m WHERE m.seq = expectations.trigger_seq);"
    "CREATE INDEX expectations_client ON expectations(client_ref) WHERE client_ref IS NOT NULL;"
    "CREATE INDEX expectations_trigger ON expectations(trigger_seq);"
    "CREATE TABLE route_state_new(kind INTEGER NOT NULL, scope TEXT NOT NULL, client_ref BLOB NOT NULL,"
    "  party TEXT NOT NULL, active INTEGER NOT NULL, former TEXT NOT NULL, updated_us INTEGER NOT NULL,"
    "  PRIMARY KEY(client_ref, kind, scope)) WITHOUT ROWID;"
    "INSERT INTO route_state_new SELECT kind, scope, client_ref, party, active, former, updated_us FROM route_state;"
    "DROP TABLE route_state;"
    "ALTER TABLE route_state_new RENAME TO route_state;"
    "CREATE TABLE clients(client_ref BLOB PRIMARY KEY, seen_us INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX clients_seen ON clients(seen_us);"
    "INSERT INTO clients SELECT client_ref, max(accepted_us) FROM messages WHERE client_ref IS NOT NULL "
    "  GROUP BY client_ref;"
    "INSERT OR IGNORE INTO clients SELECT client_ref, max(updated_us) FROM route_state GROUP BY client_ref;"
    "INSERT OR IGNORE INTO clients SELECT client_ref, max(updated_us) FROM ledger GROUP BY client_ref;",
};
#define MIGRATIONS (int)(sizeof migrations / sizeof migrations[0])
_Static_assert(MIGRATIONS == KNOOP_JOURNAL_SCHEMA_VERSION, "a new migration raises KNOOP_JOURNAL_SCHEMA_VERSION");

static int exec(sqlite3 *db, const char *sql, char *errbuf, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        snprintf(errbuf, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc;
}

int knoop_journal_migrate(sqlite3 *db, char *errbuf, size_t errlen)
{
    sqlite3_stmt *st;
    int version = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return snprintf(errbuf, errlen, "%s", sqlite3_errmsg(db)), -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > MIGRATIONS) {
        snprintf(errbuf, errlen, "journal schema version %d is newer than this knoopd (%d); refusing to open it",
                 version, MIGRATIONS);
        return -1;
    }
    for (int v = version; v < MIGRATIONS; v++) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
        if (exec(db, "BEGIN IMMEDIATE", errbuf, errlen) != SQLITE_OK)
            return -1;
        if (exec(db, migrations[v], errbuf, errlen) != SQLITE_OK || exec(db, sql, errbuf, errlen) != SQLITE_OK) {
            char ignored[8];
            exec(db, "ROLLBACK", ignored, sizeof ignored);
            return -1;
        }
        if (exec(db, "COMMIT", errbuf, errlen) != SQLITE_OK)
            return -1;
    }
    return 0;
}
