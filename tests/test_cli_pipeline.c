/*
 * tests/test_cli_pipeline.c — the batch path end to end through the real
 * `bunko` executable: init, add (a good two-page by-law TIFF and every bad
 * sample, one job each), worker -j 2 --drain, status --json, search, and
 * reindex. The good job's document is searchable on the right page and its
 * done/ entry keeps only its records (no input copies, no checkpoints);
 * each bad file's job is in failed/ with its file, page and reason, and did
 * not stop the good one. Plus `bunko add` argument checking (no OCR), and
 * the worker pool's edges: --drain does not leave a claim nobody renews
 * (it takes it back and does the job) but does not wait for a claim a live
 * worker renews; a crashed worker is restarted and both, with the
 * recovery, are in the host's log; `bunko status` reads every host's log;
 * --no-index stores without indexing until `bunko reindex`.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

/* Reads a GT file with all whitespace removed. */
static char *gt(const char *name)
{
	char *path = ts_sample(name);
	char *t = ts_read(path, NULL);
	cr_assert_not_null(t, "missing %s", path);
	free(path);
	return ts_strip_space(t);
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
	free(ts_run_ok_stdout(cmd));
	free(cmd);
	cr_assert(asprintf(&cmd, "%s add %s/a %s/h-reiki.tif --collection reiki "
			   "--profile bylaw --title 例規集 --date 1950-04-01 --box 12",
			   BUNKO_EXE, dir, BUNKO_SAMPLES_DIR) > 0);
	char *good_id = ts_run_ok_stdout(cmd);
	*strchr(good_id, '\n') = '\0';
	free(cmd);
	for (int i = 0; i < nbad; i++) {
		cr_assert(asprintf(&cmd, "%s add %s/a %s/bad/%s --collection bad",
				   BUNKO_EXE, dir, BUNKO_SAMPLES_DIR, bad[i]) > 0);
		free(ts_run_ok_stdout(cmd));
		free(cmd);
	}

	cr_assert(asprintf(&cmd, "%s worker %s/a -j 2 --drain", BUNKO_EXE, dir) > 0);
	free(ts_run_ok_stdout(cmd));
	free(cmd);

	cr_assert(asprintf(&cmd, "%s status %s/a --json", BUNKO_EXE, dir) > 0);
	out = ts_run_ok_stdout(cmd);
	free(cmd);
	cr_expect_eq(ts_json_int(out, "queued"), 0, "%s", out);
	cr_expect_eq(ts_json_int(out, "running"), 0, "%s", out);
	cr_expect_eq(ts_json_int(out, "done"), 1, "%s", out);
	cr_expect_eq(ts_json_int(out, "failed"), nbad, "%s", out);
	cr_expect_eq(ts_json_int(out, "pages_done"), 2, "%s", out);
	cr_expect_eq(ts_json_int(out, "pages_total"), 2, "%s", out);
	/* every bad file is named in a failure, the truncated one with its page */
	for (int i = 0; i < nbad; i++) {
		char want[64];
		snprintf(want, sizeof(want), "\"file\": \"%s\"", bad[i]);
		cr_expect(strstr(out, want) != NULL, "no failure for %s: %s", bad[i], out);
	}
	cr_expect(strstr(out, "'truncated.tif' page 1: ") != NULL, "%s", out);
	cr_expect(strstr(out, "'bomb.png'") && strstr(out, "exceeds"), "%s", out);
	free(out);

	/* the done job keeps its records only: job.meta, progress, the
	 * result, and who held it last (owner, page: pipeline/queue.h); its input copy and page checkpoints are gone (the store
	 * holds the masters) */
	cr_assert(asprintf(&cmd, "cd %s/a/queue/done/%s && find . -type f | sort | tr '\\n' ' '",
			   dir, good_id) > 0);
	out = ts_run_ok_stdout(cmd);
	free(cmd);
	cr_expect_str_eq(out, "./heartbeat ./job.meta ./owner ./page ./result ./work/progress ",
			 "%s", out);
	free(out);
	cr_assert(asprintf(&cmd, "python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); "
			   "print(r[\"format\"], r[\"pages\"], r[\"indexed\"], r[\"collection\"])' "
			   "%s/a/queue/done/%s/result", dir, good_id) > 0);
	out = ts_run_ok_stdout(cmd);
	free(cmd);
	cr_expect_str_eq(out, "bunko-result 2 True reiki\n");
	free(out);
	cr_assert(asprintf(&cmd, "cmp %s/h-reiki.tif %s/a/store/reiki/%s/data/masters/h-reiki.tif",
			   BUNKO_SAMPLES_DIR, dir, good_id) > 0);
	free(ts_run_ok_stdout(cmd));
	free(cmd);

	/* the failed jobs keep their reason files */
	cr_assert(asprintf(&cmd, "for f in %s/a/queue/failed/*/reason; do python3 -c "
			   "'import json,sys; r=json.load(open(sys.argv[1])); "
			   "print(r[\"file\"], r[\"page\"])' \"$f\"; done", dir) > 0);
	out = ts_run_ok_stdout(cmd);
	free(cmd);
	cr_expect(strstr(out, "truncated.tif 1\n") != NULL, "%s", out);
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

	/* an index of another schema version (an older bunko's) is refused
	 * with a message that says what to do, and reindex rebuilds it */
	cmd = ts_fmt("/usr/bin/python3 -c \"import os, sqlite3; "
		     "c = sqlite3.connect(os.path.realpath('%s/a/index/public.db')); "
		     "c.execute(\\\"UPDATE bunko_index_info SET value = '3' WHERE key = 'schema'\\\"); "
		     "c.commit()\"", dir);
	cr_assert_eq(ts_run(cmd, &out, 1), 0, "%s: %s", cmd, out);
	free(cmd);
	free(out);
	cmd = ts_fmt("%s search %s/a 'x'", BUNKO_EXE, dir);
	out = NULL;
	cr_expect_neq(ts_run(cmd, &out, 1), 0, "a search of an old index succeeded: %s", out);
	cr_expect(strstr(out, "has schema version 3") && strstr(out, "bunko reindex"), "%s", out);
	free(cmd);
	free(out);

	/* reindex from the stored page models: search still works */
	cr_assert(asprintf(&cmd, "%s reindex %s/a", BUNKO_EXE, dir) > 0);
	out = ts_run_ok_stdout(cmd);
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
	/* '--' ends the options: the same search with options first */
	cmd = ts_fmt("%s search --json --limit 5 -- %s/a '%s'", BUNKO_EXE, dir, phrase);
	out = NULL;
	cr_expect_eq(ts_run(cmd, &out, 0), 0, "%s", cmd);
	free(cmd);
	cr_expect(strstr(out, good_id) && strstr(out, "\"page\":1"), "after '--': %s", out);
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
	free(ts_run_ok_stdout(cmd));
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
	char *out = ts_run_ok_stdout(cmd);
	cr_expect_eq(atoi(out), 0, "%s", out);
	free(out);
	free(cmd);
	ts_rmtree(dir);
	free(dir);
}

/* ---- the worker pool's edges ------------------------------------------- */


/* A new archive in `dir` with one job of `sample`; returns the job id. */
static char *archive_with_job(const char *dir, const char *sample, const char *coll)
{
	char *cmd = ts_fmt("%s init %s/a", BUNKO_EXE, dir);
	free(ts_run_ok_stdout(cmd));
	free(cmd);
	cmd = ts_fmt("%s add %s/a %s/%s --collection %s", BUNKO_EXE, dir, BUNKO_SAMPLES_DIR,
		  sample, coll);
	char *id = ts_run_ok_stdout(cmd);
	*strchr(id, '\n') = '\0';
	free(cmd);
	return id;
}

/* Every log/worker*.log of the archive, concatenated. */
static char *worker_logs(const char *dir)
{
	char *cmd = ts_fmt("cat %s/a/log/worker*.log", dir);
	char *out = ts_run_ok_stdout(cmd);
	free(cmd);
	return out;
}

/* The scratch directory's archive is dir/a. */
static int entries(const char *dir, const char *sub)
{
	char *archive = ts_fmt("%s/a", dir);
	int n = ts_queue_entries(archive, sub);
	free(archive);
	return n;
}

/* A process that stays alive until killed and, if `claim_prefix` is given,
 * renews the heartbeat of claim <claim_prefix><its pid> every 0.3 s, as a
 * live worker does. */
static pid_t holder(const char *claim_prefix)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *hb = NULL;
		if (claim_prefix &&
		    asprintf(&hb, "%s%ld/heartbeat", claim_prefix, (long)getpid()) < 0)
			_exit(2);
		for (;;) {
			if (hb)
				utimensat(AT_FDCWD, hb, NULL, 0);
			struct timespec ts = { 0, 300 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	return pid;
}

/* Moves the job into claimed/ under `pid` of this host, heartbeat fresh;
 * returns the heartbeat's path. */
static char *fake_claim(const char *dir, const char *id, pid_t pid)
{
	char host[256];
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	char *from = ts_fmt("%s/a/queue/incoming/%s", dir, id);
	char *to = ts_fmt("%s/a/queue/claimed/%s@%s.%ld", dir, id, host, (long)pid);
	char *hb = ts_fmt("%s/heartbeat", to);
	cr_assert_eq(rename(from, to), 0, "%s", strerror(errno));
	cr_assert_eq(ts_write(hb, "", 0), 0);
	free(from);
	free(to);
	return hb;
}

Test(cli_pipeline, drain_takes_back_a_claim_nobody_renews, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-drain");
	char *id = archive_with_job(dir, "v-gian.tif", "gian");
	/* the claim's pid is alive (after a reboot, say, someone else's), its
	 * heartbeat fresh, but nothing renews it */
	pid_t other = holder(NULL);
	char *hb = fake_claim(dir, id, other);

	double t0 = ts_now();
	char *cmd = ts_fmt("OMP_THREAD_LIMIT=1 timeout 120 %s worker %s/a -j 1 --drain --lease 3",
			BUNKO_EXE, dir);
	free(ts_run_ok_stdout(cmd));
	free(cmd);
	double took = ts_now() - t0;
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);

	cr_expect_eq(entries(dir, "claimed"), 0, "the claim was left in claimed/");
	cr_expect_eq(entries(dir, "incoming"), 0);
	cr_expect_eq(entries(dir, "done"), 1, "the job was not done");
	cr_expect_geq(took, 3.0, "drained in %.1f s, before the lease could expire", took);
	char *log = worker_logs(dir);
	/* a claim that shows no page begun is no page's fault */
	char *want = ts_fmt("event=recover job=%s tries=0 ", id);
	cr_expect(strstr(log, want) != NULL, "no recovery logged: %s", log);
	free(want);
	free(log);
	cmd = ts_fmt("%s status %s/a --json", BUNKO_EXE, dir);
	char *out = ts_run_ok_stdout(cmd);
	cr_expect_eq(ts_json_int(out, "running"), 0, "%s", out);
	cr_expect_eq(ts_json_int(out, "done"), 1, "%s", out);
	free(out);
	free(cmd);
	free(hb);
	free(id);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_pipeline, drain_does_not_wait_for_a_claim_a_live_worker_renews, .timeout = 120)
{
	char *dir = ts_mkdtemp("cli-drain2");
	char *id = archive_with_job(dir, "v-gian.tif", "gian");
	/* another live worker holds the job and renews its lease */
	char host[256];
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	char *prefix = ts_fmt("%s/a/queue/claimed/%s@%s.", dir, id, host);
	pid_t live = holder(prefix);
	char *hb = fake_claim(dir, id, live);
	usleep(500 * 1000);

	double t0 = ts_now();
	char *cmd = ts_fmt("OMP_THREAD_LIMIT=1 timeout 60 %s worker %s/a -j 1 --drain --lease 30",
			BUNKO_EXE, dir);
	free(ts_run_ok_stdout(cmd));
	free(cmd);
	double took = ts_now() - t0;
	kill(live, SIGKILL);
	waitpid(live, NULL, 0);
	cr_expect_lt(took, 20.0, "drain waited %.1f s for a live worker's job", took);
	cr_expect_eq(entries(dir, "claimed"), 1, "a live worker's claim was taken");
	cr_expect_eq(entries(dir, "done"), 0);
	free(prefix);
	free(hb);
	free(id);
	ts_rmtree(dir);
	free(dir);
}

/* The pid of the worker holding a claim in claimed/, or 0. */
static pid_t claim_holder(const char *dir)
{
	char *path = ts_fmt("%s/a/queue/claimed", dir);
	DIR *d = opendir(path);
	struct dirent *de;
	pid_t pid = 0;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && strrchr(de->d_name, '.'))
			pid = (pid_t)atol(strrchr(de->d_name, '.') + 1);
	if (d)
		closedir(d);
	free(path);
	return pid;
}

Test(cli_pipeline, crashed_worker_is_restarted_and_logged, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-restart");
	char *id = archive_with_job(dir, "h-reiki.tif", "reiki");
	char *archive = ts_fmt("%s/a", dir);

	pid_t pool = fork();
	cr_assert_geq(pool, 0);
	if (pool == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		setenv("OMP_THREAD_LIMIT", "1", 1);
		execl(BUNKO_EXE, BUNKO_EXE, "worker", archive, "-j", "1", "--lease", "30",
		      (char *)NULL);
		_exit(127);
	}
	/* kill the worker as soon as it holds the job */
	pid_t victim = 0;
	double until = ts_now() + 60;
	while (!victim && ts_now() < until) {
		victim = claim_holder(dir);
		if (!victim)
			usleep(20 * 1000);
	}
	cr_assert_neq(victim, 0, "no worker claimed the job");
	cr_assert_eq(kill(victim, SIGKILL), 0);
	/* the pool restarts it, takes the job back and does it */
	until = ts_now() + 120;
	while (entries(dir, "done") == 0 && ts_now() < until)
		usleep(100 * 1000);
	kill(pool, SIGTERM);
	int status;
	waitpid(pool, &status, 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "pool status 0x%x", status);
	cr_expect_eq(entries(dir, "done"), 1, "the job was not done after the crash");

	char host[256];
	cr_assert_eq(gethostname(host, sizeof(host)), 0);
	char *log_path = ts_fmt("%s/log/worker-%s.log", archive, host);
	char *log = ts_read(log_path, NULL);
	cr_assert_not_null(log, "no '%s'", log_path);
	char *crash = ts_fmt("event=crash worker=%s.%ld reason=signal 9", host, (long)victim);
	char *restart = ts_fmt("event=restart worker=%s.%ld new=", host, (long)victim);
	/* a SIGKILL from outside (not the kernel's for memory) is no page's
	 * fault: not counted */
	char *recover = ts_fmt("event=recover job=%s tries=0 from=%s.%ld to=incoming", id, host,
			    (long)victim);
	cr_expect(strstr(log, crash) != NULL, "no '%s' in: %s", crash, log);
	cr_expect(strstr(log, restart) != NULL, "no '%s' in: %s", restart, log);
	cr_expect(strstr(log, recover) != NULL, "no '%s' in: %s", recover, log);
	free(crash);
	free(restart);
	free(recover);
	free(log);
	free(log_path);
	free(archive);
	free(id);
	ts_rmtree(dir);
	free(dir);
}

/* A page line as pipeline/log.h writes it, ended now, `seconds` long. */
static char *page_line(const char *job, double seconds)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	return ts_fmt("%s job=%s page=1/1 seconds=%.2f result=ok worker=x.1\n", stamp, job,
		   seconds);
}

Test(cli_pipeline, status_reads_every_hosts_log)
{
	char *dir = ts_mkdtemp("cli-logs"), *cmd = ts_fmt("%s init %s/a", BUNKO_EXE, dir);
	free(ts_run_ok_stdout(cmd));
	free(cmd);
	/* two hosts, one page each, both begun 100 s ago: 72 pages an hour;
	 * one host's log alone would say 36 */
	const char *hosts[] = { "node-a", "node-b.cluster" };
	for (int i = 0; i < 2; i++) {
		char *path = ts_fmt("%s/a/log/worker-%s.log", dir, hosts[i]);
		char *line = page_line(hosts[i], 100);
		cr_assert_eq(ts_write(path, line, strlen(line)), 0);
		free(line);
		free(path);
	}
	cmd = ts_fmt("%s status %s/a --json", BUNKO_EXE, dir);
	char *out = ts_run_ok_stdout(cmd);
	const char *p = strstr(out, "\"pages_per_hour\": ");
	cr_assert_not_null(p, "%s", out);
	double rate = atof(p + 18);
	cr_expect(rate > 60 && rate <= 72.1, "rate %.1f pages/h: %s", rate, out);
	free(out);
	free(cmd);
	ts_rmtree(dir);
	free(dir);
}

Test(cli_pipeline, no_index_stores_without_indexing, .timeout = 300)
{
	char *dir = ts_mkdtemp("cli-noindex");
	char *id = archive_with_job(dir, "h-reiki.tif", "reiki");
	char *cmd = ts_fmt("%s help worker", BUNKO_EXE);
	char *out = NULL;
	ts_run(cmd, &out, 1);
	cr_expect(strstr(out, "--no-index") != NULL, "usage lacks --no-index: %s", out);
	free(out);
	free(cmd);

	cmd = ts_fmt("OMP_THREAD_LIMIT=1 %s worker %s/a -j 1 --drain --no-index", BUNKO_EXE, dir);
	free(ts_run_ok_stdout(cmd));
	free(cmd);
	/* stored, with its page models; the index untouched */
	cmd = ts_fmt("ls %s/a/store/reiki/%s/data/pages", dir, id);
	out = ts_run_ok_stdout(cmd);
	cr_expect_str_eq(out, "0001.page\n0002.page\n");
	free(out);
	free(cmd);
	cmd = ts_fmt("find %s/a/index -mindepth 1 | wc -l", dir);
	out = ts_run_ok_stdout(cmd);
	cr_expect_eq(atoi(out), 0, "the index was written: %s entries", out);
	free(out);
	free(cmd);
	cmd = ts_fmt("python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"indexed\"])' "
		     "%s/a/queue/done/%s/result", dir, id);
	out = ts_run_ok_stdout(cmd);
	cr_expect_str_eq(out, "False\n");
	free(out);
	free(cmd);

	/* reindex builds it from the stored page models */
	char *p1 = gt("h-reiki.p1.gt.txt"), phrase[64];
	cr_assert_eq(utf8_slice(p1, 0, 4, phrase, sizeof(phrase)), 0);
	cmd = ts_fmt("%s reindex %s/a", BUNKO_EXE, dir);
	free(ts_run_ok_stdout(cmd));
	free(cmd);
	cmd = ts_fmt("%s search %s/a '%s' --json", BUNKO_EXE, dir, phrase);
	out = NULL;
	ts_run(cmd, &out, 0);
	cr_expect(strstr(out, id) != NULL, "'%s' not found after reindex: %s", phrase, out);
	free(out);
	free(cmd);
	free(p1);
	free(id);
	ts_rmtree(dir);
	free(dir);
}
