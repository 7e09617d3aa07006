/* backup.h — an online copy of the journal while knoopd runs: SQLite's backup API on a connection and thread of its
 * own, holding one read transaction from the first page to the last, so the copy is the journal as of one commit and
 * the writer (WAL) never waits for it. The loop starts it and reads its progress; nothing else is shared. */
#ifndef KNOOP_STORE_BACKUP_H
#define KNOOP_STORE_BACKUP_H
#include <stddef.h>
#include <stdint.h>

typedef struct knoop_backup knoop_backup_t;

typedef enum knoop_backup_state {
    KNOOP_BACKUP_RUNNING,
    KNOOP_BACKUP_DONE,
    KNOOP_BACKUP_FAILED,
} knoop_backup_state_t;

typedef struct knoop_backup_status {
    knoop_backup_state_t state;
    char file[4096];
    uint64_t pages_total, pages_done;
    uint64_t bytes;    /* DONE: the copy's size */
    uint64_t last_seq; /* the last message in the copy (the snapshot it was taken at) */
    int64_t started_us, finished_us;
    char error[300]; /* FAILED: why (the partial file is removed) */
} knoop_backup_status_t;

/* Starts copying the database at db_path into dest, pausing pause_ms between steps of pages so the journal keeps the
 * disk's attention. dest must be an absolute path to a file that does not exist; it is created with mode 0600 (never
 * overwritten), written, synced and checked (PRAGMA quick_check). 0, or a negative errno with err set. */
int knoop_backup_start(const char *db_path, const char *dest, uint64_t pause_ms, knoop_backup_t **out, char *err,
                       size_t errlen);
void knoop_backup_status(knoop_backup_t *bk, knoop_backup_status_t *out);
/* Stops a running copy (its partial file is removed), waits for the thread, frees; *bk becomes NULL. */
void knoop_backup_destroy(knoop_backup_t **bk);
#endif
