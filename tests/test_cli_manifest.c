/*
 * tests/test_cli_manifest.c — `bunko add ARCHIVE --manifest volumes.csv`
 * with the real executable and 1,200 volumes: a manifest with bad rows is
 * refused as a whole, each bad row named by its line, and queues nothing;
 * the good manifest queues one job per row (a directory row, a quoted
 * title with a comma and quotes kept exactly); running it again
 * queues nothing.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

#define ROWS 1200

static int lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Writes the manifest: ROWS volumes, one scan each (hard links of one
 * sample), the last row a directory of two scans. `bad` adds two bad rows. */
static char *write_manifest(const char *dir, bool bad)
{
	char *path = ts_fmt("%s/%s", dir, bad ? "bad.csv" : "volumes.csv");
	FILE *fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fprintf(fp, "files,collection,title,date,box,volume,access,profile\n");
	for (int i = 1; i < ROWS; i++) {
		if (bad && i == 600)
			fprintf(fp, "scans/v%04d.tif,gian,Vol %d,1950,1,%d,secret,record\n", i, i, i);
		else if (bad && i == 900)
			fprintf(fp, "scans/nosuch.tif,gian,Vol %d,1950,1,%d,public,record\n", i, i);
		else
			fprintf(fp, "scans/v%04d.tif,gian,Vol %d,1950-04,%d,%d,%s,record\n", i, i,
				1 + i / 100, i, i % 3 ? "public" : "restricted");
	}
	fprintf(fp, "box12/,reiki,\"Reiki, \"\"two\"\" files\",,12,1,public,bylaw\n");
	cr_assert_eq(fclose(fp), 0);
	return path;
}

Test(manifest, a_thousand_volumes_checked_first_then_queued_once, .timeout = 300)
{
	char *dir = ts_mkdtemp("manifest");
	char *archive = ts_fmt("%s/archive", dir);
	char *cmd = ts_fmt("%s init '%s'", BUNKO_EXE, archive);
	cr_assert_eq(ts_run(cmd, NULL, 1), 0);
	free(cmd);
	char *sample = ts_sample("v-gian.tif");
	char *scans = ts_fmt("%s/scans", dir), *box = ts_fmt("%s/box12", dir);
	cr_assert_eq(mkdir(scans, 0755), 0);
	cr_assert_eq(mkdir(box, 0755), 0);
	for (int i = 1; i < ROWS; i++) {
		char *p = ts_fmt("%s/v%04d.tif", scans, i);
		cr_assert_eq(link(sample, p), 0, "%s", p);
		free(p);
	}
	for (int i = 0; i < 2; i++) {
		char *p = ts_fmt("%s/%c.tif", box, 'a' + i);
		cr_assert_eq(link(sample, p), 0);
		free(p);
	}

	/* bad rows: named by line, and nothing queued */
	char *bad = write_manifest(dir, true);
	const char *argv_bad[] = { BUNKO_EXE, "add", archive, "--manifest", bad, NULL };
	char *out = NULL, *err = NULL;
	cr_expect_eq(ts_run_argv(argv_bad, &out, &err), 1);
	cr_expect_str_eq(out, "");
	cr_expect(strstr(err, "'bad.csv' line 601: unknown access level 'secret'") != NULL, "%s",
		  err);
	cr_expect(strstr(err, "'bad.csv' line 901: cannot open 'scans/nosuch.tif'") != NULL,
		  "%s", err);
	cr_expect_eq(lines(err), 3, "two problems and the summary: %s", err);
	cr_expect_eq(ts_queue_entries(archive, "incoming"), 0, "a bad manifest queued something");
	cr_expect_eq(ts_queue_entries(archive, "tmp"), 0);
	free(out);
	free(err);

	/* the good one: every row a job */
	char *good = write_manifest(dir, false);
	const char *argv[] = { BUNKO_EXE, "add", archive, "--manifest", good, NULL };
	double t0 = ts_now();
	cr_assert_eq(ts_run_argv(argv, &out, &err), 0, "%s", err);
	double took = ts_now() - t0;
	cr_log_info("manifest: %d volumes queued in %.1f s", ROWS, took);
	cr_expect_eq(lines(out), ROWS, "%d job ids", lines(out));
	cr_expect(strstr(err, "1200 volumes queued, 0 already in the queue") != NULL, "%s", err);
	cr_expect_eq(ts_queue_entries(archive, "incoming"), ROWS);
	/* the last job: the directory's two files, the title as written */
	char *last = strrchr(out, '\n');
	*last = '\0';
	last = strrchr(out, '\n') ? strrchr(out, '\n') + 1 : out;
	char *meta_path = ts_fmt("%s/queue/incoming/%s/job.meta", archive, last);
	char *meta = ts_read(meta_path, NULL);
	cr_assert_not_null(meta, "%s", meta_path);
	json_t *m = json_loads(meta, 0, NULL);
	cr_assert_not_null(m);
	cr_expect_str_eq(json_string_value(json_object_get(m, "title")),
			 "Reiki, \"two\" files");
	cr_expect_str_eq(json_string_value(json_object_get(m, "collection")), "reiki");
	cr_expect_str_eq(json_string_value(json_object_get(m, "profile")), "bylaw");
	cr_expect_eq(json_integer_value(json_object_get(m, "box")), 12);
	json_t *files = json_object_get(m, "files");
	cr_expect_eq(json_array_size(files), 2);
	cr_expect_str_eq(json_string_value(json_array_get(files, 0)), "a.tif");
	cr_expect_str_eq(json_string_value(json_array_get(files, 1)), "b.tif");
	cr_expect_eq(json_integer_value(json_object_get(m, "pages")), 2);
	json_decref(m);
	free(meta);
	free(meta_path);
	free(out);
	free(err);

	/* again: nothing queued twice */
	cr_assert_eq(ts_run_argv(argv, &out, &err), 0, "%s", err);
	cr_expect_str_eq(out, "");
	cr_expect(strstr(err, "0 volumes queued, 1200 already in the queue") != NULL, "%s", err);
	cr_expect_eq(ts_queue_entries(archive, "incoming"), ROWS);
	free(out);
	free(err);

	free(good);
	free(bad);
	free(scans);
	free(box);
	free(sample);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}
