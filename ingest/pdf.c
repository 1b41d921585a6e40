/*
 * ingest/pdf.c — PDFs through poppler-glib. The only file that
 * sees PopplerDocument.
 *
 * A scanned PDF page is normally one image covering the page. Such a page
 * is read at the image's own resolution (poppler decodes the embedded image
 * without resampling), so a 400 dpi bilevel scan stays a 400 dpi bilevel
 * image. Any other page (several images, vector text, an image turned by
 * the page's /Rotate) is rendered with cairo at 300 dpi. Either way the
 * pixels are reduced to gray or 1 bpp when they allow it, so gray and
 * bilevel scans do not come out as color.
 *
 * Decompression bombs: before poppler touches a page, the declared size
 * (/Width x /Height) of every image it draws is checked against the limit
 * (ingest/pdf_images.c, through qpdf), and the page size in pixels is
 * checked before rendering.
 *
 * The page's own text (poppler_page_get_text, one box per character from
 * poppler_page_get_text_layout) is turned into a page model in pixels of
 * the page image: lines as poppler gives them in reading order; a line
 * whose characters run downwards is vertical; words are each CJK
 * character (as Tesseract reports them) and runs of other characters
 * between spaces; consecutive lines of one direction that touch (gap at
 * most one line height, overlapping across) form a block. The text is
 * then classified (enum bk_text_layer), by signals measured on the page:
 * - OCR_LAYER when an image covers at least 90% of the page in both
 *   directions: text over a page-sized picture is another tool's reading
 *   of a scan (OCRmyPDF, Tesseract, a scanner's firmware), which bunko
 *   cannot vouch for; a born-digital page's text is drawn on the page
 *   itself. (Typeset text printed over a full-page picture counts as a
 *   layer too: it is read again under --ocr auto.)
 * - JUNK when more than 5% of the characters have no meaning (U+FFFD,
 *   private-use or control characters: fonts without or with a broken
 *   ToUnicode map) or no box on the page. On the five born-digital pages
 *   of the 2024 white paper on information and communications (総務省「令和6年版 情報通信白書」)
 *   the share is 0 to 0.6% (nine U+0007 bullets on one page, dropped
 *   from the text); a font without a ToUnicode map gives 100%.
 * - TYPESET otherwise (NONE when no character with a meaning is left).
 * Characters without a meaning are never put into the model.
 */
#include "ingest/source_internal.h"

#include <cairo.h>
#include "bunko/page.h"
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <poppler.h>
#include <stdlib.h>
#include <string.h>

#define PDF_RENDER_DPI 300.0
#define COVERING_SHARE 0.9   /* an image this share of the page across covers it */
#define JUNK_SHARE 0.05      /* characters without a meaning or a place: junk above */

struct pdf_source {
	PopplerDocument *doc;
	struct bk_pdf_images *images;
};

static void pdf_close(struct bk_source *src)
{
	struct pdf_source *p = src->impl;
	if (p->doc)
		g_object_unref(p->doc);
	bk_pdf_images_free(&p->images);
	free(p);
	src->impl = NULL;
}

/* Page points (origin top-left, as poppler's text and image boxes are) to
 * pixels of the page image. */
struct frame {
	double x0, y0, sx, sy;
	int width, height;
};

/* Copies a cairo image surface (ARGB32/RGB24: native-endian words) into
 * R,G,B,x bytes and reduces it. */
static struct bk_image *from_surface(cairo_surface_t *s, int xres, int yres,
				     struct bk_error *err)
{
	int w = cairo_image_surface_get_width(s);
	int h = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	const unsigned char *data;
	unsigned char *buf;
	struct bk_image *img;

	cairo_surface_flush(s);
	data = cairo_image_surface_get_data(s);
	buf = malloc((size_t)w * h * 4);
	if (!buf || !data) {
		free(buf);
		bk_error_set(err, "out of memory for %dx%d pixels", w, h);
		return NULL;
	}
	for (int y = 0; y < h; y++) {
		const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
		unsigned char *o = buf + (size_t)y * w * 4;
		for (int x = 0; x < w; x++) {
			uint32_t px = row[x];
			o[4 * x] = (unsigned char)(px >> 16);
			o[4 * x + 1] = (unsigned char)(px >> 8);
			o[4 * x + 2] = (unsigned char)px;
			o[4 * x + 3] = 255;
		}
	}
	img = bk_source_image_from_rgbx(buf, w, h, (size_t)w * 4, xres, yres, err);
	free(buf);
	return img;
}

/* True when an image covers the page (COVERING_SHARE of it across). */
static bool covers(const PopplerImageMapping *m, double pw, double ph)
{
	return fabs(m->area.x2 - m->area.x1) >= COVERING_SHARE * pw &&
	       fabs(m->area.y2 - m->area.y1) >= COVERING_SHARE * ph;
}

/* The page's one image at its own resolution, or NULL (not an error) when
 * the page is not simply one upright image covering it. */
static struct bk_image *single_image(PopplerPage *page, GList *maps, double pw,
				     double ph, long max_pixels, struct frame *frame,
				     struct bk_error *err)
{
	cairo_surface_t *s = NULL;
	struct bk_image *img = NULL;

	if (!maps || maps->next || !covers(maps->data, pw, ph))
		goto out;
	PopplerImageMapping *m = maps->data;
	double aw = fabs(m->area.x2 - m->area.x1), ah = fabs(m->area.y2 - m->area.y1);
	s = poppler_page_get_image(page, m->image_id);
	if (!s || cairo_surface_status(s) != CAIRO_STATUS_SUCCESS ||
	    (cairo_image_surface_get_format(s) != CAIRO_FORMAT_ARGB32 &&
	     cairo_image_surface_get_format(s) != CAIRO_FORMAT_RGB24))
		goto out;
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	if (w <= 0 || h <= 0 || (double)w * h > (double)max_pixels)
		goto out; /* rendering will check and report the size */
	/* an image turned by /Rotate has the page's aspect ratio swapped */
	double ratio = ((double)w / h) / (aw / ah);
	if (ratio < 0.98 || ratio > 1.02)
		goto out;
	int xres = (int)lround(w / (aw / 72.0)), yres = (int)lround(h / (ah / 72.0));
	if (xres < 50 || yres < 50 || xres > 4800 || yres > 4800)
		goto out;
	img = from_surface(s, xres, yres, err);
	if (img)
		*frame = (struct frame){ fmin(m->area.x1, m->area.x2), fmin(m->area.y1, m->area.y2),
					 w / aw, h / ah, w, h };
out:
	if (s)
		cairo_surface_destroy(s);
	return img;
}

static struct bk_image *render(PopplerPage *page, double pw, double ph,
			       const char *name, int index, long max_pixels,
			       struct frame *frame, struct bk_error *err)
{
	double scale = PDF_RENDER_DPI / 72.0;
	double wpx = ceil(pw * scale), hpx = ceil(ph * scale);
	cairo_surface_t *s = NULL;
	cairo_t *cr = NULL;
	struct bk_image *img = NULL;

	if (wpx < 1 || hpx < 1 || wpx * hpx > (double)max_pixels) {
		bk_error_set(err, "'%s' page %d: page of %.0fx%.0f pixels at %.0f dpi "
			     "exceeds the limit of %ld pixels", name, index + 1,
			     wpx, hpx, PDF_RENDER_DPI, max_pixels);
		return NULL;
	}
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)wpx, (int)hpx);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		bk_error_set(err, "'%s' page %d: out of memory rendering %.0fx%.0f pixels",
			     name, index + 1, wpx, hpx);
		goto out;
	}
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, scale, scale);
	poppler_page_render_for_printing(page, cr);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		bk_error_set(err, "'%s' page %d: cannot render: %s", name, index + 1,
			     cairo_status_to_string(cairo_status(cr)));
		goto out;
	}
	img = from_surface(s, (int)PDF_RENDER_DPI, (int)PDF_RENDER_DPI, err);
	*frame = (struct frame){ 0, 0, scale, scale, (int)wpx, (int)hpx };
	if (!img) {
		struct bk_error inner = *err;
		bk_error_set(err, "'%s' page %d: %s", name, index + 1, inner.msg);
	}
out:
	if (cr)
		cairo_destroy(cr);
	if (s)
		cairo_surface_destroy(s);
	return img;
}

/* ---- the page's own text ---------------------------------------------- */

struct text_counts {
	long valid;     /* characters with a meaning, put into the model */
	long invalid;   /* U+FFFD, private use, control, unassigned */
	long misplaced; /* valid, but with no box on the page */
};

static bool meaningless(gunichar c)
{
	GUnicodeType t = g_unichar_type(c);
	return c == 0xFFFD || t == G_UNICODE_PRIVATE_USE || t == G_UNICODE_CONTROL ||
	       t == G_UNICODE_UNASSIGNED || t == G_UNICODE_SURROGATE;
}

static struct bk_box box_union(struct bk_box a, struct bk_box b)
{
	return (struct bk_box){ a.x0 < b.x0 ? a.x0 : b.x0, a.y0 < b.y0 ? a.y0 : b.y0,
				a.x1 > b.x1 ? a.x1 : b.x1, a.y1 > b.y1 ? a.y1 : b.y1 };
}

static int clampi(double v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

/* A character's box in pixels; false when it lies off the page or has no
 * extent. */
static bool char_box(const struct frame *f, const PopplerRectangle *r, struct bk_box *b)
{
	double x0 = (fmin(r->x1, r->x2) - f->x0) * f->sx, x1 = (fmax(r->x1, r->x2) - f->x0) * f->sx;
	double y0 = (fmin(r->y1, r->y2) - f->y0) * f->sy, y1 = (fmax(r->y1, r->y2) - f->y0) * f->sy;

	if (!(x1 > x0) || !(y1 > y0) || x1 <= 0 || y1 <= 0 || x0 >= f->width || y0 >= f->height)
		return false;
	b->x0 = clampi(floor(x0), 0, f->width - 1);
	b->y0 = clampi(floor(y0), 0, f->height - 1);
	b->x1 = clampi(ceil(x1), b->x0 + 1, f->width);
	b->y1 = clampi(ceil(y1), b->y0 + 1, f->height);
	return true;
}

/* A word being gathered: its UTF-8 text and box. */
struct word_acc {
	char text[256];
	size_t len;
	struct bk_box box;
};

static int flush_word(struct bk_line *line, struct word_acc *w)
{
	if (!w->len)
		return 0;
	struct bk_word *word = bk_line_add_word(line, w->box, 100.0f, w->text, w->len);
	line->box = line->nwords == 1 ? w->box : box_union(line->box, w->box);
	w->len = 0;
	return word ? 0 : -1;
}

/* Direction of a line from the centres of its first and last words. */
static enum bk_dir line_dir(const struct bk_line *line)
{
	if (line->nwords < 2)
		return BK_DIR_HORIZONTAL;
	const struct bk_box *a = &line->words[0].box, *b = &line->words[line->nwords - 1].box;
	double dx = fabs((double)((b->x0 + b->x1) - (a->x0 + a->x1))) / 2;
	double dy = ((b->y0 + b->y1) - (a->y0 + a->y1)) / 2;
	return dy > dx ? BK_DIR_VERTICAL : BK_DIR_HORIZONTAL;
}

/* Whether `line` continues the block whose last line is `prev`. */
static bool continues(const struct bk_line *prev, const struct bk_line *line)
{
	const struct bk_box *a = &prev->box, *b = &line->box;

	if (prev->dir != line->dir)
		return false;
	if (line->dir == BK_DIR_VERTICAL) /* columns right to left */
		return a->x0 - b->x1 <= a->x1 - a->x0 && b->x0 < a->x0 &&
		       b->y0 < a->y1 && b->y1 > a->y0;
	return b->y0 - a->y1 <= a->y1 - a->y0 && b->y0 > a->y0 &&
	       b->x0 < a->x1 && b->x1 > a->x0;
}

/* Whether `line` is the rest of `prev`, on the same row (column) and
 * after it: poppler ends a line before some closing punctuation. */
static bool same_line(const struct bk_line *prev, const struct bk_line *line)
{
	const struct bk_box *a = &prev->box, *b = &line->box;

	if (prev->dir == BK_DIR_VERTICAL || line->dir == BK_DIR_VERTICAL)
		return false; /* line_dir() calls a one-word line horizontal */
	int overlap = (a->y1 < b->y1 ? a->y1 : b->y1) - (a->y0 > b->y0 ? a->y0 : b->y0);
	int shorter = (a->y1 - a->y0 < b->y1 - b->y0) ? a->y1 - a->y0 : b->y1 - b->y0;
	return overlap * 2 > shorter && b->x0 >= a->x1 - shorter / 2 &&
	       b->x0 - a->x1 < 2 * shorter;
}

/* Appends the words of `line` to `prev`. */
static int join_line(struct bk_line *prev, struct bk_line *line)
{
	for (size_t i = 0; i < line->nwords; i++) {
		struct bk_word *w = &line->words[i];
		if (!bk_line_add_word(prev, w->box, w->conf, w->text, strlen(w->text)))
			return -1;
		prev->box = box_union(prev->box, w->box);
	}
	for (size_t i = 0; i < line->nwords; i++)
		free(line->words[i].text);
	free(line->words);
	memset(line, 0, sizeof(*line));
	return 0;
}

/* Moves the finished `line` into the page: onto the last line when it is
 * the rest of it, into the last block when it continues it, else into a
 * new block. */
static int place_line(struct bk_page *page, struct bk_line *line)
{
	struct bk_block *block = page->nblocks ? &page->blocks[page->nblocks - 1] : NULL;
	struct bk_line *to;

	line->dir = line_dir(line);
	if (block && block->nlines && same_line(&block->lines[block->nlines - 1], line)) {
		block->box = box_union(block->box, line->box);
		return join_line(&block->lines[block->nlines - 1], line);
	}
	if (!block || !block->nlines || !continues(&block->lines[block->nlines - 1], line)) {
		block = bk_page_add_block(page, line->box, line->dir, "pdf-text");
		if (!block)
			return -1;
	}
	to = bk_block_add_line(block, line->box, line->dir);
	if (!to)
		return -1;
	/* the words move over: the new line takes the array */
	to->words = line->words;
	to->nwords = line->nwords;
	to->alloc = line->alloc;
	block->box = block->nlines == 1 ? line->box : box_union(block->box, line->box);
	memset(line, 0, sizeof(*line));
	return 0;
}

/* Builds the page model of the page's text into *model. */
static int text_model(const char *text, const PopplerRectangle *rects, guint nrects,
		      const struct frame *f, struct bk_page *model,
		      struct text_counts *counts, struct bk_error *err)
{
	struct bk_line line = { 0 };
	struct word_acc w = { .len = 0 };
	guint k = 0;
	int rc = -1;

	for (const char *p = text; *p && k < nrects; p = g_utf8_next_char(p), k++) {
		gunichar c = g_utf8_get_char(p);
		struct bk_box b;
		if (c == '\n') {
			if (flush_word(&line, &w) || (line.nwords && place_line(model, &line)))
				goto out;
			continue;
		}
		if (g_unichar_isspace(c) || meaningless(c)) {
			if (!g_unichar_isspace(c))
				counts->invalid++;
			if (flush_word(&line, &w))
				goto out;
			continue;
		}
		counts->valid++;
		if (!char_box(f, &rects[k], &b)) {
			counts->misplaced++;
			continue;
		}
		bool cjk = bk_codepoint_is_cjk(c);
		char utf8[6];
		int n = g_unichar_to_utf8(c, utf8);
		if ((cjk || w.len + (size_t)n >= sizeof(w.text)) && flush_word(&line, &w))
			goto out;
		memcpy(w.text + w.len, utf8, (size_t)n);
		w.box = w.len ? box_union(w.box, b) : b;
		w.len += (size_t)n;
		if (cjk && flush_word(&line, &w))
			goto out;
	}
	if (flush_word(&line, &w) || (line.nwords && place_line(model, &line)))
		goto out;
	rc = 0;
out:
	if (rc) /* the only failure: a word, line or block not allocated */
		bk_error_set(err, "out of memory reading the text of the page");
	for (size_t i = 0; i < line.nwords; i++)
		free(line.words[i].text);
	free(line.words);
	return rc;
}

/* Reads the page's text into out->text and classifies it. */
static int read_text(PopplerPage *page, bool covered, const struct frame *f,
		     struct bk_source_page *out, struct bk_error *err)
{
	char *text = poppler_page_get_text(page);
	PopplerRectangle *rects = NULL;
	guint nrects = 0;
	struct text_counts counts = { 0, 0, 0 };
	int rc = -1;

	out->text_layer = BK_TEXT_NONE;
	if (!text || !*text) {
		rc = 0;
		goto out;
	}
	if (!poppler_page_get_text_layout(page, &rects, &nrects) ||
	    (glong)nrects != g_utf8_strlen(text, -1)) {
		out->text_layer = BK_TEXT_JUNK; /* text without boxes: nowhere to put it */
		rc = 0;
		goto out;
	}
	if (!(out->text = malloc(sizeof(*out->text)))) {
		bk_error_set(err, "out of memory reading the text of the page");
		goto out;
	}
	bk_page_init(out->text);
	out->text->width = f->width;
	out->text->height = f->height;
	out->text->xres = bk_image_xres(out->image);
	out->text->yres = bk_image_yres(out->image);
	if (text_model(text, rects, nrects, f, out->text, &counts, err))
		goto out;
	if (counts.valid == 0)
		out->text_layer = BK_TEXT_NONE;
	else if (covered)
		out->text_layer = BK_TEXT_OCR_LAYER;
	else if (counts.invalid + counts.misplaced > JUNK_SHARE * (counts.valid + counts.invalid))
		out->text_layer = BK_TEXT_JUNK;
	else
		out->text_layer = BK_TEXT_TYPESET;
	rc = 0;
out:
	if (out->text && (rc || out->text_layer == BK_TEXT_NONE)) {
		bk_page_release(out->text);
		free(out->text);
		out->text = NULL;
	}
	g_free(rects);
	g_free(text);
	return rc;
}

static int pdf_read_page(struct bk_source *src, int index,
			 struct bk_source_page *out, struct bk_error *err)
{
	struct pdf_source *p = src->impl;
	PopplerPage *page = NULL;
	GList *maps = NULL;
	struct frame frame;
	double pw = 0, ph = 0;
	bool covered = false;
	int rc = -1;

	if (bk_pdf_images_check_page(p->images, index, src->max_pixels, src->name, err))
		return -1;
	page = poppler_document_get_page(p->doc, index);
	if (!page)
		return bk_error_set(err, "'%s' page %d: cannot read the page",
				    src->name, index + 1);
	poppler_page_get_size(page, &pw, &ph);
	maps = poppler_page_get_image_mapping(page);
	for (GList *m = maps; m; m = m->next)
		covered |= covers(m->data, pw, ph);
	out->image = single_image(page, maps, pw, ph, src->max_pixels, &frame, err);
	if (!out->image)
		out->image = render(page, pw, ph, src->name, index, src->max_pixels, &frame, err);
	if (!out->image)
		goto out;
	if (read_text(page, covered, &frame, out, err)) {
		struct bk_error inner = *err;
		bk_error_set(err, "'%s' page %d: %s", src->name, index + 1, inner.msg);
		goto out;
	}
	rc = 0;
out:
	if (maps)
		poppler_page_free_image_mapping(maps);
	g_object_unref(page);
	return rc;
}

/* Whether the page has text of its own (any character that is not white
 * space). */
static bool has_text(PopplerPage *page)
{
	char *text = poppler_page_get_text(page);
	bool any = false;

	for (const char *c = text; c && *c && !any; c++)
		any = !g_ascii_isspace(*c);
	g_free(text);
	return any;
}

int bk_pdf_page_jpeg(struct bk_source *src, int index, long min_pixels, unsigned char **jpeg,
		     size_t *len, int *xres, int *yres)
{
	struct pdf_source *p = src->impl;
	PopplerPage *page = NULL;
	GList *maps = NULL;
	struct bk_error over;
	double pw = 0, ph = 0;
	int w = 0, h = 0;
	bool fits = false;

	*jpeg = NULL;
	*len = 0;
	if (index < 0 || index >= src->npages)
		return 0;
	/* a page over the limit is the ordinary reader's to refuse */
	bk_error_init(&over);
	if (bk_pdf_images_check_page(p->images, index, src->max_pixels, src->name, &over))
		return 0;
	bk_pdf_images_page_jpeg(p->images, index, jpeg, len, &w, &h);
	if (!*jpeg || (long long)w * h < min_pixels || (long long)w * h > src->max_pixels)
		goto out;
	if (!(page = poppler_document_get_page(p->doc, index)))
		goto out;
	poppler_page_get_size(page, &pw, &ph);
	maps = poppler_page_get_image_mapping(page);
	if (maps && !maps->next && covers(maps->data, pw, ph) && !has_text(page)) {
		PopplerImageMapping *m = maps->data;
		double aw = fabs(m->area.x2 - m->area.x1), ah = fabs(m->area.y2 - m->area.y1);
		double ratio = ((double)w / h) / (aw / ah);
		*xres = (int)lround(w / (aw / 72.0));
		*yres = (int)lround(h / (ah / 72.0));
		/* as single_image takes a page's one image (an image turned by
		 * /Rotate has the page's aspect ratio swapped) */
		fits = ratio >= 0.98 && ratio <= 1.02 && *xres >= 50 && *yres >= 50 &&
		       *xres <= 4800 && *yres <= 4800;
	}
out:
	if (maps)
		poppler_page_free_image_mapping(maps);
	if (page)
		g_object_unref(page);
	if (!fits) {
		free(*jpeg);
		*jpeg = NULL;
		*len = 0;
	}
	return 0;
}

static const struct bk_source_ops pdf_ops = { pdf_read_page, pdf_close };

static int pdf_open(struct bk_source *src, struct bk_error *err)
{
	struct pdf_source *p = calloc(1, sizeof(*p));
	GError *gerr = NULL;
	char *abs = NULL, *uri = NULL;
	int rc = -1;

	if (!p) {
		bk_error_set(err, "out of memory opening '%s'", src->name);
		goto out;
	}
	abs = realpath(src->path, NULL);
	uri = abs ? g_filename_to_uri(abs, NULL, &gerr) : NULL;
	if (!uri) {
		bk_error_set(err, "cannot open '%s': %s", src->name,
			     gerr ? gerr->message : "cannot resolve the path");
		goto out;
	}
	p->doc = poppler_document_new_from_file(uri, NULL, &gerr);
	if (!p->doc) {
		bk_error_set(err, "cannot open '%s': %s", src->name,
			     gerr ? gerr->message : "not a readable PDF");
		goto out;
	}
	if (bk_pdf_images_open(&p->images, src->path, src->name, err))
		goto out;
	src->npages = poppler_document_get_n_pages(p->doc);
	if (src->npages <= 0) {
		bk_error_set(err, "'%s': the PDF has no pages", src->name);
		goto out;
	}
	src->ops = &pdf_ops;
	src->impl = p;
	p = NULL;
	rc = 0;
out:
	if (gerr)
		g_error_free(gerr);
	g_free(uri);
	free(abs);
	if (p) {
		if (p->doc)
			g_object_unref(p->doc);
		bk_pdf_images_free(&p->images);
		free(p);
	}
	return rc;
}

/* ---- placeholder pages (source.h, bk_render_note_page) ---------------- */

#define NOTE_DPI 150
#define NOTE_FONT_PX 26.0
#define NOTE_MARGIN 120

/* One line of the note, word by word: each word drawn and given its box
 * in the page model, so the text layer says what the page shows. */
static int note_line(cairo_t *cr, struct bk_page *page, struct bk_block *block,
		     const char *text, double y, struct bk_error *err)
{
	double x = NOTE_MARGIN, space;
	cairo_text_extents_t ext;
	struct bk_line *line = NULL;
	const char *p = text;

	cairo_text_extents(cr, " ", &ext);
	space = ext.x_advance;
	while (*p) {
		size_t n = strcspn(p, " ");
		if (n == 0) {
			p++;
			x += space;
			continue;
		}
		char *word = strndup(p, n);
		if (!word)
			return bk_error_set(err, "out of memory");
		cairo_text_extents(cr, word, &ext);
		struct bk_box box = { (int)floor(x), (int)floor(y - NOTE_FONT_PX),
				      (int)ceil(x + ext.x_advance), (int)ceil(y + NOTE_FONT_PX * 0.3) };
		if (box.x1 > page->width - 1)
			box.x1 = page->width - 1;
		if (!line)
			line = bk_block_add_line(block, box, BK_DIR_HORIZONTAL);
		if (!line || !bk_line_add_word(line, box, 100, word, n)) {
			free(word);
			return bk_error_set(err, "out of memory");
		}
		if (box.x0 < line->box.x0)
			line->box.x0 = box.x0;
		if (box.x1 > line->box.x1)
			line->box.x1 = box.x1;
		if (box.x1 > block->box.x1)
			block->box.x1 = box.x1;
		cairo_move_to(cr, x, y);
		cairo_show_text(cr, word);
		free(word);
		x += ext.x_advance;
		p += n;
	}
	(void)page;
	return 0;
}

int bk_render_note_page(const char *const *lines, size_t nlines, struct bk_image **img,
			struct bk_page *page, struct bk_error *err)
{
	int w = NOTE_DPI * 827 / 100, h = NOTE_DPI * 1169 / 100; /* A4 */
	cairo_surface_t *s = NULL;
	cairo_t *cr = NULL;
	struct bk_block *block;
	int rc = -1;

	*img = NULL;
	bk_page_init(page);
	page->width = w;
	page->height = h;
	page->xres = page->yres = NOTE_DPI;
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		bk_error_set(err, "out of memory drawing a placeholder page");
		goto out;
	}
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	/* IPA Gothic has both the Latin and the Japanese of a file name */
	cairo_select_font_face(cr, "IPAGothic", CAIRO_FONT_SLANT_NORMAL,
			       CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, NOTE_FONT_PX);
	struct bk_box area = { NOTE_MARGIN, NOTE_MARGIN, NOTE_MARGIN + 1,
			       NOTE_MARGIN + (int)(nlines * NOTE_FONT_PX * 1.8) };
	block = bk_page_add_block(page, area, BK_DIR_HORIZONTAL, "eng");
	if (!block) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nlines; i++)
		if (note_line(cr, page, block, lines[i],
			      NOTE_MARGIN + NOTE_FONT_PX * (1 + 1.8 * (double)i), err))
			goto out;
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		bk_error_set(err, "cannot draw a placeholder page: %s",
			     cairo_status_to_string(cairo_status(cr)));
		goto out;
	}
	*img = from_surface(s, NOTE_DPI, NOTE_DPI, err);
	rc = *img ? 0 : -1;
out:
	if (rc)
		bk_page_release(page);
	if (cr)
		cairo_destroy(cr);
	if (s)
		cairo_surface_destroy(s);
	return rc;
}

/* The PDF header may follow some junk; readers accept it within the
 * first 1024 bytes. */
static bool pdf_sniff(const unsigned char *h, size_t len)
{
	for (size_t i = 0; i + 5 <= len && i < 1024; i++)
		if (!memcmp(h + i, "%PDF-", 5))
			return true;
	return false;
}

const struct bk_source_format bk_source_format_pdf = {
	.kind = BK_SOURCE_PDF,
	.sniff = pdf_sniff,
	.open = pdf_open,
};
