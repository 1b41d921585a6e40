/*
 * tests/powercut_shim.c — an LD_PRELOAD library that records what a disk
 * must keep across a power cut, and cuts the power at a chosen call (the
 * model, the environment and the record are described in
 * tests/powercut.h; tests/powercut.c rebuilds the archive from it).
 *
 * It wraps fsync, fdatasync, sync, syncfs (the calls that make data
 * durable: each is counted, and the cut happens before one) and rename,
 * renameat, renameat2 (recorded so that a rename becomes durable as a
 * whole), and link, linkat (a file linked in from outside the root keeps
 * the data it had). Everything else reaches the kernel untouched: what is not
 * recorded here is, for the replay, not durable. Each wrapped call and its
 * record happen under an flock(2) on the state directory's lock file, so
 * the record's order is the order the processes of the tree did them in.
 * The real calls are made with syscall(2), never through the wrapped
 * names.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

struct watch {
	const char *state;
	const char *root;
	size_t root_len;
	long cut_at;
	int lock_fd;
};

/* The watch set up by the environment, under its lock; 0 when this
 * process is not watched (then *w is untouched). */
static int watch_begin(struct watch *w)
{
	char path[PATH_MAX];

	w->state = getenv("BUNKO_POWERCUT_DIR");
	w->root = getenv("BUNKO_POWERCUT_ROOT");
	if (!w->state || !*w->state || !w->root || !*w->root)
		return 0;
	w->root_len = strlen(w->root);
	w->cut_at = getenv("BUNKO_POWERCUT_AT") ? atol(getenv("BUNKO_POWERCUT_AT")) : 0;
	snprintf(path, sizeof(path), "%s/lock", w->state);
	w->lock_fd = open(path, O_RDWR | O_CLOEXEC);
	if (w->lock_fd < 0)
		return 0;
	while (flock(w->lock_fd, LOCK_EX) && errno == EINTR)
		;
	snprintf(path, sizeof(path), "%s/cut", w->state);
	if (access(path, F_OK) == 0) { /* the power is off: nothing counts */
		close(w->lock_fd);
		return 0;
	}
	return 1;
}

static void watch_end(struct watch *w)
{
	close(w->lock_fd); /* releases the flock */
}

static int under_root(const struct watch *w, const char *path)
{
	return !strncmp(path, w->root, w->root_len) &&
	       (path[w->root_len] == '\0' || path[w->root_len] == '/');
}

/* The path an open descriptor names; "" when it has none. */
static void fd_path(int fd, char *buf, size_t size)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
}

static void put(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			abort(); /* a record with a hole would lie: stop loudly */
		s += w;
		n -= (size_t)w;
	}
}

static void logf_(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(int fd, const char *fmt, ...)
{
	char buf[4 * PATH_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		abort();
	put(fd, buf, (size_t)n);
}

static void encode(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 4 < size; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._@-+,=", *p)) {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

/* "INO.SEC.NSEC" of what `name` in `dirfd` (or `dirfd` itself when name is
 * "") is; st gets its type and mode. */
static int identity(int dirfd, const char *name, char *id, size_t size, struct statx *stx)
{
	int flags = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);
	if (statx(dirfd, name, flags, STATX_TYPE | STATX_MODE | STATX_INO | STATX_BTIME, stx))
		return -1;
	long long sec = (stx->stx_mask & STATX_BTIME) ? stx->stx_btime.tv_sec : 0;
	long nsec = (stx->stx_mask & STATX_BTIME) ? (long)stx->stx_btime.tv_nsec : 0;
	snprintf(id, size, "%llu.%lld.%ld", (unsigned long long)stx->stx_ino, sec, nsec);
	return 0;
}

/* An "E" line for `name` in `dirfd`; 0 if it vanished meanwhile. */
static int entry_line(int log, int dirfd, const char *name)
{
	struct statx stx;
	char id[96], enc[3 * NAME_MAX + 8], target[PATH_MAX], tenc[3 * PATH_MAX + 8];
	char type;

	if (identity(dirfd, name, id, sizeof(id), &stx))
		return 0;
	if (S_ISDIR(stx.stx_mode))
		type = 'd';
	else if (S_ISREG(stx.stx_mode))
		type = 'f';
	else if (S_ISLNK(stx.stx_mode))
		type = 'l';
	else
		return 0; /* sockets, fifos: nothing bunko keeps */
	encode(name, enc, sizeof(enc));
	if (type == 'l') {
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		encode(target, tenc, sizeof(tenc));
		logf_(log, "E l %o %s %s %s\n", stx.stx_mode & 07777, id, enc, tenc);
	} else {
		logf_(log, "E %c %o %s %s\n", type, stx.stx_mode & 07777, id, enc);
	}
	return 1;
}

static int open_log(const struct watch *w)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/log", w->state);
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		abort();
	return fd;
}

/* Records the directory open as `fd` as durable, as it is now. */
static void record_dir(const struct watch *w, int fd)
{
	char proc[64], id[96];
	struct statx stx;
	int log = open_log(w);

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int dfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d || identity(dfd, "", id, sizeof(id), &stx))
		abort();
	/* the entries go to an unlinked scratch file first, so that the D
	 * line can say how many follow: one that vanishes while the
	 * directory is read is left out of both */
	long written = 0;
	char tmpl[PATH_MAX];
	struct dirent *de;
	snprintf(tmpl, sizeof(tmpl), "%s/entries.XXXXXX", w->state);
	int mfd = mkstemp(tmpl);
	if (mfd < 0)
		abort();
	unlink(tmpl);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			written += entry_line(mfd, dfd, de->d_name);
	logf_(log, "D %s %ld\n", id, written);
	off_t end = lseek(mfd, 0, SEEK_CUR);
	lseek(mfd, 0, SEEK_SET);
	char chunk[1 << 14];
	for (off_t done = 0; done < end;) {
		ssize_t r = read(mfd, chunk, sizeof(chunk));
		if (r <= 0)
			abort();
		put(log, chunk, (size_t)r);
		done += r;
	}
	close(mfd);
	closedir(d);
	close(log);
}

/* Records the file open as `fd` as durable with its whole content now. */
static void record_file(const struct watch *w, int fd)
{
	char proc[64], id[96], blob[PATH_MAX], name[128];
	struct statx stx;
	static long seq;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int in = open(proc, O_RDONLY | O_CLOEXEC);
	if (in < 0 || identity(in, "", id, sizeof(id), &stx))
		abort();
	snprintf(name, sizeof(name), "%ld-%ld", (long)getpid(), ++seq);
	snprintf(blob, sizeof(blob), "%s/blob/%s", w->state, name);
	int out = open(blob, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		abort();
	char chunk[1 << 16];
	ssize_t r;
	while ((r = read(in, chunk, sizeof(chunk))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			abort();
		put(out, chunk, (size_t)r);
	}
	close(in);
	close(out);
	int log = open_log(w);
	logf_(log, "F %s %s\n", id, name);
	close(log);
}

/* Everything under the root is durable now (sync, syncfs). */
static void record_tree(const struct watch *w, int dirfd)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	if (!d)
		abort();
	record_dir(w, dirfd);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (sub >= 0)
				record_tree(w, sub);
		} else if (S_ISREG(st.st_mode)) {
			int f = openat(dirfd, de->d_name, O_RDONLY | O_CLOEXEC);
			if (f >= 0) {
				record_file(w, f);
				close(f);
			}
		}
	}
	closedir(d);
}

/* Counts one durability call; cuts the power when it is the chosen one
 * (does not return then). */
static void count_call(const struct watch *w, const char *what)
{
	char path[PATH_MAX], buf[32] = "";
	snprintf(path, sizeof(path), "%s/count", w->state);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		abort();
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	long count = atol(buf) + 1;
	int len = snprintf(buf, sizeof(buf), "%ld\n", count);
	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)len, 0) != len)
		abort();
	close(fd);
	{
		char enc[3 * PATH_MAX + 8];
		const char *rel = under_root(w, what) ? what + w->root_len : what;
		encode(*rel == '/' ? rel + 1 : rel, enc, sizeof(enc));
		int log = open_log(w);
		logf_(log, "S %ld %s\n", count, *enc ? enc : ".");
		close(log);
	}
	if (w->cut_at > 0 && count == w->cut_at) {
		int log = open_log(w);
		logf_(log, "C %ld\n", count);
		close(log);
		snprintf(path, sizeof(path), "%s/cut", w->state);
		int c = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (c >= 0) {
			put(c, buf, (size_t)len);
			close(c);
		}
		kill(0, SIGKILL); /* the whole process group, this one with it */
		_exit(137);
	}
}

static int sync_fd(int fd, long nr)
{
	struct watch w;
	char path[PATH_MAX];
	struct stat st;

	if (!watch_begin(&w))
		return (int)syscall(nr, fd);
	fd_path(fd, path, sizeof(path));
	if (!under_root(&w, path) || fstat(fd, &st)) {
		watch_end(&w);
		return (int)syscall(nr, fd);
	}
	count_call(&w, path);
	int rc = (int)syscall(nr, fd);
	int saved = errno;
	if (rc == 0 && S_ISDIR(st.st_mode))
		record_dir(&w, fd);
	else if (rc == 0 && S_ISREG(st.st_mode))
		record_file(&w, fd);
	watch_end(&w);
	errno = saved;
	return rc;
}

int fsync(int fd)
{
	return sync_fd(fd, SYS_fsync);
}

int fdatasync(int fd)
{
	return sync_fd(fd, SYS_fdatasync);
}

static void sync_all(void)
{
	struct watch w;
	if (!watch_begin(&w))
		return;
	count_call(&w, "(sync)");
	syscall(SYS_sync);
	int root = open(w.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root >= 0)
		record_tree(&w, root);
	watch_end(&w);
}

void sync(void)
{
	sync_all();
	syscall(SYS_sync);
}

int syncfs(int fd)
{
	sync_all();
	return (int)syscall(SYS_syncfs, fd);
}

/* The directory holding `path` (relative to `dirfd`), opened, and the last
 * component of `path` in *base; -1 if it cannot be opened. */
static int parent_of(int dirfd, const char *path, char *base, size_t size)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	char *slash = strrchr(dir, '/');
	if (!slash) {
		snprintf(base, size, "%s", dir);
		snprintf(dir, sizeof(dir), ".");
	} else {
		snprintf(base, size, "%s", slash + 1);
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int do_rename(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		     unsigned flags)
{
	struct watch w;
	char sbase[NAME_MAX + 1], dbase[NAME_MAX + 1], spath[PATH_MAX], dpath[PATH_MAX];

	if (!watch_begin(&w))
		return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
	int sfd = parent_of(olddirfd, oldpath, sbase, sizeof(sbase));
	int dfd = parent_of(newdirfd, newpath, dbase, sizeof(dbase));
	int rc = (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
	int saved = errno;
	if (rc == 0 && sfd >= 0 && dfd >= 0) {
		fd_path(sfd, spath, sizeof(spath));
		fd_path(dfd, dpath, sizeof(dpath));
		if (under_root(&w, dpath) || under_root(&w, spath)) {
			char sid[96], did[96], senc[3 * NAME_MAX + 8], denc[3 * NAME_MAX + 8];
			struct statx stx;
			int log = open_log(&w);
			if (!under_root(&w, spath))
				snprintf(sid, sizeof(sid), "-");
			else
				identity(sfd, "", sid, sizeof(sid), &stx);
			if (!under_root(&w, dpath))
				snprintf(did, sizeof(did), "-");
			else
				identity(dfd, "", did, sizeof(did), &stx);
			encode(sbase, senc, sizeof(senc));
			encode(dbase, denc, sizeof(denc));
			int x = (flags & RENAME_EXCHANGE) != 0;
			logf_(log, "M %s %s %s %s %d\n", sid, senc, did, denc, x);
			if (!entry_line(log, dfd, dbase))
				abort();
			if (x && !entry_line(log, sfd, sbase))
				abort();
			close(log);
		}
	}
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	watch_end(&w);
	errno = saved;
	return rc;
}

int rename(const char *oldpath, const char *newpath)
{
	return do_rename(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	return do_rename(olddirfd, oldpath, newdirfd, newpath, 0);
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
	      unsigned int flags)
{
	return do_rename(olddirfd, oldpath, newdirfd, newpath, flags);
}

/* A file hard-linked into the root from outside (bunko add links a public
 * job's scans) brings data that was durable before the run. */
int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
	struct watch w;
	char base[NAME_MAX + 1], obase[NAME_MAX + 1], path[PATH_MAX], opath[PATH_MAX] = "";

	int rc = (int)syscall(SYS_linkat, olddirfd, oldpath, newdirfd, newpath, flags);
	if (rc || !watch_begin(&w))
		return rc;
	int ofd = parent_of(olddirfd, oldpath, obase, sizeof(obase));
	if (ofd >= 0) {
		fd_path(ofd, opath, sizeof(opath));
		close(ofd);
	}
	int dfd = parent_of(newdirfd, newpath, base, sizeof(base));
	if (dfd >= 0) {
		fd_path(dfd, path, sizeof(path));
		int f = under_root(&w, path) && *opath && !under_root(&w, opath)
				? openat(dfd, base, O_RDONLY | O_CLOEXEC) : -1;
		if (f >= 0) {
			record_file(&w, f);
			close(f);
		}
		close(dfd);
	}
	watch_end(&w);
	return 0;
}

int link(const char *oldpath, const char *newpath)
{
	return linkat(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
}
