/*
 * ocr/resolution.c — estimating a scan's resolution from its text, and the
 * rule that decides between the file's tag, the estimate and --dpi (see
 * ocr/resolution.h).
 *
 * The measure. Characters, whatever the script, are about one em tall
 * (kanji and kana fill most of their square; a Latin line spans ascenders
 * to descenders), and the body text of printed records is set at 9 to 12
 * points. So:
 *   1. the ink's connected components give the rough character scale s
 *      (the median of their larger side, specks and pictures left out);
 *   2. closing the ink with an s-wide brick along the lines joins each
 *      line's characters (and words) into one component, but not the
 *      lines themselves nor the columns, whose gaps are wider; both
 *      directions are tried, and the one that gives more line length is
 *      the writing direction;
 *   3. the line thickness (height of a horizontal line, width of a
 *      vertical column), as the median weighted by line area, is the em
 *      of the body text; headings and footnotes are outweighed. Weighting
 *      by area rather than length leans towards the larger text: a page
 *      full of small table text beside a few body lines measured 33% low
 *      instead of 38%, and no page of known resolution moved away from
 *      its truth.
 * dpi = thickness / (BK_RESOLUTION_BODY_PT / 72 inches). With 10 points
 * the white paper pages of realscans (300 dpi, body text set at about 10
 * points) measure 302, Tesseract's English test pages -16% to +12%, the
 * NDL-DocL pages (about 130 dpi) 137 and 144; a page that is mostly a
 * table in small print measures 33% low. The table in scripts/bench
 * (section 6, resolution) shows the estimate beside the truth for every
 * real scan it was tried on. The measure costs 0.02-0.07 s of CPU on a
 * page of 8-10 million pixels, against tens of seconds for reading it.
 */
#include "ocr/resolution.h"

#include <stdlib.h>

/* One em of body text in inches: the fitted constant (see above). */
#define BODY_EM_IN (BK_RESOLUTION_BODY_PT / 72.0)

/* Fewer measured lines than this: too little text to say anything. */
#define MIN_LINES 5

/* Pages whose smaller side has this many pixels are measured at half size. */
#define REDUCE_FROM 2000

struct sample {
	int value;
	long weight;
};

static int cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;
	return (x->value > y->value) - (x->value < y->value);
}

/* Weighted median of n samples (sorted in place); 0 when n is 0. */
static int weighted_median(struct sample *s, size_t n)
{
	long total = 0, acc = 0;

	if (n == 0)
		return 0;
	qsort(s, n, sizeof(*s), cmp_sample);
	for (size_t i = 0; i < n; i++)
		total += s[i].weight;
	for (size_t i = 0; i < n; i++) {
		acc += s[i].weight;
		if (2 * acc >= total)
			return s[i].value;
	}
	return s[n - 1].value;
}

/* The rough character scale: median larger side of the components that
 * can be characters (at least 3 px: not specks; at most a tenth of the
 * page's smaller side: not pictures, frames or film borders). */
static int character_scale(const struct bk_box *b, size_t n, int limit, struct sample *s)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int w = b[i].x1 - b[i].x0, h = b[i].y1 - b[i].y0;
		int side = w > h ? w : h;
		if (side >= 3 && side <= limit)
			s[k++] = (struct sample){ side, (long)w * h };
	}
	return weighted_median(s, k);
}

/* Lines among the components of the closed ink: at least 4 times longer
 * than thick, about the character scale thick (a ruling line is thinner,
 * a picture thicker). Sets the median thickness weighted by area, the
 * number of lines and their total length. */
static void measure_lines(const struct bk_box *b, size_t n, bool vertical, int scale,
			  struct sample *s, int *thickness, int *lines, long *length)
{
	size_t k = 0;

	*length = 0;
	for (size_t i = 0; i < n; i++) {
		int w = b[i].x1 - b[i].x0, h = b[i].y1 - b[i].y0;
		int along = vertical ? h : w, across = vertical ? w : h;
		if (across < 3 || across * 2 < scale || across > 4 * scale || along < 4 * across)
			continue;
		s[k++] = (struct sample){ across, (long)along * across };
		*length += along;
	}
	*lines = (int)k;
	*thickness = weighted_median(s, k);
}

int bk_resolution_estimate(const struct bk_image *img, struct bk_resolution_estimate *out,
			   struct bk_error *err)
{
	struct bk_image *mask = NULL;
	struct bk_box *boxes = NULL;
	struct sample *s = NULL;
	size_t n = 0;
	int w = bk_image_width(img), h = bk_image_height(img);
	/* a large page is measured at half size: its lines are then still
	 * about 20 px thick (a 300 dpi scan), and the measure costs a quarter */
	int reduce = (w < h ? w : h) >= REDUCE_FROM ? 2 : 1;
	int scale, rc = -1;
	int thick[2] = { 0, 0 }, lines[2] = { 0, 0 };
	long length[2] = { 0, 0 };

	*out = (struct bk_resolution_estimate){ 0 };
	if (!(mask = bk_image_ink_mask(img, reduce, err)) ||
	    bk_image_ink_boxes(mask, 1, 1, &boxes, &n, err))
		goto out;
	if (n == 0 || !(s = malloc(n * sizeof(*s)))) {
		rc = n == 0 ? 0 : bk_error_set(err, "cannot measure the text: out of memory");
		goto out;
	}
	scale = character_scale(boxes, n, (w < h ? w : h) / reduce / 10, s);
	if (scale < 3) {
		rc = 0;
		goto out;
	}
	for (int v = 0; v < 2; v++) {
		size_t m = 0;
		struct sample *more;
		free(boxes);
		boxes = NULL;
		if (bk_image_ink_boxes(mask, v ? 1 : scale, v ? scale : 1, &boxes, &m, err))
			goto out;
		if (m > n) {
			if (!(more = realloc(s, m * sizeof(*s)))) {
				bk_error_set(err, "cannot measure the text: out of memory");
				goto out;
			}
			s = more;
			n = m;
		}
		measure_lines(boxes, m, v, scale, s, &thick[v], &lines[v], &length[v]);
	}
	{
		int v = length[1] > length[0];
		out->vertical = v;
		out->lines = lines[v];
		out->line_px = thick[v] * reduce;
		int dpi = (int)(out->line_px / BODY_EM_IN + 0.5);
		/* outside the range of real scans: not text that can be measured */
		if (lines[v] >= MIN_LINES && dpi >= BK_DPI_MIN && dpi <= BK_DPI_MAX)
			out->dpi = dpi;
	}
	rc = 0;
out:
	free(boxes);
	free(s);
	bk_image_free(&mask);
	return rc;
}

const char *bk_dpi_source_name(enum bk_dpi_source s)
{
	static const char *const names[] = { "file", "text", "option", "default" };
	return s <= BK_DPI_FROM_DEFAULT ? names[s] : "?";
}

bool bk_resolution_plausible(int xres, int yres)
{
	return xres >= BK_DPI_MIN && xres <= BK_DPI_MAX && yres >= BK_DPI_MIN &&
	       yres <= BK_DPI_MAX;
}

enum bk_dpi_source bk_resolution_of_tag(int *xres, int *yres, int forced_dpi)
{
	if (forced_dpi > 0) {
		*xres = *yres = forced_dpi;
		return BK_DPI_FROM_OPTION;
	}
	if (bk_resolution_plausible(*xres, *yres))
		return BK_DPI_FROM_FILE;
	*xres = *yres = BK_DPI_DEFAULT;
	return BK_DPI_FROM_DEFAULT;
}

int bk_resolution_apply(struct bk_image *img, int forced_dpi, bool measure,
			enum bk_dpi_source *source, struct bk_error *err)
{
	struct bk_resolution_estimate e = { 0 };
	enum bk_dpi_source from;
	int xres = bk_image_xres(img), yres = bk_image_yres(img);

	if (forced_dpi <= 0 && measure && bk_resolution_estimate(img, &e, err))
		return -1;
	if (forced_dpi <= 0 && e.dpi > 0) {
		/* a tag is compared on its smaller axis: the one text is set on
		 * in fax-like scans (204 x 196) differs by little anyway */
		int tag = xres < yres ? xres : yres;
		if (bk_resolution_plausible(xres, yres) && tag >= e.dpi * BK_DPI_TAG_LOW &&
		    tag <= e.dpi * BK_DPI_TAG_HIGH) {
			from = BK_DPI_FROM_FILE;
		} else {
			xres = yres = e.dpi;
			from = BK_DPI_FROM_TEXT;
		}
	} else {
		from = bk_resolution_of_tag(&xres, &yres, forced_dpi);
	}
	if (xres != bk_image_xres(img) || yres != bk_image_yres(img))
		bk_image_set_resolution(img, xres, yres);
	if (source)
		*source = from;
	return 0;
}
