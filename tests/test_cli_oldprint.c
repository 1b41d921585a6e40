/*
 * tests/test_cli_oldprint.c — `--old-print` on `bunko ocr` and `bunko add`:
 * a rendered old-print page read with `--old-print on` has the old forms
 * jpn lacks in its text sidecar; queued with `bunko add --old-print on`,
 * the job records the mode and the worker reads the old forms, which a
 * search in modern forms finds; a mode that does not exist is a usage
 * error naming it, and nothing is written or queued.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"

Test(cli_oldprint, ocr_reads_old_forms, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-oldprint"), *out = NULL;
	char *cmd = ts_fmt("%s ocr %s/tests/data/oldprint-small.jpg -o %s/o.pdf "
			   "--old-print on --text %s/o.txt", BUNKO_EXE, BUNKO_SOURCE_DIR,
			   dir, dir);
	int rc = ts_run(cmd, &out, 1);
	cr_assert_eq(rc, 0, "%s", out);
	free(out);
	free(cmd);
	char *path = ts_fmt("%s/o.txt", dir);
	char *text = ts_read(path, NULL);
	cr_assert_not_null(text);
	/* 對 數 濟 are not in the jpn model's character set */
	cr_expect(strstr(text, "對") && strstr(text, "數") && strstr(text, "濟"),
		  "old forms missing from:\n%s", text);
	free(text);
	free(path);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_oldprint, queued_job_reads_old_forms, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-oldprint"), *out = NULL;
	char *cmd = ts_fmt("%s init %s/a && %s add %s/a %s/tests/data/oldprint-small.jpg "
			   "--collection c --old-print on && %s worker %s/a --drain",
			   BUNKO_EXE, dir, BUNKO_EXE, dir, BUNKO_SOURCE_DIR, BUNKO_EXE, dir);
	int rc = ts_run(cmd, &out, 1);
	cr_assert_eq(rc, 0, "%s", out);
	free(out);
	free(cmd);
	/* 對應 is printed; 対応 (modern) is what people type */
	cmd = ts_fmt("%s search %s/a 対応", BUNKO_EXE, dir);
	rc = ts_run(cmd, &out, 1);
	cr_assert_eq(rc, 0, "%s", out);
	cr_expect(strstr(out, "對應"), "no hit showing 對應:\n%s", out);
	free(out);
	free(cmd);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_oldprint, unknown_mode_is_a_usage_error)
{
	char *dir = ts_mkdtemp("cli-oldprint"), *out = NULL;
	char *cmd = ts_fmt("%s ocr %s/tests/data/oldprint-small.jpg -o %s/o.pdf "
			   "--old-print sometimes", BUNKO_EXE, BUNKO_SOURCE_DIR, dir);
	int rc = ts_run(cmd, &out, 1);
	cr_expect_neq(rc, 0);
	cr_expect(strstr(out, "unknown --old-print mode 'sometimes'"), "%s", out);
	free(out);
	free(cmd);
	char *pdf = ts_fmt("%s/o.pdf", dir);
	cr_expect_neq(access(pdf, F_OK), 0, "a PDF was written");
	free(pdf);

	cmd = ts_fmt("%s init %s/a && %s add %s/a %s/tests/data/oldprint-small.jpg "
		     "--collection c --old-print never", BUNKO_EXE, dir, BUNKO_EXE, dir,
		     BUNKO_SOURCE_DIR);
	rc = ts_run(cmd, &out, 1);
	cr_expect_neq(rc, 0);
	cr_expect(strstr(out, "unknown --old-print mode 'never'"), "%s", out);
	free(out);
	free(cmd);
	ts_rmtree(dir);
	free(dir);
}
