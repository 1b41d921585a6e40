/*
 * tests/powercut.c — the test side of the simulated power cut
 * (tests/powercut.h): the baseline that says what is durable before the
 * watched run, and the replay that rebuilds the archive from what the run
 * made durable, applying the record's events in order.
 */
#include "powercut.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- baseline --------------------------------------------------------- */

static int ident(int dirfd, const char *name, char *id, size_t size, struct statx *stx)
{
	int flags = AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH);
	if (statx(dirfd, name, flags, STATX_TYPE | STATX_MODE | STATX_INO | STATX_BTIME, stx))
		return -1;
	int bt = (stx->stx_mask & STATX_BTIME) != 0;
	snprintf(id, size, "%llu.%lld.%ld", (unsigned long long)stx->stx_ino,
		 bt ? (long long)stx->stx_btime.tv_sec : 0LL,
		 bt ? (long)stx->stx_btime.tv_nsec : 0L);
	return 0;
}

static void pct(FILE *fp, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("._@-+,=", *p))
			fputc(*p, fp);
		else
			fprintf(fp, "%%%02X", *p);
}

static int copy_fd(int in, const char *to)
{
	char buf[1 << 16];
	ssize_t n;
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			close(out);
			return -1;
		}
	close(out);
	return n < 0 ? -1 : 0;
}

/* Writes the D line and entries of `dirfd`, then F lines for its files
 * and the same for its subdirectories. */
static int base_dir(FILE *log, const char *state, int dirfd, long *seq)
{
	char id[96], sub[96];
	struct statx stx;
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int rc = -1;

	if (!d || ident(dirfd, "", id, sizeof(id), &stx))
		goto out;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char **more = realloc(names, (n + 1) * sizeof(*names));
		if (!more)
			goto out;
		names = more;
		names[n++] = strdup(de->d_name);
	}
	fprintf(log, "D %s %zu\n", id, n);
	for (size_t i = 0; i < n; i++) {
		if (ident(dirfd, names[i], sub, sizeof(sub), &stx))
			goto out;
		char type = S_ISDIR(stx.stx_mode) ? 'd' : S_ISLNK(stx.stx_mode) ? 'l' : 'f';
		fprintf(log, "E %c %o %s ", type, stx.stx_mode & 07777, sub);
		pct(log, names[i]);
		if (type == 'l') {
			char target[PATH_MAX];
			ssize_t len = readlinkat(dirfd, names[i], target, sizeof(target) - 1);
			target[len > 0 ? len : 0] = '\0';
			fputc(' ', log);
			pct(log, target);
		}
		fputc('\n', log);
	}
	for (size_t i = 0; i < n; i++) {
		if (ident(dirfd, names[i], sub, sizeof(sub), &stx))
			goto out;
		if (S_ISDIR(stx.stx_mode)) {
			int fd = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0 || base_dir(log, state, fd, seq))
				goto out;
		} else if (S_ISREG(stx.stx_mode)) {
			char blob[PATH_MAX];
			int fd = openat(dirfd, names[i], O_RDONLY | O_CLOEXEC);
			snprintf(blob, sizeof(blob), "%s/blob/base-%ld", state, ++*seq);
			int bad = fd < 0 || copy_fd(fd, blob);
			if (fd >= 0)
				close(fd);
			if (bad)
				goto out;
			fprintf(log, "F %s base-%ld\n", sub, *seq);
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (d)
		closedir(d);
	return rc;
}

static int make_file(const char *state, const char *name, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", state, name);
	FILE *fp = fopen(path, "wx");
	if (!fp)
		return -1;
	fputs(text, fp);
	return fclose(fp);
}

int pc_baseline(const char *state, const char *root)
{
	char path[PATH_MAX], id[96];
	struct statx stx;
	long seq = 0;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/blob", state);
	if (mkdir(state, 0700) || mkdir(path, 0700) || make_file(state, "lock", "") ||
	    make_file(state, "count", "0\n"))
		return -1;
	snprintf(path, sizeof(path), "%s/log", state);
	FILE *log = fopen(path, "wx");
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!log || fd < 0 || ident(fd, "", id, sizeof(id), &stx)) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(log, "R %s %o\n", id, stx.stx_mode & 07777);
	rc = base_dir(log, state, fd, &seq); /* closes fd */
out:
	if (log && fclose(log))
		rc = -1;
	return rc;
}

static long read_number(const char *state, const char *name)
{
	char path[PATH_MAX];
	long v = -1;
	snprintf(path, sizeof(path), "%s/%s", state, name);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	if (fscanf(fp, "%ld", &v) != 1)
		v = -1;
	fclose(fp);
	return v;
}

long pc_count(const char *state)
{
	return read_number(state, "count");
}

long pc_cut(const char *state)
{
	long v = read_number(state, "cut");
	return v < 0 ? 0 : v;
}

/* ---- replay ----------------------------------------------------------- */

struct ent {
	char type;
	unsigned mode;
	char *id, *name, *target;
};

struct dir {
	char *id;
	struct ent *e;
	size_t n;
};

struct move {
	char *src, *sname, *dst, *dname;
	int exchange;
	struct ent moved, other;
};

struct model {
	char *root;
	unsigned root_mode;
	struct dir *dirs;
	size_t ndirs;
	char **file_ids, **blobs; /* a file's durable data: blob/<blobs[i]> */
	size_t nfiles;
	struct move *pending; /* renames not yet durable, in order */
	size_t npending;
	const char *why;
};

static char *decode(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	for (; out && *s; s++) {
		unsigned v;
		if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	if (o)
		*o = '\0';
	return out;
}

static void ent_free(struct ent *e)
{
	free(e->id);
	free(e->name);
	free(e->target);
	memset(e, 0, sizeof(*e));
}

static int ent_copy(struct ent *to, const struct ent *from)
{
	*to = *from;
	to->id = strdup(from->id);
	to->name = strdup(from->name);
	to->target = from->target ? strdup(from->target) : NULL;
	return to->id && to->name && (!from->target || to->target) ? 0 : -1;
}

/* Parses an "E" line into *e. */
static int parse_ent(char *line, struct ent *e)
{
	char type, id[128], name[3 * NAME_MAX + 8], target[3 * PATH_MAX + 8] = "";
	unsigned mode;

	memset(e, 0, sizeof(*e));
	int n = sscanf(line, "E %c %o %127s %767s %12287s", &type, &mode, id, name, target);
	if (n < 4 || (type == 'l' && n < 5))
		return -1;
	e->type = type;
	e->mode = mode;
	e->id = strdup(id);
	e->name = decode(name);
	e->target = type == 'l' ? decode(target) : NULL;
	return e->id && e->name ? 0 : -1;
}

static struct dir *find_dir(struct model *m, const char *id, int make)
{
	for (size_t i = 0; i < m->ndirs; i++)
		if (!strcmp(m->dirs[i].id, id))
			return &m->dirs[i];
	if (!make)
		return NULL;
	struct dir *more = realloc(m->dirs, (m->ndirs + 1) * sizeof(*more));
	if (!more)
		return NULL;
	m->dirs = more;
	struct dir *d = &m->dirs[m->ndirs++];
	memset(d, 0, sizeof(*d));
	d->id = strdup(id);
	return d;
}

static void dir_clear(struct dir *d)
{
	for (size_t i = 0; i < d->n; i++)
		ent_free(&d->e[i]);
	free(d->e);
	d->e = NULL;
	d->n = 0;
}

static void dir_remove(struct dir *d, const char *name, const char *id)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->e[i].name, name) && (!id || !strcmp(d->e[i].id, id))) {
			ent_free(&d->e[i]);
			d->e[i] = d->e[--d->n];
			return;
		}
}

static int dir_put(struct dir *d, const struct ent *e)
{
	dir_remove(d, e->name, NULL);
	struct ent *more = realloc(d->e, (d->n + 1) * sizeof(*more));
	if (!more)
		return -1;
	d->e = more;
	return ent_copy(&d->e[d->n++], e);
}

/* Applies a rename that became durable to the side of it that `snapped`
 * (a directory just recorded whole, or NULL) does not already show. */
static int apply_move(struct model *m, struct move *mv, const char *snapped)
{
	int src = snapped && !strcmp(mv->src, snapped), dst = snapped && !strcmp(mv->dst, snapped);
	if (!dst && strcmp(mv->dst, "-")) {
		struct dir *d = find_dir(m, mv->dst, 1);
		if (!d || dir_put(d, &mv->moved))
			return -1;
	}
	if (!src && strcmp(mv->src, "-")) {
		struct dir *d = find_dir(m, mv->src, 1);
		if (!d)
			return -1;
		if (mv->exchange) {
			if (dir_put(d, &mv->other))
				return -1;
		} else {
			dir_remove(d, mv->sname, mv->moved.id);
		}
	}
	free(mv->src);
	free(mv->sname);
	free(mv->dst);
	free(mv->dname);
	ent_free(&mv->moved);
	ent_free(&mv->other);
	mv->src = NULL;
	return 0;
}

/* The directory `snapped` was just made durable as a whole: each pending
 * rename that touched it is now durable, so its other side is applied;
 * and before it every earlier pending rename of the same file or
 * directory, since a rename's commit cannot overtake an earlier rename
 * of what it moves (what a journal gives: a directory is never found in
 * two places, nor in none). */
static int settle(struct model *m, const char *snapped)
{
	size_t keep = 0;
	for (size_t i = 0; i < m->npending; i++) {
		struct move *mv = &m->pending[i];
		if (!mv->src || (strcmp(mv->src, snapped) && strcmp(mv->dst, snapped)))
			continue;
		for (size_t j = 0; j < i; j++)
			if (m->pending[j].src && !strcmp(m->pending[j].moved.id, mv->moved.id) &&
			    apply_move(m, &m->pending[j], NULL))
				return -1;
		if (apply_move(m, mv, snapped))
			return -1;
	}
	for (size_t i = 0; i < m->npending; i++)
		if (m->pending[i].src)
			m->pending[keep++] = m->pending[i];
	m->npending = keep;
	return 0;
}

static int set_file(struct model *m, const char *id, const char *blob)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (!strcmp(m->file_ids[i], id)) {
			free(m->blobs[i]);
			m->blobs[i] = strdup(blob);
			return m->blobs[i] ? 0 : -1;
		}
	char **a = realloc(m->file_ids, (m->nfiles + 1) * sizeof(*a));
	if (!a)
		return -1;
	m->file_ids = a;
	char **b = realloc(m->blobs, (m->nfiles + 1) * sizeof(*b));
	if (!b)
		return -1;
	m->blobs = b;
	m->file_ids[m->nfiles] = strdup(id);
	m->blobs[m->nfiles++] = strdup(blob);
	return 0;
}

static const char *file_blob(const struct model *m, const char *id)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (!strcmp(m->file_ids[i], id))
			return m->blobs[i];
	return NULL;
}

static int read_log(struct model *m, const char *state, long before)
{
	char path[PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/log", state);
	FILE *fp = fopen(path, "r");
	if (!fp) {
		m->why = "cannot open the record";
		return -1;
	}
	m->why = "malformed record";
	while (getline(&line, &cap, fp) > 0) {
		char a[128], b[3 * NAME_MAX + 8], c[128], d[3 * NAME_MAX + 8];
		long count;
		int x;
		if (line[0] == 'R' && sscanf(line, "R %127s %o", a, &m->root_mode) == 2) {
			free(m->root);
			m->root = strdup(a);
		} else if (line[0] == 'F' && sscanf(line, "F %127s %767s", a, b) == 2) {
			if (set_file(m, a, b))
				goto out;
		} else if (line[0] == 'D' && sscanf(line, "D %127s %ld", a, &count) == 2) {
			struct dir *dir = find_dir(m, a, 1);
			if (!dir)
				goto out;
			dir_clear(dir);
			for (long i = 0; i < count; i++) {
				struct ent e;
				if (getline(&line, &cap, fp) <= 0 || parse_ent(line, &e) ||
				    dir_put(dir, &e))
					goto out;
				ent_free(&e);
			}
			if (settle(m, a))
				goto out;
		} else if (line[0] == 'M' &&
			   sscanf(line, "M %127s %767s %127s %767s %d", a, b, c, d, &x) == 5) {
			struct move mv = { .src = strdup(a), .sname = decode(b), .dst = strdup(c),
					   .dname = decode(d), .exchange = x };
			if (getline(&line, &cap, fp) <= 0 || parse_ent(line, &mv.moved))
				goto out;
			if (x && (getline(&line, &cap, fp) <= 0 || parse_ent(line, &mv.other)))
				goto out;
			if (!strcmp(a, c)) {
				/* within one directory: durable with its next fsync,
				 * which records the result itself */
				free(mv.src);
				free(mv.sname);
				free(mv.dst);
				free(mv.dname);
				ent_free(&mv.moved);
				ent_free(&mv.other);
				continue;
			}
			struct move *more = realloc(m->pending, (m->npending + 1) * sizeof(*more));
			if (!more)
				goto out;
			m->pending = more;
			m->pending[m->npending++] = mv;
		} else if (line[0] == 'S' && sscanf(line, "S %ld", &count) == 1) {
			if (before > 0 && count >= before)
				break; /* the power went before this call */
		} else if (line[0] == 'C') {
			break; /* nothing after the cut happened */
		} else {
			goto out;
		}
	}
	m->why = NULL;
	rc = m->root ? 0 : -1;
	if (rc)
		m->why = "the record names no root";
out:
	free(line);
	fclose(fp);
	return rc;
}

static int build(struct model *m, const char *state, const char *out, const char *id,
		 unsigned mode, int depth)
{
	if (depth > 64) {
		m->why = "a directory is inside itself";
		return -1;
	}
	if (mkdir(out, 0700)) {
		m->why = "cannot create a directory of the replay";
		return -1;
	}
	struct dir *d = find_dir(m, id, 0);
	for (size_t i = 0; d && i < d->n; i++) {
		const struct ent *e = &d->e[i];
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", out, e->name);
		if (e->type == 'd') {
			if (build(m, state, path, e->id, e->mode, depth + 1))
				return -1;
			d = find_dir(m, id, 0); /* the array may have moved */
			continue;
		}
		if (e->type == 'l') {
			if (symlink(e->target, path)) {
				m->why = "cannot create a symbolic link of the replay";
				return -1;
			}
			continue;
		}
		const char *blob = file_blob(m, e->id);
		int r;
		if (blob) {
			char from[PATH_MAX];
			snprintf(from, sizeof(from), "%s/blob/%s", state, blob);
			int in = open(from, O_RDONLY | O_CLOEXEC);
			r = in < 0 ? -1 : copy_fd(in, path);
			if (in >= 0)
				close(in);
		} else {
			/* never synced: its data did not survive */
			int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
			r = fd < 0 ? -1 : close(fd);
		}
		if (r || chmod(path, e->mode)) {
			m->why = "cannot create a file of the replay";
			return -1;
		}
	}
	if (chmod(out, mode)) {
		m->why = "cannot set the mode of a directory of the replay";
		return -1;
	}
	return 0;
}

int pc_call_path(const char *state, long n, char **path)
{
	char file[PATH_MAX], what[3 * PATH_MAX + 8];
	char *line = NULL;
	size_t cap = 0;
	long k;

	*path = NULL;
	snprintf(file, sizeof(file), "%s/log", state);
	FILE *fp = fopen(file, "r");
	if (!fp)
		return -1;
	while (!*path && getline(&line, &cap, fp) > 0)
		if (line[0] == 'S' && sscanf(line, "S %ld %12287s", &k, what) == 2 && k == n)
			*path = decode(what);
	free(line);
	fclose(fp);
	return *path ? 0 : -1;
}

int pc_replay(const char *state, const char *out, long before, const char **why)
{
	struct model m = { 0 };
	int rc = read_log(&m, state, before);

	if (rc == 0) {
		struct stat st;
		rc = stat(out, &st) == 0 ? (m.why = "the replay's directory exists", -1)
					 : build(&m, state, out, m.root, m.root_mode, 0);
	}
	*why = m.why;
	for (size_t i = 0; i < m.ndirs; i++) {
		dir_clear(&m.dirs[i]);
		free(m.dirs[i].id);
	}
	free(m.dirs);
	for (size_t i = 0; i < m.nfiles; i++) {
		free(m.file_ids[i]);
		free(m.blobs[i]);
	}
	free(m.file_ids);
	free(m.blobs);
	for (size_t i = 0; i < m.npending; i++) {
		free(m.pending[i].src);
		free(m.pending[i].sname);
		free(m.pending[i].dst);
		free(m.pending[i].dname);
		ent_free(&m.pending[i].moved);
		ent_free(&m.pending[i].other);
	}
	free(m.pending);
	free(m.root);
	return rc;
}
