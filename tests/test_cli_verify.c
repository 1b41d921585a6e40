/*
 * tests/test_cli_verify.c — the real `bunko init` and `bunko verify`
 * executables on an archive whose documents were stored through the
 * library (archive/store.h): a clean archive verifies with exit 0; a
 * flipped byte, a deleted file and an added file are each reported and
 * make the exit status 1, in text and in JSON (read back with Python's json
 * module); bad usage exits 2 and a directory that is not an archive is
 * refused with a hint.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/store.h"
#include "test_support.h"

static char *scratch, *archive;



static void setup(void)
{
	scratch = ts_mkdtemp("cli-verify");
	cr_assert_not_null(scratch);
	archive = ts_fmt("%s/ward archive", scratch); /* a space, on purpose */
}

static void teardown(void)
{
	ts_rmtree(scratch);
	free(archive);
	free(scratch);
}

TestSuite(cli_verify, .init = setup, .fini = teardown, .timeout = 120);

static void store_doc(struct bk_store *store, const char *coll, const char *id,
		      const char *pdf)
{
	struct bk_doc_meta meta;
	struct bk_doc_stage *st = NULL;
	struct bk_error err;
	char *master = ts_fmt("%s/%s.tif", scratch, id);
	char scan[4096];

	bk_error_init(&err);
	for (size_t i = 0; i < sizeof(scan); i++)
		scan[i] = (char)(i * 7 + strlen(id));
	cr_assert_eq(ts_write(master, scan, sizeof(scan)), 0);
	bk_doc_meta_init(&meta);
	meta.collection = strdup(coll);
	meta.id = strdup(id);
	meta.title = strdup("議案第十二号");
	meta.npages = 1;
	cr_assert_eq(bk_store_stage(store, &meta, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_doc_stage_add_master(st, master, &err), 0, "%s", err.msg);
	const char *names[] = { "data/document.pdf", "data/text.txt", "data/pages/0001.page" };
	const char *bodies[] = { pdf, "議案第十二号\n", "bunko-page 1\n" };
	for (int i = 0; i < 3; i++) {
		char *path = bk_doc_stage_path(st, names[i]);
		cr_assert_not_null(path);
		cr_assert_eq(ts_write(path, bodies[i], strlen(bodies[i])), 0);
		free(path);
	}
	cr_assert_eq(bk_store_commit(&st, &err), 0, "%s", err.msg);
	bk_doc_meta_release(&meta);
	free(master);
}

/* bunko init, then two documents stored through the library. */
static void make_archive(void)
{
	struct bk_store *store = NULL;
	struct bk_error err;
	char *out = NULL;

	bk_error_init(&err);
	cr_assert_eq(ts_bunko(&out, "init '%s'", archive), 0, "%s", out);
	char *want = ts_fmt("initialized archive '%s'\n", archive);
	cr_assert_str_eq(out, want);
	free(out);
	free(want);
	cr_assert_eq(bk_store_open(&store, archive, &err), 0, "%s", err.msg);
	store_doc(store, "議案", "job-1-0001", "%PDF-1.7 one");
	store_doc(store, "議案", "job-1-0002", "%PDF-1.7 two");
	bk_store_free(&store);
}

Test(cli_verify, clean_archive_exits_zero)
{
	char *out = NULL;

	make_archive();
	cr_assert_eq(ts_bunko(&out, "verify '%s'", archive), 0, "%s", out);
	cr_assert_str_eq(out, "verified 2 documents, 14 files: 0 problems\n");
	free(out);
	/* init again: idempotent, the documents stay */
	cr_assert_eq(ts_bunko(&out, "init '%s'", archive), 0, "%s", out);
	free(out);
	cr_assert_eq(ts_bunko(&out, "verify '%s' --collection 議案", archive), 0, "%s", out);
	cr_assert_not_null(strstr(out, "verified 2 documents"), "%s", out);
	free(out);
}

Test(cli_verify, damage_is_reported_with_exit_one)
{
	char *out = NULL;

	make_archive();
	char *doc = ts_fmt("%s/store/議案/job-1-0001", archive);
	char *pdf = ts_fmt("%s/data/document.pdf", doc);
	int fd = open(pdf, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "X", 1, 3), 1); /* "%PDF" -> "%PDX" */
	close(fd);
	char *page = ts_fmt("%s/data/pages/0001.page", doc);
	cr_assert_eq(unlink(page), 0);
	char *extra = ts_fmt("%s/data/extra file.txt", doc);
	cr_assert_eq(ts_write(extra, "added", 5), 0);

	cr_assert_eq(ts_bunko(&out, "verify '%s'", archive), 1, "%s", out);
	cr_assert_not_null(strstr(out, "changed  store/議案/job-1-0001/data/document.pdf\n"), "%s", out);
	cr_assert_not_null(strstr(out, "missing  store/議案/job-1-0001/data/pages/0001.page\n"), "%s", out);
	cr_assert_not_null(strstr(out, "unexpected  store/議案/job-1-0001/data/extra file.txt\n"), "%s", out);
	cr_assert_not_null(strstr(out, "verified 2 documents, 14 files: 3 problems\n"), "%s", out);
	cr_assert_null(strstr(out, "job-1-0002"), "the intact document is not reported: %s", out);
	free(out);

	/* the same findings as JSON, read back by an independent parser */
	char *cmd = ts_fmt("'%s' verify --json '%s' | /usr/bin/python3 -c '"
			"import json,sys; d=json.load(sys.stdin); "
			"print(d[\"documents\"], d[\"files\"], d[\"problems\"]); "
			"[print(f[\"kind\"], f[\"path\"]) for f in sorted(d[\"findings\"], key=lambda f: f[\"kind\"])]'",
			BUNKO_EXE, archive);
	cr_assert_eq(ts_run(cmd, &out, 1), 0, "%s", out);
	cr_assert_str_eq(out, "2 14 3\n"
			      "changed store/議案/job-1-0001/data/document.pdf\n"
			      "missing store/議案/job-1-0001/data/pages/0001.page\n"
			      "unexpected store/議案/job-1-0001/data/extra file.txt\n");
	free(out);
	free(cmd);
	cr_assert_eq(ts_bunko(&out, "verify --json '%s' >/dev/null", archive), 1, "%s", out);
	free(out);

	/* repaired: clean again */
	fd = open(pdf, O_RDWR);
	cr_assert_eq(pwrite(fd, "F", 1, 3), 1);
	close(fd);
	cr_assert_eq(ts_write(page, "bunko-page 1\n", 13), 0);
	cr_assert_eq(unlink(extra), 0);
	cr_assert_eq(ts_bunko(&out, "verify '%s'", archive), 0, "%s", out);
	free(out);
	free(extra);
	free(page);
	free(pdf);
	free(doc);
}

Test(cli_verify, usage_and_refusals)
{
	char *out = NULL;

	cr_assert_eq(ts_bunko(&out, "verify"), 2, "%s", out);
	cr_assert_not_null(strstr(out, "usage: bunko verify"), "%s", out);
	free(out);
	cr_assert_eq(ts_bunko(&out, "verify --bogus '%s'", scratch), 2, "%s", out);
	cr_assert_not_null(strstr(out, "unknown option '--bogus'"), "%s", out);
	free(out);
	cr_assert_eq(ts_bunko(&out, "verify '%s' --collection", scratch), 2, "%s", out);
	free(out);
	cr_assert_eq(ts_bunko(&out, "init"), 2, "%s", out);
	free(out);
	cr_assert_eq(ts_bunko(&out, "init a b"), 2, "%s", out);
	free(out);

	/* not an archive: refused, with the command that makes one */
	cr_assert_eq(ts_bunko(&out, "verify '%s'", scratch), 1, "%s", out);
	char *want = ts_fmt("bunko: '%s' is not a bunko archive (run 'bunko init %s')\n",
			 scratch, scratch);
	cr_assert_str_eq(out, want);
	free(want);
	free(out);
	char *photo = ts_fmt("%s/IMG_0001.jpg", scratch);
	cr_assert_eq(ts_write(photo, "jpeg", 4), 0);
	cr_assert_eq(ts_bunko(&out, "init '%s'", scratch), 1, "%s", out);
	cr_assert_not_null(strstr(out, "not empty"), "%s", out);
	free(out);
	free(photo);

	make_archive();
	cr_assert_eq(ts_bunko(&out, "verify '%s' --collection 告示", archive), 1, "%s", out);
	cr_assert_not_null(strstr(out, "no collection '告示'"), "%s", out);
	free(out);
}
