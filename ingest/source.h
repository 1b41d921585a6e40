/*
 * ingest/source.h — page sources: a scanned file seen as a sequence of
 * page images, whatever its format.
 *
 * The format is recognized from the file's first bytes, never from its
 * name: multi-page TIFF (ingest/tiff.c, libtiff), PDF (ingest/pdf.c,
 * poppler), and single images — PNG, JPEG, PNM, BMP — (ingest/image.c,
 * through ocr/image.h).
 *
 * Guarantees:
 * - memory is bounded by one page: opening a file reads only its structure
 *   (a 1,000-page TIFF is not loaded), bk_source_read_page() decodes one
 *   page.
 * - a page's pixel dimensions are checked against max_pixels BEFORE it is
 *   decoded (decompression bombs cost no memory).
 * - errors name the file and, for a page, the page (1-based):
 *   "'box12.tif' page 3: ...". Vendor libraries' warnings and errors go
 *   into the error message, never to stderr.
 * - bilevel scans come out as 1-bpp images, gray scans as 8-bit gray, color
 *   as 32-bit RGB; resolution is set when the file records it.
 *
 * Ownership: the caller owns the source (bk_source_free) and every page
 * read from it (bk_source_page_release).
 */
#ifndef BUNKO_INGEST_SOURCE_H
#define BUNKO_INGEST_SOURCE_H

#include <stddef.h>

#include "bunko/common.h"
#include "ocr/image.h"

enum bk_source_kind { BK_SOURCE_TIFF, BK_SOURCE_PDF, BK_SOURCE_IMAGE };

struct bk_source;

/*
 * The text a PDF page already carries (see ingest/pdf.c for the measured
 * rule that tells them apart):
 * - NONE: no text (a scan, or a page of pictures);
 * - TYPESET: real text, drawn by the page itself (a born-digital page);
 * - OCR_LAYER: text lying over an image that covers the page: another
 *   tool's reading of a scan, usually invisible;
 * - JUNK: text that cannot be trusted: too many characters without a
 *   Unicode meaning (no or broken ToUnicode map) or without a place on
 *   the page.
 */
enum bk_text_layer { BK_TEXT_NONE, BK_TEXT_TYPESET, BK_TEXT_OCR_LAYER, BK_TEXT_JUNK };

/* One decoded page. */
struct bk_source_page {
	struct bk_image *image; /* owned */
	/* The page's original JPEG stream when the page IS a JPEG file, so
	 * the PDF can carry it unchanged; NULL otherwise. Owned. */
	unsigned char *jpeg;
	size_t jpeg_len;
	/* PDF pages with text: that text as a page model (words with boxes
	 * in pixels of `image`, the PDF's reading order, vertical lines where
	 * the PDF sets them vertically, confidence 100, block language
	 * "pdf-text"), page number 0; NULL when the page has no text. */
	struct bk_page *text; /* owned */
	enum bk_text_layer text_layer;
};

/*
 * Opens `path`. `name` is how the file is called in error messages (NULL:
 * the path itself). max_pixels <= 0 means BK_IMAGE_MAX_PIXELS_DEFAULT.
 */
int bk_source_open(struct bk_source **out, const char *path, const char *name,
		   long max_pixels, struct bk_error *err);
void bk_source_free(struct bk_source **src);

enum bk_source_kind bk_source_kind(const struct bk_source *src);
const char *bk_source_name(const struct bk_source *src);
int bk_source_page_count(const struct bk_source *src);

/* Reads page `index` (0-based; messages say index+1). */
int bk_source_read_page(struct bk_source *src, int index,
			struct bk_source_page *page, struct bk_error *err);
void bk_source_page_release(struct bk_source_page *page);

/*
 * Big pictures (ingest/vips.c, libvips): a page of a JPEG, PNG or TIFF file
 * read without being decoded whole, for maps up to the pixel limit. Rows
 * are handed out in bands, top to bottom (going back starts the file
 * again), each band decoded only when it is asked for, so memory is one
 * band whatever the picture's size; the PDF gets a JPEG file's own bytes,
 * and any other file encoded as JPEG by libvips as it is decoded, row by
 * row.
 *
 * bk_big_picture_open: *out is NULL (and 0 returned) when page `index` is
 * not a big picture: under min_pixels, over the source's pixel limit (the
 * ordinary reader refuses it), a PDF page that is anything but one upright
 * 8-bit gray or RGB JPEG covering a page without text (its resolution is
 * then the PDF's), or a format libvips does not read; -1 when the file
 * cannot be read.
 * bk_big_picture_size: pixels and the file's resolution (0: none).
 * bk_big_picture_rows: rows [y0, y1) as a new gray or RGB image; its
 * signature is the reader's bk_rows_fn (ocr/reader.h), `ud` the picture.
 * bk_big_picture_encode: the picture for the PDF at xres x yres dpi (the
 * resolution decided for the page); a JPEG file's bytes unchanged, else
 * (and for a CMYK JPEG) baseline JPEG at `quality`, gray as one component,
 * colour as three. Ends the reading of rows.
 */
struct bk_big_picture;
struct bk_encoded_image;
int bk_big_picture_open(struct bk_big_picture **out, struct bk_source *src, int index,
			long min_pixels, struct bk_error *err);
void bk_big_picture_free(struct bk_big_picture **p);
void bk_big_picture_size(const struct bk_big_picture *p, int *width, int *height,
			 int *xres, int *yres);
int bk_big_picture_rows(void *ud, int y0, int y1, struct bk_image **rows,
			struct bk_error *err);
int bk_big_picture_encode(struct bk_big_picture *p, int quality, int xres, int yres,
			  struct bk_encoded_image *out, struct bk_error *err);

/*
 * A placeholder page for what a document lacks: an A4 page at 150 dpi
 * showing `lines` (UTF-8, one line each, drawn in IPA Gothic), and its page
 * model (each drawn word with its box), so the PDF's text layer and the
 * index hold what the page says. Drawn with cairo, like rendered PDF
 * pages. The caller owns *img and releases `page`.
 */
struct bk_page;
int bk_render_note_page(const char *const *lines, size_t nlines, struct bk_image **img,
			struct bk_page *page, struct bk_error *err);

/* Recognizes the format from the first bytes of a file: returns 0 and the
 * kind, or -1 ("'x': not a TIFF, PDF, PNG, JPEG, PNM or BMP image"). */
int bk_source_sniff(const unsigned char *head, size_t len, const char *name,
		    enum bk_source_kind *kind, struct bk_error *err);

#endif
