/* sql_errno.h — for the files of daemon/store/ only (it includes sqlite3.h): a failed SQLite call as the negative
 * errno the typed store calls return, so a journal op's status says what went wrong (a full disk is -ENOSPC, not a
 * generic -EIO) and ingest can tell the publisher something it can act on. */
#ifndef KNOOP_STORE_SQL_ERRNO_H
#define KNOOP_STORE_SQL_ERRNO_H
#include <errno.h>
#include <sqlite3.h>

static inline int knoop_sql_errno(int rc)
{
    switch (rc & 0xff) { /* the primary code of an extended one */
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_READONLY:
        return -EROFS;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return -EUCLEAN;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_CONSTRAINT:
        return -EEXIST;
    case SQLITE_TOOBIG:
        return -EMSGSIZE;
    default: /* SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_CANTOPEN, ... */
        return -EIO;
    }
}

/* sqlite3_step that must finish (an INSERT/UPDATE): 0 or the negative errno. */
static inline int knoop_sql_step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : knoop_sql_errno(rc);
}
#endif
