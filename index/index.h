/*
 * index/index.h — bunko's Japanese full-text index and search (SQLite FTS5
 * with bunko's own tokenizer; see tokenizer.h and query.h for the text and
 * query rules, db.c for the file protocol).
 *
 * Files: INDEX_DIR/<level>.db for level public, restricted, confidential,
 * each with mode 0644, 0640, 0600 (set with fchmod, whatever the umask), so
 * the operating system decides which files a role's process can open. A
 * document's text, title and pages live only in the file of its access
 * level; a role opens only the files of the levels it may see, so snippets,
 * titles and hits of a document above the role cannot leak: they are not in
 * any file the search reads.
 *
 * Ownership: strings in a bk_index_doc are borrowed for the call; strings in
 * a bk_search_hit are valid only during the callback.
 *
 * Threads: a struct bk_index is used by one thread at a time (its SQLite
 * connections are opened without their own mutex); a server keeps one per
 * thread or hands them out from a pool (web/site.c).
 */
#ifndef BUNKO_INDEX_INDEX_H
#define BUNKO_INDEX_INDEX_H

#include <stdbool.h>

#include "bunko/common.h"

enum bk_role { BK_ROLE_PUBLIC, BK_ROLE_STAFF, BK_ROLE_ADMIN };  /* sees access <= public / restricted / confidential */
#define BK_ROLE_COUNT 3

/* Highlight markers around the matched text in bk_search_hit.snippet. */
#define BK_SNIPPET_OPEN "["
#define BK_SNIPPET_CLOSE "]"
#define BK_SNIPPET_ELLIPSIS "…"
#define BK_SEARCH_LIMIT_DEFAULT 20
#define BK_SEARCH_TIME_LIMIT_MS 2000 /* default time limit of a search, see bk_index_search */

static const char *const bk_role_names[BK_ROLE_COUNT] = { "public", "staff", "admin" };

static inline const char *bk_role_name(enum bk_role r)
{
	return (unsigned)r < BK_ROLE_COUNT ? bk_role_names[r] : "?";
}

/* Returns the role named `s`, or -1. */
static inline int bk_role_parse(const char *s)
{
	for (int i = 0; s && i < BK_ROLE_COUNT; i++)
		if (strcmp(s, bk_role_names[i]) == 0)
			return i;
	return -1;
}

/* The highest access level `role` may see. */
static inline enum bk_access bk_role_max_access(enum bk_role role)
{
	return role == BK_ROLE_ADMIN ? BK_ACCESS_CONFIDENTIAL
	       : role == BK_ROLE_STAFF ? BK_ACCESS_RESTRICTED : BK_ACCESS_PUBLIC;
}

struct bk_index_doc { const char *id, *collection, *title, *date, *pdf; enum bk_profile profile; enum bk_access access;
	const char *const *page_texts; int npages; };  /* page_texts[i] is page i+1 (NULL or "" for a blank page) */

struct bk_index;
/* Opens the index in `index_dir` (normally ARCHIVE/index) for `role`.
 * Read-only (writable false): opens, read-only, the existing files of the
 * levels the role may see; a missing file is an empty level. Writable:
 * files are opened, and created if missing, when a put needs them; a role
 * may write documents of the levels it may see. */
int bk_index_open(struct bk_index **idx, const char *index_dir, enum bk_role role, bool writable, struct bk_error *err);
/* Once per process, before any index is opened: SQLite's process-wide
 * settings (no global count of allocations: it takes one mutex for every
 * allocation of every thread). */
void bk_index_process_setup(void);
void bk_index_free(struct bk_index **idx);
/* Adds a document, replacing any earlier copy of the same id at every level
 * the role can write (a document whose access changed moves: it is removed
 * from its old level first). Idempotent. Several processes may put
 * concurrently (WAL, busy timeout); while a rebuild runs, a put waits for
 * it and then goes into the new files (db.c: the index lock). */
int bk_index_put(struct bk_index *idx, const struct bk_index_doc *doc, struct bk_error *err); /* replaces the doc's rows: idempotent */
/* Removes a document from every level the role can write; 0 if absent. */
int bk_index_delete(struct bk_index *idx, const char *doc_id, struct bk_error *err);

/* What a search found, besides the hits it delivered. */
struct bk_search_info {
	long matches;   /* matching pages found: all of them if counted */
	long examined;  /* candidate pages whose text was checked */
	bool counted;   /* every candidate was checked: matches is the total;
			   false when the best hits were settled first (no
			   unread page scores more than 5% above them) or
			   when truncated */
	bool truncated; /* the time limit ran out: pages not yet checked were
			   not considered, so better hits may exist */
};

/* The order of the hits: by score (the default), or by the document's
 * date, oldest or newest first (equal dates by score; undated documents
 * last either way). Ordering by date reads every candidate. */
enum bk_search_sort { BK_SORT_RELEVANCE, BK_SORT_DATE_OLD, BK_SORT_DATE_NEW };

/* Filters are NULL for none; dates are YYYY[-MM[-DD]] and compare as text
 * ranges ("--to 2020" includes 2020-12-31; a document dated "2020" is not
 * after "2020-05"); access names one level (public, restricted,
 * confidential) of those the role may see; limit <= 0 means
 * BK_SEARCH_LIMIT_DEFAULT. */
struct bk_search_query { const char *text; const char *collection, *profile, *date_from, *date_to; int limit;
	enum bk_search_sort sort; const char *access; };
/* page is 1-based; score is higher for better hits (BM25-style, from the
 * density of the query's hits on the page: db.c, score_of); the snippet is about
 * 20 characters either side of the first hit, hits between
 * BK_SNIPPET_OPEN and BK_SNIPPET_CLOSE, white space between Japanese
 * characters removed and other runs of white space made one space. */
struct bk_search_hit { const char *doc, *collection, *title, *date, *pdf, *snippet; int page; double score; enum bk_access access;
	const char *text; size_t text_len; };  /* text: the page's whole text, as indexed */
/* Calls fn for the best `limit` hits across the role's levels, best first
 * (equal scores in archive order); a non-zero return from fn stops the
 * search and is returned. Errors in the query are reported in `err`
 * ("unbalanced quote in query '...'").
 * Every page that matches is ranked, however many there are: `limit`
 * bounds what is delivered, not what is considered. Pages are read in an
 * order that lets the search stop once no unread page could score more
 * than 5% above any of the `limit` best found (then info->counted is
 * false: the best are exact to within that, the count a lower bound). Only if the time limit runs out first does the
 * search stop before that, rank what it has checked and say so in
 * info->truncated. Every page delivered is a true hit. time_limit_ms < 0 means BK_SEARCH_TIME_LIMIT_MS (0: stop at the
 * first page, which tests use to see a truncated search); info, if not
 * NULL, is filled in. */
int bk_index_search_timed(struct bk_index *idx, const struct bk_search_query *q, int time_limit_ms,
			  int (*fn)(const struct bk_search_hit *, void *), void *ud,
			  struct bk_search_info *info, struct bk_error *err);
/* bk_index_search_timed with the default time limit and no info. */
int bk_index_search(struct bk_index *idx, const struct bk_search_query *q,
                    int (*fn)(const struct bk_search_hit *, void *), void *ud, struct bk_error *err);
/* The matching pages of each collection: a search (same query, filters
 * and time limit as bk_index_search_timed) that reads every candidate,
 * ranks nothing and calls fn once per collection that has hits, most hits
 * first (equal counts by name), across the role's levels only. info (may
 * be NULL) gets the total; counted is true unless the time limit ran out.
 * A non-zero return from fn stops and is returned. */
int bk_index_facets(struct bk_index *idx, const struct bk_search_query *q, int time_limit_ms,
		    int (*fn)(const char *collection, long pages, void *), void *ud,
		    struct bk_search_info *info, struct bk_error *err);

/* The facets of a search: for each kind, the matching pages of each
 * value. */
enum bk_facet_kind { BK_FACET_COLLECTION, BK_FACET_PROFILE, BK_FACET_DECADE, BK_FACET_ACCESS };
#define BK_FACET_KINDS 4
struct bk_facet_count { char *value; long pages; };
struct bk_facet_counts {
	struct bk_facet_count *v[BK_FACET_KINDS]; /* owned */
	int n[BK_FACET_KINDS];
	long total;      /* matching pages that pass every filter */
	bool counted;    /* every candidate was checked on its text: exact */
	bool estimated;  /* counts are estimates (see below); counted is false */
	bool partial;    /* not every candidate was walked (BK_FACET_WALK or the
			    time limit): estimated counts of the part walked */
	bool truncated;  /* the time limit ran out (counts are lower bounds) */
	long candidates; /* candidate pages the index gave (walked) */
	long sampled, confirmed; /* estimated: pages checked, of them matching */
};
void bk_facet_counts_release(struct bk_facet_counts *f);
/* Facets of a query with up to BK_FACET_EXACT candidate pages are counted
 * exactly; above, they are estimated (a count on every candidate's text
 * would take seconds for a common word): only the index is read for the
 * candidates' documents (at most BK_FACET_WALK candidates), and
 * BK_FACET_SAMPLE of them, one from each of as many equal stretches of
 * the candidates in archive order, are checked on their text; each value's count is its candidate pages times the share
 * of the sample that matched (at least 1 for a value with candidates).
 * When no page of the sample matches, there is no share to estimate by,
 * and the counts are exact again, within the time limit. A query the index
 * answers exactly (index/query.h, bk_query_exact: each word one or two
 * Japanese characters) is counted from the index alone, exactly, whatever
 * its number of candidates (up to BK_FACET_WALK; beyond, the part walked,
 * marked partial and estimated). */
#define BK_FACET_EXACT 2000
#define BK_FACET_SAMPLE 500
#define BK_FACET_WALK 400000
/* Counts the pages matching q->text over the candidates of the role's
 * levels only (a level the role may not see is never read, so never
 * counted or sampled), exactly or estimated as above. Each kind counts
 * among the pages that pass every filter
 * of q but its own (choosing a value shows as many pages as its count;
 * the other values of that kind stay offered): collection and profile by
 * name, decade as "1920" for dates 1920..1929 ("" undated; the date range
 * is its filter), access by level name. Values: collections and profiles
 * most pages first (equal counts by name), decades and levels in order.
 * Same query checks and time limit as bk_index_search_timed. */
int bk_index_facet_counts(struct bk_index *idx, const struct bk_search_query *q, int time_limit_ms,
			  struct bk_facet_counts *out, struct bk_error *err);

/* A token that changes whenever what the role's reader would find may
 * have changed: for each level it may see, the generation its link names
 * and the size and modification time of that file and its -wal (a put
 * writes the -wal; a rebuild moves the link). Writes at most n bytes to
 * out, NUL-terminated. For caches of search results. */
void bk_index_version(struct bk_index *idx, char *out, size_t n);
/* The same token from the index directory alone, without opening a
 * reader: what a cache can check before it takes one. */
void bk_index_dir_version(const char *dir, enum bk_role role, char *out, size_t n);

/* A document as the index holds it; strings owned (bk_index_doc_info_release). */
struct bk_index_doc_info { char *id, *collection, *title, *date, *pdf; enum bk_profile profile;
	enum bk_access access; int npages; };
void bk_index_doc_info_release(struct bk_index_doc_info *d);
/* Looks `doc_id` up in the levels the role may see: 1 and *d filled
 * when found, 0 when not (then *d is zeroed), -1 on error. A document
 * above the role is not found: it is in no file the role opens. */
int bk_index_doc_get(struct bk_index *idx, const char *doc_id, struct bk_index_doc_info *d,
		     struct bk_error *err);

/* reindex: build into new files, swap atomically; feed docs through the callback.
 * With `collection`, each level's new file starts as a copy of the current
 * one without that collection's documents, and feed should put only that
 * collection's documents. Searches keep working throughout and see either
 * the old or the new files; puts from other processes wait until the
 * rebuild is done and then go into the new files, so none is lost (feed
 * must put only into `building`, and must not fork processes that put).
 * Generation files no longer in use, also those of an earlier rebuild
 * that crashed, are removed. */
int bk_index_rebuild(const char *index_dir, const char *collection /* NULL all */,
                     int (*feed)(struct bk_index *building, void *ud, struct bk_error *err), void *ud, struct bk_error *err);

#endif
