/*
 * pipeline/cmd_ocr.c — `bunko ocr INPUT -o OUT.pdf [--lang L] [--profile P]
 * [--ocr auto|force|skip] [--bilevel] [--dpi N] [--old-print M]
 * [--text F] [--hocr F] [--alto F]`: one file to a searchable PDF, without
 * an archive or a queue, through the same page processing as the workers
 * (bk_process_source_page). Pages stream straight into the PDF writer and
 * the sidecars, one page in memory at a time. Every output appears whole or
 * not at all: the PDF through the writer's temporary, the sidecars through
 * bunko/atomic.h; on any error nothing is left behind.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bunko/atomic.h"
#include "archive/pdf.h"
#include "ocr/engine.h"
#include "ocr/resolution.h"
#include "ocr/sidecar.h"
#include "pipeline/cli.h"
#include "pipeline/process.h"

struct ocr_outputs {
	struct bk_pdf_writer *pdf;
	struct bk_atomic_file text, hocr, alto;
	struct bk_xml *hocr_xml, *alto_xml; /* the sidecars' writers */
	const char *hocr_path, *alto_path;
	int pages;
};

static int emit_page(void *ud, const struct bk_page *page,
		     const struct bk_encoded_image *img, struct bk_error *err)
{
	struct ocr_outputs *o = ud;

	if (bk_pdf_writer_add_page(o->pdf, img, page, err))
		return -1;
	if (o->text.fp) {
		char *t = bk_page_text(page);
		if (!t)
			return bk_error_set(err, "out of memory");
		if (o->pages > 0)
			fputc('\f', o->text.fp);
		fputs(t, o->text.fp);
		free(t);
	}
	if (o->hocr.fp && bk_hocr_page(o->hocr_xml, page))
		return bk_error_set(err, "cannot write '%s'", o->hocr_path);
	if (o->alto.fp && bk_alto_page(o->alto_xml, page))
		return bk_error_set(err, "cannot write '%s'", o->alto_path);
	o->pages++;
	return 0;
}

static int open_sidecars(struct ocr_outputs *o, const char *text_path,
			 const char *input, struct bk_error *err)
{
	if (text_path && bk_atomic_open(&o->text, text_path, err))
		return -1;
	if (o->hocr_path && bk_atomic_open(&o->hocr, o->hocr_path, err))
		return -1;
	if (o->hocr_path && bk_hocr_begin(&o->hocr_xml, o->hocr.fp, input))
		return bk_error_set(err, "cannot write '%s'", o->hocr_path);
	if (o->alto_path && bk_atomic_open(&o->alto, o->alto_path, err))
		return -1;
	if (o->alto_path && bk_alto_begin(&o->alto_xml, o->alto.fp, input))
		return bk_error_set(err, "cannot write '%s'", o->alto_path);
	return 0;
}

static int finish_sidecars(struct ocr_outputs *o, struct bk_error *err)
{
	if (o->hocr.fp && bk_hocr_end(&o->hocr_xml))
		return bk_error_set(err, "cannot write '%s'", o->hocr_path);
	if (o->alto.fp && bk_alto_end(&o->alto_xml))
		return bk_error_set(err, "cannot write '%s'", o->alto_path);
	if (o->text.fp && bk_atomic_commit(&o->text, err))
		return -1;
	if (o->hocr.fp && bk_atomic_commit(&o->hocr, err))
		return -1;
	if (o->alto.fp && bk_atomic_commit(&o->alto, err))
		return -1;
	return 0;
}

static int run_ocr(const char *input, const char *output, const char *text_path,
		   struct ocr_outputs *o, const struct bk_process_options *opt,
		   struct bk_error *err)
{
	struct bk_source *src = NULL;
	struct bk_engine *engine = NULL;
	struct bk_pdf_meta pm;
	int rc = -1;

	if (bk_source_open(&src, input, NULL, opt->max_pixels, err))
		goto out;
	setenv("OMP_THREAD_LIMIT", "1", 1);
	engine = bk_engine_new(NULL, err);
	if (!engine)
		goto out;
	bk_pdf_meta_init(&pm);
	pm.source = input;
	pm.creator = "bunko " BUNKO_VERSION;
	if (bk_pdf_writer_open(&o->pdf, output, &pm, err))
		goto out;
	if (open_sidecars(o, text_path, input, err))
		goto out;
	for (int i = 0; i < bk_source_page_count(src); i++) {
		int n;
		if (bk_process_source_page(engine, src, i, opt, o->pages + 1, emit_page,
					   o, &n, err))
			goto out;
	}
	if (bk_pdf_writer_close(&o->pdf, err) || finish_sidecars(o, err))
		goto out;
	rc = 0;
out:
	bk_pdf_writer_abort(&o->pdf);
	bk_xml_free(&o->hocr_xml);
	bk_xml_free(&o->alto_xml);
	bk_atomic_abort(&o->text);
	bk_atomic_abort(&o->hocr);
	bk_atomic_abort(&o->alto);
	bk_engine_free(&engine);
	bk_source_free(&src);
	return rc;
}

int cmd_ocr(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("ocr");
	struct bk_process_options opt = { .lang = NULL, .profile = BK_PROFILE_RECORD };
	struct ocr_outputs o;
	struct bk_error err;
	const char *input = NULL, *output = NULL, *text_path = NULL;

	static const struct option longopts[] = {
		{ "bilevel", no_argument, NULL, 0 },
		{ "output", required_argument, NULL, 0 },
		{ "lang", required_argument, NULL, 0 },
		{ "profile", required_argument, NULL, 0 },
		{ "ocr", required_argument, NULL, 0 },
		{ "text", required_argument, NULL, 0 },
		{ "hocr", required_argument, NULL, 0 },
		{ "alto", required_argument, NULL, 0 },
		{ "dpi", required_argument, NULL, 0 },
		{ "old-print", required_argument, NULL, 0 },
		{ 0 }
	};
	struct bk_args it;

	memset(&o, 0, sizeof(o));
	bk_error_init(&err);
	bk_args_init(&it, cmd, argc, argv, "o:", longopts);
	while (bk_args_next(&it)) {
		const char *a = it.opt, *v = it.value;
		if (!a) {
			if (input)
				return bk_usage_error(cmd, "unexpected argument '%s'", v);
			input = v;
			continue;
		}
		if (!strcmp(a, "--bilevel")) {
			opt.bilevel = true;
			continue;
		}
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			output = v;
		} else if (!strcmp(a, "--lang")) {
			opt.lang = v;
		} else if (!strcmp(a, "--profile")) {
			int p = bk_profile_parse(v);
			if (p < 0)
				return bk_usage_error(cmd, "unknown profile '%s' (record, bylaw, ukiyoe, map)", v);
			opt.profile = p;
		} else if (!strcmp(a, "--ocr")) {
			int m = bk_ocr_mode_parse(v);
			if (m < 0)
				return bk_usage_error(cmd, "unknown --ocr mode '%s' (auto, force, skip)", v);
			opt.ocr = m;
		} else if (!strcmp(a, "--dpi")) {
			if (bk_parse_int(v, BK_DPI_MIN, BK_DPI_MAX, &opt.dpi))
				return bk_usage_error(cmd, "--dpi needs a whole number of dots per inch from %d to %d, not '%s'",
						      BK_DPI_MIN, BK_DPI_MAX, v);
		} else if (!strcmp(a, "--old-print")) {
			if (bk_old_print_parse(v, &opt.old_print))
				return bk_usage_error(cmd, "unknown --old-print mode '%s' (auto, on, off)", v);
		} else if (!strcmp(a, "--text")) {
			text_path = v;
		} else if (!strcmp(a, "--hocr")) {
			o.hocr_path = v;
		} else if (!strcmp(a, "--alto")) {
			o.alto_path = v;
		}
	}
	if (it.done)
		return it.status;
	if (!input || !output)
		return bk_usage_error(cmd, "an input file and -o OUT.pdf are needed");
	if (run_ocr(input, output, text_path, &o, &opt, &err))
		return bk_die(err.msg);
	return BK_EXIT_OK;
}
