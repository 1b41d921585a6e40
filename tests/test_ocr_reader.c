/*
 * tests/test_ocr_reader.c — reading whole pages: writing-direction choice,
 * orientation, spreads, blank pages, with the real Tesseract on the real
 * samples, scored against their ground truth with scripts/textmetrics.
 * Region finding is also checked on drawn pages, where the truth is known
 * by construction.
 *
 * Thresholds come from measurement (see the OCR stage notes in the
 * report): auto reads the horizontal samples at 5-7% CER and the vertical
 * ones at 1-5%, while naive jpn on vertical text is above 90%.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/reader.h"
#include "test_support.h"

static struct bk_engine *engine;
static char *dir;

static void setup(void)
{
	struct bk_error err;
	engine = bk_engine_new(NULL, &err);
	cr_assert_not_null(engine, "%s", err.msg);
	dir = ts_mkdtemp("reader");
}

static void teardown(void)
{
	bk_engine_free(&engine);
	ts_rmtree(dir);
	free(dir);
}

TestSuite(reader, .init = setup, .fini = teardown, .timeout = 300);

static struct bk_image *load(const char *name)
{
	struct bk_error err;
	char *path = ts_sample(name);
	size_t len;
	char *data = ts_read(path, &len);
	cr_assert_not_null(data, "missing sample %s", path);
	struct bk_image *img = bk_image_read_mem(data, len, name, 0, &err);
	cr_assert_not_null(img, "%s", err.msg);
	free(data);
	free(path);
	return img;
}

static void read_sample(const char *name, enum bk_profile profile,
			struct bk_read_result *r)
{
	struct bk_error err;
	struct bk_read_options opt;
	struct bk_image *img = load(name);
	bk_read_options_init(&opt);
	opt.profile = profile;
	cr_assert_eq(bk_read_page(engine, img, &opt, 1, name, r, &err), 0,
		     "%s: %s", name, err.msg);
	bk_image_free(&img);
}

/* Character error rate (percent) of `text` against sample ground truth. */
static double cer(const char *gt_name, const char *text)
{
	char hyp[512], cmd[2048];
	char *out = NULL, *gt = ts_sample(gt_name);
	snprintf(hyp, sizeof(hyp), "%s/hyp.txt", dir);
	cr_assert_eq(ts_write(hyp, text, strlen(text)), 0);
	snprintf(cmd, sizeof(cmd), "'%s/scripts/textmetrics' cer '%s' '%s'",
		 BUNKO_SOURCE_DIR, gt, hyp);
	cr_assert_eq(ts_run(cmd, &out, 0), 0, "textmetrics failed: %s", cmd);
	double v = atof(out);
	free(out);
	free(gt);
	return v;
}

static double page_cer(const char *gt_name, const struct bk_page *page)
{
	char *t = bk_page_text(page);
	double v = cer(gt_name, t);
	free(t);
	return v;
}

static size_t blocks_with_dir(const struct bk_page *page, enum bk_dir dir_)
{
	size_t n = 0;
	for (size_t b = 0; b < page->nblocks; b++)
		n += page->blocks[b].dir == dir_;
	return n;
}

Test(reader, horizontal_page)
{
	struct bk_read_result r;
	read_sample("h-reiki.tif", BK_PROFILE_BYLAW, &r);
	cr_assert_eq(r.npages, 1);
	const struct bk_page *p = &r.pages[0];
	double c = page_cer("h-reiki.p1.gt.txt", p);
	cr_assert_lt(c, 10.0, "CER %.2f", c);
	cr_assert_eq(blocks_with_dir(p, BK_DIR_VERTICAL), 0);
	cr_assert_eq(p->number, 1);
	cr_assert_eq(p->width, bk_image_width(r.display[0]));
	cr_assert_eq(p->height, bk_image_height(r.display[0]));
	cr_assert_eq(p->xres, 300);
	/* The page text keeps Japanese characters together. */
	char *t = bk_page_text(p);
	for (char *s = strchr(t, ' '); s; s = strchr(s + 1, ' '))
		cr_assert((unsigned char)s[-1] < 0x80 || (unsigned char)s[1] < 0x80,
			  "space between Japanese characters: ...%.12s", s - 6);
	free(t);
	bk_read_result_release(&r);
}

Test(reader, vertical_page_auto_beats_naive_jpn)
{
	struct bk_read_result r;
	struct bk_error err;
	read_sample("v-gian.tif", BK_PROFILE_RECORD, &r);
	const struct bk_page *p = &r.pages[0];
	double c_auto = page_cer("v-gian.p1.gt.txt", p);
	cr_assert_gt(blocks_with_dir(p, BK_DIR_VERTICAL), 0);
	cr_assert_str_eq(p->blocks[0].lang, "jpn_vert");

	/* Naive reading of the same cleaned image: jpn, full layout. */
	unsigned char *pix;
	int w, h, stride;
	cr_assert_eq(bk_image_gray8(r.display[0], &pix, &w, &h, &stride, &err), 0);
	struct bk_gray g = { pix, w, h, stride, 300 };
	struct bk_page naive;
	bk_page_init(&naive);
	cr_assert_eq(bk_engine_recognize(engine, &g, "jpn", BK_PSM_AUTO, NULL,
					 &naive, &err), 0, "%s", err.msg);
	double c_naive = page_cer("v-gian.p1.gt.txt", &naive);
	cr_assert_lt(c_auto, 10.0, "auto CER %.2f", c_auto);
	cr_assert_gt(c_naive, c_auto + 40.0, "naive %.2f vs auto %.2f", c_naive, c_auto);
	bk_page_release(&naive);
	free(pix);
	bk_read_result_release(&r);
}

Test(reader, upside_down_page_is_turned)
{
	struct bk_read_result r;
	read_sample("rot180.tif", BK_PROFILE_RECORD, &r);
	const struct bk_page *p = &r.pages[0];
	cr_assert_eq(p->rotation, 180);
	double c = page_cer("rot180.p1.gt.txt", p);
	cr_assert_lt(c, 15.0, "CER %.2f", c);
	bk_read_result_release(&r);
}

Test(reader, mixed_page_has_heading_then_vertical_body)
{
	struct bk_read_result r;
	read_sample("mixed.tif", BK_PROFILE_RECORD, &r);
	const struct bk_page *p = &r.pages[0];
	cr_assert_geq(p->nblocks, 2);
	cr_assert_eq(p->blocks[0].dir, BK_DIR_HORIZONTAL, "the heading comes first");
	cr_assert_gt(blocks_with_dir(p, BK_DIR_VERTICAL), 0);
	double c = page_cer("mixed.p1.gt.txt", p);
	cr_assert_lt(c, 15.0, "CER %.2f", c);
	bk_read_result_release(&r);
}

Test(reader, blank_page_is_empty_not_an_error)
{
	struct bk_read_result r;
	read_sample("blank.png", BK_PROFILE_RECORD, &r);
	cr_assert_eq(r.npages, 1);
	cr_assert_eq(bk_page_word_count(&r.pages[0]), 0);
	cr_assert_not_null(r.display[0]);
	bk_read_result_release(&r);
}

Test(reader, spread_is_split_right_half_first)
{
	struct bk_read_result r;
	read_sample("spread-reiki.tif", BK_PROFILE_BYLAW, &r);
	cr_assert_eq(r.npages, 2);
	cr_assert_eq(r.pages[0].number, 1);
	cr_assert_eq(r.pages[1].number, 2);
	double c1 = page_cer("spread-reiki.p1.gt.txt", &r.pages[0]);
	double c2 = page_cer("spread-reiki.p2.gt.txt", &r.pages[1]);
	cr_assert_lt(c1, 10.0, "page 1 CER %.2f", c1);
	cr_assert_lt(c2, 10.0, "page 2 CER %.2f", c2);
	bk_read_result_release(&r);
}

Test(reader, explicit_model_is_used_as_given)
{
	struct bk_read_result r;
	struct bk_error err;
	struct bk_read_options opt;
	struct bk_image *img = load("eng.png");
	bk_read_options_init(&opt);
	opt.lang = "eng";
	cr_assert_eq(bk_read_page(engine, img, &opt, 5, "eng.png", &r, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(r.pages[0].number, 5);
	for (size_t b = 0; b < r.pages[0].nblocks; b++)
		cr_assert_str_eq(r.pages[0].blocks[b].lang, "eng");
	char *t = bk_page_text(&r.pages[0]);
	cr_assert(strchr(t, ' '), "English keeps its spaces");
	free(t);
	double c = page_cer("eng.p1.gt.txt", &r.pages[0]);
	cr_assert_lt(c, 3.0, "CER %.2f", c);
	bk_read_result_release(&r);
	bk_image_free(&img);

	img = load("eng.png");
	opt.lang = "no_such_model";
	cr_assert_eq(bk_read_page(engine, img, &opt, 1, "eng.png", &r, &err), -1);
	cr_assert(strstr(err.msg, "'eng.png'"), "%s", err.msg);
	cr_assert_eq(r.npages, 0);
	bk_image_free(&img);
}

/* ---- region finding on drawn pages ------------------------------------ */

struct canvas {
	unsigned char *px;
	int w, h;
};

static void canvas_init(struct canvas *c, int w, int h)
{
	c->w = w;
	c->h = h;
	c->px = malloc((size_t)w * h);
	cr_assert_not_null(c->px);
	memset(c->px, 255, (size_t)w * h);
}

/* A "character": a square outline with a bar, about what a kanji inks. */
static void glyph(struct canvas *c, int x, int y, int size)
{
	for (int j = 0; j < size; j++)
		for (int i = 0; i < size; i++) {
			bool edge = i < 3 || j < 3 || i >= size - 3 || j >= size - 3;
			bool bar = j >= size / 2 - 1 && j <= size / 2 + 1;
			if (edge || bar)
				c->px[(size_t)(y + j) * c->w + x + i] = 0;
		}
}

/* Horizontal lines: `n` lines of `chars` glyphs. */
static void horizontal_text(struct canvas *c, int x, int y, int n, int chars)
{
	for (int l = 0; l < n; l++)
		for (int k = 0; k < chars; k++)
			glyph(c, x + k * 44, y + l * 70, 40);
}

/* Vertical columns on a grid (empty rows between characters too), right
 * to left from x. */
static void vertical_text(struct canvas *c, int x, int y, int n, int chars)
{
	for (int col = 0; col < n; col++)
		for (int k = 0; k < chars; k++)
			glyph(c, x - col * 70, y + k * 44, 40);
}

static void find(struct canvas *c, struct bk_text_region **r, size_t *n,
		 enum bk_dir *dominant)
{
	struct bk_error err;
	struct bk_gray g = { c->px, c->w, c->h, c->w, 300 };
	cr_assert_eq(bk_find_text_regions(&g, r, n, dominant, &err), 0, "%s", err.msg);
}

Test(reader, regions_of_a_drawn_vertical_page_with_a_heading)
{
	struct canvas c;
	struct bk_text_region *r;
	size_t n;
	enum bk_dir dominant;

	canvas_init(&c, 1200, 1600);
	horizontal_text(&c, 300, 100, 1, 8);    /* heading */
	vertical_text(&c, 1000, 300, 10, 25);   /* body: 10 columns */
	find(&c, &r, &n, &dominant);
	cr_assert_eq(dominant, BK_DIR_VERTICAL);
	cr_assert_eq(n, 2);
	cr_assert_eq(r[0].dir, BK_DIR_HORIZONTAL);
	cr_assert_lt(r[0].box.y1, 300);
	cr_assert_eq(r[1].dir, BK_DIR_VERTICAL);
	cr_assert_geq(r[1].box.x1, 1040);
	cr_assert_leq(r[1].box.x0, 1000 - 9 * 70);
	free(r);
	free(c.px);
}

Test(reader, regions_of_a_drawn_horizontal_page_and_a_blank_one)
{
	struct canvas c;
	struct bk_text_region *r;
	size_t n;
	enum bk_dir dominant;

	canvas_init(&c, 1200, 1600);
	horizontal_text(&c, 100, 100, 12, 20);
	find(&c, &r, &n, &dominant);
	cr_assert_eq(dominant, BK_DIR_HORIZONTAL);
	cr_assert_eq(n, 1, "the lines of a paragraph form one region");
	cr_assert_eq(r[0].dir, BK_DIR_HORIZONTAL);
	free(r);

	memset(c.px, 255, (size_t)c.w * c.h);
	for (int i = 0; i < 500; i++) /* salt noise: isolated pixels */
		c.px[(size_t)((i * 7919) % c.h) * c.w + (i * 104729) % c.w] = 0;
	find(&c, &r, &n, &dominant);
	cr_assert_eq(n, 0);
	cr_assert_null(r);
	free(c.px);
}

Test(reader, regions_of_two_vertical_tiers_are_read_top_tier_first)
{
	struct canvas c;
	struct bk_text_region *r;
	size_t n;
	enum bk_dir dominant;

	canvas_init(&c, 1200, 1600);
	vertical_text(&c, 1000, 100, 12, 14);  /* upper tier */
	vertical_text(&c, 1000, 850, 12, 14);  /* lower tier */
	find(&c, &r, &n, &dominant);
	cr_assert_eq(dominant, BK_DIR_VERTICAL);
	cr_assert_eq(n, 2);
	cr_assert_eq(r[0].dir, BK_DIR_VERTICAL);
	cr_assert_eq(r[1].dir, BK_DIR_VERTICAL);
	cr_assert_lt(r[0].box.y1, r[1].box.y0);
	free(r);
	free(c.px);
}
