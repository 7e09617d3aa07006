/* keyfile.c — reading and making key files (keyfile.h). A key that others can read may already have leaked, so it
 * is refused rather than quietly chmod-ed: the operator decides whether to rotate it. */
#include "base/keyfile.h"
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/fsutil.h"

int knoop_keyfile_read(const char *path, uint8_t key[KNOOP_KEY_BYTES], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e != ENOENT)
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(-rc));
    } else if (!S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        snprintf(err, errlen, "%s: not a regular file", path);
    } else if (st.st_uid != geteuid()) {
        rc = -EPERM;
        snprintf(err, errlen, "%s: owned by uid %u, not by knoopd's uid %u; a key must belong to the daemon's user",
                 path, (unsigned)st.st_uid, (unsigned)geteuid());
    } else if (st.st_mode & 077) {
        rc = -EPERM;
        snprintf(err, errlen,
                 "%s: mode %04o lets group or others read the key; it may have leaked: check who read it, rotate "
                 "if in doubt (docs/operations.md), and make it private (chmod 600)",
                 path, (unsigned)(st.st_mode & 07777));
    } else if (st.st_size != KNOOP_KEY_BYTES) {
        rc = -EINVAL;
        snprintf(err, errlen, "%s: %lld bytes, a key has %d", path, (long long)st.st_size, KNOOP_KEY_BYTES);
    } else {
        ssize_t n = read(fd, key, KNOOP_KEY_BYTES);
        if (n != KNOOP_KEY_BYTES) {
            rc = n < 0 ? -errno : -EIO;
            snprintf(err, errlen, "%s: cannot read the key: %s", path, n < 0 ? strerror(-rc) : "short read");
            sodium_memzero(key, KNOOP_KEY_BYTES);
        }
    }
    close(fd);
    return rc;
}

/* The directory part of path ("." when it has none). */
static void dir_of(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

int knoop_keyfile_create(const char *path, uint8_t key[KNOOP_KEY_BYTES], char *err, size_t errlen)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    int rc = knoop_mkdir_p(dir, 0700);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot create its directory %s: %s", path, dir, strerror(-rc));
        return rc;
    }
    randombytes_buf(key, KNOOP_KEY_BYTES);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(-rc));
        sodium_memzero(key, KNOOP_KEY_BYTES);
        return rc;
    }
    errno = 0;
    if (write(fd, key, KNOOP_KEY_BYTES) != KNOOP_KEY_BYTES || fsync(fd) != 0)
        rc = errno ? -errno : -EIO;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0) { /* the new name itself must be durable, not only the file's bytes */
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0)
            rc = -errno;
        if (dfd >= 0)
            close(dfd);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot write the new key: %s", path, strerror(-rc));
        unlink(path);
        sodium_memzero(key, KNOOP_KEY_BYTES);
    }
    return rc;
}
