/*
 * web/hits.c — hits on a page's text and on its image, and KWIC lines
 * (see hits.h).
 *
 * The text the hits are found in is built from the page model by
 * bk_page_text_at, the function that made the indexed text, with each
 * word's offset in it; so a hit's bytes lead back to exactly the words
 * the index matched, with no second guess at alignment.
 */
#include "web/hits.h"

#include <stdlib.h>
#include <string.h>

#include "web/html.h"

struct collect {
	struct bk_text_range *v;
	int n, cap;
	bool failed;
};

static void add_range(int start, int end, void *ud)
{
	struct collect *c = ud;
	if (c->failed)
		return;
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 16;
		struct bk_text_range *g = realloc(c->v, (size_t)cap * sizeof(*g));
		if (!g) {
			c->failed = true;
			return;
		}
		c->v = g;
		c->cap = cap;
	}
	c->v[c->n++] = (struct bk_text_range){ start, end };
}

int bk_text_hits(struct bk_matcher *m, const char *text, size_t len, struct bk_text_range **ranges,
		 int *n, struct bk_error *err)
{
	struct collect c = { 0 };

	*ranges = NULL;
	*n = 0;
	if (bk_matcher_ranges(m, text, len, add_range, &c, err) < 0 || c.failed) {
		free(c.v);
		return c.failed ? bk_error_set(err, "out of memory") : -1;
	}
	*ranges = c.v;
	*n = c.n;
	return 0;
}

static struct bk_box box_union(struct bk_box a, struct bk_box b)
{
	return (struct bk_box){ a.x0 < b.x0 ? a.x0 : b.x0, a.y0 < b.y0 ? a.y0 : b.y0,
				a.x1 > b.x1 ? a.x1 : b.x1, a.y1 > b.y1 ? a.y1 : b.y1 };
}

static int push_box(struct bk_page_hits *h, int *cap, struct bk_hit_box box)
{
	if (h->nboxes == *cap) {
		int ncap = *cap ? *cap * 2 : 16;
		struct bk_hit_box *g = realloc(h->boxes, (size_t)ncap * sizeof(*g));
		if (!g)
			return -1;
		h->boxes = g;
		*cap = ncap;
	}
	h->boxes[h->nboxes++] = box;
	return 0;
}

int bk_page_hits_find(const struct bk_page *page, struct bk_matcher *m, struct bk_page_hits *h,
		      struct bk_error *err)
{
	size_t nwords = bk_page_word_count(page);
	size_t *starts = calloc(nwords + 1, sizeof(*starts));
	int cap = 0, rc = -1;

	memset(h, 0, sizeof(*h));
	if (!starts || !(h->text = bk_page_text_at(page, starts))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	h->len = strlen(h->text);
	if (!m) {
		rc = 0;
		goto out;
	}
	if (bk_text_hits(m, h->text, h->len, &h->ranges, &h->nranges, err))
		goto out;
	for (int r = 0; r < h->nranges; r++) {
		size_t w = 0;
		for (size_t b = 0; b < page->nblocks; b++) {
			const struct bk_block *block = &page->blocks[b];
			for (size_t l = 0; l < block->nlines; l++) {
				const struct bk_line *line = &block->lines[l];
				struct bk_box acc = { 0, 0, 0, 0 };
				bool any = false;
				for (size_t k = 0; k < line->nwords; k++, w++) {
					size_t ws = starts[w], we = ws + strlen(line->words[k].text);
					if (ws >= (size_t)h->ranges[r].end || we <= (size_t)h->ranges[r].start)
						continue;
					acc = any ? box_union(acc, line->words[k].box) : line->words[k].box;
					any = true;
				}
				if (any && push_box(h, &cap, (struct bk_hit_box){ acc, r, line->dir })) {
					bk_error_set(err, "out of memory");
					goto out;
				}
			}
		}
	}
	rc = 0;
out:
	free(starts);
	if (rc)
		bk_page_hits_release(h);
	return rc;
}

void bk_page_hits_release(struct bk_page_hits *h)
{
	free(h->text);
	free(h->ranges);
	free(h->boxes);
	memset(h, 0, sizeof(*h));
}

void bk_html_marked(struct bk_buf *b, const char *text, size_t len, const struct bk_text_range *r,
		    int n)
{
	size_t at = 0;
	for (int i = 0; i < n; i++) {
		size_t s = (size_t)r[i].start, e = (size_t)r[i].end;
		if (s < at || e > len || s >= e)
			continue;
		bk_html_text(b, text + at, s - at);
		bk_buf_addstr(b, "<mark>");
		bk_html_text(b, text + s, e - s);
		bk_buf_addstr(b, "</mark>");
		at = e;
	}
	bk_html_text(b, text + at, len - at);
}

static size_t step_back(const char *text, size_t at, int chars)
{
	while (chars-- > 0 && at > 0) {
		at--;
		while (at > 0 && ((unsigned char)text[at] & 0xc0) == 0x80)
			at--;
	}
	return at;
}

static size_t step_forward(const char *text, size_t len, size_t at, int chars)
{
	while (chars-- > 0 && at < len) {
		at++;
		while (at < len && ((unsigned char)text[at] & 0xc0) == 0x80)
			at++;
	}
	return at;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Escaped text of [from, to) with white space tidied: a run of it goes
 * when both its neighbours are non-ASCII (Japanese line ends), else it
 * becomes one space, except at the start of the line (b->len == origin). */
static void tidy_text(struct bk_buf *b, const char *text, size_t from, size_t to, size_t len,
		      size_t origin)
{
	size_t i = from;
	while (i < to) {
		size_t j = i;
		while (j < to && !is_space(text[j]))
			j++;
		bk_html_text(b, text + i, j - i);
		if (j == to)
			break;
		size_t k = j;
		while (k < len && is_space(text[k]))
			k++;
		bool before = j > 0 && ((unsigned char)text[j - 1] & 0x80);
		bool after = k < len && ((unsigned char)text[k] & 0x80);
		if (!(before && after) && b->len > origin && k < len)
			bk_buf_addstr(b, " ");
		i = k < to ? k : to;
	}
}

void bk_html_kwic(struct bk_buf *b, const char *text, size_t len, const struct bk_text_range *r,
		  int n, int context)
{
	size_t first_s = n ? (size_t)r[0].start : 0, first_e = n ? (size_t)r[0].end : 0;
	size_t from = step_back(text, first_s, context);
	size_t to = step_forward(text, len, first_e, context);
	size_t at = from, origin;

	if (from > 0)
		bk_buf_addstr(b, "…");
	origin = b->len;
	for (int i = 0; i < n && (size_t)r[i].start < to; i++) {
		size_t s = (size_t)r[i].start, e = (size_t)r[i].end;
		if (e <= from || s < at)
			continue;
		if (e > to)
			e = to;
		tidy_text(b, text, at, s, len, origin);
		bk_buf_addstr(b, "<mark>");
		tidy_text(b, text, s, e, len, origin);
		bk_buf_addstr(b, "</mark>");
		at = e;
	}
	tidy_text(b, text, at, to, len, origin);
	if (to < len)
		bk_buf_addstr(b, "…");
}
