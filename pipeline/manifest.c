/*
 * pipeline/manifest.c — reading, checking and queueing a manifest of
 * volumes (see manifest.h).
 */
#include "pipeline/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bunko/atomic.h"
#include "bunko/buf.h"
#include "archive/checksum.h"
#include "archive/meta.h"
#include "bunko/fs.h"
#include "bunko/utf8.h"
#include "ingest/source.h"

enum column { COL_FILES, COL_COLLECTION, COL_TITLE, COL_DATE, COL_BOX, COL_VOLUME,
	      COL_ACCESS, COL_PROFILE, COL_LANG, NCOLS };

static const char *const column_names[NCOLS] = { "files", "collection", "title", "date",
						  "box", "volume", "access", "profile",
						  "lang" };

void bk_manifest_init(struct bk_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

static void row_release(struct bk_manifest_row *r)
{
	for (size_t i = 0; i < r->npaths; i++)
		free(r->paths[i]);
	free(r->paths);
	bk_job_meta_release(&r->meta);
}

void bk_manifest_release(struct bk_manifest *m)
{
	for (size_t i = 0; i < m->nrows; i++)
		row_release(&m->rows[i]);
	free(m->rows);
	for (size_t i = 0; i < m->nproblems; i++)
		free(m->problems[i]);
	free(m->problems);
	bk_manifest_init(m);
}

/* Adds one problem line; -1 only when out of memory. */
static int problem(struct bk_manifest *m, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	char **nv = n < 0 ? NULL : realloc(m->problems, (m->nproblems + 1) * sizeof(*nv));
	if (!nv) {
		free(n < 0 ? NULL : line);
		return -1;
	}
	m->problems = nv;
	m->problems[m->nproblems++] = line;
	return 0;
}

/* ---- CSV ---------------------------------------------------------------- */

/* Read here, not with libcsv (libcsv-dev): its callbacks are given no
 * position, and every problem of a manifest names the line of its record. */

struct csv {
	const char *p, *end;
	int line; /* of p */
};

/* Reads one record into fields (newly allocated); returns the number of
 * fields, 0 at the end, -1 on an unterminated quote. *line: where it began. */
static int csv_record(struct csv *c, char ***fields, int *line)
{
	size_t n = 0, cap = 0;
	*fields = NULL;
	*line = c->line;
	if (c->p >= c->end)
		return 0;
	for (;;) {
		struct bk_buf field = { 0 };
		char *f;
		bool quoted = c->p < c->end && *c->p == '"';
		if (quoted)
			c->p++;
		for (;;) {
			if (c->p >= c->end) {
				if (quoted) {
					bk_buf_release(&field);
					return -2;
				}
				break;
			}
			char ch = *c->p;
			if (quoted && ch == '"') {
				if (c->p + 1 < c->end && c->p[1] == '"') {
					c->p += 2;
				} else {
					c->p++;
					quoted = false;
					continue;
				}
			} else if (!quoted && (ch == ',' || ch == '\n' || ch == '\r')) {
				break;
			} else {
				c->p++;
				if (ch == '\n')
					c->line++;
			}
			bk_buf_add(&field, &ch, 1);
		}
		if (!(f = bk_buf_detach(&field, NULL)))
			return -1;
		if (n == cap) {
			char **nv = realloc(*fields, (cap = cap ? cap * 2 : 16) * sizeof(*nv));
			if (!nv) {
				free(f);
				return -1;
			}
			*fields = nv;
		}
		(*fields)[n++] = f;
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
			c->line++;
		}
		return (int)n;
	}
}

static void free_fields(char **f, int n)
{
	for (int i = 0; i < n; i++)
		free(f[i]);
	free(f);
}

/* ---- rows ----------------------------------------------------------------- */

static int add_path(struct bk_manifest_row *r, char *path)
{
	char **nv = realloc(r->paths, (r->npaths + 1) * sizeof(*nv));
	if (!nv) {
		free(path);
		return -1;
	}
	r->paths = nv;
	r->paths[r->npaths++] = path;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* The files of a row: each ';'-separated path, or a directory's files. */
static int row_files(struct bk_manifest *m, struct bk_manifest_row *r, const char *name,
		     const char *dir, const char *spec)
{
	char *copy = strdup(spec), *save = NULL;
	if (!copy)
		return -1;
	for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		while (*tok == ' ')
			tok++;
		size_t len = strlen(tok);
		while (len && tok[len - 1] == ' ')
			tok[--len] = '\0';
		if (!*tok)
			continue;
		char *path = NULL;
		struct stat st;
		if (asprintf(&path, tok[0] == '/' ? "%s%s" : "%s/%s", tok[0] == '/' ? "" : dir,
			     tok) < 0) {
			free(copy);
			return -1;
		}
		if (stat(path, &st)) {
			int rc = problem(m, "'%s' line %d: cannot open '%s': %s", name, r->line, tok,
					 strerror(errno));
			free(path);
			free(copy);
			return rc;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (add_path(r, path)) {
				free(copy);
				return -1;
			}
			continue;
		}
		/* a directory that cannot be listed holds no files: the problem
		 * below names it */
		char **names = NULL;
		size_t nnames = 0, first = r->npaths;
		bk_list_dir(path, &names, &nnames, NULL);
		for (size_t k = 0; k < nnames; k++) {
			char *f = bk_path_join(path, names[k]);
			struct stat fst;
			if (f && stat(f, &fst) == 0 && S_ISREG(fst.st_mode)) {
				if (add_path(r, f)) {
					bk_names_free(names, nnames);
					free(path);
					free(copy);
					return -1;
				}
			} else {
				free(f);
			}
		}
		bk_names_free(names, nnames);
		if (r->npaths == first &&
		    problem(m, "'%s' line %d: directory '%s' holds no files", name, r->line, tok)) {
			free(path);
			free(copy);
			return -1;
		}
		free(path);
	}
	free(copy);
	if (r->npaths == 0 && problem(m, "'%s' line %d: no files", name, r->line))
		return -1;
	return 0;
}

/* Checks the row's files as `bunko add` does; one problem at most. */
static int check_files(struct bk_manifest *m, struct bk_manifest_row *r, const char *name)
{
	struct bk_error err;
	for (size_t i = 0; i < r->npaths; i++) {
		struct stat st;
		bk_error_init(&err);
		if (bk_text_check("file name", base(r->paths[i]), BK_FILE_NAME_MAX, &err))
			return problem(m, "'%s' line %d: %s", name, r->line, err.msg);
		if (stat(r->paths[i], &st) || !S_ISREG(st.st_mode) || access(r->paths[i], R_OK))
			return problem(m, "'%s' line %d: cannot read '%s'", name, r->line,
				       r->paths[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(base(r->paths[i]), base(r->paths[j])))
				return problem(m, "'%s' line %d: '%s' and '%s' have the same "
					       "file name", name, r->line, r->paths[j], r->paths[i]);
	}
	return 0;
}

/* The row's key (manifest.h); NULL when out of memory. */
static char *row_key(const struct bk_manifest_row *r)
{
	const struct bk_job_meta *jm = &r->meta;
	char *text = NULL, hex[BK_SHA256_HEX_LEN + 1];
	if (asprintf(&text, "%s\037%s\037%s\037%d\037%d\037%s\037%s\037%s", jm->collection,
		     jm->title ? jm->title : "", jm->date ? jm->date : "", jm->box, jm->volume,
		     bk_access_name(jm->access), bk_profile_name(jm->profile),
		     jm->lang ? jm->lang : "auto") < 0)
		return NULL;
	for (size_t i = 0; i < r->npaths; i++) {
		struct stat st;
		char *next = NULL;
		long long size = stat(r->paths[i], &st) == 0 ? (long long)st.st_size : -1;
		if (asprintf(&next, "%s\036%s\037%lld", text, base(r->paths[i]), size) < 0) {
			free(text);
			return NULL;
		}
		free(text);
		text = next;
	}
	int rc = bk_sha256_mem(text, strlen(text), hex, NULL);
	free(text);
	return rc ? NULL : strdup(hex);
}

int bk_input_pages(const char *path)
{
	struct bk_source *src = NULL;
	int n = 0;
	if (bk_source_open(&src, path, NULL, 0, NULL) == 0)
		n = bk_source_page_count(src);
	bk_source_free(&src);
	return n;
}

/* One data record: checked; appended to m->rows when good. */
static int take_row(struct bk_manifest *m, const char *name, const char *dir, int line,
		    char **f, int nf, const int *col, int ncols)
{
	struct bk_manifest_row r = { .line = line };
	struct bk_error err;
	int before = (int)m->nproblems, rc = -1;
	const char *v[NCOLS] = { 0 };

	bk_job_meta_init(&r.meta);
	bk_error_init(&err);
	if (nf != ncols) {
		rc = problem(m, "'%s' line %d: %d fields, the header has %d", name, line, nf,
			     ncols);
		goto out;
	}
	for (int i = 0; i < ncols; i++)
		v[col[i]] = f[i][0] ? f[i] : NULL;
	if (!v[COL_FILES] || !v[COL_COLLECTION]) {
		rc = problem(m, "'%s' line %d: files and collection are required", name, line);
		goto out;
	}
	if (bk_name_check("collection", v[COL_COLLECTION], &err) ||
	    (v[COL_TITLE] && bk_text_check("title", v[COL_TITLE], BK_TITLE_MAX, &err))) {
		rc = problem(m, "'%s' line %d: %s", name, line, err.msg);
		goto out;
	}
	if (v[COL_DATE] && !bk_date_valid(v[COL_DATE])) {
		rc = problem(m, "'%s' line %d: invalid date '%s' (YYYY, YYYY-MM or YYYY-MM-DD)",
			     name, line, v[COL_DATE]);
		goto out;
	}
	for (int c = COL_BOX; c <= COL_VOLUME; c++) {
		char *end;
		long n;
		if (!v[c])
			continue;
		errno = 0;
		n = strtol(v[c], &end, 10);
		if (errno || *end || end == v[c] || n < 1 || n > 1000000000) {
			rc = problem(m, "'%s' line %d: %s needs a positive number, not '%s'", name,
				     line, column_names[c], v[c]);
			goto out;
		}
		*(c == COL_BOX ? &r.meta.box : &r.meta.volume) = (int)n;
	}
	if (v[COL_ACCESS] && bk_access_parse(v[COL_ACCESS]) < 0) {
		rc = problem(m, "'%s' line %d: unknown access level '%s' (public, restricted, "
			     "confidential)", name, line, v[COL_ACCESS]);
		goto out;
	}
	if (v[COL_PROFILE] && bk_profile_parse(v[COL_PROFILE]) < 0) {
		rc = problem(m, "'%s' line %d: unknown profile '%s' (record, bylaw, ukiyoe, map)",
			     name, line, v[COL_PROFILE]);
		goto out;
	}
	if (v[COL_LANG] && !bk_lang_valid(v[COL_LANG])) {
		rc = problem(m, "'%s' line %d: invalid language '%s'", name, line, v[COL_LANG]);
		goto out;
	}
	if (v[COL_ACCESS])
		r.meta.access = bk_access_parse(v[COL_ACCESS]);
	if (v[COL_PROFILE])
		r.meta.profile = bk_profile_parse(v[COL_PROFILE]);
	if (!(r.meta.collection = strdup(v[COL_COLLECTION])) ||
	    (v[COL_TITLE] && !(r.meta.title = strdup(v[COL_TITLE]))) ||
	    (v[COL_DATE] && !(r.meta.date = strdup(v[COL_DATE]))) ||
	    (v[COL_LANG] && !(r.meta.lang = strdup(v[COL_LANG]))))
		goto out;
	if (row_files(m, &r, name, dir, v[COL_FILES]) || check_files(m, &r, name))
		goto out;
	if ((int)m->nproblems > before) {
		rc = 0;
		goto out;
	}
	if (!(r.meta.key = row_key(&r)))
		goto out;
	for (size_t i = 0; i < m->nrows; i++)
		if (!strcmp(m->rows[i].meta.key, r.meta.key)) {
			rc = problem(m, "'%s' line %d: the same volume as line %d", name, line,
				     m->rows[i].line);
			goto out;
		}
	struct bk_manifest_row *nv = realloc(m->rows, (m->nrows + 1) * sizeof(*nv));
	if (!nv)
		goto out;
	m->rows = nv;
	m->rows[m->nrows++] = r;
	return 0;
out:
	row_release(&r);
	return rc;
}

int bk_manifest_read(struct bk_manifest *m, const char *path, struct bk_error *err)
{
	char *data = NULL, *dir = NULL, **f = NULL;
	const char *name = base(path);
	size_t len = 0;
	int col[64], ncols = 0, nf, line, rc = -1;

	bk_manifest_init(m);
	if (bk_read_file(path, &data, &len, err))
		return -1;
	const char *slash = strrchr(path, '/');
	dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (!dir) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (!bk_utf8_valid(data, len)) {
		rc = problem(m, "'%s': not UTF-8 text", name) ? bk_error_set(err, "out of memory") : 0;
		goto out;
	}
	struct csv c = { data, data + len, 1 };
	nf = csv_record(&c, &f, &line);
	if (nf <= 0 || nf > 64) {
		rc = problem(m, "'%s' line 1: no header (files,collection,...)", name) ? -1 : 0;
		goto out;
	}
	bool seen[NCOLS] = { false };
	for (int i = 0; i < nf; i++) {
		char *h = f[i];
		while (*h == ' ')
			h++;
		for (char *p = h; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		col[i] = -1;
		for (int k = 0; k < NCOLS; k++)
			if (!strcmp(h, column_names[k]))
				col[i] = k;
		if (col[i] < 0 || seen[col[i]]) {
			if (problem(m, "'%s' line 1: %s column '%s'", name,
				    col[i] < 0 ? "unknown" : "repeated", h))
				goto oom;
			continue;
		}
		seen[col[i]] = true;
	}
	ncols = nf;
	if ((!seen[COL_FILES] || !seen[COL_COLLECTION]) &&
	    problem(m, "'%s' line 1: the header needs files and collection", name))
		goto oom;
	free_fields(f, nf);
	f = NULL;
	if (m->nproblems) {
		rc = 0;
		goto out;
	}
	while ((nf = csv_record(&c, &f, &line)) != 0) {
		if (nf == -2) {
			if (problem(m, "'%s' line %d: a quote is not closed", name, line))
				goto oom;
			break;
		}
		if (nf < 0)
			goto oom;
		bool blank = nf == 1 && !f[0][0];
		if (!blank && take_row(m, name, dir, line, f, nf, col, ncols))
			goto oom;
		free_fields(f, nf);
		f = NULL;
	}
	if (m->nrows == 0 && m->nproblems == 0 && problem(m, "'%s': no volumes", name))
		goto oom;
	rc = 0;
	goto out;
oom:
	bk_error_set(err, "out of memory reading '%s'", path);
	rc = -1;
out:
	free_fields(f, f ? nf : 0);
	free(data);
	free(dir);
	return rc;
}

/* ---- queueing ------------------------------------------------------------- */

struct keys {
	char **v;
	size_t n;
};

static int collect_key(enum bk_job_state state, const char *job_id, const char *dir,
		       const char *owner, void *ud)
{
	struct keys *k = ud;
	struct bk_job_meta jm;
	char *path = NULL;
	(void)state;
	(void)job_id;
	(void)owner;
	if (!(path = bk_path_join(dir, "job.meta")))
		return -1;
	if (bk_job_meta_read(&jm, path, NULL) == 0 && jm.key) {
		char **nv = realloc(k->v, (k->n + 1) * sizeof(*nv));
		if (nv) {
			k->v = nv;
			k->v[k->n++] = jm.key;
			jm.key = NULL;
		}
	}
	bk_job_meta_release(&jm);
	free(path);
	return 0;
}

/* Rows queued per batch: one filesystem sync each, and the first jobs
 * reach the workers while later rows are being built. */
#define ROWS_PER_BATCH 256

/* Commits the batch and reports its jobs (row i0 onwards, the rows not
 * skipped, in order). */
static int commit_batch(struct bk_queue *q, struct bk_queue_batch *b, struct bk_manifest *m,
			const bool *in_batch, size_t i0, size_t i1,
			void (*queued)(void *ud, const char *job_id, int line), void *ud,
			struct bk_error *err)
{
	int rc = bk_queue_batch_commit(q, b, err);
	size_t k = 0;
	for (size_t i = i0; i < i1 && k < b->done; i++)
		if (in_batch[i - i0]) {
			if (queued)
				queued(ud, b->ids[k], m->rows[i].line);
			k++;
		}
	bk_queue_batch_release(b);
	return rc;
}

int bk_manifest_queue(struct bk_queue *q, struct bk_manifest *m,
		      void (*queued)(void *ud, const char *job_id, int line), void *ud,
		      size_t *skipped, struct bk_error *err)
{
	struct keys keys = { 0 };
	struct bk_queue_batch batch;
	bool in_batch[ROWS_PER_BATCH];
	size_t first = 0;
	int rc = -1;

	bk_queue_batch_init(&batch);
	*skipped = 0;
	if (bk_queue_foreach(q, collect_key, &keys, err))
		goto out;
	qsort(keys.v, keys.n, sizeof(*keys.v), cmp_str);
	for (size_t i = 0; i < m->nrows; i++) {
		struct bk_manifest_row *r = &m->rows[i];
		in_batch[i - first] = false;
		if (keys.n && bsearch(&r->meta.key, keys.v, keys.n, sizeof(*keys.v), cmp_str)) {
			(*skipped)++;
		} else {
			r->meta.pages = 0;
			for (size_t k = 0; k < r->npaths; k++)
				r->meta.pages += bk_input_pages(r->paths[k]);
			if (bk_queue_batch_add(q, &batch, &r->meta, (const char *const *)r->paths,
					       r->npaths, err)) {
				struct bk_error inner = *err;
				bk_error_set(err, "line %d: %s", r->line, inner.msg);
				/* the rows before it are queued, as they would be one by one */
				commit_batch(q, &batch, m, in_batch, first, i, queued, ud, NULL);
				goto out;
			}
			in_batch[i - first] = true;
		}
		if (i + 1 - first == ROWS_PER_BATCH || i + 1 == m->nrows) {
			if (commit_batch(q, &batch, m, in_batch, first, i + 1, queued, ud, err))
				goto out;
			first = i + 1;
		}
	}
	rc = 0;
out:
	bk_queue_batch_release(&batch);
	for (size_t i = 0; i < keys.n; i++)
		free(keys.v[i]);
	free(keys.v);
	return rc;
}
