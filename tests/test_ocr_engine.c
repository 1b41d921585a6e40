/*
 * tests/test_ocr_engine.c — the Tesseract adapter with the real Tesseract
 * and real samples: recognition into the page model, reuse of handles,
 * rectangles, orientation detection, and errors for bad model names.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/engine.h"
#include "ocr/image.h"
#include "test_support.h"

static struct bk_engine *engine;

static void setup(void)
{
	struct bk_error err;
	engine = bk_engine_new(NULL, &err);
	cr_assert_not_null(engine, "%s", err.msg);
}

static void teardown(void)
{
	bk_engine_free(&engine);
	cr_assert_null(engine);
}

TestSuite(engine, .init = setup, .fini = teardown, .timeout = 300);

struct sample {
	unsigned char *pixels;
	struct bk_gray gray;
};

/* Loads a sample as Tesseract's gray input. */
static void load(const char *name, struct sample *s)
{
	struct bk_error err;
	char *path = ts_sample(name);
	size_t len;
	char *data = ts_read(path, &len);
	cr_assert_not_null(data, "missing sample %s", path);
	struct bk_image *img = bk_image_read_mem(data, len, name, 0, &err);
	cr_assert_not_null(img, "%s", err.msg);
	int w, h, stride;
	cr_assert_eq(bk_image_gray8(img, &s->pixels, &w, &h, &stride, &err), 0,
		     "%s", err.msg);
	s->gray = (struct bk_gray){ s->pixels, w, h, stride, bk_image_xres(img) };
	bk_image_free(&img);
	free(data);
	free(path);
}

static char *text_of(const struct bk_page *page)
{
	char *t = bk_page_text(page);
	cr_assert_not_null(t);
	return t;
}

Test(engine, english_page_is_read_word_by_word_with_boxes)
{
	struct sample s;
	struct bk_page page;
	struct bk_error err;

	load("eng.png", &s);
	bk_page_init(&page);
	cr_assert_eq(bk_engine_recognize(engine, &s.gray, "eng", BK_PSM_AUTO,
					 NULL, &page, &err), 0, "%s", err.msg);
	cr_assert_gt(page.nblocks, 0);
	cr_assert_gt(bk_page_word_count(&page), 50);
	for (size_t b = 0; b < page.nblocks; b++) {
		cr_assert_str_eq(page.blocks[b].lang, "eng");
		cr_assert_eq(page.blocks[b].dir, BK_DIR_HORIZONTAL);
		for (size_t l = 0; l < page.blocks[b].nlines; l++)
			for (size_t w = 0; w < page.blocks[b].lines[l].nwords; w++) {
				const struct bk_word *wd = &page.blocks[b].lines[l].words[w];
				cr_assert(wd->box.x0 < wd->box.x1 && wd->box.y0 < wd->box.y1);
				cr_assert(wd->box.x1 <= s.gray.width && wd->box.y1 <= s.gray.height);
				cr_assert(wd->conf >= 0 && wd->conf <= 100);
				cr_assert_null(strpbrk(wd->text, " \t\n"));
			}
	}
	/* Words of an English page are separated by single spaces. */
	char *t = text_of(&page);
	char *gt_path = ts_sample("eng.p1.gt.txt");
	char *gt = ts_read(gt_path, NULL);
	cr_assert_not_null(gt);
	char first_words[64];
	sscanf(gt, "%63[^\n]", first_words);
	first_words[20] = '\0'; /* a prefix of the first line */
	char *space = strrchr(first_words, ' ');
	if (space)
		*space = '\0';
	cr_assert(strstr(t, first_words), "'%s' not in:\n%s", first_words, t);
	free(t);
	free(gt);
	free(gt_path);
	bk_page_release(&page);
	free(s.pixels);
}

Test(engine, handles_are_created_once_per_model_and_reused)
{
	struct sample s;
	struct bk_error err;

	load("h-kokuji.png", &s);
	cr_assert_eq(bk_engine_handle_count(engine), 0);
	for (int i = 0; i < 2; i++) {
		struct bk_page page;
		bk_page_init(&page);
		/* Only the title line, to keep the test fast. */
		struct bk_box top = { 0, 0, s.gray.width, s.gray.height / 8 };
		cr_assert_eq(bk_engine_recognize(engine, &s.gray, "jpn",
						 BK_PSM_SINGLE_BLOCK, &top, &page,
						 &err), 0, "%s", err.msg);
		cr_assert_gt(bk_page_word_count(&page), 0);
		for (size_t b = 0; b < page.nblocks; b++)
			cr_assert_leq(page.blocks[b].box.y1, top.y1);
		char *t = text_of(&page);
		for (char *p = t; *p; p++)
			if (*p == ' ') {
				/* Japanese text: no spaces inside a line. */
				cr_assert(p > t && (unsigned char)p[-1] < 0x80 &&
					  (unsigned char)p[1] < 0x80, "space in '%s'", t);
			}
		free(t);
		bk_page_release(&page);
	}
	cr_assert_eq(bk_engine_handle_count(engine), 1);
	cr_assert_eq(bk_engine_load(engine, "jpn_vert", &err), 0, "%s", err.msg);
	cr_assert_eq(bk_engine_handle_count(engine), 2);
	free(s.pixels);
}

Test(engine, orientation_of_an_upside_down_page)
{
	struct sample s;
	struct bk_orientation o;
	struct bk_error err;

	load("rot180.tif", &s);
	cr_assert_eq(bk_engine_orientation(engine, &s.gray, &o, &err), 0, "%s", err.msg);
	cr_assert(o.detected);
	cr_assert_eq(o.rotate, 180);
	cr_assert_gt(o.confidence, 1.0);
	free(s.pixels);

	load("rot90.tif", &s);
	cr_assert_eq(bk_engine_orientation(engine, &s.gray, &o, &err), 0, "%s", err.msg);
	cr_assert(o.detected);
	cr_assert_eq(o.rotate, 270, "rot90.tif needs 270 clockwise, got %d", o.rotate);
	free(s.pixels);
}

Test(engine, blank_page_has_no_orientation_and_no_words)
{
	struct sample s;
	struct bk_orientation o;
	struct bk_error err;
	struct bk_page page;

	load("blank.png", &s);
	cr_assert_eq(bk_engine_orientation(engine, &s.gray, &o, &err), 0, "%s", err.msg);
	cr_assert_not(o.detected);
	cr_assert_eq(o.rotate, 0);
	bk_page_init(&page);
	cr_assert_eq(bk_engine_recognize(engine, &s.gray, "jpn", BK_PSM_AUTO,
					 NULL, &page, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_page_word_count(&page), 0);
	bk_page_release(&page);
	free(s.pixels);
}

Test(engine, layout_finds_vertical_text)
{
	struct sample s;
	struct bk_region *regions;
	size_t n;
	struct bk_error err;

	load("v-gian.tif", &s);
	cr_assert_eq(bk_engine_layout(engine, &s.gray, "jpn", &regions, &n, &err), 0,
		     "%s", err.msg);
	size_t vertical = 0;
	for (size_t i = 0; i < n; i++)
		vertical += regions[i].kind == BK_REGION_TEXT && regions[i].tess_vertical;
	cr_assert_gt(vertical, 0);
	free(regions);
	free(s.pixels);
}

Test(engine, bad_models_are_errors)
{
	struct bk_error err;
	unsigned char white[16 * 16];
	memset(white, 255, sizeof(white));
	struct bk_gray g = { white, 16, 16, 16, 300 };
	struct bk_page page;

	bk_page_init(&page);
	cr_assert_eq(bk_engine_recognize(engine, &g, "../etc/passwd", BK_PSM_AUTO,
					 NULL, &page, &err), -1);
	cr_assert(strstr(err.msg, "invalid OCR model name '../etc/passwd'"), "%s", err.msg);
	cr_assert_eq(bk_engine_load(engine, "klingon", &err), -1);
	cr_assert(strstr(err.msg, "cannot load Tesseract model 'klingon'"), "%s", err.msg);
	cr_assert_eq(bk_engine_handle_count(engine), 0);
	struct bk_gray bad = { NULL, 0, 0, 0, 0 };
	cr_assert_eq(bk_engine_recognize(engine, &bad, "eng", BK_PSM_AUTO, NULL,
					 &page, &err), -1);
	bk_page_release(&page);
}
