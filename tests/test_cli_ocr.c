/*
 * tests/test_cli_ocr.c — `bunko ocr` end to end: a horizontal scan becomes
 * a PDF whose text layer (read back by poppler's pdftotext) holds the
 * page's ground truth, with text/hOCR/ALTO sidecars (validated with
 * xmllint, see test_support.h); a bad input fails with
 * one line naming the file and leaves no output behind; a one-page bilevel
 * scan's PDF is at most 1.1 times the size of its G4 TIFF.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"

Test(cli_ocr, horizontal_scan_to_searchable_pdf, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-ocr"), *cmd = NULL, *out = NULL;

	cr_assert(asprintf(&cmd, "%s ocr %s/h-kokuji.png -o %s/k.pdf --text %s/k.txt "
			   "--hocr %s/k.hocr --alto %s/k.xml", BUNKO_EXE,
			   BUNKO_SAMPLES_DIR, dir, dir, dir, dir) > 0);
	int rc = ts_run(cmd, &out, 1);
	cr_assert_eq(rc, 0, "%s", out);
	free(out);
	free(cmd);

	TS_NEED_TOOL("pdftotext");
	cr_assert(asprintf(&cmd, "pdftotext -enc UTF-8 %s/k.pdf %s/pdf.txt && "
			   "/usr/bin/python3 %s/scripts/textmetrics phrases %s/h-kokuji.p1.gt.txt %s/pdf.txt 4",
			   dir, dir, BUNKO_SOURCE_DIR, BUNKO_SAMPLES_DIR, dir) > 0);
	rc = ts_run(cmd, &out, 1);
	cr_assert_eq(rc, 0, "%s", out);
	double share = atof(out) / 100.0; /* textmetrics prints a percentage */
	cr_expect_geq(share, 0.6, "only %.2f of the ground truth's phrases in the PDF text", share);
	free(out);
	free(cmd);

	char *path = NULL;
	cr_assert(asprintf(&path, "%s/k.txt", dir) > 0);
	char *text = ts_read(path, NULL);
	cr_assert_not_null(text);
	cr_expect_gt(strlen(text), 100);
	free(text);
	free(path);
	cr_assert(asprintf(&path, "%s/k.hocr", dir) > 0);
	text = ts_read(path, NULL);
	cr_expect(text && strstr(text, "ocr_page"), "hOCR without a page");
	free(text);
	free(path);
	cr_assert(asprintf(&path, "%s/k.xml", dir) > 0);
	text = ts_read(path, NULL);
	cr_expect(text && strstr(text, "<alto") && strstr(text, "<String"), "ALTO without text");
	free(text);
	free(path);
	TS_NEED_XML_VALIDATION();
	cr_assert(asprintf(&path, "%s/k.hocr", dir) > 0);
	rc = ts_validate_hocr(path, &out);
	cr_expect_eq(rc, 0, "the hOCR is not valid: %s", out);
	free(out);
	free(path);
	cr_assert(asprintf(&path, "%s/k.xml", dir) > 0);
	rc = ts_validate_alto(path, &out);
	cr_expect_eq(rc, 0, "the ALTO is not valid: %s", out);
	free(out);
	free(path);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_ocr, bad_input_fails_cleanly)
{
	char *dir = ts_mkdtemp("cli-ocr-bad"), *cmd = NULL, *out = NULL, *pdf = NULL;

	cr_assert(asprintf(&pdf, "%s/out.pdf", dir) > 0);
	cr_assert(asprintf(&cmd, "%s ocr %s/bad/truncated.tif -o %s --text %s/t.txt",
			   BUNKO_EXE, BUNKO_SAMPLES_DIR, pdf, dir) > 0);
	int rc = ts_run(cmd, &out, 1);
	cr_expect_eq(rc, 1, "%s", out);
	cr_expect(strstr(out, "truncated.tif' page 1: ") != NULL, "%s", out);
	cr_expect(strchr(out, '\n') == out + strlen(out) - 1, "more than one line: %s", out);
	cr_expect_neq(access(pdf, F_OK), 0, "a PDF was left behind");
	free(out);
	free(cmd);

	cr_assert(asprintf(&cmd, "%s ocr %s/eng.png", BUNKO_EXE, BUNKO_SAMPLES_DIR) > 0);
	rc = ts_run(cmd, &out, 1);
	cr_expect_eq(rc, 2, "%s", out);
	free(out);
	free(cmd);
	cr_assert(asprintf(&cmd, "ls -A %s | wc -l", dir) > 0);
	ts_run(cmd, &out, 0);
	cr_expect_eq(atoi(out), 0, "files left in the output directory: %s", out);
	free(out);
	free(cmd);
	free(pdf);
	ts_rmtree(dir);
	free(dir);
}

static long long file_size(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "cannot stat '%s'", path);
	return (long long)st.st_size;
}

/*
 * The size target for 300-dpi bilevel pages: the PDF, with everything
 * PDF/A-2b needs (XMP, output intent, embedded font) and the text layer,
 * is at most 1.1 times the G4 TIFF it was made from. A one-page document
 * is the hard case: the per-document overhead is paid by a single page.
 * The file must also be whole (qpdf --check) and keep its text layer.
 */
Test(cli_ocr, single_bilevel_page_within_size_target, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-ocr-size"), *cmd = NULL, *out = NULL, *pdf = NULL;
	char *tif = ts_sample("v-gian.tif");

	cr_assert(asprintf(&pdf, "%s/v.pdf", dir) > 0);
	cr_assert(asprintf(&cmd, "%s ocr '%s' -o '%s'", BUNKO_EXE, tif, pdf) > 0);
	int rc = ts_run(cmd, &out, 1);
	cr_assert_eq(rc, 0, "%s", out);
	free(out);
	free(cmd);

	long long pdf_size = file_size(pdf), tif_size = file_size(tif);
	cr_expect_leq(pdf_size * 10, tif_size * 11,
		      "the PDF is %lld bytes, %.3f times the %lld-byte TIFF (at most 1.1)",
		      pdf_size, (double)pdf_size / (double)tif_size, tif_size);

	TS_NEED_TOOL("qpdf");
	TS_NEED_TOOL("pdftotext");
	cr_assert(asprintf(&cmd, "qpdf --check '%s'", pdf) > 0);
	rc = ts_run(cmd, &out, 1);
	cr_expect_eq(rc, 0, "qpdf --check failed:\n%s", out);
	free(out);
	free(cmd);
	cr_assert(asprintf(&cmd, "pdftotext -enc UTF-8 '%s' -", pdf) > 0);
	rc = ts_run(cmd, &out, 0);
	cr_expect_eq(rc, 0);
	cr_expect_gt(strlen(ts_strip_space(out)), 200, "the text layer is (nearly) empty: %s", out);
	free(out);
	free(cmd);
	free(tif);
	free(pdf);
	ts_rmtree(dir);
	free(dir);
}
