/*
 * ocr/cleanup.c — the cleanup policy (see ocr/cleanup.h): the order of the
 * steps, the per-profile defaults and the display/OCR image pair.
 *
 * Memory: text profiles hold at most the input, one working copy at full
 * size and the OCR copy at once. The color profiles hold no second copy of
 * the picture: an unturned display shares the input's pixels
 * (bk_image_share), and the OCR copy is made from it directly: a bilevel
 * copy of the dark ink (a 32nd of a color picture's size, made row by row)
 * for maps, a gray copy (a quarter) for prints. A 12000x9000 color PNG
 * read with --profile map peaked at 759 MB (was 1,631 MB), of which 753 MB
 * is Leptonica decoding the PNG (rows, then the 432 MB Pix); the same
 * picture as a JPEG peaked at 595 MB (was 1,359 MB).
 *
 * Why the defaults are what they are. Each step was measured on the samples
 * (the images in samples/, 300 dpi) by running `tesseract --psm 6 -l jpn`
 * (horizontal) or `--psm 5 -l jpn_vert` (vertical) on the cleaned image and
 * comparing with the ground truth: character error rate, whitespace
 * ignored; lower is better. rot180/rot90 were given opt->rotate 180/270.
 *
 *   page (profile)        none   +deskew  +border  +split    +binarize  +despeckle  +lines
 *                         (raw)  (d)      (db)     (dbs)     (dbsB)     (dbsBp)     (dbsBl)
 *   h-reiki p1 (bylaw)    .059   .064     .064     .064      .064       .059        .064
 *   h-reiki p2 (bylaw)    .072   .066     .066     .066      .066       .063        .066
 *   spread p1+p2 (bylaw)  .053   .051     .002     .012/.011 .012/.011  .004/.004   .012/.011
 *   h-kokuji (record,gray).073   .105     .105     .105      .064       .064        .087
 *   v-gian (record)       .046   .046     .046     .046      .046       .035        .046
 *   v-kushi p1 (gray)     .011   .011     .011     .011      .011       .011        .011
 *   v-kushi p2 (gray)     .014   .003     .003     .003      .010       .007        .010
 *   rot180 (record)       .062   .048     .048     .048      .048       .053        .048
 *   rot90 (record)        .074   .079     .079     .079      .079       .070        .079
 *   eng (record)          .000   .000     .000     .000      .000       .000        .000
 *   sum of the above      .464   .473     .424     .445      .411       .370        .434
 *
 * - deskew: with binarization it helps (dB .439 against B .483, no
 *   border/split): kokuji .078 -> .064, rot180 .062 -> .048, v-kushi p1
 *   .025 -> .011. Alone on a gray page it can hurt (kokuji .105: Tesseract's
 *   own thresholding of the interpolated gray), which is why record/bylaw
 *   binarize after it. On.
 * - border: the film border costs the spread dearly (.051 -> .002); pages
 *   without a border are untouched (no border found). On.
 * - split: slightly worse CER on the spread (.012/.011 split against .002
 *   whole) but each book page becomes its own page with its own number,
 *   and despeckling brings it to .004/.004. On for bylaw (books); off for
 *   record (single sheets: a landscape record is a table or a foldout).
 * - binarize: global Otsu. Sauvola (window 1/12 inch, k 0.34) broke the
 *   faint strokes of h-kokuji (.192 against Otsu .064); tuned Sauvola
 *   (1/6 inch, k 0.2) ties Otsu on kokuji (.064) and loses on v-kushi
 *   (.018/.014 against .014/.010). Leptonica's background-normalized
 *   variants were worse (.110, .146). With --bilevel the display is this
 *   Otsu page.
 * - despeckle: components within 1/100 inch (3 px at 300 dpi): .370
 *   against .411; record pages .258 -> .240, bylaw pages .153 -> .130.
 *   2 px gave .396 and 4 px .386 (and cost eng.png a character). On.
 * - ruling lines: no sample has tables; it hurt h-kokuji (.087: the dark
 *   corner of the page, thresholded, forms long "lines"). Off.
 *
 * Measured again on real pages (../shared/realscans: pages bunko did not
 * make, with human ground truth), reading each cleaned page with
 * `tesseract --psm 3` in its model (eng, jpn, jpn_vert) and scoring
 * order-free character F-measure (bag-F, %; scripts/textmetrics bagf):
 *   page                     as cleaned  no deskew  no despeckle  +lines  no border
 *   8071_093.3B (UNLV, G4)   98.4        98.4       98.5          98.4    98.4
 *   eurotext (G4)            97.7        97.7       97.7          97.7    97.7
 *   phototest (G4, 200 dpi)  100         100        100           100     100
 *   hakusho p1-p5 (gray)     no step changes them: evenly lit, no skew,
 *                            no border (the gray page is what is read)
 *   ndl_meiji_vertical_01    no step changes it: color, evenly lit, no
 *                            skew or border found (54.7 as scanned)
 * - deskew: on the bilevel UNLV page it leaves bag-F as it is and halves
 *   the CER (9.4 -> 5.2: lines no longer run into each other). On a gray
 *   or color page only from 0.5 degrees (see MIN_SKEW_DEGREES_GRAY).
 * - despeckle: +0.1 without it on 8071_093.3B, nothing elsewhere; the
 *   samples' gain (.411 -> .370) stands. On.
 * - ruling lines: still no gain on real pages; the white paper's tables
 *   (hakusho p2) are read by Tesseract's own layout, which removes their
 *   rules (ocr/reader.c). Off.
 * - binarize: the evenly-lit rule holds on the white paper pages, gray
 *   against Otsu (bag-F, jpn PSM 3): p1 96.9 / 96.2, p4 96.8 / 94.4. The
 *   NDL microfilm spread ndl_meiji_vertical_04 counts as uneven (its dark
 *   film surround) and its Otsu copy reads worse than its gray page
 *   (74.7 / 83.5 deskewed, 85.4 as scanned): the reader compares the
 *   two (ocr/reader.c, second_opinion), so the threshold stays.
 *
 * Color profiles (ukiyoe.jpg: jpn_vert --psm 5, map.png: jpn --psm 11;
 * share of ground-truth characters read / characters of output):
 *   OCR copy          ukiyoe        map
 *   color as is       1.00 / 145    0.77 / 53
 *   gray              0.86 / 118    0.77 / 54
 *   gray normalized   0.57 / 207    0.88 / 93
 *   Otsu bilevel      1.00 / 102    0.88 / 63
 *   normalized+Otsu   1.00 / 742    0.88 / 134
 *   Sauvola           0.86 / 374    0.81 / 50
 * so the OCR copy of ukiyoe and map was the Otsu-thresholded gray copy.
 * Contrast normalization hurt the print and adds noise on the map.
 *
 * The reader no longer reads a whole picture: a print is read in its title
 * panels only and a map in sparse mode with a filter for lettering (see
 * ocr/reader.c). Measured that way (CER against the ground truth; before
 * the change, whole-picture reading of the Otsu copy gave ukiyoe 114 %,
 * map 69 %):
 *   OCR copy                      ukiyoe    map
 *   gray                          0 %       42 %  (labels out of order, "NN")
 *   Otsu bilevel                  0 %       12 %
 *   dark ink (value <= 120,
 *     chroma <= 64)               0 %       12 %  (any chroma: the same)
 * The map's OCR copy is the dark ink (opt->dark_ink): as good as Otsu
 * here, and it removes colored roads, rivers and parks by their color
 * rather than by their luminance, which on a darker map would fall on
 * either side of a global threshold; it is also made without a full-size
 * gray intermediate. The print's OCR copy is gray: its panels are found on
 * it, and Tesseract thresholds each panel by itself. The misses left on
 * the map: 區 (old kanji, read as 還 with confidence 0) and 皇居 (read as
 * 旦居 or 三ビヨ at this size; 皇居 at half the size).
 */
#include "ocr/cleanup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A skew smaller than this is left alone: rotating costs sharpness. A
 * gray or color page is rotated by interpolation, which blurs small type,
 * and Tesseract's own layout copes with a small skew: measured on the NDL
 * microfilm spread ndl_meiji_vertical_04 (skew 0.38 degrees, jpn_vert
 * PSM 3 on the gray page, bag-F) 83.5 rotated against 85.4 as scanned. The
 * gray samples that deskewing helps lean more (v-kushi 0.70 and 0.86,
 * h-kokuji 1.55 degrees); a bilevel page loses nothing by turning. */
#define MIN_SKEW_DEGREES 0.1
#define MIN_SKEW_DEGREES_GRAY 0.5

void bk_cleanup_defaults(struct bk_cleanup_options *opt, enum bk_profile profile)
{
	memset(opt, 0, sizeof(*opt));
	opt->profile = profile;
	switch (profile) {
	case BK_PROFILE_RECORD:
	case BK_PROFILE_BYLAW:
		opt->deskew = true;
		opt->remove_border = true;
		opt->split_spread = profile == BK_PROFILE_BYLAW;
		opt->binarize = true;
		opt->despeckle = true;
		opt->remove_lines = false;
		break;
	case BK_PROFILE_UKIYOE:
		break; /* gray OCR copy: see "Color profiles" above */
	case BK_PROFILE_MAP:
	default:
		opt->dark_ink = true; /* the OCR copy only: see the table above */
		break;
	}
}

void bk_cleaned_page_release(struct bk_cleaned_page *p)
{
	if (!p)
		return;
	bk_image_free(&p->display);
	bk_image_free(&p->ocr);
}

static bool color_profile(enum bk_profile p)
{
	return p == BK_PROFILE_UKIYOE || p == BK_PROFILE_MAP;
}

/* Replaces *img by `next` (when non-NULL), freeing the old one. */
static int replace(struct bk_image **img, struct bk_image *next)
{
	if (!next)
		return -1;
	bk_image_free(img);
	*img = next;
	return 0;
}

/* Crops *img to its page area when a dark border is found; *offset_x gets
 * the left edge removed. */
static int remove_border(struct bk_image **img, bool *removed, int *offset_x,
			 struct bk_error *err)
{
	struct bk_box area;
	bool found;

	*removed = false;
	if (bk_image_find_page_area(*img, &area, &found, err))
		return -1;
	if (!found)
		return 0;
	if (replace(img, bk_image_crop(*img, area, err)))
		return -1;
	*removed = true;
	if (offset_x)
		*offset_x += area.x0;
	return 0;
}

/* Splits *img at the gutter into halves[0] (left) and halves[1] (right);
 * *img is consumed when it splits. */
static int split_spread(struct bk_image **img, struct bk_image *halves[2], int *gutter,
			bool *split, struct bk_error *err)
{
	int w = bk_image_width(*img), h = bk_image_height(*img);
	bool found;

	*split = false;
	if (w <= h)
		return 0; /* a spread is landscape */
	if (bk_image_find_gutter(*img, gutter, &found, err))
		return -1;
	if (!found)
		return 0;
	halves[0] = bk_image_crop(*img, (struct bk_box){ 0, 0, *gutter, h }, err);
	halves[1] = halves[0] ? bk_image_crop(*img, (struct bk_box){ *gutter, 0, w, h }, err) : NULL;
	if (!halves[1]) {
		bk_image_free(&halves[0]);
		return -1;
	}
	bk_image_free(img);
	*split = true;
	return 0;
}

static int deskew(struct bk_image **img, double *degrees, struct bk_error *err)
{
	bool found;

	*degrees = 0;
	if (bk_image_find_skew(*img, degrees, &found, err))
		return -1;
	if (!found || fabs(*degrees) < (bk_image_depth(*img) == 1 ? MIN_SKEW_DEGREES
								  : MIN_SKEW_DEGREES_GRAY)) {
		*degrees = 0;
		return 0;
	}
	return replace(img, bk_image_rotate(*img, *degrees, err));
}

/* Resolution-scaled sizes: specks up to 1/100 inch, lines at least 1 inch. */
static int dpi_of(const struct bk_image *img)
{
	return bk_image_xres(img) > 0 ? bk_image_xres(img) : 300;
}

/*
 * How unevenly lit the paper is: the 90th-percentile gray (the paper, not
 * the ink) of each tile of a BACKGROUND_TILES x BACKGROUND_TILES grid, max
 * minus min, on the 0..255 scale.
 */
#define BACKGROUND_TILES 8
static int background_spread(const struct bk_image *img, int *spread,
			     struct bk_error *err)
{
	unsigned char *gray = NULL;
	int w, h, stride, lo = 255, hi = 0;

	if (bk_image_gray8(img, &gray, &w, &h, &stride, err))
		return -1;
	for (int ty = 0; ty < BACKGROUND_TILES; ty++) {
		for (int tx = 0; tx < BACKGROUND_TILES; tx++) {
			long hist[256] = { 0 }, n = 0, seen = 0;
			int x0 = w * tx / BACKGROUND_TILES, x1 = w * (tx + 1) / BACKGROUND_TILES;
			int y0 = h * ty / BACKGROUND_TILES, y1 = h * (ty + 1) / BACKGROUND_TILES;
			for (int y = y0; y < y1; y++)
				for (int x = x0; x < x1; x++, n++)
					hist[gray[(size_t)y * stride + x]]++;
			int v = 0;
			while (v < 255 && (seen += hist[v]) < n * 9 / 10)
				v++;
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
	}
	free(gray);
	*spread = hi - lo;
	return 0;
}

/*
 * Gray scans: Tesseract reads the binarized copy only when the paper is
 * unevenly lit. Measured with `bunko ocr` (CER %, OCR on gray / on Otsu):
 * h-kokuji.png (faint, uneven, background spread 73) 7.31 / 0.46;
 * v-kushi.pdf (clean gray JPEG pages, spread 0 on both) 0.35 / 1.23. The
 * threshold lies between the two; only these gray samples were measured,
 * so a real collection may move it. Tesseract's own thresholding of an
 * evenly lit gray page keeps stroke detail our global Otsu loses; on an
 * uneven page a global threshold chosen after deskew and border removal
 * does better.
 *
 * What the PDF shows is a separate choice: the gray or color page as
 * scanned (cropped and deskewed like the OCR copy, so the words' boxes
 * fit), unless opt->bilevel asks for the binarized page (G4), which is
 * smaller but loses the tones an archivist expects to see (faded ink,
 * stamps, pencil notes, photographs). A bilevel scan stays bilevel.
 */
#define UNEVEN_BACKGROUND_SPREAD 30

/* Turns one text page (already cropped) into its display/OCR pair. */
static int finish_text_page(struct bk_image **img, const struct bk_cleanup_options *opt,
			    struct bk_cleaned_page *out, double *skew, struct bk_error *err)
{
	struct bk_image *scan = NULL; /* the gray or color page, when kept */
	bool read_scan = false;       /* Tesseract reads the gray or color page */

	*skew = 0;
	if (opt->deskew && deskew(img, skew, err))
		return -1;
	if (opt->binarize && bk_image_depth(*img) != 1) {
		int spread;
		if (background_spread(*img, &spread, err))
			return -1;
		read_scan = spread < UNEVEN_BACKGROUND_SPREAD;
		if (read_scan && !opt->bilevel) { /* no bilevel copy needed */
			if (!(out->ocr = bk_image_share(*img, err)))
				return -1;
			out->display = *img;
			*img = NULL;
			return 0;
		}
		scan = *img;
		*img = bk_image_binarize(scan, BK_BINARIZE_OTSU, err);
		if (!*img) {
			*img = scan;
			return -1;
		}
		if (!read_scan && opt->bilevel)
			bk_image_free(&scan);
	}
	if (bk_image_depth(*img) == 1) {
		if (opt->despeckle && bk_image_despeckle(*img, dpi_of(*img) / 100, err) < 0)
			goto fail;
		if (opt->remove_lines && bk_image_remove_lines(*img, dpi_of(*img), err))
			goto fail;
	}
	if (scan && read_scan) {        /* bilevel display, gray OCR */
		out->ocr = scan;
		out->display = *img;
	} else if (scan) {              /* gray display, bilevel OCR */
		out->display = scan;
		out->ocr = *img;
	} else {
		out->ocr = bk_image_clone(*img);
		if (!out->ocr)
			return bk_error_set(err, "cleanup: out of memory");
		out->display = *img;
	}
	*img = NULL;
	return 0;
fail:
	bk_image_free(&scan);
	return -1;
}

static int clean_text(struct bk_image **work, const struct bk_cleanup_options *opt,
		      bool vertical_book, struct bk_cleaned_page pages[2], int *npages,
		      struct bk_cleanup_report *report, struct bk_error *err)
{
	struct bk_image *halves[2] = { NULL, NULL };
	int offset_x = 0, rc = -1;
	double skew;

	if (opt->remove_border && remove_border(work, &report->border_removed, &offset_x, err))
		goto out;
	if (opt->split_spread &&
	    split_spread(work, halves, &report->gutter_x, &report->spread_split, err))
		goto out;
	if (!report->spread_split) {
		if (finish_text_page(work, opt, &pages[0], &report->skew_degrees, err))
			goto out;
		*npages = 1;
		rc = 0;
		goto out;
	}
	report->gutter_x += offset_x;
	if (vertical_book) { /* right half is read first */
		struct bk_image *t = halves[0];

		halves[0] = halves[1];
		halves[1] = t;
	}
	for (int i = 0; i < 2; i++) {
		bool trimmed; /* gutter shadow and the border left on each half */

		if (opt->remove_border && remove_border(&halves[i], &trimmed, NULL, err))
			goto out;
		if (finish_text_page(&halves[i], opt, &pages[i], &skew, err))
			goto out;
		if (i == 0)
			report->skew_degrees = skew;
	}
	*npages = 2;
	rc = 0;
out:
	bk_image_free(&halves[0]);
	bk_image_free(&halves[1]);
	return rc;
}

/* Dark, colorless marks (see bk_image_dark_ink): the brightest channel at
 * most DARK_INK_VALUE, the channels within DARK_INK_CHROMA of each other.
 * On map.png every value from 80 to 140 gave the same reading. */
#define DARK_INK_VALUE 120
#define DARK_INK_CHROMA 64

/* Color profiles: the display keeps every pixel of the (rotated) input; the
 * OCR copy, of the same geometry, is the dark ink (opt->dark_ink), the
 * Otsu-thresholded gray (opt->binarize) or the gray. */
static int clean_color(struct bk_image **work, const struct bk_cleanup_options *opt,
		       struct bk_cleaned_page *out, struct bk_error *err)
{
	if (opt->dark_ink)
		out->ocr = bk_image_dark_ink(*work, DARK_INK_VALUE, DARK_INK_CHROMA, err);
	else if (opt->binarize)
		out->ocr = bk_image_binarize(*work, BK_BINARIZE_OTSU, err);
	else
		out->ocr = bk_image_to_gray(*work, err);
	if (!out->ocr)
		return -1;
	out->display = *work;
	*work = NULL;
	return 0;
}

struct bk_image *bk_cleanup_picture_rows(const struct bk_image *rows,
					 const struct bk_cleanup_options *opt,
					 struct bk_error *err)
{
	if (!opt->dark_ink) {
		bk_error_set(err, "a %s picture cannot be read in bands",
			     bk_profile_name(opt->profile));
		return NULL;
	}
	return bk_image_dark_ink(rows, DARK_INK_VALUE, DARK_INK_CHROMA, err);
}

int bk_cleanup_page(const struct bk_image *in, const struct bk_cleanup_options *opt,
		    bool vertical_book, struct bk_cleaned_page pages[2], int *npages,
		    struct bk_cleanup_report *report, struct bk_error *err)
{
	struct bk_image *work = NULL;
	int rc = -1;

	memset(pages, 0, 2 * sizeof(*pages));
	memset(report, 0, sizeof(*report));
	*npages = 0;
	/* A picture that is not turned is shown as it is: its pixels are
	 * shared, not copied (a large map is several hundred MB). */
	if (color_profile(opt->profile) && opt->rotate % 360 == 0)
		work = bk_image_share(in, err);
	else
		work = bk_image_rotate_orth(in, opt->rotate, err);
	if (!work)
		goto out;
	report->rotation = ((opt->rotate % 360) + 360) % 360;
	if (color_profile(opt->profile))
		rc = clean_color(&work, opt, &pages[0], err);
	else
		rc = clean_text(&work, opt, vertical_book, pages, npages, report, err);
	if (rc == 0 && *npages == 0)
		*npages = 1;
out:
	if (rc) {
		bk_cleaned_page_release(&pages[0]);
		bk_cleaned_page_release(&pages[1]);
		*npages = 0;
	}
	bk_image_free(&work);
	return rc;
}
