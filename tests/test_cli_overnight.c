/*
 * tests/test_cli_overnight.c — an overnight run that finishes, with real
 * `bunko` processes, real signals and real files:
 *   - the bad night: 7 jobs of 24 good pages (one volume also holds four
 *     bad files) under `bunko worker -j 2` with the default options, while
 *     16 SIGKILLs land in about half a minute (rounds of three single
 *     workers and one whole pool): every job done, nothing in failed/,
 *     every good page found by a phrase of its own, the bad files named;
 *   - bad input inside a volume: every readable page processed, every
 *     unreadable file or page named (file, page, reason) in `status`,
 *     `status --json`, the result record and bag-info.txt, a placeholder
 *     page in the PDF saying what is missing;
 *   - a page that crashes its worker (SIGSEGV) three times is quarantined
 *     and the rest of the volume goes on; a page that hangs (a stopped
 *     worker) is killed at its --page-timeout, counts the same, and
 *     `--drain` ends;
 *   - fencing: a pool frozen with SIGSTOP past its lease, whose job is
 *     finished by another pool, writes nothing once SIGCONTed: the job is
 *     in exactly one state directory;
 *   - `bunko requeue`: a failed job comes back with its checkpoints, and
 *     its finished pages are not read again;
 *   - a full disk (fsync failing with ENOSPC, through tests/fault_shim.c
 *     preloaded into the pool) pauses the pool with one message, fails and
 *     charges nothing, and the job goes on once there is space; a failing
 *     disk (EIO) stops the pool with one line, and the next run finishes.
 * The tests make themselves child subreapers, so a killed pool's workers
 * are reaped at once, as after a real power cut.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

/* Children reaped by reap_all (workers orphaned by a kill, pools that
 * ended), so pool_wait still learns how its pool ended. */
static struct {
	pid_t pid;
	int status;
} reaped[64];
static int nreaped;

static void reap_all(void)
{
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		reaped[nreaped % 64].pid = p;
		reaped[nreaped % 64].status = st;
		nreaped++;
	}
}

static bool reaped_status(pid_t pid, int *st)
{
	for (int i = 0; i < 64 && i < nreaped; i++)
		if (reaped[i].pid == pid) {
			*st = reaped[i].status;
			return true;
		}
	return false;
}

static void nap(double seconds)
{
	double until = ts_now() + seconds;
	while (ts_now() < until) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		reap_all();
	}
}

/* A new archive in `dir`; caller frees. */
static char *new_archive(const char *dir)
{
	char *archive = ts_fmt("%s/archive", dir);
	char *cmd = ts_fmt("%s init '%s'", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);
	return archive;
}

/* Queues `files` (NULL-terminated) as one job; returns its id. */
static char *add_job(const char *archive, const char *collection, const char *const *files)
{
	char *cmd = ts_fmt("%s add '%s' --collection %s --profile record", BUNKO_EXE, archive,
			   collection);
	for (int i = 0; files[i]; i++) {
		char *next = ts_fmt("%s '%s'", cmd, files[i]);
		free(cmd);
		cmd = next;
	}
	char *out = NULL;
	int rc = ts_run(cmd, &out, 0);
	cr_assert_eq(rc, 0, "'%s' exited %d", cmd, rc);
	char *nl = strchr(out, '\n');
	cr_assert_not_null(nl, "no job id: %s", out);
	*nl = '\0';
	free(cmd);
	return out;
}

/* tiffcp of samples into dir/name; returns the path. */
static char *make_tiff(const char *dir, const char *name, const char *const *samples)
{
	char *cmd = strdup("tiffcp");
	for (int i = 0; samples[i]; i++) {
		char *next = ts_fmt("%s '%s/%s'", cmd, BUNKO_SAMPLES_DIR, samples[i]);
		free(cmd);
		cmd = next;
	}
	char *path = ts_fmt("%s/%s", dir, name);
	char *full = ts_fmt("%s '%s'", cmd, path);
	free(ts_run_ok(full));
	free(full);
	free(cmd);
	return path;
}

/* The four kinds of bad file of the issue, in dir: a zero-byte TIFF, a
 * truncated TIFF, a junk PDF and a text file. */
static void make_bad_files(const char *dir, char *paths[4])
{
	static const char *const names[] = { "zero.tif", "truncated.tif", "corrupt.pdf" };
	for (int i = 0; i < 3; i++) {
		char *src = ts_fmt("%s/bad/%s", BUNKO_SAMPLES_DIR, names[i]);
		size_t len = 0;
		char *data = ts_read(src, &len);
		cr_assert(data || len == 0, "cannot read '%s'", src);
		paths[i] = ts_fmt("%s/%s", dir, names[i]);
		cr_assert_eq(ts_write(paths[i], data ? data : "", len), 0);
		free(data);
		free(src);
	}
	paths[3] = ts_fmt("%s/notes.txt", dir);
	const char *text = "Box 12: the scans of volume 3 follow.\n";
	cr_assert_eq(ts_write(paths[3], text, strlen(text)), 0);
}

static const char *const bad_names[] = { "zero.tif", "truncated.tif", "corrupt.pdf",
					 "notes.txt" };

static pid_t pool_start(const char *archive, const char *log, const char *const *extra)
{
	const char *argv[32] = { BUNKO_EXE, "worker", archive, "-j", "2", "--drain" };
	int n = 6;
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	return ts_spawn_group(argv, log);
}

static bool pool_gone(pid_t pool)
{
	return kill(-pool, 0) && errno == ESRCH;
}

static void pool_kill(pid_t pool)
{
	kill(-pool, SIGCONT);
	kill(-pool, SIGKILL);
	double until = ts_now() + 10;
	while (!pool_gone(pool) && ts_now() < until)
		nap(0.02);
	cr_assert(pool_gone(pool), "a pool member outlived SIGKILL");
}

/* Waits for the pool to end by itself; its exit status. */
static int pool_wait(pid_t pool, double seconds)
{
	double until = ts_now() + seconds;
	int st = -1;
	while (ts_now() < until) {
		pid_t p = waitpid(pool, &st, WNOHANG);
		if (p == pool || reaped_status(pool, &st))
			return st;
		nap(0.1);
	}
	pool_kill(pool);
	cr_assert_fail("the pool did not end within %.0f s", seconds);
	return -1;
}

/* Names in archive/queue/<sub>/, dot files included; caller frees. */
static int list_sub(const char *archive, const char *sub, char names[][128], int cap)
{
	char *dir = ts_fmt("%s/queue/%s", archive, sub);
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && n < cap)
			snprintf(names[n++], 128, "%.127s", de->d_name);
	if (d)
		closedir(d);
	free(dir);
	return n;
}

/* A claim in claimed/ and what its page record says (index; -1 none, -2
 * the build). */
struct claim {
	char job[96];
	long pid;
	int index;
};

static int claims(const char *archive, struct claim *out, int cap)
{
	char names[16][128];
	int n = list_sub(archive, "claimed", names, 16), m = 0;
	for (int i = 0; i < n && m < cap; i++) {
		char *at = strchr(names[i], '@'), *dot = strrchr(names[i], '.');
		if (!at || !dot || dot < at)
			continue;
		struct claim *c = &out[m++];
		snprintf(c->job, sizeof(c->job), "%.*s", (int)(at - names[i]), names[i]);
		c->pid = atol(dot + 1);
		c->index = -1;
		char *path = ts_fmt("%s/queue/claimed/%s/page", archive, names[i]);
		char *text = ts_read(path, NULL);
		json_t *r = text ? json_loads(text, 0, NULL) : NULL;
		if (r) {
			json_t *file = json_object_get(r, "file");
			c->index = json_is_null(file) ? -2
						      : (int)json_integer_value(json_object_get(r, "index"));
			json_decref(r);
		}
		free(text);
		free(path);
	}
	return m;
}

/* `bunko status --json`, parsed. */
static json_t *status_json(const char *archive)
{
	char *cmd = ts_fmt("%s status '%s' --json", BUNKO_EXE, archive);
	char *out = ts_run_ok(cmd);
	json_t *s = json_loads(out, 0, NULL);
	cr_assert_not_null(s, "status --json is not JSON: %s", out);
	free(out);
	free(cmd);
	return s;
}

static json_t *status_job(json_t *st, const char *id)
{
	json_t *jobs = json_object_get(st, "jobs");
	for (size_t i = 0; i < json_array_size(jobs); i++) {
		json_t *j = json_array_get(jobs, i);
		if (!strcmp(json_string_value(json_object_get(j, "id")), id))
			return j;
	}
	cr_assert_fail("job %s not in the status", id);
	return NULL;
}

/* Each job id in exactly one of incoming/, claimed/, done/, failed/. */
static void check_one_state(const char *archive, char **ids, int n)
{
	static const char *const subs[] = { "incoming", "claimed", "done", "failed" };
	for (int k = 0; k < n; k++) {
		int seen = 0;
		for (int s = 0; s < 4; s++) {
			char names[64][128];
			int m = list_sub(archive, subs[s], names, 64);
			for (int i = 0; i < m; i++)
				seen += !strncmp(names[i], ids[k], strlen(ids[k])) &&
					(names[i][strlen(ids[k])] == '\0' ||
					 names[i][strlen(ids[k])] == '@');
		}
		cr_expect_eq(seen, 1, "job %s is in %d state directories", ids[k], seen);
	}
}

static char *store_file(const char *archive, const char *collection, const char *id,
			const char *rel)
{
	char *path = ts_fmt("%s/store/%s/%s/%s", archive, collection, id, rel);
	char *text = ts_read(path, NULL);
	cr_assert_not_null(text, "no '%s'", path);
	free(path);
	return text;
}

/* Six kana/kanji in a row from `s` (UTF-8, three bytes each): a phrase
 * to search for; false if the page has none. */
static bool phrase_of(const char *s, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int run = 0;
		const unsigned char *q = p;
		while (q[0] >= 0xe3 && q[0] <= 0xe9 && q[1] >= 0x80 && q[2] >= 0x80 &&
		       !(q[0] == 0xe3 && q[1] == 0x80)) { /* not 、。「」 */
			run++;
			q += 3;
			if (run == 6 && cap > 18) {
				memcpy(out, p, 18);
				out[18] = '\0';
				return true;
			}
		}
		p = run ? q : p + 1;
	}
	return false;
}

/* Every OCRed page of the document is found by a phrase of its own;
 * returns how many pages were checked. */
static int check_pages_found(const char *archive, const char *collection, const char *id,
			     int skip_from)
{
	char *text = store_file(archive, collection, id, "data/text.txt");
	int page = 1, checked = 0;
	for (char *p = text, *ff; p; p = ff ? ff + 1 : NULL, page++) {
		ff = strchr(p, '\f');
		if (ff)
			*ff = '\0';
		char phrase[32];
		if (page >= skip_from || !phrase_of(p, phrase, sizeof(phrase)))
			continue;
		const char *argv[] = { BUNKO_EXE, "search", archive, phrase, "--json",
				       "--limit", "100", NULL };
		char *out = NULL;
		cr_assert_eq(ts_run_argv(argv, &out, NULL), 0);
		char *want = ts_fmt("\"doc\":\"%s\"", id);
		char *want_page = ts_fmt("\"page\":%d,", page);
		bool found = false;
		for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
			found |= strstr(line, want) && strstr(line, want_page);
		cr_expect(found, "page %d of %s is not found by '%s'", page, id, phrase);
		checked++;
		free(want);
		free(want_page);
		free(out);
	}
	free(text);
	return checked;
}

static int pdf_pages(const char *archive, const char *collection, const char *id)
{
	char *cmd = ts_fmt("pdfinfo '%s/store/%s/%s/data/document.pdf' | awk '/^Pages:/{print $2}'",
			   archive, collection, id);
	char *out = ts_run_ok(cmd);
	int n = atoi(out);
	free(out);
	free(cmd);
	return n;
}

static char *worker_logs(const char *archive)
{
	char *cmd = ts_fmt("cat '%s'/log/worker*.log", archive);
	char *out = ts_run_ok(cmd);
	free(cmd);
	return out;
}

/* The missing entries of a job in the status: each of `names` once. */
static void check_missing_named(json_t *job, const char *const *names, int n)
{
	json_t *missing = json_object_get(job, "missing");
	cr_expect_eq(json_array_size(missing), (size_t)n, "%zu missing, not %d",
		     json_array_size(missing), n);
	cr_expect(json_is_true(json_object_get(job, "incomplete")));
	for (int i = 0; i < n; i++) {
		int seen = 0;
		for (size_t k = 0; k < json_array_size(missing); k++) {
			json_t *m = json_array_get(missing, k);
			const char *file = json_string_value(json_object_get(m, "file"));
			const char *reason = json_string_value(json_object_get(m, "reason"));
			if (file && !strcmp(file, names[i])) {
				seen++;
				cr_expect(reason && *reason, "%s: no reason", names[i]);
			}
		}
		cr_expect_eq(seen, 1, "%s is named %d times", names[i], seen);
	}
}

/* ---- bad input inside a volume ----------------------------------------- */

Test(overnight, every_readable_page_is_processed_and_every_bad_file_named, .timeout = 300)
{
	char *dir = ts_mkdtemp("night-bad");
	char *bad[4];
	TS_NEED_TOOL("pdfinfo");
	TS_NEED_TOOL("pdftotext");
	char *archive = new_archive(dir);
	make_bad_files(dir, bad);
	char *good = ts_sample("v-gian.tif");
	const char *files[] = { good, bad[0], bad[1], bad[2], bad[3], NULL };
	char *id = add_job(archive, "gian", files);
	char *cmd = ts_fmt("OMP_THREAD_LIMIT=1 timeout 200 %s worker '%s' --drain", BUNKO_EXE,
			   archive);
	free(ts_run_ok(cmd));
	free(cmd);

	/* stored, as incomplete: the good page and one placeholder per bad file */
	json_t *st = status_json(archive);
	cr_expect_eq(json_integer_value(json_object_get(st, "done")), 1);
	cr_expect_eq(json_integer_value(json_object_get(st, "failed")), 0);
	check_missing_named(status_job(st, id), bad_names, 4);
	json_t *failures = json_object_get(st, "failures");
	cr_expect_eq(json_array_size(failures), 4, "one failure entry per bad file");
	for (size_t i = 0; i < json_array_size(failures); i++) {
		json_t *f = json_array_get(failures, i);
		cr_expect_str_eq(json_string_value(json_object_get(f, "state")), "incomplete");
		cr_expect_str_eq(json_string_value(json_object_get(f, "job")), id);
	}
	/* the truncated TIFF opens: its page is named with its number */
	json_t *missing = json_object_get(status_job(st, id), "missing");
	for (size_t k = 0; k < json_array_size(missing); k++) {
		json_t *m = json_array_get(missing, k);
		if (!strcmp(json_string_value(json_object_get(m, "file")), "truncated.tif"))
			cr_expect_eq(json_integer_value(json_object_get(m, "page")), 1);
	}
	json_decref(st);

	cmd = ts_fmt("%s status '%s'", BUNKO_EXE, archive);
	char *text = ts_run_ok(cmd);
	free(cmd);
	for (int i = 0; i < 4; i++) {
		char *want = ts_fmt("incomplete  %s  '%s'", id, bad_names[i]);
		cr_expect(strstr(text, want) != NULL, "no '%s' in: %s", want, text);
		free(want);
	}
	free(text);

	/* the result record and the document's metadata name them too */
	char *result_path = ts_fmt("%s/queue/done/%s/result", archive, id);
	char *result = ts_read(result_path, NULL);
	cr_assert_not_null(result);
	json_t *r = json_loads(result, 0, NULL);
	cr_assert_not_null(r);
	cr_expect(json_is_true(json_object_get(r, "incomplete")));
	cr_expect_eq(json_array_size(json_object_get(r, "missing")), 4);
	json_decref(r);
	char *info = store_file(archive, "gian", id, "bag-info.txt");
	cr_expect(strstr(info, "Bunko-Incomplete: yes\n") != NULL, "%s", info);
	for (int i = 0; i < 4; i++) {
		char *want = ts_fmt("Bunko-Missing: '%s'", bad_names[i]);
		cr_expect(strstr(info, want) != NULL, "no '%s' in: %s", want, info);
		free(want);
	}
	cr_expect(strstr(info, "Bunko-Pages: 5\n") != NULL, "%s", info);

	/* the PDF: the good page, then a placeholder saying what is missing */
	cr_expect_eq(pdf_pages(archive, "gian", id), 5);
	for (int p = 2; p <= 5; p++) {
		cmd = ts_fmt("pdftotext -f %d -l %d '%s/store/gian/%s/data/document.pdf' -", p, p,
			     archive, id);
		char *page = ts_run_ok(cmd);
		cr_expect(strstr(page, "MISSING FROM THIS DOCUMENT") &&
				  strstr(page, bad_names[p - 2]),
			  "page %d does not say that '%s' is missing: %s", p, bad_names[p - 2], page);
		free(page);
		free(cmd);
	}
	/* and the good page is searchable */
	cr_expect_eq(check_pages_found(archive, "gian", id, 2), 1);
	cmd = ts_fmt("%s verify '%s'", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);

	free(info);
	free(result);
	free(result_path);
	free(id);
	free(good);
	for (int i = 0; i < 4; i++)
		free(bad[i]);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}

Test(overnight, a_volume_of_bad_files_only_fails_naming_every_one, .timeout = 120)
{
	char *dir = ts_mkdtemp("night-allbad");
	char *bad[4];
	char *archive = new_archive(dir);
	make_bad_files(dir, bad);
	const char *files[] = { bad[0], bad[1], bad[2], bad[3], NULL };
	char *id = add_job(archive, "gian", files);
	char *cmd = ts_fmt("OMP_THREAD_LIMIT=1 timeout 100 %s worker '%s' --drain", BUNKO_EXE,
			   archive);
	free(ts_run_ok(cmd));
	free(cmd);
	json_t *st = status_json(archive);
	cr_expect_eq(json_integer_value(json_object_get(st, "failed")), 1);
	json_t *job = status_job(st, id);
	check_missing_named(job, bad_names, 4);
	json_t *f = json_array_get(json_object_get(st, "failures"), 0);
	const char *msg = json_string_value(json_object_get(f, "message"));
	for (int i = 0; i < 4; i++)
		cr_expect(msg && strstr(msg, bad_names[i]), "'%s' not in: %s", bad_names[i], msg);
	json_decref(st);
	/* the reason record, on the failed side, lists them */
	char *path = ts_fmt("%s/queue/failed/%s/reason", archive, id);
	char *text = ts_read(path, NULL);
	cr_assert_not_null(text);
	json_t *r = json_loads(text, 0, NULL);
	cr_expect_eq(json_array_size(json_object_get(r, "missing")), 4, "%s", text);
	json_decref(r);
	free(text);
	free(path);
	free(id);
	for (int i = 0; i < 4; i++)
		free(bad[i]);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}

/* ---- the bad night ------------------------------------------------------ */

/* The night is 5 jobs of 16 pages; two more jobs keep work in the
 * queue until the last of the 16 kills even on a fast machine, where 16 pages
 * drained before the night was over and the late kills found no worker. */
#define NIGHT_JOBS 7
#define NIGHT_ROUNDS 4
#define NIGHT_SINGLE_KILLS 3 /* per round, then one whole pool */

struct night_job {
	const char *tag;
	const char *parts[6]; /* samples, tiffcp'd into one file */
	int pages;            /* document pages (record profile: no split) */
	bool with_bad;        /* the volume also holds the four bad files */
};

static const struct night_job night[NIGHT_JOBS] = {
	{ "reiki", { "h-reiki.tif", "h-reiki.tif" }, 4, false },
	{ "gian", { "v-gian.tif", "v-gian.tif", "v-gian.tif" }, 3, false },
	{ "mixed", { "mixed.tif", "rot180.tif", "mixed.tif" }, 3, false },
	{ "more", { "v-gian.tif", "mixed.tif", "h-reiki.tif" }, 4, false },
	{ "volume", { "h-reiki.tif" }, 2, true },
	{ "notices", { "h-reiki.tif", "v-gian.tif", "mixed.tif" }, 4, false },
	{ "history", { "mixed.tif", "h-reiki.tif", "v-gian.tif" }, 4, false },
};

/* Kills one worker of `pool` that holds a job; false if none did within 10 s. */
static bool kill_a_worker(const char *archive, pid_t pool, unsigned *seed)
{
	double until = ts_now() + 10;
	while (ts_now() < until && !pool_gone(pool)) {
		struct claim c[8];
		int n = claims(archive, c, 8), m = 0;
		long pids[8];
		for (int i = 0; i < n; i++) {
			/* ours: a child of the pool's supervisor */
			char *path = ts_fmt("/proc/%ld/stat", c[i].pid), buf[512];
			FILE *fp = fopen(path, "r");
			char *stat = fp ? fgets(buf, sizeof(buf), fp) : NULL;
			char *rp = stat ? strrchr(stat, ')') : NULL;
			int ppid = 0;
			char state = 0;
			if (rp && sscanf(rp + 2, "%c %d", &state, &ppid) == 2 && ppid == pool &&
			    state != 'Z')
				pids[m++] = c[i].pid;
			if (fp)
				fclose(fp);
			free(path);
		}
		if (m > 0 && kill((pid_t)pids[rand_r(seed) % m], SIGKILL) == 0)
			return true;
		nap(0.05);
	}
	return false;
}

Test(overnight, the_bad_night_ends_with_every_good_page_stored, .timeout = 600)
{
	char *dir = ts_mkdtemp("night");
	char *bad[4], *ids[NIGHT_JOBS];
	TS_NEED_TOOL("tiffcp");
	TS_NEED_TOOL("pdfinfo");
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0, "%s", strerror(errno));
	char *archive = new_archive(dir);
	char *log = ts_fmt("%s/pools.log", dir);
	make_bad_files(dir, bad);
	int good_pages = 0;
	for (int i = 0; i < NIGHT_JOBS; i++) {
		char *name = ts_fmt("%s.tif", night[i].tag);
		char *tif = make_tiff(dir, name, night[i].parts);
		const char *files[] = { tif, NULL, NULL, NULL, NULL, NULL };
		if (night[i].with_bad)
			for (int b = 0; b < 4; b++)
				files[1 + b] = bad[b];
		ids[i] = add_job(archive, night[i].tag, files);
		good_pages += night[i].pages;
		free(tif);
		free(name);
	}
	cr_assert_eq(good_pages, 24);

	/* the night: rounds of three single-worker kills and one power cut,
	 * a kill every 1 to 2 s (the 16 kills in 40 s, or harder), with
	 * the default options */
	unsigned seed = (unsigned)time(NULL);
	cr_log_info("night: seed %u", seed);
	int single = 0, cuts = 0;
	double t0 = ts_now();
	pid_t pool = pool_start(archive, log, NULL);
	for (int round = 0; round < NIGHT_ROUNDS; round++) {
		for (int k = 0; k < NIGHT_SINGLE_KILLS; k++) {
			nap(1.0 + (rand_r(&seed) % 1000) / 1000.0);
			single += kill_a_worker(archive, pool, &seed);
		}
		nap(1.0 + (rand_r(&seed) % 1000) / 1000.0);
		pool_kill(pool);
		cuts++;
		pool = pool_start(archive, log, NULL);
	}
	double killed = ts_now() - t0;
	int st = pool_wait(pool, 400);
	cr_log_info("night: %d single kills and %d power cuts in %.1f s; drained at %.1f s",
		    single, cuts, killed, ts_now() - t0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the last pool ended with 0x%x", st);
	cr_expect_geq(single + cuts, 14, "only %d kills landed", single + cuts);
	/* the operator's last run finds nothing left */
	char *cmd = ts_fmt("OMP_THREAD_LIMIT=1 timeout 300 %s worker '%s' -j 2 --drain",
			   BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);

	json_t *s = status_json(archive);
	cr_expect_eq(json_integer_value(json_object_get(s, "done")), NIGHT_JOBS, "%s",
		     json_dumps(s, 0));
	cr_expect_eq(json_integer_value(json_object_get(s, "failed")), 0);
	cr_expect_eq(json_integer_value(json_object_get(s, "queued")), 0);
	cr_expect_eq(json_integer_value(json_object_get(s, "running")), 0);
	char names[16][128];
	cr_expect_eq(list_sub(archive, "failed", names, 16), 0, "something is in failed/");
	cr_expect_eq(list_sub(archive, "claimed", names, 16), 0);
	check_one_state(archive, ids, NIGHT_JOBS);
	int found = 0;
	for (int i = 0; i < NIGHT_JOBS; i++) {
		json_t *job = status_job(s, ids[i]);
		if (night[i].with_bad) {
			check_missing_named(job, bad_names, 4);
		} else {
			cr_expect_eq(json_array_size(json_object_get(job, "missing")), 0,
				     "job %s lost pages: %s", night[i].tag,
				     json_dumps(json_object_get(job, "missing"), 0));
		}
		cr_expect_eq(pdf_pages(archive, night[i].tag, ids[i]),
			     night[i].pages + (night[i].with_bad ? 4 : 0), "job %s", night[i].tag);
		found += check_pages_found(archive, night[i].tag, ids[i], night[i].pages + 1);
	}
	json_decref(s);
	cr_log_info("night: %d of %d good pages found by a phrase of their own", found,
		    good_pages);
	cr_expect_geq(found, good_pages - 2, "too few pages with a phrase to search");
	cmd = ts_fmt("%s verify '%s'", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);
	char *logs = worker_logs(archive);
	int charged = 0, recovered = 0;
	for (char *p = logs; (p = strstr(p, "event=recover ")); p++) {
		recovered++;
		char *eol = strchr(p, '\n');
		char *c = strstr(p, "charged=yes");
		charged += c && (!eol || c < eol);
	}
	cr_log_info("night: %d claims recovered, %d deaths charged to a page", recovered,
		    charged);
	free(logs);

	for (int i = 0; i < NIGHT_JOBS; i++)
		free(ids[i]);
	for (int i = 0; i < 4; i++)
		free(bad[i]);
	free(log);
	free(archive);
	if (!getenv("BUNKO_CHAOS_KEEP"))
		ts_rmtree(dir);
	free(dir);
}

/* ---- pages that kill or hang workers ------------------------------------ */

/* Runs a pool on a job of h-reiki.tif + v-gian.tif (3 pages) and hits every
 * worker that begins page 1 with `sig`, `times` times; returns the job id. */
static char *hit_page_one(const char *dir, const char *archive, int sig, int times,
			  const char *const *extra, int *hits)
{
	const char *parts[] = { "h-reiki.tif", NULL };
	char *tif = make_tiff(dir, "two.tif", parts);
	char *one = ts_sample("v-gian.tif");
	const char *files[] = { tif, one, NULL };
	char *id = add_job(archive, "reiki", files);
	char *log = ts_fmt("%s/pool.log", dir);
	pid_t pool = pool_start(archive, log, extra);
	long last = 0;
	double until = ts_now() + 240;
	*hits = 0;
	while (*hits < times && ts_now() < until && !pool_gone(pool)) {
		struct claim c[4];
		int n = claims(archive, c, 4);
		/* a worker on page 1: not the pool's supervisor, which holds the
		 * claim for a moment when it takes a dead worker's job back, the
		 * dead worker's page record still there */
		for (int i = 0; i < n; i++)
			if (c[i].index == 0 && c[i].pid != last && c[i].pid != (long)pool &&
			    kill((pid_t)c[i].pid, sig) == 0) {
				last = c[i].pid;
				(*hits)++;
			}
		nap(0.02);
	}
	int st = pool_wait(pool, 300);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pool ended with 0x%x", st);
	free(log);
	free(one);
	free(tif);
	return id;
}

static void check_quarantined(const char *archive, const char *id, const char *why)
{
	json_t *s = status_json(archive);
	cr_expect_eq(json_integer_value(json_object_get(s, "done")), 1);
	cr_expect_eq(json_integer_value(json_object_get(s, "failed")), 0);
	json_t *missing = json_object_get(status_job(s, id), "missing");
	cr_assert_eq(json_array_size(missing), 1, "%s", json_dumps(missing, 0));
	json_t *m = json_array_get(missing, 0);
	cr_expect_str_eq(json_string_value(json_object_get(m, "file")), "two.tif");
	cr_expect_eq(json_integer_value(json_object_get(m, "page")), 1);
	const char *reason = json_string_value(json_object_get(m, "reason"));
	cr_expect(reason && strstr(reason, "quarantined") && strstr(reason, why), "%s", reason);
	json_decref(s);
	/* the rest of the volume went on: pages 2 and 3 read, page 1 a placeholder */
	cr_expect_eq(pdf_pages(archive, "reiki", id), 3);
	char *text = store_file(archive, "reiki", id, "data/text.txt");
	cr_expect(strstr(text, "MISSING FROM THIS DOCUMENT") == text, "page 1: %.80s", text);
	free(text);
	cr_expect_geq(check_pages_found(archive, "reiki", id, 4), 1);
}

Test(overnight, a_page_that_crashes_its_worker_three_times_is_quarantined, .timeout = 600)
{
	char *dir = ts_mkdtemp("night-segv");
	TS_NEED_TOOL("tiffcp");
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	char *archive = new_archive(dir);
	int hits;
	const char *extra[] = { "-j", "1", NULL };
	char *id = hit_page_one(dir, archive, SIGSEGV, 3, extra, &hits);
	cr_expect_eq(hits, 3);
	check_quarantined(archive, id, "crashed with signal 11");
	char *logs = worker_logs(archive);
	cr_expect(strstr(logs, "event=quarantine") != NULL, "%s", logs);
	free(logs);
	free(id);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}

Test(overnight, a_hung_page_is_killed_at_its_limit_and_drain_ends, .timeout = 600)
{
	char *dir = ts_mkdtemp("night-hang");
	TS_NEED_TOOL("tiffcp");
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	char *archive = new_archive(dir);
	int hits;
	/* SIGSTOP: the worker hangs on the page, as a stuck Tesseract would */
	const char *extra[] = { "-j", "1", "--page-timeout", "20", NULL };
	double t0 = ts_now();
	char *id = hit_page_one(dir, archive, SIGSTOP, 3, extra, &hits);
	cr_log_info("hang: drained in %.1f s", ts_now() - t0);
	cr_expect_eq(hits, 3);
	check_quarantined(archive, id, "time limit");
	char *logs = worker_logs(archive);
	int deadlines = 0;
	for (char *p = logs; (p = strstr(p, "event=deadline ")); p++)
		deadlines++;
	cr_expect_eq(deadlines, 3, "%s", logs);
	free(logs);
	free(id);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}

/* ---- fencing ------------------------------------------------------------ */

Test(overnight, a_stopped_worker_that_lost_its_claim_writes_nothing, .timeout = 600)
{
	char *dir = ts_mkdtemp("night-fence");
	TS_NEED_TOOL("tiffcp");
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	char *archive = new_archive(dir);
	const char *parts[] = { "v-gian.tif", "mixed.tif", "v-gian.tif", "mixed.tif", NULL };
	char *tif = make_tiff(dir, "four.tif", parts);
	const char *files[] = { tif, NULL };
	char *id = add_job(archive, "gian", files);
	char *log = ts_fmt("%s/pool.log", dir);

	/* pool A freezes (SIGSTOP to all of it: a frozen VM) on page 2 */
	const char *lease[] = { "-j", "1", "--lease", "3", NULL };
	pid_t a = pool_start(archive, log, lease);
	double until = ts_now() + 120;
	bool frozen = false;
	while (!frozen && ts_now() < until) {
		struct claim c[2];
		if (claims(archive, c, 2) == 1 && c[0].index == 1) {
			kill(-a, SIGSTOP);
			frozen = true;
		}
		nap(0.02);
	}
	cr_assert(frozen, "pool A never began page 2");
	/* pool B takes the job once A's lease has run out, and finishes it */
	char *cmd = ts_fmt("OMP_THREAD_LIMIT=1 timeout 200 %s worker '%s' -j 1 --drain "
			   "--lease 3", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);
	char names[8][128];
	cr_expect_eq(list_sub(archive, "done", names, 8), 1);
	/* A wakes up: it must notice and write nothing */
	kill(-a, SIGCONT);
	nap(8);
	kill(-a, SIGTERM);
	int st = pool_wait(a, 60);
	cr_expect(WIFEXITED(st), "pool A ended with 0x%x", st);

	check_one_state(archive, &id, 1);
	cr_expect_eq(list_sub(archive, "done", names, 8), 1);
	cr_expect_eq(list_sub(archive, "failed", names, 8), 0, "A moved a copy to failed/");
	cr_expect_eq(list_sub(archive, "claimed", names, 8), 0, "A recreated its claim");
	cr_expect_eq(list_sub(archive, "incoming", names, 8), 0);
	json_t *s = status_json(archive);
	cr_expect_eq(json_integer_value(json_object_get(s, "done")), 1);
	cr_expect_eq(json_integer_value(json_object_get(s, "failed")), 0);
	json_decref(s);
	cr_expect_eq(pdf_pages(archive, "gian", id), 4);
	char *logs = worker_logs(archive);
	cr_expect(strstr(logs, "event=lost") || strstr(logs, "result=lost"),
		  "A did not notice it lost the claim: %s", logs);
	free(logs);
	cmd = ts_fmt("%s verify '%s'", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);
	free(log);
	free(tif);
	free(id);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}

/* ---- requeue ------------------------------------------------------------ */

Test(overnight, requeue_brings_a_failed_job_back_without_redoing_its_pages,
     .timeout = 600)
{
	char *dir = ts_mkdtemp("night-requeue");
	TS_NEED_TOOL("tiffcp");
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	char *archive = new_archive(dir);
	const char *parts[] = { "v-gian.tif", "mixed.tif", NULL };
	char *tif = make_tiff(dir, "two.tif", parts);
	const char *files[] = { tif, NULL };
	char *id = add_job(archive, "gian", files);
	char *bad[4];
	make_bad_files(dir, bad);
	const char *bad_files[] = { bad[0], bad[3], NULL };
	char *other = add_job(archive, "notes", bad_files);
	char *log = ts_fmt("%s/pool.log", dir);

	/* the job's worker is killed from outside once its pages are read
	 * (not counted: not the job's doing), and the next one crashes while
	 * building the document, having made no progress: with --tries 1
	 * that sends the job to failed/, its checkpoints kept */
	const char *once[] = { "-j", "1", "--tries", "1", NULL };
	pid_t pool = pool_start(archive, log, once);
	double until = ts_now() + 200;
	int hits = 0;
	long last = 0;
	while (hits < 2 && ts_now() < until && !pool_gone(pool)) {
		struct claim c[2];
		int n = claims(archive, c, 2);
		for (int i = 0; i < n; i++)
			if (c[i].index == -2 && !strcmp(c[i].job, id) && c[i].pid != last &&
			    c[i].pid != (long)pool && /* not the supervisor taking it back */
			    kill((pid_t)c[i].pid, hits ? SIGSEGV : SIGKILL) == 0) {
				last = c[i].pid;
				hits++;
			}
		nap(0.005);
	}
	cr_assert_eq(hits, 2, "never saw the document being built twice");
	int st = pool_wait(pool, 200);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char names[8][128];
	cr_assert_eq(list_sub(archive, "failed", names, 8), 2, "both jobs should have failed");
	char *logs = worker_logs(archive);
	size_t before = strlen(logs);
	free(logs);

	/* a job that is not failed is named; nothing else changes */
	char *cmd = ts_fmt("%s requeue '%s' nosuchjob 2>&1", BUNKO_EXE, archive);
	char *out = NULL;
	cr_expect_eq(ts_run(cmd, &out, 1), 1);
	cr_expect(strstr(out, "'nosuchjob'") != NULL, "%s", out);
	free(out);
	free(cmd);
	/* --failed --collection picks the failed jobs of one collection */
	cmd = ts_fmt("%s requeue '%s' --failed --collection gian", BUNKO_EXE, archive);
	out = ts_run_ok(cmd);
	free(cmd);
	char *want = ts_fmt("%s\n", id);
	cr_expect_str_eq(out, want);
	free(want);
	free(out);
	cr_expect_eq(list_sub(archive, "failed", names, 8), 1);
	cr_expect_str_eq(names[0], other);
	cmd = ts_fmt("OMP_THREAD_LIMIT=1 timeout 200 %s worker '%s' --drain", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);
	json_t *s = status_json(archive);
	cr_expect_eq(json_integer_value(json_object_get(s, "done")), 1);
	cr_expect_eq(json_array_size(json_object_get(s, "paused")), 0,
		     "a pool that ended is still shown paused");
	cr_expect_eq(json_integer_value(json_object_get(status_job(s, id), "tries")), 0);
	json_decref(s);
	cr_expect_eq(pdf_pages(archive, "gian", id), 2);
	cr_expect_eq(check_pages_found(archive, "gian", id, 3), 2);
	/* no page was read again after the requeue */
	logs = worker_logs(archive);
	char *page_line = ts_fmt("job=%s page=", id);
	cr_expect(strstr(logs + before, page_line) == NULL, "pages read again: %s",
		  logs + before);
	char *done_line = ts_fmt("job=%s pages=2 ", id);
	cr_expect(strstr(logs + before, done_line) != NULL, "%s", logs + before);
	cr_expect(strstr(logs + before, "event=requeue") != NULL);
	free(done_line);
	free(page_line);
	free(logs);
	for (int i = 0; i < 4; i++)
		free(bad[i]);
	free(other);
	free(log);
	free(tif);
	free(id);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}

/* ---- a full disk, a failing disk ---------------------------------------- */

static int count_of(const char *text, const char *what)
{
	int n = 0;
	for (const char *p = text; p && (p = strstr(p, what)); p++)
		n++;
	return n;
}

/* A pool under the fault library; the fault is switched on once its worker
 * has begun page 2 of a 4-page job. */
static pid_t faulty_pool(const char *dir, const char *archive, const char *control,
			 const char *fault, const char *log, char **id)
{
	const char *parts[] = { "v-gian.tif", "mixed.tif", "v-gian.tif", "mixed.tif", NULL };
	char *tif = make_tiff(dir, "four.tif", parts);
	const char *files[] = { tif, NULL };
	*id = add_job(archive, "gian", files);
	setenv("LD_PRELOAD", BUNKO_FAULT_SHIM, 1);
	setenv("BUNKO_FAULT_CONTROL", control, 1);
	const char *one[] = { "-j", "1", NULL };
	pid_t pool = pool_start(archive, log, one);
	unsetenv("LD_PRELOAD");
	unsetenv("BUNKO_FAULT_CONTROL");
	double until = ts_now() + 120;
	bool on = false;
	while (!on && ts_now() < until) {
		struct claim c[2];
		if (claims(archive, c, 2) == 1 && c[0].index >= 1)
			on = ts_write(control, fault, strlen(fault)) == 0;
		nap(0.02);
	}
	cr_assert(on, "the worker never began page 2");
	free(tif);
	return pool;
}

Test(overnight, a_full_disk_pauses_the_pool_and_costs_no_try, .timeout = 600)
{
	char *dir = ts_mkdtemp("night-enospc");
	TS_NEED_TOOL("tiffcp");
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	char *archive = new_archive(dir);
	char *control = ts_fmt("%s/fault", dir), *log = ts_fmt("%s/pool.log", dir), *id;
	pid_t pool = faulty_pool(dir, archive, control, "enospc", log, &id);

	/* one clear message, whatever the retries */
	double until = ts_now() + 60;
	char *text = NULL;
	while (ts_now() < until) {
		free(text);
		text = ts_read(log, NULL);
		if (text && strstr(text, "paused: no space left"))
			break;
		nap(0.2);
	}
	cr_assert(text && strstr(text, "paused: no space left"), "no pause: %s", text);
	nap(12); /* a retry at least */
	free(text);
	text = ts_read(log, NULL);
	cr_expect_eq(count_of(text, "bunko: "), 1, "not one message: %s", text);
	char names[8][128];
	cr_expect_eq(list_sub(archive, "failed", names, 8), 0, "the job was failed");
	cr_expect(!pool_gone(pool), "the pool ended on a full disk");
	char *logs = worker_logs(archive);
	cr_expect_eq(count_of(logs, "event=pause "), 1, "%s", logs);
	free(logs);
	/* the pause is in the status while it lasts */
	json_t *ps = status_json(archive);
	json_t *paused = json_object_get(ps, "paused");
	cr_expect_eq(json_array_size(paused), 1, "no pause in the status");
	cr_expect(strstr(json_string_value(json_object_get(json_array_get(paused, 0), "message"))
			     ?: "", "no space left"), "the pause does not say why");
	json_decref(ps);
	char *scmd = ts_fmt("%s status '%s'", BUNKO_EXE, archive);
	char *stext = ts_run_ok(scmd);
	cr_expect(strstr(stext, "\npaused  pool "), "no pause in the status: %s", stext);
	free(stext);
	free(scmd);

	/* space again: the job goes on where it was, charged nothing */
	unlink(control);
	int st = pool_wait(pool, 300);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pool ended with 0x%x", st);
	json_t *s = status_json(archive);
	cr_expect_eq(json_integer_value(json_object_get(s, "done")), 1);
	cr_expect_eq(json_array_size(json_object_get(s, "paused")), 0,
		     "a pool that ended is still shown paused");
	cr_expect_eq(json_integer_value(json_object_get(status_job(s, id), "tries")), 0);
	cr_expect_eq(json_array_size(json_object_get(status_job(s, id), "missing")), 0);
	json_decref(s);
	cr_expect_eq(pdf_pages(archive, "gian", id), 4);
	char *cmd = ts_fmt("%s verify '%s'", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);
	free(text);
	free(id);
	free(log);
	free(control);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}

Test(overnight, a_failing_disk_stops_the_pool_with_one_line, .timeout = 300)
{
	char *dir = ts_mkdtemp("night-eio");
	TS_NEED_TOOL("tiffcp");
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	char *archive = new_archive(dir);
	char *control = ts_fmt("%s/fault", dir), *log = ts_fmt("%s/pool.log", dir), *id;
	pid_t pool = faulty_pool(dir, archive, control, "eio", log, &id);
	int st = pool_wait(pool, 120);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 1, "pool ended with 0x%x", st);
	char *text = ts_read(log, NULL);
	cr_expect_eq(count_of(text, "\n"), 1, "not one line: %s", text);
	cr_expect(text && !strncmp(text, "bunko: ", 7) &&
			  (strstr(text, "I/O error") || strstr(text, "Input/output error")),
		  "%s", text);
	/* nothing failed; once the disk is repaired the next run finishes the
	 * job where it was, charged nothing */
	char names[8][128];
	cr_expect_eq(list_sub(archive, "failed", names, 8), 0);
	unlink(control);
	char *cmd = ts_fmt("OMP_THREAD_LIMIT=1 timeout 200 %s worker '%s' --drain", BUNKO_EXE,
			   archive);
	free(ts_run_ok(cmd));
	free(cmd);
	json_t *s = status_json(archive);
	cr_expect_eq(json_integer_value(json_object_get(s, "done")), 1);
	cr_expect_eq(json_array_size(json_object_get(s, "paused")), 0,
		     "a pool that ended is still shown paused");
	cr_expect_eq(json_integer_value(json_object_get(status_job(s, id), "tries")), 0);
	json_decref(s);
	cr_expect_eq(pdf_pages(archive, "gian", id), 4);
	free(text);
	free(id);
	free(log);
	free(control);
	free(archive);
	ts_rmtree(dir);
	free(dir);
}
