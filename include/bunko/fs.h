/*
 * bunko/fs.h — the path and directory helpers every stage shares: joining
 * a directory and a name, making a directory's entries durable, listing a
 * directory, removing a tree.
 *
 * The two smallest are static inline (as bunko/buf.h); the others live in
 * core/fs.c, part of the core library that every stage links.
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

/* The names in `dir`, dot names skipped, sorted by strcmp: *names (free
 * with bk_names_free) has *count entries, NULL when there are none. 0, or
 * -1 with `err` quoting the directory. */
int bk_list_dir(const char *dir, char ***names, size_t *count, struct bk_error *err);
void bk_names_free(char **names, size_t count);

/* rm -rf `path` (not following symbolic links); a path that is already
 * gone is no error. 0, or -1 with `err` quoting the path. */
int bk_rm_tree(const char *path, struct bk_error *err);

#endif
