/*
 * pipeline/cmd_add.c — `bunko add ARCHIVE FILE... --collection NAME ...`:
 * checks the files and the metadata, then queues the files as one job (one
 * document) and prints the job id. The files' contents are not judged
 * here: a corrupt scan is queued and fails in the worker with its file and
 * page named, like any other bad page.
 */
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/meta.h"
#include "ocr/resolution.h"
#include "pipeline/cli.h"
#include "pipeline/manifest.h"
#include "pipeline/process.h"
#include "pipeline/queue.h"

static int check_input(const char *path, struct bk_error *err)
{
	struct stat st;
	if (stat(path, &st))
		return bk_error_set(err, "cannot open '%s': %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return bk_error_set(err, "'%s' is not a regular file", path);
	if (access(path, R_OK))
		return bk_error_set(err, "cannot read '%s': %s", path, strerror(errno));
	return 0;
}

static void print_queued(void *ud, const char *job_id, int line)
{
	(void)ud;
	(void)line;
	printf("%s\n", job_id);
}

/* `bunko add ARCHIVE --manifest FILE` (pipeline/manifest.h): every problem
 * of the manifest is one line, and then nothing is queued. */
static int add_manifest(const char *archive, const char *path)
{
	struct bk_manifest m;
	struct bk_queue q;
	struct bk_error err;
	size_t skipped = 0;
	int rc = BK_EXIT_FAIL;

	bk_error_init(&err);
	if (bk_manifest_read(&m, path, &err))
		return bk_die(err.msg);
	for (size_t i = 0; i < m.nproblems; i++)
		bk_note("%s", m.problems[i]);
	if (m.nproblems) {
		bk_note("'%s': %zu problems; nothing queued", path, m.nproblems);
	} else if (bk_queue_open(&q, archive, &err)) {
		bk_die(err.msg);
	} else {
		if (bk_manifest_queue(&q, &m, print_queued, NULL, &skipped, &err) == 0) {
			bk_note("'%s': %zu volumes queued, %zu already in the queue", path,
				m.nrows - skipped, skipped);
			rc = BK_EXIT_OK;
		} else {
			bk_die(err.msg);
		}
		bk_queue_release(&q);
	}
	bk_manifest_release(&m);
	return rc;
}

static const struct option add_options[] = {
	{ "bilevel", no_argument, NULL, 0 },
	{ "collection", required_argument, NULL, 0 },
	{ "profile", required_argument, NULL, 0 },
	{ "access", required_argument, NULL, 0 },
	{ "title", required_argument, NULL, 0 },
	{ "date", required_argument, NULL, 0 },
	{ "box", required_argument, NULL, 0 },
	{ "volume", required_argument, NULL, 0 },
	{ "lang", required_argument, NULL, 0 },
	{ "ocr", required_argument, NULL, 0 },
	{ "dpi", required_argument, NULL, 0 },
	{ "old-print", required_argument, NULL, 0 },
	{ "manifest", required_argument, NULL, 0 },
	{ 0 }
};

/* The first reading of the command line tells the two forms apart: with
 * --manifest, any file or other option is refused as a whole, before a
 * value of it is judged. Returns -1 for the FILE... form (read again by
 * cmd_add), or the exit status of a command line answered here: a usage
 * error, --help, or the manifest's queuing. */
static int add_form(const struct bk_command *cmd, int argc, char **argv)
{
	const char *archive = NULL, *manifest = NULL;
	struct bk_args it;
	int args = 0, others = 0;

	bk_args_init(&it, cmd, argc, argv, "", add_options);
	while (bk_args_next(&it)) {
		if (!it.opt && !args++)
			archive = it.value;
		else if (it.opt && !strcmp(it.opt, "--manifest"))
			manifest = it.value;
		else
			others++;
	}
	if (it.done)
		return it.status;
	if (!manifest)
		return -1;
	if (others)
		return bk_usage_error(cmd, "--manifest takes no files or other options");
	if (!archive)
		return bk_usage_error(cmd, "an archive and a manifest are needed");
	return add_manifest(archive, manifest);
}

int cmd_add(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("add");
	struct bk_job_meta m;
	struct bk_queue q;
	struct bk_error err;
	const char *archive = NULL;
	const char **files = NULL;
	size_t nfiles = 0;
	int rc = BK_EXIT_USAGE;
	bool queue_open = false;
	struct bk_args it;

	if ((rc = add_form(cmd, argc, argv)) >= 0)
		return rc;
	rc = BK_EXIT_USAGE;
	bk_error_init(&err);
	bk_job_meta_init(&m);
	files = calloc((size_t)argc, sizeof(*files));
	if (!files)
		return bk_die("out of memory");
	bk_args_init(&it, cmd, argc, argv, "", add_options);
	while (bk_args_next(&it)) {
		const char *a = it.opt, *v = it.value;
		if (!a) {
			if (!archive)
				archive = v;
			else
				files[nfiles++] = v;
			continue;
		}
		if (!strcmp(a, "--bilevel")) {
			m.bilevel = true;
			continue;
		}
		if (!strcmp(a, "--collection")) {
			if (bk_name_check("collection", v, &err)) {
				bk_usage_error(cmd, "%s", err.msg);
				goto out;
			}
			free(m.collection);
			m.collection = strdup(v);
		} else if (!strcmp(a, "--profile")) {
			int p = bk_profile_parse(v);
			if (p < 0) {
				bk_usage_error(cmd, "unknown profile '%s' (record, bylaw, ukiyoe, map)", v);
				goto out;
			}
			m.profile = p;
		} else if (!strcmp(a, "--access")) {
			int x = bk_access_parse(v);
			if (x < 0) {
				bk_usage_error(cmd, "unknown access level '%s' (public, restricted, confidential)", v);
				goto out;
			}
			m.access = x;
		} else if (!strcmp(a, "--title")) {
			if (bk_text_check("title", v, BK_TITLE_MAX, &err)) {
				bk_usage_error(cmd, "%s", err.msg);
				goto out;
			}
			free(m.title);
			m.title = strdup(v);
		} else if (!strcmp(a, "--date")) {
			if (!bk_date_valid(v)) {
				bk_usage_error(cmd, "invalid date '%s' (YYYY, YYYY-MM or YYYY-MM-DD)", v);
				goto out;
			}
			free(m.date);
			m.date = strdup(v);
		} else if (!strcmp(a, "--box") || !strcmp(a, "--volume")) {
			if (bk_parse_int(v, 1, 1000000000, a[2] == 'b' ? &m.box : &m.volume)) {
				bk_usage_error(cmd, "%s needs a positive number, not '%s'", a, v);
				goto out;
			}
		} else if (!strcmp(a, "--lang")) {
			if (!bk_lang_valid(v)) {
				bk_usage_error(cmd, "invalid language '%s' (e.g. auto, jpn, jpn_vert, eng, jpn+eng)", v);
				goto out;
			}
			free(m.lang);
			m.lang = strdup(v);
		} else if (!strcmp(a, "--dpi")) {
			if (bk_parse_int(v, BK_DPI_MIN, BK_DPI_MAX, &m.dpi)) {
				bk_usage_error(cmd, "--dpi needs a whole number of dots per inch from %d to %d, not '%s'",
					       BK_DPI_MIN, BK_DPI_MAX, v);
				goto out;
			}
		} else if (!strcmp(a, "--ocr")) {
			if (bk_ocr_mode_parse(v) < 0) {
				bk_usage_error(cmd, "unknown --ocr mode '%s' (auto, force, skip)", v);
				goto out;
			}
			free(m.ocr);
			m.ocr = strdup(v);
		} else if (!strcmp(a, "--old-print")) {
			enum bk_old_print mode;
			if (bk_old_print_parse(v, &mode)) {
				bk_usage_error(cmd, "unknown --old-print mode '%s' (auto, on, off)", v);
				goto out;
			}
			free(m.old_print);
			m.old_print = strdup(v);
		}
	}
	if (it.done) {
		rc = it.status;
		goto out;
	}
	if (!archive || nfiles == 0) {
		bk_usage_error(cmd, "an archive and at least one file are needed");
		goto out;
	}
	if (!m.collection) {
		bk_usage_error(cmd, "--collection is required");
		goto out;
	}
	rc = BK_EXIT_FAIL;
	for (size_t i = 0; i < nfiles; i++) {
		const char *slash = strrchr(files[i], '/');
		if (bk_text_check("file name", slash ? slash + 1 : files[i],
				  BK_FILE_NAME_MAX, &err) ||
		    check_input(files[i], &err))
			goto report;
		m.pages += bk_input_pages(files[i]);
	}
	if (bk_queue_open(&q, archive, &err))
		goto report;
	queue_open = true;
	if (bk_queue_add(&q, &m, files, nfiles, &err))
		goto report;
	printf("%s\n", m.id);
	rc = BK_EXIT_OK;
	goto out;
report:
	bk_die(err.msg);
out:
	if (queue_open)
		bk_queue_release(&q);
	bk_job_meta_release(&m);
	free(files);
	return rc;
}
