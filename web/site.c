/*
 * web/site.c — the site: the reader pool, the routes, the access check of
 * documents and the files sent from the store (see web.h).
 *
 * Routes (GET and HEAD; IDs percent-encoded in links):
 *   /                          the search form
 *   /search?q=&collection=&p=&from=&to=   results (web/pages.c)
 *   /doc/ID                    redirect to /doc/ID/page/1 (q kept)
 *   /doc/ID/page/N?q=          the page view (web/pages.c)
 *   /doc/ID/page/N/image       the page as PNG, BK_WEB_IMAGE_WIDTH wide
 *   /doc/ID/pdf, /doc/ID/text, /doc/ID/alto   downloads from the bag
 *   /static/bunko.css          the stylesheet
 *   /static/openseadragon.min.js, /static/viewer.js   the page viewer's
 *                              scripts (web/static.c)
 *   /doc/ID/page/N/thumb       the page as a JPEG thumbnail, 150 wide
 *   /iiif/ID/manifest, /iiif/ID/N/info.json, tiles, lines, search
 *                              IIIF (web/iiif.c)
 *   /login (GET: the form; POST: name, password, csrf), /logout (POST: csrf)
 *                              staff sessions (web/auth.h)
 * Everything else, and every document the role may not see, is the same
 * 404 page.
 *
 * The pool: read-only index handles per role (SQLite connections are not
 * shared between threads), the public ones opened by bk_web_open, staff
 * and admin ones at their first use; a request that needs the index takes
 * a free one of its role at its first use (bk_web_index) and keeps it
 * until it is answered. libmicrohttpd gives each connection its own
 * thread (web/http.c), so a connection never waits for another's
 * request; what is bounded is the work: searches are computed by the
 * site's `readers` search threads (bk_web_compute), one each at a time,
 * in the order asked, and the pool holds BK_WEB_SPARE_READERS more
 * readers than that, so that opening a document or checking a tile does
 * not wait behind searches. The connections' threads run at a lower
 * priority than the search threads (web/http.c): a search being computed
 * is what its visitor waits longest for, and under load it is not slowed
 * by the cheap answers (cached pages, tiles) that every other connection
 * keeps asking for.
 */
#include "web/web.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "archive/store.h"
#include "bunko/fs.h"
#include "web/auth.h"
#include "web/cache.h"
#include "web/html.h"
#include "web/render.h"
#include "web/site.h"
#include "web/tiles.h"

/* Readers beyond the search threads': a document, a tile's access check or
 * a login takes one for a moment and should not wait behind searches. */
#define BK_WEB_SPARE_READERS 4

struct bk_web_reader {
	struct bk_index *idx;
	bool busy;
};

/* A computation handed to the search threads: on the asking thread's
 * stack while it waits. */
struct search_job {
	void (*fn)(void *);
	void *arg;
	bool done;
	struct search_job *next;
};

struct bk_web {
	char *archive, *index_dir;
	pthread_mutex_t lock;
	pthread_cond_t freed;       /* a reader was given back */
	struct bk_web_reader *readers[BK_ROLE_COUNT]; /* per role; staff and admin opened when first asked */
	int nreaders;
	int search_slots;           /* search threads */
	pthread_t *searchers;
	int nsearchers;             /* started */
	struct search_job *jobs, *last_job; /* waiting, first asked first */
	pthread_cond_t job_ready, job_done;
	bool stopping;
	struct bk_sessions *sessions;
	struct bk_tiles *tiles;
	FILE *audit;
	const struct bk_web_queue_ops *queue;
	struct bk_web_cache *cache;
};

void bk_web_response_release(struct bk_web_response *r)
{
	bk_buf_release(&r->body);
	free(r->file);
	free(r->download_name);
	free(r->location);
	free(r->set_cookie[0]);
	free(r->set_cookie[1]);
	memset(r, 0, sizeof(*r));
}

/* A search thread: runs the jobs asked of bk_web_compute, first asked
 * first, until bk_web_free (a job already asked is still run). */
static void *searcher(void *arg)
{
	struct bk_web *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->jobs && !w->stopping)
			pthread_cond_wait(&w->job_ready, &w->lock);
		struct search_job *job = w->jobs;
		if (!job)
			break;
		if (!(w->jobs = job->next))
			w->last_job = NULL;
		pthread_mutex_unlock(&w->lock);
		job->fn(job->arg);
		pthread_mutex_lock(&w->lock);
		job->done = true;
		pthread_cond_broadcast(&w->job_done);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int bk_web_open(struct bk_web **out, const struct bk_web_options *o, struct bk_error *err)
{
	struct bk_web *w = NULL;
	int rc = -1;

	*out = NULL;
	if (bk_archive_check(o->archive, err))
		return -1;
	if (!(w = calloc(1, sizeof(*w))) || !(w->archive = strdup(o->archive)) ||
	    !(w->index_dir = bk_path_join(o->archive, "index"))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->freed, NULL);
	pthread_cond_init(&w->job_ready, NULL);
	pthread_cond_init(&w->job_done, NULL);
	w->search_slots = o->readers > 0 ? o->readers : 1;
	w->nreaders = w->search_slots + BK_WEB_SPARE_READERS;
	w->audit = o->audit;
	w->queue = o->queue;
	for (int r = 0; r < BK_ROLE_COUNT; r++)
		if (!(w->readers[r] = calloc((size_t)w->nreaders, sizeof(struct bk_web_reader)))) {
			bk_error_set(err, "out of memory");
			goto out;
		}
	if (bk_sessions_new(&w->sessions, err) || bk_web_cache_new(&w->cache, BK_WEB_CACHE_ENTRIES, err))
		goto out;
	char *tiles = NULL;
	if (!o->tiles && !(tiles = bk_path_join(o->archive, "tiles"))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	int trc = bk_tiles_new(&w->tiles, o->tiles ? o->tiles : tiles, err);
	free(tiles);
	if (trc)
		goto out;
	/* the public readers at once: an archive without a readable index
	 * fails here, not at the first visitor */
	for (int i = 0; i < w->nreaders; i++)
		if (bk_index_open(&w->readers[BK_ROLE_PUBLIC][i].idx, w->index_dir, BK_ROLE_PUBLIC, false, err))
			goto out;
	if (!(w->searchers = calloc((size_t)w->search_slots, sizeof(*w->searchers)))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	for (; w->nsearchers < w->search_slots; w->nsearchers++)
		if ((errno = pthread_create(&w->searchers[w->nsearchers], NULL, searcher, w))) {
			bk_error_set(err, "cannot start a search thread: %s", strerror(errno));
			goto out;
		}
	*out = w;
	w = NULL;
	rc = 0;
out:
	bk_web_free(&w);
	return rc;
}

void bk_web_free(struct bk_web **w)
{
	if (!w || !*w)
		return;
	if ((*w)->nsearchers) {
		pthread_mutex_lock(&(*w)->lock);
		(*w)->stopping = true;
		pthread_cond_broadcast(&(*w)->job_ready);
		pthread_mutex_unlock(&(*w)->lock);
		for (int i = 0; i < (*w)->nsearchers; i++)
			pthread_join((*w)->searchers[i], NULL);
	}
	free((*w)->searchers);
	for (int r = 0; r < BK_ROLE_COUNT; r++) {
		for (int i = 0; (*w)->readers[r] && i < (*w)->nreaders; i++)
			bk_index_free(&(*w)->readers[r][i].idx);
		free((*w)->readers[r]);
	}
	if ((*w)->archive) {
		pthread_mutex_destroy(&(*w)->lock);
		pthread_cond_destroy(&(*w)->freed);
		pthread_cond_destroy(&(*w)->job_ready);
		pthread_cond_destroy(&(*w)->job_done);
	}
	bk_sessions_free(&(*w)->sessions);
	bk_tiles_free(&(*w)->tiles);
	bk_web_cache_free(&(*w)->cache);
	free((*w)->index_dir);
	free((*w)->archive);
	free(*w);
	*w = NULL;
}

/* A free reader of `role`, opened if it is the first use of its slot;
 * NULL with err set when its index files cannot be opened (the server's
 * user may not read the restricted or confidential level). */
static struct bk_web_reader *take_reader(struct bk_web *w, enum bk_role role, struct bk_error *err)
{
	struct bk_web_reader *r = NULL, *set = w->readers[role];
	pthread_mutex_lock(&w->lock);
	while (!r) {
		for (int i = 0; i < w->nreaders && !r; i++)
			if (!set[i].busy)
				r = &set[i];
		if (!r)
			pthread_cond_wait(&w->freed, &w->lock);
	}
	r->busy = true;
	pthread_mutex_unlock(&w->lock);
	if (!r->idx && bk_index_open(&r->idx, w->index_dir, role, false, err)) {
		pthread_mutex_lock(&w->lock);
		r->busy = false;
		pthread_cond_signal(&w->freed);
		pthread_mutex_unlock(&w->lock);
		return NULL;
	}
	return r;
}

static void give_reader(struct bk_web *w, struct bk_web_reader *r)
{
	pthread_mutex_lock(&w->lock);
	r->busy = false;
	pthread_cond_broadcast(&w->freed);
	pthread_mutex_unlock(&w->lock);
}

struct bk_index *bk_web_index(struct bk_web_ctx *c, struct bk_error *err)
{
	if (!c->reader)
		c->reader = take_reader(c->w, c->role, err);
	return c->reader ? c->reader->idx : NULL;
}

void bk_web_index_version(const struct bk_web_ctx *c, char *out, size_t n)
{
	bk_index_dir_version(c->w->index_dir, c->role, out, n);
}

void bk_web_compute(struct bk_web_ctx *c, void (*fn)(void *), void *arg)
{
	struct bk_web *w = c->w;
	struct search_job job = { fn, arg, false, NULL };
	pthread_mutex_lock(&w->lock);
	if (w->last_job)
		w->last_job->next = &job;
	else
		w->jobs = &job;
	w->last_job = &job;
	pthread_cond_signal(&w->job_ready);
	while (!job.done)
		pthread_cond_wait(&w->job_done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

const char *bk_web_arg(const struct bk_web_request *req, const char *name)
{
	for (int i = 0; i < req->nargs; i++)
		if (!strcmp(req->args[i].name, name))
			return req->args[i].value;
	return NULL;
}

void bk_web_error_page(struct bk_web_response *r, int status, const char *title, const char *message)
{
	struct bk_html_frame f = { (enum bk_lang)r->lang, NULL, NULL, false, NULL, 0 };
	bk_buf_reset(&r->body);
	r->status = status;
	r->type = "text/html; charset=utf-8";
	bk_html_begin_frame(&r->body, &f, title, NULL);
	bk_buf_addstr(&r->body, "<h1>");
	bk_html_text(&r->body, title, (size_t)-1);
	bk_buf_addstr(&r->body, "</h1>\n<p class=\"error\">");
	bk_html_text(&r->body, message, (size_t)-1);
	bk_buf_addstr(&r->body, "</p>\n");
	bk_html_end(&r->body);
}

void bk_web_error_msg(struct bk_web_response *r, int status, enum bk_msg title, enum bk_msg message)
{
	enum bk_lang l = (enum bk_lang)r->lang;
	bk_web_error_page(r, status, bk_msg(l, title), bk_msg(l, message));
}

void bk_web_not_found(struct bk_web_response *r)
{
	bk_web_error_msg(r, 404, M_NOT_FOUND, M_NOT_FOUND_TEXT);
}

struct bk_html_frame bk_web_frame(const struct bk_web_ctx *c)
{
	struct bk_html_frame f = { c->lang, c->user, c->csrf, c->user && c->role >= BK_ROLE_STAFF && c->queue,
				   c->req, 0 };
	return f;
}

/* ---- documents ------------------------------------------------------------- */

/* The path as one line of the audit log: bytes outside printable ASCII
 * percent-encoded, so a request cannot forge or break a line. */
static void audit_path(FILE *fp, const char *path)
{
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p > 0x20 && *p < 0x7f && *p != '%')
			fputc(*p, fp);
		else
			fprintf(fp, "%%%02X", *p);
	fputc('\n', fp);
}

void bk_web_doc_release(struct bk_web_doc *d)
{
	bk_index_doc_info_release(&d->info);
	bk_doc_meta_release(&d->meta);
	free(d->dir);
	memset(d, 0, sizeof(*d));
}

struct bk_tiles *bk_web_tiles(const struct bk_web_ctx *c)
{
	return c->w->tiles;
}

char *bk_web_doc_file(const struct bk_web_doc *d, const char *rel)
{
	return bk_path_join(d->dir, rel);
}

int bk_web_doc_find(struct bk_web_ctx *c, const char *id, struct bk_web_doc *d, struct bk_error *err)
{
	struct bk_error ignored;
	char *info_path = NULL, *text = NULL;
	int rc = 0;
	FILE *fp = NULL;

	memset(d, 0, sizeof(*d));
	bk_doc_meta_init(&d->meta);
	bk_error_init(&ignored);
	if (bk_name_check("document id", id, &ignored))
		goto out;
	struct bk_index *idx = bk_web_index(c, err);
	int found = idx ? bk_index_doc_get(idx, id, &d->info, err) : -1;
	if (found <= 0) {
		rc = found;
		goto out;
	}
	if (d->info.access > bk_role_max_access(c->role) ||
	    bk_name_check("collection", d->info.collection, &ignored))
		goto out;
	if (asprintf(&d->dir, "%s/store/%s/%s", c->archive, d->info.collection, id) < 0) {
		d->dir = NULL;
		rc = bk_error_set(err, "out of memory");
		goto out;
	}
	if (!(info_path = bk_path_join(d->dir, "bag-info.txt"))) {
		rc = bk_error_set(err, "out of memory");
		goto out;
	}
	/* the bag says its level too: both must allow the role */
	size_t len = 0, cap = 0;
	if (!(fp = fopen(info_path, "re")) || getdelim(&text, &cap, '\0', fp) < 0)
		goto out;
	len = strlen(text);
	if (bk_meta_parse(text, len, info_path, &d->meta, &ignored) ||
	    d->meta.access > bk_role_max_access(c->role) || d->meta.access != d->info.access)
		goto out;
	rc = 1;
	if (d->info.access > BK_ACCESS_PUBLIC && c->audit) {
		char when[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
		/* one write per line, flushed: lines of several threads never mix */
		flockfile(c->audit);
		fprintf(c->audit, "%s %s %s %s %s ", when, c->user ? c->user : "-", bk_role_name(c->role),
			bk_access_name(d->info.access), d->info.id);
		audit_path(c->audit, c->req->path);
		fflush(c->audit);
		funlockfile(c->audit);
	}
out:
	if (fp)
		fclose(fp);
	free(text);
	free(info_path);
	if (rc != 1)
		bk_web_doc_release(d);
	return rc;
}

int bk_web_read_page(const struct bk_web_doc *d, int page, struct bk_page *p, struct bk_error *err)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "data/pages/%04d.page", page);
	char *path = bk_web_doc_file(d, rel);
	FILE *fp = path ? fopen(path, "re") : NULL;
	int rc = -1;

	bk_page_init(p);
	if (!path)
		bk_error_set(err, "out of memory");
	else if (!fp)
		bk_error_set(err, "cannot open '%s': %s", path, strerror(errno));
	else
		rc = bk_page_read(p, fp, path, err);
	if (fp)
		fclose(fp);
	free(path);
	return rc;
}

/* ---- routes ----------------------------------------------------------------- */

static const char stylesheet[] =
	"body{font-family:\"IPAexGothic\",\"Noto Sans JP\",sans-serif;margin:0;color:#222;background:#fafaf7}\n"
	"header{display:flex;gap:1em;align-items:center;padding:.6em 1em;background:#2b3a4a;color:#fff}\n"
	"header a.home{color:#fff;font-weight:bold;text-decoration:none}\n"
	"form.search input{font-size:1em;width:20em}\n"
	"main{padding:1em;max-width:90em}\n"
	"mark{background:#ffe066;color:inherit}\n"
	".results li{margin:.8em 0;overflow:hidden}.meta{color:#666;font-size:.9em}\n"
	".results img.thumb{float:left;width:5em;height:auto;margin:0 .8em .4em 0;border:1px solid #ccc;background:#fff}\n"
	".kwic{margin:.2em 0}\n"
	".facets-box{float:right;width:16em;border-left:1px solid #ccc;padding-left:1em}\n"
	".viewer{display:flex;gap:1.5em;align-items:flex-start;flex-wrap:wrap}\n"
	".viewer figure{margin:0;flex:1 1 40em;max-width:60em}\n"
	".viewer svg{width:100%;height:auto;border:1px solid #ccc;background:#fff}\n"
	"rect.hit{fill:rgba(255,200,0,.25);stroke:#e03000;stroke-width:3px;vector-effect:non-scaling-stroke}\n"
	".pagetext{flex:1 1 20em;white-space:pre-wrap;line-height:1.8}\n"
	".pagetext.vertical{writing-mode:vertical-rl;max-height:40em;overflow-x:auto}\n"
	"nav.pager a,nav.pager span{margin-right:.8em}\n"
	".error{color:#a00}\n"
	"header a,header label{color:#fff}\n"
	"a.skip{position:absolute;left:-10000px;top:0;background:#fff;color:#000;padding:.4em}\n"
	"a.skip:focus{left:1em}\n"
	":focus-visible{outline:3px solid #e03000;outline-offset:2px}\n"
	".facets h3{font-size:1em;margin:1em 0 .3em}.facets ul{list-style:none;padding:0;margin:0}\n"
	"form.refine fieldset{border:1px solid #ccc;margin:.6em 0;padding:.4em .8em}\n"
	"form.refine input{width:7em}\n"
	"table.queue{border-collapse:collapse}table.queue td,table.queue th{border:1px solid #ccc;padding:.2em .5em;text-align:left}\n"
	"progress{width:12em}\n";

bool bk_web_doc_at(struct bk_web_ctx *c, const char *path, const char *prefix,
		   struct bk_web_doc *d, const char **rest, struct bk_web_response *r)
{
	char id[BK_NAME_MAX + 1];
	struct bk_error err;
	int found = 0;

	bk_error_init(&err);
	if (bk_web_split_id(path, prefix, id, sizeof(id), rest))
		found = bk_web_doc_find(c, id, d, &err);
	if (found < 0)
		bk_web_error_page(r, 500, "エラー", err.msg);
	else if (!found)
		bk_web_not_found(r);
	return found > 0;
}

bool bk_web_split_id(const char *path, const char *prefix, char *id, size_t idsz, const char **rest)
{
	size_t plen = strlen(prefix);
	const char *p = path + plen, *slash;
	if (strncmp(path, prefix, plen))
		return false;
	slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : strlen(p);
	if (!n || n >= idsz)
		return false;
	memcpy(id, p, n);
	id[n] = '\0';
	*rest = slash ? slash : "";
	return true;
}

bool bk_web_parse_page(const char *s, int *out, const char **after)
{
	char *end;
	if (*s < '1' || *s > '9')
		return false;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || v < 1 || v > 65535)
		return false;
	*out = (int)v;
	*after = end;
	return true;
}

static void send_file(const struct bk_web_doc *d, const char *rel, const char *type, const char *name,
		      struct bk_web_response *r)
{
	char *path = bk_web_doc_file(d, rel);
	struct stat st;
	if (!path || stat(path, &st) || !S_ISREG(st.st_mode)) {
		free(path);
		bk_web_not_found(r);
		return;
	}
	r->status = 200;
	r->type = type;
	r->file = path;
	r->cache = d->info.access == BK_ACCESS_PUBLIC ? "private, max-age=300" : NULL;
	if (name && asprintf(&r->download_name, "%s%s", d->info.id, name) < 0)
		r->download_name = NULL;
}

void bk_web_page_image(const struct bk_web_doc *d, int page, int width, int height, int format,
		       struct bk_web_response *r)
{
	struct bk_error err;
	char *pdf = bk_web_doc_file(d, "data/document.pdf");

	bk_error_init(&err);
	if (!pdf || page > d->info.npages ||
	    bk_render_page(pdf, page, width, height, (enum bk_image_format)format, &r->body, &err)) {
		free(pdf);
		bk_buf_reset(&r->body);
		bk_web_not_found(r);
		return;
	}
	free(pdf);
	r->status = 200;
	r->type = format == BK_IMAGE_JPEG ? "image/jpeg" : "image/png";
	r->cache = d->info.access == BK_ACCESS_PUBLIC ? "private, max-age=300" : NULL;
}

/* The page image `width` wide (or the page's width if less), of the page
 * model's proportions: the viewer's (BK_WEB_IMAGE_WIDTH, PNG) or a
 * thumbnail's (BK_WEB_THUMB_WIDTH, JPEG). */
static void scaled_image(const struct bk_web_doc *d, int page, int width, int format,
			 struct bk_web_response *r)
{
	struct bk_page m;
	struct bk_error err;

	bk_error_init(&err);
	if (bk_web_read_page(d, page, &m, &err) || m.width < 1 || m.height < 1) {
		bk_page_release(&m);
		bk_web_not_found(r);
		return;
	}
	int w = m.width < width ? m.width : width;
	int h = (int)((long)m.height * w / m.width);
	bk_page_release(&m);
	bk_web_page_image(d, page, w, h > 0 ? h : 1, format, r);
}

static void doc_route(struct bk_web_ctx *c, const char *path, struct bk_web_response *r)
{
	const char *rest, *after;
	struct bk_web_doc d;
	int page;

	if (!bk_web_doc_at(c, path, "/doc/", &d, &rest, r))
		return;
	if (!*rest || !strcmp(rest, "/")) {
		struct bk_buf loc = { 0 };
		const char *q = bk_web_arg(c->req, "q");
		bk_buf_addstr(&loc, "/doc/");
		bk_url_component(&loc, d.info.id);
		bk_buf_addstr(&loc, "/page/1");
		if (q && *q) {
			bk_buf_addstr(&loc, "?q=");
			bk_url_component(&loc, q);
		}
		r->location = bk_buf_detach(&loc, NULL);
		bk_web_error_page(r, 302, "移動", "1ページ目へ移動します。");
		r->status = 302;
	} else if (!strcmp(rest, "/pdf"))
		send_file(&d, "data/document.pdf", "application/pdf", ".pdf", r);
	else if (!strcmp(rest, "/text"))
		send_file(&d, "data/text.txt", "text/plain; charset=utf-8", ".txt", r);
	else if (!strcmp(rest, "/alto"))
		send_file(&d, "data/document.alto.xml", "application/xml", ".alto.xml", r);
	else if (!strncmp(rest, "/page/", 6) && bk_web_parse_page(rest + 6, &page, &after) &&
		 page <= d.info.npages) {
		if (!*after)
			bk_web_page_view(c, &d, page, r);
		else if (!strcmp(after, "/image"))
			scaled_image(&d, page, BK_WEB_IMAGE_WIDTH, BK_IMAGE_PNG, r);
		else if (!strcmp(after, "/thumb"))
			scaled_image(&d, page, BK_WEB_THUMB_WIDTH, BK_IMAGE_JPEG, r);
		else
			bk_web_not_found(r);
	} else
		bk_web_not_found(r);
	bk_web_doc_release(&d);
}

/* ---- login -------------------------------------------------------------------- */

const char *bk_web_form_arg(const struct bk_web_request *req, const char *name)
{
	for (int i = 0; i < req->nform; i++)
		if (!strcmp(req->form[i].name, name))
			return req->form[i].value;
	return NULL;
}

static void login_form(struct bk_web_ctx *c, struct bk_web_response *r, int status, const char *message)
{
	char csrf[BK_AUTH_TOKEN_HEX];
	bk_auth_random_hex(csrf, 32);
	bk_buf_reset(&r->body);
	r->status = status;
	r->type = "text/html; charset=utf-8";
	/* the form's token is also a cookie: a POST from another site carries
	 * the cookie but cannot read it to put it in the form */
	if (asprintf(&r->set_cookie[0], "bunko_csrf=%s; Path=/login; HttpOnly; SameSite=Strict%s", csrf,
		     c->req->https ? "; Secure" : "") < 0)
		r->set_cookie[0] = NULL;
	struct bk_html_frame f = bk_web_frame(c);
	enum bk_lang l = c->lang;
	bk_html_begin_frame(&r->body, &f, bk_msg(l, M_LOGIN), NULL);
	bk_buf_addstr(&r->body, "<h1>");
	bk_msg_html(&r->body, l, M_LOGIN_HEADING, NULL);
	bk_buf_addstr(&r->body, "</h1>\n");
	if (message) {
		bk_buf_addstr(&r->body, "<p class=\"error\" role=\"alert\">");
		bk_html_text(&r->body, message, (size_t)-1);
		bk_buf_addstr(&r->body, "</p>\n");
	}
	bk_buf_addf(&r->body, "<form class=\"login\" action=\"/login\" method=\"post\">\n"
			      "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n<p><label for=\"name\">", csrf);
	bk_msg_html(&r->body, l, M_USER_NAME, NULL);
	bk_buf_addstr(&r->body, "</label> <input id=\"name\" name=\"name\" autocomplete=\"username\" required></p>\n"
				"<p><label for=\"password\">");
	bk_msg_html(&r->body, l, M_PASSWORD, NULL);
	bk_buf_addstr(&r->body, "</label> <input id=\"password\" name=\"password\" type=\"password\" "
				"autocomplete=\"current-password\" required></p>\n<p><button type=\"submit\">");
	bk_msg_html(&r->body, l, M_LOGIN_BUTTON, NULL);
	bk_buf_addstr(&r->body, "</button></p>\n</form>\n");
	bk_html_end(&r->body);
}

static void redirect_home(struct bk_web_response *r)
{
	r->location = strdup("/");
	bk_web_error_page(r, 303, "移動", "トップページへ移動します。");
	r->status = 303;
}

static void login(struct bk_web_ctx *c, struct bk_web_response *r)
{
	const char *csrf = bk_web_form_arg(c->req, "csrf"), *name = bk_web_form_arg(c->req, "name");
	const char *password = bk_web_form_arg(c->req, "password");
	char token[BK_AUTH_TOKEN_HEX], session_csrf[BK_AUTH_TOKEN_HEX];
	enum bk_role role = BK_ROLE_PUBLIC;
	struct bk_error err;

	bk_error_init(&err);
	if (strcmp(c->req->method, "POST")) {
		login_form(c, r, 200, NULL);
		return;
	}
	if (!csrf || !c->req->csrf_cookie || !bk_auth_equal(csrf, c->req->csrf_cookie)) {
		bk_web_error_page(r, 403, "ログインできません", "フォームの有効期限が切れています。もう一度ログインしてください。");
		return;
	}
	if (!bk_sessions_may_try(c->w_sessions, c->req->client)) {
		login_form(c, r, 429, bk_msg(c->lang, M_LOGIN_LIMITED));
		return;
	}
	int ok = name && password ? bk_auth_check(c->archive, name, password, &role, &err) : 0;
	if (ok < 0) {
		bk_web_error_page(r, 500, "エラー", err.msg);
		return;
	}
	if (!ok) {
		bk_sessions_failed(c->w_sessions, c->req->client);
		login_form(c, r, 401, bk_msg(c->lang, M_LOGIN_WRONG));
		return;
	}
	bk_sessions_start(c->w_sessions, name, role, token, session_csrf, &err);
	if (asprintf(&r->set_cookie[0], "bunko_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
		     token, BK_AUTH_SESSION_S, c->req->https ? "; Secure" : "") < 0)
		r->set_cookie[0] = NULL;
	if (asprintf(&r->set_cookie[1], "bunko_csrf=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0") < 0)
		r->set_cookie[1] = NULL;
	redirect_home(r);
}

static void logout(struct bk_web_ctx *c, struct bk_web_response *r)
{
	const char *csrf = bk_web_form_arg(c->req, "csrf");
	if (strcmp(c->req->method, "POST") || !c->user || !csrf || !bk_auth_equal(csrf, c->csrf)) {
		bk_web_error_page(r, 403, "ログアウトできません", "ログアウトはこのサイトのボタンから行ってください。");
		return;
	}
	bk_sessions_end(c->w_sessions, c->req->session_cookie);
	if (asprintf(&r->set_cookie[0], "bunko_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0") < 0)
		r->set_cookie[0] = NULL;
	redirect_home(r);
}

/* A language chosen with ?lang= is kept in a cookie for the pages that
 * follow (a free Set-Cookie slot; a response that uses both, a login,
 * does not change the language). */
static void remember_lang(const struct bk_web_request *req, int asked, struct bk_web_response *r)
{
	int slot = !r->set_cookie[0] ? 0 : !r->set_cookie[1] ? 1 : -1;
	if (asked < 0 || slot < 0 || (req->lang_cookie && bk_lang_parse(req->lang_cookie) == asked))
		return;
	if (asprintf(&r->set_cookie[slot], "bunko_lang=%s; Path=/; Max-Age=31536000; SameSite=Lax%s",
		     bk_lang_code((enum bk_lang)asked), req->https ? "; Secure" : "") < 0)
		r->set_cookie[slot] = NULL;
}

void bk_web_handle(struct bk_web *w, const struct bk_web_request *req, struct bk_web_response *resp)
{
	struct bk_web_ctx c = { .w = w, .archive = w->archive, .req = req, .role = BK_ROLE_PUBLIC,
				.w_sessions = w->sessions, .audit = w->audit, .lang = BK_LANG_JA,
				.queue = w->queue, .cache = w->cache };
	const char *path = req->path;
	char user[BK_AUTH_NAME_MAX + 1], csrf[BK_AUTH_TOKEN_HEX];

	memset(resp, 0, sizeof(*resp));
	int asked = bk_lang_parse(bk_web_arg(req, "lang")), kept = bk_lang_parse(req->lang_cookie);
	c.lang = asked >= 0 ? (enum bk_lang)asked : kept >= 0 ? (enum bk_lang)kept : BK_LANG_JA;
	resp->lang = (int)c.lang;
	if (req->session_cookie && bk_sessions_find(w->sessions, req->session_cookie, user, &c.role, csrf)) {
		c.user = user;
		c.csrf = csrf;
	}
	bool post = !strcmp(req->method, "POST");
	if (!bk_utf8_clean(path))
		bk_web_error_page(resp, 400, "不正な要求", "URL の文字が正しくありません。");
	else if (!strcmp(path, "/login"))
		login(&c, resp);
	else if (!strcmp(path, "/logout"))
		logout(&c, resp);
	else if (!strcmp(path, "/queue/requeue"))
		bk_web_requeue(&c, resp);
	else if (post)
		bk_web_error_page(resp, 405, "不正な要求", "この URL には送信できません。");
	else if (!strcmp(path, "/"))
		bk_web_home(&c, resp);
	else if (!strcmp(path, "/search"))
		bk_web_search(&c, resp);
	else if (!strcmp(path, "/queue"))
		bk_web_queue(&c, resp);
	else if (!strcmp(path, "/static/bunko.css")) {
		resp->status = 200;
		resp->type = "text/css; charset=utf-8";
		resp->cache = "public, max-age=3600";
		bk_buf_addstr(&resp->body, stylesheet);
	} else if (!strncmp(path, "/static/", 8) && bk_web_static(path, resp)) {
		/* the viewer's scripts */
	} else if (!strncmp(path, "/doc/", 5))
		doc_route(&c, path, resp);
	else if (!strncmp(path, "/iiif/", 6))
		bk_web_iiif(&c, path, resp);
	else
		bk_web_not_found(resp);
	if (resp->body.failed) {
		bk_buf_release(&resp->body);
		bk_web_error_page(resp, 500, "エラー", "out of memory");
	}
	remember_lang(req, asked, resp);
	if (c.reader)
		give_reader(w, c.reader);
}
