/*
 * bunko/fs.h — the path and directory helpers every stage shares: joining
 * a directory and a name, and making a directory's entries durable.
 *
 * Why a header of static inline functions: as bunko/buf.h, so that the
 * index (which links no other stage) and the store use the same code
 * without a link dependency between them.
 */
#ifndef BUNKO_FS_H
#define BUNKO_FS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bunko/common.h"

/* "dir/name", newly allocated (caller frees); NULL when out of memory. */
static inline char *bk_path_join(const char *dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* fsync(2) on a directory, so that the entries created, renamed or removed
 * in it survive a crash. 0, or -1 with the error in `err`. Filesystems
 * that refuse fsync on directories (EINVAL, EROFS) are not an error: no
 * data is lost there. */
static inline int bk_fsync_dir(const char *dir, struct bk_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bk_error_set(err, "cannot open directory '%s': %s", dir,
				    strerror(errno));
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	if (rc && saved != EINVAL && saved != EROFS)
		return bk_error_set(err, "cannot sync directory '%s': %s", dir,
				    strerror(saved));
	return 0;
}

#endif
