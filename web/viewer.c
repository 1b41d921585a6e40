/*
 * web/viewer.c — what the page view has besides the page and its text:
 * the deep-zoom viewer (OpenSeadragon on the page's IIIF tiles, started
 * by /static/viewer.js; without JavaScript the plain image with its hit
 * boxes stays), links to the previous and next pages with a hit, and a
 * strip of thumbnails of the pages around.
 *
 * Reading order: a vertical volume (縦書き) is read right to left, so its
 * next page, next hit and later thumbnails stand on the left (dir="rtl"),
 * as the pager does.
 */
#include <stdlib.h>
#include <string.h>

#include "index/match.h"
#include "web/hits.h"
#include "web/html.h"
#include "web/site.h"

#define THUMBS_AROUND 3 /* thumbnails either side of the page shown */

/* /doc/ID + tail, escaped for an attribute. */
static void doc_url(struct bk_buf *b, const struct bk_web_doc *d, const char *tail)
{
	struct bk_buf u = { 0 };
	bk_buf_addstr(&u, "/doc/");
	bk_url_component(&u, d->info.id);
	bk_buf_addstr(&u, tail);
	bk_html_attr(b, u.data ? u.data : "");
	bk_buf_release(&u);
}

/* The page view of page n, with the query. */
static void page_url(struct bk_buf *b, const struct bk_web_doc *d, int n, const char *q)
{
	struct bk_buf u = { 0 };
	bk_buf_addstr(&u, "/doc/");
	bk_url_component(&u, d->info.id);
	bk_buf_addf(&u, "/page/%d", n);
	if (q && *q) {
		bk_buf_addstr(&u, "?q=");
		bk_url_component(&u, q);
	}
	bk_html_attr(b, u.data ? u.data : "");
	bk_buf_release(&u);
}

void bk_web_viewer_deepzoom(struct bk_buf *b, const struct bk_web_doc *d, int page)
{
	char tail[48];
	snprintf(tail, sizeof(tail), "/%d/info.json", page);
	struct bk_buf u = { 0 };
	bk_buf_addstr(&u, "/iiif/");
	bk_url_component(&u, d->info.id);
	bk_buf_addstr(&u, tail);
	bk_buf_addstr(b, "<div class=\"deepzoom\" id=\"deepzoom\" hidden data-info=\"");
	bk_html_attr(b, u.data ? u.data : "");
	bk_buf_release(&u);
	bk_buf_addstr(b, "\">\n<div class=\"dz-controls\" role=\"toolbar\" aria-label=\"画像の操作\">\n"
			 "<button type=\"button\" id=\"dz-in\">拡大</button>\n"
			 "<button type=\"button\" id=\"dz-out\">縮小</button>\n"
			 "<button type=\"button\" id=\"dz-home\">全体</button>\n"
			 "<button type=\"button\" id=\"dz-full\">全画面</button>\n"
			 "<button type=\"button\" id=\"dz-prev-hit\">前の該当箇所</button>\n"
			 "<button type=\"button\" id=\"dz-next-hit\">次の該当箇所</button>\n"
			 "<span class=\"dz-status\" id=\"dz-status\" aria-live=\"polite\"></span>\n"
			 "</div>\n<div class=\"dz-canvas\" id=\"dz-canvas\"></div>\n</div>\n");
}

void bk_web_viewer_scripts(struct bk_buf *b)
{
	bk_buf_addstr(b, "<link rel=\"stylesheet\" href=\"/static/viewer.css\">\n"
			 "<script src=\"/static/openseadragon.min.js\" defer></script>\n"
			 "<script src=\"/static/viewer.js\" defer></script>\n");
}

/* 1 when page n of d has a hit of m, 0 when not, -1 when it cannot be
 * read. */
static int page_has_hit(const struct bk_web_doc *d, int n, struct bk_matcher *m)
{
	struct bk_page model;
	struct bk_error err;
	struct bk_text_range *ranges = NULL;
	char *text = NULL;
	int nr = 0, rc = -1;

	bk_error_init(&err);
	if (bk_web_read_page(d, n, &model, &err) || !(text = bk_page_text(&model)) ||
	    bk_text_hits(m, text, strlen(text), &ranges, &nr, &err))
		goto out;
	rc = nr > 0;
out:
	free(ranges);
	free(text);
	bk_page_release(&model);
	return rc;
}

/* The nearest page before (step -1) or after (+1) `page` with a hit, or 0. */
static int hit_page(const struct bk_web_doc *d, int page, int step, struct bk_matcher *m)
{
	for (int n = page + step; n >= 1 && n <= d->info.npages; n += step)
		if (page_has_hit(d, n, m) == 1)
			return n;
	return 0;
}

void bk_web_viewer_hit_nav(struct bk_buf *b, const struct bk_web_doc *d, int page, const char *q,
			   struct bk_matcher *m, bool vertical)
{
	if (!m || !q)
		return;
	int prev = hit_page(d, page, -1, m), next = hit_page(d, page, 1, m);
	bk_buf_addf(b, "<nav class=\"hitnav%s\" aria-label=\"該当箇所のあるページ\">\n", vertical ? " rtl" : "");
	/* written in visual order, left to right */
	for (int side = 0; side < 2; side++) {
		bool is_prev = vertical ? side == 1 : side == 0;
		int to = is_prev ? prev : next;
		if (to) {
			bk_buf_addf(b, "<a class=\"%s\" href=\"", is_prev ? "prev-hit" : "next-hit");
			page_url(b, d, to, q);
			bk_buf_addf(b, "\">%s（%dページ）</a>\n", is_prev ? "前の該当ページ" : "次の該当ページ", to);
		} else
			bk_buf_addf(b, "<span class=\"%s none\">%s</span>\n", is_prev ? "prev-hit" : "next-hit",
				    is_prev ? "前の該当ページはありません" : "次の該当ページはありません");
	}
	bk_buf_addstr(b, "</nav>\n");
}

void bk_web_viewer_thumbs(struct bk_buf *b, const struct bk_web_doc *d, int page, const char *q, bool vertical)
{
	int from = page - THUMBS_AROUND, to = page + THUMBS_AROUND;
	if (from < 1)
		from = 1;
	if (to > d->info.npages)
		to = d->info.npages;
	if (from == to)
		return;
	/* in document order; dir="rtl" lays a vertical volume's out from
	 * the right */
	bk_buf_addf(b, "<nav class=\"thumbs\" aria-label=\"ページ一覧\">\n<ol%s>\n", vertical ? " dir=\"rtl\"" : "");
	for (int n = from; n <= to; n++) {
		char tail[48];
		bk_buf_addstr(b, "<li><a href=\"");
		page_url(b, d, n, q);
		bk_buf_addf(b, "\"%s><img src=\"", n == page ? " aria-current=\"page\"" : "");
		snprintf(tail, sizeof(tail), "/page/%d/thumb", n);
		doc_url(b, d, tail);
		bk_buf_addf(b, "\" width=\"%d\" alt=\"%dページ\" loading=\"lazy\"><span aria-hidden=\"true\">%d</span></a></li>\n",
			    BK_WEB_THUMB_WIDTH, n, n);
	}
	bk_buf_addstr(b, "</ol>\n</nav>\n");
}
