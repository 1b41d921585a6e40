/*
 * tests/test_cli_pdfin.c — PDFs and scans as they come in, through the
 * real `bunko ocr` and poppler's tools:
 * - a born-digital page (a real publisher's PDF page) keeps its text
 *   exactly, with vertical lines where the PDF sets them vertically, in
 *   the sidecars and in the PDF's text layer;
 * - a scanned PDF with another tool's junk OCR layer is read again under
 *   --ocr force and auto, and keeps the junk under --ocr skip;
 * - gray and color scans are shown as scanned (JPEG, gray or RGB; an
 *   untouched JPEG byte for byte), bilevel only with --bilevel; every
 *   output passes qpdf --check;
 * - a PDF image whose declared size exceeds the pixel limit is refused
 *   with one line naming the file and page.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bunko/page.h"
#include "test_support.h"

#define DATA BUNKO_SOURCE_DIR "/tests/data"

/* Code points of a UTF-8 text without whitespace and without `drop`
 * (0: none), sorted: the "bag of characters". */
static unsigned *bag(const char *text, unsigned drop, size_t *n)
{
	char *copy = strdup(text);
	const char *p;
	unsigned *cps;
	size_t k = 0;

	cr_assert_not_null(copy);
	ts_strip_space(copy);
	cps = malloc((strlen(copy) + 1) * sizeof(*cps));
	cr_assert_not_null(cps);
	for (p = copy; *p;) {
		unsigned c = bk_utf8_next(&p);
		if (c != drop)
			cps[k++] = c;
	}
	free(copy);
	for (size_t i = 1; i < k; i++) /* insertion sort: pages are small */
		for (size_t j = i; j > 0 && cps[j - 1] > cps[j]; j--) {
			unsigned t = cps[j];
			cps[j] = cps[j - 1];
			cps[j - 1] = t;
		}
	*n = k;
	return cps;
}

/* Order-free character F-measure of `hyp` against `gt`. */
static double bag_f(const char *gt, const char *hyp, unsigned drop)
{
	size_t ng, nh, i = 0, j = 0, common = 0;
	unsigned *g = bag(gt, drop, &ng), *h = bag(hyp, drop, &nh);

	while (i < ng && j < nh) {
		if (g[i] == h[j]) {
			common++;
			i++;
			j++;
		} else if (g[i] < h[j]) {
			i++;
		} else {
			j++;
		}
	}
	free(g);
	free(h);
	if (!ng || !nh)
		return ng == nh ? 1.0 : 0.0;
	double p = (double)common / nh, r = (double)common / ng;
	return p + r > 0 ? 2 * p * r / (p + r) : 0;
}

static char *must_read(const char *path)
{
	char *s = ts_read(path, NULL);
	cr_assert_not_null(s, "cannot read '%s'", path);
	return s;
}

/* Runs a command that must succeed; returns its output (caller frees). */
static char *must_run(const char *cmd)
{
	char *out = NULL;
	int rc = ts_run(cmd, &out, 1);
	cr_assert_eq(rc, 0, "%s: %s", cmd, out ? out : "");
	return out;
}

static void must_have(const char *tool)
{
	cr_assert(ts_have_tool(tool), "%s is not installed (scripts/install-deps)", tool);
}

/* qpdf --check passes on `pdf`. */
static void check_pdf(const char *pdf)
{
	char *cmd = ts_fmt("qpdf --check '%s'", pdf);
	free(must_run(cmd));
	free(cmd);
}

/* The first image line of `pdfimages -list`, e.g. "gray 1 8 jpeg". */
static char *image_kind(const char *pdf)
{
	char *cmd = ts_fmt("pdfimages -list '%s' | awk 'NR==3 {print $6, $7, $8, $9}'", pdf);
	char *out = must_run(cmd);
	free(cmd);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* The text the GT and the output share, in order: each of `lines` (GT
 * lines, whitespace removed) must occur verbatim in the output. */
static void expect_lines_verbatim(const char *gt, const char *text)
{
	char *t = ts_strip_space(strdup(text)), *g = strdup(gt);
	int checked = 0;

	cr_assert(t && g);
	for (char *save = NULL, *line = strtok_r(g, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		ts_strip_space(line);
		if (strlen(line) < 60 || strstr(line, "\xe2\x97\x8f")) /* long lines; no ● */
			continue;
		cr_expect(strstr(t, line) != NULL, "line not found verbatim: %s", line);
		checked++;
	}
	cr_expect_geq(checked, 20, "only %d lines checked", checked);
	free(t);
	free(g);
}

Test(cli_pdfin, born_digital_page_keeps_its_text, .timeout = 300)
{
	char *dir = ts_mkdtemp("pdfin-born"), *cmd, *out, *path;
	char *gt = must_read(DATA "/hakusho_r06_p01_borndigital.txt");
	const unsigned bullet = 0x25CF; /* ●: the publisher's text lacks some */

	must_have("pdftotext");
	must_have("pdfimages");
	must_have("qpdf");
	cmd = ts_fmt("%s ocr %s/hakusho_r06_p01_borndigital.pdf -o %s/b.pdf --text %s/b.txt "
		     "--alto %s/b.xml", BUNKO_EXE, DATA, dir, dir, dir);
	free(must_run(cmd));
	free(cmd);

	path = ts_fmt("%s/b.txt", dir);
	char *text = must_read(path);
	free(path);
	cr_expect_eq(bag_f(gt, text, bullet), 1.0, "bag-F %.4f, not 1", bag_f(gt, text, bullet));
	expect_lines_verbatim(gt, text);

	/* the PDF's own text layer, as a viewer's find box sees it */
	cmd = ts_fmt("pdftotext -enc UTF-8 %s/b.pdf -", dir);
	out = must_run(cmd);
	free(cmd);
	cr_expect_eq(bag_f(gt, out, bullet), 1.0, "PDF text bag-F %.4f", bag_f(gt, out, bullet));
	free(out);

	/* the side tab is set vertically in the PDF: a vertical line */
	path = ts_fmt("%s/b.xml", dir);
	char *alto = must_read(path);
	free(path);
	const char *v = strstr(alto, "BASEDIRECTION=\"ttb\"");
	cr_expect(v != NULL, "no vertical line in the ALTO");
	cr_expect(v && strstr(v, "CONTENT=\"デ\"") && strstr(v, "CONTENT=\"策\""),
		  "the vertical side tab is not a vertical line");
	free(alto);
	TS_NEED_XML_VALIDATION();
	path = ts_fmt("%s/b.xml", dir);
	out = NULL;
	cr_expect_eq(ts_validate_alto(path, &out), 0, "the ALTO is not valid: %s", out);
	free(out);
	free(path);

	/* shown as the PDF draws it, in color; a valid PDF */
	path = ts_fmt("%s/b.pdf", dir);
	out = image_kind(path);
	cr_expect_str_eq(out, "rgb 3 8 jpeg");
	free(out);
	check_pdf(path);
	free(path);
	free(text);
	free(gt);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_pdfin, junk_ocr_layer_is_read_again, .timeout = 600)
{
	static const struct {
		const char *mode;
		bool junk; /* the other tool's layer is kept */
	} modes[] = { { "skip", true }, { "force", false }, { "auto", false } };
	char *dir = ts_mkdtemp("pdfin-junk");
	char *gt = must_read(BUNKO_SAMPLES_DIR "/h-reiki.p1.gt.txt");

	must_have("qpdf");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		char *cmd = ts_fmt("%s ocr %s/h-reiki-junk-layer.pdf -o %s/%s.pdf --text %s/%s.txt "
				   "--ocr %s", BUNKO_EXE, DATA, dir, modes[i].mode, dir,
				   modes[i].mode, modes[i].mode);
		free(must_run(cmd));
		free(cmd);
		char *path = ts_fmt("%s/%s.txt", dir, modes[i].mode);
		char *text = must_read(path);
		double f = bag_f(gt, text, 0);
		if (modes[i].junk)
			cr_expect_lt(f, 0.2, "--ocr %s: bag-F %.3f: the junk layer was not kept",
				     modes[i].mode, f);
		else
			cr_expect_geq(f, 0.95, "--ocr %s: bag-F %.3f: not read again",
				      modes[i].mode, f);
		free(text);
		free(path);
		path = ts_fmt("%s/%s.pdf", dir, modes[i].mode);
		check_pdf(path);
		free(path);
	}
	free(gt);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_pdfin, gray_and_color_scans_stay_as_scanned, .timeout = 600)
{
	static const struct {
		const char *input, *options, *kind;
	} cases[] = {
		{ "h-kokuji.png", "", "gray 1 8 jpeg" },              /* gray PNG */
		{ "h-kokuji.png", "--bilevel", "gray 1 1 ccitt" },
		{ "v-kushi.pdf", "", "gray 1 8 jpeg" },               /* gray JPEG pages */
		{ "ukiyoe.jpg", "--profile record", "rgb 3 8 jpeg" }, /* color */
		{ "h-reiki.tif", "", "gray 1 1 ccitt" },              /* bilevel stays G4 */
	};
	char *dir = ts_mkdtemp("pdfin-gray");

	must_have("pdfimages");
	must_have("qpdf");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *pdf = ts_fmt("%s/%zu.pdf", dir, i);
		char *cmd = ts_fmt("%s ocr %s/%s -o %s %s", BUNKO_EXE, BUNKO_SAMPLES_DIR,
				   cases[i].input, pdf, cases[i].options);
		free(must_run(cmd));
		free(cmd);
		char *kind = image_kind(pdf);
		cr_expect_str_eq(kind, cases[i].kind, "%s %s", cases[i].input, cases[i].options);
		free(kind);
		check_pdf(pdf);
		free(pdf);
	}

	/* a JPEG scan that cleanup leaves as it is (upright, no skew, no
	 * border) goes into the PDF byte for byte */
	char *cmd = ts_fmt("cd %s && /usr/bin/python3 -c \"from PIL import Image, ImageDraw\n"
			   "im = Image.new('L', (1200, 1600), 235)\nd = ImageDraw.Draw(im)\n"
			   "for y in range(200, 1400, 60):\n"
			   "    for x in range(150, 1050, 80): d.rectangle([x, y, x + 40, y + 30], fill=40)\n"
			   "im.save('bars.jpg', quality=90, dpi=(300, 300))\" && "
			   "%s ocr bars.jpg -o bars.pdf && pdfimages -all bars.pdf shown && "
			   "cmp shown-000.jpg bars.jpg", dir, BUNKO_EXE);
	free(must_run(cmd));
	free(cmd);
	ts_rmtree(dir);
	free(dir);
}

/* A PDF whose one page draws, through a form XObject, a Flate image that
 * declares 100000x100000 pixels in a stream of a few bytes. */
static void write_bomb(const char *path)
{
	static const char zlib_of_nothing[8] = "x\x9c\x03\x00\x00\x00\x00\x01";
	static const char image_head[] =
		"<< /Type /XObject /Subtype /Image /Width 100000 /Height 100000 "
		"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode "
		"/Length 8 >>\nstream\n";
	char image[sizeof(image_head) + 32];
	size_t n = sizeof(image_head) - 1;

	memcpy(image, image_head, n);
	memcpy(image + n, zlib_of_nothing, 8);
	n += 8;
	memcpy(image + n, "\nendstream", 10);
	n += 10;
	const char *objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
		"/Resources << /XObject << /F 4 0 R >> >> /Contents 6 0 R >>",
		"<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] "
		"/Resources << /XObject << /Im 5 0 R >> >> /Length 7 >>\nstream\n/Im Do\n\nendstream",
		image,
		"<< /Length 29 >>\nstream\nq 612 0 0 792 0 0 cm /F Do Q\n\nendstream",
	};
	size_t lens[6];
	for (int i = 0; i < 6; i++)
		lens[i] = i == 4 ? n : strlen(objs[i]);
	cr_assert_eq(ts_write_pdf(path, objs, lens, 6), 0);
}

/* A PDF whose one page draws tests/data/oldprint-small.jpg (1200x560,
 * gray) as it is, or with 4,000 bytes of its entropy-coded data zeroed. */
static void write_jpeg_page(const char *path, bool damage)
{
	size_t jlen = 0;
	char *jpeg = ts_read(DATA "/oldprint-small.jpg", &jlen);
	cr_assert_not_null(jpeg);
	if (damage) {
		const char *sos = memmem(jpeg, jlen, "\xff\xda", 2);
		cr_assert(sos && (size_t)(sos - jpeg) + 9000 < jlen);
		memset((char *)sos + 3000, 0, 4000);
	}
	char *head = ts_fmt("<< /Type /XObject /Subtype /Image /Width 1200 /Height 560 "
			    "/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode "
			    "/Length %zu >>\nstream\n", jlen);
	size_t hlen = strlen(head), n = hlen + jlen + 10;
	char *image = malloc(n);
	cr_assert_not_null(image);
	memcpy(image, head, hlen);
	memcpy(image + hlen, jpeg, jlen);
	memcpy(image + hlen + jlen, "\nendstream", 10);
	const char *objs[] = {
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 134.4] "
		"/Resources << /XObject << /Im 4 0 R >> >> /Contents 5 0 R >>",
		image,
		"<< /Length 33 >>\nstream\nq 288 0 0 134.4 0 0 cm /Im Do Q\n\nendstream",
	};
	size_t lens[5];
	for (int i = 0; i < 5; i++)
		lens[i] = i == 3 ? n : strlen(objs[i]);
	cr_assert_eq(ts_write_pdf(path, objs, lens, 5), 0);
	free(image);
	free(head);
	free(jpeg);
}

/* Poppler hands a PDF's JPEG images to libjpeg, which prints its own
 * complaint about damaged data on stderr and draws gray in its place.
 * bunko refuses the page with one line naming the file and the page, as
 * its own JPEG reader does; the undamaged page reads without a word. */
Test(cli_pdfin, damaged_jpeg_inside_a_pdf_is_one_error_naming_the_page, .timeout = 120)
{
	char *dir = ts_mkdtemp("pdfin-jpeg"), *out = NULL;
	char *bad = ts_fmt("%s/bad.pdf", dir), *good = ts_fmt("%s/good.pdf", dir);

	write_jpeg_page(bad, true);
	write_jpeg_page(good, false);
	must_have("qpdf");
	check_pdf(bad);
	char *cmd = ts_fmt("cd %s && %s ocr bad.pdf -o out.pdf", dir, BUNKO_EXE);
	int rc = ts_run(cmd, &out, 1);
	cr_expect_eq(rc, 1, "%s", out);
	cr_expect(strstr(out, "'bad.pdf' page 1: damaged or truncated JPEG data in an image: ") !=
			  NULL, "%s", out);
	cr_expect(strchr(out, '\n') == out + strlen(out) - 1, "more than one line: %s", out);
	free(out);
	free(cmd);
	cmd = ts_fmt("cd %s && %s ocr good.pdf -o out.pdf 2>err.txt", dir, BUNKO_EXE);
	out = NULL;
	cr_expect_eq(ts_run(cmd, &out, 1), 0, "%s", out);
	free(out);
	free(cmd);
	char *errpath = ts_fmt("%s/err.txt", dir);
	char *errs = ts_read(errpath, NULL);
	cr_expect(errs && !strstr(errs, "JPEG"), "stderr of the undamaged page: %s", errs);
	free(errs);
	free(errpath);
	free(bad);
	free(good);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_pdfin, image_bomb_inside_a_pdf_is_refused, .timeout = 120)
{
	char *dir = ts_mkdtemp("pdfin-bomb"), *out = NULL;
	char *pdf = ts_fmt("%s/bomb.pdf", dir);

	write_bomb(pdf);
	must_have("qpdf");
	check_pdf(pdf); /* a well-formed PDF: only its image is too large */
	char *cmd = ts_fmt("cd %s && %s ocr bomb.pdf -o out.pdf", dir, BUNKO_EXE);
	int rc = ts_run(cmd, &out, 1);
	cr_expect_eq(rc, 1, "%s", out);
	cr_expect(strstr(out, "'bomb.pdf' page 1: image of 100000x100000 pixels exceeds the "
			      "limit of 400000000 pixels") != NULL, "%s", out);
	cr_expect(strchr(out, '\n') == out + strlen(out) - 1, "more than one line: %s", out);
	free(out);
	free(cmd);
	free(pdf);
	ts_rmtree(dir);
	free(dir);
}

/* Through the queue: `bunko add` records --ocr, the worker keeps a
 * born-digital page's text (auto) and another tool's layer (skip), the
 * stored text is that text and the index finds it. */
Test(cli_pdfin, queued_pdfs_keep_their_text_as_asked, .timeout = 300)
{
	char *dir = ts_mkdtemp("pdfin-queue"), *out = NULL;
	char *gt = must_read(DATA "/hakusho_r06_p01_borndigital.txt");
	char *junk_text = NULL;

	char *cmd = ts_fmt("%s init %s/a", BUNKO_EXE, dir);
	free(must_run(cmd));
	free(cmd);
	cmd = ts_fmt("%s add %s/a %s/hakusho_r06_p01_borndigital.pdf --collection white",
		     BUNKO_EXE, dir, DATA);
	char *born_id = must_run(cmd);
	born_id[strcspn(born_id, "\n")] = '\0';
	free(cmd);
	cmd = ts_fmt("%s add %s/a %s/h-reiki-junk-layer.pdf --collection junk --ocr skip",
		     BUNKO_EXE, dir, DATA);
	char *junk_id = must_run(cmd);
	junk_id[strcspn(junk_id, "\n")] = '\0';
	free(cmd);
	cmd = ts_fmt("%s add %s/a %s/h-reiki-junk-layer.pdf --collection junk --ocr sometimes",
		     BUNKO_EXE, dir, DATA);
	cr_expect_eq(ts_run(cmd, &out, 1), 2, "an unknown --ocr mode is a usage error: %s", out);
	free(out);
	free(cmd);

	cmd = ts_fmt("OMP_THREAD_LIMIT=1 %s worker %s/a -j 1 --drain", BUNKO_EXE, dir);
	free(must_run(cmd));
	free(cmd);

	char *path = ts_fmt("%s/a/store/white/%s/data/text.txt", dir, born_id);
	char *text = must_read(path);
	cr_expect_eq(bag_f(gt, text, 0x25CF), 1.0, "stored text bag-F %.4f",
		     bag_f(gt, text, 0x25CF));
	free(text);
	free(path);
	cmd = ts_fmt("%s search %s/a '\"ハルシネーション（幻覚）と呼ぶ\"' --json", BUNKO_EXE, dir);
	out = must_run(cmd);
	cr_expect(strstr(out, born_id) && strstr(out, "\"page\":1"), "%s", out);
	free(out);
	free(cmd);

	/* skip: the other tool's (junk) layer is what was stored */
	path = ts_fmt("%s/a/store/junk/%s/data/text.txt", dir, junk_id);
	text = must_read(path);
	cmd = ts_fmt("pdftotext -enc UTF-8 %s/h-reiki-junk-layer.pdf -", DATA);
	junk_text = must_run(cmd);
	free(cmd);
	cr_expect_geq(bag_f(junk_text, text, 0), 0.98, "stored text is not the PDF's layer");
	free(junk_text);
	free(text);
	free(path);
	free(born_id);
	free(junk_id);
	free(gt);
	ts_rmtree(dir);
	free(dir);
}
