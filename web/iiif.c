/*
 * web/iiif.c — IIIF for public documents: a Presentation API 3.0
 * manifest per document, an Image API 3.0 level 0 service per page on
 * static tiles (web/tiles.h), the OCR lines as annotations, and Content
 * Search 2.0 and 1.0.
 *
 *   /iiif/ID/manifest            the manifest: label and metadata from
 *       bag-info.txt, one canvas per page of the page model's size,
 *       viewingDirection right-to-left when most of the document's text
 *       stands in vertical columns (縦書き), rendering: the PDF; each
 *       canvas refers to its annotation page of OCR lines; services: the
 *       two search APIs
 *   /iiif/ID/canvas/N/lines      an AnnotationPage with one "supplementing"
 *       annotation per line (or vertical column) of the page model: its
 *       text as a TextualBody, targeting the canvas with #xywh= of the
 *       line's box
 *   /iiif/ID/search?q=           Content Search API 2.0: an AnnotationPage
 *       with one "highlighting" annotation per hit box (web/hits.h: the
 *       page model's boxes of the characters hit, one per line or column),
 *       targeting its canvas with #xywh=; declared as a SearchService2
 *   /iiif/ID/search1?q=          Content Search API 1.0 (which Mirador and
 *       the Universal Viewer read): an sc:AnnotationList of the same boxes
 *       as "sc:painting" annotations of the hit text, and one search:Hit
 *       per hit (match, before, after) naming its boxes; declared with the
 *       profile http://iiif.io/api/search/1/search
 *   /iiif/ID/N                   303 to /iiif/ID/N/info.json
 *   /iiif/ID/N/info.json         level0: the page's size, its 512-pixel
 *       tiles and scale factors, and `sizes` (web/tiles.h)
 *   /iiif/ID/N/REGION/SIZE/0/default.jpg  a tile or whole-image size as
 *       info.json offers it; anything else is a 400
 * The image files are made when a page is first asked for, after the
 * role's check, so no tile of a document the role may not see is made or
 * sent. Every answer here carries Access-Control-Allow-Origin: * (IIIF
 * viewers on other sites read it; no cookie is sent with such requests,
 * so they see what anonymous visitors see). Ids are absolute URLs on the
 * Host the request named (checked to be a host name or address, else
 * "localhost"). A document the role may not see is the site's 404, like
 * everywhere else.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/meta.h"
#include "bunko/fs.h"
#include "index/query.h"
#include "web/hits.h"
#include "web/html.h"
#include "web/render.h"
#include "web/site.h"
#include "web/tiles.h"

/* "http://HOST" of the request, HOST as the client gave it if it is
 * made of host-name characters only. */
static char *base_url(const struct bk_web_request *req)
{
	const char *h = req->host;
	bool ok = h && *h && strlen(h) < 256 &&
		  strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == strlen(h);
	char *out = NULL;
	return asprintf(&out, "http://%s", ok ? h : "localhost") < 0 ? NULL : out;
}

/* BASE/iiif/<id percent-encoded><tail, printf-formatted> (caller frees);
 * NULL when out of memory. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static char *iiif_url(const char *base, const char *id, const char *tail_fmt, ...)
{
	struct bk_buf b = { 0 };
	va_list ap;

	bk_buf_addstr(&b, base);
	bk_buf_addstr(&b, "/iiif/");
	bk_url_component(&b, id);
	va_start(ap, tail_fmt);
	bk_buf_vaddf(&b, tail_fmt, ap);
	va_end(ap);
	return bk_buf_detach(&b, NULL);
}

static json_t *lang_map(const char *lang, const char *value)
{
	return json_pack("{s:[s]}", lang, value ? value : "");
}

static json_t *meta_entry(const char *ja, const char *en, const char *value)
{
	return json_pack("{s:{s:[s],s:[s]},s:o}", "label", "ja", ja, "en", en, "value",
			 lang_map("none", value));
}

/* Sends j (taken) as `type`, readable by viewers on other sites. */
static void send_json(json_t *j, const char *type, struct bk_web_response *r)
{
	char *text = j ? json_dumps(j, JSON_INDENT(1)) : NULL;
	json_decref(j);
	if (!text) {
		bk_web_error_page(r, 500, "エラー", "out of memory");
		return;
	}
	r->status = 200;
	r->type = type;
	r->cache = "private, max-age=300";
	r->cors = true;
	bk_buf_addstr(&r->body, text);
	free(text);
}

#define PRESENTATION_TYPE "application/ld+json;profile=\"http://iiif.io/api/presentation/3/context.json\""

/* The canvas of page n, its image (the level 0 service's max size) and
 * its annotation page of OCR lines. */
static json_t *canvas(const char *base, const struct bk_web_doc *d, int n, const struct bk_page *model)
{
	char label[16];
	json_t *j = NULL;

	char *id = iiif_url(base, d->info.id, "/canvas/%d", n);
	char *service = iiif_url(base, d->info.id, "/%d", n);
	char *image = iiif_url(base, d->info.id, "/%d/full/max/0/default.jpg", n);
	char *annopage = iiif_url(base, d->info.id, "/canvas/%d/page", n);
	char *anno = iiif_url(base, d->info.id, "/canvas/%d/image", n);
	char *lines = iiif_url(base, d->info.id, "/canvas/%d/lines", n);
	snprintf(label, sizeof(label), "%d", n);
	if (id && service && image && annopage && anno && lines)
		j = json_pack("{s:s,s:s,s:o,s:i,s:i,s:[{s:s,s:s,s:[{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:i,s:i,s:[{s:s,s:s,s:s}]},s:s}]}],"
			      "s:[{s:s,s:s}]}",
			      "id", id, "type", "Canvas", "label", lang_map("none", label),
			      "width", model->width, "height", model->height,
			      "items", "id", annopage, "type", "AnnotationPage",
			      "items", "id", anno, "type", "Annotation", "motivation", "painting",
			      "body", "id", image, "type", "Image", "format", "image/jpeg",
			      "width", model->width, "height", model->height,
			      "service", "id", service, "type", "ImageService3", "profile", "level0",
			      "target", id,
			      "annotations", "id", lines, "type", "AnnotationPage");
	free(id);
	free(service);
	free(image);
	free(annopage);
	free(anno);
	free(lines);
	return j;
}

static void manifest(struct bk_web_ctx *c, const struct bk_web_doc *d, struct bk_web_response *r)
{
	char *base = base_url(c->req), *id = NULL, *pdf = NULL, *search = NULL, *search1 = NULL;
	json_t *m = NULL, *items = NULL;
	size_t vertical = 0, horizontal = 0;
	char pages[16];

	if (!base || !(id = iiif_url(base, d->info.id, "/manifest"))) {
		bk_web_error_page(r, 500, "エラー", "out of memory");
		goto out;
	}
	struct bk_buf p = { 0 };
	bk_buf_addstr(&p, base);
	bk_buf_addstr(&p, "/doc/");
	bk_url_component(&p, d->info.id);
	bk_buf_addstr(&p, "/pdf");
	pdf = bk_buf_detach(&p, NULL);
	items = json_array();
	for (int n = 1; items && n <= d->info.npages; n++) {
		struct bk_page model;
		struct bk_error err;
		bk_error_init(&err);
		if (bk_web_read_page(d, n, &model, &err) || model.width < 1 || model.height < 1) {
			bk_page_release(&model);
			bk_web_error_page(r, 500, "エラー", "このページを読み込めませんでした。");
			goto out;
		}
		for (size_t b = 0; b < model.nblocks; b++)
			for (size_t l = 0; l < model.blocks[b].nlines; l++)
				*(model.blocks[b].lines[l].dir == BK_DIR_VERTICAL ? &vertical : &horizontal) +=
					model.blocks[b].lines[l].nwords;
		json_array_append_new(items, canvas(base, d, n, &model));
		bk_page_release(&model);
	}
	const char *title = d->info.title && *d->info.title ? d->info.title : d->info.id;
	json_t *metadata = json_array();
	snprintf(pages, sizeof(pages), "%d", d->info.npages);
	if (metadata) {
		json_array_append_new(metadata, meta_entry("資料ID", "Identifier", d->info.id));
		json_array_append_new(metadata, meta_entry("コレクション", "Collection", d->info.collection));
		if (d->info.date && *d->info.date)
			json_array_append_new(metadata, meta_entry("日付", "Date", d->info.date));
		json_array_append_new(metadata, meta_entry("種別", "Type", bk_profile_name(d->meta.profile)));
		json_array_append_new(metadata, meta_entry("ページ数", "Pages", pages));
	}
	search = iiif_url(base, d->info.id, "/search");
	search1 = iiif_url(base, d->info.id, "/search1");
	/* a service of an older API keeps that API's keys (@id, @type,
	 * profile), as Presentation 3.0 says */
	m = json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:[{s:s,s:s,s:o,s:s}],s:[{s:s,s:s},{s:s,s:s,s:s,s:s}],s:o}",
		      "@context", "http://iiif.io/api/presentation/3/context.json",
		      "id", id, "type", "Manifest", "label", lang_map("ja", title),
		      "metadata", metadata ? metadata : json_array(),
		      "viewingDirection", vertical > horizontal ? "right-to-left" : "left-to-right",
		      "rendering", "id", pdf ? pdf : "", "type", "Text", "label", lang_map("ja", "PDF"),
		      "format", "application/pdf",
		      "service", "id", search ? search : "", "type", "SearchService2",
		      "@context", "http://iiif.io/api/search/1/context.json", "@id", search1 ? search1 : "",
		      "@type", "SearchService1", "profile", "http://iiif.io/api/search/1/search",
		      "items", items);
	items = NULL;
	send_json(m, PRESENTATION_TYPE, r);
out:
	json_decref(items);
	free(base);
	free(id);
	free(pdf);
	free(search);
	free(search1);
}

/* /iiif/ID/canvas/N/lines: the page model's lines as supplementing
 * annotations. */
static void lines_page(struct bk_web_ctx *c, const struct bk_web_doc *d, int n, struct bk_web_response *r)
{
	struct bk_page model;
	struct bk_error err;
	char *base = base_url(c->req), *self = NULL;
	json_t *items = json_array();
	int k = 0;

	bk_error_init(&err);
	if (bk_web_read_page(d, n, &model, &err)) {
		bk_web_error_page(r, 500, "エラー", "このページを読み込めませんでした。");
		goto out;
	}
	if (!base || !items || !(self = iiif_url(base, d->info.id, "/canvas/%d/lines", n))) {
		bk_web_error_page(r, 500, "エラー", "out of memory");
		goto out;
	}
	for (size_t b = 0; b < model.nblocks; b++) {
		const struct bk_block *block = &model.blocks[b];
		const char *lang = !strncmp(block->lang, "eng", 3) ? "en" : "ja";
		for (size_t l = 0; l < block->nlines; l++) {
			const struct bk_line *line = &block->lines[l];
			char *text = bk_line_text(line);
			char *id = iiif_url(base, d->info.id, "/canvas/%d/lines/%d", n, ++k);
			char *target = iiif_url(base, d->info.id, "/canvas/%d#xywh=%d,%d,%d,%d", n,
						line->box.x0, line->box.y0, line->box.x1 - line->box.x0,
						line->box.y1 - line->box.y0);
			if (text && *text && id && target)
				json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s},s:s}",
					"id", id, "type", "Annotation", "motivation", "supplementing",
					"body", "type", "TextualBody", "value", text, "format", "text/plain",
					"language", lang, "target", target));
			free(text);
			free(id);
			free(target);
		}
	}
	send_json(json_pack("{s:s,s:s,s:s,s:o}", "@context", "http://iiif.io/api/presentation/3/context.json",
			    "id", self, "type", "AnnotationPage", "items", items), PRESENTATION_TYPE, r);
	items = NULL;
out:
	json_decref(items);
	bk_page_release(&model);
	free(base);
	free(self);
}

/* REGION: "full" or x,y,w,h; SIZE: "max" or w,h — digits and commas
 * only, so the request names a file of the page's directory and nothing
 * else. True when `rest` ("/REGION/SIZE/0/default.jpg") is such a request. */
static bool image_request(const char *rest, char *region, char *size)
{
	int consumed = 0;
	return sscanf(rest, "/%63[^/]/%31[^/]/0/default.jpg%n", region, size, &consumed) == 2 &&
	       !rest[consumed] && (!strcmp(region, "full") || strspn(region, "0123456789,") == strlen(region)) &&
	       (!strcmp(size, "max") || strspn(size, "0123456789,") == strlen(size));
}

/* Sends dir/REGION/SIZE/0/default.jpg as a file (web/http.c hands its
 * descriptor to the library, which sends it with sendfile), or the 400 of
 * a tile or size info.json does not offer. */
static void send_image(const struct bk_web_doc *d, const char *dir, const char *region, const char *size,
		       struct bk_web_response *r)
{
	struct stat st;
	char *file = NULL;
	if (asprintf(&file, "%s/%s/%s/0/default.jpg", dir, region, size) < 0 || stat(file, &st) ||
	    !S_ISREG(st.st_mode)) {
		free(file);
		bk_web_error_page(r, 400, "不正な要求", "この大きさ・範囲の画像はありません（info.json を参照）。");
		return;
	}
	r->status = 200;
	r->type = "image/jpeg";
	r->file = file;
	r->cors = true;
	r->cache = d->info.access == BK_ACCESS_PUBLIC ? "private, max-age=3600" : NULL;
}

static void image_service(struct bk_web_ctx *c, const struct bk_web_doc *d, int page, const char *rest,
			  struct bk_web_response *r)
{
	struct bk_page m;
	struct bk_error err;
	char region[64], size[32];
	char *base = NULL, *pdf = NULL, *dir = NULL, *file = NULL;
	json_t *info = NULL;

	bk_error_init(&err);
	bk_page_init(&m);
	/* a tile of a page already made: neither the page model nor the
	 * tiles' lock is needed (the caller checked the role) */
	if (*rest && strcmp(rest, "/info.json") && image_request(rest, region, size)) {
		if (!(pdf = bk_web_doc_file(d, "data/document.pdf"))) {
			bk_web_error_page(r, 500, "エラー", "out of memory");
			goto out;
		}
		int ready = bk_tiles_ready(bk_web_tiles(c), d->info.id, pdf, page, &dir, &err);
		if (ready < 0) {
			bk_web_error_page(r, 500, "エラー", err.msg);
			goto out;
		}
		if (ready) {
			send_image(d, dir, region, size, r);
			goto out;
		}
	}
	if (bk_web_read_page(d, page, &m, &err) || m.width < 1 || m.height < 1) {
		bk_web_not_found(r);
		goto out;
	}
	if (!(base = base_url(c->req))) {
		bk_web_error_page(r, 500, "エラー", "out of memory");
		goto out;
	}
	if (!*rest) {
		r->location = iiif_url(base, d->info.id, "/%d/info.json", page);
		bk_web_error_page(r, 303, "移動", "info.json へ移動します。");
		r->status = 303;
		goto out;
	}
	bool is_info = !strcmp(rest, "/info.json");
	if (!is_info && !image_request(rest, region, size)) {
		bk_web_error_page(r, 400, "不正な要求", "この画像サーバ（IIIF level 0）では扱えない要求です。");
		goto out;
	}
	free(pdf);
	if (!(pdf = bk_web_doc_file(d, "data/document.pdf")) ||
	    bk_tiles_page(bk_web_tiles(c), d->info.id, pdf, page, m.width, m.height, &dir, &err)) {
		bk_web_error_page(r, 500, "エラー", "このページの画像を用意できませんでした。");
		goto out;
	}
	if (is_info) {
		json_error_t jerr;
		char *id = iiif_url(base, d->info.id, "/%d", page);
		file = bk_path_join(dir, "info.json");
		if (!id || !file || !(info = json_load_file(file, 0, &jerr)) ||
		    json_object_set_new(info, "id", json_string(id))) {
			free(id);
			bk_web_error_page(r, 500, "エラー", "このページの画像を用意できませんでした。");
			goto out;
		}
		free(id);
		send_json(info, "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\"", r);
		info = NULL;
		goto out;
	}
	send_image(d, dir, region, size, r);
out:
	json_decref(info);
	bk_page_release(&m);
	free(base);
	free(pdf);
	free(dir);
	free(file);
}

/* Where the hits of a search are: called once per page that has any. */
typedef int (*hits_fn)(const struct bk_page_hits *hits, int page, void *ud);

/* Runs query q over every page of d, calling fn per page with hits;
 * false when r already holds the answer (a bad query, an error). */
static bool each_page_hits(const struct bk_web_doc *d, const char *q, hits_fn fn, void *ud,
			   struct bk_web_response *r)
{
	struct bk_query parsed = { 0 };
	struct bk_matcher *m = NULL;
	struct bk_error err;
	bool ok = false;

	bk_error_init(&err);
	if (!q || !*q || strlen(q) > BK_WEB_QUERY_MAX || !bk_utf8_clean(q)) {
		bk_web_error_page(r, 400, "検索できません", "検索語がないか、長すぎるか、使えない文字を含んでいます。");
		goto out;
	}
	if (bk_query_parse(q, &parsed, &err) || bk_matcher_new(&m, &parsed, &err)) {
		bk_web_error_page(r, 400, "検索できません", err.msg);
		goto out;
	}
	for (int n = 1; n <= d->info.npages; n++) {
		struct bk_page model;
		struct bk_page_hits hits;
		if (bk_web_read_page(d, n, &model, &err) || bk_page_hits_find(&model, m, &hits, &err)) {
			bk_page_release(&model);
			bk_web_error_page(r, 500, "エラー", "このページを読み込めませんでした。");
			goto out;
		}
		int rc = hits.nboxes ? fn(&hits, n, ud) : 0;
		bk_page_hits_release(&hits);
		bk_page_release(&model);
		if (rc) {
			bk_web_error_page(r, 500, "エラー", "out of memory");
			goto out;
		}
	}
	ok = true;
out:
	bk_matcher_free(&m);
	bk_query_release(&parsed);
	return ok;
}

struct search_out {
	const char *base, *id, *prefix; /* prefix: "/search/" or "/search1/" */
	json_t *items, *hits;           /* hits: 1.0 only */
};

/* BASE/iiif/ID/canvas/N#xywh= of a hit box, and its annotation's id. */
static void box_urls(const struct search_out *o, int page, int i, const struct bk_hit_box *x, char **id,
		     char **target)
{
	*id = iiif_url(o->base, o->id, "%s%d-%d", o->prefix, page, i + 1);
	*target = iiif_url(o->base, o->id, "/canvas/%d#xywh=%d,%d,%d,%d", page, x->box.x0,
			   x->box.y0, x->box.x1 - x->box.x0, x->box.y1 - x->box.y0);
}

static int add_search2(const struct bk_page_hits *hits, int page, void *ud)
{
	struct search_out *o = ud;
	for (int i = 0; i < hits->nboxes; i++) {
		const struct bk_hit_box *x = &hits->boxes[i];
		const struct bk_text_range *rg = &hits->ranges[x->hit];
		char *id, *target, *text = strndup(hits->text + rg->start, (size_t)(rg->end - rg->start));
		box_urls(o, page, i, x, &id, &target);
		int rc = id && target && text ? json_array_append_new(o->items, json_pack(
			"{s:s,s:s,s:s,s:{s:s,s:s,s:s},s:s}",
			"id", id, "type", "Annotation", "motivation", "highlighting",
			"body", "type", "TextualBody", "value", text, "format", "text/plain",
			"target", target)) : -1;
		free(id);
		free(target);
		free(text);
		if (rc)
			return -1;
	}
	return 0;
}

#define CONTEXT_CHARS 12

/* Up to CONTEXT_CHARS characters of text before `at` (or after it),
 * line breaks as spaces (caller frees). */
static char *context_of(const char *text, size_t len, size_t at, bool before)
{
	size_t from = at, to = at;
	for (int k = 0; k < CONTEXT_CHARS; k++) {
		if (before && from > 0)
			while (from > 0 && ((unsigned char)text[--from] & 0xc0) == 0x80)
				;
		else if (!before && to < len)
			while (++to < len && ((unsigned char)text[to] & 0xc0) == 0x80)
				;
	}
	char *s = strndup(text + from, to - from);
	for (char *p = s; p && *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return s;
}

static int add_search1(const struct bk_page_hits *hits, int page, void *ud)
{
	struct search_out *o = ud;
	for (int k = 0; k < hits->nranges; k++) {
		const struct bk_text_range *rg = &hits->ranges[k];
		char *match = strndup(hits->text + rg->start, (size_t)(rg->end - rg->start));
		char *before = context_of(hits->text, hits->len, (size_t)rg->start, true);
		char *after = context_of(hits->text, hits->len, (size_t)rg->end, false);
		json_t *annos = json_array();
		int rc = match && before && after && annos ? 0 : -1;
		for (int i = 0; !rc && i < hits->nboxes; i++) {
			if (hits->boxes[i].hit != k)
				continue;
			char *id, *target;
			box_urls(o, page, i, &hits->boxes[i], &id, &target);
			rc = id && target ? json_array_append_new(o->items, json_pack(
				"{s:s,s:s,s:s,s:{s:s,s:s},s:s}",
				"@id", id, "@type", "oa:Annotation", "motivation", "sc:painting",
				"resource", "@type", "cnt:ContentAsText", "chars", match, "on", target)) : -1;
			if (!rc)
				rc = json_array_append_new(annos, json_string(id));
			free(id);
			free(target);
		}
		if (!rc)
			rc = json_array_append_new(o->hits, json_pack("{s:s,s:O,s:s,s:s,s:s}", "@type", "search:Hit",
								     "annotations", annos, "match", match,
								     "before", before, "after", after));
		json_decref(annos);
		free(match);
		free(before);
		free(after);
		if (rc)
			return -1;
	}
	return 0;
}

/* Content Search 2.0 (/search) or 1.0 (/search1). */
static void content_search(struct bk_web_ctx *c, const struct bk_web_doc *d, bool v1, struct bk_web_response *r)
{
	const char *q = bk_web_arg(c->req, "q");
	char *base = base_url(c->req), *self = NULL;
	struct search_out o = { base, d->info.id, v1 ? "/search1/" : "/search/", json_array(), json_array() };

	if (!base || !o.items || !o.hits) {
		bk_web_error_page(r, 500, "エラー", "out of memory");
		goto out;
	}
	if (!each_page_hits(d, q, v1 ? add_search1 : add_search2, &o, r))
		goto out;
	struct bk_buf u = { 0 };
	bk_buf_addstr(&u, base);
	bk_buf_addstr(&u, "/iiif/");
	bk_url_component(&u, d->info.id);
	bk_buf_addstr(&u, v1 ? "/search1?q=" : "/search?q=");
	bk_url_component(&u, q);
	self = bk_buf_detach(&u, NULL);
	if (v1)
		send_json(json_pack("{s:s,s:s,s:s,s:{s:s,s:I},s:O,s:O}",
				    "@context", "http://iiif.io/api/search/1/context.json",
				    "@id", self ? self : "", "@type", "sc:AnnotationList",
				    "within", "@type", "sc:Layer", "total", (json_int_t)json_array_size(o.hits),
				    "resources", o.items, "hits", o.hits),
			  "application/ld+json;profile=\"http://iiif.io/api/search/1/context.json\"", r);
	else
		send_json(json_pack("{s:s,s:s,s:s,s:O}", "@context", "http://iiif.io/api/search/2/context.json",
				    "id", self ? self : "", "type", "AnnotationPage", "items", o.items),
			  "application/ld+json;profile=\"http://iiif.io/api/search/2/context.json\"", r);
out:
	json_decref(o.items);
	json_decref(o.hits);
	free(self);
	free(base);
}

void bk_web_iiif(struct bk_web_ctx *c, const char *path, struct bk_web_response *r)
{
	const char *rest, *after;
	struct bk_web_doc d;
	int page;

	if (!bk_web_doc_at(c, path, "/iiif/", &d, &rest, r))
		return;
	if (!strcmp(rest, "/manifest"))
		manifest(c, &d, r);
	else if (!strcmp(rest, "/search"))
		content_search(c, &d, false, r);
	else if (!strcmp(rest, "/search1"))
		content_search(c, &d, true, r);
	else if (!strncmp(rest, "/canvas/", 8) && bk_web_parse_page(rest + 8, &page, &after) &&
		 page <= d.info.npages && !strcmp(after, "/lines"))
		lines_page(c, &d, page, r);
	else if (rest[0] == '/' && bk_web_parse_page(rest + 1, &page, &after) && page <= d.info.npages)
		image_service(c, &d, page, after, r);
	else
		bk_web_not_found(r);
	bk_web_doc_release(&d);
}
