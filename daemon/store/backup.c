/* backup.c — the online backup's thread: a private connection opens one read transaction (the snapshot), copies the
 * pages in steps with sqlite3_backup_step into a file it created with O_EXCL and mode 0600, syncs the file and its
 * directory, checks the copy, and only then says DONE. In WAL mode the writer never waits for a reader, and because
 * the read transaction stays open across steps, commits made meanwhile do not restart the copy: it is the journal
 * as it was at one commit. */
#include "store/backup.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "base/clock.h"
#include "base/log.h"
#include "store/journal_sql.h"

#define STEP_PAGES 256 /* 1 MiB of 4 KiB pages per step */

struct knoop_backup {
    char *src; /* owned */
    uint64_t pause_ms;
    pthread_t thread;
    pthread_mutex_t lock; /* guards status */
    knoop_backup_status_t status;
    atomic_bool cancel;
};

static void sleep_ms(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void set_progress(knoop_backup_t *bk, uint64_t total, uint64_t done)
{
    pthread_mutex_lock(&bk->lock);
    bk->status.pages_total = total;
    bk->status.pages_done = done;
    pthread_mutex_unlock(&bk->lock);
}

/* The copy's file and the directory entry that names it, on disk. */
static int sync_file_and_dir(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "fsync %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -EIO;
    }
    close(fd);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        if (fsync(fd) != 0)
            knoop_log_warn("backup.sync_dir", "dir=\"%s\" error=\"%s\"", dir, strerror(errno));
        close(fd);
    }
    return 0;
}

static int quick_check(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK)
        return snprintf(err, errlen, "checking the copy: %s", sqlite3_errmsg(db)), -EIO;
    int rc = sqlite3_step(st);
    const unsigned char *verdict = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    int result = verdict && strcmp((const char *)verdict, "ok") == 0 ? 0 : -EUCLEAN;
    if (result != 0)
        snprintf(err, errlen, "the copy failed its check: %s", verdict ? (const char *)verdict : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return result;
}

/* Opens the snapshot: a read transaction on a private connection, with the last seq it holds. */
static int open_source(knoop_backup_t *bk, sqlite3 **src, uint64_t *last_seq, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(bk->src, src, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(*src, 10000);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(*src, "PRAGMA query_only=1; BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *st = NULL;
    if (rc == SQLITE_OK &&
        (rc = sqlite3_prepare_v2(*src, "SELECT coalesce(max(seq), 0) FROM messages", -1, &st, NULL)) == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *last_seq = (uint64_t)sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "reading %s: %s", bk->src, *src ? sqlite3_errmsg(*src) : sqlite3_errstr(rc));
        return knoop_sql_errno(rc) ? knoop_sql_errno(rc) : -EIO;
    }
    return 0;
}

static int copy(knoop_backup_t *bk, const char *dest, char *err, size_t errlen)
{
    sqlite3 *src = NULL, *dst = NULL;
    uint64_t last_seq = 0;
    int result = open_source(bk, &src, &last_seq, err, errlen);
    int rc = SQLITE_OK;
    if (result == 0 &&
        (rc = sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)) != SQLITE_OK) {
        snprintf(err, errlen, "opening %s: %s", dest, dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
        result = knoop_sql_errno(rc);
    }
    sqlite3_backup *b = result == 0 ? sqlite3_backup_init(dst, "main", src, "main") : NULL;
    if (result == 0 && !b) {
        snprintf(err, errlen, "starting the copy: %s", sqlite3_errmsg(dst));
        result = -EIO;
    }
    while (b) {
        if (atomic_load(&bk->cancel)) {
            snprintf(err, errlen, "cancelled: knoopd stopped");
            result = -ECANCELED;
            break;
        }
        rc = sqlite3_backup_step(b, STEP_PAGES);
        int total = sqlite3_backup_pagecount(b), left = sqlite3_backup_remaining(b);
        set_progress(bk, (uint64_t)total, (uint64_t)(total - left));
        if (rc == SQLITE_DONE)
            break;
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            sleep_ms(10);
            continue;
        }
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "copying: %s", sqlite3_errstr(rc));
            result = knoop_sql_errno(rc);
            break;
        }
        for (uint64_t slept = 0; slept < bk->pause_ms && !atomic_load(&bk->cancel); slept += 50)
            sleep_ms(bk->pause_ms - slept < 50 ? bk->pause_ms - slept : 50); /* a stop does not wait for the pause */
    }
    if (b && (rc = sqlite3_backup_finish(b)) != SQLITE_OK && result == 0) {
        snprintf(err, errlen, "finishing the copy: %s", sqlite3_errmsg(dst));
        result = knoop_sql_errno(rc);
    }
    if (src) {
        (void)sqlite3_exec(src, "COMMIT", NULL, NULL, NULL); /* ends the read transaction; it wrote nothing */
        sqlite3_close(src);
    }
    if (result == 0)
        result = quick_check(dst, err, errlen);
    if (dst && sqlite3_close(dst) != SQLITE_OK && result == 0) {
        snprintf(err, errlen, "closing %s: %s", dest, sqlite3_errmsg(dst));
        result = -EIO;
    }
    if (result == 0)
        result = sync_file_and_dir(dest, err, errlen);
    pthread_mutex_lock(&bk->lock);
    bk->status.last_seq = last_seq;
    pthread_mutex_unlock(&bk->lock);
    return result;
}

static void *backup_main(void *arg)
{
    knoop_backup_t *bk = arg;
    char err[300] = "";
    const char *dest = bk->status.file; /* fixed before the thread starts */
    int rc = copy(bk, dest, err, sizeof err);
    struct stat st;
    uint64_t bytes = rc == 0 && stat(dest, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (rc != 0 && unlink(dest) != 0 && errno != ENOENT)
        knoop_log_warn("backup.unlink", "file=\"%s\" error=\"%s\"", dest, strerror(errno));
    pthread_mutex_lock(&bk->lock);
    bk->status.state = rc == 0 ? KNOOP_BACKUP_DONE : KNOOP_BACKUP_FAILED;
    bk->status.bytes = bytes;
    bk->status.finished_us = (int64_t)knoop_now_us();
    snprintf(bk->status.error, sizeof bk->status.error, "%s", err);
    uint64_t last_seq = bk->status.last_seq;
    double secs = (double)(bk->status.finished_us - bk->status.started_us) / 1e6;
    pthread_mutex_unlock(&bk->lock);
    if (rc == 0)
        knoop_log_info("backup.done", "file=\"%s\" bytes=%llu last_seq=%llu seconds=%.3f", dest,
                       (unsigned long long)bytes, (unsigned long long)last_seq, secs);
    else
        knoop_log_error("backup.failed", "file=\"%s\" error=\"%s\"", dest, err);
    return NULL;
}

int knoop_backup_start(const char *db_path, const char *dest, uint64_t pause_ms, knoop_backup_t **out, char *err,
                       size_t errlen)
{
    *out = NULL;
    if (dest[0] != '/')
        return snprintf(err, errlen, "%s: give an absolute path (knoopd's working directory is not yours)", dest),
               -EINVAL;
    if (strlen(dest) >= sizeof((knoop_backup_status_t *)0)->file)
        return snprintf(err, errlen, "backup path too long"), -ENAMETOOLONG;
    /* Created here, on the caller's thread, so "it exists" or "no such directory" is the command's answer. */
    int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", dest,
                 e == EEXIST ? "the file exists; a backup never overwrites one (choose a new name)" : strerror(e));
        return -e;
    }
    close(fd);
    knoop_backup_t *bk = calloc(1, sizeof *bk);
    int rc = bk ? pthread_mutex_init(&bk->lock, NULL) : ENOMEM;
    if (rc == 0 && !(bk->src = strdup(db_path))) {
        pthread_mutex_destroy(&bk->lock);
        rc = ENOMEM;
    }
    if (rc == 0) {
        bk->pause_ms = pause_ms;
        bk->status.state = KNOOP_BACKUP_RUNNING;
        bk->status.started_us = (int64_t)knoop_now_us();
        snprintf(bk->status.file, sizeof bk->status.file, "%s", dest);
        if ((rc = pthread_create(&bk->thread, NULL, backup_main, bk)) != 0) {
            pthread_mutex_destroy(&bk->lock);
            free(bk->src);
        }
    }
    if (rc != 0) {
        free(bk);
        unlink(dest);
        snprintf(err, errlen, "cannot start the backup: %s", strerror(rc));
        return -rc;
    }
    knoop_log_info("backup.started", "file=\"%s\"", dest);
    *out = bk;
    return 0;
}

void knoop_backup_status(knoop_backup_t *bk, knoop_backup_status_t *out)
{
    pthread_mutex_lock(&bk->lock);
    *out = bk->status;
    pthread_mutex_unlock(&bk->lock);
}

void knoop_backup_destroy(knoop_backup_t **bkp)
{
    if (!bkp || !*bkp)
        return;
    knoop_backup_t *bk = *bkp;
    *bkp = NULL;
    atomic_store(&bk->cancel, true);
    int rc = pthread_join(bk->thread, NULL);
    if (rc != 0)
        knoop_log_error("backup.join", "error=\"%s\"", strerror(rc));
    pthread_mutex_destroy(&bk->lock);
    free(bk->src);
    free(bk);
}
