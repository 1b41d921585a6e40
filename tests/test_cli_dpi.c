/*
 * tests/test_cli_dpi.c — the resolution of scans whose files do not say it
 * or say it falsely, through the real `bunko ocr`, `bunko add` and
 * `bunko worker`, poppler's pdfinfo and real scans (tests/data):
 * - copies of a real scan without a resolution tag, with a false 72-dpi
 *   tag, with a JFIF density of 1x1 and with a 1-dpi TIFF tag (written by
 *   PIL, as the software that makes such files does) are read at a
 *   resolution within 25% of the truth, the PDF page has the size of the
 *   paper within 25%, and the text is read as well as from the correctly
 *   tagged scan (bag-of-characters F within 0.01);
 * - --dpi N overrides the tag on `ocr`, and on `add` through job.meta to
 *   the worker and the stored PDF; a job record whose dpi is out of range
 *   fails its job with a reason that says so;
 * - PDF pages keep the size their PDF gives, with or without --dpi;
 * - a --dpi that is not a whole number from 50 to 2400 is refused with
 *   one line that names it (exit 2), and `add` queues nothing.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utf8proc.h>

#include "test_support.h"

#define DATA BUNKO_SOURCE_DIR "/tests/data"

/* A real scan with its ground truth and true resolution. */
struct scan {
	const char *file, *gt, *lang;
	int dpi;
};

static const struct scan photo = { "phototest.tif", "phototest.txt", "eng", 200 };
static const struct scan hakusho = { "hakusho_r06_p01_body.png", "hakusho_r06_p01_body.txt",
				     "jpn", 300 };

/* Variants written by PIL from the scan: what each stands for. */
static const char *const variants[] = {
	"untagged.png", /* PNG without pHYs */
	"false72.png",  /* PNG saying 72 dpi */
	"jfif1x1.jpg",  /* JPEG with JFIF density 1x1, no unit (PIL's default) */
	"tiff1dpi.tif", /* TIFF saying 1 dpi */
};

static void write_variants(const char *src, const char *dir)
{
	char *cmd = ts_fmt("/usr/bin/python3 -c '"
			   "import sys; from PIL import Image\n"
			   "im = Image.open(sys.argv[1]); im.load(); d = sys.argv[2]\n"
			   "im.save(d + \"/untagged.png\")\n"
			   "im.save(d + \"/false72.png\", dpi=(72, 72))\n"
			   "im.convert(\"L\").save(d + \"/jfif1x1.jpg\", quality=92)\n"
			   "im.save(d + \"/tiff1dpi.tif\", dpi=(1, 1))\n"
			   "' %s %s",
			   src, dir);
	char *out = NULL;
	int rc = ts_run(cmd, &out, 1);
	cr_assert_eq(rc, 0, "cannot write the variants: %s", out);
	free(out);
	free(cmd);
}

/* The resolution the hOCR says the page was read at (scan_res), or 0. */
static int hocr_res(const char *path)
{
	char *t = ts_read(path, NULL), *p;
	int x = 0, y = 0;

	cr_assert_not_null(t, "no hOCR '%s'", path);
	p = strstr(t, "scan_res ");
	if (p)
		sscanf(p, "scan_res %d %d", &x, &y);
	cr_expect_eq(x, y, "scan_res %d %d", x, y);
	free(t);
	return x;
}

/* pdfinfo's page size of page 1, in points. */
static void pdf_page_size(const char *pdf, double *w, double *h)
{
	char *cmd = ts_fmt("pdfinfo %s", pdf), *out = ts_run_ok(cmd), *p = strstr(out, "Page size:");

	cr_assert_not_null(p, "%s", out);
	cr_assert_eq(sscanf(p, "Page size: %lf x %lf", w, h), 2, "%s", out);
	free(out);
	free(cmd);
}

/* Code points of an NFKC-normalized UTF-8 text without whitespace,
 * sorted: the "bag of characters". */
static int cmp_cp(const void *a, const void *b)
{
	utf8proc_int32_t x = *(const utf8proc_int32_t *)a, y = *(const utf8proc_int32_t *)b;
	return (x > y) - (x < y);
}

static utf8proc_int32_t *bag(const char *text, size_t *n)
{
	utf8proc_uint8_t *norm = utf8proc_NFKC((const utf8proc_uint8_t *)text);
	utf8proc_int32_t *cps, c;
	const utf8proc_uint8_t *p;
	size_t k = 0;

	cr_assert_not_null(norm);
	cps = malloc((strlen((char *)norm) + 1) * sizeof(*cps));
	cr_assert_not_null(cps);
	for (p = norm; *p;) {
		utf8proc_ssize_t len = utf8proc_iterate(p, -1, &c);
		cr_assert_gt(len, 0);
		p += len;
		utf8proc_category_t cat = utf8proc_category(c);
		if (cat != UTF8PROC_CATEGORY_ZS && cat != UTF8PROC_CATEGORY_CC &&
		    cat != UTF8PROC_CATEGORY_ZL && cat != UTF8PROC_CATEGORY_ZP)
			cps[k++] = c;
	}
	free(norm);
	qsort(cps, k, sizeof(*cps), cmp_cp);
	*n = k;
	return cps;
}

/* Order-free character F-measure of the text in hyp_path against gt_path. */
static double bag_f(const char *gt_path, const char *hyp_path)
{
	char *gt = ts_read(gt_path, NULL), *hyp = ts_read(hyp_path, NULL);
	size_t ng, nh, i = 0, j = 0, common = 0;

	cr_assert(gt && hyp, "cannot read '%s' or '%s'", gt_path, hyp_path);
	utf8proc_int32_t *g = bag(gt, &ng), *h = bag(hyp, &nh);
	while (i < ng && j < nh) {
		if (g[i] == h[j])
			common++, i++, j++;
		else if (g[i] < h[j])
			i++;
		else
			j++;
	}
	free(g);
	free(h);
	free(gt);
	free(hyp);
	return ng && nh && common ? 2.0 * common / (double)(ng + nh) : 0.0;
}

/* bunko ocr on `input`: the resolution read (hOCR), the page size (points)
 * and the bag-F against the scan's ground truth. */
static void ocr(const char *input, const char *dir, const struct scan *s, const char *extra,
		int *res, double *w, double *h, double *f)
{
	char *pdf = ts_fmt("%s/out.pdf", dir), *txt = ts_fmt("%s/out.txt", dir);
	char *hocr = ts_fmt("%s/out.hocr", dir), *gt = ts_fmt("%s/%s", DATA, s->gt);
	char *cmd = ts_fmt("%s ocr %s -o %s --text %s --hocr %s --lang %s %s", BUNKO_EXE, input,
			   pdf, txt, hocr, s->lang, extra);

	free(ts_run_ok(cmd));
	*res = hocr_res(hocr);
	pdf_page_size(pdf, w, h);
	*f = bag_f(gt, txt);
	free(cmd);
	free(gt);
	free(hocr);
	free(txt);
	free(pdf);
}

static void check_scan(const struct scan *s)
{
	char *dir = ts_mkdtemp("cli-dpi"), *src = ts_fmt("%s/%s", DATA, s->file);
	int res, iw, ih;
	double w, h, f_tagged, f;
	char *cmd = ts_fmt("/usr/bin/python3 -c 'import sys; from PIL import Image; "
			   "print(*Image.open(sys.argv[1]).size)' %s", src);
	char *out = ts_run_ok(cmd);

	TS_NEED_TOOL("pdfinfo");
	cr_assert_eq(sscanf(out, "%d %d", &iw, &ih), 2, "%s", out);
	free(out);
	free(cmd);
	/* the correctly tagged scan: the tag is kept exactly */
	ocr(src, dir, s, "", &res, &w, &h, &f_tagged);
	cr_expect_eq(res, s->dpi, "%s: tagged %d dpi, read at %d", s->file, s->dpi, res);
	cr_expect_gt(f_tagged, 0.85, "%s: bag-F %.3f with the right tag", s->file, f_tagged);
	write_variants(src, dir);
	for (size_t i = 0; i < sizeof(variants) / sizeof(*variants); i++) {
		char *v = ts_fmt("%s/%s", dir, variants[i]);
		double paper_w = iw * 72.0 / s->dpi, paper_h = ih * 72.0 / s->dpi;
		ocr(v, dir, s, "", &res, &w, &h, &f);
		cr_expect(res >= s->dpi * 0.75 && res <= s->dpi * 1.25,
			  "%s as %s: read at %d dpi, the truth is %d", s->file, variants[i], res, s->dpi);
		cr_expect(w >= paper_w * 0.75 && w <= paper_w * 1.25 && h >= paper_h * 0.75 &&
				  h <= paper_h * 1.25,
			  "%s as %s: PDF page %.0f x %.0f pt, the paper is %.0f x %.0f pt", s->file,
			  variants[i], w, h, paper_w, paper_h);
		cr_expect_geq(f, f_tagged - 0.01, "%s as %s: bag-F %.3f, %.3f with the right tag",
			      s->file, variants[i], f, f_tagged);
		free(v);
	}
	free(src);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_dpi, english_scan_without_or_with_false_tags_reads_right, .timeout = 600)
{
	check_scan(&photo);
}

Test(cli_dpi, japanese_scan_without_or_with_false_tags_reads_right, .timeout = 600)
{
	check_scan(&hakusho);
}

Test(cli_dpi, dpi_option_overrides_the_file_on_ocr, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-dpi-opt"), *src = ts_fmt("%s/%s", DATA, photo.file);
	int res;
	double w, h, f;

	TS_NEED_TOOL("pdfinfo");
	/* a true tag (200) overridden */
	ocr(src, dir, &photo, "--dpi 400", &res, &w, &h, &f);
	cr_expect_eq(res, 400);
	cr_expect(w > 115.1 && w < 115.3 && h > 86.3 && h < 86.5, "page %.2f x %.2f pt", w, h);
	/* an untagged copy: no estimate when --dpi is given */
	write_variants(src, dir);
	char *v = ts_fmt("%s/untagged.png", dir);
	ocr(v, dir, &photo, "--dpi 150", &res, &w, &h, &f);
	cr_expect_eq(res, 150);
	cr_expect(w > 307.1 && w < 307.3 && h > 230.3 && h < 230.5, "page %.2f x %.2f pt", w, h);
	free(v);
	free(src);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_dpi, pdf_pages_keep_the_size_their_pdf_gives, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-dpi-pdf"), *out_pdf = ts_fmt("%s/out.pdf", dir);
	double in_w, in_h, w, h;

	TS_NEED_TOOL("pdfinfo");
	pdf_page_size(DATA "/h-reiki-junk-layer.pdf", &in_w, &in_h);
	const char *extra[] = { "", "--dpi 100" };
	for (int i = 0; i < 2; i++) {
		char *cmd = ts_fmt("%s ocr %s/h-reiki-junk-layer.pdf -o %s --ocr force %s", BUNKO_EXE,
				   DATA, out_pdf, extra[i]);
		free(ts_run_ok(cmd));
		pdf_page_size(out_pdf, &w, &h);
		cr_expect(w > in_w - 0.5 && w < in_w + 0.5 && h > in_h - 0.5 && h < in_h + 0.5,
			  "%s: page %.2f x %.2f pt, the input's is %.2f x %.2f", cmd, w, h, in_w, in_h);
		free(cmd);
	}
	free(out_pdf);
	ts_rmtree(dir);
	free(dir);
}

/* The stored PDF of job `id` in collection `c`. */
static void stored_page_size(const char *archive, const char *c, const char *id, double *w,
			     double *h)
{
	char *pdf = ts_fmt("%s/store/%s/%s/data/document.pdf", archive, c, id);
	pdf_page_size(pdf, w, h);
	free(pdf);
}

static char *add_job(const char *archive, const char *file, const char *extra)
{
	char *cmd = ts_fmt("%s add %s %s --collection c --lang eng %s", BUNKO_EXE, archive, file,
			   extra);
	char *id = ts_run_ok(cmd);
	char *nl = strchr(id, '\n');
	cr_assert_not_null(nl, "%s", id);
	*nl = '\0';
	free(cmd);
	return id;
}

Test(cli_dpi, dpi_option_goes_through_add_to_the_worker, .timeout = 600)
{
	char *dir = ts_mkdtemp("cli-dpi-add"), *archive = ts_fmt("%s/a", dir);
	char *src = ts_fmt("%s/%s", DATA, photo.file), *cmd, *out;
	double w, h;

	TS_NEED_TOOL("pdfinfo");
	write_variants(src, dir);
	cmd = ts_fmt("%s init %s", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);
	char *v = ts_fmt("%s/false72.png", dir);
	char *forced = add_job(archive, v, "--dpi 150");
	char *measured = add_job(archive, v, "");
	/* the option is in the job's record */
	cmd = ts_fmt("/usr/bin/python3 -c 'import json,sys; "
		     "print(json.load(open(sys.argv[1])).get(\"dpi\"), json.load(open(sys.argv[2])).get(\"dpi\"))' "
		     "%s/queue/incoming/%s/job.meta %s/queue/incoming/%s/job.meta",
		     archive, forced, archive, measured);
	out = ts_run_ok(cmd);
	cr_expect_str_eq(out, "150 None\n");
	free(out);
	free(cmd);
	cmd = ts_fmt("OMP_THREAD_LIMIT=1 %s worker %s -j 1 --drain", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);
	stored_page_size(archive, "c", forced, &w, &h);
	cr_expect(w > 307.1 && w < 307.3 && h > 230.3 && h < 230.5, "--dpi 150: page %.2f x %.2f pt",
		  w, h);
	/* without --dpi the false 72-dpi tag is not believed: the paper's
	 * size (230.4 x 172.8 pt at the true 200 dpi) within 25% */
	stored_page_size(archive, "c", measured, &w, &h);
	cr_expect(w > 230.4 * 0.75 && w < 230.4 * 1.25 && h > 172.8 * 0.75 && h < 172.8 * 1.25,
		  "no --dpi, false 72 dpi tag: page %.2f x %.2f pt", w, h);
	free(measured);
	free(forced);
	free(v);
	free(src);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_dpi, a_job_record_with_a_bad_dpi_fails_the_job, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-dpi-meta"), *archive = ts_fmt("%s/a", dir);
	char *src = ts_fmt("%s/%s", DATA, photo.file);
	char *cmd = ts_fmt("%s init %s", BUNKO_EXE, archive), *out;

	free(ts_run_ok(cmd));
	free(cmd);
	char *id = add_job(archive, src, "--dpi 150");
	cmd = ts_fmt("/usr/bin/python3 -c 'import json,sys; p=sys.argv[1]; m=json.load(open(p)); "
		     "m[\"dpi\"]=5; open(p,\"w\").write(json.dumps(m))' %s/queue/incoming/%s/job.meta",
		     archive, id);
	free(ts_run_ok(cmd));
	free(cmd);
	cmd = ts_fmt("OMP_THREAD_LIMIT=1 %s worker %s -j 1 --drain; %s status %s --json", BUNKO_EXE,
		     archive, BUNKO_EXE, archive);
	out = ts_run_ok(cmd);
	cr_expect(strstr(out, "\"failed\": 1") != NULL, "%s", out);
	cr_expect(strstr(out, "dpi 5 outside 50..2400") != NULL, "%s", out);
	free(out);
	free(cmd);
	free(id);
	free(src);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_dpi, bad_dpi_values_are_refused_in_one_line, .timeout = 120)
{
	const char *bad[] = { "0", "-1", "abc", "100000", "", "300x", "49", "2401", "1e3" };
	char *dir = ts_mkdtemp("cli-dpi-bad"), *archive = ts_fmt("%s/a", dir);
	char *src = ts_fmt("%s/%s", DATA, photo.file), *pdf = ts_fmt("%s/out.pdf", dir);
	char *cmd = ts_fmt("%s init %s", BUNKO_EXE, archive);

	free(ts_run_ok(cmd));
	free(cmd);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		for (int add = 0; add < 2; add++) {
			const char *ocr_argv[] = { BUNKO_EXE, "ocr", src, "-o", pdf, "--dpi", bad[i], NULL };
			const char *add_argv[] = { BUNKO_EXE, "add", archive, src, "--collection", "c",
						   "--dpi", bad[i], NULL };
			char *err = NULL, *want = ts_fmt("bunko %s: --dpi needs a whole number of dots "
							 "per inch from 50 to 2400, not '%s'\n",
							 add ? "add" : "ocr", bad[i]);
			int rc = ts_run_argv(add ? add_argv : ocr_argv, NULL, &err);
			cr_expect_eq(rc, 2, "--dpi '%s': exit %d\n%s", bad[i], rc, err);
			cr_expect(err && !strncmp(err, want, strlen(want)),
				  "--dpi '%s': the first line is not the error:\n%s", bad[i], err);
			free(want);
			free(err);
		}
	}
	cr_expect_neq(access(pdf, F_OK), 0, "a PDF was written");
	cmd = ts_fmt("find %s/queue -name job.meta | wc -l", archive);
	char *out = ts_run_ok(cmd);
	cr_expect_str_eq(out, "0\n", "jobs were queued");
	free(out);
	free(cmd);
	free(pdf);
	free(src);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}
