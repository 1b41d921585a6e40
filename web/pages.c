/*
 * web/pages.c — the page view (the search page is web/search.c), with
 * the hits drawn on the page image (an inline SVG over the image, in the
 * page model's pixels, so it needs no script and scales with the image;
 * the deep-zoom viewer, hit navigation and thumbnails are web/viewer.c's).
 *
 * Queries are those of `bunko search` (index/query.h): the same parser,
 * old-kanji folding and matcher, so the web finds what the CLI finds.
 */
#include <stdlib.h>
#include <string.h>

#include "index/query.h"
#include "web/hits.h"
#include "web/html.h"
#include "web/site.h"


static void html_ok(struct bk_web_response *r)
{
	r->status = 200;
	r->type = "text/html; charset=utf-8";
}

void bk_web_page_link(struct bk_buf *b, const char *doc, int page, const char *q)
{
	struct bk_buf u = { 0 };
	bk_buf_addstr(&u, "/doc/");
	bk_url_component(&u, doc);
	bk_buf_addf(&u, "/page/%d", page);
	if (q && *q) {
		bk_buf_addstr(&u, "?q=");
		bk_url_component(&u, q);
	}
	bk_html_attr(b, u.data ? u.data : "");
	bk_buf_release(&u);
}

bool bk_web_arg_ok(const char *s)
{
	return !s || (strlen(s) <= BK_WEB_QUERY_MAX && bk_utf8_clean(s));
}

/* True when most of the page's words stand in vertical lines. */
static bool mostly_vertical(const struct bk_page *page)
{
	size_t v = 0, h = 0;
	for (size_t b = 0; b < page->nblocks; b++)
		for (size_t l = 0; l < page->blocks[b].nlines; l++) {
			const struct bk_line *line = &page->blocks[b].lines[l];
			if (line->dir == BK_DIR_VERTICAL)
				v += line->nwords;
			else
				h += line->nwords;
		}
	return v > h;
}

static void doc_link(struct bk_buf *b, const char *doc, const char *what)
{
	struct bk_buf u = { 0 };
	bk_buf_addstr(&u, "/doc/");
	bk_url_component(&u, doc);
	bk_buf_addstr(&u, what);
	bk_html_attr(b, u.data ? u.data : "");
	bk_buf_release(&u);
}

void bk_web_page_view(struct bk_web_ctx *c, const struct bk_web_doc *d, int page,
		      struct bk_web_response *r)
{
	const char *q = bk_web_arg(c->req, "q");
	struct bk_query parsed = { 0 };
	struct bk_matcher *m = NULL;
	struct bk_page_hits hits = { 0 };
	struct bk_page model;
	struct bk_error err;
	struct bk_buf *b = &r->body;
	const char *title = d->info.title && *d->info.title ? d->info.title : d->info.id;

	bk_error_init(&err);
	bk_page_init(&model);
	if (!bk_web_arg_ok(q)) {
		bk_web_error_page(r, 400, "検索できません",
				  "検索語が長すぎるか、使えない文字を含んでいます。");
		goto out;
	}
	if (q && !*q)
		q = NULL;
	if (q && (bk_query_parse(q, &parsed, &err) || bk_matcher_new(&m, &parsed, &err))) {
		bk_web_error_page(r, 400, "検索できません", err.msg);
		goto out;
	}
	if (bk_web_read_page(d, page, &model, &err) || bk_page_hits_find(&model, m, &hits, &err)) {
		/* the index lists the page but its model cannot be read */
		bk_web_error_page(r, 500, "エラー", "このページを読み込めませんでした。");
		goto out;
	}
	bool vertical = mostly_vertical(&model);
	html_ok(r);
	char heading[64];
	snprintf(heading, sizeof(heading), " %dページ", page);
	struct bk_buf t = { 0 };
	bk_buf_addstr(&t, title);
	bk_buf_addstr(&t, heading);
	bk_html_begin(b, t.data ? t.data : "", q, c->user, c->csrf);
	bk_buf_release(&t);
	bk_buf_addstr(b, "<h1>");
	bk_html_text(b, title, (size_t)-1);
	bk_buf_addf(b, " <span class=\"pageno\">%d / %d ページ</span></h1>\n<p class=\"meta\">", page,
		    d->info.npages);
	bk_html_text(b, d->info.collection, (size_t)-1);
	if (d->info.date && *d->info.date) {
		bk_buf_addstr(b, " · ");
		bk_html_text(b, d->info.date, (size_t)-1);
	}
	bk_buf_addstr(b, "</p>\n");
	if (q)
		bk_buf_addf(b, "<p class=\"hits\" data-hits=\"%d\">このページの「", hits.nranges);
	if (q) {
		bk_html_text(b, q, (size_t)-1);
		bk_buf_addf(b, "」: %d件</p>\n", hits.nranges);
	}
	/* previous and next page; a vertical volume reads right to left, so
	 * its next page is on the left */
	bk_buf_addf(b, "<nav class=\"pager%s\" aria-label=\"ページ送り\">\n", vertical ? " rtl" : "");
	for (int side = 0; side < 2; side++) {
		bool prev = vertical ? side == 1 : side == 0;
		int to = prev ? page - 1 : page + 1;
		if (to < 1 || to > d->info.npages)
			continue;
		bk_buf_addf(b, "<a rel=\"%s\" href=\"", prev ? "prev" : "next");
		bk_web_page_link(b, d->info.id, to, q);
		bk_buf_addf(b, "\">%s</a>\n", prev ? "前のページ" : "次のページ");
	}
	bk_buf_addstr(b, "</nav>\n");
	bk_web_viewer_hit_nav(b, d, page, q, m, vertical);
	bk_buf_addstr(b, "<div class=\"viewer\">\n<figure>\n");
	bk_web_viewer_deepzoom(b, d, page);
	int w = model.width > 0 ? model.width : 1, h = model.height > 0 ? model.height : 1;
	bk_buf_addf(b, "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
		       "aria-label=\"ページ画像", w, h, w, h);
	if (q)
		bk_buf_addf(b, "（該当箇所%d件を枠で表示）", hits.nranges);
	bk_buf_addstr(b, "\" xmlns=\"http://www.w3.org/2000/svg\">\n<image href=\"");
	char img[32];
	snprintf(img, sizeof(img), "/page/%d/image", page);
	doc_link(b, d->info.id, img);
	bk_buf_addf(b, "\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" preserveAspectRatio=\"none\"/>\n", w, h);
	for (int i = 0; i < hits.nboxes; i++) {
		const struct bk_hit_box *x = &hits.boxes[i];
		const struct bk_text_range *rg = &hits.ranges[x->hit];
		bk_buf_addf(b, "<rect class=\"hit%s\" data-hit=\"%d\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\">"
			       "<title>", x->dir == BK_DIR_VERTICAL ? " vertical" : "", x->hit + 1,
			    x->box.x0, x->box.y0, x->box.x1 - x->box.x0, x->box.y1 - x->box.y0);
		bk_html_text(b, hits.text + rg->start, (size_t)(rg->end - rg->start));
		bk_buf_addstr(b, "</title></rect>\n");
	}
	bk_buf_addstr(b, "</svg>\n<figcaption>");
	bk_html_text(b, title, (size_t)-1);
	bk_buf_addf(b, " %dページ</figcaption>\n</figure>\n", page);
	bk_buf_addf(b, "<section class=\"pagetext%s\" lang=\"ja\" aria-label=\"本文\">", vertical ? " vertical" : "");
	bk_html_marked(b, hits.text, hits.len, hits.ranges, hits.nranges);
	bk_buf_addstr(b, "</section>\n</div>\n<nav class=\"downloads\" aria-label=\"ダウンロード\">\n<h2>ダウンロード</h2>\n<ul>\n<li><a href=\"");
	doc_link(b, d->info.id, "/pdf");
	bk_buf_addstr(b, "\">PDF</a></li>\n<li><a href=\"");
	doc_link(b, d->info.id, "/text");
	bk_buf_addstr(b, "\">テキスト</a></li>\n<li><a href=\"");
	doc_link(b, d->info.id, "/alto");
	bk_buf_addstr(b, "\">ALTO XML</a></li>\n<li><a href=\"");
	struct bk_buf u = { 0 };
	bk_buf_addstr(&u, "/iiif/");
	bk_url_component(&u, d->info.id);
	bk_buf_addstr(&u, "/manifest");
	bk_html_attr(b, u.data ? u.data : "");
	bk_buf_release(&u);
	bk_buf_addstr(b, "\">IIIF マニフェスト</a></li>\n</ul>\n</nav>\n");
	bk_web_viewer_thumbs(b, d, page, q, vertical);
	bk_web_viewer_scripts(b);
	bk_html_end(b);
out:
	bk_page_hits_release(&hits);
	bk_page_release(&model);
	bk_matcher_free(&m);
	bk_query_release(&parsed);
}
