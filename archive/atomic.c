/*
 * archive/atomic.c — temp file + fsync + rename (see atomic.h for the
 * protocol and what it guarantees).
 */
#ifndef _GNU_SOURCE /* the build defines it; standalone builds need it */
#define _GNU_SOURCE
#endif
#include "archive/atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir_of(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return NULL;
	char *d = strdup(dirname(copy));
	free(copy);
	return d;
}

unsigned bk_file_mode_in(unsigned dir_mode)
{
	return dir_mode & 0644;
}

/* Permission bits for a new entry of `dir`: a file's or a directory's. */
static int mode_in(const char *dir, int is_dir, unsigned *mode,
		   struct bk_error *err)
{
	struct stat st;

	if (stat(dir, &st))
		return bk_error_set(err, "cannot open directory '%s': %s", dir,
				    strerror(errno));
	*mode = is_dir ? (unsigned)st.st_mode & 0755
		       : bk_file_mode_in((unsigned)st.st_mode);
	return 0;
}

/* Gives a file just created (mode 0600) the mode of its directory. */
static int fd_take_dir_mode(int fd, const char *path, struct bk_error *err)
{
	char *dir = dir_of(path);
	unsigned mode = 0600;
	int rc = -1;

	if (!dir)
		return bk_error_set(err, "cannot create '%s': out of memory", path);
	if (mode_in(dir, 0, &mode, err))
		goto out;
	if (fchmod(fd, mode)) {
		bk_error_set(err, "cannot set the mode of '%s': %s", path,
			     strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

int bk_create_file(const char *path, int flags, struct bk_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0600);

	if (fd < 0) {
		int saved = errno; /* the caller may tell EEXIST apart */
		bk_error_set(err, "cannot create '%s': %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (fd_take_dir_mode(fd, path, err)) {
		close(fd);
		if (flags & O_EXCL)
			unlink(path);
		return -1;
	}
	return fd;
}

/* mkdir's bits lost what the umask took: they are set again before
 * anything is inside; the set-group-ID bit it inherited stays, and is
 * checked to have stayed. */
int bk_dir_set_mode(const char *path, unsigned mode, struct bk_error *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int rc = -1;

	if (fd < 0 || fstat(fd, &st)) {
		bk_error_set(err, "cannot open directory '%s': %s", path,
			     strerror(errno));
		goto out;
	}
	unsigned want = (mode & 0777) | ((unsigned)st.st_mode & S_ISGID);
	if (((unsigned)st.st_mode & 07777) != want &&
	    (fchmod(fd, want) || fstat(fd, &st))) {
		bk_error_set(err, "cannot set the mode of '%s': %s", path,
			     strerror(errno));
		goto out;
	}
	if (((unsigned)st.st_mode & 07777) != want) {
		/* chmod by a non-member of the group clears set-group-ID */
		bk_error_set(err, "cannot keep directory '%s' in group %ld: this user is not a member of it",
			     path, (long)st.st_gid);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int bk_mkdir_mode(const char *path, unsigned mode, struct bk_error *err)
{
	if (mkdir(path, mode & 0777))
		return bk_error_set(err, "cannot create directory '%s': %s", path,
				    strerror(errno));
	if (bk_dir_set_mode(path, mode, err)) {
		rmdir(path);
		return -1;
	}
	return 0;
}

int bk_atomic_open(struct bk_atomic_file *af, const char *path,
		   struct bk_error *err)
{
	char *dir = NULL, *copy = NULL;
	int rc = -1, fd = -1;

	memset(af, 0, sizeof(*af));
	dir = dir_of(path);
	copy = strdup(path);
	if (!dir || !copy) {
		bk_error_set(err, "out of memory opening '%s'", path);
		goto out;
	}
	/* mkstemp makes the name unique across threads, processes and hosts
	 * sharing the directory; the pid in it helps a human reading a crash. */
	if (asprintf(&af->tmp_path, "%s/.%s.tmp.%ld.XXXXXX", dir, basename(copy),
		     (long)getpid()) < 0) {
		af->tmp_path = NULL;
		bk_error_set(err, "out of memory opening '%s'", path);
		goto out;
	}
	/* Errors name the file the caller asked for: the temporary's name
	 * means nothing to a user. */
	af->final_path = strdup(path);
	if (!af->final_path) {
		bk_error_set(err, "cannot create '%s': out of memory", path);
		goto out;
	}
	fd = mkostemp(af->tmp_path, O_CLOEXEC); /* mode 0600 */
	if (fd < 0) {
		bk_error_set(err, "cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fd_take_dir_mode(fd, path, err))
		goto out;
	af->fp = fdopen(fd, "wb");
	if (!af->fp) {
		bk_error_set(err, "cannot create '%s': %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	rc = 0;
out:
	if (fd >= 0) {
		close(fd);
		unlink(af->tmp_path);
	}
	if (rc) {
		free(af->tmp_path);
		free(af->final_path);
		memset(af, 0, sizeof(*af));
	}
	free(dir);
	free(copy);
	return rc;
}

void bk_atomic_abort(struct bk_atomic_file *af)
{
	if (af->fp) {
		fclose(af->fp);
		af->fp = NULL;
	}
	if (af->tmp_path)
		unlink(af->tmp_path);
	free(af->tmp_path);
	free(af->final_path);
	af->tmp_path = af->final_path = NULL;
}

int bk_atomic_commit(struct bk_atomic_file *af, struct bk_error *err)
{
	char *dir = NULL;
	int rc = -1;

	if (!af->fp)
		return bk_error_set(err, "internal error: commit of a closed file");
	if (fflush(af->fp) || ferror(af->fp) || fsync(fileno(af->fp))) {
		bk_error_set(err, "cannot write '%s': %s", af->final_path,
			     strerror(errno ? errno : EIO));
		goto out;
	}
	if (fclose(af->fp)) {
		af->fp = NULL;
		bk_error_set(err, "cannot write '%s': %s", af->final_path,
			     strerror(errno));
		goto out;
	}
	af->fp = NULL;
	if (rename(af->tmp_path, af->final_path)) {
		bk_error_set(err, "cannot rename into '%s': %s", af->final_path,
			     strerror(errno));
		goto out;
	}
	dir = dir_of(af->final_path);
	if (!dir) {
		bk_error_set(err, "out of memory committing '%s'", af->final_path);
		goto out;
	}
	rc = bk_fsync_dir(dir, err);
out:
	free(dir);
	bk_atomic_abort(af); /* closes; unlink of the renamed temp is a no-op */
	return rc;
}

int bk_atomic_write(const char *path, const void *data, size_t len,
		    struct bk_error *err)
{
	struct bk_atomic_file af;

	if (bk_atomic_open(&af, path, err))
		return -1;
	if (len && fwrite(data, 1, len, af.fp) != len) {
		bk_error_set(err, "cannot write '%s': %s", path, strerror(errno));
		bk_atomic_abort(&af);
		return -1;
	}
	return bk_atomic_commit(&af, err);
}

int bk_mkdir_p(const char *path, unsigned mode, struct bk_error *err)
{
	char *copy = strdup(path);
	int rc = -1;

	if (!copy)
		return bk_error_set(err, "out of memory creating '%s'", path);
	if (!*copy) {
		bk_error_set(err, "cannot create a directory with an empty name");
		goto out;
	}
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		/* What exists is fine only when it is a directory: a file in
		 * the way must fail here, not later at an open(). */
		struct stat st;
		int made = 0;
		if (stat(copy, &st)) {
			unsigned m = mode;
			char *parent = mode ? NULL : dir_of(copy);
			if (!mode && (!parent || mode_in(parent, 1, &m, err))) {
				if (!parent)
					bk_error_set(err, "out of memory creating '%s'", path);
				free(parent);
				goto out;
			}
			free(parent);
			made = mkdir(copy, m & 0777) == 0;
			if (!made && errno != EEXIST) {
				bk_error_set(err, "cannot create directory '%s': %s",
					     copy, strerror(errno));
				goto out;
			}
			if (made && bk_dir_set_mode(copy, m, err))
				goto out;
			/* a new directory's name is durable once its parent is
			 * synced: whatever is later made durable inside must
			 * not hang from a name a power cut takes away */
			if (made) {
				char *up = dir_of(copy);
				int r = up ? bk_fsync_dir(up, err)
					   : bk_error_set(err, "out of memory creating '%s'", path);
				free(up);
				if (r)
					goto out;
			}
		}
		if (!made && (stat(copy, &st) || !S_ISDIR(st.st_mode))) {
			bk_error_set(err, "cannot create directory '%s': %s", copy,
				     strerror(ENOTDIR));
			goto out;
		}
		*p = saved;
		if (!saved)
			break;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

int bk_atomic_sweep(const char *dir, struct bk_error *err)
{
	DIR *d = opendir(dir);
	int removed = 0;

	if (!d)
		return bk_error_set(err, "cannot open directory '%s': %s", dir,
				    strerror(errno));
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] != '.' || !strstr(de->d_name, ".tmp."))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

int bk_read_file(const char *path, char **data, size_t *len,
		 struct bk_error *err)
{
	FILE *fp = NULL;
	char *buf = NULL;
	int rc = -1;
	struct stat st;

	*data = NULL;
	*len = 0;
	fp = fopen(path, "rb");
	if (!fp || fstat(fileno(fp), &st)) {
		bk_error_set(err, "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		bk_error_set(err, "cannot read '%s': not a regular file", path);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		bk_error_set(err, "cannot read '%s': out of memory", path);
		goto out;
	}
	if (st.st_size && fread(buf, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
		bk_error_set(err, "cannot read '%s': %s", path,
			     ferror(fp) ? strerror(errno) : "file changed while reading");
		goto out;
	}
	buf[st.st_size] = '\0';
	*data = buf;
	*len = (size_t)st.st_size;
	buf = NULL;
	rc = 0;
out:
	if (fp)
		fclose(fp);
	free(buf);
	return rc;
}
