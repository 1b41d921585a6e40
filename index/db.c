/*
 * index/db.c — the SQLite adapter: every sqlite3 handle of bunko lives in
 * this file (index/fts5_tokenizer.c only registers the tokenizer on the
 * handles made here). Schema, puts, search, the index lock and rebuild.
 *
 * Schema (version 4: trigrams, density markers, page lengths), one file per access
 * level (all three files alike), SQLite pages of 32 KiB (a page of text,
 * ~3 KB stored, wastes little):
 *   doc(id, doc UNIQUE, collection, title, date, profile, access, pdf, npages)
 *   page(id = doc.id << 16 | page number, len, text)   -- one row per page;
 *             len its UTF-8 bytes (what a search bounds a page's score
 *             with before reading it), the text as UTF-16 (BLOB) or as is
 *             (TEXT), see pagetext.h
 *   page_fts: contentless FTS5 (content='', detail=none, columnsize=0,
 *             tokenizer "bunko" in index mode: bigrams, every character's
 *             unigram, the trigrams of Japanese runs and the density
 *             markers, see tokenizer.h). It keeps only which pages hold
 *             which tokens: no positions, no text, no lengths. Its
 *             'delete' command is fed the page's text from the page table.
 * A document's pages are one rowid range, so removing a document needs no
 * extra index; 65535 pages at most per document. A file of another schema
 * version is refused with a message that says to run `bunko reindex`.
 *
 * Size: bigrams and unigrams are about 0.5x the UTF-8 text, the stored
 * pages (UTF-16) 0.7x; trigrams and markers add what README's measurement
 * table shows (scripts/bench). An FTS5 index with positions (detail=full)
 * was 1.25x on its own, and without the unigrams 1-character queries were
 * prefix queries that merge hundreds of doclists.
 *
 * Search, per level file the role may read (search_level):
 *   1. candidates: the FTS5 expression of the query (query.h,
 *      BK_QUERY_TERMS: a phrase is the AND of its tokens and trigrams)
 *      with the filters, in rowid order, and no LIMIT: a phrase whose
 *      bigrams are on many pages that do not hold it (decoys) is found
 *      wherever it is, and the trigrams keep most decoys out;
 *   2. they are read likeliest best first: the markers cut them into
 *      cells, one band of density per group (query.h,
 *      bk_query_fts5_dense; band_bound), walked in decreasing bound as
 *      rowids and lengths, each page bounded by its cell and its length
 *      (page_bound) and read when no page left can beat it by much
 *      (search_level); each page is read once;
 *   3. each page read is checked for the query's phrases (match.h: literal
 *      search, exact), its hits counted and scored (score_of: hit density,
 *      so a page's score needs no other page); a page that passes costs
 *      one small record (struct cand);
 *   4. when `limit` hits score at least the highest bound left (of a
 *      page fetched or a cell not yet fetched) over BK_RANK_TOLERANCE
 *      (1.05), no unread page can score more than 5% above them: the
 *      level stops, its best being settled, and the next level is walked
 *      the same way (a query of more than two groups reads every
 *      candidate);
 *   5. after all levels the best `limit` are picked with a heap and only
 *      they are looked up for titles and snippets.
 *   The only other bound is time: a search whose deadline (time_limit_ms)
 *   passes stops reading, ranks what it has and reports itself truncated
 *   (bk_search_info), so a cut-short answer is never mistaken for a
 *   complete one.
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
 *      and the connection closed (its -wal, emptied, and -shm stay, so
 *      that other Unix users can read it: see open_conn);
 *   2. it is published by making a temporary symlink to it and rename(2)ing
 *      that over <level>.db (first creation: symlink(2), which fails if
 *      another process won the race; the loser drops its file);
 *   3. the directory is fsync()ed and the previous generation and its
 *      -wal/-shm are unlinked. Connections that opened the old generation
 *      keep their file descriptors and keep answering from the old data;
 *      new opens, and readers at their next search (they compare the link
 *      target), see the new one.
 * Rebuild builds every level's new generation (journal_mode=OFF while
 * building: a crash just leaves an unpublished file), then publishes them
 * one by one, then sweeps the directory: every generation file, -wal,
 * -shm or publishing temporary that no link names is removed (left by a
 * crashed rebuild, or made again by a reader that opened a generation
 * just as it was swapped out). Each level file is self-consistent at every
 * moment, so the order only matters for a document whose level changed,
 * and then it is at worst briefly invisible or, for an admin, briefly
 * listed twice.
 *
 * The index lock: flock(2) on INDEX_DIR itself (no lock file to leave
 * behind). bk_index_put and bk_index_delete hold it shared for the call,
 * and after taking it move any level they have open to the generation
 * its link names; bk_index_rebuild holds it exclusive from before it
 * copies or creates the new generations until after the sweep. So a put
 * either completes before a rebuild starts (and a one-collection rebuild
 * copies it, a full rebuild's feed reads the store it came from) or waits
 * and lands in the new files: none is lost. Puts block for as long as the
 * rebuild runs. flock belongs to the open file description: a process
 * forked while holding the exclusive lock holds it too, so the rebuild
 * must not fork writers, and its feed must put only into the index it is
 * given (a put to a second handle on the same directory would wait for
 * the rebuild itself). Only lock holders create generation files, which is
 * what makes the sweep safe: a put that must create a level's first file
 * raises its lock to exclusive and sweeps too (a writer killed between
 * creating a generation and publishing it leaves one behind).
 *
 * Concurrency: WAL and a 30 s busy timeout; each put is one IMMEDIATE
 * transaction in the document's level file.
 */
#include "index/index.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bunko/fs.h"
#include "index/fts5_internal.h"
#include "index/match.h"
#include "index/pagetext.h"
#include "index/query.h"
#include "index/tokenizer.h"

#define BK_BUSY_TIMEOUT_MS 30000
#define BK_PAGE_BITS 16
#define BK_MAX_PAGES ((1 << BK_PAGE_BITS) - 1)
#ifndef BK_PAGE_SIZE
#define BK_PAGE_SIZE 32768
#endif
#define BK_SCHEMA_VERSION "4"

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
	"CREATE TABLE IF NOT EXISTS page(id INTEGER PRIMARY KEY, len INTEGER NOT NULL,"
	"  text NOT NULL);"
	"CREATE VIRTUAL TABLE IF NOT EXISTS page_fts USING fts5("
	"  text, content='', detail=none, columnsize=0, tokenize='bunko');"
	"INSERT OR IGNORE INTO bunko_index_info VALUES('schema', '" BK_SCHEMA_VERSION "');";

/* A level's documents as the facets count them (index.h,
 * bk_index_facet_counts) and the date orders sort them, in id order, kept
 * in memory while the level's file shows the same content (SQLite's data
 * version): the facet walk looks up the document of every run of
 * candidate pages, thousands per query, and a lookup here is a binary
 * search instead of a statement. */
struct doc_facet {
	sqlite3_int64 id;
	char *collection, *profile, *date; /* "" for NULL */
};

struct doc_facets {
	struct doc_facet *v;
	size_t n;
	sqlite3 *db;          /* the connection they were read with (NULL: none read) */
	unsigned int version; /* its data version then */
};

struct bk_index {
	char *dir;
	enum bk_role role;
	bool writable;
	bool building;                   /* rebuild: db[] are new generations */
	int lock_fd;                     /* the index lock during a put or delete, or -1 */
	bool lock_exclusive;             /* ... raised to exclusive to create a level */
	sqlite3 *db[BK_ACCESS_COUNT];
	char *target[BK_ACCESS_COUNT];   /* generation file name db[] has open */
	struct doc_facets docs[BK_ACCESS_COUNT]; /* read by the first facet count after a change */
};

/* ---- paths and files ---------------------------------------------------- */

static char *link_path(const char *dir, enum bk_access level)
{
	char name[64];
	snprintf(name, sizeof(name), "%s.db", bk_access_name(level));
	return bk_path_join(dir, name);
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

/* True if <level>.db no longer names `target`. */
static bool link_moved(const char *dir, enum bk_access level, const char *target)
{
	char *now = read_target(dir, level);
	bool moved = !now || !target || strcmp(now, target);
	free(now);
	return moved;
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
		char *p = bk_path_join(dir, file);
		if (p)
			unlink(p);
		free(p);
	}
}

/* Removes what no level's link points to: generation files (with their
 * -wal/-shm/-journal) and publishing temporaries. Such files are left by
 * a rebuild that crashed, or appear when a reader that had just looked
 * up a generation opens it after the swap (SQLite then makes its -wal and
 * -shm again). Called only under the exclusive index lock, when no one
 * can be creating a generation; processes that still have an unlinked
 * file open keep using it. readdir, not bk_list_dir: the publishing
 * temporaries are dot names. */
static void sweep_generations(const char *dir)
{
	char *cur[BK_ACCESS_COUNT];
	DIR *d = opendir(dir);
	struct dirent *e;

	for (int l = 0; l < BK_ACCESS_COUNT; l++)
		cur[l] = read_target(dir, (enum bk_access)l);
	while (d && (e = readdir(d))) {
		bool ours = false, current = false;
		for (int l = 0; l < BK_ACCESS_COUNT; l++) {
			char gen[64], tmp[64];
			snprintf(gen, sizeof(gen), "%s.db.", bk_access_name((enum bk_access)l));
			snprintf(tmp, sizeof(tmp), ".%s.db.link.", bk_access_name((enum bk_access)l));
			if (!strncmp(e->d_name, gen, strlen(gen)) || !strncmp(e->d_name, tmp, strlen(tmp)))
				ours = true;
			size_t n = cur[l] ? strlen(cur[l]) : 0;
			if (n && !strncmp(e->d_name, cur[l], n) && (!e->d_name[n] || e->d_name[n] == '-'))
				current = true;
		}
		if (ours && !current)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
	for (int l = 0; l < BK_ACCESS_COUNT; l++)
		free(cur[l]);
}

/* Takes the index lock, flock(2) on the index directory itself (no lock
 * file to leave behind): LOCK_SH for puts, LOCK_EX for a rebuild. Returns
 * the descriptor to pass to unlock_index, or -1. */
static int lock_index(const char *dir, int how, struct bk_error *err)
{
	int fd;

	if (make_dir(dir, err))
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return bk_error_set(err, "cannot open '%s': %s", dir, strerror(errno));
	while (flock(fd, how)) {
		if (errno == EINTR)
			continue;
		bk_error_set(err, "cannot lock the index in '%s': %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Changes a held index lock to `how` (not atomic: flock may let another
 * process in between, so the caller looks at the files again). */
static int relock_index(int fd, int how, const char *dir, struct bk_error *err)
{
	while (flock(fd, how)) {
		if (errno == EINTR)
			continue;
		return bk_error_set(err, "cannot lock the index in '%s': %s", dir, strerror(errno));
	}
	return 0;
}

static void unlock_index(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
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

void bk_index_process_setup(void)
{
	/* fails only after sqlite3_initialize, when it is too late to matter */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Opens one database file (never creating it) with bunko's tokenizer. */
#define BK_READER_MMAP "8589934592" /* 8 GiB of address space per reader, not memory */

static int open_conn(const char *path, bool readonly, sqlite3 **out, struct bk_error *err)
{
	sqlite3 *db = NULL;
	/* no mutex of its own: a bk_index is used by one thread at a time
	 * (index.h), and in serialized mode every step and column call of a
	 * search's hundred thousand rows took and gave the connection's mutex */
	int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;

	*out = NULL;
	/* SQLite says only "unable to open database file" when the file's
	 * mode keeps this user out (a level the role names but the Unix user
	 * may not read): say so */
	if (access(path, readonly ? R_OK : R_OK | W_OK))
		return bk_error_set(err, "cannot open index '%s': %s", path, strerror(errno));
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		bk_error_set(err, "cannot open index '%s': %s", path,
			     db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, BK_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	if (!readonly) {
		/* Keep -wal and -shm when the last writer closes: a reader who may
		 * read the file but not write the index directory (another Unix
		 * user) can only open a WAL database whose -wal and -shm exist.
		 * SQLite makes them with the database file's mode; the limit
		 * truncates the kept -wal to nothing. */
		int persist = 1;
		sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
		sqlite3_exec(db, "PRAGMA journal_size_limit=0;", NULL, NULL, NULL);
	} else {
		/* a reader maps the file instead of copying each page it reads
		 * out of the OS cache (a search reads thousands of pages' text);
		 * a generation swapped out is unlinked, never truncated, so a
		 * mapping stays valid */
		sqlite3_exec(db, "PRAGMA mmap_size=" BK_READER_MMAP ";", NULL, NULL, NULL);
	}
	if (bk_fts5_register(db, err)) {
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

/* Refuses a file made for another schema (an older bunko's): its pages
 * and tokens are not what this code reads and deletes. */
static int check_schema(sqlite3 *db, const char *path, struct bk_error *err)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT value FROM bunko_index_info WHERE key = 'schema'", -1,
			       &st, NULL) != SQLITE_OK) {
		bk_error_set(err, "index '%s': %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_text(st, 0);
	if (!v || strcmp((const char *)v, BK_SCHEMA_VERSION)) {
		bk_error_set(err, "index '%s' has schema version %s, this bunko reads %s: "
				  "rebuild it with 'bunko reindex'", path, v ? (const char *)v : "?",
			     BK_SCHEMA_VERSION);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* Makes a new generation file for `level` with the schema, in `mode`
 * ("WAL" for publishing, "OFF" for a rebuild's bulk load). Returns the open
 * connection if `keep`, else closes it. */
static int make_generation(const char *dir, enum bk_access level, const char *name,
			   const char *journal, sqlite3 **keep, struct bk_error *err)
{
	char *path = bk_path_join(dir, name), sql[128];
	sqlite3 *db = NULL;
	int rc = -1;

	if (keep)
		*keep = NULL;
	if (!path || create_file(path, level, err) || open_conn(path, false, &db, err))
		goto out;
	snprintf(sql, sizeof(sql), "PRAGMA page_size=%d; PRAGMA journal_mode=%s;", BK_PAGE_SIZE,
		 journal);
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
	if (!(tmp = bk_path_join(dir, tmpname))) {
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

static void doc_facets_release(struct doc_facets *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].collection);
		free(d->v[i].profile);
		free(d->v[i].date);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static void close_level(struct bk_index *idx, enum bk_access level)
{
	doc_facets_release(&idx->docs[level]);
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
			if (idx->lock_fd >= 0 && !idx->lock_exclusive) {
				/* a level's first file is made under the exclusive
				 * lock, after removing what a writer killed between
				 * creating and publishing one left; then look again,
				 * another writer may have made it meanwhile */
				if (relock_index(idx->lock_fd, LOCK_EX, idx->dir, err))
					return -1;
				idx->lock_exclusive = true;
				sweep_generations(idx->dir);
				continue;
			}
			char *name = new_generation_name(level);
			if (!name || make_dir(idx->dir, err) ||
			    make_generation(idx->dir, level, name, "WAL", NULL, err)) {
				free(name);
				return name ? -1 : bk_error_set(err, "out of memory");
			}
			int won = publish(idx->dir, level, name, false, err);
			if (won != 0) /* failed, or another process created it first */
				remove_generation(idx->dir, name);
			else if (bk_fsync_dir(idx->dir, err))
				won = -1;
			free(name);
			if (won < 0)
				return -1;
			continue;
		}
		char *path = bk_path_join(idx->dir, target);
		sqlite3 *db = NULL;
		struct stat st;
		/* open the target itself: a swap between readlink and open then
		 * just means the file is gone, and we look again */
		if (path && stat(path, &st) == 0 && open_conn(path, !idx->writable, &db, &last) == 0) {
			if (check_schema(db, path, &last)) {
				/* a file swapped out (and unlinked) just after we
				 * looked it up can fail to read: look again */
				bool moved = link_moved(idx->dir, level, target);
				sqlite3_close(db);
				free(path);
				free(target);
				if (!moved)
					return bk_error_set(err, "%s", last.msg);
				continue;
			}
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
	idx->lock_fd = -1;
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

/* Takes pages [lo, hi] out of the contentless FTS5 table: its 'delete'
 * command needs the text the row was indexed with, which comes from the
 * page table (unpacked). */
static int unindex_pages(sqlite3 *db, sqlite3_int64 lo, sqlite3_int64 hi)
{
	sqlite3_stmt *sel = NULL, *del = NULL;
	char *buf = NULL;
	size_t cap = 0;
	int rc = sqlite3_prepare_v2(db, "SELECT id, text FROM page WHERE id BETWEEN ?1 AND ?2",
				    -1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "INSERT INTO page_fts(page_fts, rowid, text) "
					    "VALUES('delete', ?1, ?2)", -1, &del, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(sel, 1, lo);
		sqlite3_bind_int64(sel, 2, hi);
	}
	while (rc == SQLITE_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		bool packed = sqlite3_column_type(sel, 1) == SQLITE_BLOB;
		const void *text = sqlite3_column_blob(sel, 1);
		size_t len = (size_t)sqlite3_column_bytes(sel, 1);
		if (packed) {
			struct bk_error perr;
			bk_error_init(&perr);
			if (bk_pagetext_unpack(text, len, &buf, &cap, &len, &perr)) {
				rc = SQLITE_CORRUPT;
				break;
			}
			text = buf;
		}
		sqlite3_bind_int64(del, 1, sqlite3_column_int64(sel, 0));
		sqlite3_bind_text(del, 2, text, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(del);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(del);
	}
	rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	free(buf);
	return rc;
}

/* Removes document row `id` and its pages (inside the caller's transaction). */
static int delete_rows(sqlite3 *db, sqlite3_int64 id)
{
	sqlite3_int64 lo = id << BK_PAGE_BITS, hi = lo | BK_MAX_PAGES;
	int rc = unindex_pages(db, lo, hi);
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
	int rc = sqlite3_prepare_v2(db, "INSERT INTO page(id, len, text) VALUES(?1, ?3, ?2)", -1, &page, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "INSERT INTO page_fts(rowid, text) VALUES(?1, ?2)",
					-1, &fts, NULL);
	for (int i = 0; rc == SQLITE_OK && i < doc->npages; i++) {
		const char *text = doc->page_texts[i];
		unsigned char *packed = NULL;
		size_t plen, len = text ? strlen(text) : 0;
		bool is_packed;
		struct bk_error perr;
		if (!len)
			continue; /* a blank page has nothing to find */
		bk_error_init(&perr);
		if (bk_pagetext_pack(text, len, &packed, &plen, &is_packed, &perr)) {
			rc = SQLITE_NOMEM;
			break;
		}
		sqlite3_int64 rowid = (id << BK_PAGE_BITS) | (i + 1);
		sqlite3_bind_int64(page, 1, rowid);
		sqlite3_bind_int64(page, 3, (sqlite3_int64)len);
		if (is_packed)
			sqlite3_bind_blob(page, 2, packed, (int)plen, SQLITE_STATIC);
		else
			sqlite3_bind_text(page, 2, text, (int)len, SQLITE_STATIC);
		sqlite3_bind_int64(fts, 1, rowid);
		sqlite3_bind_text(fts, 2, text, (int)len, SQLITE_STATIC);
		sqlite3_stmt *sts[2] = { page, fts };
		for (int k = 0; rc == SQLITE_OK && k < 2; k++) {
			rc = sqlite3_step(sts[k]);
			rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
			sqlite3_reset(sts[k]);
		}
		sqlite3_clear_bindings(page);
		free(packed);
	}
	sqlite3_finalize(page);
	sqlite3_finalize(fts);
	return rc;
}

/* Deletes `doc_id` from `db` and, if `doc` is given, inserts it; one
 * transaction unless the index is building (one long transaction). On
 * failure `why` holds SQLite's message for the statement that failed,
 * taken before the ROLLBACK (which would replace it with its own). */
static int replace_in(struct bk_index *idx, sqlite3 *db, const char *doc_id,
		      const struct bk_index_doc *doc, char *why, size_t whysize)
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
	if (!idx->building && rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		snprintf(why, whysize, "%s", sqlite3_errcode(db) == rc ||
					       sqlite3_extended_errcode(db) == rc
					     ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	if (!idx->building && rc != SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
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
		char why[256] = "";
		int rc = replace_in(idx, idx->db[level], doc_id, doc, why, sizeof(why));
		if (rc == SQLITE_OK)
			return 0;
		if (rc != SQLITE_READONLY_DBMOVED || idx->building) {
			return bk_error_set(err, "cannot %s '%s' in the %s index: %s",
					    doc ? "index" : "remove", doc_id, bk_access_name(level),
					    why);
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

static void end_write(struct bk_index *idx)
{
	unlock_index(idx->lock_fd);
	idx->lock_fd = -1;
	idx->lock_exclusive = false;
}

/* Takes the shared index lock (not while building: the rebuild holds the
 * exclusive one) and moves the levels already open to the generations
 * their links now name, so a put never lands in a swapped-out file. */
static int begin_write(struct bk_index *idx, struct bk_error *err)
{
	if (check_writable(idx, err))
		return -1;
	if (idx->building)
		return 0;
	if ((idx->lock_fd = lock_index(idx->dir, LOCK_SH, err)) < 0)
		return -1;
	for (int l = 0; l < BK_ACCESS_COUNT; l++)
		if (idx->db[l] && refresh_level(idx, (enum bk_access)l, err)) {
			end_write(idx);
			return -1;
		}
	return 0;
}

static int check_doc(struct bk_index *idx, const struct bk_index_doc *doc, struct bk_error *err)
{
	enum bk_access max = bk_role_max_access(idx->role);

	if (!doc->id || !*doc->id)
		return bk_error_set(err, "cannot index a document without an id");
	if ((unsigned)doc->access >= BK_ACCESS_COUNT || doc->access > max)
		return bk_error_set(err, "cannot index '%s': role '%s' may not write %s documents",
				    doc->id, bk_role_name(idx->role), bk_access_name(doc->access));
	if (doc->npages < 0 || doc->npages > BK_MAX_PAGES)
		return bk_error_set(err, "cannot index '%s': %d pages exceeds the limit of %d",
				    doc->id, doc->npages, BK_MAX_PAGES);
	return 0;
}

int bk_index_put(struct bk_index *idx, const struct bk_index_doc *doc, struct bk_error *err)
{
	int rc = -1;

	if (check_doc(idx, doc, err) || begin_write(idx, err))
		return -1;
	/* first out of any other level (a changed access level), then in */
	for (int l = 0; l <= (int)bk_role_max_access(idx->role); l++)
		if (l != (int)doc->access &&
		    replace_at_level(idx, (enum bk_access)l, doc->id, NULL, err))
			goto out;
	rc = replace_at_level(idx, doc->access, doc->id, doc, err);
out:
	end_write(idx);
	return rc;
}

int bk_index_delete(struct bk_index *idx, const char *doc_id, struct bk_error *err)
{
	int rc = -1;

	if (begin_write(idx, err))
		return -1;
	for (int l = 0; l <= (int)bk_role_max_access(idx->role); l++)
		if (replace_at_level(idx, (enum bk_access)l, doc_id, NULL, err))
			goto out;
	rc = 0;
out:
	end_write(idx);
	return rc;
}

/* ---- search ----------------------------------------------------------------- */

/* A page that passed the index and the text check: its counts live in
 * cands.tf[i * ngroups ...], so a query matching most of the archive costs
 * one small record per page and no allocation each. */
struct cand {
	sqlite3_int64 rowid;
	int len;          /* bytes of text */
	int level;        /* enum bk_access */
	int date;         /* the document's date as YYYYMMDD (0: undated), for date order */
	double score;
};

struct cands {
	struct cand *v;
	int *tf;          /* hits per query group, ngroups per candidate */
	int n, cap;
	int ngroups;
};

/* What one search needs while it visits the levels. */
struct search {
	const struct bk_search_query *q;
	struct bk_query parsed;
	char *match;                 /* the FTS5 expression (BK_QUERY_TERMS) */
	struct bk_matcher *matcher;
	int limit;
	struct cands cands;
	char *buf;                   /* unpacked page text */
	size_t cap;
	double deadline;             /* CLOCK_MONOTONIC seconds */
	long examined;               /* candidates whose text was checked */
	bool truncated;              /* the deadline passed before all were */
	bool settled;                /* some level's best were known before all its pages were read */
};

static double monotonic_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cands_release(struct cands *c)
{
	free(c->v);
	free(c->tf);
	memset(c, 0, sizeof(*c));
}

static int cands_push(struct cands *c, sqlite3_int64 rowid, enum bk_access level, int len,
		      const int *tf, double score)
{
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 256;
		struct cand *grown = realloc(c->v, (size_t)cap * sizeof(*grown));
		if (!grown)
			return -1;
		c->v = grown;
		int *tgrown = realloc(c->tf, (size_t)cap * (size_t)c->ngroups * sizeof(int));
		if (!tgrown)
			return -1;
		c->tf = tgrown;
		c->cap = cap;
	}
	c->v[c->n] = (struct cand){ rowid, len, (int)level, 0, score };
	memcpy(c->tf + (size_t)c->n * (size_t)c->ngroups, tf, (size_t)c->ngroups * sizeof(int));
	c->n++;
	return 0;
}

/* The text of a page row's column `i`, unpacked into s->buf if packed. */
static int column_page_text(sqlite3_stmt *st, int i, struct search *s, const char **text,
			    size_t *len, struct bk_error *err)
{
	if (sqlite3_column_type(st, i) == SQLITE_BLOB) {
		const unsigned char *blob = sqlite3_column_blob(st, i);
		if (bk_pagetext_unpack(blob, (size_t)sqlite3_column_bytes(st, i), &s->buf, &s->cap,
				       len, err))
			return -1;
		*text = s->buf;
		return 0;
	}
	const unsigned char *t = sqlite3_column_text(st, i);
	*text = t ? (const char *)t : "";
	*len = (size_t)sqlite3_column_bytes(st, i);
	return 0;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static bool has_filters(const struct bk_search_query *q)
{
	const char *f[] = { q->collection, q->profile, q->date_from, q->date_to };
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i] && *f[i])
			return true;
	return false;
}

/* Every page that the index matches and the filters keep, in rowid
 * (archive) order, with its text; no LIMIT: each is checked. Without
 * filters the doc table is not joined. */
#define PAGES_MATCHING(columns) \
	"SELECT page_fts.rowid, " columns \
	"  FROM page_fts JOIN page p ON p.id = page_fts.rowid"
/* the filters: ?2 collection, ?3 profile, ?4 and ?5 the dates (bind_filters) */
#define PAGES_MATCHING_FILTERED(columns) \
	PAGES_MATCHING(columns) \
	"  JOIN doc d ON d.id = (page_fts.rowid >> 16)" \
	" WHERE page_fts MATCH ?1" \
	"   AND (?2 IS NULL OR d.collection = ?2)" \
	"   AND (?3 IS NULL OR d.profile = ?3)" \
	"   AND (?4 IS NULL OR d.date >= ?4)" \
	"   AND (?5 IS NULL OR d.date <= ?5 || '~')"
static const char *const candidates_sql = PAGES_MATCHING("p.text") " WHERE page_fts MATCH ?1";
static const char *const candidates_filtered_sql = PAGES_MATCHING_FILTERED("p.text");

static void bind_filters(sqlite3_stmt *st, const struct bk_search_query *q)
{
	bind_opt(st, 2, q->collection);
	bind_opt(st, 3, q->profile);
	bind_opt(st, 4, q->date_from);
	bind_opt(st, 5, q->date_to);
}

/* A page's score: BM25's term-frequency part (k1 1.2) with full length
 * normalization (b 1) summed over the query's groups, each weighing the
 * same (no IDF). With b 1 a group's part depends only on its hit density
 * x = hits * BK_TIER_SCALE / page bytes, k1+1 * x / (x + k1): one hit in
 * BK_TIER_SCALE bytes scores 1, and the score never needs the other
 * pages, which is what lets the density markers bound the pages not yet
 * read (search_level). */
static double group_density(int tf, int len)
{
	return len > 0 ? (double)tf * BK_TIER_SCALE / len : 0;
}

static double score_of(const int *tf, int ngroups, int len)
{
	const double k1 = 1.2;
	double score = 0;
	for (int g = 0; g < ngroups; g++) {
		double x = group_density(tf[g], len);
		score += (k1 + 1) * x / (x + k1);
	}
	return score;
}

/* Checks the page text in column `col` of st's row (page `rowid`) for
 * the query and keeps it as a candidate if it matches: 1 kept (its score
 * in *score), 0 not a hit, -1 error. */
static int check_page(struct search *s, sqlite3_stmt *st, int col, sqlite3_int64 rowid,
		      enum bk_access level, int *tf, double *score, struct bk_error *err)
{
	const char *text;
	size_t len;

	if (column_page_text(st, col, s, &text, &len, err))
		return -1;
	int ok = bk_matcher_check(s->matcher, text, len, tf, err);
	if (ok < 0)
		return -1;
	s->examined++;
	if (!ok)
		return 0;
	*score = score_of(tf, s->parsed.ngroups, (int)len);
	if (cands_push(&s->cands, rowid, level, (int)len, tf, *score))
		return bk_error_set(err, "out of memory");
	return 1;
}

/* Checks every page `match` (an FTS5 expression) yields with the filters,
 * in rowid order, and keeps those that match; stops at the deadline. */
static int scan_candidates(struct bk_index *idx, enum bk_access level, struct search *s,
			   const char *match, struct bk_error *err)
{
	sqlite3 *db = idx->db[level];
	sqlite3_stmt *st = NULL;
	int *tf = calloc((size_t)s->parsed.ngroups, sizeof(int)), rc = -1, step;
	bool filtered = has_filters(s->q);

	if (!tf)
		return bk_error_set(err, "out of memory");
	if (sqlite3_prepare_v2(db, filtered ? candidates_filtered_sql : candidates_sql, -1, &st,
			       NULL) != SQLITE_OK) {
		db_fail(db, "cannot prepare the search", err);
		goto out;
	}
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	if (filtered)
		bind_filters(st, s->q);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		double score;
		if (monotonic_now() >= s->deadline) {
			s->truncated = true;
			break;
		}
		if (check_page(s, st, 1, sqlite3_column_int64(st, 0), level, tf, &score, err) < 0)
			goto out;
	}
	if (step != SQLITE_DONE && step != SQLITE_ROW) {
		bk_error_set(err, "search for '%s' failed in the %s index: %s", s->q->text,
			     bk_access_name(level), sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	free(tf);
	return rc;
}

/* The strings up to a NULL, joined into a new one; NULL: out of memory. */
static char *concat(const char *first, ...)
{
	va_list ap;
	size_t n = 0;
	va_start(ap, first);
	for (const char *p = first; p; p = va_arg(ap, const char *))
		n += strlen(p);
	va_end(ap);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	out[0] = '\0';
	va_start(ap, first);
	for (const char *p = first; p; p = va_arg(ap, const char *))
		strcat(out, p);
	va_end(ap);
	return out;
}

/* A group's part of the score at density x (score_of). */
static double group_part(double x)
{
	const double k1 = 1.2;
	return (k1 + 1) * x / (x + k1);
}

/* A band of group g: the pages whose markers put the group at tier k and
 * not k+1 (k = BK_TIERS - 1: at the top tier; k = -1: below tier 0). Such
 * a page holds the group at a density below nalt * 2^(k+1) (no bound at
 * the top), so its part of the score is below band_bound. */
static double band_bound(const struct bk_query *q, int g, int k)
{
	const double k1 = 1.2;
	if (k >= BK_TIERS - 1)
		return k1 + 1;
	return group_part((double)q->groups[g].nalt * (double)(1L << (k + 1)));
}

/* A cell: one band per group (at most BK_CELL_GROUPS groups). */
#define BK_CELL_GROUPS 2
struct cell {
	int k[BK_CELL_GROUPS];
	double bound; /* the sum of the bands' bounds: no page in it scores that */
};

static int cmp_cell(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;
	if (x->bound != y->bound)
		return x->bound > y->bound ? -1 : 1;
	for (int g = 0; g < BK_CELL_GROUPS; g++)
		if (x->k[g] != y->k[g])
			return x->k[g] > y->k[g] ? -1 : 1;
	return 0;
}

/* The FTS5 expression of a cell's candidates (NULL: out of memory). */
static char *cell_expr(const struct bk_query *q, const char *match, const struct cell *c)
{
	char *in = concat("(", match, ")", NULL), *out = NULL;
	for (int g = 0; in && g < q->ngroups; g++) {
		if (c->k[g] < 0)
			continue;
		char *d = bk_query_fts5_dense(q, g, c->k[g]);
		char *joined = d ? concat(in, " AND ", d, NULL) : NULL;
		free(d);
		free(in);
		in = joined;
	}
	for (int g = 0; in && g < q->ngroups; g++) {
		if (c->k[g] >= BK_TIERS - 1)
			continue;
		char *d = bk_query_fts5_dense(q, g, c->k[g] + 1);
		char *joined = d ? concat("(", in, ") NOT ", d, NULL) : NULL;
		free(d);
		free(in);
		in = joined;
	}
	out = in;
	return out;
}

/* How far from exact the ranking may be: a level stops reading when no
 * unread page could score more than this many times the hits it has.
 * Dense words make it matter: BM25's saturation puts every page holding
 * a common character 40 to 60 times within 2% of each other's score, and
 * a band of density (a factor of two) can hold 20,000 such pages, which
 * an exact ranking would read to order by the second decimal. */
#define BK_RANK_TOLERANCE 1.05

/* Below this many candidates a level is read whole: cheaper than asking
 * the index for each cell. */
#define BK_FEW_CANDIDATES 1000

/* The number of candidates `match` has if fewer than BK_FEW_CANDIDATES
 * (filters aside), else -1 (also on error: the walk reports it). */
static long few_candidates(sqlite3 *db, const char *match)
{
	sqlite3_stmt *st = NULL;
	long n = 0;
	if (sqlite3_prepare_v2(db, "SELECT rowid FROM page_fts WHERE page_fts MATCH ?1 LIMIT ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, BK_FEW_CANDIDATES);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		n++;
	sqlite3_finalize(st);
	return step == SQLITE_DONE && n < BK_FEW_CANDIDATES ? n : -1;
}

/* A page fetched from a cell and not yet read: the most it can score. */
struct pending {
	sqlite3_int64 rowid;
	double bound;
};

/* The most a page of `len` bytes in cell c can score. The cell says, per
 * group, that its hit density is below dmax = nalt * 2^(k+1) (band_bound);
 * the density is hits * BK_TIER_SCALE / len with a whole number of hits,
 * so a page of known length holds fewer than dmax * len / BK_TIER_SCALE
 * hits of each phrase: at most ceil of that, less one. Where hits are few
 * (a phrase held once or twice a page, the common case for rare phrases)
 * that bound is the score itself, to within the page's length: the pages
 * of a band are told apart by their lengths, which a factor-of-two band
 * of density cannot do. */
static double page_bound(const struct bk_query *q, const struct cell *c, int len)
{
	const double k1 = 1.2;
	double sum = 0;
	for (int g = 0; g < q->ngroups; g++) {
		if (c->k[g] >= BK_TIERS - 1 || len <= 0) {
			sum += k1 + 1;
			continue;
		}
		double per_phrase = (double)(1L << (c->k[g] + 1)) * len / BK_TIER_SCALE;
		double hits = (ceil(per_phrase) - 1) * q->groups[g].nalt;
		sum += group_part(hits > 0 ? hits * BK_TIER_SCALE / len : 0);
	}
	return sum;
}

/* Max-heap of pending pages by bound (ties: archive order first). */
static bool pending_before(const struct pending *a, const struct pending *b)
{
	return a->bound != b->bound ? a->bound > b->bound : a->rowid < b->rowid;
}

struct pending_heap {
	struct pending *v;
	size_t n, cap;
};

static int pending_push(struct pending_heap *h, struct pending p)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 1024;
		struct pending *grown = realloc(h->v, cap * sizeof(*grown));
		if (!grown)
			return -1;
		h->v = grown;
		h->cap = cap;
	}
	size_t i = h->n++;
	while (i > 0 && pending_before(&p, &h->v[(i - 1) / 2])) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = p;
	return 0;
}

static struct pending pending_pop(struct pending_heap *h)
{
	struct pending top = h->v[0], last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && pending_before(&h->v[c + 1], &h->v[c]))
			c++;
		if (!pending_before(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* Min-heap of the best `limit` scores of the level's hits: its top is the
 * limit-th best once it is full. */
struct best_heap {
	double *v;
	int n, limit;
};

static void best_add(struct best_heap *h, double score)
{
	if (h->n == h->limit && score <= h->v[0])
		return;
	int i;
	if (h->n < h->limit) {
		i = h->n++;
		while (i > 0 && score < h->v[(i - 1) / 2]) {
			h->v[i] = h->v[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		h->v[i] = score;
		return;
	}
	i = 0; /* replace the least of the best */
	for (;;) {
		int c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (h->v[c] >= score)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	h->v[i] = score;
}

/* Whether `limit` hits score at least `ceiling` / BK_RANK_TOLERANCE. */
static bool best_settled(const struct best_heap *h, double ceiling)
{
	return h->n == h->limit && h->v[0] >= ceiling / BK_RANK_TOLERANCE;
}

/* The rowids and lengths of a cell's pages (the filters applied), as
 * pending pages with their bounds. */
static const char *const cell_pages_sql = PAGES_MATCHING("p.len") " WHERE page_fts MATCH ?1";
static const char *const cell_pages_filtered_sql = PAGES_MATCHING_FILTERED("p.len");

/* Starts the walk of a cell's pages (*st; the caller steps and
 * finalizes it). */
static int open_cell(sqlite3 *db, struct search *s, const struct cell *c, sqlite3_stmt **st,
		     struct bk_error *err)
{
	bool filtered = has_filters(s->q);
	char *expr = cell_expr(&s->parsed, s->match, c);

	*st = NULL;
	if (!expr)
		return bk_error_set(err, "out of memory");
	if (sqlite3_prepare_v2(db, filtered ? cell_pages_filtered_sql : cell_pages_sql, -1, st,
			       NULL) != SQLITE_OK) {
		free(expr);
		return db_fail(db, "cannot prepare the search", err);
	}
	sqlite3_bind_text(*st, 1, expr, -1, SQLITE_TRANSIENT);
	free(expr);
	if (filtered)
		bind_filters(*st, s->q);
	return 0;
}

/* Reads one pending page: checks it for the query and keeps it if it
 * matches. */
static int read_pending(sqlite3 *db, sqlite3_stmt **text_st, enum bk_access level,
			struct search *s, const struct pending *p, int *tf, struct best_heap *best,
			struct bk_error *err)
{
	if (!*text_st && sqlite3_prepare_v2(db, "SELECT text FROM page WHERE id = ?1", -1, text_st,
					    NULL) != SQLITE_OK)
		return db_fail(db, "cannot prepare the search", err);
	sqlite3_stmt *st = *text_st;
	int rc = -1;
	sqlite3_bind_int64(st, 1, p->rowid);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		double score;
		int kept = check_page(s, st, 0, p->rowid, level, tf, &score, err);
		if (kept < 0)
			goto out;
		if (kept)
			best_add(best, score);
	} else if (step != SQLITE_DONE) {
		bk_error_set(err, "search for '%s' failed in the %s index: %s", s->q->text,
			     bk_access_name(level), sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_reset(st);
	return rc;
}

/* One level file, the likeliest best pages first. The candidates are cut
 * into cells: for each group, its band (band_bound); a page is in exactly
 * one cell, and scores less than the cell's bound, the sum of its bands'
 * bounds (hits are scored on the exact counts). Cells are walked in
 * decreasing bound, their pages as rowids and lengths (no text), each
 * page with its own bound (page_bound: the cell's bands and the page's
 * length). A page that may score within BK_RANK_TOLERANCE of its cell's
 * bound is read as it comes (the pages of dense words, which settle the
 * search soonest in archive order); another waits in a heap, and the
 * heap's best is read whenever it beats the cell being walked. Once
 * `limit` hits of the level score at least the highest bound left (of a
 * waiting page, or of the cell being walked or next) / BK_RANK_TOLERANCE,
 * no unread page could score more than BK_RANK_TOLERANCE times any of
 * them: the level's best are settled and the rest is not read (the count
 * of matches is then a lower bound). A
 * query of more than BK_CELL_GROUPS groups, or with few candidates, reads
 * every candidate. Each level is walked on its own: a level settled says
 * nothing of the next. */
static int search_level(struct bk_index *idx, enum bk_access level, struct search *s,
			struct bk_error *err)
{
	const struct bk_query *q = &s->parsed;
	int ncells = 1, rc = -1, next = 0, open = 0; /* open: 1 + the cell cell_st walks */
	struct cell *cells = NULL;
	struct pending_heap pending = { 0 };
	sqlite3_stmt *cell_st = NULL;
	struct best_heap best = { NULL, 0, s->limit };
	sqlite3_stmt *text_st = NULL;
	int *tf = NULL;

	/* date order: every candidate is read, density tells nothing */
	if (s->q->sort != BK_SORT_RELEVANCE)
		return scan_candidates(idx, level, s, s->match, err);
	long few = few_candidates(idx->db[level], s->match);
	if (q->ngroups > BK_CELL_GROUPS || few >= 0)
		return scan_candidates(idx, level, s, s->match, err);
	for (int g = 0; g < q->ngroups; g++)
		ncells *= BK_TIERS + 1;
	cells = calloc((size_t)ncells, sizeof(*cells));
	best.v = malloc((size_t)s->limit * sizeof(double));
	tf = calloc((size_t)q->ngroups, sizeof(int));
	if (!cells || !best.v || !tf) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	for (int i = 0; i < ncells; i++) {
		for (int g = 0, rest = i; g < q->ngroups; g++, rest /= BK_TIERS + 1) {
			cells[i].k[g] = rest % (BK_TIERS + 1) - 1;
			cells[i].bound += band_bound(q, g, cells[i].k[g]);
		}
	}
	qsort(cells, (size_t)ncells, sizeof(*cells), cmp_cell);
	while (!s->truncated) {
		/* the most an unread page can score: the open cell's bound (or
		 * the next cell's) and the best page fetched and not read */
		double open_bound = cell_st ? cells[open - 1].bound : next < ncells ? cells[next].bound : -1;
		double top = pending.n ? pending.v[0].bound : -1;
		double ceiling = open_bound > top ? open_bound : top;
		if (ceiling < 0)
			break; /* every candidate read */
		if (best_settled(&best, ceiling)) {
			s->settled = true;
			break;
		}
		if (monotonic_now() >= s->deadline) {
			s->truncated = true;
			break;
		}
		if (pending.n && top >= open_bound) {
			struct pending p = pending_pop(&pending);
			if (read_pending(idx->db[level], &text_st, level, s, &p, tf, &best, err))
				goto out;
			continue;
		}
		if (!cell_st) {
			if (open_cell(idx->db[level], s, &cells[next], &cell_st, err))
				goto out;
			open = ++next;
			continue;
		}
		int step = sqlite3_step(cell_st);
		if (step == SQLITE_ROW) {
			/* a page that may score near its cell's bound is read at
			 * once, in archive order, as dense words' pages are; one
			 * that cannot waits for its turn by its own bound */
			struct pending p = { sqlite3_column_int64(cell_st, 0),
					     page_bound(q, &cells[open - 1], sqlite3_column_int(cell_st, 1)) };
			if (p.bound * BK_RANK_TOLERANCE >= open_bound) {
				if (read_pending(idx->db[level], &text_st, level, s, &p, tf, &best, err))
					goto out;
			} else if (pending_push(&pending, p)) {
				bk_error_set(err, "out of memory");
				goto out;
			}
			continue;
		}
		if (step != SQLITE_DONE) {
			bk_error_set(err, "search for '%s' failed in the %s index: %s", s->q->text,
				     bk_access_name(level), sqlite3_errmsg(idx->db[level]));
			goto out;
		}
		sqlite3_finalize(cell_st);
		cell_st = NULL;
	}
	rc = 0;
out:
	sqlite3_finalize(cell_st);
	sqlite3_finalize(text_st);
	free(tf);
	free(best.v);
	free(pending.v);
	free(cells);
	return rc;
}

/* Better first: higher score, then archive order (level, then rowid). */
static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	return x->rowid < y->rowid ? -1 : x->rowid > y->rowid;
}

/* Date order: dated before undated, then older (or newer) first, then as
 * cmp_cand. */
static int cmp_date(const struct cand *x, const struct cand *y, int sign)
{
	if ((x->date == 0) != (y->date == 0))
		return x->date == 0 ? 1 : -1;
	if (x->date != y->date)
		return (x->date < y->date ? -1 : 1) * sign;
	return cmp_cand(x, y);
}

static int cmp_old(const void *a, const void *b)
{
	return cmp_date(a, b, 1);
}

static int cmp_new(const void *a, const void *b)
{
	return cmp_date(a, b, -1);
}

/* "YYYY[-MM[-DD]]" as YYYYMMDD (missing parts 0), 0 for anything else. */
static int date_key(const char *d)
{
	if (!d || !bk_date_valid(d))
		return 0;
	int y = atoi(d), m = strlen(d) >= 7 ? atoi(d + 5) : 0, day = strlen(d) >= 10 ? atoi(d + 8) : 0;
	return y * 10000 + m * 100 + day;
}

/* Moves the best `k` candidates, best first, to the front: a heap of the
 * k best seen so far, so ranking n pages costs n log k, not n log n. */
static void select_best(struct cands *c, int k, int (*cmp)(const void *, const void *))
{
	if (k > c->n)
		k = c->n;
	if (k <= 0)
		return;
	/* a max-heap on "worse": v[0] is the worst of the k kept */
	struct cand *h = c->v;
	for (int i = k / 2 - 1; i >= 0; i--)
		for (int p = i, ch; (ch = 2 * p + 1) < k; p = ch) {
			if (ch + 1 < k && cmp(&h[ch + 1], &h[ch]) > 0)
				ch++;
			if (cmp(&h[ch], &h[p]) <= 0)
				break;
			struct cand t = h[p]; h[p] = h[ch]; h[ch] = t;
		}
	for (int i = k; i < c->n; i++) {
		if (cmp(&c->v[i], &h[0]) >= 0)
			continue;
		h[0] = c->v[i];
		for (int p = 0, ch; (ch = 2 * p + 1) < k; p = ch) {
			if (ch + 1 < k && cmp(&h[ch + 1], &h[ch]) > 0)
				ch++;
			if (cmp(&h[ch], &h[p]) <= 0)
				break;
			struct cand t = h[p]; h[p] = h[ch]; h[ch] = t;
		}
	}
	qsort(h, (size_t)k, sizeof(*h), cmp);
}

static char *column_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return strdup(s ? (const char *)s : "");
}

/* The documents of `level` as the level's file shows them now (within the
 * caller's read transaction): kept from the last call while its data
 * version is the same. NULL with err set on failure. */
static const struct doc_facets *level_docs(struct bk_index *idx, enum bk_access level, struct bk_error *err)
{
	struct doc_facets *d = &idx->docs[level], fresh = { 0 };
	sqlite3 *db = idx->db[level];
	sqlite3_stmt *st = NULL;
	unsigned int version = 0;
	size_t cap = 0;
	int step;

	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_DATA_VERSION, &version) != SQLITE_OK) {
		db_fail(db, "cannot read the document table's version", err);
		return NULL;
	}
	if (d->db == db && d->version == version)
		return d;
	if (sqlite3_prepare_v2(db, "SELECT id, collection, profile, date FROM doc ORDER BY id", -1, &st, NULL) !=
	    SQLITE_OK) {
		db_fail(db, "cannot prepare the facets", err);
		return NULL;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (fresh.n == cap) {
			size_t grown_cap = cap ? cap * 2 : 1024;
			struct doc_facet *grown = realloc(fresh.v, grown_cap * sizeof(*grown));
			if (!grown)
				break;
			fresh.v = grown;
			cap = grown_cap;
		}
		struct doc_facet *e = &fresh.v[fresh.n];
		e->id = sqlite3_column_int64(st, 0);
		e->collection = column_dup(st, 1);
		e->profile = column_dup(st, 2);
		e->date = column_dup(st, 3);
		fresh.n++;
		if (!e->collection || !e->profile || !e->date)
			break;
	}
	if (step != SQLITE_DONE) {
		if (step == SQLITE_ROW)
			bk_error_set(err, "out of memory");
		else
			bk_error_set(err, "cannot read the %s index's documents: %s", bk_access_name(level),
				     sqlite3_errmsg(db));
		sqlite3_finalize(st);
		doc_facets_release(&fresh);
		return NULL;
	}
	sqlite3_finalize(st);
	doc_facets_release(d);
	*d = fresh;
	d->db = db;
	d->version = version;
	return d;
}

/* Document `id` of d, or NULL (removed by a put since the candidates
 * were walked: not counted). */
static const struct doc_facet *doc_find(const struct doc_facets *d, sqlite3_int64 id)
{
	size_t lo = 0, hi = d->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->n && d->v[lo].id == id ? &d->v[lo] : NULL;
}

static const char *const hit_sql =
	"SELECT d.doc, d.collection, d.title, d.date, d.pdf, p.text"
	"  FROM page p JOIN doc d ON d.id = (p.id >> 16) WHERE p.id = ?1";

/* Looks up one final hit, makes its snippet and hands it to fn. */
static int deliver(struct bk_index *idx, struct search *s, const struct cand *x,
		   int (*fn)(const struct bk_search_hit *, void *), void *ud, struct bk_error *err)
{
	sqlite3 *db = idx->db[x->level];
	sqlite3_stmt *st = NULL;
	char *f[5] = { NULL }, *snippet = NULL;
	const char *text;
	size_t len;
	int rc = -1;

	if (sqlite3_prepare_v2(db, hit_sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, "cannot prepare the search", err);
		goto out;
	}
	sqlite3_bind_int64(st, 1, x->rowid);
	int step = sqlite3_step(st);
	if (step == SQLITE_DONE) { /* removed by a put since the candidates were read */
		rc = 0;
		goto out;
	}
	if (step != SQLITE_ROW) {
		bk_error_set(err, "search for '%s' failed in the %s index: %s", s->q->text,
			     bk_access_name(x->level), sqlite3_errmsg(db));
		goto out;
	}
	for (int i = 0; i < 5; i++)
		if (!(f[i] = column_dup(st, i))) {
			bk_error_set(err, "out of memory");
			goto out;
		}
	if (column_page_text(st, 5, s, &text, &len, err))
		goto out;
	if (!(snippet = bk_matcher_snippet(s->matcher, text, len))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	struct bk_search_hit h = { f[0], f[1], f[2], f[3], f[4], snippet,
				   (int)(x->rowid & BK_MAX_PAGES), x->score, x->level, text, len };
	rc = fn(&h, ud);
out:
	sqlite3_finalize(st);
	for (int i = 0; i < 5; i++)
		free(f[i]);
	free(snippet);
	return rc;
}

/* One read transaction per level file for a whole search or count: each
 * statement outside one starts its own, and starting one costs SQLite's
 * locks on the file and its shared memory (fcntl, fstat); a count of the
 * facets runs one statement per document. A snapshot is also what a
 * count of several statements should read. The end ignores a level
 * whose connection was closed and opened again meanwhile (it has none). */
static void begin_read(struct bk_index *idx, enum bk_access level)
{
	if (idx->db[level] && sqlite3_get_autocommit(idx->db[level]))
		sqlite3_exec(idx->db[level], "BEGIN", NULL, NULL, NULL);
}

static void end_reads(struct bk_index *idx)
{
	for (int l = 0; l < BK_ACCESS_COUNT; l++)
		if (idx->db[l] && !sqlite3_get_autocommit(idx->db[l]))
			sqlite3_exec(idx->db[l], "COMMIT", NULL, NULL, NULL);
}

/* search_level, once more on the new file if the level was swapped out
 * under it (reading an unlinked generation can fail). */
static int search_level_again(struct bk_index *idx, enum bk_access level, struct search *s,
			      struct bk_error *err)
{
	int n0 = s->cands.n;
	long examined0 = s->examined;
	if (search_level(idx, level, s, err) == 0)
		return 0;
	if (idx->building || !link_moved(idx->dir, level, idx->target[level]))
		return -1;
	s->cands.n = n0;
	s->examined = examined0;
	close_level(idx, level);
	if (open_level(idx, level, false, err))
		return -1;
	return idx->db[level] ? search_level(idx, level, s, err) : 0;
}

static int check_query(const struct bk_search_query *q, struct bk_error *err)
{
	if (q->profile && *q->profile && bk_profile_parse(q->profile) < 0)
		return bk_error_set(err, "unknown profile '%s'", q->profile);
	if (q->date_from && *q->date_from && !bk_date_valid(q->date_from))
		return bk_error_set(err, "invalid date '%s': expected YYYY[-MM[-DD]]", q->date_from);
	if (q->date_to && *q->date_to && !bk_date_valid(q->date_to))
		return bk_error_set(err, "invalid date '%s': expected YYYY[-MM[-DD]]", q->date_to);
	if (q->access && *q->access && bk_access_parse(q->access) < 0)
		return bk_error_set(err, "unknown access level '%s'", q->access);
	if ((unsigned)q->sort > BK_SORT_DATE_NEW)
		return bk_error_set(err, "unknown sort order");
	return 0;
}

static int search_prepare(struct search *s, const struct bk_search_query *q, int time_limit_ms,
			  struct bk_error *err)
{
	s->q = q;
	s->limit = q->limit > 0 ? q->limit : BK_SEARCH_LIMIT_DEFAULT;
	s->deadline = monotonic_now() +
		      (time_limit_ms >= 0 ? time_limit_ms : BK_SEARCH_TIME_LIMIT_MS) / 1000.0;
	if (check_query(q, err) || bk_query_parse(q->text, &s->parsed, err))
		return -1;
	s->cands.ngroups = s->parsed.ngroups;
	if (!(s->match = bk_query_fts5(&s->parsed, BK_QUERY_TERMS)))
		return bk_error_set(err, "out of memory");
	return bk_matcher_new(&s->matcher, &s->parsed, err);
}

static void search_release(struct search *s)
{
	bk_matcher_free(&s->matcher);
	free(s->match);
	bk_query_release(&s->parsed);
	cands_release(&s->cands);
	free(s->buf);
}

/* Sets each candidate's date from its document (the level's documents
 * kept in memory, level_docs). */
static int fill_dates(struct bk_index *idx, struct cands *c, struct bk_error *err)
{
	const struct doc_facets *docs[BK_ACCESS_COUNT] = { NULL };

	for (int i = 0; i < c->n; i++) {
		struct cand *x = &c->v[i];
		if (!docs[x->level] && !(docs[x->level] = level_docs(idx, (enum bk_access)x->level, err)))
			return -1;
		/* a document removed by a put since sorts as undated */
		const struct doc_facet *d = doc_find(docs[x->level], x->rowid >> BK_PAGE_BITS);
		x->date = d ? date_key(d->date) : 0;
	}
	return 0;
}

int bk_index_search_timed(struct bk_index *idx, const struct bk_search_query *q, int time_limit_ms,
			  int (*fn)(const struct bk_search_hit *, void *), void *ud,
			  struct bk_search_info *info, struct bk_error *err)
{
	struct search s = { 0 };
	int rc = -1;

	if (info)
		*info = (struct bk_search_info){ 0, 0, false, false };
	if (search_prepare(&s, q, time_limit_ms, err))
		goto out;
	for (int l = 0; l <= (int)bk_role_max_access(idx->role); l++) {
		if (refresh_level(idx, (enum bk_access)l, err))
			goto out;
		if (idx->writable && !idx->db[l] && open_level(idx, (enum bk_access)l, false, err))
			goto out;
		if (q->access && *q->access && l != bk_access_parse(q->access))
			continue;
		if (!idx->writable)
			begin_read(idx, (enum bk_access)l);
		if (idx->db[l] && !s.truncated && search_level_again(idx, (enum bk_access)l, &s, err))
			goto out;
	}
	if (q->sort != BK_SORT_RELEVANCE && fill_dates(idx, &s.cands, err))
		goto out;
	select_best(&s.cands, s.limit,
		    q->sort == BK_SORT_DATE_OLD ? cmp_old : q->sort == BK_SORT_DATE_NEW ? cmp_new : cmp_cand);
	if (info)
		*info = (struct bk_search_info){ s.cands.n, s.examined, !s.truncated && !s.settled,
						 s.truncated };
	rc = 0;
	for (int i = 0; i < s.cands.n && i < s.limit && rc == 0; i++)
		rc = deliver(idx, &s, &s.cands.v[i], fn, ud, err);
out:
	if (!idx->writable)
		end_reads(idx);
	search_release(&s);
	return rc;
}

int bk_index_search(struct bk_index *idx, const struct bk_search_query *q,
		    int (*fn)(const struct bk_search_hit *, void *), void *ud,
		    struct bk_error *err)
{
	return bk_index_search_timed(idx, q, -1, fn, ud, NULL, err);
}

/* ---- facets and documents ------------------------------------------------- */

struct facet {
	char *collection;
	long pages;
};

static int cmp_facet(const void *a, const void *b)
{
	const struct facet *x = a, *y = b;
	if (x->pages != y->pages)
		return x->pages > y->pages ? -1 : 1;
	return strcmp(x->collection, y->collection);
}

/* Adds the candidates found in `level` since `from` to the facets: pages
 * of one document are consecutive (rowid order), so its collection is
 * looked up once. */
static int count_collections(sqlite3 *db, const struct cands *c, int from, struct facet **f,
			     int *nf, struct bk_error *err)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 last = -1;
	int cur = -1, rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT collection FROM doc WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "cannot prepare the facets", err);
	for (int i = from; i < c->n; i++) {
		sqlite3_int64 doc = c->v[i].rowid >> BK_PAGE_BITS;
		if (doc != last) {
			last = doc;
			cur = -1;
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 1, doc);
			if (sqlite3_step(st) != SQLITE_ROW)
				continue; /* removed by a put since */
			const char *name = (const char *)sqlite3_column_text(st, 0);
			for (int k = 0; k < *nf && cur < 0; k++)
				if (!strcmp((*f)[k].collection, name ? name : ""))
					cur = k;
			if (cur < 0) {
				struct facet *grown = realloc(*f, (size_t)(*nf + 1) * sizeof(**f));
				if (!grown || !(name = strdup(name ? name : ""))) {
					if (grown)
						*f = grown;
					bk_error_set(err, "out of memory");
					goto out;
				}
				*f = grown;
				(*f)[*nf] = (struct facet){ (char *)name, 0 };
				cur = (*nf)++;
			}
		}
		if (cur >= 0)
			(*f)[cur].pages++;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

int bk_index_facets(struct bk_index *idx, const struct bk_search_query *q, int time_limit_ms,
		    int (*fn)(const char *collection, long pages, void *), void *ud,
		    struct bk_search_info *info, struct bk_error *err)
{
	struct search s = { 0 };
	struct facet *f = NULL;
	int nf = 0, rc = -1;
	long total = 0;

	if (info)
		*info = (struct bk_search_info){ 0, 0, false, false };
	if (search_prepare(&s, q, time_limit_ms, err))
		goto out;
	for (int l = 0; l <= (int)bk_role_max_access(idx->role) && !s.truncated; l++) {
		if (refresh_level(idx, (enum bk_access)l, err))
			goto out;
		if (!idx->db[l])
			continue;
		int from = s.cands.n;
		if (scan_candidates(idx, (enum bk_access)l, &s, s.match, err) ||
		    count_collections(idx->db[l], &s.cands, from, &f, &nf, err))
			goto out;
	}
	if (nf)
		qsort(f, (size_t)nf, sizeof(*f), cmp_facet);
	for (int i = 0; i < nf; i++)
		total += f[i].pages;
	if (info)
		*info = (struct bk_search_info){ total, s.examined, !s.truncated, s.truncated };
	rc = 0;
	for (int i = 0; i < nf && rc == 0; i++)
		rc = fn(f[i].collection, f[i].pages, ud);
out:
	for (int i = 0; i < nf; i++)
		free(f[i].collection);
	free(f);
	search_release(&s);
	return rc;
}

void bk_index_version(struct bk_index *idx, char *out, size_t n)
{
	bk_index_dir_version(idx->dir, idx->role, out, n);
}

void bk_index_dir_version(const char *dir, enum bk_role role, char *out, size_t n)
{
	size_t used = 0;
	out[0] = '\0';
	for (int l = 0; l <= (int)bk_role_max_access(role) && used < n; l++) {
		char *target = read_target(dir, (enum bk_access)l), *file = NULL, *wal = NULL;
		struct stat f = { 0 }, w = { 0 };
		if (target && (file = bk_path_join(dir, target)) && stat(file, &f))
			memset(&f, 0, sizeof(f));
		if (file && asprintf(&wal, "%s-wal", file) < 0)
			wal = NULL;
		if (wal && stat(wal, &w))
			memset(&w, 0, sizeof(w));
		int k = snprintf(out + used, n - used, "%s:%lld.%ld.%ld:%lld.%ld.%ld;", target ? target : "-",
				 (long long)f.st_size, (long)f.st_mtim.tv_sec, f.st_mtim.tv_nsec, (long long)w.st_size,
				 (long)w.st_mtim.tv_sec, w.st_mtim.tv_nsec);
		used += k > 0 ? (size_t)k : 0;
		free(wal);
		free(file);
		free(target);
	}
}

void bk_facet_counts_release(struct bk_facet_counts *f)
{
	for (int k = 0; k < BK_FACET_KINDS; k++) {
		for (int i = 0; i < f->n[k]; i++)
			free(f->v[k][i].value);
		free(f->v[k]);
	}
	memset(f, 0, sizeof(*f));
}

/* Adds `pages` to value `v` of kind k (a new value at the end). */
static int facet_add(struct bk_facet_counts *f, int k, const char *v, long pages)
{
	for (int i = 0; i < f->n[k]; i++)
		if (!strcmp(f->v[k][i].value, v)) {
			f->v[k][i].pages += pages;
			return 0;
		}
	struct bk_facet_count *grown = realloc(f->v[k], (size_t)(f->n[k] + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	f->v[k] = grown;
	if (!(grown[f->n[k]].value = strdup(v)))
		return -1;
	grown[f->n[k]++].pages = pages;
	return 0;
}

static int cmp_count(const void *a, const void *b)
{
	const struct bk_facet_count *x = a, *y = b;
	if (x->pages != y->pages)
		return x->pages > y->pages ? -1 : 1;
	return strcmp(x->value, y->value);
}

static int cmp_value(const void *a, const void *b)
{
	const struct bk_facet_count *x = a, *y = b;
	/* undated ("") after the decades */
	if (!*x->value != !*y->value)
		return *x->value ? -1 : 1;
	return strcmp(x->value, y->value);
}

/* One document's matching pages into the counts: its values, and which
 * of q's filters it passes (the SQL filters' rules: dates compare as
 * text, date_to as a prefix range). */
static int facet_doc(struct bk_facet_counts *f, const struct bk_search_query *q, const struct doc_facet *d,
		     enum bk_access level, long pages)
{
	const char *v[BK_FACET_KINDS];
	char decade[8] = "";
	const char *date = d->date;
	v[BK_FACET_COLLECTION] = d->collection;
	v[BK_FACET_PROFILE] = d->profile;
	v[BK_FACET_ACCESS] = bk_access_name(level);
	if (strlen(date) >= 4 && date[0] >= '0' && date[0] <= '9')
		snprintf(decade, sizeof(decade), "%.3s0", date);
	v[BK_FACET_DECADE] = decade;
	bool pass[BK_FACET_KINDS];
	pass[BK_FACET_COLLECTION] = !q->collection || !*q->collection || !strcmp(q->collection, v[0]);
	pass[BK_FACET_PROFILE] = !q->profile || !*q->profile || !strcmp(q->profile, v[1]);
	bool to_ok = true;
	if (q->date_to && *q->date_to) {
		size_t n = strlen(q->date_to);
		int c = strncmp(date, q->date_to, n);
		to_ok = c <= 0; /* a prefix of date equal to date_to is within, as `<= to || '~'` */
	}
	pass[BK_FACET_DECADE] = (!q->date_from || !*q->date_from || strcmp(date, q->date_from) >= 0) && to_ok;
	pass[BK_FACET_ACCESS] = !q->access || !*q->access || !strcmp(q->access, v[BK_FACET_ACCESS]);
	int fails = 0;
	for (int k = 0; k < BK_FACET_KINDS; k++)
		fails += !pass[k];
	if (!fails)
		f->total += pages;
	for (int k = 0; k < BK_FACET_KINDS; k++)
		if ((fails == 0 || (fails == 1 && !pass[k])) && facet_add(f, k, v[k], pages))
			return -1;
	return 0;
}

/* The candidates of `level` since `from` into the counts, one lookup per
 * document (a level's candidates come in rowid order). */
static int facet_level(struct bk_index *idx, const struct cands *c, int from, enum bk_access level,
		       const struct bk_search_query *q, struct bk_facet_counts *f, struct bk_error *err)
{
	const struct doc_facets *docs = level_docs(idx, level, err);
	if (!docs)
		return -1;
	for (int i = from; i < c->n;) {
		sqlite3_int64 doc = c->v[i].rowid >> BK_PAGE_BITS;
		int j = i;
		while (j < c->n && (c->v[j].rowid >> BK_PAGE_BITS) == doc)
			j++;
		const struct doc_facet *d = doc_find(docs, doc);
		if (d && facet_doc(f, q, d, level, j - i))
			return bk_error_set(err, "out of memory");
		i = j;
	}
	return 0;
}

/* Facets at scale (index.h). The exact count reads and checks the text of
 * every candidate, the cost of the whole search without its early stop:
 * seconds for a word on a third of 600,000 pages. The walk reads only the
 * index, the rowids of the candidates of the role's levels in archive
 * order, no page text (each document looked up in the level's
 * documents kept in memory, level_docs); the sample
 * reads BK_FACET_SAMPLE pages. */
struct walked {
	sqlite3_int64 rowid;
	int level;
};

struct walk {
	struct walked *v;
	long n, cap;
	bool partial;   /* stopped before the last candidate */
	bool truncated; /* by the deadline */
};

/* Adds the candidates `match` has in `level` to w; stops after
 * BK_FACET_WALK in all, or at the deadline. */
static int walk_level(sqlite3 *db, enum bk_access level, const struct search *s, struct walk *w,
		      struct bk_error *err)
{
	sqlite3_stmt *st = NULL;
	int step, rc = -1;

	if (sqlite3_prepare_v2(db, "SELECT rowid FROM page_fts WHERE page_fts MATCH ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_fail(db, "cannot prepare the facets", err);
	sqlite3_bind_text(st, 1, s->match, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (w->n == BK_FACET_WALK) {
			w->partial = true;
			break;
		}
		/* the clock every 1024 rows: a row costs far less than a read of it */
		if (!(w->n & 1023) && monotonic_now() >= s->deadline) {
			w->partial = w->truncated = true;
			break;
		}
		if (w->n == w->cap) {
			long cap = w->cap ? w->cap * 2 : 4096;
			struct walked *grown = realloc(w->v, (size_t)cap * sizeof(*grown));
			if (!grown) {
				bk_error_set(err, "out of memory");
				goto out;
			}
			w->v = grown;
			w->cap = cap;
		}
		w->v[w->n++] = (struct walked){ sqlite3_column_int64(st, 0), (int)level };
	}
	if (step != SQLITE_DONE && step != SQLITE_ROW) {
		bk_error_set(err, "facets of '%s' failed in the %s index: %s", s->q->text, bk_access_name(level),
			     sqlite3_errmsg(db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

/* A fixed mix of i (splitmix64's): the sample is the same for the same
 * walk, so an estimate does not change between two identical requests. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15u;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
	return x ^ (x >> 31);
}

/* Checks BK_FACET_SAMPLE walked candidates on their text (the matcher of
 * bk_index_search): one from each of as many equal stretches of the walk,
 * at a place in it that mix() picks, so the whole archive is sampled and
 * a regular pattern of pages (every fifth a decoy) cannot line up with
 * the sample; f->sampled and f->confirmed. A page removed by a put since
 * the walk is not in the sample. */
static int sample_walk(struct bk_index *idx, struct search *s, const struct walk *w,
		       struct bk_facet_counts *f, struct bk_error *err)
{
	sqlite3_stmt *st[BK_ACCESS_COUNT] = { NULL };
	int *tf = calloc((size_t)s->parsed.ngroups, sizeof(int)), rc = -1;
	long k = w->n < BK_FACET_SAMPLE ? w->n : BK_FACET_SAMPLE;

	if (!tf)
		return bk_error_set(err, "out of memory");
	for (long i = 0; i < k; i++) {
		long lo = i * w->n / k, hi = (i + 1) * w->n / k;
		const struct walked *x = &w->v[lo + (long)(mix((uint64_t)i) % (uint64_t)(hi - lo))];
		sqlite3 *db = idx->db[x->level];
		const char *text;
		size_t len;
		if (monotonic_now() >= s->deadline) {
			f->truncated = true;
			break;
		}
		if (!st[x->level] && sqlite3_prepare_v2(db, "SELECT text FROM page WHERE id = ?1", -1,
						      &st[x->level], NULL) != SQLITE_OK) {
			db_fail(db, "cannot prepare the facets", err);
			goto out;
		}
		sqlite3_reset(st[x->level]);
		sqlite3_bind_int64(st[x->level], 1, x->rowid);
		if (sqlite3_step(st[x->level]) != SQLITE_ROW)
			continue;
		if (column_page_text(st[x->level], 0, s, &text, &len, err))
			goto out;
		int ok = bk_matcher_check(s->matcher, text, len, tf, err);
		if (ok < 0)
			goto out;
		f->sampled++;
		f->confirmed += ok > 0;
	}
	rc = 0;
out:
	for (int l = 0; l < BK_ACCESS_COUNT; l++)
		sqlite3_finalize(st[l]);
	free(tf);
	return rc;
}

/* The walked candidates into the counts, one lookup per document (the
 * walk holds each level's candidates in rowid order). */
static int facet_walk(struct bk_index *idx, const struct walk *w, const struct bk_search_query *q,
		      struct bk_facet_counts *f, struct bk_error *err)
{
	const struct doc_facets *docs[BK_ACCESS_COUNT] = { NULL };

	for (long i = 0; i < w->n;) {
		int level = w->v[i].level;
		sqlite3_int64 doc = w->v[i].rowid >> BK_PAGE_BITS;
		long j = i;
		while (j < w->n && w->v[j].level == level && (w->v[j].rowid >> BK_PAGE_BITS) == doc)
			j++;
		if (!docs[level] && !(docs[level] = level_docs(idx, (enum bk_access)level, err)))
			return -1;
		const struct doc_facet *d = doc_find(docs[level], doc);
		if (d && facet_doc(f, q, d, (enum bk_access)level, j - i))
			return bk_error_set(err, "out of memory");
		i = j;
	}
	return 0;
}

/* Candidate counts into estimates: times the share of the sample that
 * matched, at least 1 where there were candidates. */
static void scale_counts(struct bk_facet_counts *f)
{
	double share = (double)f->confirmed / (double)f->sampled;
	for (int k = 0; k < BK_FACET_KINDS; k++)
		for (int i = 0; i < f->n[k]; i++) {
			long e = (long)((double)f->v[k][i].pages * share + 0.5);
			f->v[k][i].pages = e > 0 ? e : 1;
		}
	if (f->total > 0) {
		long e = (long)((double)f->total * share + 0.5);
		f->total = e > 0 ? e : 1;
	}
}

/* The exact counts: every candidate read and checked on its text, as
 * bk_index_search does. */
static int count_exactly(struct bk_index *idx, struct search *s, const struct bk_search_query *q,
			 struct bk_facet_counts *out, struct bk_error *err)
{
	for (int l = 0; l <= (int)bk_role_max_access(idx->role) && !s->truncated; l++) {
		if (!idx->db[l])
			continue;
		int from = s->cands.n;
		if (scan_candidates(idx, (enum bk_access)l, s, s->match, err) ||
		    facet_level(idx, &s->cands, from, (enum bk_access)l, q, out, err))
			return -1;
	}
	out->counted = !s->truncated;
	out->truncated = s->truncated;
	return 0;
}

int bk_index_facet_counts(struct bk_index *idx, const struct bk_search_query *q, int time_limit_ms,
			  struct bk_facet_counts *out, struct bk_error *err)
{
	struct search s = { 0 };
	struct walk w = { 0 };
	/* the candidates without the filters: each kind is counted without its own */
	struct bk_search_query all = { q->text, NULL, NULL, NULL, NULL, q->limit, BK_SORT_RELEVANCE, NULL };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (check_query(q, err) || search_prepare(&s, &all, time_limit_ms, err))
		goto out;
	for (int l = 0; l <= (int)bk_role_max_access(idx->role) && !w.partial; l++) {
		if (refresh_level(idx, (enum bk_access)l, err))
			goto out;
		if (!idx->writable)
			begin_read(idx, (enum bk_access)l);
		if (idx->db[l] && walk_level(idx->db[l], (enum bk_access)l, &s, &w, err))
			goto out;
	}
	out->candidates = w.n;
	if (bk_query_exact(&s.parsed)) {
		/* every candidate matches: its document is all there is to read */
		if (facet_walk(idx, &w, q, out, err))
			goto out;
		out->counted = !w.partial;
		out->partial = w.partial;
		out->truncated = w.truncated;
		out->estimated = w.partial;
	} else if (!w.partial && w.n <= BK_FACET_EXACT) {
		if (count_exactly(idx, &s, q, out, err))
			goto out;
	} else {
		if (sample_walk(idx, &s, &w, out, err))
			goto out;
		if (!out->confirmed && !out->truncated) {
			/* no page of the sample matched (a phrase whose tokens
			 * are on many pages that do not hold it): no share to
			 * estimate by, so count within the time limit */
			if (count_exactly(idx, &s, q, out, err))
				goto out;
		} else if (out->confirmed) {
			if (facet_walk(idx, &w, q, out, err))
				goto out;
			scale_counts(out);
			out->estimated = true;
			out->partial = w.partial;
			out->truncated = out->truncated || w.truncated;
		} else {
			out->truncated = true;
		}
	}
	/* levels stay in the order visited: public, restricted, confidential */
	for (int k = 0; k < BK_FACET_KINDS; k++)
		if (out->n[k] && k != BK_FACET_ACCESS)
			qsort(out->v[k], (size_t)out->n[k], sizeof(*out->v[k]),
			      k == BK_FACET_COLLECTION || k == BK_FACET_PROFILE ? cmp_count : cmp_value);
	rc = 0;
out:
	if (!idx->writable)
		end_reads(idx);
	if (rc)
		bk_facet_counts_release(out);
	free(w.v);
	search_release(&s);
	return rc;
}

void bk_index_doc_info_release(struct bk_index_doc_info *d)
{
	free(d->id);
	free(d->collection);
	free(d->title);
	free(d->date);
	free(d->pdf);
	memset(d, 0, sizeof(*d));
}

int bk_index_doc_get(struct bk_index *idx, const char *doc_id, struct bk_index_doc_info *d,
		     struct bk_error *err)
{
	memset(d, 0, sizeof(*d));
	for (int l = 0; l <= (int)bk_role_max_access(idx->role); l++) {
		sqlite3_stmt *st = NULL;
		if (refresh_level(idx, (enum bk_access)l, err))
			return -1;
		sqlite3 *db = idx->db[l];
		if (!db)
			continue;
		if (sqlite3_prepare_v2(db, "SELECT doc, collection, title, date, pdf, profile, npages"
					   " FROM doc WHERE doc = ?1", -1, &st, NULL) != SQLITE_OK)
			return db_fail(db, "cannot prepare the document lookup", err);
		sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
		int step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			const char *profile = (const char *)sqlite3_column_text(st, 5);
			int p = bk_profile_parse(profile);
			d->id = column_dup(st, 0);
			d->collection = column_dup(st, 1);
			d->title = column_dup(st, 2);
			d->date = column_dup(st, 3);
			d->pdf = column_dup(st, 4);
			d->profile = p < 0 ? BK_PROFILE_RECORD : (enum bk_profile)p;
			d->npages = sqlite3_column_int(st, 6);
			/* the level is where it lies: a document is only in its level's file */
			d->access = (enum bk_access)l;
			sqlite3_finalize(st);
			if (!d->id || !d->collection || !d->title || !d->date || !d->pdf) {
				bk_index_doc_info_release(d);
				return bk_error_set(err, "out of memory");
			}
			return 1;
		}
		if (step != SQLITE_DONE) {
			bk_error_set(err, "cannot look up '%s' in the %s index: %s", doc_id,
				     bk_access_name((enum bk_access)l), sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -1;
		}
		sqlite3_finalize(st);
	}
	return 0;
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
	char *name = new_generation_name(l), *path = name ? bk_path_join(b->dir, name) : NULL;
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
		char *cur_path = bk_path_join(b->dir, cur);
		int orc = cur_path ? open_conn(cur_path, true, &src, err) : -1;
		if (orc == 0)
			orc = check_schema(src, cur_path, err);
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
 * closes it: after this the generation is on disk with an empty -wal. */
static int finish_generation(struct bk_index *b, enum bk_access l, struct bk_error *err)
{
	char *path = bk_path_join(b->dir, b->target[l]);
	sqlite3 *db = b->db[l];
	int rc = -1;

	if (!path) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	/* the read after the switch opens the WAL, so that -wal and -shm
	 * exist for readers of other Unix users (see open_conn) */
	if (exec(db, "COMMIT; INSERT INTO page_fts(page_fts) VALUES('optimize');"
		     "PRAGMA journal_mode=WAL; SELECT count(*) FROM bunko_index_info;", path, err))
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
			rc = bk_fsync_dir(b->dir, err);
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
	int rc = -1, lock;

	if (!feed)
		return bk_error_set(err, "rebuild of '%s' needs a feeder", index_dir);
	if ((lock = lock_index(index_dir, LOCK_EX, err)) < 0)
		return -1;
	if (bk_index_open(&b, index_dir, BK_ROLE_ADMIN, true, err))
		goto out;
	b->building = true;
	sweep_generations(index_dir);
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
	sweep_generations(index_dir);
	rc = 0;
out:
	if (rc && b)
		abandon_building(b);
	bk_index_free(&b);
	unlock_index(lock);
	return rc;
}
