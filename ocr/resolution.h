/*
 * ocr/resolution.h — the resolution of a scan, measured from its text when
 * the file does not say it or says something false.
 *
 * Many real scans carry no resolution tag (a JPEG with a JFIF density of
 * 1x1 "no unit", a PNG without pHYs) or a false one (72 or 96 dpi written
 * by software that never knew the scanner's setting). Read at a false
 * resolution a page is cut into regions with the wrong sizes, Tesseract is
 * told the wrong scale, and the PDF page has the wrong size (a 300 dpi A4
 * scan tagged 72 dpi becomes a page of 1.2 x 0.9 m).
 *
 * The estimate measures the text lines: their characters are joined along
 * the writing direction (horizontal and vertical are both tried; the
 * direction with more line length wins), and the typical thickness of the
 * lines (a median weighted by line area, about one em of body text) is
 * taken to be BK_RESOLUTION_BODY_PT points of type. See ocr/resolution.c for what
 * it was measured on.
 *
 * Guarantees: nothing is printed; the image is only read, except by
 * bk_resolution_apply, which sets its resolution (both axes) and nothing
 * else.
 */
#ifndef BUNKO_OCR_RESOLUTION_H
#define BUNKO_OCR_RESOLUTION_H

#include <stdbool.h>

#include "bunko/common.h"
#include "ocr/image.h"

/* Accepted for --dpi: below this a page of A4 would be a few hundred
 * pixels; above it no scanner of paper or film frames goes. */
#define BK_DPI_MIN 50
#define BK_DPI_MAX 2400

/* Resolution used when the file says none and the text cannot be measured
 * (a blank page, a picture). */
#define BK_DPI_DEFAULT 300

/* The body type the line thickness is taken to be, in points (fitted, see
 * ocr/resolution.c). */
#define BK_RESOLUTION_BODY_PT 10.0

struct bk_resolution_estimate {
	int dpi;        /* the estimate, 0 when the text could not be measured */
	double line_px; /* typical line thickness in pixels (0: none) */
	int lines;      /* text lines measured */
	bool vertical;  /* the lines run top to bottom */
};

/* Measures `img` (any depth). out->dpi is 0 when there is too little text
 * to measure (that is not an error). Returns 0, or -1 with err set (out of
 * memory). */
int bk_resolution_estimate(const struct bk_image *img, struct bk_resolution_estimate *out,
			   struct bk_error *err);

/* Where the resolution that is used came from. */
enum bk_dpi_source {
	BK_DPI_FROM_FILE = 0, /* the file's tag, plausible for its text */
	BK_DPI_FROM_TEXT,     /* measured: the tag was missing or false */
	BK_DPI_FROM_OPTION,   /* --dpi */
	BK_DPI_FROM_DEFAULT   /* no tag and nothing to measure: BK_DPI_DEFAULT */
};

const char *bk_dpi_source_name(enum bk_dpi_source s); /* "file", "text", "option", "default" */

/*
 * Decides the resolution of `img` and sets it:
 * - forced_dpi > 0 (--dpi): that, on both axes, without measuring;
 * - otherwise, when `measure`, the text is measured. A tag from half to
 *   four times the estimate is kept: it is more exact than the estimate,
 *   which a page of mostly small print (a table) puts up to 40% low and
 *   large type puts high, while the false tags met in practice are low
 *   (72 or 96 dpi written by software that never knew the scanner's
 *   setting, or 1): 72 on a 300 dpi scan is a quarter of the estimate. A
 *   missing tag or one outside that range is replaced by the estimate.
 * - with nothing measured, a plausible tag (BK_DPI_MIN .. BK_DPI_MAX) is
 *   kept, else BK_DPI_DEFAULT is used.
 * *source (may be NULL) says which. Returns 0, or -1 with err set.
 */
#define BK_DPI_TAG_LOW 0.5  /* a tag below this times the estimate is false */
#define BK_DPI_TAG_HIGH 4.0 /* a tag above this times the estimate is false */
int bk_resolution_apply(struct bk_image *img, int forced_dpi, bool measure,
			enum bk_dpi_source *source, struct bk_error *err);

/* The same decision for a picture that is not measured (a print, a map, or
 * one too large to be decoded whole), from its tag alone: --dpi, else a
 * plausible tag (BK_DPI_MIN .. BK_DPI_MAX on both axes), else
 * BK_DPI_DEFAULT. Sets *xres and *yres. */
bool bk_resolution_plausible(int xres, int yres);
enum bk_dpi_source bk_resolution_of_tag(int *xres, int *yres, int forced_dpi);

#endif
