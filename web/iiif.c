/*
 * web/iiif.c — IIIF for public documents: a Presentation API 3.0
 * manifest per document and an Image API 3.0 level 0 service per page.
 *
 *   /iiif/ID/manifest            the manifest: label and metadata from
 *       bag-info.txt, one canvas per page of the page model's size,
 *       viewingDirection right-to-left when most of the document's text
 *       stands in vertical columns (縦書き), rendering: the PDF
 *   /iiif/ID/search?q=           Content Search API 2.0: an AnnotationPage
 *       with one "highlighting" annotation per hit box (web/hits.h: the
 *       page model's boxes of the characters hit, one per line or column),
 *       targeting its canvas with #xywh=; declared in the manifest as a
 *       SearchService2
 *   /iiif/ID/N                   303 to /iiif/ID/N/info.json
 *   /iiif/ID/N/info.json         level0, the page's size and `sizes`: the
 *       full size and widths 1400, 700 and 350 (those below it)
 *   /iiif/ID/N/full/SIZE/0/default.jpg (or .png): SIZE "max" or one of
 *       `sizes` as "W,H" or "W,"; anything else is a 400
 * Ids are absolute URLs on the Host the request named (checked to be a
 * host name or address, else "localhost"). A document the role may not
 * see is the site's 404, like everywhere else.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/meta.h"
#include "index/query.h"
#include "web/hits.h"
#include "web/html.h"
#include "web/render.h"
#include "web/site.h"

#define NSIZES 4
static const int size_widths[NSIZES - 1] = { 1400, 700, 350 };

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

/* BASE/iiif/<id percent-encoded><tail> (caller frees). */
static char *iiif_url(const char *base, const char *id, const char *tail)
{
	struct bk_buf b = { 0 };
	bk_buf_addstr(&b, base);
	bk_buf_addstr(&b, "/iiif/");
	bk_url_component(&b, id);
	bk_buf_addstr(&b, tail);
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

static void send_json(json_t *j, struct bk_web_response *r)
{
	char *text = j ? json_dumps(j, JSON_INDENT(1)) : NULL;
	json_decref(j);
	if (!text) {
		bk_web_error_page(r, 500, "エラー", "out of memory");
		return;
	}
	r->status = 200;
	r->type = "application/ld+json;profile=\"http://iiif.io/api/presentation/3/context.json\"";
	r->cache = "private, max-age=300";
	bk_buf_addstr(&r->body, text);
	free(text);
}

static void manifest(struct bk_web_ctx *c, const struct bk_web_doc *d, struct bk_web_response *r)
{
	char *base = base_url(c->req), *id = NULL, *pdf = NULL;
	json_t *m = NULL, *items = NULL;
	size_t vertical = 0, horizontal = 0;
	char tail[96], page_url[96];

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
		snprintf(tail, sizeof(tail), "/canvas/%d", n);
		char *canvas = iiif_url(base, d->info.id, tail);
		snprintf(tail, sizeof(tail), "/%d", n);
		char *service = iiif_url(base, d->info.id, tail);
		snprintf(tail, sizeof(tail), "/%d/full/max/0/default.jpg", n);
		char *image = iiif_url(base, d->info.id, tail);
		snprintf(tail, sizeof(tail), "/canvas/%d/page", n);
		char *annopage = iiif_url(base, d->info.id, tail);
		snprintf(tail, sizeof(tail), "/canvas/%d/image", n);
		char *anno = iiif_url(base, d->info.id, tail);
		snprintf(page_url, sizeof(page_url), "%d", n);
		if (canvas && service && image && annopage && anno)
			json_array_append_new(items, json_pack(
				"{s:s,s:s,s:o,s:i,s:i,s:[{s:s,s:s,s:[{s:s,s:s,s:s,s:{s:s,s:s,s:s,s:i,s:i,s:[{s:s,s:s,s:s}]},s:s}]}]}",
				"id", canvas, "type", "Canvas", "label", lang_map("none", page_url),
				"width", model.width, "height", model.height,
				"items", "id", annopage, "type", "AnnotationPage",
				"items", "id", anno, "type", "Annotation", "motivation", "painting",
				"body", "id", image, "type", "Image", "format", "image/jpeg",
				"width", model.width, "height", model.height,
				"service", "id", service, "type", "ImageService3", "profile", "level0",
				"target", canvas));
		free(canvas);
		free(service);
		free(image);
		free(annopage);
		free(anno);
		bk_page_release(&model);
	}
	const char *title = d->info.title && *d->info.title ? d->info.title : d->info.id;
	json_t *metadata = json_array();
	snprintf(page_url, sizeof(page_url), "%d", d->info.npages);
	if (metadata) {
		json_array_append_new(metadata, meta_entry("資料ID", "Identifier", d->info.id));
		json_array_append_new(metadata, meta_entry("コレクション", "Collection", d->info.collection));
		if (d->info.date && *d->info.date)
			json_array_append_new(metadata, meta_entry("日付", "Date", d->info.date));
		json_array_append_new(metadata, meta_entry("種別", "Type", bk_profile_name(d->meta.profile)));
		json_array_append_new(metadata, meta_entry("ページ数", "Pages", page_url));
	}
	char *search = iiif_url(base, d->info.id, "/search");
	m = json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:[{s:s,s:s,s:o,s:s}],s:[{s:s,s:s}],s:o}",
		      "@context", "http://iiif.io/api/presentation/3/context.json",
		      "id", id, "type", "Manifest", "label", lang_map("ja", title),
		      "metadata", metadata ? metadata : json_array(),
		      "viewingDirection", vertical > horizontal ? "right-to-left" : "left-to-right",
		      "rendering", "id", pdf ? pdf : "", "type", "Text", "label", lang_map("ja", "PDF"),
		      "format", "application/pdf", "service", "id", search ? search : "", "type", "SearchService2",
		      "items", items);
	free(search);
	items = NULL;
	send_json(m, r);
	if (r->status == 200)
		r->type = "application/ld+json;profile=\"http://iiif.io/api/presentation/3/context.json\"";
out:
	json_decref(items);
	free(base);
	free(id);
	free(pdf);
}

/* The page's sizes: [0] the full size, then the smaller listed widths. */
static int page_sizes(const struct bk_page *m, int w[NSIZES], int h[NSIZES])
{
	int n = 0;
	w[n] = m->width;
	h[n++] = m->height;
	for (int i = 0; i < NSIZES - 1; i++)
		if (size_widths[i] < m->width) {
			w[n] = size_widths[i];
			h[n] = (int)((long)m->height * size_widths[i] / m->width);
			if (h[n] < 1)
				h[n] = 1;
			n++;
		}
	return n;
}

static void image_service(struct bk_web_ctx *c, const struct bk_web_doc *d, int page, const char *rest,
			  struct bk_web_response *r)
{
	struct bk_page m;
	struct bk_error err;
	int w[NSIZES], h[NSIZES], n;
	char tail[64];

	bk_error_init(&err);
	if (bk_web_read_page(d, page, &m, &err) || m.width < 1 || m.height < 1) {
		bk_page_release(&m);
		bk_web_not_found(r);
		return;
	}
	n = page_sizes(&m, w, h);
	bk_page_release(&m);
	if (!*rest) {
		snprintf(tail, sizeof(tail), "/%d/info.json", page);
		char *base = base_url(c->req);
		r->location = base ? iiif_url(base, d->info.id, tail) : NULL;
		free(base);
		bk_web_error_page(r, 303, "移動", "info.json へ移動します。");
		r->status = 303;
		return;
	}
	if (!strcmp(rest, "/info.json")) {
		char *base = base_url(c->req);
		snprintf(tail, sizeof(tail), "/%d", page);
		char *id = base ? iiif_url(base, d->info.id, tail) : NULL;
		json_t *sizes = json_array();
		for (int i = n - 1; sizes && i >= 0; i--)
			json_array_append_new(sizes, json_pack("{s:i,s:i}", "width", w[i], "height", h[i]));
		json_t *info = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:o,s:[s]}",
					 "@context", "http://iiif.io/api/image/3/context.json", "id", id ? id : "",
					 "type", "ImageService3", "protocol", "http://iiif.io/api/image",
					 "profile", "level0", "width", w[0], "height", h[0],
					 "sizes", sizes ? sizes : json_array(), "extraFormats", "png");
		free(base);
		free(id);
		send_json(info, r);
		if (r->status == 200)
			r->type = "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\"";
		return;
	}
	/* /full/SIZE/0/default.FMT */
	char size[32], fmt[8];
	int consumed = 0;
	if (sscanf(rest, "/full/%31[^/]/0/default.%7[a-z]%n", size, fmt, &consumed) != 2 ||
	    rest[consumed] || (strcmp(fmt, "jpg") && strcmp(fmt, "png"))) {
		bk_web_error_page(r, 400, "不正な要求", "この画像サーバ（IIIF level 0）では扱えない要求です。");
		return;
	}
	int pick = -1;
	for (int i = 0; i < n && pick < 0; i++) {
		char wh[32], wonly[16];
		snprintf(wh, sizeof(wh), "%d,%d", w[i], h[i]);
		snprintf(wonly, sizeof(wonly), "%d,", w[i]);
		if ((i == 0 && !strcmp(size, "max")) || !strcmp(size, wh) || !strcmp(size, wonly))
			pick = i;
	}
	if (pick < 0) {
		bk_web_error_page(r, 400, "不正な要求", "この大きさの画像はありません（info.json の sizes を参照）。");
		return;
	}
	bk_web_page_image(d, page, w[pick], h[pick], strcmp(fmt, "jpg") ? BK_IMAGE_PNG : BK_IMAGE_JPEG, r);
}

static void content_search(struct bk_web_ctx *c, const struct bk_web_doc *d, struct bk_web_response *r)
{
	const char *q = bk_web_arg(c->req, "q");
	struct bk_query parsed = { 0 };
	struct bk_matcher *m = NULL;
	struct bk_error err;
	char *base = base_url(c->req), *self = NULL;
	json_t *items = json_array();
	char tail[128];

	bk_error_init(&err);
	if (!q || !*q || strlen(q) > BK_WEB_QUERY_MAX || !bk_utf8_clean(q)) {
		bk_web_error_page(r, 400, "検索できません", "検索語がないか、長すぎるか、使えない文字を含んでいます。");
		goto out;
	}
	if (bk_query_parse(q, &parsed, &err) || bk_matcher_new(&m, &parsed, &err)) {
		bk_web_error_page(r, 400, "検索できません", err.msg);
		goto out;
	}
	if (!base || !items) {
		bk_web_error_page(r, 500, "エラー", "out of memory");
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
		for (int i = 0; i < hits.nboxes; i++) {
			const struct bk_hit_box *x = &hits.boxes[i];
			const struct bk_text_range *rg = &hits.ranges[x->hit];
			snprintf(tail, sizeof(tail), "/search/%d-%d", n, i + 1);
			char *id = iiif_url(base, d->info.id, tail);
			snprintf(tail, sizeof(tail), "/canvas/%d#xywh=%d,%d,%d,%d", n, x->box.x0, x->box.y0,
				 x->box.x1 - x->box.x0, x->box.y1 - x->box.y0);
			char *target = iiif_url(base, d->info.id, tail);
			char *text = strndup(hits.text + rg->start, (size_t)(rg->end - rg->start));
			if (id && target && text)
				json_array_append_new(items, json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s},s:s}",
					"id", id, "type", "Annotation", "motivation", "highlighting",
					"body", "type", "TextualBody", "value", text, "format", "text/plain",
					"target", target));
			free(id);
			free(target);
			free(text);
		}
		bk_page_hits_release(&hits);
		bk_page_release(&model);
	}
	struct bk_buf u = { 0 };
	bk_buf_addstr(&u, base);
	bk_buf_addstr(&u, "/iiif/");
	bk_url_component(&u, d->info.id);
	bk_buf_addstr(&u, "/search?q=");
	bk_url_component(&u, q);
	self = bk_buf_detach(&u, NULL);
	send_json(json_pack("{s:s,s:s,s:s,s:o}", "@context", "http://iiif.io/api/search/2/context.json",
			    "id", self ? self : "", "type", "AnnotationPage", "items", items), r);
	items = NULL;
	if (r->status == 200)
		r->type = "application/ld+json;profile=\"http://iiif.io/api/search/2/context.json\"";
out:
	json_decref(items);
	bk_matcher_free(&m);
	bk_query_release(&parsed);
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
		content_search(c, &d, r);
	else if (rest[0] == '/' && bk_web_parse_page(rest + 1, &page, &after) && page <= d.info.npages)
		image_service(c, &d, page, after, r);
	else
		bk_web_not_found(r);
	bk_web_doc_release(&d);
}
