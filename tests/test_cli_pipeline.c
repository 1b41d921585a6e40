/*
 * tests/test_cli_pipeline.c — the batch path end to end through the real
 * `bunko` executable: init, add (a good two-page by-law TIFF and every bad
 * sample, one job each), worker -j 2 --drain, status --json, search, and
 * reindex. The good job's document is searchable on the right page; each
 * bad file's job is in failed/ with its file, page and reason, and did not
 * stop the good one. Plus `bunko add` argument checking (no OCR).
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static char *run_ok(const char *cmd)
{
	char *out = NULL;
	int rc = ts_run(cmd, &out, 0);
	cr_assert_eq(rc, 0, "'%s' exited %d: %s", cmd, rc, out);
	return out;
}

/* Reads a GT file with all whitespace removed. */
static char *gt(const char *name)
{
	char *path = ts_sample(name);
	char *t = ts_read(path, NULL);
	cr_assert_not_null(t, "missing %s", path);
	free(path);
	return ts_strip_space(t);
}

/* The number in `"key": N` of a JSON text (first occurrence after `from`). */
static long json_int(const char *json, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	const char *p = strstr(json, pat);
	cr_assert_not_null(p, "no %s in %s", key, json);
	return strtol(p + strlen(pat), NULL, 10);
}

/* Copies the UTF-8 characters [start, start+n) of s into out. */
static int utf8_slice(const char *s, int start, int n, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	int i = 0;
	while (*p && i < start) {
		p++;
		while ((*p & 0xC0) == 0x80)
			p++;
		i++;
	}
	const unsigned char *b = p;
	for (i = 0; *p && i < n; i++) {
		p++;
		while ((*p & 0xC0) == 0x80)
			p++;
	}
	if (i < n || (size_t)(p - b) >= cap)
		return -1;
	memcpy(out, b, p - b);
	out[p - b] = '\0';
	return 0;
}

Test(cli_pipeline, batch_of_good_and_bad_files, .timeout = 900)
{
	char *dir = ts_mkdtemp("cli-pipe"), *cmd = NULL, *out = NULL;
	const char *bad[] = { "zero.tif", "truncated.tif", "notimage.png", "bomb.png",
			      "corrupt.pdf" };
	const int nbad = sizeof(bad) / sizeof(*bad);

	cr_assert(asprintf(&cmd, "%s init %s/a", BUNKO_EXE, dir) > 0);
	free(run_ok(cmd));
	free(cmd);
	cr_assert(asprintf(&cmd, "%s add %s/a %s/h-reiki.tif --collection reiki "
			   "--profile bylaw --title 例規集 --date 1950-04-01 --box 12",
			   BUNKO_EXE, dir, BUNKO_SAMPLES_DIR) > 0);
	char *good_id = run_ok(cmd);
	*strchr(good_id, '\n') = '\0';
	free(cmd);
	for (int i = 0; i < nbad; i++) {
		cr_assert(asprintf(&cmd, "%s add %s/a %s/bad/%s --collection bad",
				   BUNKO_EXE, dir, BUNKO_SAMPLES_DIR, bad[i]) > 0);
		free(run_ok(cmd));
		free(cmd);
	}

	cr_assert(asprintf(&cmd, "%s worker %s/a -j 2 --drain", BUNKO_EXE, dir) > 0);
	free(run_ok(cmd));
	free(cmd);

	cr_assert(asprintf(&cmd, "%s status %s/a --json", BUNKO_EXE, dir) > 0);
	out = run_ok(cmd);
	free(cmd);
	cr_expect_eq(json_int(out, "queued"), 0, "%s", out);
	cr_expect_eq(json_int(out, "running"), 0, "%s", out);
	cr_expect_eq(json_int(out, "done"), 1, "%s", out);
	cr_expect_eq(json_int(out, "failed"), nbad, "%s", out);
	cr_expect_eq(json_int(out, "pages_done"), 2, "%s", out);
	cr_expect_eq(json_int(out, "pages_total"), 2, "%s", out);
	/* every bad file is named in a failure, the truncated one with its page */
	for (int i = 0; i < nbad; i++) {
		char want[64];
		snprintf(want, sizeof(want), "\"file\": \"%s\"", bad[i]);
		cr_expect(strstr(out, want) != NULL, "no failure for %s: %s", bad[i], out);
	}
	cr_expect(strstr(out, "'truncated.tif' page 1: ") != NULL, "%s", out);
	cr_expect(strstr(out, "'bomb.png'") && strstr(out, "exceeds"), "%s", out);
	free(out);

	/* the failed jobs keep their reason files */
	cr_assert(asprintf(&cmd, "cat %s/a/queue/failed/*/reason", dir) > 0);
	out = run_ok(cmd);
	free(cmd);
	cr_expect(strstr(out, "file=truncated.tif\npage=1\n") != NULL, "%s", out);
	free(out);

	/* search: phrases only page 2's ground truth has are found on page 2 */
	char *p1 = gt("h-reiki.p1.gt.txt"), *p2 = gt("h-reiki.p2.gt.txt");
	int tried = 0, found = 0;
	for (int start = 0; tried < 12; start += 7) {
		char phrase[64];
		if (utf8_slice(p2, start, 5, phrase, sizeof(phrase)))
			break;
		if (strstr(p1, phrase) || strpbrk(phrase, "\"'()-「」"))
			continue;
		tried++;
		cr_assert(asprintf(&cmd, "%s search %s/a '\"%s\"' --role admin --json",
				   BUNKO_EXE, dir, phrase) > 0);
		char *hits = NULL;
		ts_run(cmd, &hits, 0);
		free(cmd);
		if (strstr(hits, good_id)) {
			found++;
			cr_expect(strstr(hits, "\"page\":2") != NULL,
				  "'%s' found, but not on page 2: %s", phrase, hits);
		}
		free(hits);
	}
	cr_expect_geq(found, tried / 2, "only %d of %d page-2 phrases found", found, tried);

	/* reindex from the stored page models: search still works */
	cr_assert(asprintf(&cmd, "%s reindex %s/a", BUNKO_EXE, dir) > 0);
	out = run_ok(cmd);
	free(cmd);
	cr_expect(strstr(out, "1 documents, 2 pages") != NULL, "%s", out);
	free(out);
	char phrase[64];
	cr_assert_eq(utf8_slice(p1, 0, 4, phrase, sizeof(phrase)), 0);
	cr_assert(asprintf(&cmd, "%s search %s/a '%s' --json", BUNKO_EXE, dir, phrase) > 0);
	out = NULL;
	ts_run(cmd, &out, 0);
	free(cmd);
	cr_expect(strstr(out, good_id) && strstr(out, "\"page\":1"), "'%s': %s", phrase, out);
	free(out);

	free(p1);
	free(p2);
	free(good_id);
	ts_rmtree(dir);
	free(dir);
}

/* Runs `bunko ARGS` (ARGS from fmt) and expects exit code want_rc and
 * want_msg in its output. */
static void expect_fail(int want_rc, const char *want_msg, const char *fmt, ...)
{
	char *args = NULL, *cmd = NULL, *out = NULL;
	va_list ap;
	va_start(ap, fmt);
	cr_assert(vasprintf(&args, fmt, ap) > 0);
	va_end(ap);
	cr_assert(asprintf(&cmd, "%s %s", BUNKO_EXE, args) > 0);
	int rc = ts_run(cmd, &out, 1);
	cr_expect_eq(rc, want_rc, "'%s' exited %d: %s", args, rc, out);
	cr_expect(strstr(out, want_msg) != NULL, "'%s': %s", args, out);
	free(args);
	free(cmd);
	free(out);
}

Test(cli_pipeline, add_checks_its_arguments)
{
	char *dir = ts_mkdtemp("cli-add"), *cmd = NULL;
	const char *s = BUNKO_SAMPLES_DIR;
	cr_assert(asprintf(&cmd, "%s init %s/a", BUNKO_EXE, dir) > 0);
	free(run_ok(cmd));
	free(cmd);
	expect_fail(2, "--collection", "add %s/a %s/eng.png", dir, s);
	expect_fail(2, "invalid date '1950-02-30'",
		    "add %s/a %s/eng.png --collection c --date 1950-02-30", dir, s);
	expect_fail(2, "unknown profile 'poster'",
		    "add %s/a %s/eng.png --collection c --profile poster", dir, s);
	expect_fail(2, "unknown access level 'secret'",
		    "add %s/a %s/eng.png --collection c --access secret", dir, s);
	expect_fail(1, "box12.tif': No such file", "add %s/a %s/box12.tif --collection c",
		    dir, dir);
	expect_fail(1, "not a bunko archive", "add %s/nowhere %s/eng.png --collection c",
		    dir, s);
	/* nothing was queued by the refused commands */
	cr_assert(asprintf(&cmd, "find %s/a/queue -mindepth 2 2>/dev/null | wc -l", dir) > 0);
	char *out = run_ok(cmd);
	cr_expect_eq(atoi(out), 0, "%s", out);
	free(out);
	free(cmd);
	ts_rmtree(dir);
	free(dir);
}
