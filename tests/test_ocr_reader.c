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

Test(reader, side_tab_cut_by_the_lines_is_joined_into_one_vertical_region)
{
	struct canvas c;
	struct bk_text_region *r;
	size_t n, vertical = 0, k = 0;
	enum bk_dir dominant;

	canvas_init(&c, 1200, 1600);
	horizontal_text(&c, 200, 100, 12, 20);
	/* A side tab in the margin: one character level with each of eight
	 * body lines, so the empty rows between the lines cut it apart. */
	for (int l = 2; l < 10; l++)
		glyph(&c, 30, 100 + l * 70 + 5, 30);
	find(&c, &r, &n, &dominant);
	cr_assert_eq(dominant, BK_DIR_HORIZONTAL);
	for (size_t i = 0; i < n; i++)
		if (r[i].dir == BK_DIR_VERTICAL) {
			vertical++;
			k = i;
		}
	cr_assert_eq(vertical, 1, "one vertical region, %zu found", vertical);
	cr_assert_leq(r[k].box.x0, 30);
	cr_assert_geq(r[k].box.x1, 60);
	cr_assert_lt(r[k].box.x1, 200, "the column stays out of the body");
	cr_assert_leq(r[k].box.y0, 100 + 2 * 70 + 5);
	cr_assert_geq(r[k].box.y1, 100 + 9 * 70 + 35);
	for (size_t i = 0; i < n; i++)
		cr_assert(i == k || r[i].box.x0 >= 200 || r[i].box.x1 <= 30,
			  "a piece of the tab is left over: %d %d %d %d", r[i].box.x0,
			  r[i].box.y0, r[i].box.x1, r[i].box.y1);
	free(r);
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

/* ---- pictures: prints and maps ---------------------------------------- */

/* Code points of a UTF-8 string, whitespace left out; returns the count. */
static size_t codepoints(const char *s, unsigned *out, size_t max)
{
	size_t n = 0;
	const unsigned char *p = (const unsigned char *)s;

	while (*p && n < max) {
		unsigned c = *p;
		int len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
		if (len > 1)
			c &= 0x3F >> (len - 1);
		for (int k = 1; k < len && p[k]; k++)
			c = (c << 6) | (p[k] & 0x3F);
		for (int k = 0; k < len && *p; k++)
			p++;
		if (c != ' ' && c != '\n' && c != '\t' && c != 0x3000)
			out[n++] = c;
	}
	return n;
}

/* Length of the longest common subsequence: characters of `gt` found in
 * `text` in order. */
static size_t in_order(const char *gt, const char *text)
{
	unsigned a[256], b[256];
	size_t na = codepoints(gt, a, 256), nb = codepoints(text, b, 256);
	size_t *prev = calloc(nb + 1, sizeof(size_t)), *cur = calloc(nb + 1, sizeof(size_t));

	cr_assert(prev && cur);
	for (size_t i = 1; i <= na; i++) {
		for (size_t j = 1; j <= nb; j++)
			cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1
			       : prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
		memcpy(prev, cur, (nb + 1) * sizeof(size_t));
	}
	size_t v = prev[nb];
	free(prev);
	free(cur);
	return v;
}

static char *sample_text(const char *name)
{
	char *path = ts_sample(name);
	char *t = ts_read(path, NULL);
	cr_assert_not_null(t, "missing sample %s", path);
	free(path);
	return t;
}

static size_t chars_of(const char *s)
{
	unsigned buf[4096];
	return codepoints(s, buf, 4096);
}

Test(reader, print_reads_its_title_and_nothing_else)
{
	struct bk_read_result r;
	read_sample("ukiyoe.jpg", BK_PROFILE_UKIYOE, &r);
	const struct bk_page *p = &r.pages[0];
	char *gt = sample_text("ukiyoe.p1.gt.txt");
	char *t = bk_page_text(p);
	size_t found = in_order(gt, t);

	/* The title is 7 characters in a vertical cartouche (top right). */
	cr_assert_geq(found, 5, "title read as '%s'", t);
	cr_assert_leq(chars_of(t), 2 * chars_of(gt), "picture read as text: '%s'", t);
	cr_assert_geq(p->nblocks, 1);
	cr_assert_eq(p->blocks[0].dir, BK_DIR_VERTICAL);
	cr_assert_str_eq(p->blocks[0].lang, "jpn_vert");
	for (size_t b = 0; b < p->nblocks; b++)
		cr_assert(p->blocks[b].box.x0 > p->width / 2 &&
			  p->blocks[b].box.y1 < p->height / 2,
			  "block %zu outside the cartouche", b);
	cr_assert_eq(bk_image_depth(r.display[0]), 32, "the print keeps its color");
	free(t);
	free(gt);
	bk_read_result_release(&r);
}

/* How many of the lines of `gt` occur verbatim (spaces removed) in `text`;
 * *twice counts those found more than once. */
static int names_found(const char *gt, const char *text, int *total, int *twice)
{
	char *t = ts_strip_space(strdup(text));
	char *g = strdup(gt);
	int found = 0;

	*total = *twice = 0;
	for (char *save, *line = strtok_r(g, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		ts_strip_space(line);
		if (!*line)
			continue;
		(*total)++;
		char *at = strstr(t, line);
		found += at != NULL;
		*twice += at && strstr(at + strlen(line), line);
	}
	free(g);
	free(t);
	return found;
}

Test(reader, map_reads_place_names_not_roads)
{
	struct bk_read_result r;
	read_sample("map.png", BK_PROFILE_MAP, &r);
	char *gt = sample_text("map.p1.gt.txt");
	char *t = bk_page_text(&r.pages[0]);
	int total, twice;
	int found = names_found(gt, t, &total, &twice);

	cr_assert_geq(2 * found, total, "%d of %d place names in '%s'", found, total, t);
	cr_assert_leq(chars_of(t), 2 * chars_of(gt), "roads read as text: '%s'", t);
	cr_assert_eq(bk_image_depth(r.display[0]), 32, "the map keeps its color");
	free(t);
	free(gt);
	bk_read_result_release(&r);
}

Test(reader, pictures_without_text_give_empty_pages)
{
	struct bk_error err;
	struct bk_read_options opt;
	struct bk_read_result r;
	struct bk_image *print = load("ukiyoe.jpg");
	/* The print without its cartouche (the right sixth): sky, mountain,
	 * sun, sea, waves, a boat and a tree. */
	struct bk_image *scene = bk_image_crop(
		print, (struct bk_box){ 0, 0, bk_image_width(print) * 5 / 6, bk_image_height(print) },
		&err);
	cr_assert_not_null(scene, "%s", err.msg);

	/* A drawn picture: a gradient, discs, and two light panels without
	 * writing (one tall, one wide). */
	int w = 1200, h = 1500;
	unsigned char *rgb = malloc((size_t)w * h * 3);
	cr_assert_not_null(rgb);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			unsigned char *px = rgb + ((size_t)y * w + x) * 3;
			int dx = x % 300 - 150, dy = y % 300 - 150;
			bool disc = dx * dx + dy * dy < 90 * 90;
			bool panel = (x >= 900 && x < 1000 && y >= 100 && y < 600) ||
				     (x >= 100 && x < 700 && y >= 1300 && y < 1400);
			px[0] = panel ? 240 : disc ? 40 : (unsigned char)(60 + y / 8);
			px[1] = panel ? 235 : disc ? 40 : (unsigned char)(80 + x / 10);
			px[2] = panel ? 215 : disc ? 60 : 160;
		}
	struct bk_image *drawn = bk_image_from_raw(w, h, 24, rgb, (size_t)w * 3, 300, 300, &err);
	cr_assert_not_null(drawn, "%s", err.msg);
	free(rgb);

	const struct bk_image *pictures[] = { scene, drawn };
	const enum bk_profile profiles[] = { BK_PROFILE_UKIYOE, BK_PROFILE_MAP };
	bk_read_options_init(&opt);
	for (size_t i = 0; i < 2; i++)
		for (size_t k = 0; k < 2; k++) {
			opt.profile = profiles[k];
			cr_assert_eq(bk_read_page(engine, pictures[i], &opt, 1, "picture", &r, &err),
				     0, "%s", err.msg);
			cr_assert_eq(r.npages, 1);
			char *t = bk_page_text(&r.pages[0]);
			cr_assert_eq(bk_page_word_count(&r.pages[0]), 0,
				     "picture %zu, profile %zu read as '%s'", i, k, t);
			cr_assert_not_null(r.display[0]);
			free(t);
			bk_read_result_release(&r);
		}
	bk_image_free(&drawn);
	bk_image_free(&scene);
	bk_image_free(&print);
}

/* A map larger than one reading band (see reader.c): labels in the overlap
 * of two bands are read once, none is lost at the cut. */
Test(reader, large_map_is_read_in_bands_without_losing_or_doubling_names)
{
	struct bk_error err;
	struct bk_read_result r;
	struct bk_read_options opt;
	struct bk_image *map = load("map.png");
	int mw = bk_image_width(map), mh = bk_image_height(map);
	unsigned char *px;
	int gw, gh, gs;

	/* The map's gray, pasted on a white sheet 6000 wide: bands of 4000
	 * rows with an inch of overlap, rows 3700-4000. Four labels of the
	 * map (神田川 at map rows 263-306, 秋葉原, 神保町, 九段坂 at 469-526)
	 * fall whole into the overlap, on both sides of its middle. */
	cr_assert_eq(bk_image_gray8(map, &px, &gw, &gh, &gs, &err), 0, "%s", err.msg);
	int W = 6000, H = 3457 + mh, X = 2000, Y = 3457;
	unsigned char *sheet = malloc((size_t)W * H);
	cr_assert_not_null(sheet);
	memset(sheet, 255, (size_t)W * H);
	for (int y = 0; y < mh; y++)
		memcpy(sheet + (size_t)(Y + y) * W + X, px + (size_t)y * gs, (size_t)mw);
	free(px);
	struct bk_image *big = bk_image_from_raw(W, H, 8, sheet, (size_t)W, 300, 300, &err);
	cr_assert_not_null(big, "%s", err.msg);
	free(sheet);

	bk_read_options_init(&opt);
	opt.profile = BK_PROFILE_MAP;
	cr_assert_eq(bk_read_page(engine, big, &opt, 1, "big map", &r, &err), 0, "%s", err.msg);
	char *gt = sample_text("map.p1.gt.txt");
	char *t = bk_page_text(&r.pages[0]);
	int total, twice;
	int found = names_found(gt, t, &total, &twice);
	cr_assert_geq(2 * found, total, "%d of %d place names in '%s'", found, total, t);
	cr_assert_eq(twice, 0, "names read twice: '%s'", t);
	static const char *const in_overlap[] = { "神田川", "秋葉原", "神保町", "九段坂" };
	char *flat = ts_strip_space(strdup(t));
	for (size_t i = 0; i < 4; i++)
		cr_assert(strstr(flat, in_overlap[i]), "%s in the overlap was lost: '%s'",
			  in_overlap[i], t);
	free(flat);
	for (size_t b = 0; b < r.pages[0].nblocks; b++) {
		struct bk_box bx = r.pages[0].blocks[b].box;
		cr_assert(bx.x0 >= X && bx.x1 <= X + mw && bx.y0 >= Y && bx.y1 <= H,
			  "block %zu at %d,%d-%d,%d is off the map", b, bx.x0, bx.y0, bx.x1, bx.y1);
	}
	free(t);
	free(gt);
	bk_read_result_release(&r);
	bk_image_free(&big);
	bk_image_free(&map);
}

/* ---- title panels ------------------------------------------------------ */

struct rgb_canvas {
	unsigned char *px;
	int w, h;
};

static void rgb_fill(struct rgb_canvas *c, int x0, int y0, int x1, int y1,
		     int r, int g, int b)
{
	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++) {
			unsigned char *p = c->px + ((size_t)y * c->w + x) * 3;
			p[0] = (unsigned char)r;
			p[1] = (unsigned char)g;
			p[2] = (unsigned char)b;
		}
}

/* A cream panel with a dark frame; `marks` glyph-like dark outlines in a
 * column (tall panel) or a row (wide one). */
static void panel(struct rgb_canvas *c, int x0, int y0, int x1, int y1, int marks)
{
	bool tall = y1 - y0 > x1 - x0;
	rgb_fill(c, x0 - 4, y0 - 4, x1 + 4, y1 + 4, 50, 40, 30);
	rgb_fill(c, x0, y0, x1, y1, 240, 234, 212);
	for (int k = 0; k < marks; k++) {
		int gx = tall ? (x0 + x1) / 2 - 25 : x0 + 20 + k * 60;
		int gy = tall ? y0 + 20 + k * 60 : (y0 + y1) / 2 - 25;
		rgb_fill(c, gx, gy, gx + 50, gy + 50, 20, 20, 20);
		rgb_fill(c, gx + 5, gy + 5, gx + 45, gy + 22, 240, 234, 212);
		rgb_fill(c, gx + 5, gy + 28, gx + 45, gy + 45, 240, 234, 212);
	}
}

Test(reader, title_panels_of_a_drawn_print)
{
	struct rgb_canvas c = { NULL, 1000, 1400 };
	struct bk_error err;
	struct bk_box *boxes;
	size_t n;

	c.px = malloc((size_t)c.w * c.h * 3);
	cr_assert_not_null(c.px);
	for (int y = 0; y < c.h; y++) /* a dark, mottled sky */
		for (int x = 0; x < c.w; x++) {
			int v = 60 + (x * 7 + y * 13) % 40 + y / 20;
			rgb_fill(&c, x, y, x + 1, y + 1, v / 2, v / 2, v + 40);
		}
	panel(&c, 800, 60, 880, 560, 8);    /* tall title: reported */
	panel(&c, 100, 1200, 600, 1280, 8); /* wide title: reported */
	panel(&c, 100, 100, 400, 400, 4);   /* square sign: not a column or line */
	panel(&c, 600, 100, 680, 600, 0);   /* tall, nothing written on it */
	for (int y = 700; y < 1100; y++)    /* tall light area mottled in */
		for (int x = 850; x < 950; x++) { /* patches of 1/12 inch: not flat */
			int v = (x / 25 + y / 25) % 2 ? 180 : 250;
			rgb_fill(&c, x, y, x + 1, y + 1, v, v, v);
		}
	rgb_fill(&c, 870, 800, 930, 900, 10, 10, 10);
	struct bk_image *img = bk_image_from_raw(c.w, c.h, 24, c.px, (size_t)c.w * 3,
						 300, 300, &err);
	cr_assert_not_null(img, "%s", err.msg);
	free(c.px);

	cr_assert_eq(bk_image_find_panels(img, &boxes, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 2, "%zu panels", n);
	/* right to left: the tall title first; each is its panel's inside */
	cr_assert(boxes[0].x0 >= 800 && boxes[0].x1 <= 880 && boxes[0].y0 >= 60 &&
		  boxes[0].y1 <= 560 && boxes[0].y1 - boxes[0].y0 > 450,
		  "tall panel at %d,%d-%d,%d", boxes[0].x0, boxes[0].y0, boxes[0].x1, boxes[0].y1);
	cr_assert(boxes[1].x0 >= 100 && boxes[1].x1 <= 600 && boxes[1].y0 >= 1200 &&
		  boxes[1].y1 <= 1280 && boxes[1].x1 - boxes[1].x0 > 450,
		  "wide panel at %d,%d-%d,%d", boxes[1].x0, boxes[1].y0, boxes[1].x1, boxes[1].y1);
	free(boxes);
	bk_image_free(&img);

	/* The sample print: one panel, its cartouche (top right). */
	img = load("ukiyoe.jpg");
	cr_assert_eq(bk_image_find_panels(img, &boxes, &n, &err), 0, "%s", err.msg);
	cr_assert_eq(n, 1, "%zu panels", n);
	cr_assert(boxes[0].x0 > bk_image_width(img) * 3 / 4 &&
		  boxes[0].y1 < bk_image_height(img) / 2 &&
		  boxes[0].y1 - boxes[0].y0 > 4 * (boxes[0].x1 - boxes[0].x0),
		  "panel at %d,%d-%d,%d", boxes[0].x0, boxes[0].y0, boxes[0].x1, boxes[0].y1);
	free(boxes);
	bk_image_free(&img);
}

/* ---- strokes a Japanese model read as letters (bk_page_mend_strokes) ---- */

/* A line of `n` words in `block`, each 30 px along the line. */
static void add_line(struct bk_block *block, const char *const *words, const float *conf, int n)
{
	struct bk_box box = { 0, 0, 30, 30 * n };
	struct bk_line *line = bk_block_add_line(block, box, block->dir);
	cr_assert_not_null(line);
	for (int i = 0; i < n; i++) {
		struct bk_box w = { 0, 30 * i, 30, 30 * (i + 1) };
		cr_assert_not_null(bk_line_add_word(line, w, conf ? conf[i] : 90.0f, words[i],
						    strlen(words[i])));
	}
}

/* The words of line l of block b, joined by '/'. */
static char *line_text(const struct bk_page *page, size_t b, size_t l)
{
	char *out = calloc(1, 1024);
	const struct bk_line *line = &page->blocks[b].lines[l];
	for (size_t w = 0; w < line->nwords; w++)
		snprintf(out + strlen(out), 1024 - strlen(out), "%s%s", w ? "/" : "",
			 line->words[w].text);
	return out;
}

Test(reader, strokes_of_borders_go_and_dashes_of_vertical_print_stay)
{
	struct bk_page page;
	struct bk_error err;
	struct bk_box box = { 0, 0, 1000, 1000 };

	bk_page_init(&page);
	struct bk_block *v = bk_page_add_block(&page, box, BK_DIR_VERTICAL, "jpn_vert");
	cr_assert_not_null(v);
	/* the dashes of 童話――少年: between Japanese words of a vertical line */
	add_line(v, (const char *[]){ "童話", "||", "少年" }, NULL, 3);
	/* a border above the first character, and the film's edge below it */
	add_line(v, (const char *[]){ "|", "更だ", "lil.i" }, NULL, 3);
	/* a range of pages: 一三O頁 is 一三〇頁; 1O alone is left */
	add_line(v, (const char *[]){ "一三O", "頁", "1O" }, NULL, 3);
	/* the edge of the film read as a line of scraps */
	add_line(v, (const char *[]){ "られ.", "ai", "hpnpuaa\"", "jij1lIl1[" },
		 (const float[]){ 0, 29, 0, 0 }, 4);
	struct bk_block *h = bk_page_add_block(&page, box, BK_DIR_HORIZONTAL, "jpn");
	cr_assert_not_null(h);
	/* a real Latin line of a table read with some doubt, and a rule */
	add_line(h, (const char *[]){ "[PaLMI5400" }, (const float[]){ 34 }, 1);
	add_line(h, (const char *[]){ "バブル", "|", "とは" }, NULL, 3);
	/* a heading's Roman numeral */
	add_line(h, (const char *[]){ "III", "調査結果" }, NULL, 2);
	struct bk_block *e = bk_page_add_block(&page, box, BK_DIR_HORIZONTAL, "eng");
	cr_assert_not_null(e);
	/* English is not a Japanese model's reading: left alone */
	add_line(e, (const char *[]){ "a", "|", "b" }, NULL, 3);

	bk_error_init(&err);
	cr_assert_eq(bk_page_mend_strokes(&page, &err), 0, "%s", err.msg);
	cr_assert_eq(page.nblocks, 3);
	cr_assert_eq(page.blocks[0].nlines, 3, "the line of scraps was kept");
	const char *want[][2] = { { "童話/――/少年", NULL }, { "更だ", NULL }, { "一三〇/頁/1O", NULL } };
	for (size_t l = 0; l < 3; l++) {
		char *got = line_text(&page, 0, l);
		cr_expect_str_eq(got, want[l][0]);
		free(got);
	}
	cr_assert_eq(page.blocks[1].nlines, 3);
	char *got = line_text(&page, 1, 0);
	cr_expect_str_eq(got, "[PaLMI5400");
	free(got);
	got = line_text(&page, 1, 1);
	cr_expect_str_eq(got, "バブル/とは");
	free(got);
	got = line_text(&page, 1, 2);
	cr_expect_str_eq(got, "III/調査結果");
	free(got);
	got = line_text(&page, 2, 0);
	cr_expect_str_eq(got, "a/|/b");
	free(got);
	bk_page_release(&page);
}
