/*
 * ocr/reader.h — reading one scanned page: orientation, cleanup, writing
 * direction per text region, OCR with the model and segmentation mode that
 * fit each region, reading order. The result is one or two page models
 * (two when a spread is split) and the images the PDF shows.
 *
 * With lang "auto" (the default) the reader chooses by itself, at about the
 * cost of one Tesseract pass per page:
 *  - the cleaned page is cut into text regions by an X-Y cut of its ink
 *    (empty rows, then wide empty columns), and each region's writing
 *    direction is read from its shape: a horizontal line is wider than a
 *    character is tall; a vertical body is tall with columns separated by
 *    empty gaps (see reader.c for the measured rules); the pieces of a
 *    narrow vertical column cut apart by the rows (a side tab) are joined;
 *  - every page is sampled (a band of its largest regions read with jpn):
 *    Latin text is read with eng and Tesseract's own layout analysis
 *    (PSM 3), never with a vertical model;
 *  - a Japanese page of mostly horizontal regions is read with jpn and
 *    PSM 3, its sure columns of vertical text (side tabs) with jpn_vert
 *    (PSM 5);
 *  - a page of mostly vertical regions is read region by region, as one
 *    block each with a white margin: vertical ones with jpn_vert (PSM 5),
 *    horizontal ones with jpn (PSM 6), so a vertical body keeps its
 *    horizontal heading first;
 *  - second readings by Tesseract's layout analysis of the whole page,
 *    the more believable reading kept (its Japanese characters, each
 *    weighted by its word's confidence; for Latin text the mean
 *    confidence): of the
 *    gray scan when Tesseract was given a binarized copy of it, and of a
 *    page whose words come out with low confidence, with the model of
 *    each direction. Such a page is first checked with orientation
 *    detection; if it is upside down or on its side it is rotated (by
 *    cleanup) and read again.
 * Blocks are ordered for reading: top to bottom; side by side regions left
 * to right on a horizontal page, right to left on a vertical one.
 *
 * Pictures (pictures make Tesseract see letters in textures):
 *  - ukiyoe reads only the print's title panels (cartouches: light, flat,
 *    elongated rectangles with writing, found by bk_image_find_panels),
 *    a tall panel with jpn_vert (PSM 5), a wide one with jpn (PSM 6);
 *    nothing else of the picture. No panel, no text.
 *  - map reads sparse text (PSM 11) on the dark ink of the map (cleanup's
 *    OCR copy), in bands of a bounded size, so a very large map costs no
 *    more Tesseract memory than a small one.
 *  - in both, only what looks like lettering is kept: lines with a
 *    confidently read word, words with a letter that are not only line
 *    strokes (ー 一 | ...), as large as lettering (see reader.c).
 *
 * A blank page or a pure picture gives an empty page model, not an error.
 */
#ifndef BUNKO_OCR_READER_H
#define BUNKO_OCR_READER_H

#include "bunko/common.h"
#include "ocr/cleanup.h"
#include "ocr/engine.h"
#include "ocr/image.h"
#include "bunko/page.h"

struct bk_read_options {
	const char *lang; /* "auto" (default), or a Tesseract model such as
			     "jpn", "jpn_vert", "eng", "jpn+eng": that model,
			     full layout analysis, no direction choice */
	enum bk_profile profile;
	int source_page;  /* the page's 1-based number in its file, named in
			     error messages; 0 (the default): the first
			     logical page number is named instead */
	bool bilevel; /* show the binarized page (see bk_cleanup_options) */
};

void bk_read_options_init(struct bk_read_options *opt);

struct bk_read_result {
	int npages;                  /* 1, or 2 for a split spread */
	struct bk_page pages[2];     /* page models, numbered first_number.. */
	struct bk_image *display[2]; /* images the PDF shows (owned) */
	struct bk_cleanup_report report;
};

/* Orientation -> cleanup -> writing direction per block -> OCR, for one
 * scanned page. `name` is the file name used in error messages, quoted
 * once: "'x.tif' page 3: ...". On
 * failure `out` holds nothing (it is released). Boxes in the page models
 * are pixels of display[i], which has the same geometry as the OCR image. */
int bk_read_page(struct bk_engine *engine, const struct bk_image *scan,
		 const struct bk_read_options *opt, int first_number,
		 const char *name, struct bk_read_result *out,
		 struct bk_error *err);
void bk_read_result_release(struct bk_read_result *r);

/*
 * A map or a print too large to be decoded whole (pipeline/process.c
 * decides which), read from its rows: `rows` is asked for rows [y0, y1)
 * top to bottom (a print's rows twice over), as a new gray or RGB image
 * the reader frees. What is held is never the picture:
 *  - a map: each band of rows becomes its dark ink at once
 *    (bk_cleanup_picture_rows), so what is held is the full-resolution ink
 *    bitmap (a 32nd of the decoded picture: 50 MB for 400 million pixels)
 *    and one band; the bitmap is then read exactly as bk_read_page reads a
 *    map's OCR copy (sparse text, in overlapping bands of BK_BAND_PIXELS, a
 *    line kept from one band only, boxes in picture coordinates), so the
 *    lettering reads as it would read whole;
 *  - a print: its title panels are found on a gray copy shrunk band by
 *    band (at most 16 million pixels), then the panels' own gray pixels,
 *    at full resolution, are gathered from a second pass and each panel is
 *    read as bk_read_page reads it.
 * `page` (initialized by the caller) gets the words and its geometry
 * (width, height, dpi on both axes, number first_number). Errors are named
 * like bk_read_page's.
 */
typedef int (*bk_rows_fn)(void *ud, int y0, int y1, struct bk_image **rows,
			  struct bk_error *err);
int bk_read_picture_rows(struct bk_engine *engine, int width, int height, int dpi,
			 bk_rows_fn rows, void *ud, const struct bk_read_options *opt,
			 int first_number, const char *name, struct bk_page *page,
			 struct bk_error *err);

/* ---- the parts, exposed for tests and tools ---- */

struct bk_text_region {
	struct bk_box box;
	enum bk_dir dir;
};

/*
 * Text regions of a cleaned page (ink = gray value below 128) in reading
 * order, each with its writing direction, and the page's dominant
 * direction (the direction of most ink; horizontal for a blank page).
 * *regions is newly allocated (caller frees; NULL when there is no text).
 */
int bk_find_text_regions(const struct bk_gray *img,
			 struct bk_text_region **regions, size_t *nregions,
			 enum bk_dir *dominant, struct bk_error *err);

/*
 * Reads a cleaned gray page into `page` (which the caller initialized and
 * whose geometry fields it sets) with the automatic choice described
 * above, except orientation. *mean_conf receives the mean word confidence
 * (0 when no words), which bk_read_page uses to decide whether to check
 * orientation.
 */
int bk_read_cleaned(struct bk_engine *engine, const struct bk_gray *img,
		    const struct bk_read_options *opt, struct bk_page *page,
		    float *mean_conf, struct bk_error *err);

/*
 * Mends what a Japanese model (jpn, jpn_vert) made of strokes that are not
 * letters, in the blocks of `page` those models read (bk_read_page does
 * this to every page it reads as text):
 *  - a line less than a third Japanese and read with a mean confidence
 *    under 15 is the edge of a border, a picture or the film: dropped;
 *  - a word made only of thin strokes (| ｜ l I i !, with . : ; ' `
 *    among them) is a rule, a border or the film's edge: dropped, with
 *    lines and blocks left empty; capital I alone (I, II, III) is kept,
 *    as the Roman numeral of a heading;
 *  - except a word of bars alone between two Japanese words of a
 *    vertical line: that is the dash of vertical print (――), which
 *    jpn_vert reads as |, and becomes one U+2015 per bar;
 *  - a Latin O, o or 0 next to a kanji numeral (一二三…十百千〇) is the
 *    kanji zero 〇 (一三O頁 is 一三〇頁).
 * Measured on ../shared/realscans (scripts/bench --only realscans): none
 * of the ground truths holds a |, and of the 22 words of strokes on the
 * seven Japanese pages 19 were borders, rules or the film's edge and 3
 * the dashes of the 1930s spread (reader.c, BK_JUNK_LINE_CONF for the
 * lines). Returns -1 (out of memory) or 0.
 */
int bk_page_mend_strokes(struct bk_page *page, struct bk_error *err);

#endif
