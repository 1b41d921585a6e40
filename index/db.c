/*
 * index/db.c — the SQLite adapter: every sqlite3 handle of bunko lives in
 * this file (index/fts5_tokenizer.c only registers the tokenizer on the
 * handles made here). Schema, puts, search and rebuild.
 *
 * Schema, one file per access level (all three files alike):
 *   doc(id, doc UNIQUE, collection, title, date, profile, access, pdf, npages)
 *   page(id = doc.id << 16 | page number, text)   -- one row per page
 *   page_fts: FTS5 over page.text (external content, tokenizer "bunko",
 *             detail=full: bigram chains need phrase queries)
 * A document's pages are one rowid range, so removing a document needs no
 * extra index; 65535 pages at most per document.
 *
 * File protocol. INDEX_DIR/<level>.db is a symbolic link to the current
 * generation file "<level>.db.<gen>" (gen: unique hex). SQLite resolves the
 * link when it opens a database and names the -wal/-shm files after the
 * TARGET, so each generation has its own WAL and shared memory. That is
 * what makes the swap safe: renaming a new database file over a live WAL
 * database would make new connections read the old file's -wal/-shm (they
 * are found by name) and corrupt both. Instead:
 *   1. a new generation is created with O_EXCL and fchmod()ed to the
 *      level's mode (0644/0640/0600), its schema made, journal_mode=WAL set
 *      and the connection closed (no -wal/-shm left behind);
 *   2. it is published by making a temporary symlink to it and rename(2)ing
 *      that over <level>.db (first creation: symlink(2), which fails if
 *      another process won the race; the loser drops its file);
 *   3. the directory is fsync()ed and the previous generation and its
 *      -wal/-shm are unlinked. Connections that opened the old generation
 *      keep their file descriptors and keep answering from the old data;
 *      new opens, and readers at their next search (they compare the link
 *      target), see the new one. A writer still holding the old generation
 *      gets SQLITE_READONLY_DBMOVED; bk_index_put then reopens and retries.
 * Rebuild builds every level's new generation (journal_mode=OFF while
 * building: a crash just leaves an unpublished file), then publishes them
 * one by one. Each level file is self-consistent at every moment, so the
 * order only matters for a document whose level changed, and then it is at
 * worst briefly invisible or, for an admin, briefly listed twice.
 *
 * Concurrency: WAL and a 30 s busy timeout; each put is one IMMEDIATE
 * transaction in the document's level file.
 */
#include "index/index.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index/fts5_tokenizer.h"
#include "index/query.h"

#define BK_BUSY_TIMEOUT_MS 30000
#define BK_PAGE_BITS 16
#define BK_MAX_PAGES ((1 << BK_PAGE_BITS) - 1)
#define BK_SNIPPET_TOKENS 44
#define BK_SCHEMA_VERSION "1"

static const unsigned level_modes[BK_ACCESS_COUNT] = { 0644, 0640, 0600 };

static const char *const schema_sql =
	"CREATE TABLE IF NOT EXISTS bunko_index_info("
	"  key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS doc("
	"  id INTEGER PRIMARY KEY,"
	"  doc TEXT NOT NULL UNIQUE,"
	"  collection TEXT NOT NULL,"
	"  title TEXT NOT NULL DEFAULT '',"
	"  date TEXT NOT NULL DEFAULT '',"
	"  profile TEXT NOT NULL,"
	"  access TEXT NOT NULL,"
	"  pdf TEXT NOT NULL DEFAULT '',"
	"  npages INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS doc_by_collection ON doc(collection);"
	"CREATE TABLE IF NOT EXISTS page(id INTEGER PRIMARY KEY, text TEXT NOT NULL);"
	"CREATE VIRTUAL TABLE IF NOT EXISTS page_fts USING fts5("
	"  text, content='page', content_rowid='id', tokenize='bunko', detail=full);"
	"INSERT OR IGNORE INTO bunko_index_info VALUES('schema', '" BK_SCHEMA_VERSION "');";

struct bk_index {
	char *dir;
	enum bk_role role;
	bool writable;
	bool building;                   /* rebuild: db[] are new generations */
	sqlite3 *db[BK_ACCESS_COUNT];
	char *target[BK_ACCESS_COUNT];   /* generation file name db[] has open */
};

/* ---- paths and files ---------------------------------------------------- */

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static char *link_path(const char *dir, enum bk_access level)
{
	char name[64];
	snprintf(name, sizeof(name), "%s.db", bk_access_name(level));
	return path_join(dir, name);
}

/* Reads the generation name <level>.db points to; NULL if there is none. */
static char *read_target(const char *dir, enum bk_access level)
{
	char *link = link_path(dir, level), buf[256];
	ssize_t n = link ? readlink(link, buf, sizeof(buf) - 1) : -1;
	free(link);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static char *new_generation_name(enum bk_access level)
{
	char name[96];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, sizeof(name), "%s.db.%llx%05x", bk_access_name(level),
		 (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec,
		 (unsigned)getpid() & 0xfffff);
	return strdup(name);
}

static int make_dir(const char *dir, struct bk_error *err)
{
	if (mkdir(dir, 0755) && errno != EEXIST)
		return bk_error_set(err, "cannot create '%s': %s", dir, strerror(errno));
	return 0;
}

static int fsync_path(const char *path, int flags, struct bk_error *err);

static int fsync_dir(const char *dir, struct bk_error *err)
{
	return fsync_path(dir, O_RDONLY | O_DIRECTORY, err);
}

static int fsync_path(const char *path, int flags, struct bk_error *err)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd < 0 || fsync(fd)) {
		bk_error_set(err, "cannot sync '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Unlinks a generation file with its -wal and -shm. */
static void remove_generation(const char *dir, const char *name)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char file[300];
		snprintf(file, sizeof(file), "%s%s", name, suffixes[i]);
		char *p = path_join(dir, file);
		if (p)
			unlink(p);
		free(p);
	}
}

/* Creates an empty generation file with the level's mode, umask aside. */
static int create_file(const char *path, enum bk_access level, struct bk_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return bk_error_set(err, "cannot create '%s': %s", path, strerror(errno));
	if (fchmod(fd, level_modes[level])) {
		bk_error_set(err, "cannot set the mode of '%s': %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

/* ---- connections ---------------------------------------------------------- */

static int db_fail(sqlite3 *db, const char *what, struct bk_error *err)
{
	return bk_error_set(err, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static int exec(sqlite3 *db, const char *sql, const char *path, struct bk_error *err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return bk_error_set(err, "index '%s': %s", path, sqlite3_errmsg(db));
	return 0;
}

/* Opens one database file (never creating it) with bunko's tokenizer. */
static int open_conn(const char *path, bool readonly, sqlite3 **out, struct bk_error *err)
{
	sqlite3 *db = NULL;
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;

	*out = NULL;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		bk_error_set(err, "cannot open index '%s': %s", path,
			     db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, BK_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	if (bk_fts5_register(db, err)) {
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

/* Makes a new generation file for `level` with the schema, in `mode`
 * ("WAL" for publishing, "OFF" for a rebuild's bulk load). Returns the open
 * connection if `keep`, else closes it. */
static int make_generation(const char *dir, enum bk_access level, const char *name,
			   const char *journal, sqlite3 **keep, struct bk_error *err)
{
	char *path = path_join(dir, name), sql[128];
	sqlite3 *db = NULL;
	int rc = -1;

	if (keep)
		*keep = NULL;
	if (!path || create_file(path, level, err) || open_conn(path, false, &db, err))
		goto out;
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode=%s;", journal);
	if (exec(db, sql, path, err) || exec(db, schema_sql, path, err))
		goto out;
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO bunko_index_info VALUES('level', '%s');",
		 bk_access_name(level));
	if (exec(db, sql, path, err))
		goto out;
	if (keep) {
		*keep = db;
		db = NULL;
	}
	rc = 0;
out:
	if (db)
		sqlite3_close(db);
	if (rc && path)
		unlink(path);
	free(path);
	return rc;
}

/* Points <level>.db at `name`: rename(2) of a fresh symlink, or for a
 * first creation symlink(2) that loses to a concurrent creator (returns 1). */
static int publish(const char *dir, enum bk_access level, const char *name, bool replace,
		   struct bk_error *err)
{
	char *link = link_path(dir, level), *tmp = NULL;
	int rc = -1;

	if (!link) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (!replace) {
		if (symlink(name, link) == 0)
			rc = 0;
		else if (errno == EEXIST)
			rc = 1;
		else
			bk_error_set(err, "cannot create '%s': %s", link, strerror(errno));
		goto out;
	}
	char tmpname[128];
	snprintf(tmpname, sizeof(tmpname), ".%s.db.link.%d", bk_access_name(level), (int)getpid());
	if (!(tmp = path_join(dir, tmpname))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	unlink(tmp);
	if (symlink(name, tmp) || rename(tmp, link)) {
		bk_error_set(err, "cannot publish '%s': %s", link, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(link);
	free(tmp);
	return rc;
}

static void close_level(struct bk_index *idx, enum bk_access level)
{
	sqlite3_close(idx->db[level]);
	idx->db[level] = NULL;
	free(idx->target[level]);
	idx->target[level] = NULL;
}

/* Opens the current generation of `level` (creating the level if `create`).
 * Sets idx->db[level], or leaves it NULL if the level has no file yet. */
static int open_level(struct bk_index *idx, enum bk_access level, bool create,
		      struct bk_error *err)
{
	struct bk_error last;

	bk_error_init(&last);
	bk_error_set(&last, "cannot open the %s index in '%s'", bk_access_name(level), idx->dir);
	for (int attempt = 0; attempt < 5; attempt++) {
		char *target = read_target(idx->dir, level);
		if (!target) {
			if (!create)
				return 0;
			char *name = new_generation_name(level);
			if (!name || make_dir(idx->dir, err) ||
			    make_generation(idx->dir, level, name, "WAL", NULL, err)) {
				free(name);
				return name ? -1 : bk_error_set(err, "out of memory");
			}
			int won = publish(idx->dir, level, name, false, err);
			if (won != 0) /* failed, or another process created it first */
				remove_generation(idx->dir, name);
			else if (fsync_dir(idx->dir, err))
				won = -1;
			free(name);
			if (won < 0)
				return -1;
			continue;
		}
		char *path = path_join(idx->dir, target);
		sqlite3 *db = NULL;
		struct stat st;
		/* open the target itself: a swap between readlink and open then
		 * just means the file is gone, and we look again */
		if (path && stat(path, &st) == 0 && open_conn(path, !idx->writable, &db, &last) == 0) {
			free(path);
			idx->db[level] = db;
			idx->target[level] = target;
			return 0;
		}
		free(path);
		free(target);
	}
	return bk_error_set(err, "%s", last.msg);
}

/* Reopens a level whose link now points elsewhere (after a rebuild). */
static int refresh_level(struct bk_index *idx, enum bk_access level, struct bk_error *err)
{
	if (idx->building)
		return 0;
	char *target = read_target(idx->dir, level);
	bool same = target && idx->target[level] && !strcmp(target, idx->target[level]);
	free(target);
	if (same || (!target && !idx->db[level]))
		return 0;
	close_level(idx, level);
	return open_level(idx, level, false, err);
}

int bk_index_open(struct bk_index **out, const char *index_dir, enum bk_role role,
		  bool writable, struct bk_error *err)
{
	struct bk_index *idx = NULL;

	*out = NULL;
	if ((unsigned)role >= BK_ROLE_COUNT)
		return bk_error_set(err, "invalid role %d", (int)role);
	if (!(idx = calloc(1, sizeof(*idx))) || !(idx->dir = strdup(index_dir))) {
		free(idx);
		return bk_error_set(err, "out of memory");
	}
	idx->role = role;
	idx->writable = writable;
	if (!writable)
		for (int l = 0; l <= (int)bk_role_max_access(role); l++)
			if (open_level(idx, (enum bk_access)l, false, err)) {
				bk_index_free(&idx);
				return -1;
			}
	*out = idx;
	return 0;
}

void bk_index_free(struct bk_index **idx)
{
	if (!idx || !*idx)
		return;
	for (int l = 0; l < BK_ACCESS_COUNT; l++)
		close_level(*idx, (enum bk_access)l);
	free((*idx)->dir);
	free(*idx);
	*idx = NULL;
}

/* ---- writing ---------------------------------------------------------------- */

static int db_id_of(sqlite3 *db, const char *doc_id, sqlite3_int64 *id)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT id FROM doc WHERE doc = ?1", -1, &st, NULL);
	*id = 0;
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*id = sqlite3_column_int64(st, 0);
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	return rc;
}

static int run_with_id(sqlite3 *db, const char *sql, sqlite3_int64 lo, sqlite3_int64 hi)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, lo);
		sqlite3_bind_int64(st, 2, hi);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Removes document row `id` and its pages (inside the caller's transaction). */
static int delete_rows(sqlite3 *db, sqlite3_int64 id)
{
	sqlite3_int64 lo = id << BK_PAGE_BITS, hi = lo | BK_MAX_PAGES;
	int rc = run_with_id(db, "INSERT INTO page_fts(page_fts, rowid, text) "
				 "SELECT 'delete', id, text FROM page WHERE id BETWEEN ?1 AND ?2",
			     lo, hi);
	if (rc == SQLITE_OK)
		rc = run_with_id(db, "DELETE FROM page WHERE id BETWEEN ?1 AND ?2", lo, hi);
	if (rc == SQLITE_OK)
		rc = run_with_id(db, "DELETE FROM doc WHERE id = ?1 OR id = ?2", id, id);
	return rc;
}

static void bind_text_or_empty(sqlite3_stmt *st, int i, const char *s)
{
	sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

static int insert_doc(sqlite3 *db, const struct bk_index_doc *doc, sqlite3_int64 *id)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db,
		"INSERT INTO doc(doc, collection, title, date, profile, access, pdf, npages) "
		"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, doc->id, -1, SQLITE_STATIC);
		bind_text_or_empty(st, 2, doc->collection);
		bind_text_or_empty(st, 3, doc->title);
		bind_text_or_empty(st, 4, doc->date);
		sqlite3_bind_text(st, 5, bk_profile_name(doc->profile), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, bk_access_name(doc->access), -1, SQLITE_STATIC);
		bind_text_or_empty(st, 7, doc->pdf);
		sqlite3_bind_int(st, 8, doc->npages);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	*id = sqlite3_last_insert_rowid(db);
	return rc;
}

static int insert_pages(sqlite3 *db, const struct bk_index_doc *doc, sqlite3_int64 id)
{
	sqlite3_stmt *page = NULL, *fts = NULL;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO page(id, text) VALUES(?1, ?2)", -1, &page, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "INSERT INTO page_fts(rowid, text) VALUES(?1, ?2)",
					-1, &fts, NULL);
	for (int i = 0; rc == SQLITE_OK && i < doc->npages; i++) {
		const char *text = doc->page_texts[i];
		if (!text || !*text)
			continue; /* a blank page has nothing to find */
		sqlite3_int64 rowid = (id << BK_PAGE_BITS) | (i + 1);
		sqlite3_stmt *sts[2] = { page, fts };
		for (int k = 0; rc == SQLITE_OK && k < 2; k++) {
			sqlite3_bind_int64(sts[k], 1, rowid);
			sqlite3_bind_text(sts[k], 2, text, -1, SQLITE_STATIC);
			rc = sqlite3_step(sts[k]);
			rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
			sqlite3_reset(sts[k]);
		}
	}
	sqlite3_finalize(page);
	sqlite3_finalize(fts);
	return rc;
}

/* Deletes `doc_id` from `db` and, if `doc` is given, inserts it; one
 * transaction unless the index is building (one long transaction). */
static int replace_in(struct bk_index *idx, sqlite3 *db, const char *doc_id,
		      const struct bk_index_doc *doc)
{
	sqlite3_int64 id;
	int rc = SQLITE_OK;

	if (!idx->building)
		rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = db_id_of(db, doc_id, &id);
	if (rc == SQLITE_OK && id)
		rc = delete_rows(db, id);
	if (rc == SQLITE_OK && doc)
		rc = insert_doc(db, doc, &id);
	if (rc == SQLITE_OK && doc)
		rc = insert_pages(db, doc, id);
	if (!idx->building) {
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	return rc;
}

/* replace_in on `level`, opening it as needed; a file swapped out by a
 * rebuild (SQLITE_READONLY_DBMOVED) is reopened once. `doc` NULL deletes;
 * then a level without a file is left alone. */
static int replace_at_level(struct bk_index *idx, enum bk_access level, const char *doc_id,
			    const struct bk_index_doc *doc, struct bk_error *err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (!idx->db[level] && open_level(idx, level, doc != NULL, err))
			return -1;
		if (!idx->db[level])
			return 0;
		int rc = replace_in(idx, idx->db[level], doc_id, doc);
		if (rc == SQLITE_OK)
			return 0;
		if (rc != SQLITE_READONLY_DBMOVED || idx->building) {
			return bk_error_set(err, "cannot %s '%s' in the %s index: %s",
					    doc ? "index" : "remove", doc_id, bk_access_name(level),
					    sqlite3_errmsg(idx->db[level]));
		}
		close_level(idx, level);
	}
	return bk_error_set(err, "cannot index '%s': the %s index keeps moving", doc_id,
			    bk_access_name(level));
}

static int check_writable(struct bk_index *idx, struct bk_error *err)
{
	if (!idx->writable)
		return bk_error_set(err, "the index in '%s' was opened read-only", idx->dir);
	return 0;
}

int bk_index_put(struct bk_index *idx, const struct bk_index_doc *doc, struct bk_error *err)
{
	enum bk_access max = bk_role_max_access(idx->role);

	if (check_writable(idx, err))
		return -1;
	if (!doc->id || !*doc->id)
		return bk_error_set(err, "cannot index a document without an id");
	if ((unsigned)doc->access >= BK_ACCESS_COUNT || doc->access > max)
		return bk_error_set(err, "cannot index '%s': role '%s' may not write %s documents",
				    doc->id, bk_role_name(idx->role), bk_access_name(doc->access));
	if (doc->npages < 0 || doc->npages > BK_MAX_PAGES)
		return bk_error_set(err, "cannot index '%s': %d pages exceeds the limit of %d",
				    doc->id, doc->npages, BK_MAX_PAGES);
	/* first out of any other level (a changed access level), then in */
	for (int l = 0; l <= (int)max; l++)
		if (l != (int)doc->access &&
		    replace_at_level(idx, (enum bk_access)l, doc->id, NULL, err))
			return -1;
	return replace_at_level(idx, doc->access, doc->id, doc, err);
}

int bk_index_delete(struct bk_index *idx, const char *doc_id, struct bk_error *err)
{
	if (check_writable(idx, err))
		return -1;
	for (int l = 0; l <= (int)bk_role_max_access(idx->role); l++)
		if (replace_at_level(idx, (enum bk_access)l, doc_id, NULL, err))
			return -1;
	return 0;
}

/* ---- search ----------------------------------------------------------------- */

struct hit {
	char *doc, *collection, *title, *date, *pdf, *snippet, *profile;
	int page;
	double score;
	enum bk_access access;
};

struct hits {
	struct hit *v;
	int n, cap;
};

static void hits_release(struct hits *h)
{
	for (int i = 0; i < h->n; i++) {
		struct hit *x = &h->v[i];
		free(x->doc), free(x->collection), free(x->title), free(x->date);
		free(x->pdf), free(x->snippet), free(x->profile);
	}
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

static char *column_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return strdup(s ? (const char *)s : "");
}

static bool is_space_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_marker(char c)
{
	return c == BK_SNIPPET_OPEN[0] || c == BK_SNIPPET_CLOSE[0];
}

/* Snippet clean-up in place: white space between two non-ASCII characters
 * (markers looked through) goes, other white space runs become one space. */
static void tidy_snippet(char *s)
{
	char *out = s;
	const char *in = s;

	while (*in) {
		if (!is_space_byte(*in)) {
			*out++ = *in++;
			continue;
		}
		while (is_space_byte(*in))
			in++;
		const char *next = in, *prev = out;
		while (*next && is_marker(*next))
			next++;
		while (prev > s && is_marker(prev[-1]))
			prev--;
		bool japanese_both = prev > s && ((unsigned char)prev[-1] & 0x80) &&
				     ((unsigned char)*next & 0x80);
		if (out > s && *in && !japanese_both)
			*out++ = ' ';
	}
	*out = '\0';
}

static int hits_push(struct hits *h, sqlite3_stmt *st, enum bk_access level)
{
	if (h->n == h->cap) {
		int cap = h->cap ? h->cap * 2 : 32;
		struct hit *grown = realloc(h->v, (size_t)cap * sizeof(*grown));
		if (!grown)
			return -1;
		h->v = grown;
		h->cap = cap;
	}
	struct hit *x = &h->v[h->n];
	memset(x, 0, sizeof(*x));
	x->doc = column_dup(st, 0);
	x->collection = column_dup(st, 1);
	x->title = column_dup(st, 2);
	x->date = column_dup(st, 3);
	x->pdf = column_dup(st, 4);
	x->profile = column_dup(st, 5);
	x->page = sqlite3_column_int(st, 6);
	x->snippet = column_dup(st, 7);
	x->score = -sqlite3_column_double(st, 8);
	x->access = level;
	h->n++;
	if (!x->doc || !x->collection || !x->title || !x->date || !x->pdf || !x->profile ||
	    !x->snippet)
		return -1;
	tidy_snippet(x->snippet);
	return 0;
}

/* Hits are ranked by FTS5 (ORDER BY rank), so snippet() runs only for the
 * rows that survive the LIMIT. */
static const char *const search_sql =
	"SELECT d.doc, d.collection, d.title, d.date, d.pdf, d.profile,"
	"       page_fts.rowid & " "65535" ","
	"       snippet(page_fts, 0, ?7, ?8, ?9, ?10), rank"
	"  FROM page_fts JOIN doc d ON d.id = (page_fts.rowid >> 16)"
	" WHERE page_fts MATCH ?1"
	"   AND (?2 IS NULL OR d.collection = ?2)"
	"   AND (?3 IS NULL OR d.profile = ?3)"
	"   AND (?4 IS NULL OR d.date >= ?4)"
	"   AND (?5 IS NULL OR d.date <= ?5 || '~')"
	" ORDER BY rank LIMIT ?6";

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int search_level(struct bk_index *idx, enum bk_access level, const char *match,
			const struct bk_search_query *q, int limit, struct hits *out,
			struct bk_error *err)
{
	sqlite3 *db = idx->db[level];
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, search_sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "cannot prepare the search", err);
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	bind_opt(st, 2, q->collection);
	bind_opt(st, 3, q->profile);
	bind_opt(st, 4, q->date_from);
	bind_opt(st, 5, q->date_to);
	sqlite3_bind_int(st, 6, limit);
	sqlite3_bind_text(st, 7, BK_SNIPPET_OPEN, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, BK_SNIPPET_CLOSE, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, BK_SNIPPET_ELLIPSIS, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, BK_SNIPPET_TOKENS);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (hits_push(out, st, level)) {
			sqlite3_finalize(st);
			return bk_error_set(err, "out of memory");
		}
	if (rc != SQLITE_DONE) {
		bk_error_set(err, "search for '%s' failed in the %s index: %s", q->text,
			     bk_access_name(level), sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	int c = strcmp(x->doc, y->doc);
	return c ? c : x->page - y->page;
}

static int check_query(const struct bk_search_query *q, struct bk_error *err)
{
	if (q->profile && *q->profile && bk_profile_parse(q->profile) < 0)
		return bk_error_set(err, "unknown profile '%s'", q->profile);
	if (q->date_from && *q->date_from && !bk_index_date_valid(q->date_from))
		return bk_error_set(err, "invalid date '%s': expected YYYY[-MM[-DD]]", q->date_from);
	if (q->date_to && *q->date_to && !bk_index_date_valid(q->date_to))
		return bk_error_set(err, "invalid date '%s': expected YYYY[-MM[-DD]]", q->date_to);
	return 0;
}

int bk_index_search(struct bk_index *idx, const struct bk_search_query *q,
		    int (*fn)(const struct bk_search_hit *, void *), void *ud,
		    struct bk_error *err)
{
	struct hits hits = { 0 };
	char *match = NULL;
	int limit = q->limit > 0 ? q->limit : BK_SEARCH_LIMIT_DEFAULT, rc = -1;

	if (check_query(q, err) || bk_query_compile(q->text, &match, err))
		goto out;
	for (int l = 0; l <= (int)bk_role_max_access(idx->role); l++) {
		if (refresh_level(idx, (enum bk_access)l, err))
			goto out;
		if (idx->writable && !idx->db[l] && open_level(idx, (enum bk_access)l, false, err))
			goto out;
		if (idx->db[l] && search_level(idx, (enum bk_access)l, match, q, limit, &hits, err))
			goto out;
	}
	qsort(hits.v, (size_t)hits.n, sizeof(*hits.v), cmp_hit);
	rc = 0;
	for (int i = 0; i < hits.n && i < limit && rc == 0; i++) {
		const struct hit *x = &hits.v[i];
		struct bk_search_hit h = { x->doc, x->collection, x->title, x->date, x->pdf,
					   x->snippet, x->page, x->score, x->access };
		rc = fn(&h, ud);
	}
out:
	free(match);
	hits_release(&hits);
	return rc;
}

bool bk_index_date_valid(const char *d)
{
	static const char *const shapes[] = { "dddd", "dddd-dd", "dddd-dd-dd" };
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const char *s = shapes[i];
		size_t k = 0;
		while (s[k] && d[k] && (s[k] == 'd' ? d[k] >= '0' && d[k] <= '9' : d[k] == s[k]))
			k++;
		if (!s[k] && !d[k])
			return true;
	}
	return false;
}

/* ---- rebuild ----------------------------------------------------------------- */

/* Removes one collection's documents from a building generation. */
static int delete_collection(struct bk_index *b, enum bk_access l, const char *collection,
			     struct bk_error *err)
{
	sqlite3 *db = b->db[l];
	sqlite3_stmt *st = NULL;
	sqlite3_int64 *ids = NULL;
	size_t n = 0, cap = 0;
	int rc = sqlite3_prepare_v2(db, "SELECT id FROM doc WHERE collection = ?1", -1, &st, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, collection, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				sqlite3_int64 *grown = realloc(ids, cap * sizeof(*ids));
				if (!grown) {
					rc = SQLITE_NOMEM;
					break;
				}
				ids = grown;
			}
			ids[n++] = sqlite3_column_int64(st, 0);
		}
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; rc == SQLITE_OK && i < n; i++)
		rc = delete_rows(db, ids[i]);
	free(ids);
	if (rc != SQLITE_OK)
		return bk_error_set(err, "cannot remove collection '%s' from the new %s index: %s",
				    collection, bk_access_name(l), sqlite3_errstr(rc));
	return 0;
}

/* Starts level `l`'s new generation: empty, or for a one-collection rebuild
 * a copy of the current file (VACUUM INTO the pre-created, fchmod()ed
 * file) minus that collection. Leaves it open in bulk-load mode. */
static int start_generation(struct bk_index *b, enum bk_access l, const char *collection,
			    struct bk_error *err)
{
	char *cur = collection ? read_target(b->dir, l) : NULL;
	char *name = new_generation_name(l), *path = name ? path_join(b->dir, name) : NULL;
	sqlite3 *src = NULL, *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (!path) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (!cur) {
		if (make_generation(b->dir, l, name, "OFF", &db, err))
			goto out;
	} else {
		char *cur_path = path_join(b->dir, cur);
		int orc = cur_path ? open_conn(cur_path, true, &src, err) : -1;
		free(cur_path);
		if (orc || create_file(path, l, err))
			goto out;
		if (sqlite3_prepare_v2(src, "VACUUM INTO ?1", -1, &st, NULL) != SQLITE_OK) {
			db_fail(src, "cannot copy the index", err);
			goto out;
		}
		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			bk_error_set(err, "cannot copy the %s index to '%s': %s", bk_access_name(l),
				     path, sqlite3_errmsg(src));
			unlink(path);
			goto out;
		}
		if (open_conn(path, false, &db, err) || exec(db, "PRAGMA journal_mode=OFF;", path, err))
			goto out;
	}
	if (exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-65536; "
		     "INSERT INTO page_fts(page_fts, rank) VALUES('automerge', 8);"
		     "BEGIN;", path, err))
		goto out;
	b->db[l] = db;
	b->target[l] = name;
	db = NULL;
	name = NULL;
	if (collection && delete_collection(b, l, collection, err))
		goto out;
	rc = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(src);
	sqlite3_close(db);
	if (rc && path && !b->target[l])
		unlink(path);
	free(cur);
	free(name);
	free(path);
	return rc;
}

/* Commits the bulk load, merges the segments, switches the file to WAL and
 * closes it: after this the generation has no -wal/-shm and is on disk. */
static int finish_generation(struct bk_index *b, enum bk_access l, struct bk_error *err)
{
	char *path = path_join(b->dir, b->target[l]);
	sqlite3 *db = b->db[l];
	int rc = -1;

	if (!path) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (exec(db, "COMMIT; INSERT INTO page_fts(page_fts) VALUES('optimize');"
		     "PRAGMA journal_mode=WAL;", path, err))
		goto out;
	b->db[l] = NULL;
	if (sqlite3_close(db) != SQLITE_OK) {
		bk_error_set(err, "cannot close '%s'", path);
		goto out;
	}
	if (fsync_path(path, O_RDONLY, err))
		goto out;
	rc = 0;
out:
	free(path);
	return rc;
}

static void abandon_building(struct bk_index *b)
{
	for (int l = 0; l < BK_ACCESS_COUNT; l++) {
		sqlite3_close(b->db[l]);
		b->db[l] = NULL;
		if (b->target[l])
			remove_generation(b->dir, b->target[l]);
	}
}

/* Publishes every new generation and unlinks the ones they replace. */
static int swap_in(struct bk_index *b, struct bk_error *err)
{
	for (int l = 0; l < BK_ACCESS_COUNT; l++) {
		char *old = read_target(b->dir, (enum bk_access)l);
		int rc = publish(b->dir, (enum bk_access)l, b->target[l], true, err);
		if (rc == 0)
			rc = fsync_dir(b->dir, err);
		if (rc == 0 && old && strcmp(old, b->target[l]))
			remove_generation(b->dir, old);
		free(old);
		if (rc)
			return -1;
		free(b->target[l]);
		b->target[l] = NULL;
	}
	return 0;
}

int bk_index_rebuild(const char *index_dir, const char *collection,
		     int (*feed)(struct bk_index *building, void *ud, struct bk_error *err),
		     void *ud, struct bk_error *err)
{
	struct bk_index *b = NULL;
	int rc = -1;

	if (!feed)
		return bk_error_set(err, "rebuild of '%s' needs a feeder", index_dir);
	if (bk_index_open(&b, index_dir, BK_ROLE_ADMIN, true, err))
		return -1;
	b->building = true;
	if (make_dir(index_dir, err))
		goto out;
	for (int l = 0; l < BK_ACCESS_COUNT; l++)
		if (start_generation(b, (enum bk_access)l, collection, err))
			goto out;
	if (feed(b, ud, err))
		goto out;
	for (int l = 0; l < BK_ACCESS_COUNT; l++)
		if (finish_generation(b, (enum bk_access)l, err))
			goto out;
	if (swap_in(b, err))
		goto out;
	rc = 0;
out:
	if (rc)
		abandon_building(b);
	bk_index_free(&b);
	return rc;
}
