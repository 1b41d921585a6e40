/*
 * archive/store.c — the archive directory, staging and committing BagIt
 * bags, recovery after a crash, iteration and fixity verification. The
 * protocols are described in store.h; the comments here say why each step
 * is where it is.
 */
#include "archive/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bunko/atomic.h"
#include "archive/checksum.h"
#include "bunko/fs.h"
#include "bunko/utf8.h"

#define BK_STAGING_NAME ".staging"
#define BK_OLD_SUFFIX ".old"
#define BK_COPY_BUFFER (256 * 1024)
#define BK_HOST_MAX 64
#define BK_PUBLISH_TRIES 8 /* a rival commit of the same id can race us */

static const char bk_bagit_txt[] =
	"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

struct bk_store {
	char *archive;
	char *store_dir;   /* ARCHIVE/store */
	char *staging_dir; /* ARCHIVE/store/.staging */
	char host[BK_HOST_MAX + 1]; /* this host, safe inside a file name */
};

/* SHA-256 of a master as read from its source, proved again at commit. */
struct master_sum {
	char *relpath;
	char hex[BK_SHA256_HEX_LEN + 1];
};

struct bk_doc_stage {
	struct bk_store *store; /* borrowed */
	struct bk_doc_meta meta;
	char *dir;              /* the staging bag */
	char *final_dir;        /* store/<collection>/<id> */
	char *coll_dir;         /* store/<collection> */
	char *staging_coll_dir; /* store/.staging/<collection> */
	struct master_sum *masters;
	size_t nmasters;
};

/* ---- small helpers ------------------------------------------------------ */

struct strlist {
	char **v;
	size_t n, cap;
};

/* Takes ownership of `s` (freed on failure; NULL counts as out of memory). */
static int strlist_push(struct strlist *l, char *s, struct bk_error *err)
{
	if (!s)
		return bk_error_set(err, "out of memory listing files");
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			free(s);
			return bk_error_set(err, "out of memory listing files");
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

static void strlist_release(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strlist_sort(struct strlist *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_str);
}

static int strlist_has(const struct strlist *l, const char *s)
{
	return l->n && bsearch(&s, l->v, l->n, sizeof(*l->v), cmp_str) != NULL;
}

/* Lists the entries of `dir` that do not start with '.', sorted, split into
 * directories and everything else (either list may be NULL: not wanted). */
static int list_dir(const char *dir, struct strlist *dirs,
		    struct strlist *others, struct bk_error *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc = -1;

	if (bk_list_dir(dir, &names, &n, err))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char *path = bk_path_join(dir, names[i]);
		if (!path) {
			bk_error_set(err, "out of memory listing '%s'", dir);
			goto out;
		}
		int gone = lstat(path, &st);
		free(path);
		if (gone)
			continue; /* vanished meanwhile */
		struct strlist *to = S_ISDIR(st.st_mode) ? dirs : others;
		char *name = names[i];
		if (!to)
			continue;
		names[i] = NULL; /* strlist_push owns it now; the order stays sorted */
		if (strlist_push(to, name, err))
			goto out;
	}
	rc = 0;
out:
	bk_names_free(names, n);
	return rc;
}

/* Everything under root/rel, as paths relative to root: regular files,
 * directories, and anything else (symlinks, fifos...). Dot names included. */
struct tree {
	struct strlist files, dirs, others;
};

static void tree_release(struct tree *t)
{
	strlist_release(&t->files);
	strlist_release(&t->dirs);
	strlist_release(&t->others);
}

static int walk_tree(const char *root, const char *rel, struct tree *t,
		     struct bk_error *err)
{
	char *path = rel[0] ? bk_path_join(root, rel) : strdup(root);
	DIR *d = NULL;
	int rc = -1;

	if (!path)
		return bk_error_set(err, "out of memory listing '%s'", root);
	d = opendir(path);
	if (!d) {
		bk_error_set(err, "cannot open directory '%s': %s", path,
			     strerror(errno));
		goto out;
	}
	for (;;) {
		struct stat st;
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		char *child = rel[0] ? bk_path_join(rel, de->d_name) : strdup(de->d_name);
		if (!child) {
			bk_error_set(err, "out of memory listing '%s'", path);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			int bad = walk_tree(root, child, t, err);
			if (bad || strlist_push(&t->dirs, child, err)) {
				if (bad)
					free(child);
				goto out;
			}
		} else if (strlist_push(S_ISREG(st.st_mode) ? &t->files : &t->others,
					child, err)) {
			goto out;
		}
	}
	if (errno) {
		bk_error_set(err, "cannot read directory '%s': %s", path,
			     strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (d)
		closedir(d);
	free(path);
	if (!rc && !rel[0]) {
		strlist_sort(&t->files);
		strlist_sort(&t->dirs);
		strlist_sort(&t->others);
	}
	return rc;
}

static int path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ" and "YYYY-MM-DD". */
static void utc_now(char stamp[32], char day[16])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(day, 16, "%Y-%m-%d", &tm);
}

static void this_host(char out[BK_HOST_MAX + 1])
{
	char name[256] = "";

	if (gethostname(name, sizeof(name) - 1) || !name[0])
		strcpy(name, "localhost");
	size_t i = 0;
	for (; name[i] && i < BK_HOST_MAX; i++) {
		char c = name[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '-';
		/* no '.': stage names are split at dots from the right */
		out[i] = ok ? c : '_';
	}
	out[i] = '\0';
}

/* Relative, no empty, "." or ".." component: cannot leave the bag. */
static int relpath_safe(const char *rel)
{
	if (!rel[0] || rel[0] == '/')
		return 0;
	for (const char *p = rel;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!slash)
			return 1;
		p = slash + 1;
	}
}

/* ---- the archive -------------------------------------------------------- */

int bk_archive_check(const char *archive, struct bk_error *err)
{
	char *marker = bk_path_join(archive, BK_ARCHIVE_MARKER);
	char *text = NULL;
	size_t len = 0;
	struct bk_error ignored;
	int rc = -1;

	if (!marker)
		return bk_error_set(err, "out of memory opening '%s'", archive);
	struct stat st;
	if (stat(marker, &st) && (errno == ENOENT || errno == ENOTDIR)) {
		bk_error_set(err, "'%s' is not a bunko archive (run 'bunko init %s')",
			     archive, archive);
		goto out;
	}
	if (bk_read_file(marker, &text, &len, &ignored)) {
		bk_error_set(err, "cannot open archive '%s': %s", archive, ignored.msg);
		goto out;
	}
	const char *prefix = BK_ARCHIVE_MARKER " ";
	if (strncmp(text, prefix, strlen(prefix))) {
		bk_error_set(err, "'%s' is not a bunko archive: '%s' is damaged",
			     archive, marker);
		goto out;
	}
	long version = strtol(text + strlen(prefix), NULL, 10);
	if (version != BK_ARCHIVE_VERSION) {
		bk_error_set(err, "'%s' is a bunko archive of version %ld; this bunko reads version %d",
			     archive, version, BK_ARCHIVE_VERSION);
		goto out;
	}
	rc = 0;
out:
	free(marker);
	free(text);
	return rc;
}

static int dir_is_empty(const char *path, int *empty, struct bk_error *err)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (!d)
		return bk_error_set(err, "cannot open directory '%s': %s", path,
				    strerror(errno));
	*empty = 1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			*empty = 0;
			break;
		}
	closedir(d);
	return 0;
}

/* The id of the Unix group `name`; -1 if there is none. */
static int group_id(const char *name, gid_t *gid)
{
	char buf[16384];
	struct group gr, *found = NULL;

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &found) || !found)
		return -1;
	*gid = found->gr_gid;
	return 0;
}

/* Gives a new archive directory its group (the staff group; NULL: the
 * creator's) and the set-group-ID bit, so that everything made inside
 * has that group, whoever makes it. */
static int own_group(const char *archive, const char *group, gid_t gid,
		     struct bk_error *err)
{
	struct stat st;

	if (group) {
		if (chown(archive, (uid_t)-1, gid))
			return bk_error_set(err, "cannot give archive '%s' to group '%s': %s",
					    archive, group, strerror(errno));
	}
	if (stat(archive, &st) || chmod(archive, ((unsigned)st.st_mode & 0777) | S_ISGID) ||
	    stat(archive, &st))
		return bk_error_set(err, "cannot set the mode of '%s': %s", archive,
				    strerror(errno));
	if (!(st.st_mode & S_ISGID))
		return bk_error_set(err, "cannot keep archive '%s' in group %s: this user is not a member of it",
				    archive, group ? group : "of the directory");
	return 0;
}

int bk_archive_init(const char *archive, struct bk_error *err)
{
	return bk_archive_init_group(archive, NULL, err);
}

int bk_archive_init_group(const char *archive, const char *group,
			  struct bk_error *err)
{
	static const char *const subdirs[] = { "queue", "store", "index", "log" };
	char *marker = NULL;
	struct stat st;
	gid_t gid = 0;
	int rc = -1, empty = 0;

	if (stat(archive, &st) == 0 && !S_ISDIR(st.st_mode))
		return bk_error_set(err, "cannot create archive '%s': not a directory",
				    archive);
	if (group && group_id(group, &gid))
		return bk_error_set(err, "cannot create archive '%s': no group '%s'",
				    archive, group);
	if (bk_mkdir_p(archive, 0755, err))
		return -1;
	marker = bk_path_join(archive, BK_ARCHIVE_MARKER);
	if (!marker) {
		bk_error_set(err, "out of memory creating '%s'", archive);
		goto out;
	}
	if (path_exists(marker)) {
		if (bk_archive_check(archive, err))
			goto out;
		if (group && (stat(archive, &st) || st.st_gid != gid)) {
			/* its documents and index files have the old group */
			bk_error_set(err, "archive '%s' exists and its group is not '%s': change it with 'chgrp -R %s %s' and 'find %s -type d -exec chmod g+s {} +'",
				     archive, group, group, archive, archive);
			goto out;
		}
	} else {
		if (dir_is_empty(archive, &empty, err))
			goto out;
		if (!empty) {
			bk_error_set(err, "cannot create archive '%s': the directory is not empty and is not a bunko archive",
				     archive);
			goto out;
		}
		if (own_group(archive, group, gid, err))
			goto out;
		/* The marker first: if we die before the directories exist,
		 * running init again completes the archive instead of
		 * refusing a "non-empty" directory. */
		char text[64];
		int n = snprintf(text, sizeof(text), "%s %d\n", BK_ARCHIVE_MARKER,
				 BK_ARCHIVE_VERSION);
		if (bk_atomic_write(marker, text, (size_t)n, err))
			goto out;
	}
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
		char *sub = bk_path_join(archive, subdirs[i]);
		int bad = !sub || bk_mkdir_p(sub, 0, err);
		if (!sub)
			bk_error_set(err, "out of memory creating '%s'", archive);
		free(sub);
		if (bad)
			goto out;
	}
	rc = bk_fsync_dir(archive, err);
out:
	free(marker);
	return rc;
}

int bk_store_open(struct bk_store **out, const char *archive,
		  struct bk_error *err)
{
	struct bk_store *s = NULL;
	struct stat st;
	struct bk_error ignored;
	int rc = -1;

	*out = NULL;
	if (bk_archive_check(archive, err))
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->archive = strdup(archive)) ||
	    !(s->store_dir = bk_path_join(archive, "store")) ||
	    !(s->staging_dir = bk_path_join(s->store_dir, BK_STAGING_NAME))) {
		bk_error_set(err, "out of memory opening '%s'", archive);
		goto out;
	}
	if (stat(s->store_dir, &st) || !S_ISDIR(st.st_mode)) {
		bk_error_set(err, "archive '%s' has no store directory (run 'bunko init %s')",
			     archive, archive);
		goto out;
	}
	this_host(s->host);
	bk_store_recover(s, NULL, NULL, &ignored);
	*out = s;
	s = NULL;
	rc = 0;
out:
	bk_store_free(&s);
	return rc;
}

void bk_store_free(struct bk_store **s)
{
	if (!s || !*s)
		return;
	free((*s)->archive);
	free((*s)->store_dir);
	free((*s)->staging_dir);
	free(*s);
	*s = NULL;
}

const char *bk_store_archive(const struct bk_store *s)
{
	return s->archive;
}

char *bk_store_doc_dir(const struct bk_store *s, const char *collection,
		       const char *id)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s/%s", s->store_dir, collection, id) < 0)
		return NULL;
	return path;
}

static int read_meta_at(const char *doc_dir, const char *collection,
			const char *id, struct bk_doc_meta *meta,
			struct bk_error *err)
{
	char *path = bk_path_join(doc_dir, "bag-info.txt");
	char *text = NULL;
	size_t len = 0;
	int rc = -1;

	bk_doc_meta_init(meta);
	if (!path) {
		bk_error_set(err, "out of memory reading '%s'", doc_dir);
		goto out;
	}
	if (bk_read_file(path, &text, &len, err) ||
	    bk_meta_parse(text, len, path, meta, err))
		goto out;
	/* Where the bag lies is what the store and the index go by. */
	if (bk_doc_meta_set(&meta->id, id, err) ||
	    bk_doc_meta_set(&meta->collection, collection, err)) {
		bk_doc_meta_release(meta);
		goto out;
	}
	rc = 0;
out:
	free(path);
	free(text);
	return rc;
}

int bk_store_read_meta(struct bk_store *s, const char *collection,
		       const char *id, struct bk_doc_meta *meta,
		       struct bk_error *err)
{
	char *dir = NULL;
	int rc;

	bk_doc_meta_init(meta);
	if (bk_name_check("collection", collection, err) ||
	    bk_name_check("document id", id, err))
		return -1;
	dir = bk_store_doc_dir(s, collection, id);
	if (!dir)
		return bk_error_set(err, "out of memory reading '%s'", id);
	if (!path_exists(dir)) {
		bk_error_set(err, "no document '%s' in collection '%s' of '%s'", id,
			     collection, s->archive);
		free(dir);
		return -1;
	}
	rc = read_meta_at(dir, collection, id, meta, err);
	free(dir);
	return rc;
}

/* ---- recovery ----------------------------------------------------------- */

/* "<id>.<host>.<pid>.<random>[.old]", split from the right. */
struct stage_name {
	char *id; /* owned */
	char host[BK_HOST_MAX + 1];
	long pid;
	int old;
};

static int parse_stage_name(const char *name, struct stage_name *sn)
{
	char *copy = strdup(name), *dot, *end;
	size_t len;

	memset(sn, 0, sizeof(*sn));
	if (!copy)
		return -1;
	len = strlen(copy);
	if (len > strlen(BK_OLD_SUFFIX) &&
	    !strcmp(copy + len - strlen(BK_OLD_SUFFIX), BK_OLD_SUFFIX)) {
		sn->old = 1;
		copy[len - strlen(BK_OLD_SUFFIX)] = '\0';
	}
	dot = strrchr(copy, '.'); /* the random part */
	if (!dot)
		goto bad;
	*dot = '\0';
	dot = strrchr(copy, '.'); /* the pid */
	if (!dot)
		goto bad;
	*dot = '\0';
	sn->pid = strtol(dot + 1, &end, 10);
	if (end == dot + 1 || *end || sn->pid <= 0)
		goto bad;
	dot = strrchr(copy, '.'); /* the host */
	if (!dot || dot == copy || strlen(dot + 1) > BK_HOST_MAX)
		goto bad;
	*dot = '\0';
	strcpy(sn->host, dot + 1);
	sn->id = copy;
	return 0;
bad:
	free(copy);
	return -1;
}

static int stage_is_stale(const struct bk_store *s, const struct stage_name *sn)
{
	if (strcmp(sn->host, s->host) || sn->pid == (long)getpid())
		return 0;
	return kill((pid_t)sn->pid, 0) && errno == ESRCH;
}

/* One pass over a collection's staging directory: old copies (pass 0) are
 * handled before abandoned new bags (pass 1), so a document caught in the
 * replace window gets its old copy back. */
static int recover_collection(struct bk_store *s, const char *coll,
			      int pass, int *restored, int *removed,
			      struct bk_error *err)
{
	char *sdir = bk_path_join(s->staging_dir, coll);
	struct strlist entries = { 0 };
	int rc = -1;

	if (!sdir)
		return bk_error_set(err, "out of memory recovering '%s'", coll);
	if (!path_exists(sdir)) {
		rc = 0; /* removed by hand meanwhile */
		goto out;
	}
	if (list_dir(sdir, &entries, NULL, err))
		goto out;
	for (size_t i = 0; i < entries.n; i++) {
		struct stage_name sn;
		struct bk_error ignored;
		if (parse_stage_name(entries.v[i], &sn))
			continue; /* not ours: leave it to a human */
		if (bk_name_check("document id", sn.id, &ignored)) {
			free(sn.id);
			continue;
		}
		char *path = bk_path_join(sdir, entries.v[i]);
		char *doc = bk_store_doc_dir(s, coll, sn.id);
		char *cdir = bk_path_join(s->store_dir, coll);
		int bad = !path || !doc || !cdir;
		if (!bad && sn.old == (pass == 0) && stage_is_stale(s, &sn)) {
			if (sn.old && !path_exists(doc)) {
				if (bk_mkdir_p(cdir, 0, err)) {
					bad = 1;
				} else if (rename(path, doc)) {
					bad = 1;
					bk_error_set(err, "cannot restore '%s' to '%s': %s",
						     path, doc, strerror(errno));
				} else {
					(*restored)++;
				}
			} else {
				bad = bk_rm_tree(path, err);
				if (!bad)
					(*removed)++;
			}
		}
		free(path);
		free(doc);
		free(cdir);
		free(sn.id);
		if (bad)
			goto out;
	}
	rc = 0;
out:
	/* The emptied directory stays: removing it could race with a stage
	 * being created in it by another process. */
	strlist_release(&entries);
	free(sdir);
	return rc;
}

int bk_store_recover(struct bk_store *s, int *restored, int *removed,
		     struct bk_error *err)
{
	struct strlist colls = { 0 };
	int nrestored = 0, nremoved = 0, rc = -1;

	if (!path_exists(s->staging_dir)) {
		rc = 0;
		goto out;
	}
	if (list_dir(s->staging_dir, &colls, NULL, err))
		goto out;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < colls.n; i++)
			if (recover_collection(s, colls.v[i], pass, &nrestored,
					       &nremoved, err))
				goto out;
	rc = 0;
out:
	strlist_release(&colls);
	if (restored)
		*restored = nrestored;
	if (removed)
		*removed = nremoved;
	return rc;
}

/* ---- staging ------------------------------------------------------------ */

static void stage_free(struct bk_doc_stage *st)
{
	if (!st)
		return;
	bk_doc_meta_release(&st->meta);
	free(st->dir);
	free(st->final_dir);
	free(st->coll_dir);
	free(st->staging_coll_dir);
	for (size_t i = 0; i < st->nmasters; i++)
		free(st->masters[i].relpath);
	free(st->masters);
	free(st);
}

int bk_store_stage(struct bk_store *s, const struct bk_doc_meta *meta,
		   struct bk_doc_stage **out, struct bk_error *err)
{
	struct bk_doc_stage *st = NULL;
	char *data = NULL;
	int rc = -1;

	*out = NULL;
	if (bk_name_check("collection", meta->collection, err) ||
	    bk_name_check("document id", meta->id, err))
		return -1;
	if ((unsigned)meta->profile >= BK_PROFILE_COUNT ||
	    (unsigned)meta->access >= BK_ACCESS_COUNT)
		return bk_error_set(err, "document '%s': invalid profile or access level",
				    meta->id);
	st = calloc(1, sizeof(*st));
	if (!st)
		return bk_error_set(err, "out of memory staging '%s'", meta->id);
	st->store = s;
	bk_doc_meta_init(&st->meta);
	if (bk_doc_meta_copy(&st->meta, meta, err))
		goto out;
	st->coll_dir = bk_path_join(s->store_dir, meta->collection);
	st->final_dir = bk_store_doc_dir(s, meta->collection, meta->id);
	st->staging_coll_dir = bk_path_join(s->staging_dir, meta->collection);
	if (!st->coll_dir || !st->final_dir || !st->staging_coll_dir ||
	    asprintf(&st->dir, "%s/%s.%s.%ld.XXXXXX", st->staging_coll_dir,
		     meta->id, s->host, (long)getpid()) < 0) {
		st->dir = NULL;
		bk_error_set(err, "out of memory staging '%s'", meta->id);
		goto out;
	}
	if (bk_mkdir_p(st->staging_coll_dir, 0, err))
		goto out;
	if (!mkdtemp(st->dir)) {
		bk_error_set(err, "cannot create '%s': %s", st->dir, strerror(errno));
		free(st->dir);
		st->dir = NULL;
		goto out;
	}
	/* The bag's mode is its level's, set while it is empty (mkdtemp makes
	 * 0700 less the umask): every file and directory in it takes its
	 * mode from it (atomic.h), and a replaced document's new copy comes
	 * with its new level's. */
	if (bk_dir_set_mode(st->dir, bk_access_dir_mode(meta->access), err))
		goto out;
	data = bk_path_join(st->dir, "data");
	if (!data) {
		bk_error_set(err, "out of memory staging '%s'", meta->id);
		goto out;
	}
	if (bk_mkdir_p(data, 0, err))
		goto out;
	*out = st;
	st = NULL;
	rc = 0;
out:
	free(data);
	if (st)
		bk_store_abandon(&st);
	return rc;
}

struct bk_doc_meta *bk_doc_stage_meta(struct bk_doc_stage *stage)
{
	return &stage->meta;
}

const char *bk_doc_stage_dir(const struct bk_doc_stage *stage)
{
	return stage->dir;
}

char *bk_doc_stage_path(struct bk_doc_stage *stage, const char *relpath)
{
	struct bk_error ignored;
	char *path = NULL, *parent = NULL;

	if (strncmp(relpath, "data/", 5) || !relpath_safe(relpath) ||
	    relpath[strlen(relpath) - 1] == '/') {
		errno = EINVAL;
		return NULL;
	}
	path = bk_path_join(stage->dir, relpath);
	if (!path) {
		errno = ENOMEM;
		return NULL;
	}
	parent = strdup(path);
	if (!parent) {
		free(path);
		errno = ENOMEM;
		return NULL;
	}
	*strrchr(parent, '/') = '\0';
	if (bk_mkdir_p(parent, 0, &ignored)) {
		int saved = errno;
		free(parent);
		free(path);
		errno = saved;
		return NULL;
	}
	free(parent);
	return path;
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Copies src_fd to dst_fd, hashing the bytes as they are read. */
static int copy_hashing(int src_fd, const char *src, int dst_fd,
			const char *dst, char hex[BK_SHA256_HEX_LEN + 1],
			struct bk_error *err)
{
	struct bk_sha256 *h = bk_sha256_new(err);
	unsigned char *buf = malloc(BK_COPY_BUFFER);
	int rc = -1;

	if (!h)
		goto out;
	if (!buf) {
		bk_error_set(err, "cannot copy '%s': out of memory", src);
		goto out;
	}
	for (;;) {
		ssize_t n = read(src_fd, buf, BK_COPY_BUFFER);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bk_error_set(err, "cannot read '%s': %s", src, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (bk_sha256_update(h, buf, (size_t)n, err))
			goto out;
		if (write_all(dst_fd, buf, (size_t)n)) {
			bk_error_set(err, "cannot write '%s': %s", dst, strerror(errno));
			goto out;
		}
	}
	if (fsync(dst_fd)) {
		bk_error_set(err, "cannot write '%s': %s", dst, strerror(errno));
		goto out;
	}
	rc = bk_sha256_final(h, hex, err);
out:
	free(buf);
	bk_sha256_free(&h);
	return rc;
}

static int remember_master(struct bk_doc_stage *st, char *relpath,
			   const char *hex, struct bk_error *err)
{
	struct master_sum *grown =
		realloc(st->masters, (st->nmasters + 1) * sizeof(*grown));
	if (!grown) {
		bk_error_set(err, "out of memory adding '%s'", relpath);
		free(relpath);
		return -1;
	}
	st->masters = grown;
	st->masters[st->nmasters].relpath = relpath;
	memcpy(st->masters[st->nmasters].hex, hex, sizeof(grown->hex));
	st->nmasters++;
	return 0;
}

int bk_doc_stage_add_master(struct bk_doc_stage *stage, const char *src_path,
			    struct bk_error *err)
{
	const char *name = strrchr(src_path, '/');
	char *relpath = NULL, *dst = NULL;
	char hex[BK_SHA256_HEX_LEN + 1];
	int src_fd = -1, dst_fd = -1, rc = -1, created = 0;
	struct stat st;

	name = name ? name + 1 : src_path;
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return bk_error_set(err, "cannot store '%s': not a file name", src_path);
	if (!bk_utf8_valid(name, strlen(name)))
		return bk_error_set(err, "cannot store '%s': the file name is not UTF-8; rename it",
				    src_path);
	if (asprintf(&relpath, "data/masters/%s", name) < 0) {
		relpath = NULL;
		return bk_error_set(err, "out of memory storing '%s'", src_path);
	}
	src_fd = open(src_path, O_RDONLY | O_CLOEXEC);
	if (src_fd < 0 || fstat(src_fd, &st)) {
		bk_error_set(err, "cannot open '%s': %s", src_path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		bk_error_set(err, "cannot store '%s': not a regular file", src_path);
		goto out;
	}
	dst = bk_doc_stage_path(stage, relpath);
	if (!dst) {
		bk_error_set(err, "cannot store '%s': %s", src_path, strerror(errno));
		goto out;
	}
	dst_fd = bk_create_file(dst, O_EXCL, err);
	if (dst_fd < 0) {
		if (errno == EEXIST)
			bk_error_set(err, "cannot store '%s': document '%s' already has a master named '%s'",
				     src_path, stage->meta.id, name);
		goto out;
	}
	created = 1;
	if (copy_hashing(src_fd, src_path, dst_fd, dst, hex, err))
		goto out;
	/* Keep the scan's modification time: it is part of its provenance. */
	struct timespec times[2] = { st.st_atim, st.st_mtim };
	futimens(dst_fd, times);
	if (close(dst_fd)) {
		dst_fd = -1;
		bk_error_set(err, "cannot write '%s': %s", dst, strerror(errno));
		goto out;
	}
	dst_fd = -1;
	if (bk_doc_meta_add_source(&stage->meta, name, err))
		goto out;
	rc = remember_master(stage, relpath, hex, err);
	relpath = NULL;
out:
	if (src_fd >= 0)
		close(src_fd);
	if (dst_fd >= 0)
		close(dst_fd);
	if (rc && created)
		unlink(dst);
	free(dst);
	free(relpath);
	return rc;
}

void bk_store_abandon(struct bk_doc_stage **stage)
{
	struct bk_error ignored;

	if (!stage || !*stage)
		return;
	if ((*stage)->dir)
		bk_rm_tree((*stage)->dir, &ignored);
	stage_free(*stage);
	*stage = NULL;
}

/* ---- commit ------------------------------------------------------------- */

/* Hashes one payload file and forces it to disk: the manifest must never
 * vouch for bytes that a crash could still take away. */
static int hash_and_sync(const char *bag, const char *rel,
			 char hex[BK_SHA256_HEX_LEN + 1], uint64_t *size,
			 struct bk_error *err)
{
	char *path = bk_path_join(bag, rel);
	int fd = -1, rc = -1;

	if (!path)
		return bk_error_set(err, "out of memory hashing '%s'", rel);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		bk_error_set(err, "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	if (bk_sha256_fd(fd, path, hex, size, err))
		goto out;
	if (fsync(fd) && errno != EINVAL) {
		bk_error_set(err, "cannot sync '%s': %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static int check_master(const struct bk_doc_stage *st, const char *rel,
			const char *hex, int *found, struct bk_error *err)
{
	for (size_t i = 0; i < st->nmasters; i++) {
		if (strcmp(st->masters[i].relpath, rel))
			continue;
		(*found)++;
		if (strcmp(st->masters[i].hex, hex))
			return bk_error_set(err, "document '%s': stored master '%s' differs from the bytes read from its source",
					    st->meta.id, rel + strlen("data/masters/"));
	}
	return 0;
}

/* Builds manifest-sha256.txt in memory from every file under data/, and the
 * Payload-Oxum ("octets.files") that bag-info.txt carries. */
static int build_manifest(struct bk_doc_stage *st, char **text, size_t *len,
			  char oxum[48], struct bk_error *err)
{
	struct tree t = { 0 };
	FILE *fp = NULL;
	uint64_t octets = 0;
	int rc = -1, masters_found = 0;

	*text = NULL;
	*len = 0;
	if (walk_tree(st->dir, "data", &t, err))
		goto out;
	if (t.others.n) {
		bk_error_set(err, "document '%s': '%s' is not a regular file",
			     st->meta.id, t.others.v[0]);
		goto out;
	}
	fp = open_memstream(text, len);
	if (!fp) {
		bk_error_set(err, "out of memory writing the manifest of '%s'",
			     st->meta.id);
		goto out;
	}
	for (size_t i = 0; i < t.files.n; i++) {
		char hex[BK_SHA256_HEX_LEN + 1];
		uint64_t size = 0;
		char *line = NULL;
		if (hash_and_sync(st->dir, t.files.v[i], hex, &size, err) ||
		    check_master(st, t.files.v[i], hex, &masters_found, err))
			goto out;
		line = bk_bag_encode(t.files.v[i]);
		if (!line) {
			bk_error_set(err, "out of memory writing the manifest");
			goto out;
		}
		fprintf(fp, "%s  %s\n", hex, line);
		free(line);
		octets += size;
	}
	if ((size_t)masters_found != st->nmasters) {
		bk_error_set(err, "document '%s': a master was removed from the staging bag",
			     st->meta.id);
		goto out;
	}
	/* Directory entries must be durable too, deepest first. */
	for (size_t i = t.dirs.n; i-- > 0;) {
		char *dir = bk_path_join(st->dir, t.dirs.v[i]);
		int bad = !dir || bk_fsync_dir(dir, err);
		free(dir);
		if (bad)
			goto out;
	}
	snprintf(oxum, 48, "%llu.%zu", (unsigned long long)octets, t.files.n);
	rc = 0;
out:
	if (fp && fclose(fp) && !rc)
		rc = bk_error_set(err, "out of memory writing the manifest");
	if (rc) {
		free(*text);
		*text = NULL;
	}
	tree_release(&t);
	return rc;
}

static int write_tag(const struct bk_doc_stage *st, const char *name,
		     const char *text, size_t len, FILE *tagmanifest,
		     struct bk_error *err)
{
	char hex[BK_SHA256_HEX_LEN + 1];
	char *path = bk_path_join(st->dir, name);
	int rc = -1;

	if (!path)
		return bk_error_set(err, "out of memory writing '%s'", name);
	if (bk_atomic_write(path, text, len, err) ||
	    bk_sha256_mem(text, len, hex, err))
		goto out;
	if (tagmanifest)
		fprintf(tagmanifest, "%s  %s\n", hex, name);
	rc = 0;
out:
	free(path);
	return rc;
}

static int format_bag_info(struct bk_doc_stage *st, const char *oxum,
			   char **text, size_t *len, struct bk_error *err)
{
	char created[32], today[16];
	FILE *fp;
	int rc;

	utc_now(created, today);
	if ((!st->meta.created && bk_doc_meta_set(&st->meta.created, created, err)) ||
	    (!st->meta.software &&
	     bk_doc_meta_set(&st->meta.software, "bunko " BUNKO_VERSION, err)))
		return -1;
	fp = open_memstream(text, len);
	if (!fp)
		return bk_error_set(err, "out of memory writing bag-info.txt");
	rc = bk_meta_write(fp, &st->meta, today, oxum, err);
	if (fclose(fp) && !rc)
		rc = bk_error_set(err, "out of memory writing bag-info.txt");
	if (rc) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

/* Manifest, bagit.txt, bag-info.txt, then the tag manifest over the three,
 * each written atomically. Sorted names: bag-info.txt < bagit.txt. */
static int write_bag_files(struct bk_doc_stage *st, struct bk_error *err)
{
	char *manifest = NULL, *info = NULL, *tags = NULL;
	size_t manifest_len = 0, info_len = 0, tags_len = 0;
	char oxum[48];
	FILE *tagfp = NULL;
	int rc = -1;

	if (build_manifest(st, &manifest, &manifest_len, oxum, err) ||
	    format_bag_info(st, oxum, &info, &info_len, err))
		goto out;
	tagfp = open_memstream(&tags, &tags_len);
	if (!tagfp) {
		bk_error_set(err, "out of memory writing the tag manifest");
		goto out;
	}
	if (write_tag(st, "bag-info.txt", info, info_len, tagfp, err) ||
	    write_tag(st, "bagit.txt", bk_bagit_txt, strlen(bk_bagit_txt), tagfp, err) ||
	    write_tag(st, "manifest-sha256.txt", manifest, manifest_len, tagfp, err))
		goto out;
	if (fclose(tagfp)) {
		tagfp = NULL;
		bk_error_set(err, "out of memory writing the tag manifest");
		goto out;
	}
	tagfp = NULL;
	rc = write_tag(st, "tagmanifest-sha256.txt", tags, tags_len, NULL, err);
out:
	if (tagfp)
		fclose(tagfp);
	free(manifest);
	free(info);
	free(tags);
	return rc;
}

static int sync_parents(const struct bk_doc_stage *st, struct bk_error *err)
{
	return bk_fsync_dir(st->coll_dir, err) ||
	       bk_fsync_dir(st->staging_coll_dir, err) ? -1 : 0;
}

/* Replacement without RENAME_EXCHANGE: old copy aside, new one in. A crash
 * between the two renames leaves the document absent and the old copy at
 * "<stage>.old", which recovery puts back. Returns 1 if the document
 * vanished meanwhile (the caller tries again). */
static int replace_in_two_steps(struct bk_doc_stage *st, struct bk_error *err)
{
	struct bk_error ignored;
	char *trash = NULL;
	int rc = -1;

	if (asprintf(&trash, "%s%s", st->dir, BK_OLD_SUFFIX) < 0)
		return bk_error_set(err, "out of memory committing '%s'", st->meta.id);
	if (rename(st->final_dir, trash)) {
		if (errno == ENOENT)
			rc = 1;
		else
			bk_error_set(err, "cannot move '%s' aside: %s", st->final_dir,
				     strerror(errno));
		goto out;
	}
	if (rename(st->dir, st->final_dir)) {
		bk_error_set(err, "cannot rename '%s' to '%s': %s", st->dir,
			     st->final_dir, strerror(errno));
		rename(trash, st->final_dir); /* put the old copy back */
		goto out;
	}
	if (sync_parents(st, err))
		goto out;
	bk_rm_tree(trash, &ignored); /* if this fails, recovery finishes it */
	rc = 0;
out:
	free(trash);
	return rc;
}

/* Swaps the new bag with the old copy in one step; the old copy ends up at
 * the stage's path and is deleted. Returns 1 if the document vanished
 * meanwhile, 2 if the filesystem cannot exchange. */
static int replace_by_exchange(struct bk_doc_stage *st, struct bk_error *err)
{
	struct bk_error ignored;

	if (renameat2(AT_FDCWD, st->dir, AT_FDCWD, st->final_dir, RENAME_EXCHANGE)) {
		if (errno == ENOENT)
			return 1;
		if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP)
			return 2;
		return bk_error_set(err, "cannot replace '%s': %s", st->final_dir,
				    strerror(errno));
	}
	if (sync_parents(st, err))
		return -1;
	bk_rm_tree(st->dir, &ignored); /* the old copy; recovery finishes a failure */
	return 0;
}

static int rename_failed(const struct bk_doc_stage *st, struct bk_error *err)
{
	return bk_error_set(err, "cannot rename '%s' to '%s': %s", st->dir,
			    st->final_dir, strerror(errno));
}

/* Makes the complete staging bag visible at final_dir. Another commit of
 * the same document may race us; each round either wins or sees the other's
 * result and tries again. */
static int publish(struct bk_doc_stage *st, struct bk_error *err)
{
	for (int attempt = 0; attempt < BK_PUBLISH_TRIES; attempt++) {
		int rc = 2;
		if (!renameat2(AT_FDCWD, st->dir, AT_FDCWD, st->final_dir,
			       RENAME_NOREPLACE))
			return sync_parents(st, err);
		if (errno == EEXIST) {
			rc = replace_by_exchange(st, err);
		} else if (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP) {
			/* No RENAME_NOREPLACE here: plain rename(2) refuses a
			 * non-empty directory target, which every bag is. */
			if (!path_exists(st->final_dir)) {
				if (!rename(st->dir, st->final_dir))
					return sync_parents(st, err);
				if (errno != EEXIST && errno != ENOTEMPTY)
					return rename_failed(st, err);
			}
		} else {
			return rename_failed(st, err);
		}
		if (rc == 2)
			rc = replace_in_two_steps(st, err);
		if (rc != 1)
			return rc;
	}
	return bk_error_set(err, "cannot commit '%s': it keeps being replaced by another process",
			    st->final_dir);
}

int bk_store_commit(struct bk_doc_stage **stage, struct bk_error *err)
{
	struct bk_doc_stage *st = *stage;
	int rc = -1;

	*stage = NULL;
	if (!st)
		return bk_error_set(err, "internal error: commit of no stage");
	if (write_bag_files(st, err) || bk_fsync_dir(st->dir, err) ||
	    bk_mkdir_p(st->coll_dir, 0, err) ||
	    bk_fsync_dir(st->store->store_dir, err))
		goto out;
	if (publish(st, err))
		goto out;
	free(st->dir); /* published: nothing left to delete */
	st->dir = NULL;
	rc = 0;
out:
	bk_store_abandon(&st);
	return rc;
}

/* ---- iteration ---------------------------------------------------------- */

/* The collections to walk: the one asked for (if present), or all. */
static int collections(struct bk_store *s, const char *collection,
		       struct strlist *colls, struct strlist *strays,
		       struct bk_error *err)
{
	if (!collection)
		return list_dir(s->store_dir, colls, strays, err);
	if (bk_name_check("collection", collection, err))
		return -1;
	char *dir = bk_path_join(s->store_dir, collection);
	int present = dir && path_exists(dir);
	free(dir);
	if (!present)
		return 0;
	return strlist_push(colls, strdup(collection), err);
}

int bk_store_foreach(struct bk_store *s, const char *collection,
		     int (*fn)(const struct bk_doc_meta *meta, const char *doc_dir,
			       void *ud),
		     void *ud, struct bk_error *err)
{
	struct strlist colls = { 0 }, ids = { 0 };
	struct bk_doc_meta meta;
	char *cdir = NULL, *ddir = NULL;
	int rc = -1;

	bk_doc_meta_init(&meta);
	if (collections(s, collection, &colls, NULL, err))
		goto out;
	for (size_t c = 0; c < colls.n; c++) {
		free(cdir);
		strlist_release(&ids);
		cdir = bk_path_join(s->store_dir, colls.v[c]);
		if (!cdir) {
			bk_error_set(err, "out of memory listing '%s'", colls.v[c]);
			goto out;
		}
		if (list_dir(cdir, &ids, NULL, err))
			goto out;
		for (size_t i = 0; i < ids.n; i++) {
			free(ddir);
			ddir = bk_path_join(cdir, ids.v[i]);
			if (!ddir) {
				bk_error_set(err, "out of memory listing '%s'", cdir);
				goto out;
			}
			if (read_meta_at(ddir, colls.v[c], ids.v[i], &meta, err))
				goto out;
			int stop = fn(&meta, ddir, ud);
			bk_doc_meta_release(&meta);
			if (stop) {
				rc = stop;
				goto out;
			}
		}
	}
	rc = 0;
out:
	bk_doc_meta_release(&meta);
	strlist_release(&colls);
	strlist_release(&ids);
	free(cdir);
	free(ddir);
	return rc;
}

/* ---- verification ------------------------------------------------------- */

struct verify_ctx {
	struct bk_store *store;
	int (*report)(const char *kind, const char *path, void *ud);
	void *ud;
	struct bk_verify_stats *stats;
	int stop; /* report's non-zero answer */
};

/* Reports store/<parts...>; returns non-zero when the walk must stop. */
static int finding(struct verify_ctx *vc, const char *kind, const char *coll,
		   const char *id, const char *rel, struct bk_error *err)
{
	char *path = NULL;
	int n;

	if (!id)
		n = asprintf(&path, "store/%s", coll);
	else if (!rel)
		n = asprintf(&path, "store/%s/%s", coll, id);
	else
		n = asprintf(&path, "store/%s/%s/%s", coll, id, rel);
	if (n < 0)
		return bk_error_set(err, "out of memory reporting '%s'", coll);
	vc->stats->problems++;
	if (vc->report)
		vc->stop = vc->report(kind, path, vc->ud);
	free(path);
	return vc->stop;
}

struct manifest_entry {
	char *path; /* decoded, relative to the bag */
	char hex[BK_SHA256_HEX_LEN + 1];
};

struct manifest {
	struct manifest_entry *v;
	size_t n;
	struct strlist paths; /* sorted, for "unexpected" */
};

static void manifest_release(struct manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	strlist_release(&m->paths);
	memset(m, 0, sizeof(*m));
}

/* Where one document's check stands. */
struct doc_check {
	struct verify_ctx *vc;
	const char *coll, *id;
	char *dir;
};

static int manifest_add(struct manifest *m, const char *hex, const char *path,
			struct bk_error *err)
{
	struct manifest_entry *v = realloc(m->v, (m->n + 1) * sizeof(*v));
	if (!v)
		return bk_error_set(err, "out of memory reading a manifest");
	m->v = v;
	m->v[m->n].path = strdup(path);
	if (!m->v[m->n].path)
		return bk_error_set(err, "out of memory reading a manifest");
	memcpy(m->v[m->n].hex, hex, BK_SHA256_HEX_LEN);
	m->v[m->n].hex[BK_SHA256_HEX_LEN] = '\0';
	for (char *p = m->v[m->n].hex; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	m->n++;
	return strlist_push(&m->paths, strdup(path), err);
}

/* Parses one manifest line (NUL-terminated, modified in place); a bad line
 * is a "malformed" finding. */
static int manifest_line(struct doc_check *dc, const char *name, char *line,
			 int payload, struct manifest *m, struct bk_error *err)
{
	size_t hexlen = strcspn(line, " \t");
	char *path = line + hexlen;

	while (*path == ' ' || *path == '\t')
		path++;
	if (bk_sha256_is_hex(line, hexlen) && *path) {
		bk_bag_decode(path);
		if (relpath_safe(path) &&
		    (!payload || !strncmp(path, "data/", 5)))
			return manifest_add(m, line, path, err);
	}
	return finding(dc->vc, "malformed", dc->coll, dc->id, name, err);
}

/* Loads a manifest; a missing one is reported and yields no entries. */
static int manifest_load(struct doc_check *dc, const char *name, int payload,
			 struct manifest *m, int *present, struct bk_error *err)
{
	char *path = bk_path_join(dc->dir, name), *text = NULL;
	size_t len = 0;
	struct bk_error read_err;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	*present = 0;
	if (!path)
		return bk_error_set(err, "out of memory reading '%s'", name);
	if (!path_exists(path)) {
		rc = finding(dc->vc, "missing", dc->coll, dc->id, name, err);
		goto out;
	}
	if (bk_read_file(path, &text, &len, &read_err)) {
		rc = finding(dc->vc, "unreadable", dc->coll, dc->id, name, err);
		goto out;
	}
	*present = 1;
	for (char *line = text, *next; line < text + len; line = next) {
		next = memchr(line, '\n', (size_t)(text + len - line));
		next = next ? next + 1 : text + len;
		next[-1] = next[-1] == '\n' ? '\0' : next[-1];
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[l - 1] = '\0';
		if (!line[0])
			continue;
		if (manifest_line(dc, name, line, payload, m, err))
			goto out;
	}
	strlist_sort(&m->paths);
	rc = 0;
out:
	free(path);
	free(text);
	return rc;
}

/* Re-hashes one listed file and reports what is wrong with it. */
static int check_entry(struct doc_check *dc, const struct manifest_entry *e,
		       struct bk_error *err)
{
	char *path = bk_path_join(dc->dir, e->path);
	char hex[BK_SHA256_HEX_LEN + 1];
	struct bk_error read_err;
	const char *kind = NULL;
	uint64_t size = 0;
	struct stat st;
	int fd, rc;

	if (!path)
		return bk_error_set(err, "out of memory checking '%s'", e->path);
	dc->vc->stats->files++;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		kind = errno == ENOENT || errno == ENOTDIR ? "missing"
		       : errno == ELOOP ? "changed" : "unreadable";
	else if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		kind = "changed";
	else if (bk_sha256_fd(fd, path, hex, &size, &read_err))
		kind = "unreadable";
	else if (strcmp(hex, e->hex))
		kind = "changed";
	dc->vc->stats->bytes += size;
	if (fd >= 0)
		close(fd);
	free(path);
	rc = kind ? finding(dc->vc, kind, dc->coll, dc->id, e->path, err) : 0;
	return rc;
}

/* Top-level names a bag may hold beside what its manifests list. */
static int is_manifest_name(const char *rel)
{
	const char *p = rel;
	if (strchr(rel, '/'))
		return 0;
	if (!strncmp(p, "tag", 3))
		p += 3;
	return !strncmp(p, "manifest-", 9) && strlen(p) > 13 &&
	       !strcmp(p + strlen(p) - 4, ".txt");
}

static int check_document(struct verify_ctx *vc, const char *coll,
			  const char *id, struct bk_error *err)
{
	struct doc_check dc = { vc, coll, id, NULL };
	struct manifest payload = { 0 }, tags = { 0 };
	struct tree t = { 0 };
	int rc = -1, have_payload = 0, have_tags = 0;

	vc->stats->documents++;
	dc.dir = bk_store_doc_dir(vc->store, coll, id);
	if (!dc.dir)
		return bk_error_set(err, "out of memory checking '%s'", id);
	if (walk_tree(dc.dir, "", &t, err) ||
	    manifest_load(&dc, "manifest-sha256.txt", 1, &payload, &have_payload, err) ||
	    manifest_load(&dc, "tagmanifest-sha256.txt", 0, &tags, &have_tags, err))
		goto out;
	for (size_t i = 0; i < payload.n; i++)
		if (check_entry(&dc, &payload.v[i], err))
			goto out;
	for (size_t i = 0; i < tags.n; i++) {
		if (!have_payload && !strcmp(tags.v[i].path, "manifest-sha256.txt"))
			continue; /* already reported missing */
		if (check_entry(&dc, &tags.v[i], err))
			goto out;
	}
	for (size_t i = 0; i < t.files.n; i++) {
		const char *rel = t.files.v[i];
		if (strlist_has(&payload.paths, rel) || strlist_has(&tags.paths, rel) ||
		    is_manifest_name(rel))
			continue;
		if (finding(vc, "unexpected", coll, id, rel, err))
			goto out;
	}
	for (size_t i = 0; i < t.others.n; i++)
		if (finding(vc, "unexpected", coll, id, t.others.v[i], err))
			goto out;
	rc = 0;
out:
	tree_release(&t);
	manifest_release(&payload);
	manifest_release(&tags);
	free(dc.dir);
	return vc->stop ? vc->stop : rc;
}

static int check_collection(struct verify_ctx *vc, const char *coll,
			    struct bk_error *err)
{
	struct strlist ids = { 0 }, strays = { 0 };
	char *cdir = bk_path_join(vc->store->store_dir, coll);
	int rc = -1;

	if (!cdir)
		return bk_error_set(err, "out of memory checking '%s'", coll);
	if (list_dir(cdir, &ids, &strays, err))
		goto out;
	for (size_t i = 0; i < ids.n; i++)
		if (check_document(vc, coll, ids.v[i], err))
			goto out;
	for (size_t i = 0; i < strays.n; i++)
		if (finding(vc, "unexpected", coll, strays.v[i], NULL, err))
			goto out;
	rc = 0;
out:
	strlist_release(&ids);
	strlist_release(&strays);
	free(cdir);
	return vc->stop ? vc->stop : rc;
}

int bk_store_verify_collection(struct bk_store *s, const char *collection,
			       int (*report)(const char *kind, const char *path,
					     void *ud),
			       void *ud, struct bk_verify_stats *stats,
			       struct bk_error *err)
{
	struct bk_verify_stats local;
	struct verify_ctx vc = { s, report, ud, stats ? stats : &local, 0 };
	struct strlist colls = { 0 }, strays = { 0 };
	int rc = -1;

	memset(vc.stats, 0, sizeof(*vc.stats));
	if (collections(s, collection, &colls, &strays, err))
		goto out;
	if (collection && !colls.n) {
		bk_error_set(err, "no collection '%s' in '%s'", collection, s->archive);
		goto out;
	}
	for (size_t c = 0; c < colls.n; c++)
		if (check_collection(&vc, colls.v[c], err))
			goto out;
	for (size_t i = 0; i < strays.n; i++)
		if (finding(&vc, "unexpected", strays.v[i], NULL, NULL, err))
			goto out;
	rc = 0;
out:
	strlist_release(&colls);
	strlist_release(&strays);
	return vc.stop ? vc.stop : rc;
}

/* ---- access check --------------------------------------------------------- */

/* True if `st` lets someone read or search beyond what its level allows
 * (`allowed`: the level's mode for it), or, for a restricted document, lets
 * a group other than the archive's read it. */
static int is_exposed(const struct stat *st, unsigned allowed, enum bk_access level,
		      gid_t group)
{
	if ((unsigned)st->st_mode & 0555 & ~allowed)
		return 1;
	return level == BK_ACCESS_RESTRICTED && (st->st_mode & 0050) && st->st_gid != group;
}

static int check_doc_access(struct verify_ctx *vc, const char *coll, const char *id,
			    gid_t group, struct bk_error *err)
{
	char *dir = bk_store_doc_dir(vc->store, coll, id), *path = NULL;
	struct bk_doc_meta meta;
	struct bk_error ignored;
	struct tree t = { 0 };
	struct stat st;
	int rc = -1;

	if (!dir)
		return bk_error_set(err, "out of memory checking '%s'", id);
	if (read_meta_at(dir, coll, id, &meta, &ignored)) {
		rc = 0; /* the fixity check reports a bag-info it cannot read */
		goto out;
	}
	enum bk_access level = meta.access;
	unsigned dmode = bk_access_dir_mode(level);
	bk_doc_meta_release(&meta);
	if (walk_tree(dir, "", &t, err))
		goto out;
	if (lstat(dir, &st) == 0 && is_exposed(&st, dmode, level, group) &&
	    finding(vc, "exposed", coll, id, NULL, err))
		goto out;
	for (int files = 0; files < 2; files++) {
		const struct strlist *l = files ? &t.files : &t.dirs;
		for (size_t i = 0; i < l->n; i++) {
			free(path);
			path = bk_path_join(dir, l->v[i]);
			if (!path) {
				bk_error_set(err, "out of memory checking '%s'", id);
				goto out;
			}
			if (lstat(path, &st) == 0 &&
			    is_exposed(&st, files ? bk_file_mode_in(dmode) : dmode, level, group) &&
			    finding(vc, "exposed", coll, id, l->v[i], err))
				goto out;
		}
	}
	rc = 0;
out:
	tree_release(&t);
	free(path);
	free(dir);
	return vc->stop ? vc->stop : rc;
}

int bk_store_check_access(struct bk_store *s, const char *collection,
			  int (*report)(const char *kind, const char *path, void *ud),
			  void *ud, struct bk_verify_stats *stats, struct bk_error *err)
{
	struct bk_verify_stats local = { 0 };
	struct verify_ctx vc = { s, report, ud, stats ? stats : &local, 0 };
	struct strlist colls = { 0 }, ids = { 0 };
	struct stat ast;
	int rc = -1;

	if (stat(s->archive, &ast))
		return bk_error_set(err, "cannot open archive '%s': %s", s->archive,
				    strerror(errno));
	if (collections(s, collection, &colls, NULL, err))
		goto out;
	for (size_t c = 0; c < colls.n; c++) {
		char *cdir = bk_path_join(s->store_dir, colls.v[c]);
		strlist_release(&ids);
		int bad = !cdir ? bk_error_set(err, "out of memory checking '%s'", colls.v[c])
				: list_dir(cdir, &ids, NULL, err);
		free(cdir);
		if (bad)
			goto out;
		for (size_t i = 0; i < ids.n; i++)
			if (check_doc_access(&vc, colls.v[c], ids.v[i], ast.st_gid, err))
				goto out;
	}
	rc = 0;
out:
	strlist_release(&colls);
	strlist_release(&ids);
	return vc.stop ? vc.stop : rc;
}

int bk_store_verify(struct bk_store *s,
		    int (*report)(const char *kind, const char *path, void *ud),
		    void *ud, struct bk_error *err)
{
	return bk_store_verify_collection(s, NULL, report, ud, NULL, err);
}
