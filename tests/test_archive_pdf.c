/*
 * tests/test_archive_pdf.c — the searchable-PDF writer (archive/pdf.h),
 * checked with the tools people will open its files with: qpdf --check
 * (structure), pdffonts (embedded glyphless font, Identity-H and -V),
 * pdfimages -list (images passed through with the right encoding and
 * size), pdfinfo (page size, XMP), pdftotext (the text layer reads as the
 * page reads), pdftoppm (the image renders black text on white), and the
 * output intent's ICC profile read back byte by byte and by Pillow.
 *
 * The pages are built by hand with the page-model API: a horizontal page
 * with Japanese lines, Latin words and a character outside the BMP; a
 * vertical page with columns read right to left; a colour page without
 * text. The images are drawn from the same boxes (a black square where
 * each character is), encoded by the image adapter (G4 and JPEG).
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/pdf.h"
#include "ocr/image.h"
#include "bunko/page.h"
#include "test_support.h"

/* Characters are CELL pixels square, STEP apart: the gap (0.3 em) is wide
 * enough that an extractor would see a word break if the writer left the
 * gap between two characters of a Japanese run empty. */
enum { PAGE_W = 1200, PAGE_H = 1600, DPI = 300, CELL = 40, STEP = 52 };

static const char *const h_lines[] = {
	"第一条この条例は、区民の福祉を増進する。",
	"第二条区長は、規則を定めることができる。",
	"𠮷野町の區會議事録",
};
static const char *const latin_words[] = { "Tokyo", "Metropolis", "ward", "office" };
/* Columns in reading order: the first is the rightmost. */
static const char *const v_columns[] = {
	"告示第十五號",
	"道路の區域を變更する",
	"昭和二十五年四月一日",
};

/* Adds one word per character of `text` along a line. */
static void add_char_words(struct bk_line *line, const char *text, int x, int y,
			   enum bk_dir dir)
{
	const char *p = text;
	while (*p) {
		const char *q = p + 1;
		while (((unsigned char)*q & 0xC0) == 0x80)
			q++;
		struct bk_box box = { x, y, x + CELL, y + CELL };
		cr_assert_not_null(bk_line_add_word(line, box, 90.0f, p, (size_t)(q - p)));
		if (dir == BK_DIR_VERTICAL)
			y += STEP;
		else
			x += STEP;
		p = q;
	}
}

static void page_init(struct bk_page *page, int number)
{
	bk_page_init(page);
	page->width = PAGE_W;
	page->height = PAGE_H;
	page->xres = page->yres = DPI;
	page->number = number;
}

static void build_horizontal(struct bk_page *page)
{
	page_init(page, 1);
	struct bk_block *jb = bk_page_add_block(page, (struct bk_box){ 100, 100, 1100, 400 },
						 BK_DIR_HORIZONTAL, "jpn");
	cr_assert_not_null(jb);
	for (int i = 0; i < 3; i++) {
		int y = 100 + i * 80;
		int n = (int)ts_utf8_len(h_lines[i]);
		struct bk_line *line = bk_block_add_line(
			jb, (struct bk_box){ 100, y, 100 + n * STEP, y + CELL },
			BK_DIR_HORIZONTAL);
		cr_assert_not_null(line);
		add_char_words(line, h_lines[i], 100, y, BK_DIR_HORIZONTAL);
	}
	struct bk_block *eb = bk_page_add_block(page, (struct bk_box){ 100, 600, 1100, 640 },
						 BK_DIR_HORIZONTAL, "eng");
	struct bk_line *line = bk_block_add_line(eb, (struct bk_box){ 100, 600, 1100, 640 },
						  BK_DIR_HORIZONTAL);
	cr_assert_not_null(line);
	int x = 100;
	for (size_t i = 0; i < sizeof(latin_words) / sizeof(latin_words[0]); i++) {
		int w = (int)strlen(latin_words[i]) * 22;
		cr_assert_not_null(bk_line_add_word(line, (struct bk_box){ x, 600, x + w, 640 },
						    95.0f, latin_words[i], strlen(latin_words[i])));
		x += w + 20;
	}
}

static void build_vertical(struct bk_page *page)
{
	page_init(page, 2);
	struct bk_block *vb = bk_page_add_block(page, (struct bk_box){ 800, 100, 1100, 1200 },
						 BK_DIR_VERTICAL, "jpn_vert");
	cr_assert_not_null(vb);
	for (int i = 0; i < 3; i++) {
		int x = 1060 - i * 100;
		int n = (int)ts_utf8_len(v_columns[i]);
		struct bk_line *col = bk_block_add_line(
			vb, (struct bk_box){ x, 100, x + CELL, 100 + n * STEP },
			BK_DIR_VERTICAL);
		cr_assert_not_null(col);
		add_char_words(col, v_columns[i], x, 100, BK_DIR_VERTICAL);
	}
}

/* A 1-bpp image with a black square at every word box of the page. */
static struct bk_image *draw_page(const struct bk_page *page)
{
	size_t stride;
	unsigned char *bits = ts_word_boxes_bits(page, PAGE_W, PAGE_H, 4, &stride);
	struct bk_error err;
	struct bk_image *img = bk_image_from_raw(PAGE_W, PAGE_H, 1, bits, stride, DPI, DPI, &err);
	cr_assert_not_null(img, "%s", err.msg);
	free(bits);
	return img;
}

static void encode(const struct bk_image *img, enum bk_encoding enc,
		   struct bk_encoded_image *out)
{
	struct bk_error err;
	memset(out, 0, sizeof(*out));
	cr_assert_eq(bk_image_encode(img, enc, 80, out, &err), 0, "%s", err.msg);
}

/* A small colour picture: 600x400 at 150 dpi. */
static struct bk_image *colour_picture(void)
{
	enum { W = 600, H = 400 };
	unsigned char *rgb = malloc((size_t)W * H * 3);
	struct bk_error err;
	cr_assert_not_null(rgb);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			unsigned char *p = rgb + ((size_t)y * W + x) * 3;
			p[0] = (unsigned char)(x * 255 / W);
			p[1] = (unsigned char)(y * 255 / H);
			p[2] = 128;
		}
	struct bk_image *img = bk_image_from_raw(W, H, 24, rgb, (size_t)W * 3, 150, 150, &err);
	cr_assert_not_null(img, "%s", err.msg);
	free(rgb);
	return img;
}

static void require_tools(void)
{
	static const char *const tools[] = { "qpdf", "pdffonts", "pdfimages", "pdftotext",
					     "pdftoppm", "pdfinfo" };
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		cr_assert(ts_have_tool(tools[i]), "%s is not installed", tools[i]);
}

struct fixture {
	char *dir, *pdf;
	struct bk_page hpage, vpage;
};

/* Writes the three-page document; `pdfa` chooses PDF/A-2b or plain. */
static void write_document(struct fixture *fx, bool pdfa)
{
	struct bk_pdf_meta meta;
	struct bk_pdf_writer *w = NULL;
	struct bk_error err;
	struct bk_encoded_image enc;

	fx->dir = ts_mkdtemp("pdf");
	cr_assert_not_null(fx->dir);
	cr_assert(asprintf(&fx->pdf, "%s/document.pdf", fx->dir) > 0);
	build_horizontal(&fx->hpage);
	build_vertical(&fx->vpage);

	bk_pdf_meta_init(&meta);
	meta.title = "区議会議事録 第1号";
	meta.collection = "gikai";
	meta.date = "1950-04-01";
	meta.source = "box12.tif";
	meta.pdfa = pdfa;
	cr_assert_eq(bk_pdf_writer_open(&w, fx->pdf, &meta, &err), 0, "%s", err.msg);

	const struct bk_page *pages[2] = { &fx->hpage, &fx->vpage };
	for (int i = 0; i < 2; i++) {
		struct bk_image *img = draw_page(pages[i]);
		encode(img, BK_ENC_G4, &enc);
		cr_assert_eq(bk_pdf_writer_add_page(w, &enc, pages[i], &err), 0, "%s", err.msg);
		bk_encoded_image_release(&enc);
		bk_image_free(&img);
		cr_assert(access(fx->pdf, F_OK) != 0, "the PDF appeared before close");
	}
	struct bk_image *pic = colour_picture();
	encode(pic, BK_ENC_JPEG, &enc);
	cr_assert_eq(bk_pdf_writer_add_page(w, &enc, NULL, &err), 0, "%s", err.msg);
	bk_encoded_image_release(&enc);
	bk_image_free(&pic);
	cr_assert_eq(bk_pdf_writer_page_count(w), 3);
	cr_assert(access(fx->pdf, F_OK) != 0, "the PDF appeared before close");
	cr_assert_eq(bk_pdf_writer_close(&w, &err), 0, "%s", err.msg);
	cr_assert_null(w);
	cr_assert(access(fx->pdf, F_OK) == 0);
}

static void fixture_release(struct fixture *fx)
{
	bk_page_release(&fx->hpage);
	bk_page_release(&fx->vpage);
	ts_rmtree(fx->dir);
	free(fx->dir);
	free(fx->pdf);
}

/* Runs "`tool` 'pdf' `tail`"; returns stdout (caller frees). */
static char *run_tool(const char *tool, const char *pdf, const char *tail, int expect_status)
{
	char *cmd = NULL, *out = NULL;
	cr_assert(asprintf(&cmd, "%s '%s' %s", tool, pdf, tail) > 0);
	int status = ts_run(cmd, &out, 0);
	cr_assert_eq(status, expect_status, "`%s` exited with %d:\n%s", cmd, status, out);
	free(cmd);
	return out;
}

Test(pdf, structure_fonts_and_images)
{
	struct fixture fx = { 0 };
	require_tools();
	write_document(&fx, true);

	char *out = NULL;
	char *cmd = NULL;
	cr_assert(asprintf(&cmd, "qpdf --check '%s'", fx.pdf) > 0);
	int status = ts_run(cmd, &out, 1);
	cr_assert_eq(status, 0, "qpdf --check failed:\n%s", out);
	cr_assert_not_null(strstr(out, "No syntax or stream encoding errors"), "%s", out);
	free(out);
	free(cmd);

	/* name, type (two words), encoding, emb, sub, uni */
	out = run_tool("pdffonts", fx.pdf, "", 0);
	bool seen_h = false, seen_v = false;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128], encoding[64], emb[8], sub[8], uni[8];
		if (sscanf(line, "%127s CID TrueType %63s %7s %7s %7s", name, encoding, emb,
			   sub, uni) != 5)
			continue;
		cr_expect_str_eq(emb, "yes", "font not embedded: %s", line);
		cr_expect_str_eq(uni, "yes", "font without ToUnicode: %s", line);
		seen_h = seen_h || strcmp(encoding, "Identity-H") == 0;
		seen_v = seen_v || strcmp(encoding, "Identity-V") == 0;
	}
	cr_expect(seen_h && seen_v, "pdffonts lists no Identity-H and Identity-V CID TrueType fonts");
	free(out);

	/* page num type width height color comp bpc enc ... x-ppi y-ppi */
	out = run_tool("pdfimages -list", fx.pdf, "", 0);
	int found = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		int page, num, width, height, comp, bpc, xppi, yppi;
		char type[16], color[16], enc[16], interp[8];
		if (sscanf(line, "%d %d %15s %d %d %15s %d %d %15s %7s %*d %*d %d %d", &page, &num,
			   type, &width, &height, color, &comp, &bpc, enc, interp, &xppi, &yppi) != 12)
			continue;
		found++;
		if (page <= 2) {
			cr_expect_eq(width, PAGE_W);
			cr_expect_eq(height, PAGE_H);
			cr_expect_str_eq(color, "gray");
			cr_expect_eq(bpc, 1);
			cr_expect_str_eq(enc, "ccitt");
			cr_expect_eq(xppi, DPI);
			cr_expect_eq(yppi, DPI);
		} else {
			cr_expect_eq(width, 600);
			cr_expect_eq(height, 400);
			cr_expect_str_eq(color, "rgb");
			cr_expect_eq(comp, 3);
			cr_expect_str_eq(enc, "jpeg");
			cr_expect_eq(xppi, 150);
		}
	}
	cr_expect_eq(found, 3, "pdfimages lists %d images, not 3", found);
	free(out);
	fixture_release(&fx);
}

/* Page sizes are pixels / dpi * 72; PDF/A metadata is there. */
Test(pdf, page_size_and_metadata)
{
	struct fixture fx = { 0 };
	require_tools();
	write_document(&fx, true);

	char *out = run_tool("pdfinfo -f 1 -l 3", fx.pdf, "", 0);
	double w[3] = { 0 }, h[3] = { 0 };
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		int n;
		double pw, ph;
		if (sscanf(line, "Page %d size: %lf x %lf", &n, &pw, &ph) == 3 && n >= 1 && n <= 3) {
			w[n - 1] = pw;
			h[n - 1] = ph;
		}
	}
	free(out);
	for (int i = 0; i < 2; i++) {
		cr_expect_float_eq(w[i], PAGE_W * 72.0 / DPI, 0.01, "page %d width %g", i + 1, w[i]);
		cr_expect_float_eq(h[i], PAGE_H * 72.0 / DPI, 0.01, "page %d height %g", i + 1, h[i]);
	}
	cr_expect_float_eq(w[2], 600 * 72.0 / 150, 0.01);
	cr_expect_float_eq(h[2], 400 * 72.0 / 150, 0.01);

	out = run_tool("pdfinfo -meta", fx.pdf, "", 0);
	cr_expect_not_null(strstr(out, "<pdfaid:part>2</pdfaid:part>"), "%s", out);
	cr_expect_not_null(strstr(out, "<pdfaid:conformance>B</pdfaid:conformance>"), "%s", out);
	cr_expect_not_null(strstr(out, "区議会議事録 第1号"), "%s", out);
	cr_expect_not_null(strstr(out, "<dc:source>box12.tif</dc:source>"), "%s", out);
	cr_expect_not_null(strstr(out, "1950-04-01"), "%s", out);
	free(out);

	out = run_tool("pdfinfo", fx.pdf, "", 0);
	cr_expect_not_null(strstr(out, "区議会議事録 第1号"), "title missing from Info:\n%s", out);
	cr_expect_not_null(strstr(out, "gikai"), "collection missing from Info:\n%s", out);
	free(out);
	fixture_release(&fx);
}

/* The XMP packet is written by libxml2: metadata that needs escaping, or
 * that XML cannot carry (a control character, a byte that is not UTF-8),
 * still gives a well-formed packet; non-BMP text is kept. */
Test(pdf, xmp_packet_of_hostile_metadata_is_well_formed)
{
	struct bk_pdf_meta meta;
	struct bk_pdf_writer *w = NULL;
	struct bk_encoded_image enc;
	struct bk_error err;
	char *dir, *pdf = NULL, *xmp = NULL;

	require_tools();
	TS_NEED_TOOL("xmllint");
	dir = ts_mkdtemp("pdf");
	cr_assert(asprintf(&pdf, "%s/hostile.pdf", dir) > 0);
	cr_assert(asprintf(&xmp, "%s/hostile.xmp", dir) > 0);
	bk_pdf_meta_init(&meta);
	meta.title = "A&B <x> \"q\" \x01\xff \xF0\xA0\xAE\xB7野家";
	meta.collection = "</rdf:RDF>";
	meta.source = "box&12.tif";
	meta.pdfa = true;
	cr_assert_eq(bk_pdf_writer_open(&w, pdf, &meta, &err), 0, "%s", err.msg);
	struct bk_image *pic = colour_picture();
	encode(pic, BK_ENC_JPEG, &enc);
	cr_assert_eq(bk_pdf_writer_add_page(w, &enc, NULL, &err), 0, "%s", err.msg);
	bk_encoded_image_release(&enc);
	bk_image_free(&pic);
	cr_assert_eq(bk_pdf_writer_close(&w, &err), 0, "%s", err.msg);

	char *out = run_tool("pdfinfo -meta", pdf, "", 0);
	cr_assert_eq(ts_write(xmp, out, strlen(out)), 0);
	cr_expect_not_null(strstr(out, "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">"
				       "A&amp;B &lt;x&gt; &quot;q&quot; \xEF\xBF\xBD\xEF\xBF\xBD "
				       "\xF0\xA0\xAE\xB7野家</rdf:li></rdf:Alt></dc:title>"), "%s", out);
	cr_expect_not_null(strstr(out, "collection: &lt;/rdf:RDF&gt;"), "%s", out);
	cr_expect_not_null(strstr(out, "<dc:source>box&amp;12.tif</dc:source>"), "%s", out);
	free(out);
	char *cmd = NULL;
	cr_assert(asprintf(&cmd, "xmllint --noout --nonet '%s'", xmp) > 0);
	int status = ts_run(cmd, &out, 1);
	cr_expect_eq(status, 0, "the XMP packet is not well-formed: %s", out);
	free(out);
	free(cmd);
	ts_rmtree(dir);
	free(dir);
	free(pdf);
	free(xmp);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static double s15f16(const unsigned char *p)
{
	return (int32_t)be32(p) / 65536.0;
}

/* The output intent's profile, read back from the PDF (qpdf --qdf leaves
 * its stream uncompressed): an ICC 4.2 sRGB display profile made by lcms2,
 * whose curves are the sRGB function itself (parametric type 3 with
 * IEC 61966-2.1's constants), and which another reader of ICC profiles
 * (Pillow's ImageCms) opens and names. */
Test(pdf, output_intent_is_an_icc_srgb_profile)
{
	struct fixture fx = { 0 };
	require_tools();
	TS_NEED_TOOL("python3");
	write_document(&fx, true);

	char *qdf = ts_fmt("%s/document.qdf", fx.dir), *icc_path = ts_fmt("%s/out.icc", fx.dir);
	char *cmd = ts_fmt("qpdf --qdf --object-streams=disable '%s' '%s'", fx.pdf, qdf);
	char *out = NULL;
	cr_assert_eq(ts_run(cmd, &out, 1), 0, "%s", out);
	free(out);
	free(cmd);
	size_t len;
	unsigned char *d = (unsigned char *)ts_read(qdf, &len);
	cr_assert_not_null(d);
	unsigned char *sig = memmem(d, len, "acsp", 4);
	cr_assert(sig && sig - d >= 36 + 7, "no ICC profile in the PDF");
	const unsigned char *h = sig - 36;
	cr_assert(!memcmp(h - 7, "stream\n", 7), "the profile does not begin its stream");
	uint32_t size = be32(h);
	cr_assert(size >= 128 && (size_t)(h - d) + size + 10 <= len);
	cr_expect(!memcmp(h + size, "\nendstream", 10), "header size %u is not the stream's", size);
	cr_expect(!memcmp(h + 4, "lcms", 4), "not made by lcms2");
	cr_expect_eq(be32(h + 8), 0x04200000u, "version %08x, not 4.2", be32(h + 8));
	cr_expect(!memcmp(h + 12, "mntrRGB XYZ ", 12), "not an RGB display profile to XYZ");
	static const unsigned char date[12] = { 0x07, 0xe8, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0 };
	cr_expect(!memcmp(h + 24, date, 12), "the creation date is not the fixed one");
	/* rTRC, gTRC, bTRC: 'para' function type 3, g 2.4, a 1/1.055,
	 * b 0.055/1.055, c 1/12.92, d 0.04045 */
	uint32_t ntags = be32(h + 128);
	int curves = 0;
	for (uint32_t t = 0; t < ntags && 132 + 12 * (t + 1) <= size; t++) {
		const unsigned char *e = h + 132 + 12 * t;
		if (memcmp(e, "rTRC", 4) && memcmp(e, "gTRC", 4) && memcmp(e, "bTRC", 4))
			continue;
		const unsigned char *c = h + be32(e + 4);
		cr_assert(be32(e + 4) + 32 <= size);
		cr_expect(!memcmp(c, "para", 4) && c[8] == 0 && c[9] == 3,
			  "%.4s is not the parametric sRGB curve", (const char *)e);
		cr_expect_float_eq(s15f16(c + 12), 2.4, 1e-4);
		cr_expect_float_eq(s15f16(c + 16), 1 / 1.055, 1e-4);
		cr_expect_float_eq(s15f16(c + 20), 0.055 / 1.055, 1e-4);
		cr_expect_float_eq(s15f16(c + 24), 1 / 12.92, 1e-4);
		cr_expect_float_eq(s15f16(c + 28), 0.04045, 1e-4);
		curves++;
	}
	cr_expect_eq(curves, 3);
	cr_assert_eq(ts_write(icc_path, h, size), 0);
	free(d);

	cmd = ts_fmt("/usr/bin/python3 -c 'import sys; from PIL import ImageCms; "
		     "p = ImageCms.ImageCmsProfile(sys.argv[1]); "
		     "print(ImageCms.getProfileDescription(p).strip())' '%s'", icc_path);
	cr_assert_eq(ts_run(cmd, &out, 1), 0, "%s", out);
	cr_expect(strstr(out, "sRGB IEC61966-2.1") != NULL, "Pillow reads %s", out);
	free(out);
	free(cmd);
	free(qdf);
	free(icc_path);
	fixture_release(&fx);
}

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* The embedded font program is a glyphless TrueType font of two glyphs
 * (Tesseract's pdf.ttf), and the widths the PDF declares for it (/DW) are
 * its glyph 1's advance, as PDF/A asks; vertical metrics are the PDF's W2. */
Test(pdf, embedded_font_widths_agree_with_the_program)
{
	struct fixture fx = { 0 };
	require_tools();
	write_document(&fx, true);

	char *qdf = ts_fmt("%s/document.qdf", fx.dir);
	char *cmd = ts_fmt("qpdf --qdf --object-streams=disable '%s' '%s'", fx.pdf, qdf);
	char *out = NULL;
	cr_assert_eq(ts_run(cmd, &out, 1), 0, "%s", out);
	free(out);
	free(cmd);
	size_t len;
	unsigned char *d = (unsigned char *)ts_read(qdf, &len);
	cr_assert_not_null(d);
	const char *dw = memmem(d, len, "/DW ", 4);
	cr_assert_not_null(dw);
	int declared = atoi(dw + 4);
	cr_expect_not_null(memmem(d, len, "/W2 [", 5), "no vertical metrics");
	/* the program: the stream after /Length1 */
	const unsigned char *l1 = memmem(d, len, "/Length1", 8);
	cr_assert_not_null(l1);
	const unsigned char *f = memmem(l1, len - (size_t)(l1 - d), "stream\n", 7);
	cr_assert_not_null(f);
	f += 7;
	cr_assert_eq(be32(f), 0x00010000u, "not a TrueType program");
	unsigned ntables = be16(f + 4), upem = 0, nhmetrics = 0, nglyphs = 0;
	const unsigned char *hmtx = NULL;
	for (unsigned t = 0; t < ntables; t++) {
		const unsigned char *r = f + 12 + 16 * t;
		const unsigned char *tab = f + be32(r + 8);
		if (!memcmp(r, "head", 4))
			upem = be16(tab + 18);
		else if (!memcmp(r, "hhea", 4))
			nhmetrics = be16(tab + 34);
		else if (!memcmp(r, "maxp", 4))
			nglyphs = be16(tab + 4);
		else if (!memcmp(r, "hmtx", 4))
			hmtx = tab;
		cr_expect(memcmp(r, "vhea", 4) && memcmp(r, "vmtx", 4), "vertical tables in the program");
	}
	cr_assert(upem && hmtx && nhmetrics >= 2, "head, hhea or hmtx missing");
	cr_expect_eq(nglyphs, 2);
	unsigned advance1 = be16(hmtx + 4);
	cr_expect_eq((unsigned)declared, advance1 * 1000 / upem,
		     "/DW %d, but glyph 1 advances %u of %u units", declared, advance1, upem);
	free(d);
	free(qdf);
	fixture_release(&fx);
}

Test(pdf, plain_pdf_has_no_pdfa_metadata)
{
	struct fixture fx = { 0 };
	require_tools();
	write_document(&fx, false);
	char *out = run_tool("qpdf --check", fx.pdf, "", 0);
	free(out);
	out = run_tool("pdfinfo -meta", fx.pdf, "", 0);
	cr_expect_null(strstr(out, "pdfaid"), "%s", out);
	free(out);
	fixture_release(&fx);
}

static char *page_text(const char *pdf, int page)
{
	char *tool = NULL;
	cr_assert(asprintf(&tool, "pdftotext -f %d -l %d -enc UTF-8", page, page) > 0);
	char *out = run_tool(tool, pdf, "-", 0);
	free(tool);
	return out;
}

/* Position of `needle` in `hay` as a whole line (surrounded by newlines or
 * the ends), or -1. */
static long line_pos(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		if ((p == hay || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return p - hay;
	return -1;
}

Test(pdf, text_reads_as_the_page_reads)
{
	struct fixture fx = { 0 };
	require_tools();
	write_document(&fx, true);

	char *out = page_text(fx.pdf, 1);
	long last = -1;
	for (int i = 0; i < 3; i++) {
		long pos = line_pos(out, h_lines[i]);
		cr_expect_geq(pos, 0, "line '%s' (no spaces, one line) not in:\n%s", h_lines[i], out);
		cr_expect_gt(pos, last, "line '%s' out of order in:\n%s", h_lines[i], out);
		last = pos;
	}
	cr_expect_geq(line_pos(out, "Tokyo Metropolis ward office"), 0,
		      "Latin words not single-spaced on one line:\n%s", out);
	free(out);

	out = page_text(fx.pdf, 2);
	last = -1;
	for (int i = 0; i < 3; i++) {
		long pos = line_pos(out, v_columns[i]);
		cr_expect_geq(pos, 0, "column '%s' not one line in:\n%s", v_columns[i], out);
		cr_expect_gt(pos, last, "column '%s' out of order (right to left) in:\n%s",
			     v_columns[i], out);
		last = pos;
	}
	free(out);

	out = page_text(fx.pdf, 3);
	cr_expect_str_empty(ts_strip_space(out), "an image-only page has text: %s", out);
	free(out);
	fixture_release(&fx);
}

/* Appends code point `cp` to `out` as UTF-8. */
static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	out[0] = (char)(0xE0 | (cp >> 12));
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[2] = (char)(0x80 | (cp & 0x3F));
	return 3;
}

/* The decoded content streams of all pages, as qpdf reads them
 * (--show-pages names each page's content objects). Caller frees. */
static char *content_streams(const char *pdf)
{
	char *pages = run_tool("qpdf --show-pages", pdf, "", 0);
	char *all = strdup("");
	bool in_content = false;

	cr_assert_not_null(all);
	for (char *line = strtok(pages, "\n"); line; line = strtok(NULL, "\n")) {
		int obj;
		if (strstr(line, "content:")) {
			in_content = true;
		} else if (in_content && sscanf(line, " %d 0 R", &obj) == 1) {
			char *tool = NULL, *more = NULL;
			cr_assert(asprintf(&tool, "qpdf --show-object=%d --filtered-stream-data", obj) > 0);
			char *data = run_tool(tool, pdf, "", 0);
			cr_assert(asprintf(&more, "%s%s\n", all, data) > 0);
			free(all);
			all = more;
			free(data);
			free(tool);
		} else {
			in_content = false;
		}
	}
	free(pages);
	return all;
}

/*
 * Stricter than pdftotext, which drops space glyphs and guesses spaces from
 * gaps (and never puts one between CJK characters): every extractor sees
 * the strings the content streams show. Each "<hex> Tj" is decoded with the
 * document's encoding (Identity-H/-V over CIDs that equal BMP code points,
 * which the pdftotext test checks end to end through ToUnicode). A Japanese
 * line or column must be one string, with no space glyph inside.
 */
Test(pdf, japanese_runs_are_single_strings)
{
	struct fixture fx = { 0 };
	require_tools();
	write_document(&fx, true);
	char *data = content_streams(fx.pdf);

	bool seen_h[2] = { false, false }, seen_v[3] = { false, false, false };
	for (char *p = strstr(data, "> Tj"); p; p = strstr(p + 1, "> Tj")) {
		char *start = p;
		while (start > data && start[-1] != '<')
			start--;
		char text[1024];
		size_t len = 0;
		for (char *h = start; h + 4 <= p && len + 4 < sizeof(text); h += 4) {
			char hex[5] = { h[0], h[1], h[2], h[3], 0 };
			len += put_utf8(text + len, (unsigned)strtoul(hex, NULL, 16));
		}
		text[len] = '\0';
		if (strstr(text, "、") || strstr(text, "第"))
			cr_expect_null(strchr(text, ' '), "a space inside a Japanese run: '%s'", text);
		for (int i = 0; i < 2; i++)
			seen_h[i] = seen_h[i] || strcmp(text, h_lines[i]) == 0;
		for (int i = 0; i < 3; i++)
			seen_v[i] = seen_v[i] || strcmp(text, v_columns[i]) == 0;
	}
	for (int i = 0; i < 2; i++)
		cr_expect(seen_h[i], "line '%s' is not shown as one string", h_lines[i]);
	for (int i = 0; i < 3; i++)
		cr_expect(seen_v[i], "column '%s' is not shown as one string", v_columns[i]);
	free(data);
	fixture_release(&fx);
}

/* ---- vertical glyph geometry: the PDF reference and poppler agree ---- */

/* Up to `n` numbers following the dictionary key `key` (a number or an
 * array of numbers) in the JSON of an object (qpdf --json: "/Key": [1, 2]);
 * returns how many were read. */
static int numbers_after(const char *json, const char *key, double *v, int n)
{
	char quoted[64];
	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	const char *p = strstr(json, quoted);
	if (!p)
		return 0;
	p += strlen(quoted);
	int got = 0;
	while (got < n) {
		while (*p && strchr(" \t\r\n:,[", *p))
			p++;
		char *end;
		double d = strtod(p, &end);
		if (end == p)
			break;
		v[got++] = d;
		p = end;
	}
	return got;
}

/* A copy of the object of `json` (qpdf --json: "obj:N 0 R": {...}) that
 * contains `marker`, or NULL. Caller frees. */
static char *object_with(const char *json, const char *marker)
{
	const char *m = strstr(json, marker);
	if (!m)
		return NULL;
	const char *start = json;
	for (const char *p = strstr(json, "\"obj:"); p && p < m; p = strstr(p + 1, "\"obj:"))
		start = p;
	const char *end = strstr(m, "\"obj:");
	return strndup(start, end ? (size_t)(end - start) : strlen(start));
}

/* A box in PDF points, y up. */
struct pt_box {
	double x0, y0, x1, y1;
};

/*
 * Where the glyphs of the vertical page are, computed two ways from the
 * file itself: as the PDF reference says (vertical writing: the glyph box,
 * its width w0 by Descent..Ascent, has its origin at the pen minus the
 * position vector v of W2, and the pen advances w1y), and as poppler, the
 * library behind Evince, Okular and pdftotext, reports them
 * (pdftotext -bbox). Both must give the characters' cells in the page
 * model: the first glyph's top at the column's top, the last one's bottom
 * at its bottom, every glyph centred on its printed character.
 */
Test(pdf, vertical_glyph_boxes_agree)
{
	struct fixture fx = { 0 };
	require_tools();
	write_document(&fx, true);
	const double px = DPI / 72.0; /* page-model pixels per point */

	char *json = run_tool("qpdf --json --json-key=qpdf", fx.pdf, "", 0);
	char *cidfont = object_with(json, "\"/Subtype\": \"/CIDFontType2\"");
	char *descriptor = object_with(json, "\"/Type\": \"/FontDescriptor\"");
	cr_assert(cidfont && descriptor, "no CIDFont or font descriptor in the file");
	/* the defaults are the reference's: DW 1000, DW2 [880 -1000], and a
	 * position vector's x of half the width where W2 does not say */
	double w0 = 1000, asc, desc, dw2[2] = { 880, -1000 }, w2[5];
	numbers_after(cidfont, "/DW", &w0, 1);
	numbers_after(cidfont, "/DW2", dw2, 2);
	cr_assert_eq(numbers_after(descriptor, "/Ascent", &asc, 1), 1);
	cr_assert_eq(numbers_after(descriptor, "/Descent", &desc, 1), 1);
	double w1y = dw2[1], vx = w0 / 2, vy = dw2[0];
	if (numbers_after(cidfont, "/W2", w2, 5) == 5) {
		/* one range for every CID: cfirst clast w1y vx vy */
		cr_assert(w2[0] <= 0x20 && w2[1] >= 0xFFFF, "W2 covers CIDs %g..%g only", w2[0],
			  w2[1]);
		w1y = w2[2];
		vx = w2[3];
		vy = w2[4];
	}
	free(cidfont);
	free(descriptor);
	free(json);

	/* the spec's boxes, one union per column (run), and per-glyph checks */
	char *data = content_streams(fx.pdf);
	struct pt_box spec[3];
	int ncols = 0;
	bool vertical = false;
	for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
		if (strstr(line, "/FV "))
			vertical = true;
		else if (strstr(line, "/FH "))
			vertical = false;
		double a, b, c, d, e, f;
		int at = 0;
		if (!vertical || sscanf(line, "%lf %lf %lf %lf %lf %lf Tm <%n", &a, &b, &c, &d, &e,
					&f, &at) != 6 || !at)
			continue;
		cr_assert_lt(ncols, 3, "more vertical runs than columns");
		cr_expect(b == 0 && c == 0, "a rotated or skewed text matrix: %s", line);
		size_t n = strcspn(line + at, ">") / 4;
		cr_assert_eq(n, ts_utf8_len(v_columns[ncols]), "run %d: %s", ncols + 1, line);
		struct pt_box u = { 1e9, 1e9, -1e9, -1e9 };
		for (size_t k = 0; k < n; k++) {
			double pen_x = e, pen_y = f + k * w1y / 1000.0 * d;
			double ox = pen_x - vx / 1000.0 * a, oy = pen_y - vy / 1000.0 * d;
			struct pt_box g = { ox, oy + desc / 1000.0 * d, ox + w0 / 1000.0 * a,
					    oy + asc / 1000.0 * d };
			/* the glyph's centre on its printed character (the word box) */
			int cx0 = 1060 - ncols * 100, cy0 = 100 + (int)k * STEP;
			double cx = (g.x0 + g.x1) / 2 * px, cy = PAGE_H - (g.y0 + g.y1) / 2 * px;
			cr_expect(cx > cx0 && cx < cx0 + CELL && cy > cy0 && cy < cy0 + CELL,
				  "column %d glyph %zu: the reference puts its centre at (%.1f, %.1f) px, "
				  "outside its character %d,%d-%d,%d",
				  ncols + 1, k + 1, cx, cy, cx0, cy0, cx0 + CELL, cy0 + CELL);
			cr_expect_float_eq(cx, cx0 + CELL / 2.0, 1.0, "column %d glyph %zu: centre x %.1f px",
					   ncols + 1, k + 1, cx);
			u.x0 = g.x0 < u.x0 ? g.x0 : u.x0;
			u.y0 = g.y0 < u.y0 ? g.y0 : u.y0;
			u.x1 = g.x1 > u.x1 ? g.x1 : u.x1;
			u.y1 = g.y1 > u.y1 ? g.y1 : u.y1;
		}
		/* the run spans the column: top and bottom within 1% of a cell */
		int top = 100, bottom = 100 + ((int)n - 1) * STEP + CELL;
		cr_expect_float_eq(PAGE_H - u.y1 * px, top, 0.01 * STEP,
				   "column %d: the reference puts its top at %.1f px, not %d",
				   ncols + 1, PAGE_H - u.y1 * px, top);
		cr_expect_float_eq(PAGE_H - u.y0 * px, bottom, 0.02 * STEP,
				   "column %d: the reference puts its bottom at %.1f px, not %d",
				   ncols + 1, PAGE_H - u.y0 * px, bottom);
		spec[ncols++] = u;
	}
	cr_assert_eq(ncols, 3, "%d vertical runs, not 3", ncols);
	free(data);

	/* poppler's word boxes (device space: y down from the page top) */
	char *bbox = run_tool("pdftotext -f 2 -l 2 -bbox -enc UTF-8", fx.pdf, "-", 0);
	double page_h = PAGE_H / px;
	int matched = 0;
	for (const char *w = strstr(bbox, "<word "); w; w = strstr(w + 1, "<word ")) {
		double x0, y0, x1, y1;
		int at = 0;
		cr_assert_eq(sscanf(w, "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\">%n",
				    &x0, &y0, &x1, &y1, &at), 4);
		const char *text = w + at;
		for (int i = 0; i < 3; i++) {
			size_t len = strlen(v_columns[i]);
			if (strncmp(text, v_columns[i], len) || strncmp(text + len, "</word>", 7))
				continue;
			matched++;
			const struct pt_box *s = &spec[i];
			double edges[4][2] = { { x0, s->x0 }, { x1, s->x1 },
					       { y0, page_h - s->y1 }, { y1, page_h - s->y0 } };
			static const char *const names[4] = { "left", "right", "top", "bottom" };
			for (int k = 0; k < 4; k++)
				cr_expect_float_eq(edges[k][0], edges[k][1], 0.05,
						   "column %d %s edge: poppler %.2f pt, the reference %.2f pt",
						   i + 1, names[k], edges[k][0], edges[k][1]);
		}
	}
	cr_expect_eq(matched, 3, "poppler has %d of the 3 columns as one word each:\n%s", matched,
		     bbox);
	free(bbox);
	fixture_release(&fx);
}

/* Reads a binary PGM (P5, maxval 255) written by pdftoppm -gray. */
static unsigned char *read_pgm(const char *path, int *w, int *h)
{
	size_t len = 0;
	char *data = ts_read(path, &len);
	int maxval, off = 0;
	cr_assert_not_null(data, "pdftoppm wrote no '%s'", path);
	cr_assert_eq(sscanf(data, "P5 %d %d %d%n", w, h, &maxval, &off), 3);
	cr_assert_eq(maxval, 255);
	off++; /* the single whitespace after maxval */
	cr_assert_geq(len, (size_t)off + (size_t)*w * *h);
	unsigned char *px = malloc((size_t)*w * *h);
	memcpy(px, data + off, (size_t)*w * *h);
	free(data);
	return px;
}

/* The G4 image renders black squares where the words are, white elsewhere. */
Test(pdf, image_renders_black_on_white)
{
	struct fixture fx = { 0 };
	require_tools();
	write_document(&fx, true);

	char *cmd = NULL, *out = NULL, *prefix = NULL, *pgm = NULL;
	cr_assert(asprintf(&prefix, "%s/render", fx.dir) > 0);
	cr_assert(asprintf(&cmd, "pdftoppm -gray -r 75 -f 1 -l 1 -singlefile '%s' '%s'", fx.pdf,
			   prefix) > 0);
	cr_assert_eq(ts_run(cmd, &out, 1), 0, "%s", out);
	cr_assert(asprintf(&pgm, "%s.pgm", prefix) > 0);
	int w, h;
	unsigned char *px = read_pgm(pgm, &w, &h);
	cr_assert_eq(w, PAGE_W / 4);
	cr_assert_eq(h, PAGE_H / 4);
	/* the first character of the first line: a square at (104..136) px */
	const struct bk_box *box = &fx.hpage.blocks[0].lines[0].words[0].box;
	int cx = (box->x0 + box->x1) / 2 / 4, cy = (box->y0 + box->y1) / 2 / 4;
	cr_expect_lt(px[cy * w + cx], 64, "no black text pixel at (%d,%d): %d", cx, cy,
		     px[cy * w + cx]);
	cr_expect_gt(px[(h - 10) * w + 10], 192, "margin is not white");
	cr_expect_gt(px[20 * w + w / 2], 192, "top margin is not white");
	free(px);
	free(pgm);
	free(prefix);
	free(cmd);
	free(out);
	fixture_release(&fx);
}

static int count_entries(const char *dir)
{
	char *cmd = NULL, *out = NULL;
	cr_assert(asprintf(&cmd, "ls -A '%s' | wc -l", dir) > 0);
	ts_run(cmd, &out, 0);
	int n = atoi(out);
	free(cmd);
	free(out);
	return n;
}

Test(pdf, abort_leaves_no_file)
{
	char *dir = ts_mkdtemp("pdf-abort"), *path = NULL;
	struct bk_pdf_writer *w = NULL;
	struct bk_error err;
	struct bk_page page;
	struct bk_encoded_image enc;

	cr_assert(asprintf(&path, "%s/out.pdf", dir) > 0);
	build_horizontal(&page);
	struct bk_image *img = draw_page(&page);
	encode(img, BK_ENC_G4, &enc);
	cr_assert_eq(bk_pdf_writer_open(&w, path, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_pdf_writer_add_page(w, &enc, &page, &err), 0, "%s", err.msg);
	cr_expect_eq(count_entries(dir), 1, "the temporary should exist while writing");
	cr_expect(access(path, F_OK) != 0);
	bk_pdf_writer_abort(&w);
	cr_expect_null(w);
	cr_expect_eq(count_entries(dir), 0, "abort left a file behind");

	/* a document without pages is refused and leaves nothing */
	cr_assert_eq(bk_pdf_writer_open(&w, path, NULL, &err), 0, "%s", err.msg);
	cr_expect_eq(bk_pdf_writer_close(&w, &err), -1);
	cr_expect_not_null(strstr(err.msg, path), "%s", err.msg);
	cr_expect_eq(count_entries(dir), 0);

	bk_encoded_image_release(&enc);
	bk_image_free(&img);
	bk_page_release(&page);
	ts_rmtree(dir);
	free(dir);
	free(path);
}

Test(pdf, errors_name_the_file_and_page)
{
	char *dir = ts_mkdtemp("pdf-err"), *path = NULL, *missing = NULL;
	struct bk_pdf_writer *w = NULL;
	struct bk_error err;

	cr_assert(asprintf(&missing, "%s/no/such/dir/out.pdf", dir) > 0);
	cr_expect_eq(bk_pdf_writer_open(&w, missing, NULL, &err), -1);
	cr_expect_null(w);
	cr_expect_not_null(strstr(err.msg, "out.pdf"), "%s", err.msg);

	cr_assert(asprintf(&path, "%s/bad.pdf", dir) > 0);
	cr_assert_eq(bk_pdf_writer_open(&w, path, NULL, &err), 0, "%s", err.msg);
	unsigned char junk[4] = { 1, 2, 3, 4 };
	struct bk_encoded_image bad = { .encoding = (enum bk_encoding)99, .width = 10,
					.height = 10, .bits_per_component = 8,
					.components = 1, .data = junk, .size = 4 };
	cr_expect_eq(bk_pdf_writer_add_page(w, &bad, NULL, &err), -1);
	cr_expect_not_null(strstr(err.msg, "bad.pdf' page 1"), "%s", err.msg);
	bk_pdf_writer_abort(&w);
	cr_expect_eq(count_entries(dir), 0);
	ts_rmtree(dir);
	free(dir);
	free(path);
	free(missing);
}

/* ---- long documents: objects go into object streams of bounded size ---- */

/* A small page whose single line names its number ("page 137"). */
static void build_numbered(struct bk_page *page, int number)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "page %d", number);
	bk_page_init(page);
	page->width = 160;
	page->height = 80;
	page->xres = page->yres = DPI;
	page->number = number;
	struct bk_block *b = bk_page_add_block(page, (struct bk_box){ 10, 20, 150, 60 },
						BK_DIR_HORIZONTAL, "eng");
	cr_assert_not_null(b);
	struct bk_line *line = bk_block_add_line(b, (struct bk_box){ 10, 20, 150, 60 },
						 BK_DIR_HORIZONTAL);
	cr_assert_not_null(line);
	cr_assert_not_null(bk_line_add_word(line, (struct bk_box){ 10, 20, 50, 60 }, 95.0f,
					    text, 4));
	cr_assert_not_null(bk_line_add_word(line, (struct bk_box){ 60, 20, 150, 60 }, 95.0f,
					    text + 5, (size_t)n - 5));
}

/*
 * More pages than one object stream holds: the page objects are spread
 * over several object streams (written as the pages come), and every page
 * is still found in order with its own text. qpdf checks the
 * cross-reference stream and the object streams; poppler reads the pages.
 */
Test(pdf, long_document_spans_several_object_streams)
{
	enum { NPAGES = 230 };
	char *dir = ts_mkdtemp("pdf-long"), *path = NULL;
	struct bk_pdf_writer *w = NULL;
	struct bk_error err;
	struct bk_encoded_image enc;
	unsigned char bits[80 * 20] = { 0 };

	require_tools();
	cr_assert(asprintf(&path, "%s/long.pdf", dir) > 0);
	struct bk_image *img = bk_image_from_raw(160, 80, 1, bits, 20, DPI, DPI, &err);
	cr_assert_not_null(img, "%s", err.msg);
	encode(img, BK_ENC_G4, &enc);
	cr_assert_eq(bk_pdf_writer_open(&w, path, NULL, &err), 0, "%s", err.msg);
	for (int i = 1; i <= NPAGES; i++) {
		struct bk_page page;
		build_numbered(&page, i);
		cr_assert_eq(bk_pdf_writer_add_page(w, &enc, &page, &err), 0, "%s", err.msg);
		bk_page_release(&page);
	}
	cr_assert_eq(bk_pdf_writer_close(&w, &err), 0, "%s", err.msg);

	char *out = run_tool("qpdf --check", path, "", 0);
	cr_expect_not_null(strstr(out, "No syntax or stream encoding errors"), "%s", out);
	free(out);
	/* "N/0: compressed; stream = S, index = I": count the distinct streams */
	out = run_tool("qpdf --show-xref", path, "", 0);
	int streams[16], nstreams = 0, compressed = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		int obj, stream, index;
		if (sscanf(line, "%d/0: compressed; stream = %d, index = %d", &obj, &stream,
			   &index) != 3)
			continue;
		compressed++;
		bool seen = false;
		for (int k = 0; k < nstreams; k++)
			seen = seen || streams[k] == stream;
		if (!seen && nstreams < 16)
			streams[nstreams++] = stream;
	}
	cr_expect_geq(compressed, NPAGES, "only %d objects in object streams", compressed);
	cr_expect_geq(nstreams, 3, "%d pages in %d object stream(s)", NPAGES, nstreams);
	free(out);

	out = run_tool("pdfinfo", path, "", 0);
	cr_expect_not_null(strstr(out, "Pages:           230"), "%s", out);
	free(out);
	static const int probe[] = { 1, 100, 101, 199, 230 };
	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		char want[32];
		snprintf(want, sizeof(want), "page %d", probe[i]);
		out = page_text(path, probe[i]);
		cr_expect_geq(line_pos(out, want), 0, "page %d reads '%s'", probe[i], out);
		free(out);
	}
	bk_encoded_image_release(&enc);
	bk_image_free(&img);
	ts_rmtree(dir);
	free(dir);
	free(path);
}
