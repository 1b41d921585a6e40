/*
 * bunko/page.h — the page model: what OCR read on one page, as blocks, lines
 * and words with boxes, confidences and writing direction, in reading order.
 *
 * Everything downstream is built from this model, never from Tesseract's own
 * renderers: the PDF text layer, the text/hOCR/ALTO sidecars and the index.
 * The model is stored beside each document (bk_page_write), so reindexing
 * and PDF rebuilding never run OCR again.
 *
 * Guarantees:
 * - blocks, lines and words are kept in reading order: horizontal lines top
 *   to bottom, words left to right; vertical columns right to left,
 *   characters top to bottom.
 * - word text is UTF-8 without spaces. Tesseract reports each Japanese
 *   character as a "word"; the model keeps them as they come, and
 *   bk_line_text() joins them with no space inside a Japanese run and one
 *   space between two Latin words (true word boundaries).
 * - boxes are in pixels of the image the page was read from (after cleanup),
 *   origin top-left, x1/y1 exclusive.
 *
 * Ownership: a page owns its blocks, a block its lines, a line its words and
 * a word its text. bk_page_release() frees all of it.
 */
#ifndef BUNKO_PAGE_H
#define BUNKO_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bunko/common.h"
#include "bunko/utf8.h" /* bk_utf8_next */

enum bk_dir {
	BK_DIR_HORIZONTAL = 0, /* lines left to right, top to bottom */
	BK_DIR_VERTICAL = 1    /* 縦書き: columns top to bottom, right to left */
};

struct bk_box {
	int x0, y0, x1, y1;
};

struct bk_word {
	struct bk_box box;
	float conf; /* 0..100 */
	char *text; /* UTF-8, never empty, no whitespace */
};

struct bk_line {
	struct bk_box box;
	enum bk_dir dir;
	struct bk_word *words;
	size_t nwords, alloc;
};

struct bk_block {
	struct bk_box box;
	enum bk_dir dir;
	char lang[16]; /* Tesseract model that read it: "jpn", "jpn_vert", "eng" */
	struct bk_line *lines;
	size_t nlines, alloc;
};

struct bk_page {
	int width, height; /* pixels of the image the boxes refer to */
	int xres, yres;    /* dots per inch of that image */
	int number;        /* 1-based page number within the document */
	double skew;       /* degrees of skew corrected by cleanup */
	int rotation;      /* 0, 90, 180 or 270: rotation applied by cleanup */
	struct bk_block *blocks;
	size_t nblocks, alloc;
};

void bk_page_init(struct bk_page *page);
/* Frees everything the page owns and re-initializes it. */
void bk_page_release(struct bk_page *page);
/* Frees the blocks from number `nblocks` on (a reading that is replaced);
 * the page keeps its first `nblocks` blocks and its geometry. */
void bk_page_truncate(struct bk_page *page, size_t nblocks);

/* Appends a child and returns it (owned by the parent); NULL when out of memory. */
struct bk_block *bk_page_add_block(struct bk_page *page, struct bk_box box,
				   enum bk_dir dir, const char *lang);
struct bk_line *bk_block_add_line(struct bk_block *block, struct bk_box box,
				  enum bk_dir dir);
/* Copies `len` bytes of `text`; surrounding whitespace is dropped and a
 * word that is left empty is not added (returns the line's last word or
 * NULL). */
struct bk_word *bk_line_add_word(struct bk_line *line, struct bk_box box,
				 float conf, const char *text, size_t len);

/* True when a space belongs between a word ending in `prev` and one starting
 * with `next`: only between two non-CJK (Latin, digit) characters. */
bool bk_text_needs_space(const char *prev_word, const char *next_word);
/* True when the UTF-8 code point `cp` is Japanese/CJK script or punctuation. */
bool bk_codepoint_is_cjk(unsigned cp);

/* Newly allocated text of a line, words joined by the rule above. */
char *bk_line_text(const struct bk_line *line);
/* Newly allocated reading-order text of the page: one line per text line,
 * a blank line between blocks. Empty string for a page with no text. */
char *bk_page_text(const struct bk_page *page);
/* bk_page_text, also writing where each word starts: word_starts (NULL:
 * not wanted) has bk_page_word_count() entries, filled in reading order
 * (blocks, lines, words as stored) with the byte offset of the word's text
 * in the returned string, so a range of the text (a search hit) leads back
 * to the words and their boxes. */
char *bk_page_text_at(const struct bk_page *page, size_t *word_starts);
/* Number of words on the page. */
size_t bk_page_word_count(const struct bk_page *page);

/*
 * Serialization: a line-oriented text format, stable and easy for another
 * tool to read:
 *   bunko-page 1
 *   page W H XRES YRES NUMBER SKEW ROTATION
 *   block X0 Y0 X1 Y1 h|v LANG
 *   line X0 Y0 X1 Y1 h|v
 *   word X0 Y0 X1 Y1 CONF TEXT
 *   end
 * TEXT escapes backslash, tab and newline as \\ \t \n.
 * bk_page_read() reads one page from the stream's current position; `name`
 * is the file name used in error messages.
 */
int bk_page_write(const struct bk_page *page, FILE *fp);
int bk_page_read(struct bk_page *page, FILE *fp, const char *name,
		 struct bk_error *err);

#endif
