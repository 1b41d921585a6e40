/*
 * tests/test_cli_slurm.c — end to end on a real Slurm cluster: a private
 * single-node cluster (scripts/slurm/local-cluster: real munged, slurmctld
 * and slurmd) drains a bunko archive's queue with the worker array and the
 * index job of scripts/slurm/submit, driving the real `bunko` executable.
 *
 * What it shows:
 *   - two array tasks run `bunko worker --drain --no-index`, every queued job
 *     ends in queue/done, none in queue/failed, none left claimed;
 *   - the workers do not write the index: with the index job still held,
 *     searching finds nothing;
 *   - the index job (`bunko reindex`, after the array) makes the documents
 *     searchable: ground-truth phrases of each page find their document, and
 *     a phrase of a sample that was not added finds nothing.
 *
 * The cluster is stopped and every file removed whatever happens: the
 * scenario runs in a function that returns on the first failed check, and
 * local-cluster's watchdog stops the cluster if this process dies. Outside
 * CI the test is skipped (with the reason printed) only when local-cluster
 * exits 77: Slurm cannot run on this host (not root, packages not
 * installable); under CI=true that is a failure.
 */
#include <criterion/criterion.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

#define SLURM_SCRIPTS BUNKO_SOURCE_DIR "/scripts/slurm"
#define JOBS_TIMEOUT_SECONDS 600 /* both jobs together; ctest's limit is 900 */

/* Returns false from the enclosing function when `cond` fails. */
#define CHECK(cond, ...)                          \
	do {                                      \
		if (!(cond)) {                    \
			cr_expect(false, __VA_ARGS__); \
			return false;             \
		}                                 \
	} while (0)

struct slurm_run {
	char *scratch;  /* the test's directory */
	char *cluster;  /* scratch/cluster: local-cluster's state */
	char *archive;  /* scratch/archive */
	long array_job; /* worker array */
	long index_job;
	time_t deadline; /* for the jobs to finish */
};

/* A sample added as one document, and phrases of its ground truth. */
struct sample_doc {
	const char *file;
	const char *title;
	const char *gt[2];
	const char *phrases[4];
};

static const struct sample_doc docs[] = {
	{ "h-reiki.tif", "slurm-test-h-reiki",
	  { "h-reiki.p1.gt.txt", "h-reiki.p2.gt.txt" },
	  { "電子文書管理ガイドライン", "公金収納支援サービス", "キャッシュレス",
	    "ポスティング業者" } },
	{ "v-gian.tif", "slurm-test-v-gian",
	  { "v-gian.p1.gt.txt", NULL },
	  { "スマートフォン", "ハザードマップ", "防災対策総合ガイド",
	    "ワークショップ" } },
};

/* In the ground truth of samples that are not added. */
static const char *const absent_phrases[] = { "防災アプリ", "microfilm" };

static int run_fmt(char **output, const char *fmt, ...)
{
	char *cmd = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	int rc = ts_run(cmd, output, 1);
	free(cmd);
	return rc;
}

static int count_entries(const char *archive, const char *sub)
{
	char *out = NULL;
	int n = -1;
	if (run_fmt(&out, "ls -A '%s/queue/%s' | wc -l", archive, sub) == 0)
		n = atoi(out);
	free(out);
	return n;
}

/* True when none of the jobs is pending or running any more. */
static bool jobs_finished(const char *job_list, char **squeue_out)
{
	free(*squeue_out);
	*squeue_out = NULL;
	/* With -j squeue lists finished jobs too: ask for live states only. */
	int rc = run_fmt(squeue_out, "squeue -h -j %s -o '%%i %%T %%R' "
			 "-t pending,running,suspended,completing,configuring",
			 job_list);
	return rc == 0 && (*squeue_out)[strspn(*squeue_out, " \n")] == '\0';
}

static bool wait_jobs(const char *job_list, time_t deadline)
{
	char *out = NULL;
	bool done = false;
	while (!(done = jobs_finished(job_list, &out)) && time(NULL) < deadline)
		sleep(3);
	if (!done)
		cr_log_error("jobs %s still queued after %d s:\n%s", job_list,
			     JOBS_TIMEOUT_SECONDS, out ? out : "");
	free(out);
	return done;
}

/* Every record of `job` (one line per array task) says COMPLETED, exit 0:0. */
static bool job_completed(long job)
{
	char *out = NULL;
	int rc = run_fmt(&out, "scontrol -o show job %ld", job);
	int records = 0, completed = 0;
	char *save = NULL;
	for (char *line = rc == 0 ? strtok_r(out, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		records++;
		if (strstr(line, "JobState=COMPLETED ") && strstr(line, " ExitCode=0:0"))
			completed++;
		else
			cr_log_error("job %ld: %s", job, line);
	}
	free(out);
	return records > 0 && completed == records;
}

/* The number after the first "key": in a JSON text, or -1. */
static long json_count(const char *json, const char *key)
{
	char pattern[64];
	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	const char *p = strstr(json, pattern);
	if (!p)
		return -1;
	p += strlen(pattern);
	char *end = NULL;
	long n = strtol(p, &end, 10);
	return end == p ? -1 : n;
}

static bool search_finds(const char *archive, const char *phrase, const char *title)
{
	char *out = NULL;
	run_fmt(&out, "'%s' search '%s' '\"%s\"' --json --limit 20", BUNKO_EXE,
		archive, phrase);
	bool found = out && strstr(out, title) != NULL;
	free(out);
	return found;
}

static void dump_logs(const struct slurm_run *r)
{
	char *out = NULL;
	run_fmt(&out, "for f in '%s'/log/slurm/*.out '%s'/log/*.log; do "
		"[ -f \"$f\" ] && tail -n 30 \"$f\"; done", r->archive, r->cluster);
	cr_log_info("slurm logs:\n%s", out ? out : "");
	free(out);
}

static bool add_samples(const struct slurm_run *r)
{
	char *out = NULL;
	int rc = run_fmt(&out, "'%s' init '%s'", BUNKO_EXE, r->archive);
	CHECK(rc == 0, "bunko init failed (%d): %s", rc, out);
	free(out);
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char *path = ts_sample(docs[i].file);
		CHECK(access(path, R_OK) == 0, "sample '%s' is missing", path);
		rc = run_fmt(&out, "'%s' add '%s' '%s' --collection slurm --title '%s'",
			     BUNKO_EXE, r->archive, path, docs[i].title);
		free(path);
		CHECK(rc == 0, "bunko add '%s' failed (%d): %s", docs[i].file, rc, out);
		free(out);
		out = NULL;
	}
	CHECK(count_entries(r->archive, "incoming") == 2,
	      "expected 2 queued jobs in '%s/queue/incoming'", r->archive);
	return true;
}

/* The phrases the test relies on really are in the ground truth. */
static bool check_phrases_in_gt(void)
{
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char *gt = NULL;
		for (int g = 0; g < 2 && docs[i].gt[g]; g++) {
			char *path = ts_sample(docs[i].gt[g]);
			char *text = ts_read(path, NULL);
			CHECK(text, "cannot read ground truth '%s'", path);
			free(path);
			size_t old = gt ? strlen(gt) : 0;
			gt = realloc(gt, old + strlen(text) + 1);
			strcpy(gt + old, text);
			free(text);
		}
		ts_strip_space(gt);
		for (int p = 0; p < 4; p++)
			CHECK(strstr(gt, docs[i].phrases[p]),
			      "'%s' is not in the ground truth of '%s'",
			      docs[i].phrases[p], docs[i].file);
		free(gt);
	}
	return true;
}

static bool submit_held(struct slurm_run *r)
{
	char *out = NULL;
	/* --hold: the test releases the array, then the index job, to see
	 * the state in between. */
	int rc = run_fmt(&out, "'%s/submit' '%s' --workers 2 --cpus-per-worker 1 "
			 "--time 15 --bunko '%s' -- --hold",
			 SLURM_SCRIPTS, r->archive, BUNKO_EXE);
	CHECK(rc == 0, "submit failed (%d): %s", rc, out);
	const char *a = strstr(out, "worker-array ");
	const char *x = strstr(out, "index-job ");
	CHECK(a && x, "submit printed no job ids: %s", out);
	r->array_job = strtol(a + strlen("worker-array "), NULL, 10);
	r->index_job = strtol(x + strlen("index-job "), NULL, 10);
	free(out);
	CHECK(r->array_job > 0 && r->index_job > 0, "bad job ids %ld %ld",
	      r->array_job, r->index_job);
	return true;
}

static bool release(long job)
{
	char *out = NULL;
	int rc = run_fmt(&out, "scontrol release %ld", job);
	CHECK(rc == 0, "scontrol release %ld failed: %s", job, out);
	free(out);
	return true;
}

static bool scenario(struct slurm_run *r)
{
	char list[64];

	if (!check_phrases_in_gt() || !add_samples(r) || !submit_held(r))
		return false;
	r->deadline = time(NULL) + JOBS_TIMEOUT_SECONDS;

	/* Workers only: both documents processed, nothing indexed yet. */
	if (!release(r->array_job))
		return false;
	snprintf(list, sizeof(list), "%ld", r->array_job);
	CHECK(wait_jobs(list, r->deadline), "worker array did not finish");
	CHECK(job_completed(r->array_job), "worker array failed");
	CHECK(count_entries(r->archive, "done") == 2, "expected 2 jobs in queue/done");
	CHECK(count_entries(r->archive, "failed") == 0, "jobs in queue/failed");
	CHECK(count_entries(r->archive, "claimed") == 0, "jobs left in queue/claimed");
	CHECK(count_entries(r->archive, "incoming") == 0, "jobs left in queue/incoming");
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		CHECK(!search_finds(r->archive, docs[i].phrases[0], docs[i].title),
		      "'%s' searchable before the index job: a worker wrote the index",
		      docs[i].file);

	/* The index job: one writer, after the array. */
	if (!release(r->index_job))
		return false;
	snprintf(list, sizeof(list), "%ld", r->index_job);
	CHECK(wait_jobs(list, r->deadline), "index job did not finish");
	CHECK(job_completed(r->index_job), "index job failed");

	char *out = NULL;
	int rc = run_fmt(&out, "'%s' status '%s' --json", BUNKO_EXE, r->archive);
	CHECK(rc == 0, "bunko status --json failed (%d): %s", rc, out);
	cr_log_info("bunko status --json: %s", out);
	CHECK(json_count(out, "done") == 2 && json_count(out, "failed") == 0 &&
	      json_count(out, "queued") == 0 && json_count(out, "running") == 0,
	      "bunko status does not report 2 done, 0 failed: %s", out);
	free(out);

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		int found = 0;
		for (int p = 0; p < 4; p++)
			found += search_finds(r->archive, docs[i].phrases[p], docs[i].title);
		cr_log_info("'%s': %d of 4 ground-truth phrases found", docs[i].file, found);
		CHECK(found >= 2, "only %d of 4 ground-truth phrases of '%s' found",
		      found, docs[i].file);
	}
	for (size_t p = 0; p < sizeof(absent_phrases) / sizeof(absent_phrases[0]); p++)
		for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
			CHECK(!search_finds(r->archive, absent_phrases[p], docs[i].title),
			      "'%s' found in '%s', which does not contain it",
			      absent_phrases[p], docs[i].file);
	return true;
}

Test(cli_slurm, array_drains_queue_and_index_job_indexes, .timeout = 870)
{
	struct slurm_run r = { 0 };
	char *out = NULL;

	r.scratch = ts_mkdtemp("slurm");
	cr_assert(r.scratch, "cannot create a scratch directory");
	cr_assert(asprintf(&r.cluster, "%s/cluster", r.scratch) > 0);
	cr_assert(asprintf(&r.archive, "%s/archive", r.scratch) > 0);

	int rc = run_fmt(&out, "'%s/local-cluster' start --dir '%s' --owner-pid %ld",
			 SLURM_SCRIPTS, r.cluster, (long)getpid());
	if (rc == 77) {
		char reason[512];
		snprintf(reason, sizeof(reason), "%s", out);
		free(out);
		ts_rmtree(r.scratch);
		/* CI installs Slurm (scripts/install-deps --tests): not running
		 * it there is a failure, not a skip */
		cr_assert(!ts_in_ci(), "Slurm cannot run under CI: %s", reason);
		printf("skipped: %s", reason);
		cr_skip_test("Slurm cannot run on this host: %s", reason);
	}
	if (rc != 0) {
		ts_rmtree(r.scratch);
		cr_assert_fail("local-cluster start failed (%d): %s", rc, out);
	}
	free(out);
	out = NULL;

	/* Every command below, and the jobs (sbatch exports the environment),
	 * talk to this cluster. */
	char *conf = NULL;
	cr_assert(asprintf(&conf, "%s/slurm.conf", r.cluster) > 0);
	setenv("SLURM_CONF", conf, 1);
	setenv("OMP_THREAD_LIMIT", "1", 1);
	free(conf);

	bool ok = scenario(&r);
	if (!ok)
		dump_logs(&r);

	run_fmt(&out, "'%s/local-cluster' stop --dir '%s'", SLURM_SCRIPTS, r.cluster);
	free(out);
	ts_rmtree(r.scratch);
	free(r.scratch);
	free(r.cluster);
	free(r.archive);
	cr_assert(ok, "the Slurm run failed (see the messages above)");
}

/* The two sbatch command lines of a dry run ask for what the options say. */
static void check_dry_run(const char *archive)
{
	char *out = NULL;
	int rc = run_fmt(&out, "'%s/submit' '%s' --workers 3 --cpus-per-worker 2 "
			 "--partition batch --time 1:00:00 --index-node head1 "
			 "--bunko '%s' --dry-run -- --account=ward", SLURM_SCRIPTS,
			 archive, BUNKO_EXE);
	char *index_line = rc == 0 ? strstr(out, "\nsbatch ") : NULL;
	cr_expect(index_line, "dry run: two sbatch lines expected (%d): %s", rc, out);
	if (!index_line) {
		free(out);
		return;
	}
	*index_line++ = '\0';
	const char *worker_line = out;
	cr_expect(strstr(worker_line, "--array=0-2 "), "%s", worker_line);
	cr_expect(strstr(worker_line, "--cpus-per-task=2 "), "%s", worker_line);
	cr_expect(strstr(worker_line, "--partition=batch "), "%s", worker_line);
	cr_expect(strstr(worker_line, "--time=1:00:00 "), "%s", worker_line);
	cr_expect(strstr(worker_line, "OMP_THREAD_LIMIT=1"), "%s", worker_line);
	cr_expect(strstr(worker_line, "--account=ward "), "%s", worker_line);
	cr_expect(strstr(worker_line, "worker.sbatch"), "%s", worker_line);
	cr_expect(strstr(index_line, "--dependency=afterany:ARRAY"), "%s", index_line);
	cr_expect(strstr(index_line, "singleton"), "%s", index_line);
	cr_expect(strstr(index_line, "--nodelist=head1 "), "%s", index_line);
	cr_expect(strstr(index_line, "index.sbatch"), "%s", index_line);
	cr_expect(!strstr(index_line, "--array"), "%s", index_line);
	free(out);
}

/* Without a cluster: what submit asks Slurm for, and what it refuses. */
Test(cli_slurm, submit_dry_run_and_refusals)
{
	char *scratch = ts_mkdtemp("slurm-submit");
	char *archive = NULL, *out = NULL;
	cr_assert(scratch && asprintf(&archive, "%s/archive", scratch) > 0);

	int rc = run_fmt(&out, "'%s/submit' '%s' --bunko '%s'", SLURM_SCRIPTS,
			 scratch, BUNKO_EXE);
	cr_expect_eq(rc, 1, "submit of a non-archive: %d %s", rc, out);
	cr_expect(strstr(out, "not a bunko archive"), "%s", out);
	free(out);

	rc = run_fmt(&out, "'%s' init '%s'", BUNKO_EXE, archive);
	cr_expect_eq(rc, 0, "bunko init: %s", out);
	free(out);

	if (rc == 0) {
		rc = run_fmt(&out, "'%s/submit' '%s' --workers 0 --bunko '%s'",
			     SLURM_SCRIPTS, archive, BUNKO_EXE);
		cr_expect_eq(rc, 1, "--workers 0: %d %s", rc, out);
		free(out);
		check_dry_run(archive);
	}

	ts_rmtree(scratch);
	free(scratch);
	free(archive);
}
