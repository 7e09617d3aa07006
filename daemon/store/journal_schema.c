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
    /* 3: a client can be forgotten, and is once its messages are long gone (docs/journal.md: personal data). Each
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
