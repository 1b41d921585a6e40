/*
 * web/site.h — what the handlers of the site share (internal to web/):
 * the request context with its reader, the access-checked document, the
 * error and not-found pages.
 */
#ifndef BUNKO_WEB_SITE_H
#define BUNKO_WEB_SITE_H

#include "archive/meta.h"
#include "bunko/page.h"
#include "index/index.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/web.h"

#define BK_WEB_PER_PAGE 20   /* results per page */
#define BK_WEB_MAX_PAGES 50  /* result pages offered: the best 1,000 hits */
#define BK_WEB_QUERY_MAX 500 /* bytes of a query */
#define BK_WEB_IMAGE_WIDTH 1400 /* pixels of the page image shown */
#define BK_WEB_THUMB_WIDTH 150  /* pixels of a page's thumbnail */

struct bk_sessions;
struct bk_web_reader;

struct bk_web_ctx {
	struct bk_web *w;
	const char *archive;
	struct bk_web_reader *reader; /* taken at the first bk_web_index, NULL before */
	const struct bk_web_request *req;
	enum bk_role role;     /* public, or the logged-in user's */
	const char *user;      /* the logged-in user, or NULL */
	const char *csrf;      /* the session's CSRF token (user only) */
	struct bk_sessions *w_sessions;
	FILE *audit;
	enum bk_lang lang;     /* the language of the pages (web/i18n.h) */
	const struct bk_web_queue_ops *queue;
	struct bk_web_cache *cache; /* the search page's (web/cache.h) */
};

/* The request's index reader, opened for ctx->role: taken from the pool
 * at the first call (waiting while every reader is busy) and given back
 * when the request is answered, so a request that needs no index (a
 * cached results page, the stylesheet) never waits for one. NULL with err
 * set when the role's index files cannot be opened. */
struct bk_index *bk_web_index(struct bk_web_ctx *c, struct bk_error *err);
/* The token of what the role's index holds (bk_index_dir_version),
 * without taking a reader. */
void bk_web_index_version(const struct bk_web_ctx *c, char *out, size_t n);
/* Runs fn(arg) on one of the site's search threads and returns when it
 * has: at most the server's `readers` searches run at once (they are
 * CPU-bound: more at once would make each slower and every one later),
 * the others wait their turn, first asked first; the search threads run
 * at a higher priority than the connections' (site.c). fn may use the
 * request's context (bk_web_index): the asking thread waits meanwhile. */
void bk_web_compute(struct bk_web_ctx *c, void (*fn)(void *), void *arg);

/* A document the request's role may see: what the index says, its
 * bag-info.txt, and its directory. */
struct bk_web_doc {
	struct bk_index_doc_info info;
	struct bk_doc_meta meta;
	char *dir; /* ARCHIVE/store/<collection>/<id> */
};

/* 1 and *d filled when document `id` exists and the role may see it
 * (its level in the index and in its bag-info.txt both within the
 * role's); 0 otherwise, whether it does not exist, lies above the role,
 * or its files cannot be read, so that a caller cannot tell these apart;
 * -1 only for errors that are not about the document (out of memory). */
int bk_web_doc_find(struct bk_web_ctx *c, const char *id, struct bk_web_doc *d, struct bk_error *err);
void bk_web_doc_release(struct bk_web_doc *d);
/* A file of the document's bag: DIR/rel (caller frees). */
char *bk_web_doc_file(const struct bk_web_doc *d, const char *rel);

/* The value of argument `name` (the first one), or NULL. */
const char *bk_web_arg(const struct bk_web_request *req, const char *name);

void bk_web_error_page(struct bk_web_response *r, int status, const char *title, const char *message);
/* The same with the title and message from the table, in r->lang. */
void bk_web_error_msg(struct bk_web_response *r, int status, enum bk_msg title, enum bk_msg message);
/* The one answer for anything not found or not visible. */
void bk_web_not_found(struct bk_web_response *r);
/* The frame of c's pages: its language, user and switch link. */
struct bk_html_frame bk_web_frame(const struct bk_web_ctx *c);
/* The records staff's queue page, GET /queue and POST /queue/requeue
 * (web/queue.c). */
void bk_web_queue(struct bk_web_ctx *c, struct bk_web_response *r);
void bk_web_requeue(struct bk_web_ctx *c, struct bk_web_response *r);
/* The href of page `page` of `doc` with the query q (escaped for an
 * attribute). */
void bk_web_page_link(struct bk_buf *b, const char *doc, int page, const char *q);
/* True when s is NULL, or within BK_WEB_QUERY_MAX bytes of clean UTF-8. */
bool bk_web_arg_ok(const char *s);
/* A POST form's field, or NULL. */
const char *bk_web_form_arg(const struct bk_web_request *req, const char *name);

void bk_web_home(struct bk_web_ctx *c, struct bk_web_response *r);
void bk_web_search(struct bk_web_ctx *c, struct bk_web_response *r);
/* The page view of page `page` of d. */
void bk_web_page_view(struct bk_web_ctx *c, const struct bk_web_doc *d, int page, struct bk_web_response *r);
/* The deep-zoom tile cache (web/tiles.h). */
struct bk_tiles *bk_web_tiles(const struct bk_web_ctx *c);
/* /static/openseadragon.min.js and /static/viewer.js (web/static.c):
 * true and r filled when path is one of them. */
bool bk_web_static(const char *path, struct bk_web_response *r);
/* The page view's deep-zoom viewer, thumbnails and hit navigation
 * (web/viewer.c), written into the page view of page `page` of d. */
struct bk_matcher;
/* The deep-zoom area before the plain image's <svg> (hidden until the
 * script has opened the tiles) and its controls. */
void bk_web_viewer_deepzoom(struct bk_buf *b, const struct bk_web_doc *d, int page);
/* The scripts, at the end of the page. */
void bk_web_viewer_scripts(struct bk_buf *b);
/* Links to the previous and next pages of d with a hit of m (none when
 * m is NULL), in reading order. */
void bk_web_viewer_hit_nav(struct bk_buf *b, const struct bk_web_doc *d, int page, const char *q,
			   struct bk_matcher *m, bool vertical);
/* A strip of thumbnails of the pages around `page`, right to left for a
 * vertical volume. */
void bk_web_viewer_thumbs(struct bk_buf *b, const struct bk_web_doc *d, int page, const char *q, bool vertical);
/* The IIIF routes under /iiif/ (web/iiif.c); path starts with "/iiif/". */
void bk_web_iiif(struct bk_web_ctx *c, const char *path, struct bk_web_response *r);
/* Splits "PREFIX/ID/REST" (path after PREFIX) into ID and REST ("" when
 * none); false if there is no ID or it is too long. */
bool bk_web_split_id(const char *path, const char *prefix, char *id, size_t idsz, const char **rest);
/* The document named by "PREFIX/ID/REST" when the role may see it: true,
 * *d filled (caller releases) and *rest set; false when r already holds
 * the answer (the one not-found page, or a 500 for an internal error). */
bool bk_web_doc_at(struct bk_web_ctx *c, const char *path, const char *prefix,
		   struct bk_web_doc *d, const char **rest, struct bk_web_response *r);
/* Parses a page number 1..65535 at s, *after past it. */
bool bk_web_parse_page(const char *s, int *out, const char **after);
/* The image of page `page`, width x height, into r (404 page on failure). */
void bk_web_page_image(const struct bk_web_doc *d, int page, int width, int height, int format,
		       struct bk_web_response *r);
/* Reads page `page`'s model into *p (initialized here). */
int bk_web_read_page(const struct bk_web_doc *d, int page, struct bk_page *p, struct bk_error *err);

#endif
