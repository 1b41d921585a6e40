/*
 * tests/test_cli_realscan.c — `bunko ocr --lang auto` on real pages that
 * bunko did not make, scored against their human ground truth with
 * scripts/textmetrics (order-free character F-measure, "bag-F", NFKC,
 * whitespace removed): regression guards for the reading of real layouts.
 * The pages are copies in tests/data/ (see tests/data/README.md for their
 * sources and licences); scripts/bench measures all of ../shared/realscans.
 *
 * Thresholds, from measurement (scripts/bench --only realscans):
 *  - hakusho_r06_p05.png, a white paper page with a vertical side tab and
 *    a block of footnotes: bare `tesseract -l jpn --psm 3` 97.0, bunko
 *    before its reading followed Tesseract's layout on horizontal pages
 *    83.5 (the footnotes were taken for vertical text), now 97.0. The page
 *    must read at 95 or better, with a CER under 10%.
 *  - eurotext.tif, an English scan: read with the English model (every
 *    block of the hOCR in English, none vertical), bag-F 97 or better
 *    (bare `tesseract -l eng` 97.7).
 *  - ndl_meiji_vertical_04_right.jpg, the right-hand page of a 1930s
 *    microfilm spread with the film's edge beside it: bare `tesseract -l
 *    jpn_vert` 80.8 (PSM 3) and 83.5 (PSM 5); bunko 85.1 while it kept
 *    what jpn_vert made of the edge (a line of "ai ri hpnpuaa ... jij1lIl1[")
 *    and of the dashes of vertical print (||), 89.6 since it mends them
 *    (ocr/reader.h, bk_page_mend_strokes). It must read at 88 or better,
 *    with no Latin letter and no bar in its text and a dash (―) in it.
 *  - 8071_093.3B_byline.tif, the title block of a UNLV magazine page: its
 *    byline in small capitals, "BY RALPH KINNEY BENNETT", read by bare
 *    `tesseract -l eng` and by bunko in the page's reading as "By RAtpo
 *    KINNEY BENNETT"; bunko reads a doubtful English line again magnified
 *    (ocr/reader.c, reread_small_lines): the name must come out right.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define DATA_DIR BUNKO_SOURCE_DIR "/tests/data"

/* Runs `bunko ocr --lang auto` on tests/data/`name`: text and hOCR in dir. */
static void read_page(const char *dir, const char *name)
{
	char *cmd = NULL, *out = NULL;

	cr_assert(asprintf(&cmd, "%s ocr %s/%s -o %s/page.pdf --text %s/page.txt "
			   "--hocr %s/page.hocr --lang auto", BUNKO_EXE, DATA_DIR,
			   name, dir, dir, dir) > 0);
	int rc = ts_run(cmd, &out, 1);
	cr_assert_eq(rc, 0, "%s", out);
	free(out);
	free(cmd);
}

/* textmetrics `kind` (bagf or cer) of dir/page.txt against tests/data/gt. */
static double score(const char *dir, const char *kind, const char *gt)
{
	char *cmd = NULL, *out = NULL;

	cr_assert(asprintf(&cmd, "/usr/bin/python3 %s/scripts/textmetrics %s %s/%s "
			   "%s/page.txt%s", BUNKO_SOURCE_DIR, kind, DATA_DIR, gt, dir,
			   strcmp(kind, "bagf") == 0 ? " --drop=●" : "") > 0);
	int rc = ts_run(cmd, &out, 1);
	cr_assert_eq(rc, 0, "textmetrics failed: %s", out);
	double v = atof(out);
	free(out);
	free(cmd);
	return v;
}

Test(cli_realscan, white_paper_page_reads_as_well_as_bare_tesseract, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-realscan");

	read_page(dir, "hakusho_r06_p05.png");
	/* The publisher's text lacks some of the page's bullets (●): they are
	 * taken out of both texts before the bag-F. */
	double f = score(dir, "bagf", "hakusho_r06_p05.txt");
	double c = score(dir, "cer", "hakusho_r06_p05.txt");
	cr_expect_geq(f, 95.0, "bag-F %.2f (bare tesseract -l jpn --psm 3: 97.0)", f);
	cr_expect_lt(c, 10.0, "CER %.2f%% (bare tesseract -l jpn --psm 3: 4.9%%)", c);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_realscan, english_scan_is_read_in_english_never_vertical, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-realscan"), *path = NULL;

	read_page(dir, "eurotext.tif");
	double f = score(dir, "bagf", "eurotext.txt");
	cr_expect_geq(f, 97.0, "bag-F %.2f (bare tesseract -l eng --psm 3: 97.7)", f);
	cr_assert(asprintf(&path, "%s/page.hocr", dir) > 0);
	char *hocr = ts_read(path, NULL);
	cr_assert_not_null(hocr, "no hOCR written");
	size_t blocks = 0;
	for (char *s = strstr(hocr, "class=\"ocr_carea\""); s;
	     s = strstr(s + 1, "class=\"ocr_carea\"")) {
		char *end = strchr(s, '>');
		cr_assert_not_null(end);
		size_t len = (size_t)(end - s);
		cr_expect(memmem(s, len, "lang=\"en\"", 9), "a block not in English: %.*s",
			  (int)len, s);
		cr_expect(!memmem(s, len, "vertical", 8), "a vertical block: %.*s",
			  (int)len, s);
		blocks++;
	}
	cr_expect_gt(blocks, 0, "no text blocks in the hOCR");
	free(hocr);
	free(path);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_realscan, old_vertical_print_keeps_no_border_junk, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-realscan-ndl");

	read_page(dir, "ndl_meiji_vertical_04_right.jpg");
	double f = score(dir, "bagf", "ndl_meiji_vertical_04_right.txt");
	cr_expect_geq(f, 88.0, "bag-F %.2f (bare tesseract -l jpn_vert --psm 5: 83.5)", f);
	char *path = ts_fmt("%s/page.txt", dir);
	char *text = ts_read(path, NULL);
	cr_assert_not_null(text);
	const char *stray = NULL;
	for (const char *p = text; *p && !stray; p++)
		if (((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || *p == '|')
			stray = p;
	cr_expect_null(stray, "a Latin letter or a bar in the text: ...%.40s", stray);
	cr_expect(strstr(text, "\xE2\x80\x95") != NULL, "no dash (―) in the text:\n%s", text);
	free(text);
	free(path);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_realscan, small_capitals_of_an_english_byline_are_read_magnified, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-realscan"), *path = NULL;

	read_page(dir, "8071_093.3B_byline.tif");
	cr_assert(asprintf(&path, "%s/page.txt", dir) > 0);
	char *text = ts_read(path, NULL);
	cr_assert_not_null(text, "no text written");
	for (char *p = text; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	cr_expect(strstr(text, "ralph kinney bennett"), "the byline misread: %s", text);
	/* the lines read well in the page's reading stay as they were */
	cr_expect(strstr(text, "listen to the voices"), "%s", text);
	cr_expect(strstr(text, "of real experience"), "%s", text);
	free(text);
	free(path);
	ts_rmtree(dir);
	free(dir);
}
