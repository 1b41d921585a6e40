/*
 * archive/pdf.c — the searchable-PDF writer (see pdf.h for what it
 * guarantees).
 *
 * File protocol (PDF 1.7, ISO 32000-1 7.5.7 and 7.5.8). Object numbers are
 * handed out in order: 1..4 are reserved at open for the objects pages refer
 * to before they exist (catalog, page tree, the two fonts); each added page
 * takes three more (image, content stream, page object), and the objects
 * written at close (font parts, Info, metadata, output-intent profile) and
 * every object stream take theirs when they are written. Streams are
 * written where they stand. Every other object (page objects, fonts, page
 * tree, catalog, Info) is queued into an object stream (/Type /ObjStm,
 * Flate), which is written out when it holds OBJSTM_MAX objects and once
 * more at close, so memory stays bounded however long the document. The
 * writer keeps, per object number, where the object went (a byte offset, or
 * an object stream and an index in it) and, per page, its page object's
 * number for the page tree. Close ends the file with a cross-reference
 * stream (/Type /XRef, Flate with the PNG Up predictor) whose dictionary is
 * the trailer (Root, Info, ID), `startxref` and `%%EOF`, then commits the
 * temporary file (bunko/atomic.h).
 *
 * PDF/A-2 allows cross-reference and object streams (PDF/A-1, based on
 * PDF 1.4, did not). The XMP metadata stream stays a plain stream without
 * a filter, so that tools that know nothing of PDF can read it (PDF/A-1
 * 6.7.2 requires this; it is kept for PDF/A-2). The ID is in the
 * cross-reference stream's dictionary, which is the trailer; nothing is
 * encrypted.
 *
 * Text layer. For each page-model line, in the model's order, one BT..ET:
 * the line's words are cut into runs wherever bk_text_needs_space() says a
 * space belongs (so a Japanese run is one string without spaces, Latin
 * words are separate runs); each run is one Tj placed with its own text
 * matrix so that its glyphs exactly cover the run's boxes, and a run that
 * is followed by another carries one space glyph covering the gap. The font
 * size is 1 and the matrix does the scaling. Text is rendered invisibly
 * (3 Tr, set once per page: render mode and font are text state, which
 * outlives ET; a line selects its font only when it differs from the
 * previous line's).
 *
 * Horizontal lines use the horizontal font (Identity-H) and the matrix
 * [advance*XSCALE 0 0 line-height x baseline] (XSCALE: the glyph is half
 * an em wide, pdf_internal.h): each glyph box is its cell. Poppler
 * measures a horizontal glyph by its advance, so the glyphs of one Tj abut
 * exactly and need no overlap.
 *
 * Vertical columns (Identity-V) are placed so that two models of where a
 * glyph is give the same box, the character's cell. The PDF reference
 * (vertical writing, W2): the glyph box [0, w0] x [Descent, Ascent] sits
 * with its origin at pen - v, v being the position vector, and the pen then
 * advances w1y. Poppler (Evince, Okular, pdftotext) ignores v: its box is
 * [pen x, pen x + s] x [pen y, pen y + s] in PDF space, s = the matrix's
 * vertical scale. So v = (0, Descent) (pen = bottom-left of the box, for
 * both), the matrix is [s*XSCALE 0 0 s x-left y-bottom] (square in ems,
 * so across the column both widths are s), and for a run with pitch p (its extent / its
 * glyph count) and top t: s = p * 1000/990 and w1y = -990, so the pen
 * starts at t - s and steps down by exactly p, while each box is s tall:
 * boxes overlap by 1% of a cell. That overlap is deliberate: poppler joins
 * a column's glyphs without a space only when no gap separates them, and
 * boxes that merely touch leave gaps of rounding size. Across, the box is
 * centred on the column (x-left = centre - s/2); it is as wide as the
 * column when the cells are square, as Japanese cells are. pdf.js's text
 * layer ignores v too but hangs a run from its pen, so there its highlight
 * sits one cell low; no pen position suits both it and poppler.
 *
 * Codes. Both fonts share one CIDFontType2 with two-byte CIDs: a BMP code
 * point is its own CID; a character outside the BMP gets a CID from the
 * surrogate range U+D800..U+DFFF (never a character itself), allocated per
 * document in order of first use. ToUnicode maps the BMP back by ranges and
 * each allocated CID to its UTF-16 surrogate pair. CIDToGIDMap sends every
 * CID to glyph 1 of the embedded program (Tesseract's pdf.ttf, pdf_font.c),
 * so any character, in or outside the BMP, shows the same invisible glyph.
 *
 * Numbers are formatted by hand (add_num), never with %f, so a caller's
 * LC_NUMERIC cannot put a decimal comma into the file.
 */
#include "archive/pdf.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "bunko/atomic.h"
#include "archive/pdf_internal.h"
#include "bunko/buf.h"
#include "ocr/xml.h"

#ifndef BUNKO_VERSION
#define BUNKO_VERSION "0"
#endif

/* Numbers reserved at open: pages refer to these before they are written. */
enum { OBJ_CATALOG = 1, OBJ_PAGES, OBJ_FONT_H, OBJ_FONT_V, OBJ_FIRST_FREE };

/* Objects per object stream: a page object is about 200 bytes, so a
 * pending stream stays near 20 KB. */
enum { OBJSTM_MAX = 100 };

/* Where an object went (the three fields of a cross-reference stream
 * entry): type 0 free (never written), 1 at byte offset `where`, 2 in the
 * object stream numbered `where` at position `index`. */
struct xref_entry {
	long long where;
	unsigned short index;
	unsigned char type;
};

/* CIDs for characters outside the BMP: U+D800..U+DFFF are never characters. */
enum { SUPP_CID_FIRST = 0xD800, SUPP_CID_COUNT = 0x800, CID_REPLACEMENT = 0xFFFD };

/* Glyph box relative to the baseline, as a share of the em. */
#define DESCENT_SHARE 0.12

struct bk_pdf_writer {
	struct bk_atomic_file af;
	char *path; /* the final path, for messages */
	char *title, *collection, *date, *source, *creator;
	bool pdfa;
	long long pos;        /* bytes written so far */
	struct xref_entry *xref; /* xref[n]: where object n went */
	size_t xref_alloc;
	int next_obj;           /* the next object number to hand out */
	int npages;
	int *page_objs;         /* page_objs[i]: page i's page object */
	size_t page_alloc;
	/* the object stream being filled: "num offset ..." pairs and the bodies */
	struct bk_buf stm_head, stm_body;
	int stm_objs[OBJSTM_MAX];
	int stm_n;
	uint32_t *supp;       /* supp[i]: code point with CID SUPP_CID_FIRST + i */
	size_t nsupp, supp_alloc;
	unsigned char used_high[32]; /* bit per high byte of the BMP CIDs used */
	time_t created;
	unsigned char id[16];
	bool broken; /* a write failed: only abort is left */
};

/* A number with at most 2 decimals (1/7200 inch in points), as short as PDF
 * syntax allows: trailing zeros and a leading zero dropped ("12.5", "-3",
 * ".25"). */
static void add_num(struct bk_buf *b, double v)
{
	long long t = llround(v * 100.0);
	const char *sign = t < 0 ? "-" : "";
	if (t < 0)
		t = -t;
	long long whole = t / 100, frac = t % 100;
	if (!frac) {
		bk_buf_addf(b, "%s%lld", t ? sign : "", whole);
		return;
	}
	int digits = 2;
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	if (whole)
		bk_buf_addf(b, "%s%lld.%0*lld", sign, whole, digits, frac);
	else
		bk_buf_addf(b, "%s.%0*lld", sign, digits, frac);
}

/* ---- output ---- */

static int fail_write(struct bk_pdf_writer *w, int errnum, struct bk_error *err)
{
	w->broken = true;
	return bk_error_set(err, "cannot write '%s': %s", w->path,
			    strerror(errnum ? errnum : EIO));
}

static int fail_memory(struct bk_pdf_writer *w, struct bk_error *err)
{
	w->broken = true;
	return bk_error_set(err, "cannot write '%s': out of memory", w->path);
}

static int emit(struct bk_pdf_writer *w, const void *data, size_t n,
		struct bk_error *err)
{
	if (n && fwrite(data, 1, n, w->af.fp) != n)
		return fail_write(w, errno, err);
	w->pos += (long long)n;
	return 0;
}

static int emit_buf(struct bk_pdf_writer *w, const struct bk_buf *b,
		    struct bk_error *err)
{
	if (b->failed)
		return fail_memory(w, err);
	return emit(w, b->data, b->len, err);
}

/* Makes room in the cross-reference for object numbers up to `obj`. */
static int xref_reserve(struct bk_pdf_writer *w, int obj, struct bk_error *err)
{
	if ((size_t)obj < w->xref_alloc)
		return 0;
	size_t want = w->xref_alloc ? w->xref_alloc : 64;
	while (want <= (size_t)obj)
		want *= 2;
	struct xref_entry *q = realloc(w->xref, want * sizeof(*q));
	if (!q)
		return fail_memory(w, err);
	memset(q + w->xref_alloc, 0, (want - w->xref_alloc) * sizeof(*q));
	w->xref = q;
	w->xref_alloc = want;
	return 0;
}

/* Hands out the next object number; -1 when out of memory. */
static int new_object(struct bk_pdf_writer *w, struct bk_error *err)
{
	if (xref_reserve(w, w->next_obj, err))
		return -1;
	return w->next_obj++;
}

/* Object `obj` (a number already handed out) starts here. */
static void note_offset(struct bk_pdf_writer *w, int obj)
{
	w->xref[obj] = (struct xref_entry){ .where = w->pos, .type = 1 };
}

/* Writes a stream object; `dict` holds the entries other than /Length. */
static int write_stream(struct bk_pdf_writer *w, int obj, const char *dict,
			const void *data, size_t len, struct bk_error *err)
{
	struct bk_buf head = { 0 };
	int rc = -1;

	note_offset(w, obj);
	bk_buf_addf(&head, "%d 0 obj\n<<%s /Length %zu>>\nstream\n", obj, dict, len);
	if (emit_buf(w, &head, err) || emit(w, data, len, err) ||
	    emit(w, "\nendstream\nendobj\n", 18, err))
		goto out;
	rc = 0;
out:
	bk_buf_release(&head);
	return rc;
}

/* Writes a stream compressed with /FlateDecode; `dict` holds the entries
 * other than /Filter and /Length. */
static int write_flate_stream(struct bk_pdf_writer *w, int obj, const char *dict,
			      const void *data, size_t len, struct bk_error *err)
{
	uLongf zlen = compressBound((uLong)len);
	unsigned char *z = malloc(zlen);
	struct bk_buf full = { 0 };
	int rc = -1;

	if (!z) {
		fail_memory(w, err);
		goto out;
	}
	if (compress2(z, &zlen, data, (uLong)len, Z_BEST_COMPRESSION) != Z_OK) {
		fail_memory(w, err);
		goto out;
	}
	bk_buf_addf(&full, "/Filter /FlateDecode%s%s", *dict ? " " : "", dict);
	if (full.failed) {
		fail_memory(w, err);
		goto out;
	}
	rc = write_stream(w, obj, full.data, z, zlen, err);
out:
	free(z);
	bk_buf_release(&full);
	return rc;
}

/* Writes the pending object stream, if it holds anything, and records
 * where its objects went. */
static int flush_objects(struct bk_pdf_writer *w, struct bk_error *err)
{
	struct bk_buf data = { 0 }, dict = { 0 };
	int rc = -1;

	if (!w->stm_n)
		return 0;
	int obj = new_object(w, err);
	if (obj < 0)
		return -1;
	bk_buf_add(&data, w->stm_head.data, w->stm_head.len);
	bk_buf_add(&data, w->stm_body.data, w->stm_body.len);
	bk_buf_addf(&dict, "/Type /ObjStm /N %d /First %zu", w->stm_n, w->stm_head.len);
	if (data.failed || dict.failed || w->stm_head.failed || w->stm_body.failed) {
		fail_memory(w, err);
		goto out;
	}
	if (write_flate_stream(w, obj, dict.data, data.data, data.len, err))
		goto out;
	for (int i = 0; i < w->stm_n; i++)
		w->xref[w->stm_objs[i]] = (struct xref_entry){
			.where = obj, .index = (unsigned short)i, .type = 2 };
	w->stm_n = 0;
	bk_buf_reset(&w->stm_head);
	bk_buf_reset(&w->stm_body);
	rc = 0;
out:
	bk_buf_release(&data);
	bk_buf_release(&dict);
	return rc;
}

/* Queues object `obj` (not a stream) into the pending object stream, which
 * is written out when full. The body is its value, e.g. "<< ... >>". */
static int queue_object(struct bk_pdf_writer *w, int obj, const struct bk_buf *body,
			struct bk_error *err)
{
	if (body->failed)
		return fail_memory(w, err);
	bk_buf_addf(&w->stm_head, "%d %zu ", obj, w->stm_body.len);
	bk_buf_add(&w->stm_body, body->data, body->len);
	bk_buf_addstr(&w->stm_body, "\n");
	if (w->stm_head.failed || w->stm_body.failed)
		return fail_memory(w, err);
	w->stm_objs[w->stm_n++] = obj;
	return w->stm_n == OBJSTM_MAX ? flush_objects(w, err) : 0;
}

/* ---- text ---- */

/* The CID for code point `cp`, allocating one for a supplementary
 * character; -1 when out of memory. */
static long cid_for(struct bk_pdf_writer *w, unsigned cp)
{
	if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = CID_REPLACEMENT;
	if (cp < 0x10000) {
		w->used_high[cp >> 11] |= (unsigned char)(1u << ((cp >> 8) & 7));
		return cp;
	}
	for (size_t i = 0; i < w->nsupp; i++)
		if (w->supp[i] == cp)
			return SUPP_CID_FIRST + (long)i;
	if (w->nsupp == SUPP_CID_COUNT) /* 2048 distinct rare characters: give up */
		return cid_for(w, CID_REPLACEMENT);
	if (w->nsupp == w->supp_alloc) {
		size_t want = w->supp_alloc ? w->supp_alloc * 2 : 16;
		uint32_t *q = realloc(w->supp, want * sizeof(*q));
		if (!q)
			return -1;
		w->supp = q;
		w->supp_alloc = want;
	}
	w->supp[w->nsupp] = cp;
	return SUPP_CID_FIRST + (long)w->nsupp++;
}

/* Appends the CIDs of `text` as hex to `hex`; returns the glyph count or -1. */
static long add_cids(struct bk_pdf_writer *w, struct bk_buf *hex, const char *text)
{
	const char *s = text;
	long n = 0;

	while (*s) {
		long cid = cid_for(w, bk_utf8_next(&s));
		if (cid < 0)
			return -1;
		bk_buf_addf(hex, "%04lX", cid);
		n++;
	}
	return n;
}

/* Page geometry: points per page-model pixel and the page height. */
struct page_geom {
	double kx, ky, height;
};

static double max1(double v)
{
	return v < 1.0 ? 1.0 : v;
}

/* Places one run: `hex` glyphs (count n) covering [from, to) along the
 * line, in page-model pixels; `line` gives the cross-line extent. The
 * geometry is explained at the top of the file. */
static void place_run(struct bk_buf *cs, const struct page_geom *g, enum bk_dir dir,
		      const struct bk_box *line, double from, double to, long n,
		      const char *hex)
{
	double extent = max1(to - from);

	if (dir == BK_DIR_VERTICAL) {
		double pitch = extent * g->ky / (double)n;
		double size = pitch * BK_PDF_FONT_EM / -BK_PDF_FONT_VADVANCE;
		double centre = (line->x0 + line->x1) / 2.0 * g->kx;
		double top = g->height - from * g->ky;
		add_num(cs, size * BK_PDF_FONT_XSCALE);
		bk_buf_addstr(cs, " 0 0 ");
		add_num(cs, size);
		bk_buf_addstr(cs, " ");
		add_num(cs, centre - size / 2.0);
		bk_buf_addstr(cs, " ");
		add_num(cs, top - size);
	} else {
		double height = max1(line->y1 - line->y0) * g->ky;
		double advance = extent * g->kx / (double)n;
		double baseline = g->height - line->y1 * g->ky + DESCENT_SHARE * height;
		add_num(cs, advance * BK_PDF_FONT_XSCALE);
		bk_buf_addstr(cs, " 0 0 ");
		add_num(cs, height);
		bk_buf_addstr(cs, " ");
		add_num(cs, from * g->kx);
		bk_buf_addstr(cs, " ");
		add_num(cs, baseline);
	}
	bk_buf_addf(cs, " Tm <%s> Tj\n", hex);
}

/* Start and end of a word along the line's direction. */
static double word_from(const struct bk_word *wd, enum bk_dir dir)
{
	return dir == BK_DIR_VERTICAL ? wd->box.y0 : wd->box.x0;
}

static double word_to(const struct bk_word *wd, enum bk_dir dir)
{
	return dir == BK_DIR_VERTICAL ? wd->box.y1 : wd->box.x1;
}

/* One BT..ET for the line: runs of words that join without a space.
 * `*font` is the direction whose font is selected, -1 for none (updated). */
static int line_text(struct bk_pdf_writer *w, struct bk_buf *cs,
		     const struct page_geom *g, const struct bk_line *line,
		     enum bk_dir dir, int *font)
{
	struct bk_buf hex = { 0 };
	int rc = -1;
	size_t i = 0;

	if ((int)dir != *font) /* Tf, like Tr, is text state: it outlives ET */
		bk_buf_addf(cs, "BT /%s 1 Tf\n", dir == BK_DIR_VERTICAL ? "FV" : "FH");
	else
		bk_buf_addstr(cs, "BT\n");
	*font = (int)dir;
	cid_for(w, ' '); /* the space between runs is written as "0020" */
	while (i < line->nwords) {
		size_t j = i + 1;
		while (j < line->nwords &&
		       !bk_text_needs_space(line->words[j - 1].text, line->words[j].text))
			j++;
		bk_buf_reset(&hex);
		long n = 0;
		double from = word_from(&line->words[i], dir), to = from;
		for (size_t k = i; k < j; k++) {
			long m = add_cids(w, &hex, line->words[k].text);
			if (m < 0)
				goto out;
			n += m;
			if (word_to(&line->words[k], dir) > to)
				to = word_to(&line->words[k], dir);
		}
		if (hex.failed)
			goto out;
		if (n > 0)
			place_run(cs, g, dir, &line->box, from, to, n, hex.data);
		if (j < line->nwords) {
			/* the space between two runs spans the gap, at least a sliver */
			double next = word_from(&line->words[j], dir);
			place_run(cs, g, dir, &line->box, to, next > to + 1 ? next : to + 1,
				  1, "0020");
		}
		i = j;
	}
	bk_buf_addstr(cs, "ET\n");
	rc = cs->failed ? -1 : 0;
out:
	bk_buf_release(&hex);
	return rc;
}

static int text_layer(struct bk_pdf_writer *w, struct bk_buf *cs,
		      const struct page_geom *g, const struct bk_page *page)
{
	int font = -1;

	bk_buf_addstr(cs, "3 Tr\n"); /* invisible text, for the whole page */
	for (size_t b = 0; b < page->nblocks; b++) {
		const struct bk_block *block = &page->blocks[b];
		for (size_t l = 0; l < block->nlines; l++) {
			const struct bk_line *line = &block->lines[l];
			if (line->nwords &&
			    line_text(w, cs, g, line, line->dir, &font))
				return -1;
		}
	}
	return 0;
}

/* ---- pages ---- */

static int image_dict(const struct bk_pdf_writer *w, const struct bk_encoded_image *img,
		      struct bk_buf *d, struct bk_error *err)
{
	const char *space = img->components == 3 ? "/DeviceRGB" : "/DeviceGray";
	int page = w->npages + 1;

	if (img->width <= 0 || img->height <= 0 || !img->data || !img->size)
		return bk_error_set(err, "'%s' page %d: empty image", w->path, page);
	if (img->components != 1 && img->components != 3)
		return bk_error_set(err, "'%s' page %d: images with %d components are not supported",
				    w->path, page, img->components);
	bk_buf_addf(d, "/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s",
		  img->width, img->height, space);
	switch (img->encoding) {
	case BK_ENC_G4:
		if (img->components != 1 || img->bits_per_component != 1)
			return bk_error_set(err, "'%s' page %d: a G4 image must be 1-bit gray",
					    w->path, page);
		bk_buf_addf(d, " /BitsPerComponent 1 /Filter /CCITTFaxDecode /DecodeParms "
			     "<< /K -1 /Columns %d /Rows %d /BlackIs1 false >>",
			  img->width, img->height);
		break;
	case BK_ENC_JPEG:
		bk_buf_addstr(d, " /BitsPerComponent 8 /Filter /DCTDecode");
		break;
	case BK_ENC_FLATE:
		if (img->bits_per_component != 8)
			return bk_error_set(err, "'%s' page %d: a Flate image must have 8 bits per component",
					    w->path, page);
		bk_buf_addstr(d, " /BitsPerComponent 8 /Filter /FlateDecode");
		break;
	default:
		return bk_error_set(err, "'%s' page %d: unknown image encoding %d", w->path,
				    page, (int)img->encoding);
	}
	if (d->failed)
		return bk_error_set(err, "cannot write '%s': out of memory", w->path);
	return 0;
}

/* Object numbers of one page's objects. */
struct page_objs {
	int image, contents, page;
};

static int page_object(struct bk_pdf_writer *w, const struct page_objs *o, double width,
		       double height, struct bk_error *err)
{
	struct bk_buf d = { 0 };

	bk_buf_addf(&d, "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 ", OBJ_PAGES);
	add_num(&d, width);
	bk_buf_addstr(&d, " ");
	add_num(&d, height);
	bk_buf_addf(&d, "] /Resources << /XObject << /Im0 %d 0 R >> /Font << /FH %d 0 R /FV %d 0 R >> >>"
		      " /Contents %d 0 R >>",
		  o->image, OBJ_FONT_H, OBJ_FONT_V, o->contents);
	int rc = queue_object(w, o->page, &d, err);
	bk_buf_release(&d);
	return rc;
}

/* Hands out the page's object numbers and remembers its page object for
 * the page tree. */
static int number_page(struct bk_pdf_writer *w, struct page_objs *o, struct bk_error *err)
{
	if ((size_t)w->npages == w->page_alloc) {
		size_t want = w->page_alloc ? w->page_alloc * 2 : 16;
		int *q = realloc(w->page_objs, want * sizeof(*q));
		if (!q)
			return fail_memory(w, err);
		w->page_objs = q;
		w->page_alloc = want;
	}
	if ((o->image = new_object(w, err)) < 0 || (o->contents = new_object(w, err)) < 0 ||
	    (o->page = new_object(w, err)) < 0)
		return -1;
	w->page_objs[w->npages] = o->page;
	return 0;
}

int bk_pdf_writer_add_page(struct bk_pdf_writer *w, const struct bk_encoded_image *img,
			   const struct bk_page *page, struct bk_error *err)
{
	struct bk_buf dict = { 0 }, cs = { 0 };
	struct page_objs o = { 0 };
	int rc = -1;

	if (w->broken)
		return bk_error_set(err, "cannot write '%s': an earlier write failed", w->path);
	if (image_dict(w, img, &dict, err))
		goto out;
	double xdpi = img->xres > 0 ? img->xres : 300;
	double ydpi = img->yres > 0 ? img->yres : xdpi;
	double width = img->width / xdpi * 72.0, height = img->height / ydpi * 72.0;

	bk_buf_addstr(&cs, "q ");
	add_num(&cs, width);
	bk_buf_addstr(&cs, " 0 0 ");
	add_num(&cs, height);
	bk_buf_addstr(&cs, " 0 0 cm /Im0 Do Q\n");
	if (page) {
		struct page_geom g = {
			.kx = width / (page->width > 0 ? page->width : img->width),
			.ky = height / (page->height > 0 ? page->height : img->height),
			.height = height,
		};
		if (text_layer(w, &cs, &g, page)) {
			fail_memory(w, err);
			goto out;
		}
	}
	if (cs.failed) {
		fail_memory(w, err);
		goto out;
	}
	if (number_page(w, &o, err) ||
	    write_stream(w, o.image, dict.data, img->data, img->size, err) ||
	    write_flate_stream(w, o.contents, "", cs.data, cs.len, err) ||
	    page_object(w, &o, width, height, err))
		goto out;
	w->npages++;
	rc = 0;
out:
	bk_buf_release(&dict);
	bk_buf_release(&cs);
	return rc;
}

int bk_pdf_writer_page_count(const struct bk_pdf_writer *w)
{
	return w ? w->npages : 0;
}

/* ---- shared objects, written at close ---- */

/* Numbers of the objects written at close, other than the reserved ones;
 * 0 for those a plain PDF leaves out. */
struct shared_objs {
	int cidfont, descriptor, font_file, cid_to_gid, to_unicode, info;
	int metadata, profile;
};

static int number_shared(struct bk_pdf_writer *w, struct shared_objs *o,
			 struct bk_error *err)
{
	int *numbers[] = { &o->cidfont, &o->descriptor, &o->font_file, &o->cid_to_gid,
			   &o->to_unicode, &o->info, &o->metadata, &o->profile };
	size_t n = sizeof(numbers) / sizeof(numbers[0]) - (w->pdfa ? 0 : 2);

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < n; i++)
		if ((*numbers[i] = new_object(w, err)) < 0)
			return -1;
	return 0;
}

/* ToUnicode: BMP ranges one high byte at a time (a bfrange may only vary
 * the last byte) for the high bytes the document used, then the
 * supplementary characters' CIDs as surrogate pairs. */
static int write_to_unicode(struct bk_pdf_writer *w, int obj, struct bk_error *err)
{
	struct bk_buf map = { 0 };

	bk_buf_addstr(&map, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
		     "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
		     "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
		     "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
	int highs[256], nhigh = 0;
	for (int hi = 0; hi < 256; hi++)
		if (w->used_high[hi >> 3] & (1u << (hi & 7)))
			highs[nhigh++] = hi;
	for (int k = 0; k < nhigh; k += 100) {
		int chunk = nhigh - k < 100 ? nhigh - k : 100;
		bk_buf_addf(&map, "%d beginbfrange\n", chunk);
		for (int c = 0; c < chunk; c++)
			bk_buf_addf(&map, "<%02X00> <%02XFF> <%02X00>\n", highs[k + c],
				  highs[k + c], highs[k + c]);
		bk_buf_addstr(&map, "endbfrange\n");
	}
	for (size_t k = 0; k < w->nsupp; k += 100) {
		size_t chunk = w->nsupp - k < 100 ? w->nsupp - k : 100;
		bk_buf_addf(&map, "%zu beginbfchar\n", chunk);
		for (size_t c = 0; c < chunk; c++) {
			uint32_t v = w->supp[k + c] - 0x10000;
			bk_buf_addf(&map, "<%04zX> <%04X%04X>\n", SUPP_CID_FIRST + k + c,
				  (unsigned)(0xD800 + (v >> 10)), (unsigned)(0xDC00 + (v & 0x3FF)));
		}
		bk_buf_addstr(&map, "endbfchar\n");
	}
	bk_buf_addstr(&map, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
	if (map.failed) {
		bk_buf_release(&map);
		return fail_memory(w, err);
	}
	int rc = write_flate_stream(w, obj, "", map.data, map.len, err);
	bk_buf_release(&map);
	return rc;
}

static int write_fonts(struct bk_pdf_writer *w, const struct shared_objs *o,
		       struct bk_error *err)
{
	struct bk_buf d = { 0 };
	unsigned char *program = NULL, *gids = NULL;
	size_t program_len = 0;
	int rc = -1;

	static const char *const encodings[2] = { "Identity-H", "Identity-V" };
	for (int i = 0; i < 2; i++) {
		bk_buf_reset(&d);
		bk_buf_addf(&d, "<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /%s"
			      " /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>",
			  BK_PDF_FONT_NAME, encodings[i], o->cidfont, o->to_unicode);
		if (queue_object(w, OBJ_FONT_H + i, &d, err))
			goto out;
	}
	/* W2 gives every CID the vertical metrics (DW2 cannot: its position
	 * vector's x is always half the width); DW2 repeats the rest */
	bk_buf_reset(&d);
	bk_buf_addf(&d, "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s"
		      " /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
		      " /FontDescriptor %d 0 R /DW %d /DW2 [%d %d] /W2 [0 65535 %d %d %d]"
		      " /CIDToGIDMap %d 0 R >>",
		  BK_PDF_FONT_NAME, o->descriptor, BK_PDF_FONT_ADVANCE,
		  BK_PDF_FONT_VORIGIN_Y, BK_PDF_FONT_VADVANCE, BK_PDF_FONT_VADVANCE,
		  BK_PDF_FONT_VORIGIN_X, BK_PDF_FONT_VORIGIN_Y, o->cid_to_gid);
	if (queue_object(w, o->cidfont, &d, err))
		goto out;
	bk_buf_reset(&d);
	bk_buf_addf(&d, "<< /Type /FontDescriptor /FontName /%s /Flags 4"
		      " /FontBBox [0 %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d"
		      " /CapHeight %d /StemV 80 /FontFile2 %d 0 R >>",
		  BK_PDF_FONT_NAME, BK_PDF_FONT_DESCENT, BK_PDF_FONT_EM,
		  BK_PDF_FONT_ASCENT, BK_PDF_FONT_ASCENT, BK_PDF_FONT_DESCENT,
		  BK_PDF_FONT_ASCENT, o->font_file);
	if (queue_object(w, o->descriptor, &d, err))
		goto out;

	program = bk_pdf_glyphless_font(&program_len);
	gids = malloc(2 * 65536);
	if (!program || !gids) {
		fail_memory(w, err);
		goto out;
	}
	for (size_t cid = 0; cid < 65536; cid++) {
		gids[2 * cid] = 0;
		gids[2 * cid + 1] = 1; /* every CID shows the empty glyph 1 */
	}
	bk_buf_reset(&d);
	bk_buf_addf(&d, "/Length1 %zu", program_len);
	if (d.failed) {
		fail_memory(w, err);
		goto out;
	}
	if (write_flate_stream(w, o->font_file, d.data, program, program_len, err) ||
	    write_flate_stream(w, o->cid_to_gid, "", gids, 2 * 65536, err))
		goto out;

	if (write_to_unicode(w, o->to_unicode, err))
		goto out;
	rc = 0;
out:
	bk_buf_release(&d);
	free(program);
	free(gids);
	return rc;
}

/* A PDF text string: literal when printable ASCII, else UTF-16BE with BOM.
 * Written here because it is PDF object syntax (ISO 32000-1 7.3.4, 7.9.2),
 * part of this writer, not a JSON or XML escaper. */
static void add_text_string(struct bk_buf *b, const char *s)
{
	bool ascii = true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7E)
			ascii = false;
	if (ascii) {
		bk_buf_addstr(b, "(");
		for (const char *p = s; *p; p++) {
			if (*p == '(' || *p == ')' || *p == '\\')
				bk_buf_addstr(b, "\\");
			bk_buf_add(b, p, 1);
		}
		bk_buf_addstr(b, ")");
		return;
	}
	bk_buf_addstr(b, "<FEFF");
	const char *p = s;
	while (*p) {
		unsigned cp = bk_utf8_next(&p);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			bk_buf_addf(b, "%04X%04X", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
		} else {
			bk_buf_addf(b, "%04X", cp);
		}
	}
	bk_buf_addstr(b, ">");
}

/* "collection: X; date: Y" — the Subject / dc:description; NULL if empty. */
static char *describe(const struct bk_pdf_writer *w)
{
	struct bk_buf b = { 0 };
	if (w->collection)
		bk_buf_addf(&b, "collection: %s", w->collection);
	if (w->date)
		bk_buf_addf(&b, "%sdate: %s", b.len ? "; " : "", w->date);
	if (b.failed || !b.len) {
		bk_buf_release(&b);
		return NULL;
	}
	return b.data;
}

static const char *creator_tool(const struct bk_pdf_writer *w)
{
	return w->creator ? w->creator : "bunko " BUNKO_VERSION;
}

static int write_info(struct bk_pdf_writer *w, int obj, const char *desc,
		      struct bk_error *err)
{
	struct bk_buf d = { 0 };
	struct tm tm;
	char date[32];

	gmtime_r(&w->created, &tm);
	strftime(date, sizeof(date), "D:%Y%m%d%H%M%SZ", &tm);
	bk_buf_addstr(&d, "<< /Producer (bunko " BUNKO_VERSION ") /Creator ");
	add_text_string(&d, creator_tool(w));
	bk_buf_addf(&d, " /CreationDate (%s) /ModDate (%s)", date, date);
	if (w->title) {
		bk_buf_addstr(&d, " /Title ");
		add_text_string(&d, w->title);
	}
	if (desc) {
		bk_buf_addstr(&d, " /Subject ");
		add_text_string(&d, desc);
	}
	/* bunko's own keys: not part of any XMP schema, so PDF/A lets them be */
	static const char *const keys[3] = { "BunkoCollection", "BunkoDate", "BunkoSource" };
	const char *values[3] = { w->collection, w->date, w->source };
	for (int i = 0; i < 3; i++)
		if (values[i]) {
			bk_buf_addf(&d, " /%s ", keys[i]);
			add_text_string(&d, values[i]);
		}
	bk_buf_addstr(&d, " >>");
	int rc = queue_object(w, obj, &d, err);
	bk_buf_release(&d);
	return rc;
}

/* One property per line: <prop><rdf:Alt><rdf:li xml:lang="x-default">v... */
static void xmp_alt(struct bk_xml *x, const char *prop, const char *value)
{
	bk_xml_start(x, prop);
	bk_xml_start(x, "rdf:Alt");
	bk_xml_start(x, "rdf:li");
	bk_xml_attr(x, "xml:lang", "x-default");
	bk_xml_text(x, value);
	bk_xml_end(x);
	bk_xml_end(x);
	bk_xml_end(x);
	bk_xml_text(x, "\n");
}

static void xmp_simple(struct bk_xml *x, const char *prop, const char *value)
{
	bk_xml_element(x, prop, value);
	bk_xml_text(x, "\n");
}

/* The XMP packet, written by libxml2 (ocr/xml.h): one property per line, no
 * indentation and no padding (padding only serves editors that rewrite the
 * packet in place, which an archival copy never is); the properties PDF/A
 * asks for and those that mirror the Info dictionary, nothing more. */
static int write_metadata(struct bk_pdf_writer *w, int obj, const char *desc,
			  struct bk_error *err)
{
	struct bk_buf packet = { 0 };
	struct bk_xml *x = NULL;
	struct tm tm;
	char date[32], uuid[48];
	int rc = -1;

	gmtime_r(&w->created, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	const unsigned char *id = w->id;
	snprintf(uuid, sizeof(uuid),
		 "uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9],
		 id[10], id[11], id[12], id[13], id[14], id[15]);
	x = bk_xml_new_buf(&packet);
	if (!x) {
		fail_memory(w, err);
		goto out;
	}
	/* the packet header's "begin" is a byte order mark, as XMP asks */
	bk_xml_pi(x, "xpacket", "begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"");
	bk_xml_text(x, "\n");
	bk_xml_start(x, "x:xmpmeta");
	bk_xml_attr(x, "xmlns:x", "adobe:ns:meta/");
	bk_xml_text(x, "\n");
	bk_xml_start(x, "rdf:RDF");
	bk_xml_attr(x, "xmlns:rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#");
	bk_xml_text(x, "\n");
	bk_xml_start(x, "rdf:Description");
	bk_xml_attr(x, "rdf:about", "");
	bk_xml_attr(x, "xmlns:pdfaid", "http://www.aiim.org/pdfa/ns/id/");
	bk_xml_attr(x, "xmlns:dc", "http://purl.org/dc/elements/1.1/");
	bk_xml_attr(x, "xmlns:xmp", "http://ns.adobe.com/xap/1.0/");
	bk_xml_attr(x, "xmlns:xmpMM", "http://ns.adobe.com/xap/1.0/mm/");
	bk_xml_attr(x, "xmlns:pdf", "http://ns.adobe.com/pdf/1.3/");
	bk_xml_text(x, "\n");
	xmp_simple(x, "pdfaid:part", "2");
	xmp_simple(x, "pdfaid:conformance", "B");
	xmp_simple(x, "dc:format", "application/pdf");
	if (w->title)
		xmp_alt(x, "dc:title", w->title);
	if (desc)
		xmp_alt(x, "dc:description", desc);
	if (w->source)
		xmp_simple(x, "dc:source", w->source);
	if (w->date && bk_date_valid(w->date)) {
		bk_xml_start(x, "dc:date");
		bk_xml_start(x, "rdf:Seq");
		bk_xml_element(x, "rdf:li", w->date);
		bk_xml_end(x);
		bk_xml_end(x);
		bk_xml_text(x, "\n");
	}
	xmp_simple(x, "xmp:CreatorTool", creator_tool(w));
	xmp_simple(x, "xmp:CreateDate", date);
	xmp_simple(x, "xmp:ModifyDate", date);
	xmp_simple(x, "pdf:Producer", "bunko " BUNKO_VERSION);
	xmp_simple(x, "xmpMM:DocumentID", uuid);
	bk_xml_end(x); /* rdf:Description */
	bk_xml_text(x, "\n");
	bk_xml_end(x); /* rdf:RDF */
	bk_xml_text(x, "\n");
	bk_xml_end(x); /* x:xmpmeta */
	bk_xml_text(x, "\n");
	bk_xml_pi(x, "xpacket", "end=\"w\"");
	if (bk_xml_finish(&x) || packet.failed) {
		fail_memory(w, err);
		goto out;
	}
	/* PDF/A: the metadata stream is not filtered, so any tool can read it
	 * (PDF/A-1 6.7.2 forbids a filter; kept under PDF/A-2) */
	rc = write_stream(w, obj, "/Type /Metadata /Subtype /XML", packet.data,
			  packet.len, err);
out:
	bk_xml_free(&x);
	bk_buf_release(&packet);
	return rc;
}

static int write_output_profile(struct bk_pdf_writer *w, int obj, struct bk_error *err)
{
	size_t len = 0;
	unsigned char *icc = bk_pdf_srgb_profile(&len);
	if (!icc)
		return fail_memory(w, err);
	int rc = write_flate_stream(w, obj, "/N 3", icc, len, err);
	free(icc);
	return rc;
}

static int write_pages_and_catalog(struct bk_pdf_writer *w, const struct shared_objs *o,
				   struct bk_error *err)
{
	struct bk_buf d = { 0 };
	int rc = -1;

	bk_buf_addf(&d, "<< /Type /Pages /Count %d /Kids [", w->npages);
	for (int i = 0; i < w->npages; i++)
		bk_buf_addf(&d, "%s%d 0 R", i % 10 ? " " : "\n", w->page_objs[i]);
	bk_buf_addstr(&d, "] >>");
	if (queue_object(w, OBJ_PAGES, &d, err))
		goto out;
	bk_buf_reset(&d);
	bk_buf_addf(&d, "<< /Type /Catalog /Pages %d 0 R", OBJ_PAGES);
	if (w->title)
		bk_buf_addstr(&d, " /ViewerPreferences << /DisplayDocTitle true >>");
	if (w->pdfa)
		bk_buf_addf(&d, " /Metadata %d 0 R /OutputIntents [<< /Type /OutputIntent"
			      " /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB IEC61966-2.1)"
			      " /Info (sRGB IEC61966-2.1) /RegistryName (http://www.color.org)"
			      " /DestOutputProfile %d 0 R >>]",
			  o->metadata, o->profile);
	bk_buf_addstr(&d, " >>");
	if (queue_object(w, OBJ_CATALOG, &d, err))
		goto out;
	rc = 0;
out:
	bk_buf_release(&d);
	return rc;
}

/* Bytes needed for `v` (>= 0) as an unsigned big-endian number. */
static int byte_width(long long v)
{
	int n = 1;
	while (v >>= 8)
		n++;
	return n;
}

/*
 * The cross-reference stream, which is also the trailer, and the end of the
 * file. One row per object: type (1 byte), offset or object stream number
 * (as many bytes as the largest needs), generation or index (2 bytes; the
 * free head, object 0, has generation 65535 as in a classic table). Rows
 * go through the PNG Up predictor before Flate: neighbouring rows differ
 * little, so the differences compress well.
 */
static int write_xref_stream(struct bk_pdf_writer *w, int info, struct bk_error *err)
{
	struct bk_buf rows = { 0 }, dict = { 0 }, tail = { 0 };
	int rc = -1;

	int obj = new_object(w, err);
	if (obj < 0)
		return -1;
	long long start = w->pos;
	note_offset(w, obj);
	int size = w->next_obj;
	int w2 = byte_width(start > size ? start : size);
	int cols = 1 + w2 + 2;
	unsigned char prev[1 + 8 + 2] = { 0 }, row[1 + 8 + 2];

	for (int n = 0; n < size; n++) {
		const struct xref_entry *e = &w->xref[n];
		unsigned f3 = n == 0 ? 65535 : e->index;
		row[0] = e->type;
		for (int k = 0; k < w2; k++)
			row[1 + k] = (unsigned char)(e->where >> (8 * (w2 - 1 - k)));
		row[1 + w2] = (unsigned char)(f3 >> 8);
		row[2 + w2] = (unsigned char)f3;
		bk_buf_add(&rows, "\x02", 1); /* PNG filter type 2: Up */
		for (int k = 0; k < cols; k++) {
			unsigned char up = (unsigned char)(row[k] - prev[k]);
			bk_buf_add(&rows, &up, 1);
			prev[k] = row[k];
		}
	}
	bk_buf_addf(&dict, "/Type /XRef /Size %d /W [1 %d 2] /Root %d 0 R", size, w2,
		    OBJ_CATALOG);
	bk_buf_addf(&dict, " /Info %d 0 R /ID [<", info);
	for (int i = 0; i < 16; i++)
		bk_buf_addf(&dict, "%02X", w->id[i]);
	bk_buf_addstr(&dict, "> <");
	for (int i = 0; i < 16; i++)
		bk_buf_addf(&dict, "%02X", w->id[i]);
	bk_buf_addf(&dict, ">] /DecodeParms << /Predictor 12 /Columns %d >>", cols);
	if (rows.failed || dict.failed) {
		fail_memory(w, err);
		goto out;
	}
	if (write_flate_stream(w, obj, dict.data, rows.data, rows.len, err))
		goto out;
	bk_buf_addf(&tail, "startxref\n%lld\n%%%%EOF\n", start);
	rc = emit_buf(w, &tail, err);
out:
	bk_buf_release(&rows);
	bk_buf_release(&dict);
	bk_buf_release(&tail);
	return rc;
}

/* ---- open / close ---- */

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001B3ull;
	}
	return h;
}

/* The document ID: a hash of what makes this file unique (its path,
 * metadata, the time to the nanosecond, the process), as the PDF
 * reference suggests. It names the file; it is not a checksum. */
static void make_id(struct bk_pdf_writer *w)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	pid_t pid = getpid();
	uint64_t h[2] = { 0xCBF29CE484222325ull, 0x84222325CBF29CE4ull };
	for (int k = 0; k < 2; k++) {
		h[k] = fnv1a(h[k], w->path, strlen(w->path));
		h[k] = fnv1a(h[k], &ts, sizeof(ts));
		h[k] = fnv1a(h[k], &pid, sizeof(pid));
		const char *fields[4] = { w->title, w->collection, w->date, w->source };
		for (int f = 0; f < 4; f++)
			if (fields[f])
				h[k] = fnv1a(h[k], fields[f], strlen(fields[f]));
		h[k] = fnv1a(h[k], &k, sizeof(k));
	}
	for (int i = 0; i < 8; i++) {
		w->id[i] = (unsigned char)(h[0] >> (8 * i));
		w->id[8 + i] = (unsigned char)(h[1] >> (8 * i));
	}
}

/* The creation time: SOURCE_DATE_EPOCH when set (reproducible builds of
 * test fixtures), else now. */
static time_t creation_time(void)
{
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	if (epoch && *epoch) {
		char *end;
		long long v = strtoll(epoch, &end, 10);
		if (!*end && v >= 0)
			return (time_t)v;
	}
	return time(NULL);
}

void bk_pdf_meta_init(struct bk_pdf_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->pdfa = true;
}

static void writer_free(struct bk_pdf_writer *w)
{
	free(w->path);
	free(w->title);
	free(w->collection);
	free(w->date);
	free(w->source);
	free(w->creator);
	free(w->xref);
	free(w->page_objs);
	bk_buf_release(&w->stm_head);
	bk_buf_release(&w->stm_body);
	free(w->supp);
	free(w);
}

static bool dup_field(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return !src || *dst;
}

int bk_pdf_writer_open(struct bk_pdf_writer **wp, const char *path,
		       const struct bk_pdf_meta *meta, struct bk_error *err)
{
	struct bk_pdf_meta defaults;
	struct bk_pdf_writer *w = NULL;
	int rc = -1;

	*wp = NULL;
	if (!meta) {
		bk_pdf_meta_init(&defaults);
		meta = &defaults;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !dup_field(&w->path, path) || !dup_field(&w->title, meta->title) ||
	    !dup_field(&w->collection, meta->collection) ||
	    !dup_field(&w->date, meta->date) || !dup_field(&w->source, meta->source) ||
	    !dup_field(&w->creator, meta->creator)) {
		bk_error_set(err, "cannot write '%s': out of memory", path);
		goto out;
	}
	w->pdfa = meta->pdfa;
	w->created = creation_time();
	make_id(w);
	w->next_obj = OBJ_FIRST_FREE;
	if (xref_reserve(w, OBJ_FIRST_FREE, err))
		goto out;
	if (bk_atomic_open(&w->af, path, err))
		goto out;
	/* a binary comment tells transfer tools the file is binary (PDF/A) */
	static const char header[] = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n";
	if (emit(w, header, sizeof(header) - 1, err))
		goto out;
	*wp = w;
	w = NULL;
	rc = 0;
out:
	if (w) {
		bk_atomic_abort(&w->af);
		writer_free(w);
	}
	return rc;
}

int bk_pdf_writer_close(struct bk_pdf_writer **wp, struct bk_error *err)
{
	struct bk_pdf_writer *w = *wp;
	struct shared_objs o;
	char *desc = NULL;
	int rc = -1;

	if (!w)
		return 0;
	*wp = NULL;
	if (w->broken) {
		bk_error_set(err, "cannot write '%s': an earlier write failed", w->path);
		goto out;
	}
	if (w->npages == 0) {
		bk_error_set(err, "cannot write '%s': the document has no pages", w->path);
		goto out;
	}
	desc = describe(w);
	if (number_shared(w, &o, err) || write_fonts(w, &o, err) ||
	    write_info(w, o.info, desc, err))
		goto out;
	if (w->pdfa && (write_metadata(w, o.metadata, desc, err) ||
			write_output_profile(w, o.profile, err)))
		goto out;
	if (write_pages_and_catalog(w, &o, err) || flush_objects(w, err) ||
	    write_xref_stream(w, o.info, err))
		goto out;
	if (bk_atomic_commit(&w->af, err))
		goto out;
	rc = 0;
out:
	free(desc);
	bk_atomic_abort(&w->af);
	writer_free(w);
	return rc;
}

void bk_pdf_writer_abort(struct bk_pdf_writer **wp)
{
	if (!wp || !*wp)
		return;
	bk_atomic_abort(&(*wp)->af);
	writer_free(*wp);
	*wp = NULL;
}
