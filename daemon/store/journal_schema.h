/* journal_schema.h — the journal's tables and their migrations, versioned with PRAGMA user_version. */
#ifndef KNOOP_JOURNAL_SCHEMA_H
#define KNOOP_JOURNAL_SCHEMA_H
#include <sqlite3.h>
#include <stddef.h>

#define KNOOP_JOURNAL_SCHEMA_VERSION 5
/* Brings db up to the current version in one transaction each step; refuses a database newer than this build. */
int knoop_journal_migrate(sqlite3 *db, char *errbuf, size_t errlen);
#endif
