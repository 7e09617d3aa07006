/* fsio.c — the durable file operations of the file-exchange adapter: atomic writes (temp file, fsync, rename,
 * fsync the directory) and moves that never overwrite, so a crash at any point leaves each file whole in one place. */
#define _GNU_SOURCE /* renameat2 and RENAME_NOREPLACE (glibc >= 2.28) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "files/files.h"
#include "base/fsutil.h"

int knoop_files_ignored_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || name[0] == '.')
        return 1;
    if (n >= 4 && strcmp(name + n - 4, ".tmp") == 0)
        return 1;
    if (n >= 5 && strcmp(name + n - 5, ".part") == 0)
        return 1;
    return 0;
}

int knoop_files_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int knoop_files_mkdirs(const char *dir)
{
    return knoop_mkdir_p(dir, 0750);
}

int knoop_files_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char tmp[4096], dst[4096];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp ||
        snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst)
        return -ENAMETOOLONG;
    /* O_EXCL: the temporary file is always a new one of ours, never an existing file or a link planted in the
     * folder. One left by a crash (ours: same hidden name) is removed and the open tried once more. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return -errno;
    const char *p = data;
    size_t left = len;
    int rc = 0;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, dst) != 0)
        rc = -errno;
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    return knoop_files_sync_dir(dir);
}

int knoop_files_free_name(const char *to_dir, const char *name, char *out, size_t outlen)
{
    const char *dot = strrchr(name, '.');
    size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
    const char *ext = name + stem;
    for (unsigned n = 0; n < 100000; n++) {
        int w =
            n == 0 ? snprintf(out, outlen, "%s", name) : snprintf(out, outlen, "%.*s.%u%s", (int)stem, name, n, ext);
        if (w < 0 || (size_t)w >= outlen)
            return -ENAMETOOLONG;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", to_dir, out) >= (int)sizeof path)
            return -ENAMETOOLONG;
        struct stat st;
        if (lstat(path, &st) != 0) {
            if (errno == ENOENT)
                return 0;
            return -errno;
        }
    }
    return -EEXIST;
}

int knoop_files_move(const char *from_dir, const char *name, const char *to_dir, char *final, size_t finallen)
{
    char chosen[1024], src[4096], dst[4096];
    int rc = knoop_files_free_name(to_dir, name, chosen, sizeof chosen);
    if (rc != 0)
        return rc;
    if (snprintf(src, sizeof src, "%s/%s", from_dir, name) >= (int)sizeof src ||
        snprintf(dst, sizeof dst, "%s/%s", to_dir, chosen) >= (int)sizeof dst)
        return -ENAMETOOLONG;
    /* link + unlink instead of rename: link fails rather than replace a file that appeared meanwhile. Where the
     * file system has no hard links, renameat2(RENAME_NOREPLACE) keeps the same promise; where it has neither,
     * the move fails rather than overwrite. */
    if (link(src, dst) != 0) {
        if (errno != EPERM && errno != ENOTSUP && errno != EXDEV)
            return -errno;
        if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) != 0)
            return errno == EINVAL ? -ENOTSUP : -errno;
    } else if (unlink(src) != 0) {
        return -errno;
    }
    if ((rc = knoop_files_sync_dir(to_dir)) != 0 || (rc = knoop_files_sync_dir(from_dir)) != 0)
        return rc;
    if (final)
        snprintf(final, finallen, "%s", chosen);
    return 0;
}

static const char *extension_of(const char *ct)
{
    if (!ct || !ct[0])
        return "bin";
    if (strncmp(ct, "application/xml", 15) == 0 || strncmp(ct, "text/xml", 8) == 0)
        return "xml";
    if (strncmp(ct, "application/json", 16) == 0)
        return "json";
    if (strncmp(ct, "text/", 5) == 0)
        return "txt";
    return "bin";
}

static void safe_part(const char *in, char *out, size_t cap, const char *fallback)
{
    size_t n = 0;
    if (!in || !in[0])
        in = fallback;
    for (; *in && n + 1 < cap; in++) {
        char c = *in;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
}

void knoop_files_outbox_name(unsigned long long seq, const char *message_type, const char *identificatie,
                             const char *content_type, char *out, size_t outlen)
{
    char type[64], id[64];
    safe_part(message_type, type, sizeof type, "message");
    safe_part(identificatie, id, sizeof id, "none");
    snprintf(out, outlen, "%llu-%s-%s.%s", seq, type, id, extension_of(content_type));
}
