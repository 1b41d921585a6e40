/*
 * web/hits.h — where a query's hits are: stretches of a page's text,
 * their boxes on the page image, and the KWIC line of a search result.
 *
 * Boxes come from the characters' own boxes in the page model (bunko/page.h:
 * Tesseract reports each Japanese character as a word): a hit becomes one
 * box per line (or vertical column) it touches, the union of the boxes of
 * the words it covers on that line. So a hit of two characters in a long
 * line is a box around those two characters, and in a vertical column a
 * tall narrow box around them; a hit that runs on into the next line or
 * column gives a second box there. A Latin word partly covered counts
 * whole (the model has no boxes inside a word).
 *
 * Ownership: everything in a bk_page_hits is owned by it
 * (bk_page_hits_release).
 */
#ifndef BUNKO_WEB_HITS_H
#define BUNKO_WEB_HITS_H

#include <stddef.h>

#include "bunko/buf.h"
#include "bunko/common.h"
#include "index/match.h"
#include "bunko/page.h"

struct bk_text_range {
	int start, end; /* bytes [start, end) of the text */
};

struct bk_hit_box {
	struct bk_box box; /* pixels of the page model's image */
	int hit;           /* index into ranges */
	enum bk_dir dir;   /* of the line the box lies on */
};

struct bk_page_hits {
	char *text;                    /* the page's text (bk_page_text) */
	size_t len;
	struct bk_text_range *ranges;  /* the hits, in text order, merged */
	int nranges;
	struct bk_hit_box *boxes;      /* in text order */
	int nboxes;
};

/* The hits of matcher m (NULL: none) on `page`. */
int bk_page_hits_find(const struct bk_page *page, struct bk_matcher *m, struct bk_page_hits *h,
		      struct bk_error *err);
void bk_page_hits_release(struct bk_page_hits *h);

/* The hits of m on any text, into *ranges (caller frees; *n of them). */
int bk_text_hits(struct bk_matcher *m, const char *text, size_t len, struct bk_text_range **ranges,
		 int *n, struct bk_error *err);

/* Writes text[0..len) HTML-escaped with each range in <mark>…</mark>. */
void bk_html_marked(struct bk_buf *b, const char *text, size_t len, const struct bk_text_range *r,
		    int n);
/* The KWIC line of a result: about `context` characters either side of
 * the first hit, "…" where cut, the hits inside in <mark>, white space
 * between Japanese characters dropped and other runs made one space,
 * all escaped. */
void bk_html_kwic(struct bk_buf *b, const char *text, size_t len, const struct bk_text_range *r,
		  int n, int context);

#endif
