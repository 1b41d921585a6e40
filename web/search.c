/*
 * web/search.c — the search page: the form, the results of a query with
 * its facets (collection, type, decade and, for staff, access level, each
 * with its number of matching pages), a date range, the sort order, KWIC
 * lines, pagination and the total; and the home page.
 *
 * Queries are those of `bunko search` (index/query.h): the same parser,
 * old-kanji folding and matcher, so the web finds what the CLI finds.
 * Arguments: q, collection, profile, from, to (YYYY[-MM[-DD]]), access
 * (staff and admin only; ignored for visitors), sort (relevance, old,
 * new), p (the result page). Facets count only the levels the role's
 * reader opens (bk_index_facet_counts), so a document the role may not
 * see is in no count. Facets of a query with many candidate pages are
 * estimates (index.h, BK_FACET_EXACT): each count then reads "約N"
 * ("about N"), the total "約N件（推定）", and a line under the facets says
 * how they were estimated, so an estimate is never shown as a count.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index/query.h"
#include "web/cache.h"
#include "web/hits.h"
#include "web/html.h"
#include "web/site.h"

#define KWIC_CONTEXT 30

/* A results page is made within this time from the request's arrival,
 * waiting for a search thread included: what the wait took is taken from
 * the facets' and the search's time limits, each of which keeps at least
 * BK_WEB_SEARCH_MIN_MS. Without it a request that queued behind others
 * would add its own full limits to the queue's, and under load a
 * visitor's wait would grow with every one ahead. */
#define BK_WEB_SEARCH_BUDGET_MS 2000
#define BK_WEB_SEARCH_MIN_MS 100

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* What is left of the page's budget, started at start_ms, for a step
 * that may use `share` of it (1: all). */
static int budget_left_ms(double start_ms, double share)
{
	double left = (BK_WEB_SEARCH_BUDGET_MS - (now_ms() - start_ms)) * share;
	return left > BK_WEB_SEARCH_MIN_MS ? (int)left : BK_WEB_SEARCH_MIN_MS;
}

/* What a results page was asked for: every link of the page keeps it,
 * changing one part. */
struct search_args {
	const char *q, *collection, *profile, *from, *to, *access, *sort;
	int p;
};

enum arg_part { A_COLLECTION, A_PROFILE, A_DATES, A_ACCESS, A_SORT, A_PAGE };

static const char *const sort_names[] = { "relevance", "old", "new" };

/* /search?… for `a` with part `part` set to v (v2: the date range's end),
 * escaped for an attribute; the first page unless part is A_PAGE. */
static void link_with(struct bk_buf *b, const struct search_args *a, enum arg_part part, const char *v,
		      const char *v2, int page)
{
	struct search_args n = *a;
	struct bk_buf u = { 0 };
	n.p = 1;
	switch (part) {
	case A_COLLECTION: n.collection = v; break;
	case A_PROFILE: n.profile = v; break;
	case A_DATES: n.from = v; n.to = v2; break;
	case A_ACCESS: n.access = v; break;
	case A_SORT: n.sort = v; break;
	case A_PAGE: n.p = page; break;
	}
	const char *names[] = { "collection", "profile", "from", "to", "access", "sort" };
	const char *vals[] = { n.collection, n.profile, n.from, n.to, n.access, n.sort };
	bk_buf_addstr(&u, "/search?q=");
	bk_url_component(&u, n.q);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (vals[i] && *vals[i]) {
			bk_buf_addf(&u, "&%s=", names[i]);
			bk_url_component(&u, vals[i]);
		}
	if (n.p > 1)
		bk_buf_addf(&u, "&p=%d", n.p);
	bk_html_attr(b, u.data ? u.data : "");
	bk_buf_release(&u);
}

void bk_web_home(struct bk_web_ctx *c, struct bk_web_response *r)
{
	struct bk_html_frame f = bk_web_frame(c);
	enum bk_lang l = c->lang;
	struct bk_buf *b = &r->body;
	static const struct { const char *example; enum bk_msg what; } help[] = {
		{ "予算 委員会", M_HELP_AND }, { "\"予算案\"", M_HELP_PHRASE },
		{ "予算 OR 決算", M_HELP_OR }, { "-決算", M_HELP_NOT },
	};

	r->status = 200;
	r->type = "text/html; charset=utf-8";
	bk_html_begin_frame(b, &f, bk_msg(l, M_HOME), NULL);
	bk_buf_addstr(b, "<h1>");
	bk_msg_html(b, l, M_SITE, NULL);
	bk_buf_addstr(b, "</h1>\n<p>");
	bk_msg_html(b, l, M_HOME_INTRO, NULL);
	bk_buf_addstr(b, "</p>\n<h2>");
	bk_msg_html(b, l, M_HELP, NULL);
	bk_buf_addstr(b, "</h2>\n<ul class=\"help\">\n");
	for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
		bk_buf_addstr(b, "<li><code lang=\"ja\">");
		bk_html_text(b, help[i].example, (size_t)-1);
		bk_buf_addstr(b, "</code> ");
		bk_msg_html(b, l, help[i].what, NULL);
		bk_buf_addstr(b, "</li>\n");
	}
	bk_buf_addstr(b, "</ul>\n");
	bk_html_end(b);
}

/* A facet value as shown: decades as "1920年代", profiles and levels by
 * their names in the page's language. */
static void facet_label(struct bk_buf *b, enum bk_lang l, int kind, const char *v)
{
	static const enum bk_msg profiles[BK_PROFILE_COUNT] = { M_PROFILE_RECORD, M_PROFILE_BYLAW,
								 M_PROFILE_UKIYOE, M_PROFILE_MAP };
	static const enum bk_msg levels[BK_ACCESS_COUNT] = { M_ACCESS_PUBLIC, M_ACCESS_RESTRICTED,
							      M_ACCESS_CONFIDENTIAL };
	int i;
	if (kind == BK_FACET_DECADE)
		bk_msg_html(b, l, *v ? M_DECADE : M_UNDATED, v);
	else if (kind == BK_FACET_PROFILE && (i = bk_profile_parse(v)) >= 0)
		bk_msg_html(b, l, profiles[i], NULL);
	else if (kind == BK_FACET_ACCESS && (i = bk_access_parse(v)) >= 0)
		bk_msg_html(b, l, levels[i], NULL);
	else
		bk_html_text(b, v, (size_t)-1);
}

/* The date range of a decade "1920": 1920..1929. */
static void decade_range(const char *v, char *from, char *to)
{
	snprintf(from, 8, "%.4s", v);
	snprintf(to, 8, "%.3s9", v);
}

static bool decade_selected(const struct search_args *a, const char *v)
{
	char from[8], to[8];
	if (!*v || !a->from || !a->to)
		return false;
	decade_range(v, from, to);
	return !strcmp(a->from, from) && !strcmp(a->to, to);
}

/* One facet: its heading and a link per value, the chosen one marked,
 * with a link back to all values. */
static void facet_html(struct bk_buf *b, enum bk_lang l, const struct search_args *a,
		       const struct bk_facet_counts *fc, int kind)
{
	static const enum bk_msg titles[BK_FACET_KINDS] = { M_FACET_COLLECTION, M_FACET_PROFILE,
							     M_FACET_DECADE, M_FACET_ACCESS };
	static const enum arg_part parts[BK_FACET_KINDS] = { A_COLLECTION, A_PROFILE, A_DATES, A_ACCESS };
	const char *chosen = kind == BK_FACET_COLLECTION ? a->collection
			     : kind == BK_FACET_PROFILE  ? a->profile
			     : kind == BK_FACET_ACCESS   ? a->access
			     : NULL;
	bool any = kind == BK_FACET_DECADE ? (a->from && *a->from) || (a->to && *a->to) : chosen && *chosen;

	bk_buf_addf(b, "<h3 id=\"facet-%d\">", kind);
	bk_msg_html(b, l, titles[kind], NULL);
	bk_buf_addf(b, "</h3>\n<ul class=\"facet\" data-facet=\"%s\" aria-labelledby=\"facet-%d\">\n",
		    kind == BK_FACET_COLLECTION ? "collection" : kind == BK_FACET_PROFILE ? "profile"
		    : kind == BK_FACET_DECADE ? "decade" : "access", kind);
	if (any) {
		bk_buf_addstr(b, "<li><a href=\"");
		link_with(b, a, parts[kind], NULL, NULL, 1);
		bk_buf_addstr(b, "\">");
		bk_msg_html(b, l, M_ALL, NULL);
		bk_buf_addstr(b, "</a></li>\n");
	}
	for (int i = 0; i < fc->n[kind]; i++) {
		const struct bk_facet_count *v = &fc->v[kind][i];
		bool on = kind == BK_FACET_DECADE ? decade_selected(a, v->value) : chosen && !strcmp(chosen, v->value);
		bk_buf_addstr(b, "<li>");
		if (on)
			bk_buf_addstr(b, "<strong aria-current=\"true\">");
		if (kind == BK_FACET_DECADE && !*v->value) {
			/* undated pages cannot be chosen by a date range */
			facet_label(b, l, kind, v->value);
		} else {
			char from[8], to[8];
			if (kind == BK_FACET_DECADE)
				decade_range(v->value, from, to);
			bk_buf_addstr(b, "<a href=\"");
			link_with(b, a, parts[kind], kind == BK_FACET_DECADE ? from : v->value,
				  kind == BK_FACET_DECADE ? to : NULL, 1);
			bk_buf_addstr(b, "\">");
			facet_label(b, l, kind, v->value);
			bk_buf_addstr(b, "</a>");
		}
		if (fc->estimated) {
			/* an estimate says so, in words and for scripts */
			bk_buf_addf(b, " <span class=\"count\" data-estimate=\"%ld\">(", v->pages);
			bk_msg_html_num(b, l, fc->partial ? M_COUNT_ABOUT_MORE : M_COUNT_ABOUT, v->pages);
			bk_buf_addstr(b, ")</span>");
		} else {
			bk_buf_addf(b, " <span class=\"count\">(%ld)</span>", v->pages);
		}
		if (on)
			bk_buf_addstr(b, "</strong>");
		bk_buf_addstr(b, "</li>\n");
	}
	bk_buf_addstr(b, "</ul>\n");
}

/* The date range and sort form: a GET of the same search, its other
 * choices kept in hidden fields. */
static void refine_form(struct bk_buf *b, enum bk_lang l, const struct search_args *a)
{
	static const enum bk_msg sorts[] = { M_SORT_RELEVANCE, M_SORT_OLD, M_SORT_NEW };
	const char *keep[][2] = { { "q", a->q }, { "collection", a->collection }, { "profile", a->profile },
				  { "access", a->access } };
	bk_buf_addstr(b, "<form class=\"refine\" action=\"/search\" method=\"get\">\n");
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (keep[i][1] && *keep[i][1]) {
			bk_buf_addf(b, "<input type=\"hidden\" name=\"%s\" value=\"", keep[i][0]);
			bk_html_attr(b, keep[i][1]);
			bk_buf_addstr(b, "\">\n");
		}
	bk_buf_addstr(b, "<fieldset>\n<legend>");
	bk_msg_html(b, l, M_DATE_RANGE, NULL);
	bk_buf_addstr(b, "</legend>\n<p id=\"date-hint\" class=\"meta\">");
	bk_msg_html(b, l, M_DATE_HINT, NULL);
	bk_buf_addstr(b, "</p>\n<label for=\"from\">");
	bk_msg_html(b, l, M_DATE_FROM, NULL);
	bk_buf_addstr(b, "</label> <input id=\"from\" name=\"from\" inputmode=\"numeric\" aria-describedby=\"date-hint\" value=\"");
	bk_html_attr(b, a->from);
	bk_buf_addstr(b, "\">\n<label for=\"to\">");
	bk_msg_html(b, l, M_DATE_TO, NULL);
	bk_buf_addstr(b, "</label> <input id=\"to\" name=\"to\" inputmode=\"numeric\" aria-describedby=\"date-hint\" value=\"");
	bk_html_attr(b, a->to);
	bk_buf_addstr(b, "\">\n</fieldset>\n<p><label for=\"sort\">");
	bk_msg_html(b, l, M_SORT, NULL);
	bk_buf_addstr(b, "</label> <select id=\"sort\" name=\"sort\">\n");
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		bool on = a->sort ? !strcmp(a->sort, sort_names[i]) : i == 0;
		bk_buf_addf(b, "<option value=\"%s\"%s>", sort_names[i], on ? " selected" : "");
		bk_msg_html(b, l, sorts[i], NULL);
		bk_buf_addstr(b, "</option>\n");
	}
	bk_buf_addstr(b, "</select>\n<button type=\"submit\">");
	bk_msg_html(b, l, M_APPLY, NULL);
	bk_buf_addstr(b, "</button></p>\n</form>\n");
}

struct result_list {
	struct bk_web_ctx *c;
	struct bk_matcher *m;
	struct bk_buf html;
	const char *q;
	int skip, seen, shown;
	struct bk_error *err;
};

/* The hit page's thumbnail inside the result's link; alt is empty
 * because the link's text (title and page) already names it. Its route
 * checks the document's level again. */
static void thumb_img(struct bk_buf *b, const char *doc, int page)
{
	struct bk_buf u = { 0 };
	bk_buf_addstr(&u, "/doc/");
	bk_url_component(&u, doc);
	bk_buf_addf(&u, "/page/%d/thumb", page);
	bk_buf_addstr(b, "<img class=\"thumb\" src=\"");
	bk_html_attr(b, u.data ? u.data : "");
	bk_buf_addf(b, "\" width=\"%d\" alt=\"\" loading=\"lazy\">", BK_WEB_THUMB_WIDTH);
	bk_buf_release(&u);
}

static int add_result(const struct bk_search_hit *h, void *ud)
{
	struct result_list *l = ud;
	struct bk_text_range *ranges = NULL;
	enum bk_lang lang = l->c->lang;
	int n = 0;

	/* the reader sees only the role's levels; check again all the same */
	if (h->access > bk_role_max_access(l->c->role))
		return 0;
	if (l->seen++ < l->skip)
		return 0;
	if (bk_text_hits(l->m, h->text, h->text_len, &ranges, &n, l->err))
		return -1;
	bk_buf_addstr(&l->html, "<li class=\"hit\"><a href=\"");
	bk_web_page_link(&l->html, h->doc, h->page, l->q);
	bk_buf_addstr(&l->html, "\">");
	thumb_img(&l->html, h->doc, h->page);
	bk_html_text(&l->html, *h->title ? h->title : h->doc, (size_t)-1);
	bk_buf_addstr(&l->html, " <span class=\"pageno\">");
	bk_msg_html_num(&l->html, lang, M_PAGE_N, h->page);
	bk_buf_addstr(&l->html, "</span></a>\n<div class=\"meta\">");
	bk_html_text(&l->html, h->collection, (size_t)-1);
	if (*h->date) {
		bk_buf_addstr(&l->html, " · ");
		bk_html_text(&l->html, h->date, (size_t)-1);
	}
	bk_buf_addstr(&l->html, " · ");
	bk_msg_html_num(&l->html, lang, M_HITS_ON_PAGE, n);
	bk_buf_addstr(&l->html, "</div>\n<p class=\"kwic\" lang=\"ja\">");
	bk_html_kwic(&l->html, h->text, h->text_len, ranges, n, KWIC_CONTEXT);
	bk_buf_addstr(&l->html, "</p></li>\n");
	free(ranges);
	l->shown++;
	return 0;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static void pager(struct bk_buf *b, enum bk_lang l, const struct search_args *a, long npages)
{
	bk_buf_addstr(b, "<nav class=\"pager\" aria-label=\"");
	bk_msg_html(b, l, M_PAGER, NULL);
	bk_buf_addstr(b, "\">\n");
	if (a->p > 1) {
		bk_buf_addstr(b, "<a rel=\"prev\" href=\"");
		link_with(b, a, A_PAGE, NULL, NULL, a->p - 1);
		bk_buf_addstr(b, "\">");
		bk_msg_html(b, l, M_PREV, NULL);
		bk_buf_addstr(b, "</a>\n");
	}
	for (int i = 1; i <= npages; i++) {
		if (i == a->p) {
			bk_buf_addf(b, "<span aria-current=\"page\">%d</span>\n", i);
			continue;
		}
		bk_buf_addstr(b, "<a href=\"");
		link_with(b, a, A_PAGE, NULL, NULL, i);
		bk_buf_addstr(b, "\" aria-label=\"");
		bk_msg_html_num(b, l, M_RESULT_PAGE, i);
		bk_buf_addf(b, "\">%d</a>\n", i);
	}
	if (a->p < npages) {
		bk_buf_addstr(b, "<a rel=\"next\" href=\"");
		link_with(b, a, A_PAGE, NULL, NULL, a->p + 1);
		bk_buf_addstr(b, "\">");
		bk_msg_html(b, l, M_NEXT, NULL);
		bk_buf_addstr(b, "</a>\n");
	}
	bk_buf_addstr(b, "</nav>\n");
}

/* The search of a results page, run on a search thread (site.h,
 * bk_web_compute): its facets and its hits. */
struct results_job {
	struct bk_web_ctx *c;
	const struct bk_search_query *sq;
	double start_ms;
	struct bk_facet_counts *fc;
	struct result_list *l;
	struct bk_search_info *info;
	struct bk_error *err;
	int status; /* 0: done; 500: the index cannot be read; 400: the query was refused */
};

static void compute_results(void *arg)
{
	struct results_job *j = arg;
	struct bk_index *idx = bk_web_index(j->c, j->err);
	if (!idx) {
		j->status = 500;
		return;
	}
	/* the facets may use half of what is left, the search the rest */
	if (bk_index_facet_counts(idx, j->sq, budget_left_ms(j->start_ms, 0.5), j->fc, j->err) ||
	    bk_index_search_timed(idx, j->sq, budget_left_ms(j->start_ms, 1), add_result, j->l, j->info, j->err))
		j->status = 400;
}

void bk_web_search(struct bk_web_ctx *c, struct bk_web_response *r)
{
	const struct bk_web_request *req = c->req;
	struct search_args a = { bk_web_arg(req, "q"), bk_web_arg(req, "collection"), bk_web_arg(req, "profile"),
				 bk_web_arg(req, "from"), bk_web_arg(req, "to"), bk_web_arg(req, "access"),
				 bk_web_arg(req, "sort"), 1 };
	const char *pstr = bk_web_arg(req, "p");
	struct result_list l = { .c = c, .q = a.q };
	struct bk_facet_counts fc = { 0 };
	struct bk_search_info info = { 0 };
	struct bk_query parsed = { 0 };
	struct bk_error err;
	enum bk_lang lang = c->lang;
	struct bk_buf content = { 0 }, key = { 0 }, *b = &content;
	char version[1024];
	int sort = 0;
	bool claimed = false; /* this request computes the page for all who ask (cache.h) */
	double start_ms = now_ms();

	bk_error_init(&err);
	l.err = &err;
	const char *all[] = { a.q, a.collection, a.profile, a.from, a.to, a.access, a.sort, pstr };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!bk_web_arg_ok(all[i])) {
			bk_web_error_msg(r, 400, M_BAD_QUERY, M_BAD_QUERY_TEXT);
			return;
		}
	if (!a.q || !*a.q) {
		bk_web_home(c, r);
		return;
	}
	a.collection = nonempty(a.collection);
	a.profile = nonempty(a.profile);
	a.from = nonempty(a.from);
	a.to = nonempty(a.to);
	/* a visitor has one level: the choice is staff's */
	a.access = c->role > BK_ROLE_PUBLIC ? nonempty(a.access) : NULL;
	a.sort = nonempty(a.sort);
	if ((a.from && !bk_date_valid(a.from)) || (a.to && !bk_date_valid(a.to))) {
		bk_web_error_msg(r, 400, M_BAD_QUERY, M_BAD_DATE);
		return;
	}
	if (a.sort) {
		for (sort = 0; sort < 3 && strcmp(a.sort, sort_names[sort]); sort++)
			;
		if (sort == 3 || sort == 0)
			a.sort = NULL, sort = sort == 3 ? 0 : sort;
	}
	if (pstr && (a.p = atoi(pstr)) < 1)
		a.p = 1;
	if (a.p > BK_WEB_MAX_PAGES)
		a.p = BK_WEB_MAX_PAGES;
	struct bk_search_query sq = { a.q, a.collection, a.profile, a.from, a.to, a.p * BK_WEB_PER_PAGE,
				      (enum bk_search_sort)sort, a.access };
	l.skip = (a.p - 1) * BK_WEB_PER_PAGE;
	/* the cache's key: everything the content depends on, fields
	 * separated by a byte no argument holds (bk_web_arg_ok) */
	bk_buf_addf(&key, "%d\x1f%d\x1f%d\x1f%d", (int)c->role, (int)lang, sort, a.p);
	const char *parts[] = { a.q, a.collection, a.profile, a.from, a.to, a.access };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		bk_buf_addstr(&key, "\x1f");
		bk_buf_addstr(&key, parts[i] ? parts[i] : "\x1e");
	}
	/* a cached page needs no reader and no search thread: it is never
	 * held up by searches being computed; and a page is computed once
	 * however many ask for it at once (cache.h): the others wait for its
	 * answer */
	bk_web_index_version(c, version, sizeof(version));
	if (!key.failed) {
		enum bk_web_cache_claim got = bk_web_cache_claim(c->cache, key.data, version, &content,
								 BK_WEB_SEARCH_BUDGET_MS);
		if (got == BK_WEB_CACHE_HIT)
			goto page;
		claimed = got == BK_WEB_CACHE_CLAIMED;
	}
	if (bk_query_parse(a.q, &parsed, &err) || bk_matcher_new(&l.m, &parsed, &err)) {
		bk_web_error_page(r, 400, bk_msg(lang, M_BAD_QUERY), err.msg);
		goto out;
	}
	struct results_job job = { c, &sq, start_ms, &fc, &l, &info, &err, 0 };
	bk_web_compute(c, compute_results, &job);
	if (job.status) {
		bk_web_error_page(r, job.status, job.status == 500 ? "エラー" : bk_msg(lang, M_BAD_QUERY), err.msg);
		goto out;
	}
	/* the total: exact when the search or the facets read every
	 * candidate, an estimate when the facets are, else a lower bound */
	long total = fc.total;
	enum bk_msg total_msg = fc.counted && !info.truncated ? M_TOTAL : M_TOTAL_MORE;
	if (info.counted) {
		total = info.matches;
		total_msg = M_TOTAL;
	} else if (fc.estimated && !info.truncated) {
		total_msg = fc.partial ? M_TOTAL_ABOUT_MORE : M_TOTAL_ABOUT;
	}
	bk_buf_addstr(b, "<h1>");
	bk_msg_html(b, lang, M_RESULTS_FOR, a.q);
	bk_buf_addstr(b, "</h1>\n<aside class=\"facets-box\" aria-labelledby=\"refine\">\n<h2 id=\"refine\">");
	bk_msg_html(b, lang, M_REFINE, NULL);
	bk_buf_addstr(b, "</h2>\n");
	/* no facets without a page to count: a hidden document's words show
	 * the same empty page as words of no document */
	if (fc.n[BK_FACET_COLLECTION]) {
		bk_buf_addstr(b, "<nav class=\"facets\" aria-labelledby=\"refine\">\n");
		for (int k = 0; k < BK_FACET_KINDS; k++)
			if (k != BK_FACET_ACCESS || c->role > BK_ROLE_PUBLIC)
				facet_html(b, lang, &a, &fc, k);
		if (fc.estimated) {
			bk_buf_addf(b, "<p class=\"meta estimated\" data-candidates=\"%ld\" data-sampled=\"%ld\" "
				    "data-confirmed=\"%ld\">", fc.candidates, fc.sampled, fc.confirmed);
			bk_msg_html_num(b, lang, M_FACETS_ESTIMATED, fc.sampled);
			bk_buf_addstr(b, "</p>\n");
		}
		bk_buf_addstr(b, "</nav>\n");
	}
	refine_form(b, lang, &a);
	bk_buf_addstr(b, "</aside>\n");
	bk_buf_addf(b, "<p class=\"total\" data-total=\"%ld\"%s role=\"status\">", total,
		    total_msg == M_TOTAL_ABOUT || total_msg == M_TOTAL_ABOUT_MORE ? " data-estimated=\"true\"" : "");
	bk_msg_html_num(b, lang, total_msg, total);
	bk_buf_addstr(b, "</p>\n");
	if (!l.shown) {
		bk_buf_addstr(b, "<p class=\"none\">");
		bk_msg_html(b, lang, M_NONE, NULL);
		bk_buf_addstr(b, "</p>\n");
	} else {
		bk_buf_addf(b, "<ol class=\"results\" start=\"%d\" aria-label=\"", l.skip + 1);
		bk_msg_html(b, lang, M_RESULTS, NULL);
		bk_buf_addstr(b, "\">\n");
		bk_buf_add(b, l.html.data, l.html.len);
		bk_buf_addstr(b, "</ol>\n");
	}
	long npages = (total + BK_WEB_PER_PAGE - 1) / BK_WEB_PER_PAGE;
	if (npages > BK_WEB_MAX_PAGES)
		npages = BK_WEB_MAX_PAGES;
	if (npages > 1)
		pager(b, lang, &a, npages);
	/* an estimate is kept, being what the next would make of this index;
	 * a page cut short by time for a shorter while (cache.h) */
	if (!key.failed && !content.failed)
		bk_web_cache_put(c->cache, key.data, version, content.data, content.len,
				 fc.truncated || info.truncated ? BK_WEB_CACHE_CUT_TTL_S : BK_WEB_CACHE_TTL_S);
	if (claimed) {
		bk_web_cache_unclaim(c->cache, key.data);
		claimed = false;
	}
page:;
	struct bk_html_frame f = bk_web_frame(c);
	r->status = 200;
	r->type = "text/html; charset=utf-8";
	bk_html_begin_frame(&r->body, &f, a.q, a.q);
	bk_buf_add(&r->body, content.data, content.len);
	bk_html_end(&r->body);
out:
	/* a page that failed is not kept: whoever waited for it computes it */
	if (claimed)
		bk_web_cache_unclaim(c->cache, key.data);
	bk_buf_release(&content);
	bk_buf_release(&key);
	bk_facet_counts_release(&fc);
	bk_matcher_free(&l.m);
	bk_query_release(&parsed);
	bk_buf_release(&l.html);
}
