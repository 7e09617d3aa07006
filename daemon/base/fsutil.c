/* fsutil.c — mkdir -p without a shell (fsutil.h). */
#include "base/fsutil.h"
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

int knoop_mkdir_p(const char *dir, mode_t mode)
{
    char path[4096];
    if (!dir || !*dir)
        return -EINVAL;
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -ENAMETOOLONG;
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(path, mode) != 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    if (mkdir(path, mode) != 0 && errno != EEXIST)
        return -errno;
    struct stat st;
    if (stat(path, &st) != 0)
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}
