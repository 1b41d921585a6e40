/*
 * tests/test_ocr_resolution.c — the rule that decides a page's resolution
 * (ocr/resolution.h), on a real scan (tests/data/phototest.tif, 200 dpi)
 * and on a blank page: a tag the text does not contradict is kept exactly,
 * a false one (72, 96, 1, 2400) is replaced by the measure, --dpi wins without
 * measuring, and a page without text keeps a plausible tag or gets 300.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/resolution.h"
#include "test_support.h"

#define DATA BUNKO_SOURCE_DIR "/tests/data"

static struct bk_image *read_scan(void)
{
	struct bk_error err;
	size_t len = 0;
	char *data = ts_read(DATA "/phototest.tif", &len);

	cr_assert_not_null(data);
	struct bk_image *img = bk_image_read_mem(data, len, "phototest.tif", 0, &err);
	cr_assert_not_null(img, "%s", err.msg);
	free(data);
	return img;
}

static struct bk_image *blank_page(int xres)
{
	struct bk_error err;
	size_t stride = 850;
	unsigned char *white = malloc(stride * 1100);

	cr_assert_not_null(white);
	memset(white, 255, stride * 1100);
	struct bk_image *img = bk_image_from_raw(850, 1100, 8, white, stride, xres, xres, &err);
	cr_assert_not_null(img, "%s", err.msg);
	free(white);
	return img;
}

/* Applies the rule to a fresh copy tagged `tag`; returns the resolution. */
static int decide(int tag, int forced, bool measure, enum bk_dpi_source *from)
{
	struct bk_error err;
	struct bk_image *img = read_scan();
	int res;

	bk_image_set_resolution(img, tag, tag);
	cr_assert_eq(bk_resolution_apply(img, forced, measure, from, &err), 0, "%s", err.msg);
	res = bk_image_xres(img);
	cr_expect_eq(bk_image_yres(img), res);
	bk_image_free(&img);
	return res;
}

Test(ocr_resolution, measure_of_a_real_scan)
{
	struct bk_error err;
	struct bk_resolution_estimate e;
	struct bk_image *img = read_scan();

	cr_assert_eq(bk_resolution_estimate(img, &e, &err), 0, "%s", err.msg);
	cr_expect(e.dpi >= 150 && e.dpi <= 250, "estimate %d dpi, truth 200", e.dpi);
	cr_expect_geq(e.lines, 5);
	cr_expect(!e.vertical);
	cr_expect_eq(bk_image_xres(img), 200, "the estimate changed the image");
	bk_image_free(&img);
}

Test(ocr_resolution, true_tag_kept_false_tags_replaced)
{
	enum bk_dpi_source from;
	int res;

	cr_expect_eq(decide(200, 0, true, &from), 200);
	cr_expect_eq(from, BK_DPI_FROM_FILE);
	/* from half to four times the estimate: a tag is more exact (small
	 * print measures low, large type high) */
	cr_expect_eq(decide(150, 0, true, &from), 150);
	cr_expect_eq(from, BK_DPI_FROM_FILE);
	cr_expect_eq(decide(600, 0, true, &from), 600);
	cr_expect_eq(from, BK_DPI_FROM_FILE);
	const int false_tags[] = { 1, 72, 96, 2400 }; /* no tag: tests/test_cli_dpi.c */
	for (size_t i = 0; i < sizeof(false_tags) / sizeof(*false_tags); i++) {
		res = decide(false_tags[i], 0, true, &from);
		cr_expect(res >= 150 && res <= 250, "tag %d: %d dpi", false_tags[i], res);
		cr_expect_eq(from, BK_DPI_FROM_TEXT, "tag %d: from %s", false_tags[i],
			     bk_dpi_source_name(from));
	}
}

Test(ocr_resolution, option_wins_and_pictures_are_not_measured)
{
	enum bk_dpi_source from;

	cr_expect_eq(decide(200, 600, true, &from), 600);
	cr_expect_eq(from, BK_DPI_FROM_OPTION);
	cr_expect_eq(decide(72, 0, false, &from), 72);
	cr_expect_eq(from, BK_DPI_FROM_FILE);
	cr_expect_eq(decide(1, 0, false, &from), BK_DPI_DEFAULT);
	cr_expect_eq(from, BK_DPI_FROM_DEFAULT);
}

Test(ocr_resolution, blank_page_keeps_a_plausible_tag_or_gets_the_default)
{
	struct bk_error err;
	enum bk_dpi_source from;
	struct bk_image *img = blank_page(400);

	cr_assert_eq(bk_resolution_apply(img, 0, true, &from, &err), 0, "%s", err.msg);
	cr_expect_eq(bk_image_xres(img), 400);
	cr_expect_eq(from, BK_DPI_FROM_FILE);
	bk_image_free(&img);
	img = blank_page(0);
	cr_assert_eq(bk_resolution_apply(img, 0, true, &from, &err), 0, "%s", err.msg);
	cr_expect_eq(bk_image_xres(img), BK_DPI_DEFAULT);
	cr_expect_eq(from, BK_DPI_FROM_DEFAULT);
	bk_image_free(&img);
}
