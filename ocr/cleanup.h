/*
 * ocr/cleanup.h — the cleanup policy: which image corrections run for each
 * processing profile, in which order, and what the PDF shows versus what
 * Tesseract reads. The mechanisms are in ocr/image.h.
 *
 * Order: rotate (by opt->rotate, decided by orientation detection) ->
 * remove dark film border -> split a two-page spread at the gutter ->
 * deskew each page -> binarize -> despeckle -> remove ruling lines.
 *
 * Profiles:
 * - record, bylaw: the display image is the page as scanned (a bilevel
 *   scan bilevel, a gray or color scan gray or color), or the binarized
 *   page when opt->bilevel; the OCR image is the gray or color page when
 *   evenly lit, else the binarized page (see ocr/cleanup.c).
 * - ukiyoe, map: the display image is the input untouched except for
 *   opt->rotate (color, never binarized, never cropped or deskewed; when
 *   there is no rotation it shares the input's pixels, see
 *   bk_image_share, so a large picture is not held twice); the OCR image
 *   has the same geometry: for ukiyoe a gray copy (the reader finds the
 *   title panels on it and Tesseract thresholds each panel by itself), for
 *   map a bilevel copy of the dark, colorless marks only (opt->dark_ink),
 *   or an Otsu-thresholded gray copy when opt->binarize. The measurements
 *   are in ocr/cleanup.c. deskew, remove_border, split_spread, despeckle
 *   and remove_lines do not apply to these profiles.
 * In every case display and ocr have the same width and height, so word
 * boxes found on the ocr image place the text layer on the display image.
 */
#ifndef BUNKO_OCR_CLEANUP_H
#define BUNKO_OCR_CLEANUP_H

#include <stdbool.h>

#include "bunko/common.h"
#include "ocr/image.h"

struct bk_cleanup_options {
	enum bk_profile profile;
	int rotate; /* 0/90/180/270 clockwise, decided by orientation detection */
	bool deskew, remove_border, split_spread, binarize, despeckle, remove_lines;
	bool dark_ink; /* color profiles: the OCR copy keeps only dark, colorless
			  marks (a map's black lettering), see bk_image_dark_ink */
	bool bilevel;  /* text profiles: the display is the binarized page (G4)
			  rather than the gray or color scan */
};

/* The measured defaults of `profile` (see ocr/cleanup.c for the numbers). */
void bk_cleanup_defaults(struct bk_cleanup_options *opt, enum bk_profile profile);

struct bk_cleanup_report {
	double skew_degrees; /* clockwise correction applied to the page read first */
	int rotation;        /* opt->rotate as applied */
	bool border_removed;
	bool spread_split;
	int gutter_x;        /* x of the split, in pixels of the rotated input; 0 if none */
};

struct bk_cleaned_page {
	struct bk_image *display; /* what the PDF shows (owned) */
	struct bk_image *ocr;     /* what Tesseract reads; same geometry (owned) */
};

/* 1 or 2 output pages (2 when a spread is split; pages[0] is the page read
 * first: the RIGHT half for vertical (right-to-left) books, the left half
 * otherwise: `vertical_book` says which). `in` is not modified. On failure
 * nothing is left in pages[]. */
int bk_cleanup_page(const struct bk_image *in, const struct bk_cleanup_options *opt,
		    bool vertical_book, struct bk_cleaned_page pages[2], int *npages,
		    struct bk_cleanup_report *report, struct bk_error *err);
void bk_cleaned_page_release(struct bk_cleaned_page *p);

/* The OCR copy of a band of a picture too large to be decoded whole (the
 * rows of an unturned picture, read top to bottom): for a map the dark ink,
 * as bk_cleanup_page would make it of the whole picture, pixel for pixel.
 * Only the map profile (opt->dark_ink) has one: NULL, with err set, for
 * any other. */
struct bk_image *bk_cleanup_picture_rows(const struct bk_image *rows,
					 const struct bk_cleanup_options *opt,
					 struct bk_error *err);

#endif
