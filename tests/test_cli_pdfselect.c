/*
 * tests/test_cli_pdfselect.c — bunko's PDFs select text the way a reader
 * expects in a PDF viewer, above all on tall vertical (縦書き) pages: a
 * selection over one column gives that column's text top to bottom, with
 * no spaces between the characters, and a drag across columns goes right
 * to left, column by column.
 *
 * The selection is made with poppler-glib, the library Evince's (and other
 * GNOME viewers') text selection is built on: poppler_page_get_selected_text
 * with a drag rectangle, exactly what the viewer calls when the mouse is
 * dragged from one corner to the other. The whole page's reading order is
 * read with poppler_page_get_text (what "select all, copy" gives) and with
 * the real `pdftotext`, including its crop box (-x -y -W -H).
 *
 * Two documents:
 * - a hand-made page built through archive/pdf.h from a page model with a
 *   vertical block of known columns over a bilevel image with a black mark
 *   where each character is; the expected strings are the model's own, so
 *   the check does not depend on OCR being right;
 * - the real `bunko ocr samples/v-gian.tif -o X.pdf --hocr X.hocr`: the
 *   columns and their boxes are taken from the hOCR sidecar (the page model
 *   as OCR read it) and each is selected in the PDF by its box.
 *
 * scripts/pdf-selection-shot renders such a selection for a human to look at;
 * BUNKO_KEEP_TEST_FILES=1 keeps the PDFs this test writes, to feed it.
 */
#include <criterion/criterion.h>

#include <ctype.h>
#include <math.h>
#include <poppler.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/pdf.h"
#include "ocr/image.h"
#include "bunko/page.h"
#include "test_support.h"

/* A tall page: 5 x 8 inches at 300 dpi (360 x 576 points). */
enum { PAGE_W = 1500, PAGE_H = 2400, DPI = 300 };
/* Character cells: CELL pixels square, PITCH pixels apart down a column;
 * columns COLUMN_GAP pixels apart, the first (rightmost) at RIGHT_X. */
enum { CELL = 60, PITCH = 66, COLUMN_GAP = 150, RIGHT_X = 1300, TOP_Y = 200 };
enum { CROP_MARGIN = 12 };

/* Columns in reading order: the first is the rightmost. */
static const char *const columns[] = {
	"議案第十五號",
	"道路の區域を變更することについて",
	"右の議案を提出する",
	"昭和二十五年四月一日提出",
	"東京都區長",
};
enum { NCOLUMNS = sizeof(columns) / sizeof(columns[0]) };

/* Length of the UTF-8 sequence starting at `s`. */
static size_t utf8_step(const char *s)
{
	size_t n = 1;
	while (s[n] && ((unsigned char)s[n] & 0xC0) == 0x80)
		n++;
	return n;
}

/* Drops trailing whitespace in place. */
static char *rtrim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Splits `text` (modified) into its non-empty lines; *n gets the count.
 * The array points into `text`; caller frees the array. */
static char **split_lines(char *text, size_t *n)
{
	size_t cap = 8;
	char **lines = malloc(cap * sizeof(*lines));
	char *save = NULL;
	cr_assert_not_null(lines);
	*n = 0;
	for (char *l = strtok_r(text, "\n\f", &save); l; l = strtok_r(NULL, "\n\f", &save)) {
		rtrim(l);
		if (!*l)
			continue;
		if (*n == cap) {
			cap *= 2;
			lines = realloc(lines, cap * sizeof(*lines));
			cr_assert_not_null(lines);
		}
		lines[(*n)++] = l;
	}
	return lines;
}

/* True when `s` has an ASCII space or an ideographic space (U+3000)
 * directly between two CJK characters: what a bad text layer puts between
 * the characters of a column. */
static bool space_inside_cjk(const char *s)
{
	unsigned prev = 0;
	bool gap = false;
	while (*s) {
		size_t k = utf8_step(s);
		unsigned cp = 0;
		if (k == 1) {
			cp = (unsigned char)*s;
		} else {
			cp = (unsigned char)*s & (0xFF >> (k + 1));
			for (size_t i = 1; i < k; i++)
				cp = (cp << 6) | ((unsigned char)s[i] & 0x3F);
		}
		if (cp == ' ' || cp == 0x3000) {
			gap = true;
		} else {
			if (gap && prev && bk_codepoint_is_cjk(prev) && bk_codepoint_is_cjk(cp))
				return true;
			prev = cp;
			gap = false;
		}
		s += k;
	}
	return false;
}

/* ---- the hand-made page ---- */

static struct bk_box column_box(int i)
{
	int x = RIGHT_X - i * COLUMN_GAP;
	int n = (int)ts_utf8_len(columns[i]);
	return (struct bk_box){ x, TOP_Y, x + CELL, TOP_Y + (n - 1) * PITCH + CELL };
}

static void build_vertical_page(struct bk_page *page)
{
	bk_page_init(page);
	page->width = PAGE_W;
	page->height = PAGE_H;
	page->xres = page->yres = DPI;
	page->number = 1;
	struct bk_box last = column_box(NCOLUMNS - 1), first = column_box(0);
	int bottom = TOP_Y;
	for (int i = 0; i < NCOLUMNS; i++)
		if (column_box(i).y1 > bottom)
			bottom = column_box(i).y1;
	struct bk_block *block = bk_page_add_block(
		page, (struct bk_box){ last.x0, TOP_Y, first.x1, bottom }, BK_DIR_VERTICAL,
		"jpn_vert");
	cr_assert_not_null(block);
	for (int i = 0; i < NCOLUMNS; i++) {
		struct bk_box cb = column_box(i);
		struct bk_line *line = bk_block_add_line(block, cb, BK_DIR_VERTICAL);
		cr_assert_not_null(line);
		int y = TOP_Y;
		for (const char *p = columns[i]; *p; p += utf8_step(p), y += PITCH) {
			struct bk_box wb = { cb.x0, y, cb.x1, y + CELL };
			cr_assert_not_null(bk_line_add_word(line, wb, 91.0f, p, utf8_step(p)));
		}
	}
}

/* A 1-bpp image with a black mark inside every word box. */
static struct bk_image *draw_page(const struct bk_page *page)
{
	size_t stride;
	unsigned char *bits = ts_word_boxes_bits(page, PAGE_W, PAGE_H, 8, &stride);
	struct bk_error err;
	struct bk_image *img = bk_image_from_raw(PAGE_W, PAGE_H, 1, bits, stride, DPI, DPI, &err);
	cr_assert_not_null(img, "%s", err.msg);
	free(bits);
	return img;
}

struct fixture {
	char *dir, *pdf;
	struct bk_page page;
	PopplerDocument *doc;
	PopplerPage *ppage;
	double kx, ky; /* points per page-model pixel */
};

static void open_poppler(struct fixture *fx, int width_px, int height_px)
{
	GError *gerr = NULL;
	char *uri = g_filename_to_uri(fx->pdf, NULL, &gerr);
	cr_assert_not_null(uri, "%s", gerr ? gerr->message : "?");
	fx->doc = poppler_document_new_from_file(uri, NULL, &gerr);
	cr_assert_not_null(fx->doc, "poppler cannot open '%s': %s", fx->pdf,
			   gerr ? gerr->message : "?");
	g_free(uri);
	fx->ppage = poppler_document_get_page(fx->doc, 0);
	cr_assert_not_null(fx->ppage);
	double w = 0, h = 0;
	poppler_page_get_size(fx->ppage, &w, &h);
	fx->kx = w / width_px;
	fx->ky = h / height_px;
}

static void write_handmade(struct fixture *fx)
{
	struct bk_pdf_writer *w = NULL;
	struct bk_error err;
	struct bk_encoded_image enc;

	fx->dir = ts_mkdtemp("pdfselect");
	cr_assert_not_null(fx->dir);
	cr_assert(asprintf(&fx->pdf, "%s/vertical.pdf", fx->dir) > 0);
	build_vertical_page(&fx->page);
	struct bk_image *img = draw_page(&fx->page);
	memset(&enc, 0, sizeof(enc));
	cr_assert_eq(bk_image_encode(img, BK_ENC_G4, 0, &enc, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_pdf_writer_open(&w, fx->pdf, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_pdf_writer_add_page(w, &enc, &fx->page, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_pdf_writer_close(&w, &err), 0, "%s", err.msg);
	bk_encoded_image_release(&enc);
	bk_image_free(&img);
	open_poppler(fx, PAGE_W, PAGE_H);
}

static void fixture_release(struct fixture *fx)
{
	if (fx->ppage)
		g_object_unref(fx->ppage);
	if (fx->doc)
		g_object_unref(fx->doc);
	bk_page_release(&fx->page);
	if (fx->dir && !getenv("BUNKO_KEEP_TEST_FILES"))
		ts_rmtree(fx->dir);
	free(fx->dir);
	free(fx->pdf);
}

/* The text a viewer selects when the mouse is dragged from (x0, y0) to
 * (x1, y1), page-model pixels; trailing whitespace dropped. Caller frees. */
static char *drag(const struct fixture *fx, double x0, double y0, double x1, double y1)
{
	PopplerRectangle r = { x0 * fx->kx, y0 * fx->ky, x1 * fx->kx, y1 * fx->ky };
	char *sel = poppler_page_get_selected_text(fx->ppage, POPPLER_SELECTION_GLYPH, &r);
	char *out = strdup(sel ? sel : "");
	g_free(sel);
	cr_assert_not_null(out);
	return rtrim(out);
}

/* Drag from the top-right to the bottom-left corner of `b` (and the other
 * diagonal when `other_diagonal`). */
static char *drag_box(const struct fixture *fx, struct bk_box b, bool other_diagonal)
{
	if (other_diagonal)
		return drag(fx, b.x0, b.y0, b.x1, b.y1);
	return drag(fx, b.x1, b.y0, b.x0, b.y1);
}

/* ---- hand-made page: exact strings ---- */

Test(pdfselect, one_column_selects_top_to_bottom)
{
	struct fixture fx = { 0 };
	write_handmade(&fx);
	for (int i = 0; i < NCOLUMNS; i++) {
		for (int diag = 0; diag < 2; diag++) {
			char *sel = drag_box(&fx, column_box(i), diag);
			cr_expect_str_eq(sel, columns[i],
					 "column %d dragged %s: selected '%s', expected '%s'", i + 1,
					 diag ? "top-left to bottom-right" : "top-right to bottom-left",
					 sel, columns[i]);
			free(sel);
		}
	}
	fixture_release(&fx);
}

/* A drag that starts and ends inside a column selects just that part. */
Test(pdfselect, part_of_a_column)
{
	struct fixture fx = { 0 };
	write_handmade(&fx);
	struct bk_box b = column_box(1);
	/* from the upper quarter of the 3rd character (の) to the lower
	 * quarter of the 6th (を): a glyph is selected once the drag passes
	 * its middle */
	double top = TOP_Y + 2 * PITCH + CELL / 4.0, bottom = TOP_Y + 5 * PITCH + CELL * 3 / 4.0;
	char *sel = drag(&fx, (b.x0 + b.x1) / 2.0, top, (b.x0 + b.x1) / 2.0, bottom);
	cr_expect_str_eq(sel, "の區域を", "selected '%s'", sel);
	free(sel);
	fixture_release(&fx);
}

Test(pdfselect, drag_across_columns_goes_right_to_left)
{
	struct fixture fx = { 0 };
	write_handmade(&fx);
	for (int last = 1; last < NCOLUMNS; last++) {
		struct bk_box right = column_box(0), left = column_box(last);
		char *sel = drag(&fx, right.x1, right.y0, left.x0, left.y1);
		char *copy = strdup(sel);
		size_t n = 0;
		char **lines = split_lines(copy, &n);
		cr_expect_eq(n, (size_t)last + 1, "drag over columns 1..%d gave %zu lines:\n%s",
			     last + 1, n, sel);
		for (size_t k = 0; k < n && k <= (size_t)last; k++)
			cr_expect_str_eq(lines[k], columns[k],
					 "drag over columns 1..%d: line %zu is '%s', expected '%s':\n%s",
					 last + 1, k + 1, lines[k], columns[k], sel);
		free(lines);
		free(copy);
		free(sel);
	}
	fixture_release(&fx);
}

/* "Select all, copy" (poppler_page_get_text) reads the columns right to
 * left, and each character's layout box sits on its printed character. */
Test(pdfselect, page_text_and_layout)
{
	struct fixture fx = { 0 };
	write_handmade(&fx);
	char *text = poppler_page_get_text(fx.ppage);
	cr_assert_not_null(text);
	char *copy = strdup(text);
	size_t n = 0;
	char **lines = split_lines(copy, &n);
	cr_expect_eq(n, (size_t)NCOLUMNS, "page text has %zu lines, not %d:\n%s", n, NCOLUMNS,
		     text);
	for (size_t i = 0; i < n && i < NCOLUMNS; i++)
		cr_expect_str_eq(lines[i], columns[i], "page text line %zu:\n%s", i + 1, text);
	free(lines);
	free(copy);

	PopplerRectangle *rects = NULL;
	guint nrects = 0;
	cr_assert(poppler_page_get_text_layout(fx.ppage, &rects, &nrects));
	cr_expect_eq(nrects, (guint)g_utf8_strlen(text, -1),
		     "%u layout boxes for %ld characters", nrects, g_utf8_strlen(text, -1));
	/* walk the text: the k-th character of column i has the word box k */
	const char *p = text;
	guint r = 0;
	int col = 0;
	size_t k = 0;
	double worst = 0;
	while (*p && r < nrects && col < NCOLUMNS) {
		size_t step = utf8_step(p);
		if (*p == '\n') {
			if (k > 0) {
				col++;
				k = 0;
			}
		} else if (k < fx.page.blocks[0].lines[col].nwords) {
			struct bk_box wb = fx.page.blocks[0].lines[col].words[k].box;
			double cx = (rects[r].x1 + rects[r].x2) / 2.0 / fx.kx;
			double cy = (rects[r].y1 + rects[r].y2) / 2.0 / fx.ky;
			double dx = cx - (wb.x0 + wb.x1) / 2.0, dy = cy - (wb.y0 + wb.y1) / 2.0;
			double d = dx * dx + dy * dy;
			if (d > worst)
				worst = d;
			cr_expect(cx >= wb.x0 && cx <= wb.x1 && cy >= wb.y0 && cy <= wb.y1,
				  "column %d character %zu: layout box centre (%.0f, %.0f) px is "
				  "outside its printed box %d,%d-%d,%d",
				  col + 1, k + 1, cx, cy, wb.x0, wb.y0, wb.x1, wb.y1);
			k++;
		}
		p += step;
		r++;
	}
	cr_expect_eq(col + (k > 0), NCOLUMNS, "layout walk ended at column %d", col + 1);
	cr_log_info("largest layout-box centre offset: %.1f px", worst > 0 ? sqrt(worst) : 0.0);
	g_free(rects);
	g_free(text);
	fixture_release(&fx);
}

/* The real pdftotext: the page in reading order, and its crop box (what
 * viewers built on it extract for a rectangle) per column. */
Test(pdfselect, pdftotext_reads_columns_right_to_left)
{
	struct fixture fx = { 0 };
	cr_assert(ts_have_tool("pdftotext"), "pdftotext is not installed");
	write_handmade(&fx);
	char *cmd = NULL, *out = NULL;
	cr_assert(asprintf(&cmd, "pdftotext -enc UTF-8 '%s' -", fx.pdf) > 0);
	cr_assert_eq(ts_run(cmd, &out, 0), 0, "`%s` failed", cmd);
	char *copy = strdup(out);
	size_t n = 0;
	char **lines = split_lines(copy, &n);
	cr_expect_eq(n, (size_t)NCOLUMNS, "pdftotext gave %zu lines:\n%s", n, out);
	for (size_t i = 0; i < n && i < NCOLUMNS; i++)
		cr_expect_str_eq(lines[i], columns[i], "pdftotext line %zu:\n%s", i + 1, out);
	free(lines);
	free(copy);
	free(out);
	free(cmd);

	for (int i = 0; i < NCOLUMNS; i++) {
		struct bk_box b = column_box(i);
		/* pdftotext -r 300 takes the crop box in pixels of a 300-dpi
		 * render; a margin of CROP_MARGIN pixels (well under half the
		 * gap to the next column) as a person would draw it */
		cr_assert(asprintf(&cmd, "pdftotext -enc UTF-8 -r %d -x %d -y %d -W %d -H %d '%s' -",
				   DPI, b.x0 - CROP_MARGIN, b.y0 - CROP_MARGIN,
				   b.x1 - b.x0 + 2 * CROP_MARGIN, b.y1 - b.y0 + 2 * CROP_MARGIN,
				   fx.pdf) > 0);
		cr_assert_eq(ts_run(cmd, &out, 0), 0, "`%s` failed", cmd);
		rtrim(out);
		cr_expect_str_eq(out, columns[i], "pdftotext crop of column %d: '%s'", i + 1, out);
		free(out);
		free(cmd);
	}
	fixture_release(&fx);
}

/* ---- the real `bunko ocr` on a vertical sample ---- */

/* One column (or line) of the hOCR sidecar: box in page pixels, the
 * extent of its words along the column (Tesseract's line box can run far
 * past the last word), text of its words joined without spaces. */
struct hocr_line {
	struct bk_box box;
	int words_y0, words_y1;
	bool vertical;
	char *text;
};

struct hocr_page {
	int width, height;
	struct hocr_line *lines;
	size_t nlines;
};

static void hocr_page_release(struct hocr_page *hp)
{
	for (size_t i = 0; i < hp->nlines; i++)
		free(hp->lines[i].text);
	free(hp->lines);
	memset(hp, 0, sizeof(*hp));
}

/* Appends the XML text between `p` and `end` to `out`, entities decoded. */
static void append_xml_text(char **out, size_t *len, const char *p, const char *end)
{
	static const struct {
		const char *entity, *ch;
	} entities[] = { { "&amp;", "&" }, { "&lt;", "<" },	 { "&gt;", ">" },
			 { "&quot;", "\"" }, { "&apos;", "'" } };
	while (p < end) {
		const char *ch = NULL;
		size_t skip = 1;
		for (size_t e = 0; e < sizeof(entities) / sizeof(entities[0]); e++)
			if (!strncmp(p, entities[e].entity, strlen(entities[e].entity))) {
				ch = entities[e].ch;
				skip = strlen(entities[e].entity);
			}
		*out = realloc(*out, *len + 2);
		cr_assert_not_null(*out);
		(*out)[(*len)++] = ch ? *ch : *p;
		(*out)[*len] = '\0';
		p += skip;
	}
}

/* Reads the ocr_page size and every ocr_line (box, textangle, words) of
 * the first page of an hOCR file written by bunko. */
static void read_hocr(const char *path, struct hocr_page *hp)
{
	char *doc = ts_read(path, NULL);
	cr_assert_not_null(doc, "cannot read '%s'", path);
	memset(hp, 0, sizeof(*hp));
	const char *page = strstr(doc, "class=\"ocr_page\"");
	cr_assert_not_null(page, "no ocr_page in '%s'", path);
	cr_assert_eq(sscanf(strstr(page, "bbox "), "bbox 0 0 %d %d", &hp->width, &hp->height), 2);
	const char *p = page;
	while ((p = strstr(p, "class=\"ocr_line\""))) {
		const char *title = strstr(p, "title=\"");
		const char *line_end = strstr(p, "</span>\n");
		cr_assert(title && line_end, "unterminated ocr_line in '%s'", path);
		struct hocr_line hl = { 0 };
		cr_assert_eq(sscanf(title, "title=\"bbox %d %d %d %d", &hl.box.x0, &hl.box.y0,
				    &hl.box.x1, &hl.box.y1), 4);
		const char *title_end = strchr(title + 7, '"');
		hl.vertical = strstr(title, "textangle 90") && strstr(title, "textangle 90") < title_end;
		size_t len = 0;
		hl.text = strdup("");
		hl.words_y0 = hl.box.y1;
		hl.words_y1 = hl.box.y0;
		for (const char *w = strstr(title_end, "class=\"ocrx_word\""); w && w < line_end;
		     w = strstr(w + 1, "class=\"ocrx_word\"")) {
			struct bk_box wb;
			cr_assert_eq(sscanf(strstr(w, "title=\""), "title=\"bbox %d %d %d %d", &wb.x0,
					    &wb.y0, &wb.x1, &wb.y1), 4);
			if (wb.y0 < hl.words_y0)
				hl.words_y0 = wb.y0;
			if (wb.y1 > hl.words_y1)
				hl.words_y1 = wb.y1;
			const char *start = strchr(w, '>') + 1;
			const char *stop = strstr(start, "</span>");
			append_xml_text(&hl.text, &len, start, stop);
		}
		hp->lines = realloc(hp->lines, (hp->nlines + 1) * sizeof(*hp->lines));
		cr_assert_not_null(hp->lines);
		hp->lines[hp->nlines++] = hl;
		p = line_end;
	}
	free(doc);
}

struct ocr_fixture {
	struct fixture fx;
	struct hocr_page hp;
};

static void ocr_vertical_sample(struct ocr_fixture *of)
{
	struct fixture *fx = &of->fx;
	char *sample = ts_sample("v-gian.tif");
	char *hocr = NULL, *alto = NULL, *cmd = NULL, *out = NULL;

	cr_assert(access(sample, R_OK) == 0, "sample '%s' is missing", sample);
	fx->dir = ts_mkdtemp("pdfselect-ocr");
	cr_assert_not_null(fx->dir);
	cr_assert(asprintf(&fx->pdf, "%s/v-gian.pdf", fx->dir) > 0);
	cr_assert(asprintf(&hocr, "%s/v-gian.hocr", fx->dir) > 0);
	cr_assert(asprintf(&alto, "%s/v-gian.alto.xml", fx->dir) > 0);
	cr_assert(asprintf(&cmd, "OMP_THREAD_LIMIT=1 '%s' ocr '%s' -o '%s' --hocr '%s' --alto '%s'",
			   BUNKO_EXE, sample, fx->pdf, hocr, alto) > 0);
	int status = ts_run(cmd, &out, 1);
	cr_assert_eq(status, 0, "`%s` exited with %d:\n%s", cmd, status, out);
	/* the sidecars of real vertical text are valid (test_support.h); where
	 * xmllint or the XHTML DTD is missing outside CI, only this is left out */
	if (ts_in_ci() || (ts_have_tool("xmllint") && ts_have_xhtml_dtd())) {
		char *msg = NULL;
		cr_expect_eq(ts_validate_hocr(hocr, &msg), 0, "the hOCR is not valid: %s", msg);
		free(msg);
		msg = NULL;
		cr_expect_eq(ts_validate_alto(alto, &msg), 0, "the ALTO is not valid: %s", msg);
		free(msg);
	}
	read_hocr(hocr, &of->hp);
	size_t vertical = 0;
	for (size_t i = 0; i < of->hp.nlines; i++)
		vertical += of->hp.lines[i].vertical;
	cr_assert_geq(vertical, 10, "OCR found %zu vertical columns on v-gian.tif (of %zu lines)",
		      vertical, of->hp.nlines);
	open_poppler(fx, of->hp.width, of->hp.height);
	free(out);
	free(cmd);
	free(hocr);
	free(alto);
	free(sample);
}

static void ocr_fixture_release(struct ocr_fixture *of)
{
	hocr_page_release(&of->hp);
	fixture_release(&of->fx);
}

/* The selection of a real OCR column: the column's words in order, with
 * no space between Japanese characters, and nothing of the next column. */
static void expect_column(const char *sel, const struct hocr_line *hl, size_t index)
{
	char *a = strdup(sel), *b = strdup(hl->text);
	cr_assert(a && b);
	cr_expect_null(strchr(sel, '\n'), "column %zu: selection spans lines:\n%s\nexpected: %s",
		       index + 1, sel, hl->text);
	cr_expect(!space_inside_cjk(sel), "column %zu: space between characters in '%s'",
		  index + 1, sel);
	cr_expect_str_eq(ts_strip_space(a), ts_strip_space(b),
			 "column %zu (box %d,%d-%d,%d): selected '%s', the column reads '%s'",
			 index + 1, hl->box.x0, hl->box.y0, hl->box.x1, hl->box.y1, sel, hl->text);
	free(a);
	free(b);
}

Test(pdfselect, ocr_vertical_sample_selects_column_by_column, .timeout = 300)
{
	struct ocr_fixture of = { 0 };
	ocr_vertical_sample(&of);
	const struct hocr_page *hp = &of.hp;

	/* each column, dragged down its middle from the top of its first word
	 * to the bottom of its last */
	for (size_t i = 0; i < hp->nlines; i++) {
		const struct hocr_line *hl = &hp->lines[i];
		if (!hl->vertical)
			continue;
		double x = (hl->box.x0 + hl->box.x1) / 2.0;
		char *sel = drag(&of.fx, x, hl->words_y0, x, hl->words_y1);
		expect_column(sel, &hp->lines[i], i);
		free(sel);
	}

	/* the two right-most columns: the right one first */
	const struct hocr_line *right = &hp->lines[0], *next = &hp->lines[1];
	cr_assert(right->vertical && next->vertical && right->box.x0 > next->box.x0,
		  "the first two OCR lines are not vertical columns read right to left");
	char *sel = drag(&of.fx, (right->box.x0 + right->box.x1) / 2.0, right->words_y0,
			 (next->box.x0 + next->box.x1) / 2.0, next->words_y1);
	char *copy = strdup(sel);
	size_t n = 0;
	char **lines = split_lines(copy, &n);
	cr_expect_eq(n, 2, "drag over the two right-most columns gave %zu lines:\n%s", n, sel);
	if (n == 2) {
		expect_column(lines[0], right, 0);
		expect_column(lines[1], next, 1);
	}
	free(lines);
	free(copy);
	free(sel);
	ocr_fixture_release(&of);
}

/* Whole-page reading order of the OCR'd PDF, as "select all, copy" and as
 * pdftotext give it: the columns right to left, each in one piece. */
Test(pdfselect, ocr_vertical_sample_reads_right_to_left, .timeout = 300)
{
	struct ocr_fixture of = { 0 };
	ocr_vertical_sample(&of);
	char *cmd = NULL, *out = NULL;
	cr_assert(asprintf(&cmd, "pdftotext -enc UTF-8 '%s' -", of.fx.pdf) > 0);
	cr_assert_eq(ts_run(cmd, &out, 0), 0, "`%s` failed", cmd);
	char *texts[2] = { poppler_page_get_text(of.fx.ppage), out };
	const char *what[2] = { "poppler_page_get_text", "pdftotext" };
	for (int t = 0; t < 2; t++) {
		char *copy = strdup(texts[t]);
		size_t n = 0;
		char **lines = split_lines(copy, &n);
		cr_expect_eq(n, of.hp.nlines, "%s gives %zu lines for %zu OCR lines:\n%s", what[t],
			     n, of.hp.nlines, texts[t]);
		for (size_t i = 0; i < n && i < of.hp.nlines; i++) {
			char *a = strdup(lines[i]), *b = strdup(of.hp.lines[i].text);
			cr_expect_str_eq(ts_strip_space(a), ts_strip_space(b),
					 "%s line %zu is '%s', OCR column %zu reads '%s'", what[t],
					 i + 1, lines[i], i + 1, of.hp.lines[i].text);
			cr_expect(!space_inside_cjk(lines[i]), "%s line %zu: space inside '%s'",
				  what[t], i + 1, lines[i]);
			free(a);
			free(b);
		}
		free(lines);
		free(copy);
	}
	g_free(texts[0]);
	free(out);
	free(cmd);
	ocr_fixture_release(&of);
}

/* Where a viewer highlights the OCR'd text: every character's layout box
 * has its centre on its column (inside the column's box across, inside
 * its words along), so a selection lights up the printed characters. */
Test(pdfselect, ocr_vertical_sample_highlights_the_printed_columns, .timeout = 300)
{
	enum { TOLERANCE = 2 }; /* pixels */
	struct ocr_fixture of = { 0 };
	ocr_vertical_sample(&of);
	char *text = poppler_page_get_text(of.fx.ppage);
	PopplerRectangle *rects = NULL;
	guint nrects = 0;
	cr_assert(poppler_page_get_text_layout(of.fx.ppage, &rects, &nrects));
	size_t line = 0, misplaced = 0, checked = 0;
	bool in_line = false;
	guint r = 0;
	for (const char *p = text; *p && r < nrects && line < of.hp.nlines; p += utf8_step(p), r++) {
		if (*p == '\n') {
			line += in_line;
			in_line = false;
			continue;
		}
		if (isspace((unsigned char)*p))
			continue;
		in_line = true;
		const struct hocr_line *hl = &of.hp.lines[line];
		double cx = (rects[r].x1 + rects[r].x2) / 2.0 / of.fx.kx;
		double cy = (rects[r].y1 + rects[r].y2) / 2.0 / of.fx.ky;
		checked++;
		if (cx >= hl->box.x0 - TOLERANCE && cx <= hl->box.x1 + TOLERANCE &&
		    cy >= hl->words_y0 - TOLERANCE && cy <= hl->words_y1 + TOLERANCE)
			continue;
		if (misplaced++ < 5)
			cr_log_error("column %zu '%.*s': highlight centre (%.0f, %.0f) px is off the "
				     "column %d,%d-%d,%d (words %d..%d)",
				     line + 1, (int)utf8_step(p), p, cx, cy, hl->box.x0, hl->box.y0,
				     hl->box.x1, hl->box.y1, hl->words_y0, hl->words_y1);
	}
	cr_expect_gt(checked, 300, "only %zu characters checked", checked);
	cr_expect_eq(misplaced, 0, "%zu of %zu characters are highlighted off their column",
		     misplaced, checked);
	g_free(rects);
	g_free(text);
	ocr_fixture_release(&of);
}
