/*
 * tests/test_ingest_source.c — page sources: every sample format opens
 * with the right page count and pixel format; bad files fail with messages
 * naming the file (and page); a generated multi-page TIFF with mixed
 * photometric interpretations, fill orders and depths is read page by page,
 * pixel-exact, with an oversized page refused before decoding.
 *
 * The generated TIFF is written byte by byte here (uncompressed strips), so
 * the test does not depend on the library under test to produce its input.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/source.h"
#include "test_support.h"

static struct bk_source *open_sample(const char *name, struct bk_error *err)
{
	char *path = ts_sample(name);
	struct bk_source *src = NULL;
	int rc = bk_source_open(&src, path, name, 0, err);
	free(path);
	cr_assert_eq(rc, 0, "%s: %s", name, err->msg);
	return src;
}

static void expect_pages(const char *name, enum bk_source_kind kind, int npages,
			 int depth)
{
	struct bk_error err;
	bk_error_init(&err);
	struct bk_source *src = open_sample(name, &err);
	cr_expect_eq(bk_source_kind(src), kind, "%s kind", name);
	cr_assert_eq(bk_source_page_count(src), npages, "%s pages", name);
	for (int i = 0; i < npages; i++) {
		struct bk_source_page p;
		cr_assert_eq(bk_source_read_page(src, i, &p, &err), 0, "%s", err.msg);
		cr_expect_eq(bk_image_depth(p.image), depth, "%s page %d depth %d",
			     name, i + 1, bk_image_depth(p.image));
		cr_expect_gt(bk_image_width(p.image), 500);
		cr_expect_gt(bk_image_height(p.image), 500);
		cr_expect(bk_image_xres(p.image) >= 150 && bk_image_xres(p.image) <= 600,
			  "%s resolution %d", name, bk_image_xres(p.image));
		cr_expect_null(p.jpeg, "%s is no JPEG", name);
		bk_source_page_release(&p);
	}
	bk_source_free(&src);
	cr_expect_null(src);
}

Test(source, samples_have_their_pages_and_formats)
{
	expect_pages("h-reiki.tif", BK_SOURCE_TIFF, 2, 1);
	expect_pages("v-gian.tif", BK_SOURCE_TIFF, 1, 1);
	expect_pages("spread-reiki.tif", BK_SOURCE_TIFF, 1, 1);
	expect_pages("h-kokuji.png", BK_SOURCE_IMAGE, 1, 8);
	expect_pages("map.png", BK_SOURCE_IMAGE, 1, 32);
	/* image-only PDF of gray JPEG scans: comes out gray, not color */
	expect_pages("v-kushi.pdf", BK_SOURCE_PDF, 2, 8);
}

Test(source, jpeg_page_keeps_its_original_bytes)
{
	struct bk_error err;
	struct bk_source_page p;
	size_t len = 0;
	char *path = ts_sample("ukiyoe.jpg");
	char *bytes = ts_read(path, &len);

	bk_error_init(&err);
	struct bk_source *src = open_sample("ukiyoe.jpg", &err);
	cr_assert_eq(bk_source_page_count(src), 1);
	cr_assert_eq(bk_source_read_page(src, 0, &p, &err), 0, "%s", err.msg);
	cr_expect_eq(bk_image_depth(p.image), 32);
	cr_assert_not_null(p.jpeg);
	cr_expect_eq(p.jpeg_len, len);
	cr_expect(memcmp(p.jpeg, bytes, len) == 0, "JPEG bytes differ from the file");
	bk_source_page_release(&p);
	bk_source_free(&src);
	free(bytes);
	free(path);
}

Test(source, format_is_recognized_by_content_not_name)
{
	struct bk_error err;
	char *dir = ts_mkdtemp("src-name");
	char *from = ts_sample("h-kokuji.png"), *to = NULL;
	size_t len;
	char *data = ts_read(from, &len);
	struct bk_source *src = NULL;

	bk_error_init(&err);
	cr_assert(asprintf(&to, "%s/scan.tif", dir) > 0);
	cr_assert_eq(ts_write(to, data, len), 0);
	cr_assert_eq(bk_source_open(&src, to, NULL, 0, &err), 0, "%s", err.msg);
	cr_expect_eq(bk_source_kind(src), BK_SOURCE_IMAGE);
	bk_source_free(&src);
	ts_rmtree(dir);
	free(dir);
	free(from);
	free(to);
	free(data);
}

/* Opens (and, if open succeeds, reads page 1 of) a bad sample; returns the
 * error message. */
static char *bad_message(const char *name)
{
	struct bk_error err;
	char *path = NULL;
	struct bk_source *src = NULL;
	struct bk_source_page p;

	bk_error_init(&err);
	cr_assert(asprintf(&path, "%s/bad/%s", BUNKO_SAMPLES_DIR, name) > 0);
	if (bk_source_open(&src, path, name, 0, &err) == 0) {
		int rc = 0;
		for (int i = 0; i < bk_source_page_count(src) && rc == 0; i++) {
			rc = bk_source_read_page(src, i, &p, &err);
			if (rc == 0)
				bk_source_page_release(&p);
		}
		cr_expect_neq(rc, 0, "%s was read without an error", name);
		bk_source_free(&src);
	}
	free(path);
	return strdup(err.msg);
}

Test(source, bad_files_give_errors_naming_file_and_page)
{
	char *m;

	m = bad_message("zero.tif");
	cr_expect(strstr(m, "'zero.tif'") && strstr(m, "empty"), "%s", m);
	free(m);
	m = bad_message("notimage.png");
	cr_expect(strstr(m, "'notimage.png'") && strstr(m, "not a"), "%s", m);
	free(m);
	m = bad_message("truncated.tif");
	cr_expect(strstr(m, "'truncated.tif'") != NULL, "%s", m);
	cr_expect(strstr(m, "page 1") != NULL, "%s", m);
	free(m);
	m = bad_message("bomb.png");
	cr_expect(strstr(m, "'bomb.png'") && strstr(m, "100000x100000") &&
		  strstr(m, "limit"), "%s", m);
	free(m);
	m = bad_message("corrupt.pdf");
	cr_expect(strstr(m, "'corrupt.pdf'") != NULL, "%s", m);
	free(m);
}

Test(source, missing_file)
{
	struct bk_error err;
	struct bk_source *src = NULL;
	bk_error_init(&err);
	cr_expect_eq(bk_source_open(&src, "/nonexistent/box12.tif", "box12.tif", 0, &err), -1);
	cr_expect(strstr(err.msg, "cannot open 'box12.tif'") != NULL, "%s", err.msg);
	cr_expect_null(src);
}

/* ---- a generated multi-page TIFF ------------------------------------- */

struct buf {
	unsigned char *d;
	size_t len, cap;
};

static size_t put(struct buf *b, const void *p, size_t n)
{
	size_t at = b->len;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->d = realloc(b->d, b->cap);
		cr_assert_not_null(b->d);
	}
	memcpy(b->d + b->len, p, n);
	b->len += n;
	return at;
}

static void put16(struct buf *b, uint16_t v)
{
	unsigned char x[2] = { v & 0xff, v >> 8 };
	put(b, x, 2);
}

static void put32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
	put(b, x, 4);
}

static void patch32(struct buf *b, size_t at, uint32_t v)
{
	b->d[at] = v & 0xff;
	b->d[at + 1] = (v >> 8) & 0xff;
	b->d[at + 2] = (v >> 16) & 0xff;
	b->d[at + 3] = v >> 24;
}

enum kind { BILEVEL_WHITE0, BILEVEL_BLACK0, BILEVEL_LSB, GRAY8, RGB_GRAY, RGB_COLOR };

/* True if pixel (x, y) of page `i` is dark: a checkerboard of 4x4 cells,
 * shifted per page so a page read as another page would not match. */
static int dark(int i, int x, int y)
{
	return ((x / 4 + y / 4 + i) & 1) == 0;
}

static void add_page(struct buf *b, size_t *next_ptr, int i, enum kind k, int w, int h)
{
	int spp = k >= RGB_GRAY ? 3 : 1, bps = k >= GRAY8 ? 8 : 1;
	size_t row = bps == 1 ? ((size_t)w + 7) / 8 : (size_t)w * spp;
	unsigned char *px = calloc(row, (size_t)h);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int d = dark(i, x, y);
			unsigned char *r = px + (size_t)y * row;
			switch (k) {
			case BILEVEL_WHITE0: /* MinIsWhite: 1 is black */
				if (d)
					r[x / 8] |= 0x80 >> (x % 8);
				break;
			case BILEVEL_BLACK0: /* MinIsBlack: 1 is white */
				if (!d)
					r[x / 8] |= 0x80 >> (x % 8);
				break;
			case BILEVEL_LSB: /* MinIsWhite, FillOrder 2 */
				if (d)
					r[x / 8] |= 1 << (x % 8);
				break;
			case GRAY8:
				r[x] = d ? 0 : 255;
				break;
			case RGB_GRAY:
				memset(r + 3 * x, d ? 0 : 200, 3);
				break;
			case RGB_COLOR:
				r[3 * x] = d ? 200 : 20;
				r[3 * x + 1] = 30;
				r[3 * x + 2] = d ? 10 : 220;
				break;
			}
		}
	size_t data_at = put(b, px, row * h);
	free(px);
	if (b->len & 1)
		put(b, "", 1);
	size_t res_at = b->len;
	put32(b, 300);
	put32(b, 1);
	size_t bps_at = b->len;
	put16(b, 8);
	put16(b, 8);
	put16(b, 8);
	put16(b, 0);
	size_t ifd_at = b->len;
	patch32(b, *next_ptr, (uint32_t)ifd_at);
	uint16_t photometric = k == BILEVEL_BLACK0 || k == GRAY8 ? 1 : k >= RGB_GRAY ? 2 : 0;
	struct { uint16_t tag, type; uint32_t count, value; } e[] = {
		{ 256, 4, 1, (uint32_t)w },
		{ 257, 4, 1, (uint32_t)h },
		{ 258, 3, (uint32_t)spp, spp == 3 ? (uint32_t)bps_at : (uint32_t)bps },
		{ 259, 3, 1, 1 },
		{ 262, 3, 1, photometric },
		{ 266, 3, 1, k == BILEVEL_LSB ? 2 : 1 },
		{ 273, 4, 1, (uint32_t)data_at },
		{ 277, 3, 1, (uint32_t)spp },
		{ 278, 4, 1, (uint32_t)h },
		{ 279, 4, 1, (uint32_t)(row * h) },
		{ 282, 5, 1, (uint32_t)res_at },
		{ 283, 5, 1, (uint32_t)res_at },
		{ 296, 3, 1, 2 },
	};
	put16(b, sizeof(e) / sizeof(*e));
	for (size_t j = 0; j < sizeof(e) / sizeof(*e); j++) {
		put16(b, e[j].tag);
		put16(b, e[j].type);
		put32(b, e[j].count);
		if (e[j].type == 3 && e[j].count == 1) {
			put16(b, (uint16_t)e[j].value);
			put16(b, 0);
		} else {
			put32(b, e[j].value);
		}
	}
	*next_ptr = b->len;
	put32(b, 0);
}

#define GEN_PAGES 40

static enum kind page_kind(int i)
{
	return (enum kind)(i % 6);
}

static int page_width(int i)
{
	return 50 + i; /* distinct sizes: a page read as another is caught */
}

Test(source, generated_multipage_tiff_is_read_page_by_page)
{
	struct buf b = { 0 };
	struct bk_error err;
	struct bk_source *src = NULL;
	char *dir = ts_mkdtemp("src-gen"), *path = NULL;
	size_t next_ptr;

	bk_error_init(&err);
	put(&b, "II*\0", 4);
	next_ptr = b.len;
	put32(&b, 0);
	for (int i = 0; i < GEN_PAGES; i++)
		add_page(&b, &next_ptr, i, page_kind(i), page_width(i), i == 7 ? 400 : 30);
	cr_assert(asprintf(&path, "%s/gen.tif", dir) > 0);
	cr_assert_eq(ts_write(path, b.d, b.len), 0);

	/* a limit of 10,000 pixels: page 8 (57x400) is over it */
	cr_assert_eq(bk_source_open(&src, path, "gen.tif", 10000, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_source_page_count(src), GEN_PAGES);
	for (int i = GEN_PAGES - 1; i >= 0; i--) { /* any order works */
		struct bk_source_page p;
		int w = page_width(i), h = i == 7 ? 400 : 30;
		if (i == 7) {
			cr_expect_eq(bk_source_read_page(src, i, &p, &err), -1);
			cr_expect(strstr(err.msg, "'gen.tif' page 8: image of 57x400 pixels exceeds"),
				  "%s", err.msg);
			continue;
		}
		cr_assert_eq(bk_source_read_page(src, i, &p, &err), 0, "page %d: %s", i + 1, err.msg);
		cr_assert_eq(bk_image_width(p.image), w);
		cr_assert_eq(bk_image_height(p.image), h);
		cr_expect_eq(bk_image_xres(p.image), 300);
		enum kind k = page_kind(i);
		int want_depth = k <= BILEVEL_LSB ? 1 : k == RGB_COLOR ? 32 : 8;
		cr_expect_eq(bk_image_depth(p.image), want_depth, "page %d kind %d depth %d",
			     i + 1, k, bk_image_depth(p.image));
		if (k != RGB_COLOR) {
			unsigned char *g = NULL;
			int gw, gh, gs, bad = 0;
			cr_assert_eq(bk_image_gray8(p.image, &g, &gw, &gh, &gs, &err), 0, "%s", err.msg);
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++) {
					int is_dark = g[(size_t)y * gs + x] < 100;
					bad += is_dark != dark(i, x, y);
				}
			cr_expect_eq(bad, 0, "page %d (kind %d): %d pixels wrong", i + 1, k, bad);
			free(g);
		}
		bk_source_page_release(&p);
	}
	bk_source_free(&src);
	ts_rmtree(dir);
	free(dir);
	free(path);
	free(b.d);
}

/* A PDF page's own text, classified: a born-digital page's typeset text
 * becomes a page model in pixels of the page image (with the vertical side
 * tab as a vertical line); another tool's OCR layer over a scan is
 * recognized as such; a scan without text has none. */
Test(source, pdf_text_layers_are_told_apart)
{
	static const struct {
		const char *path;
		enum bk_text_layer layer;
	} cases[] = {
		{ BUNKO_SOURCE_DIR "/tests/data/hakusho_r06_p01_borndigital.pdf", BK_TEXT_TYPESET },
		{ BUNKO_SOURCE_DIR "/tests/data/h-reiki-junk-layer.pdf", BK_TEXT_OCR_LAYER },
		{ BUNKO_SAMPLES_DIR "/v-kushi.pdf", BK_TEXT_NONE },
	};
	struct bk_error err;

	bk_error_init(&err);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bk_source *src = NULL;
		struct bk_source_page p;
		cr_assert_eq(bk_source_open(&src, cases[i].path, NULL, 0, &err), 0, "%s", err.msg);
		cr_assert_eq(bk_source_read_page(src, 0, &p, &err), 0, "%s", err.msg);
		cr_expect_eq(p.text_layer, cases[i].layer, "%s: layer %d", cases[i].path,
			     p.text_layer);
		cr_expect_eq(p.text != NULL, cases[i].layer != BK_TEXT_NONE, "%s", cases[i].path);
		if (p.text) {
			bool vertical = false;
			cr_expect_eq(p.text->width, bk_image_width(p.image));
			cr_expect_eq(p.text->height, bk_image_height(p.image));
			cr_expect_gt(bk_page_word_count(p.text), 50);
			for (size_t b = 0; b < p.text->nblocks; b++) {
				const struct bk_block *bl = &p.text->blocks[b];
				vertical |= bl->dir == BK_DIR_VERTICAL;
				for (size_t l = 0; l < bl->nlines; l++)
					for (size_t w = 0; w < bl->lines[l].nwords; w++) {
						struct bk_box bx = bl->lines[l].words[w].box;
						cr_assert(bx.x0 >= 0 && bx.y0 >= 0 && bx.x1 > bx.x0 &&
							  bx.y1 > bx.y0 && bx.x1 <= p.text->width &&
							  bx.y1 <= p.text->height, "word box off the page");
					}
			}
			cr_expect_eq(vertical, cases[i].layer == BK_TEXT_TYPESET,
				     "%s: vertical lines", cases[i].path);
		}
		bk_source_page_release(&p);
		bk_source_free(&src);
	}
}

/* The images a PDF page draws are checked against the pixel limit from
 * their declared size before poppler decodes them. */
Test(source, pdf_image_over_the_limit_is_refused_before_decoding)
{
	struct bk_error err;
	struct bk_source *src = NULL;
	struct bk_source_page p;
	char *path = ts_sample("v-kushi.pdf");

	bk_error_init(&err);
	/* the page itself at 300 dpi is larger than this limit too, but the
	 * image is checked first */
	cr_assert_eq(bk_source_open(&src, path, "v-kushi.pdf", 1000 * 1000, &err), 0, "%s", err.msg);
	cr_expect_eq(bk_source_read_page(src, 0, &p, &err), -1);
	cr_expect(strstr(err.msg, "'v-kushi.pdf' page 1: image of ") &&
		  strstr(err.msg, "pixels exceeds the limit of 1000000 pixels"), "%s", err.msg);
	bk_source_free(&src);
	free(path);
}

/* Text whose font maps its characters to private-use code points (a
 * broken ToUnicode map) is junk, not text to keep. */
Test(source, pdf_text_without_meaning_is_junk)
{
	static const char cmap[] =
		"/CIDInit /ProcSet findresource begin 12 dict begin begincmap "
		"/CMapName /Junk def /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) "
		"/Supplement 0 >> def /CMapType 2 def 1 begincodespacerange <00> <FF> "
		"endcodespacerange 1 beginbfrange <41> <5A> <E000> endbfrange endcmap "
		"CMapName currentdict /CMap defineresource pop end end";
	static const char content[] = "BT /F1 12 Tf 72 700 Td (THE QUICK BROWN FOX 1234) Tj ET";
	char *dir = ts_mkdtemp("source-junk"), *path = ts_fmt("%s/junk.pdf", dir);
	char *contents = ts_fmt("<< /Length %zu >>\nstream\n%s\nendstream", strlen(content), content);
	char *tounicode = ts_fmt("<< /Length %zu >>\nstream\n%s\nendstream", strlen(cmap), cmap);
	const char *objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
		"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		contents,
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
		tounicode,
	};
	struct bk_error err;
	struct bk_source *src = NULL;
	struct bk_source_page p;

	bk_error_init(&err);
	cr_assert_eq(ts_write_pdf(path, objs, NULL, 6), 0);
	cr_assert_eq(bk_source_open(&src, path, NULL, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_source_read_page(src, 0, &p, &err), 0, "%s", err.msg);
	cr_expect_eq(p.text_layer, BK_TEXT_JUNK, "layer %d", p.text_layer);
	cr_assert_not_null(p.text);
	char *text = bk_page_text(p.text);
	cr_expect_str_eq(ts_strip_space(text), "1234", "only characters with a meaning are kept");
	free(text);
	bk_source_page_release(&p);
	bk_source_free(&src);
	free(contents);
	free(tounicode);
	free(path);
	ts_rmtree(dir);
	free(dir);
}
