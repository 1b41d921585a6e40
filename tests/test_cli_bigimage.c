/*
 * tests/test_cli_bigimage.c — a large colour map through the real
 * `bunko ocr` and `bunko add` + `bunko worker`, in bounded memory.
 *
 * The map is made when the test runs (scripts/gen-bigmap: 8000x8000
 * pixels, 64 million, a JPEG of pale paper, coloured roads, a river and
 * parks, with 120 black place names whose boxes it writes down). The test
 * checks that
 * - each process's peak resident memory (ru_maxrss of the child, from
 *   wait4) stays under BIG_BUDGET_MB: the map is read band by band from its
 *   file, never decoded whole (main's whole-picture path peaked at 427 MB
 *   for `bunko ocr` of this map);
 * - the master in the store is the input byte for byte, and the PDF shows
 *   the JPEG itself (pdfimages -j gives back the same bytes);
 * - `bunko search` finds the place names, and their hit boxes (web/hits.h
 *   on the stored page model, as the page view draws them) lie on the names
 *   as drawn, nine in ten of the drawn names of each found.
 * A print (samples/ukiyoe.jpg enlarged four times by `vips resize`: 4800x7040,
 * 34 million pixels) is read from its title panel as the sample is, under
 * PRINT_BUDGET_MB (main's whole-picture path peaked at 267 MB on it).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bunko/page.h"
#include "index/match.h"
#include "index/query.h"
#include "test_support.h"
#include "web/hits.h"

#define BIG_SIDE 8000
#define BIG_BUDGET_MB 300
#define PRINT_BUDGET_MB 200
#define MAX_LABELS 512

struct label {
	char name[64];
	struct bk_box box;
	bool hit;
};

static struct label labels[MAX_LABELS];
static int nlabels;

/* Runs BUNKO_EXE with argv (NULL-terminated, argv[0] left for the
 * executable), its output into `log`; returns its peak RSS in MB and
 * asserts it exited 0. */
static long run_peak_mb(const char *log, const char *const *args)
{
	const char *argv[16] = { BUNKO_EXE };
	struct rusage ru;
	int status, i;
	pid_t pid;

	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(BUNKO_EXE, (char *const *)argv);
		_exit(127);
	}
	cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
	char *out = ts_read(log, NULL);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "bunko %s failed: %s",
		  args[0], out ? out : "");
	free(out);
	return ru.ru_maxrss / 1024;
}

static void read_labels(const char *tsv)
{
	char *text = ts_read(tsv, NULL), *save = NULL;

	cr_assert_not_null(text, "no %s", tsv);
	nlabels = 0;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct label *l = &labels[nlabels];
		cr_assert_lt(nlabels, MAX_LABELS);
		cr_assert_eq(sscanf(line, "%63[^\t]\t%d\t%d\t%d\t%d", l->name, &l->box.x0,
				    &l->box.y0, &l->box.x1, &l->box.y1), 5, "bad line '%s'", line);
		nlabels++;
	}
	free(text);
}

/* The hit boxes of `name` on the stored page model: each must lie on a
 * drawn `name` (its middle within the drawn box, grown by a few pixels for
 * the ink's antialiased edge), and nine in ten drawn ones must be hit. */
static void check_hits(const char *page_path, const char *name)
{
	struct bk_page page;
	struct bk_query q;
	struct bk_matcher *m = NULL;
	struct bk_page_hits h;
	struct bk_error err;
	FILE *fp = fopen(page_path, "r");
	int drawn = 0, found = 0;

	bk_error_init(&err);
	bk_page_init(&page);
	cr_assert_not_null(fp, "no %s", page_path);
	cr_assert_eq(bk_page_read(&page, fp, page_path, &err), 0, "%s", err.msg);
	fclose(fp);
	cr_assert_eq(page.width, BIG_SIDE);
	cr_assert_eq(bk_query_parse(name, &q, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_matcher_new(&m, &q, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_page_hits_find(&page, m, &h, &err), 0, "%s", err.msg);
	for (int i = 0; i < nlabels; i++)
		labels[i].hit = false;
	for (int b = 0; b < h.nboxes; b++) {
		struct bk_box hb = h.boxes[b].box;
		int mx = (hb.x0 + hb.x1) / 2, my = (hb.y0 + hb.y1) / 2;
		bool on = false;
		for (int i = 0; i < nlabels && !on; i++) {
			struct bk_box d = labels[i].box;
			if (strcmp(labels[i].name, name) || mx < d.x0 - 4 || mx > d.x1 + 4 ||
			    my < d.y0 - 4 || my > d.y1 + 4)
				continue;
			on = labels[i].hit = true;
		}
		cr_assert(on, "a hit of %s at %d,%d-%d,%d lies on no drawn %s", name, hb.x0,
			  hb.y0, hb.x1, hb.y1, name);
	}
	for (int i = 0; i < nlabels; i++)
		if (!strcmp(labels[i].name, name)) {
			drawn++;
			found += labels[i].hit;
		}
	cr_assert_gt(drawn, 5, "too few %s drawn", name);
	cr_assert_geq(found * 10, drawn * 9, "%s: %d of %d drawn found", name, found, drawn);
	bk_page_hits_release(&h);
	bk_matcher_free(&m);
	bk_query_release(&q);
	bk_page_release(&page);
}

/* The only document's directory in the archive's maps collection. */
static char *stored_doc(const char *archive)
{
	char *out = ts_run_ok_stdout(ts_fmt("ls '%s/store/maps'", archive));
	char *nl = strchr(out, '\n');

	if (nl)
		*nl = '\0';
	cr_assert(out[0], "nothing stored");
	return ts_fmt("%s/store/maps/%s", archive, out);
}

Test(cli_bigimage, a_large_map_is_read_in_bounded_memory, .timeout = 600)
{
	TS_NEED_TOOL("python3");
	TS_NEED_TOOL("vips");
	TS_NEED_TOOL("pdfimages");
	char *dir = ts_mkdtemp("bigimage");
	char *map = ts_fmt("%s/map.jpg", dir), *tsv = ts_fmt("%s/labels.tsv", dir);
	char *pdf = ts_fmt("%s/map.pdf", dir), *archive = ts_fmt("%s/archive", dir);
	char *log = ts_fmt("%s/bunko.log", dir);
	static const char *const names[] = { "秋葉原", "神保町", "大手町", "日比谷公園" };

	free(ts_run_ok(ts_fmt("/usr/bin/python3 '%s/scripts/gen-bigmap' '%s' %d %d '%s'",
			      BUNKO_SOURCE_DIR, map, BIG_SIDE, BIG_SIDE, tsv)));
	read_labels(tsv);

	/* bunko ocr: bounded, and the PDF shows the JPEG itself */
	long ocr_mb = run_peak_mb(log, (const char *const[]){ "ocr", map, "-o", pdf,
							      "--profile", "map", NULL });
	cr_assert_lt(ocr_mb, BIG_BUDGET_MB, "bunko ocr peaked at %ld MB", ocr_mb);
	free(ts_run_ok(ts_fmt("cd '%s' && pdfimages -j map.pdf shown && cmp shown-000.jpg "
			      "map.jpg", dir)));

	/* the queue: add, one worker; the master is the input */
	free(ts_run_ok(ts_fmt("'%s' init '%s'", BUNKO_EXE, archive)));
	free(ts_run_ok(ts_fmt("'%s' add '%s' '%s' --collection maps --profile map "
			      "--title 'big map'", BUNKO_EXE, archive, map)));
	long worker_mb = run_peak_mb(log, (const char *const[]){ "worker", archive, "-j",
								 "1", "--drain", NULL });
	cr_assert_lt(worker_mb, BIG_BUDGET_MB, "bunko worker peaked at %ld MB", worker_mb);
	char *doc = stored_doc(archive);
	free(ts_run_ok(ts_fmt("cmp '%s/data/masters/map.jpg' '%s'", doc, map)));

	/* found by search, the hits where the names were drawn */
	char *page_path = ts_fmt("%s/data/pages/0001.page", doc);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *out = ts_run_ok_stdout(ts_fmt("'%s' search '%s' '%s' --json", BUNKO_EXE,
						    archive, names[i]));
		cr_assert(strstr(out, "\"title\":\"big map\""), "%s not found: %s", names[i], out);
		free(out);
		check_hits(page_path, names[i]);
	}
	printf("8000x8000 map: bunko ocr %ld MB, worker %ld MB (budget %d MB)\n", ocr_mb,
	       worker_mb, BIG_BUDGET_MB);
	free(page_path);
	free(doc);
	ts_rmtree(dir);
	free(dir);
	free(map);
	free(tsv);
	free(pdf);
	free(archive);
	free(log);
}

Test(cli_bigimage, a_large_print_is_read_from_its_panels_in_bounded_memory, .timeout = 300)
{
	TS_NEED_TOOL("vips");
	char *dir = ts_mkdtemp("bigprint");
	char *print = ts_fmt("%s/print.jpg", dir), *pdf = ts_fmt("%s/print.pdf", dir);
	char *txt = ts_fmt("%s/print.txt", dir), *log = ts_fmt("%s/bunko.log", dir);
	char *sample = ts_sample("ukiyoe.jpg");

	free(ts_run_ok(ts_fmt("vips resize '%s' '%s[Q=90]' 4", sample, print)));
	long mb = run_peak_mb(log, (const char *const[]){ "ocr", print, "-o", pdf, "--profile",
							  "ukiyoe", "--text", txt, NULL });
	cr_assert_lt(mb, PRINT_BUDGET_MB, "bunko ocr peaked at %ld MB", mb);
	char *text = ts_read(txt, NULL);
	cr_assert_not_null(text);
	ts_strip_space(text);
	/* the sample's title, as samples/ukiyoe.p1.gt.txt has it */
	cr_assert_str_eq(text, "東都名所神田川");
	free(ts_run_ok(ts_fmt("cd '%s' && pdfimages -j print.pdf shown && cmp shown-000.jpg "
			      "print.jpg", dir)));
	printf("4800x7040 print: bunko ocr %ld MB (budget %d MB)\n", mb, PRINT_BUDGET_MB);
	free(text);
	ts_rmtree(dir);
	free(dir);
	free(print);
	free(pdf);
	free(txt);
	free(log);
	free(sample);
}
