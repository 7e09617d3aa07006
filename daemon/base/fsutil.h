/* fsutil.h — file-system helpers every part of knoop needs the same way: create a directory and its parents with
 * a given mode (no shell), so the data directory and the file-exchange folders are made alike. */
#ifndef KNOOP_BASE_FSUTIL_H
#define KNOOP_BASE_FSUTIL_H
#include <sys/types.h>

/* mkdir -p: every missing component of dir is created with mode (further limited by the umask); existing ones
 * are left as they are. Returns 0 or -errno (-ENAMETOOLONG, -ENOTDIR, -EACCES ...). */
int knoop_mkdir_p(const char *dir, mode_t mode);
#endif
