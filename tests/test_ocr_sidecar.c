/*
 * tests/test_ocr_sidecar.c — hOCR and ALTO sidecars: valid (xmllint: hOCR
 * as XHTML 1.0 Transitional and against tests/data/hocr/bunko-hocr.xsd,
 * ALTO against tests/data/alto/bunko-alto-4.xsd), the words and their
 * boxes present, escaping of hostile text and of what XML cannot carry,
 * non-BMP text, vertical blocks and Latin spacing, write errors, and the
 * sidecars of a page really read by Tesseract.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/image.h"
#include "ocr/reader.h"
#include "ocr/sidecar.h"
#include "test_support.h"

static char *dir;

static void setup(void)
{
	dir = ts_mkdtemp("sidecar");
}

static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
}

TestSuite(sidecar, .init = setup, .fini = teardown);

static struct bk_box box(int x0, int y0, int x1, int y1)
{
	return (struct bk_box){ x0, y0, x1, y1 };
}

static void word(struct bk_line *l, int x0, int y0, int x1, int y1,
		 float conf, const char *text)
{
	cr_assert_not_null(bk_line_add_word(l, box(x0, y0, x1, y1), conf, text,
					    strlen(text)));
}

/* A page with a vertical Japanese block, a horizontal Latin block and text
 * that needs escaping (including bytes that are not UTF-8). */
static void sample_page(struct bk_page *page, int number)
{
	bk_page_init(page);
	page->width = 1000;
	page->height = 1400;
	page->xres = page->yres = 300;
	page->number = number;
	struct bk_block *v = bk_page_add_block(page, box(800, 100, 900, 600),
					       BK_DIR_VERTICAL, "jpn_vert");
	struct bk_line *l = bk_block_add_line(v, box(800, 100, 850, 600),
					      BK_DIR_VERTICAL);
	word(l, 800, 100, 850, 150, 95.4f, "千代田");
	word(l, 800, 150, 850, 200, 91.0f, "區");
	/* U+20BB7 (𠮷), outside the Basic Multilingual Plane */
	word(l, 800, 200, 850, 250, 90.0f, "\xF0\xA0\xAE\xB7野");
	struct bk_block *h = bk_page_add_block(page, box(100, 700, 900, 760),
					       BK_DIR_HORIZONTAL, "eng");
	l = bk_block_add_line(h, box(100, 700, 900, 760), BK_DIR_HORIZONTAL);
	word(l, 100, 700, 200, 760, 88.0f, "Tokyo");
	word(l, 220, 700, 300, 760, 77.0f, "A&B<C>\"q'");
	word(l, 320, 700, 400, 760, 50.0f, "bad\x01\xff\xc3(");
	/* an overlong '/', an encoded surrogate, tab and CR */
	word(l, 420, 700, 500, 760, 50.0f, "o\xC0\xAFs\xED\xA0\x80t\tr\rz");
	/* a line without words: ALTO has no place for it */
	cr_assert_not_null(bk_block_add_line(h, box(100, 800, 900, 860), BK_DIR_HORIZONTAL));
}

static char *write_both(int npages)
{
	char hocr[512], alto[512];
	snprintf(hocr, sizeof(hocr), "%s/doc.hocr", dir);
	snprintf(alto, sizeof(alto), "%s/doc.alto.xml", dir);
	FILE *h = fopen(hocr, "w"), *a = fopen(alto, "w");
	struct bk_xml *hx, *ax;
	cr_assert(h && a);
	cr_assert_eq(bk_hocr_begin(&hx, h, "box 12 & <files>"), 0);
	cr_assert_eq(bk_alto_begin(&ax, a, "box12.tif"), 0);
	for (int i = 1; i <= npages; i++) {
		struct bk_page page;
		sample_page(&page, i);
		cr_assert_eq(bk_hocr_page(hx, &page), 0);
		cr_assert_eq(bk_alto_page(ax, &page), 0);
		bk_page_release(&page);
	}
	cr_assert_eq(bk_hocr_end(&hx), 0);
	cr_assert_eq(bk_alto_end(&ax), 0);
	cr_assert_null(hx);
	cr_assert_null(ax);
	fclose(h);
	fclose(a);
	return strdup(dir);
}

/* Valid XHTML and bunko's hOCR, or valid against the ALTO 4 subset schema
 * (test_support.h): xmllint, nothing fetched. */
static void assert_valid(const char *path)
{
	TS_NEED_XML_VALIDATION();
	char *out = NULL;
	size_t n = strlen(path);
	int rc = n > 5 && !strcmp(path + n - 5, ".hocr") ? ts_validate_hocr(path, &out)
							 : ts_validate_alto(path, &out);
	cr_assert_eq(rc, 0, "%s is not valid: %s", path, out ? out : "");
	free(out);
}

static char *read_in_dir(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char *text = ts_read(path, NULL);
	cr_assert_not_null(text, "cannot read %s", path);
	return text;
}

Test(sidecar, hocr_is_well_formed_with_words_boxes_and_confidences)
{
	free(write_both(2));
	char path[512];
	snprintf(path, sizeof(path), "%s/doc.hocr", dir);
	assert_valid(path);
	char *t = read_in_dir("doc.hocr");
	cr_assert(strstr(t, "class=\"ocr_page\" id=\"page_2\""));
	cr_assert(strstr(t, "ppageno 1"));
	cr_assert(strstr(t, "class=\"ocr_carea\""));
	cr_assert(strstr(t, "lang=\"ja\""));
	cr_assert(strstr(t, "lang=\"en\""));
	cr_assert(strstr(t, "title=\"bbox 800 100 850 150; x_wconf 95\">千代田</span>"
			    "<span class=\"ocrx_word\""), "Japanese words must touch");
	cr_assert(strstr(t, ">Tokyo</span> <span"), "Latin words keep a space");
	cr_assert(strstr(t, ">A&amp;B&lt;C&gt;&quot;q'</span>"));
	cr_assert(strstr(t, "bad\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD("));
	cr_assert(strstr(t, ">o\xEF\xBF\xBD\xEF\xBF\xBDs\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDt\tr&#13;z</span>"),
		  "one U+FFFD per byte of an overlong form or a surrogate; CR kept as a reference");
	cr_assert(strstr(t, ">\xF0\xA0\xAE\xB7野</span>"), "non-BMP text kept as UTF-8");
	cr_assert(strstr(t, "box 12 &amp; &lt;files&gt;"));
	cr_assert(strstr(t, "textangle 90"));
	cr_assert(strstr(t, "style=\"writing-mode:vertical-rl\""));
	cr_assert_null(strstr(t, "/>\n    <span"), "no self-closed XHTML elements");
	free(t);
}

Test(sidecar, alto_is_well_formed_with_positions_and_directions)
{
	free(write_both(2));
	char path[512];
	snprintf(path, sizeof(path), "%s/doc.alto.xml", dir);
	assert_valid(path);
	char *t = read_in_dir("doc.alto.xml");
	cr_assert(strstr(t, "xmlns=\"http://www.loc.gov/standards/alto/ns-v4#\""));
	cr_assert(strstr(t, "<MeasurementUnit>pixel</MeasurementUnit>"));
	cr_assert(strstr(t, "<fileName>box12.tif</fileName>"));
	cr_assert(strstr(t, "<Page ID=\"page_2\""));
	cr_assert(strstr(t, "<PrintSpace HPOS=\"0\" VPOS=\"0\" WIDTH=\"1000\" HEIGHT=\"1400\""));
	cr_assert(strstr(t, "HPOS=\"800\" VPOS=\"150\" WIDTH=\"50\" HEIGHT=\"50\" "
			    "WC=\"0.91\" CONTENT=\"區\""));
	cr_assert(strstr(t, "LANG=\"ja\" BASEDIRECTION=\"ttb\""));
	cr_assert(strstr(t, "CONTENT=\"A&amp;B&lt;C&gt;&quot;q'\""));
	cr_assert(strstr(t, "CONTENT=\"o\xEF\xBF\xBD\xEF\xBF\xBDs\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDt&#9;r&#13;z\""));
	cr_assert(strstr(t, "CONTENT=\"\xF0\xA0\xAE\xB7野\""), "non-BMP text kept as UTF-8");
	cr_assert(strstr(t, "<TextLine ID=\"line_1_1\" HPOS=\"800\" VPOS=\"100\" WIDTH=\"50\" "
			    "HEIGHT=\"500\" BASEDIRECTION=\"ttb\">"));
	/* SP between the Latin words only: three per page, six in all. */
	size_t nsp = 0;
	for (const char *p = t; (p = strstr(p, "<SP ")); p++)
		nsp++;
	cr_assert_eq(nsp, 6);
	char *jp = strstr(t, "CONTENT=\"千代田\"");
	cr_assert_not_null(jp);
	cr_assert(strncmp(strstr(jp, "/>") + 3, "      <String", 13) == 0,
		  "no SP between Japanese words");
	free(t);
}

/* The validation can fail: each change makes a file that is not ALTO or
 * not the hOCR bunko writes. */
static void expect_invalid_after(const char *name, const char *from, const char *to)
{
	char path[512], bad[560];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(bad, sizeof(bad), "%s/bad-%s", dir, name);
	char *t = ts_read(path, NULL);
	cr_assert_not_null(t);
	char *at = strstr(t, from);
	cr_assert_not_null(at, "%s lacks %s", name, from);
	char *changed = ts_fmt("%.*s%s%s", (int)(at - t), t, to, at + strlen(from));
	cr_assert_eq(ts_write(bad, changed, strlen(changed)), 0);
	char *out = NULL;
	int rc = !strcmp(name + strlen(name) - 5, ".hocr") ? ts_validate_hocr(bad, &out)
							   : ts_validate_alto(bad, &out);
	cr_expect_neq(rc, 0, "%s with %s instead of %s validates", name, to, from);
	free(out);
	free(changed);
	free(t);
}

Test(sidecar, validation_refuses_what_is_not_alto_or_hocr)
{
	TS_NEED_XML_VALIDATION();
	free(write_both(1));
	expect_invalid_after("doc.alto.xml", "BASEDIRECTION=\"ttb\"", "BASEDIRECTION=\"down\"");
	expect_invalid_after("doc.alto.xml", "WC=\"0.91\"", "WC=\"1.91\"");
	expect_invalid_after("doc.alto.xml", " CONTENT=\"區\"", "");
	expect_invalid_after("doc.alto.xml", "<String ID=\"word_1_2\"", "<Strong ID=\"word_1_2\"");
	expect_invalid_after("doc.alto.xml", "ID=\"word_1_2\"", "ID=\"word_1_1\"");
	expect_invalid_after("doc.hocr", "x_wconf 95", "x_wconf 195");
	expect_invalid_after("doc.hocr", "; textangle 90", "; textangle ninety");
	expect_invalid_after("doc.hocr", "<span class=\"ocrx_word\"", "<spam class=\"ocrx_word\"");
	expect_invalid_after("doc.hocr", "class=\"ocr_carea\"", "class=\"ocr_par\"");
}

Test(sidecar, empty_page_is_still_a_valid_document)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/empty.alto.xml", dir);
	FILE *fp = fopen(path, "w");
	struct bk_xml *x;
	struct bk_page page;
	bk_page_init(&page);
	page.width = 10;
	page.height = 10;
	page.number = 1;
	cr_assert_eq(bk_alto_begin(&x, fp, "blank.png"), 0);
	cr_assert_eq(bk_alto_page(x, &page), 0);
	cr_assert_eq(bk_alto_end(&x), 0);
	fclose(fp);
	assert_valid(path);
	snprintf(path, sizeof(path), "%s/empty.hocr", dir);
	fp = fopen(path, "w");
	cr_assert_eq(bk_hocr_begin(&x, fp, "blank"), 0);
	cr_assert_eq(bk_hocr_page(x, &page), 0);
	cr_assert_eq(bk_hocr_end(&x), 0);
	fclose(fp);
	assert_valid(path);
}

Test(sidecar, write_errors_are_reported)
{
	FILE *fp = fopen("/dev/full", "w");
	if (!fp)
		cr_skip_test("no /dev/full");
	struct bk_page page;
	struct bk_xml *x;
	sample_page(&page, 1);
	setvbuf(fp, NULL, _IONBF, 0);
	/* the header alone fits libxml2's buffer; the page is flushed */
	cr_assert_eq(bk_alto_begin(&x, fp, "box12.tif"), -1);
	cr_assert_null(x);
	x = bk_xml_new_file(fp);
	cr_assert_not_null(x);
	cr_assert_eq(bk_alto_page(x, &page), -1);
	cr_assert_eq(bk_alto_end(&x), -1, "the error is sticky");
	cr_assert_null(x);
	x = bk_xml_new_file(fp);
	cr_assert_eq(bk_hocr_page(x, &page), -1);
	bk_xml_free(&x);
	cr_assert_eq(bk_hocr_begin(&x, fp, "box12.tif"), -1);
	bk_page_release(&page);
	fclose(fp);
}

/* A page really read by Tesseract: every word of the model is in both
 * sidecars, and both parse. */
Test(sidecar, sidecars_of_a_real_reading, .timeout = 120)
{
	struct bk_error err;
	char *path = ts_sample("eng.png");
	size_t len;
	char *data = ts_read(path, &len);
	cr_assert_not_null(data, "missing sample %s", path);
	struct bk_image *img = bk_image_read_mem(data, len, "eng.png", 0, &err);
	cr_assert_not_null(img, "%s", err.msg);
	struct bk_engine *engine = bk_engine_new(NULL, &err);
	cr_assert_not_null(engine, "%s", err.msg);
	struct bk_read_options opt;
	bk_read_options_init(&opt);
	struct bk_read_result r;
	cr_assert_eq(bk_read_page(engine, img, &opt, 1, "eng.png", &r, &err), 0,
		     "%s", err.msg);
	cr_assert_gt(bk_page_word_count(&r.pages[0]), 50);

	char hocr[512], alto[512];
	snprintf(hocr, sizeof(hocr), "%s/real.hocr", dir);
	snprintf(alto, sizeof(alto), "%s/real.alto.xml", dir);
	FILE *h = fopen(hocr, "w"), *a = fopen(alto, "w");
	struct bk_xml *hx, *ax;
	cr_assert_eq(bk_hocr_begin(&hx, h, "eng.png"), 0);
	cr_assert_eq(bk_hocr_page(hx, &r.pages[0]), 0);
	cr_assert_eq(bk_hocr_end(&hx), 0);
	cr_assert_eq(bk_alto_begin(&ax, a, "eng.png"), 0);
	cr_assert_eq(bk_alto_page(ax, &r.pages[0]), 0);
	cr_assert_eq(bk_alto_end(&ax), 0);
	fclose(h);
	fclose(a);
	assert_valid(hocr);
	assert_valid(alto);
	char *ht = ts_read(hocr, NULL), *at = ts_read(alto, NULL);
	const struct bk_page *p = &r.pages[0];
	for (size_t b = 0; b < p->nblocks; b++)
		for (size_t l = 0; l < p->blocks[b].nlines; l++)
			for (size_t w = 0; w < p->blocks[b].lines[l].nwords; w++) {
				const char *t = p->blocks[b].lines[l].words[w].text;
				if (strpbrk(t, "&<>\"'"))
					continue; /* escaped: checked above */
				char want[512];
				snprintf(want, sizeof(want), ">%s</span>", t);
				cr_assert(strstr(ht, want), "hOCR lacks %s", t);
				snprintf(want, sizeof(want), "CONTENT=\"%s\"", t);
				cr_assert(strstr(at, want), "ALTO lacks %s", t);
			}
	free(ht);
	free(at);
	bk_read_result_release(&r);
	bk_engine_free(&engine);
	bk_image_free(&img);
	free(data);
	free(path);
}
