/*
 * archive/pdf.h — bunko's searchable-PDF writer: each page is the scanned
 * image (passed through in its encoded form, never re-encoded) with an
 * invisible text layer built from the page model (bunko/page.h).
 *
 * Guarantees:
 * - the text layer reads as the page reads: one text line per page-model
 *   line, in the model's reading order; no space inside a Japanese run, one
 *   space between two Latin words (bk_text_needs_space); vertical columns
 *   (縦書き) are written in vertical writing mode (Identity-V), so viewers
 *   select and find them column by column. Each run of text is scaled to
 *   cover its words' boxes, so a selection highlights the printed words.
 * - every character round-trips through copy and paste, including those
 *   outside the Basic Multilingual Plane (CJK Ext. B 𠮷): the text uses a
 *   glyphless embedded font whose ToUnicode CMap maps each code back.
 * - PDF/A-2b by default (XMP metadata, sRGB output intent, embedded font,
 *   document ID); a plain PDF 1.7 when meta->pdfa is false.
 * - streamed: a page's image and content stream are written when the page
 *   is added, its page object with the next batch of at most 100 small
 *   objects (one compressed object stream); what stays in memory is one
 *   such batch and a few bytes per object (where it went).
 * - compact: PDF 1.7 cross-reference and object streams, an XMP packet
 *   without padding and a small ICC profile, so that a one-page 300-dpi
 *   bilevel document stays within 1.1 times its G4 TIFF.
 * - the file appears at `path` whole or not at all: it is written to a
 *   temporary beside it (bunko/atomic.h) and renamed at close; abort (or
 *   a crash) leaves no file at `path`.
 * - errors name the file (and the page where one is concerned):
 *   "cannot write 'out.pdf': No space left on device".
 */
#ifndef BUNKO_ARCHIVE_PDF_H
#define BUNKO_ARCHIVE_PDF_H

#include <stdbool.h>

#include "bunko/common.h"
#include "bunko/encoded.h"
#include "bunko/page.h"

/* Document metadata, copied at open; NULL strings are left out.
 * `date` is the document's own date as catalogued (free text, e.g.
 * "1950-04-01" or "昭和25年"); it goes to dc:date too when it is ISO 8601. */
struct bk_pdf_meta {
	const char *title, *collection, *date, *source, *creator;
	bool pdfa; /* PDF/A-2b, default true */
};

/* Defaults: everything NULL, pdfa true. A NULL meta means the defaults. */
void bk_pdf_meta_init(struct bk_pdf_meta *meta);

struct bk_pdf_writer; /* streams: each page's objects are written as added */

/* Starts a document; writes into a temporary beside `path`. *w is NULL on
 * failure. */
int bk_pdf_writer_open(struct bk_pdf_writer **w, const char *path,
		       const struct bk_pdf_meta *meta, struct bk_error *err);

/* Adds one page. The page size is the image size divided by its resolution
 * (300 dpi when the image has none): points = pixels / dpi * 72.
 * `page` may be NULL (image only); its boxes are in page->width x
 * page->height pixels and are scaled onto the image. The image's data are
 * written as they are (G4 -> /CCITTFaxDecode, JPEG -> /DCTDecode, FLATE ->
 * /FlateDecode). Neither argument is kept. After a failure the writer can
 * only be aborted. */
int bk_pdf_writer_add_page(struct bk_pdf_writer *w, const struct bk_encoded_image *img,
			   const struct bk_page *page, struct bk_error *err);

/* Number of pages added so far. */
int bk_pdf_writer_page_count(const struct bk_pdf_writer *w);

/* Writes fonts, metadata, the page tree and the cross-reference stream,
 * fsyncs and renames into place; frees the writer (*w = NULL) either way.
 * A document without pages is refused (nothing is left at `path`). */
int bk_pdf_writer_close(struct bk_pdf_writer **w, struct bk_error *err);

/* Discards the temporary and frees the writer; NULL-safe. */
void bk_pdf_writer_abort(struct bk_pdf_writer **w);

#endif
