/*
 * tests/test_ocr_cleanup.c — the cleanup policy on the real samples: the
 * per-profile defaults, the spread split and its page order, the film
 * border, rotation by opt->rotate, deskew, and the color profiles' display
 * and OCR pair. The reading order of a split spread is checked by running
 * the real tesseract CLI on the page said to be read first.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/cleanup.h"
#include "test_support.h"

static struct bk_image *must_read(const char *name)
{
	char *path = ts_sample(name);
	size_t len = 0;
	char *data = ts_read(path, &len);
	struct bk_error err;
	struct bk_image *img;

	cr_assert_not_null(data, "cannot read %s", path);
	img = bk_image_read_mem(data, len, name, 0, &err);
	cr_assert_not_null(img, "%s", err.msg);
	free(data);
	free(path);
	return img;
}

static double ink(const struct bk_image *img, int x0, int y0, int x1, int y1)
{
	return bk_image_dark_fraction(img, (struct bk_box){ x0, y0, x1, y1 });
}

static bool same_pixels(const struct bk_image *a, const struct bk_image *b)
{
	unsigned char *pa, *pb;
	int wa, ha, sa, wb, hb, sb;
	bool same;
	struct bk_error err;

	cr_assert_eq(bk_image_gray8(a, &pa, &wa, &ha, &sa, &err), 0);
	cr_assert_eq(bk_image_gray8(b, &pb, &wb, &hb, &sb, &err), 0);
	same = wa == wb && ha == hb && memcmp(pa, pb, (size_t)sa * ha) == 0;
	free(pa);
	free(pb);
	return same;
}

Test(cleanup, defaults_per_profile)
{
	struct bk_cleanup_options o;

	bk_cleanup_defaults(&o, BK_PROFILE_RECORD);
	cr_expect(o.deskew && o.remove_border && o.binarize && o.despeckle);
	cr_expect_not(o.remove_lines, "no sample has ruling lines: measured off");
	cr_expect_not(o.split_spread, "records are single sheets");
	cr_expect_eq(o.rotate, 0);
	bk_cleanup_defaults(&o, BK_PROFILE_BYLAW);
	cr_expect(o.deskew && o.remove_border && o.binarize && o.split_spread);
	for (int p = BK_PROFILE_UKIYOE; p <= BK_PROFILE_MAP; p++) {
		bk_cleanup_defaults(&o, p);
		cr_expect_eq(o.profile, p);
		cr_expect_not(o.deskew || o.remove_border || o.split_spread || o.despeckle ||
			      o.remove_lines, "profile %d must not change geometry", p);
	}
}

static void check_pair(const struct bk_cleaned_page *pg)
{
	cr_assert_not_null(pg->display);
	cr_assert_not_null(pg->ocr);
	cr_expect_neq(pg->display, pg->ocr, "display and ocr must be separate images");
	cr_expect_eq(bk_image_width(pg->display), bk_image_width(pg->ocr));
	cr_expect_eq(bk_image_height(pg->display), bk_image_height(pg->ocr));
}

/* First `n` characters of the first line of a ground-truth file. */
static char *gt_start(const char *gt_name, size_t n)
{
	char *path = ts_sample(gt_name);
	char *text = ts_read(path, NULL);
	char *nl;

	cr_assert_not_null(text);
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	ts_strip_space(text);
	if (strlen(text) > n)
		text[n] = '\0';
	free(path);
	return text;
}

/* How many of the 2-character (6-byte UTF-8 kana/kanji) pieces of `want`
 * occur in `text`. */
static int pieces_found(const char *want, const char *text)
{
	int found = 0;
	size_t len = strlen(want);

	for (size_t i = 0; i + 6 <= len; i += 3) {
		char piece[7];

		memcpy(piece, want + i, 6);
		piece[6] = '\0';
		found += strstr(text, piece) != NULL;
	}
	return found;
}

static char *ocr_vertical(const struct bk_image *img, const char *dir)
{
	char path[512], cmd[1024];
	char *out = NULL;
	struct bk_error err;

	snprintf(path, sizeof(path), "%s/page.png", dir);
	cr_assert_eq(bk_image_write_png(img, path, &err), 0, "%s", err.msg);
	snprintf(cmd, sizeof(cmd),
		 "OMP_THREAD_LIMIT=1 tesseract '%s' - -l jpn_vert --psm 5 2>/dev/null", path);
	cr_assert_eq(ts_run(cmd, &out, 0), 0, "%s", cmd);
	ts_strip_space(out);
	return out;
}

Test(cleanup, spread_split_in_reading_order, .timeout = 300)
{
	struct bk_image *in = must_read("spread-reiki.tif");
	struct bk_cleanup_options o;
	struct bk_cleaned_page rtl[2], ltr[2];
	struct bk_cleanup_report rep;
	struct bk_error err;
	int n;

	bk_cleanup_defaults(&o, BK_PROFILE_BYLAW);
	cr_assert_eq(bk_cleanup_page(in, &o, true, rtl, &n, &rep, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_expect(rep.spread_split);
	cr_expect(rep.border_removed);
	cr_expect(abs(rep.gutter_x - 1602) < 30, "gutter at %d", rep.gutter_x);
	for (int i = 0; i < 2; i++) {
		int w = bk_image_width(rtl[i].display), h = bk_image_height(rtl[i].display);

		check_pair(&rtl[i]);
		cr_expect_eq(bk_image_depth(rtl[i].display), 1);
		cr_expect(w > 1300 && w < 1560 && h > 1950 && h < 2200, "page %d: %dx%d", i, w, h);
		/* neither film border nor gutter shadow left at the edges */
		cr_expect_lt(ink(rtl[i].display, 0, 0, 12, h), 0.03, "page %d left edge", i);
		cr_expect_lt(ink(rtl[i].display, w - 12, 0, w, h), 0.03, "page %d right edge", i);
	}
	cr_expect(fabs(rep.skew_degrees - 0.5) < 0.3, "skew %.2f, generated 0.5", rep.skew_degrees);

	/* left-to-right books read the left half first: the same pages swapped */
	cr_assert_eq(bk_cleanup_page(in, &o, false, ltr, &n, &rep, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2);
	cr_expect(same_pixels(ltr[0].display, rtl[1].display));
	cr_expect(same_pixels(ltr[1].display, rtl[0].display));

	/* pages[0] of the vertical book is the RIGHT half: its text is GT p1 */
	TS_NEED_TOOL("tesseract");
	{
		char *dir = ts_mkdtemp("spread");
		char *text = ocr_vertical(rtl[0].ocr, dir);
		char *p1 = gt_start("spread-reiki.p1.gt.txt", 20 * 3);
		char *p2 = gt_start("spread-reiki.p2.gt.txt", 20 * 3);
		int f1 = pieces_found(p1, text), f2 = pieces_found(p2, text);

		cr_expect(f1 >= 8 && f1 > f2, "page read first matches p1 %d, p2 %d: %s", f1, f2, text);
		free(p1);
		free(p2);
		free(text);
		ts_rmtree(dir);
		free(dir);
	}
	for (int i = 0; i < 2; i++) {
		bk_cleaned_page_release(&rtl[i]);
		bk_cleaned_page_release(&ltr[i]);
		cr_expect_null(rtl[i].display);
	}
	bk_image_free(&in);
}

Test(cleanup, record_removes_border_without_splitting)
{
	struct bk_image *in = must_read("spread-reiki.tif");
	struct bk_cleanup_options o;
	struct bk_cleaned_page pg[2];
	struct bk_cleanup_report rep;
	struct bk_error err;
	int n, w, h;

	bk_cleanup_defaults(&o, BK_PROFILE_RECORD);
	o.deskew = false;
	cr_assert_eq(bk_cleanup_page(in, &o, true, pg, &n, &rep, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_expect_not(rep.spread_split);
	cr_expect(rep.border_removed);
	check_pair(&pg[0]);
	w = bk_image_width(pg[0].display);
	h = bk_image_height(pg[0].display);
	cr_expect(w < bk_image_width(in) - 150 && h < bk_image_height(in) - 150, "%dx%d", w, h);
	cr_expect_lt(ink(pg[0].display, 0, 0, 12, h), 0.03, "left edge");
	cr_expect_lt(ink(pg[0].display, w - 12, 0, w, h), 0.03, "right edge");
	cr_expect_lt(ink(pg[0].display, 0, 0, w / 3, 12), 0.03, "top edge");
	cr_expect_lt(ink(pg[0].display, 2 * w / 3, h - 12, w, h), 0.03, "bottom edge");
	bk_cleaned_page_release(&pg[0]);
	bk_image_free(&in);
}

/* rot180.tif holds 9 lines at the top of a B6 page, scanned upside down:
 * the ink is at the bottom until the page is turned. */
Test(cleanup, rotate_180_brings_text_to_the_top)
{
	struct bk_image *in = must_read("rot180.tif");
	struct bk_cleanup_options o;
	struct bk_cleaned_page pg[2];
	struct bk_cleanup_report rep;
	struct bk_error err;
	int n, w, h;

	w = bk_image_width(in);
	h = bk_image_height(in);
	cr_assert_gt(ink(in, 0, h / 2, w, h), ink(in, 0, 0, w, h / 2));
	bk_cleanup_defaults(&o, BK_PROFILE_RECORD);
	o.rotate = 180;
	cr_assert_eq(bk_cleanup_page(in, &o, false, pg, &n, &rep, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_expect_eq(rep.rotation, 180);
	cr_expect(fabs(rep.skew_degrees - 0.4) < 0.3, "skew %.2f, generated 0.4", rep.skew_degrees);
	w = bk_image_width(pg[0].display);
	h = bk_image_height(pg[0].display);
	cr_expect_gt(ink(pg[0].display, 0, 0, w, h / 2), 4 * ink(pg[0].display, 0, h / 2, w, h));
	bk_cleaned_page_release(&pg[0]);
	bk_image_free(&in);
}

/* rot90.tif: line tops face right; 270° clockwise stands the page up. */
Test(cleanup, rotate_270_stands_the_page_up)
{
	struct bk_image *in = must_read("rot90.tif");
	struct bk_cleanup_options o;
	struct bk_cleaned_page pg[2];
	struct bk_cleanup_report rep;
	struct bk_error err;
	int n, w, h;

	bk_cleanup_defaults(&o, BK_PROFILE_BYLAW); /* split on: must not split */
	o.rotate = 270;
	cr_assert_eq(bk_cleanup_page(in, &o, false, pg, &n, &rep, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_expect_not(rep.spread_split);
	cr_expect_eq(rep.rotation, 270);
	w = bk_image_width(pg[0].display);
	h = bk_image_height(pg[0].display);
	cr_expect_eq(w, bk_image_height(in));
	cr_expect_eq(h, bk_image_width(in));
	cr_expect_gt(ink(pg[0].display, 0, 0, w, h / 2), 4 * ink(pg[0].display, 0, h / 2, w, h));
	bk_cleaned_page_release(&pg[0]);
	bk_image_free(&in);
}

Test(cleanup, gray_page_deskewed_and_binarized)
{
	struct bk_image *in = must_read("h-kokuji.png"); /* generated at 1.5° */
	struct bk_cleanup_options o;
	struct bk_cleaned_page pg[2];
	struct bk_cleanup_report rep;
	struct bk_error err;
	double again;
	bool found;
	int n;

	bk_cleanup_defaults(&o, BK_PROFILE_RECORD);
	cr_assert_eq(bk_cleanup_page(in, &o, false, pg, &n, &rep, &err), 0, "%s", err.msg);
	cr_expect(fabs(rep.skew_degrees - 1.5) < 0.3, "skew %.2f", rep.skew_degrees);
	cr_expect_not(rep.border_removed, "no border on this page");
	check_pair(&pg[0]);
	cr_expect_eq(bk_image_depth(pg[0].display), 8, "a gray scan is shown gray");
	cr_expect_eq(bk_image_depth(pg[0].ocr), 1, "unevenly lit: Tesseract reads Otsu");
	cr_assert_eq(bk_image_find_skew(pg[0].ocr, &again, &found, &err), 0);
	cr_expect(fabs(again) < 0.3, "%.2f left after cleanup", again);
	cr_assert_eq(bk_image_find_skew(pg[0].display, &again, &found, &err), 0);
	cr_expect(fabs(again) < 0.3, "%.2f left on the display", again);
	bk_cleaned_page_release(&pg[0]);

	o.bilevel = true; /* --bilevel: the display is the OCR's bilevel page */
	cr_assert_eq(bk_cleanup_page(in, &o, false, pg, &n, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(bk_image_depth(pg[0].display), 1);
	cr_expect_eq(bk_image_depth(pg[0].ocr), 1);
	cr_expect(same_pixels(pg[0].display, pg[0].ocr), "bilevel: display = ocr image");
	bk_cleaned_page_release(&pg[0]);
	bk_image_free(&in);
}

/* An evenly lit gray page: Tesseract gets the gray (its own thresholding
 * keeps more stroke detail there), the display is the gray page, or the
 * bilevel page when asked; h-kokuji.png above, unevenly lit, is read in
 * its bilevel copy. */
Test(cleanup, evenly_lit_gray_page_is_read_in_gray)
{
	const int w = 1200, h = 1600;
	unsigned char *px = malloc((size_t)w * h);
	struct bk_cleanup_options o;
	struct bk_cleaned_page pg[2];
	struct bk_cleanup_report rep;
	struct bk_error err;
	int n;

	cr_assert_not_null(px);
	memset(px, 235, (size_t)w * h); /* paper */
	for (int line = 0; line < 20; line++)     /* "text": dark bars */
		for (int y = 200 + line * 60; y < 230 + line * 60; y++)
			for (int x = 150; x < 1050; x++)
				px[(size_t)y * w + x] = (x / 40) % 2 ? 40 : 235;
	struct bk_image *in = bk_image_from_raw(w, h, 8, px, (size_t)w, 300, 300, &err);
	free(px);
	cr_assert_not_null(in, "%s", err.msg);
	bk_cleanup_defaults(&o, BK_PROFILE_RECORD);
	cr_assert_eq(bk_cleanup_page(in, &o, false, pg, &n, &rep, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	check_pair(&pg[0]);
	cr_expect_eq(bk_image_depth(pg[0].display), 8, "the stored image is gray");
	cr_expect(same_pixels(pg[0].display, in), "an evenly lit upright page is shown as scanned");
	cr_expect_eq(bk_image_depth(pg[0].ocr), 8, "Tesseract reads the gray");
	bk_cleaned_page_release(&pg[0]);
	o.bilevel = true;
	cr_assert_eq(bk_cleanup_page(in, &o, false, pg, &n, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(bk_image_depth(pg[0].display), 1, "--bilevel: the stored image is bilevel");
	cr_expect_eq(bk_image_depth(pg[0].ocr), 8, "Tesseract still reads the gray");
	bk_cleaned_page_release(&pg[0]);
	bk_image_free(&in);
}

Test(cleanup, color_profiles_keep_the_display_untouched)
{
	static const struct {
		const char *name;
		enum bk_profile profile;
	} cases[] = { { "ukiyoe.jpg", BK_PROFILE_UKIYOE }, { "map.png", BK_PROFILE_MAP } };

	for (size_t i = 0; i < 2; i++) {
		struct bk_image *in = must_read(cases[i].name);
		struct bk_cleanup_options o;
		struct bk_cleaned_page pg[2];
		struct bk_cleanup_report rep;
		struct bk_error err;
		int n;

		bk_cleanup_defaults(&o, cases[i].profile);
		cr_assert_eq(bk_cleanup_page(in, &o, true, pg, &n, &rep, &err), 0, "%s", err.msg);
		cr_assert_eq(n, 1);
		check_pair(&pg[0]);
		cr_expect_eq(bk_image_depth(pg[0].display), 32, "%s", cases[i].name);
		cr_expect(same_pixels(pg[0].display, in), "%s: display changed", cases[i].name);
		cr_expect_neq(bk_image_depth(pg[0].ocr), 32);
		cr_expect_eq(rep.skew_degrees, 0);
		cr_expect_not(rep.border_removed || rep.spread_split);
		bk_cleaned_page_release(&pg[0]);

		o.rotate = 90;
		cr_assert_eq(bk_cleanup_page(in, &o, true, pg, &n, &rep, &err), 0, "%s", err.msg);
		cr_expect_eq(bk_image_width(pg[0].display), bk_image_height(in));
		check_pair(&pg[0]);
		bk_cleaned_page_release(&pg[0]);
		bk_image_free(&in);
	}
}

Test(cleanup, bad_rotation_is_an_error)
{
	struct bk_image *in = must_read("blank.png");
	struct bk_cleanup_options o;
	struct bk_cleaned_page pg[2];
	struct bk_cleanup_report rep;
	struct bk_error err;
	int n = 5;

	bk_error_init(&err);
	bk_cleanup_defaults(&o, BK_PROFILE_RECORD);
	o.rotate = 45;
	cr_expect_neq(bk_cleanup_page(in, &o, false, pg, &n, &rep, &err), 0);
	cr_expect_eq(n, 0);
	cr_expect_null(pg[0].display);
	cr_expect(strstr(err.msg, "45") != NULL, "%s", err.msg);
	bk_image_free(&in);
}

Test(cleanup, blank_page_stays_one_blank_page)
{
	struct bk_image *in = must_read("blank.png");
	struct bk_cleanup_options o;
	struct bk_cleaned_page pg[2];
	struct bk_cleanup_report rep;
	struct bk_error err;
	int n, w, h;

	bk_cleanup_defaults(&o, BK_PROFILE_BYLAW);
	cr_assert_eq(bk_cleanup_page(in, &o, false, pg, &n, &rep, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1);
	cr_expect_eq(rep.skew_degrees, 0);
	w = bk_image_width(pg[0].display);
	h = bk_image_height(pg[0].display);
	cr_expect_lt(ink(pg[0].display, 0, 0, w, h), 0.01, "noise binarized into ink");
	bk_cleaned_page_release(&pg[0]);
	bk_image_free(&in);
}

Test(cleanup, map_ocr_copy_keeps_black_lettering_only)
{
	struct bk_image *in = must_read("map.png");
	struct bk_cleanup_options o;
	struct bk_cleaned_page pg[2];
	struct bk_cleanup_report rep;
	struct bk_error err;
	int n;

	bk_cleanup_defaults(&o, BK_PROFILE_MAP);
	cr_expect(o.dark_ink);
	cr_assert_eq(bk_cleanup_page(in, &o, false, pg, &n, &rep, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_image_depth(pg[0].ocr), 1);
	/* The label 千代田區 (x 565-815, y 81-163) against the blue river
	 * (left edge, y 235-260), the moat and the green park of 皇居 (x 580,
	 * y 430-520 outside its label) and a white road with gray edges
	 * (x 300-330). */
	cr_expect_gt(ink(pg[0].ocr, 565, 81, 815, 163), 0.05, "lettering lost");
	cr_expect_lt(ink(pg[0].ocr, 0, 235, 40, 260), 0.01, "river kept");
	cr_expect_lt(ink(pg[0].ocr, 580, 430, 640, 520), 0.01, "park kept");
	cr_expect_lt(ink(pg[0].ocr, 295, 700, 335, 900), 0.01, "road kept");
	bk_cleaned_page_release(&pg[0]);

	bk_cleanup_defaults(&o, BK_PROFILE_UKIYOE);
	cr_assert_eq(bk_cleanup_page(in, &o, false, pg, &n, &rep, &err), 0, "%s", err.msg);
	cr_expect_eq(bk_image_depth(pg[0].ocr), 8, "a print's OCR copy is gray");
	bk_cleaned_page_release(&pg[0]);
	bk_image_free(&in);
}
