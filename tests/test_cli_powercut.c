/*
 * tests/test_cli_powercut.c — power cuts, simulated so that unsynced data
 * is really lost (tests/powercut.h: only what fsync made durable survives,
 * a directory's entries only once the directory was fsynced).
 *
 * A real `bunko worker --drain` runs with tests/powercut_shim.c preloaded
 * while it stores, indexes and finishes a job; the record it leaves gives
 * the archive a power cut before each of its durability calls would have
 * left (a cut changes nothing before it, so one run gives every cut
 * point), and a few runs are really cut (the whole process group killed at
 * a random call). For each, rebuilt as the disk would have kept it:
 *   - `bunko verify` is clean (no stored file torn or missing);
 *   - the job is in exactly one state directory, never failed/;
 *   - nothing half published is visible: a document in the index is in the
 *     store, a job with a result record has its document stored and
 *     indexed, a job in done/ has its result, and a job without a result
 *     still has its input (it can be done again);
 *   - after the worker reported the job done, it is in done/;
 *   - `bunko worker --drain` (no shim) resumes: the job ends in done/, its
 *     page is found by a search exactly once, verify stays clean and no
 *     temporaries are left.
 * The same for `bunko add` (a cut leaves no job or a whole job in
 * incoming/; once add has printed the job id, the job is there), and for
 * `bunko add --manifest`, which builds its jobs unsynced and makes them
 * durable with one syncfs(2) before any is moved into incoming/: after
 * any cut each volume is queued whole or not at all, and running the
 * manifest again queues exactly the volumes missing.
 *
 * Which fsyncs this test guards: each was deleted in turn, bunko rebuilt
 * and this test run; it failed, at the cut named, for:
 *   archive/atomic.c bk_atomic_commit, fsync of the file: add's end, a
 *                    queued job without its record (job.meta empty)
 *   archive/atomic.c bk_atomic_commit, fsync of the directory: add's end,
 *                    a queued job without its record
 *   archive/atomic.c bk_mkdir_p, fsync of a new directory's parent: add's
 *                    end, the job is not in incoming/ (queue/incoming/
 *                    itself was lost)
 *   archive/store.c  fsync of each bag file as it is hashed: verify finds
 *                    a stored file changed
 *   archive/store.c  fsync of the bag's directories: verify finds a
 *                    stored master missing
 *   archive/store.c  fsync of store/<collection>/ after the bag's rename:
 *                    the index has the document, the store does not
 *   index (SQLite)   synchronous=OFF instead of SQLite's own syncs: the
 *                    index is unreadable after a cut
 *   pipeline/job.c   fsync of the job directory and of work/ after the
 *                    payload is dropped: a done job keeps its input or
 *                    its checkpoint
 *   pipeline/queue.c fsync of done/ after the finishing move: a job the
 *                    worker reported done is not in done/
 *   pipeline/queue.c add: fsync of incoming/ after the rename (the job is
 *                    lost) and of input/ (its scan is missing)
 *   pipeline/queue.c a manifest's batch: the syncfs before the renames
 *                    (queued volumes without their record or scan)
 * It does not fail without these, each made redundant by a later sync in
 * the same run: the fsync of a master as it is copied (synced again when
 * hashed), of the staged bag directory (its last tag file's commit syncs
 * it), of store/ before the rename (bk_mkdir_p syncs it), of
 * .staging/<collection>/ after the rename (the model makes a rename
 * durable with its destination), and of index/ after a first generation
 * is published (SQLite syncs the directory at the first put).
 * A test that finds the shim not loaded (no durability call recorded, or a
 * cut run that is not killed) fails.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "powercut.h"
#include "test_support.h"

/* A failed expectation, counted so that a sweep stops at the first
 * failing cut (the next ones would repeat it). */
static int failures;
#define EXPECT(cond, ...)                                                   \
	do {                                                                \
		if (!(cond)) {                                              \
			failures++;                                         \
			cr_expect(0, __VA_ARGS__);                          \
		}                                                           \
	} while (0)

#define COLLECTION "pc"
#define WORD "microfilm" /* on the sample page (samples/eng.p1.gt.txt) */

/* Runs `bunko ARGS...` in a process group of its own with the shim
 * watching `root` into `state`, cut before call `cut_at` (0: none).
 * Returns its wait status. */
static int run_watched(const char *state, const char *root, long cut_at,
		       const char *const *args)
{
	fflush(stdout);
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		char at[32];
		setpgid(0, 0);
		snprintf(at, sizeof(at), "%ld", cut_at);
		setenv("LD_PRELOAD", BUNKO_POWERCUT_SHIM, 1);
		setenv("BUNKO_POWERCUT_DIR", state, 1);
		setenv("BUNKO_POWERCUT_ROOT", root, 1);
		if (cut_at > 0)
			setenv("BUNKO_POWERCUT_AT", at, 1);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		const char *argv[16] = { BUNKO_EXE };
		for (int i = 0; args[i] && i < 14; i++)
			argv[i + 1] = args[i];
		execv(BUNKO_EXE, (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	/* a cut kills the group: nothing of it may outlive the test's wait */
	kill(-pid, SIGKILL);
	return st;
}

static char *real_dir(const char *path)
{
	char buf[PATH_MAX];
	cr_assert_not_null(realpath(path, buf), "realpath '%s'", path);
	return strdup(buf);
}

/* Names in ARCHIVE/queue/SUB that are `id` or a claim of it. */
static int in_state(const char *archive, const char *sub, const char *id, char *name,
		    size_t cap)
{
	char *path = ts_fmt("%s/queue/%s", archive, sub);
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;
	size_t len = strlen(id);
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, id, len) &&
		    (de->d_name[len] == '\0' || de->d_name[len] == '@')) {
			n++;
			if (name)
				snprintf(name, cap, "%s/%s", path, de->d_name);
		}
	if (d)
		closedir(d);
	free(path);
	return n;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Search hits of WORD in `id` (lines of --json output). */
static int hits(const char *archive, const char *id)
{
	const char *argv[] = { BUNKO_EXE, "search", archive, WORD, "--json", "--role", "admin",
			       NULL };
	char *out = NULL, *err = NULL;
	int rc = ts_run_argv(argv, &out, &err);
	cr_assert_eq(rc, 0, "search in '%s' exited %d: %s", archive, rc, err);
	char *want = ts_fmt("\"doc\":\"%s\"", id);
	int n = 0;
	for (char *p = out; (p = strstr(p, want)); p++)
		n++;
	free(want);
	free(out);
	free(err);
	return n;
}

/* Files a crash leaves behind and nothing cleared: temporaries, staged
 * bags. Returns the first found (caller frees) or NULL. */
static char *leftover(const char *archive)
{
	char *cmd = ts_fmt("cd '%s' && find . -name '.*.tmp.*' -o -path './store/.staging/*/*' "
			   "| head -n 1", archive);
	char *out = ts_run_ok(cmd);
	free(cmd);
	if (!*out) {
		free(out);
		return NULL;
	}
	return out;
}

/* The checks of a rebuilt archive (see the top of the file); `what`
 * names the cut in messages. `done_said`: the worker had reported the
 * job done before the cut. */
static void check_cut(const char *archive, const char *id, const char *what, bool done_said)
{
	char *cmd = ts_fmt("%s verify '%s'", BUNKO_EXE, archive);
	char *out = NULL;
	int rc = ts_run(cmd, &out, 1);
	EXPECT(rc == 0, "%s: verify exited %d: %s", what, rc, out);
	free(out);
	free(cmd);

	char claim[PATH_MAX] = "";
	int incoming = in_state(archive, "incoming", id, claim, sizeof(claim));
	int claimed = in_state(archive, "claimed", id, incoming ? NULL : claim, sizeof(claim));
	int done = in_state(archive, "done", id, incoming || claimed ? NULL : claim,
			    sizeof(claim));
	int failed = in_state(archive, "failed", id, NULL, 0);
	EXPECT(incoming + claimed + done + failed == 1,
		     "%s: job in %d incoming, %d claimed, %d done, %d failed", what, incoming,
		     claimed, done, failed);
	EXPECT(failed == 0, "%s: a power cut failed the job", what);
	if (done_said)
		EXPECT(done == 1, "%s: the job was reported done, but is not in done/", what);

	char *stored = ts_fmt("%s/store/" COLLECTION "/%s/bag-info.txt", archive, id);
	char *result = ts_fmt("%s/result", claim);
	char *input = ts_fmt("%s/input/eng.png", claim);
	bool in_store = exists(stored), has_result = exists(result);
	int found = hits(archive, id);
	if (found)
		EXPECT(in_store, "%s: the index has the document, the store does not", what);
	if (has_result)
		EXPECT(in_store && found == 1,
			  "%s: a result is recorded, but the document is %sstored and found %d "
			  "times", what, in_store ? "" : "not ", found);
	if (done)
		EXPECT(has_result, "%s: the job is done but has no result record", what);
	if (!has_result) {
		struct stat st;
		EXPECT(stat(input, &st) == 0 && st.st_size > 1000,
			  "%s: the job has no result and its input is %s", what,
			  exists(input) ? "truncated" : "gone");
	}
	free(stored);
	free(result);
	free(input);
}

/* Resumes the rebuilt archive without the shim and checks the end. */
static void check_resume(const char *archive, const char *id, const char *what)
{
	char *cmd = ts_fmt("%s worker '%s' --drain -j 1 2>&1", BUNKO_EXE, archive);
	char *out = NULL;
	int rc = ts_run(cmd, &out, 1);
	EXPECT(rc == 0, "%s: the resumed worker exited %d: %s", what, rc, out);
	free(out);
	free(cmd);
	EXPECT(in_state(archive, "done", id, NULL, 0) == 1, "%s: not done after resuming",
		     what);
	EXPECT(in_state(archive, "incoming", id, NULL, 0) +
			       in_state(archive, "claimed", id, NULL, 0) +
			       in_state(archive, "failed", id, NULL, 0) == 0,
	       "%s: the job is left in another state after resuming", what);
	EXPECT(hits(archive, id) == 1, "%s: the page is not found exactly once", what);
	cmd = ts_fmt("%s verify '%s'", BUNKO_EXE, archive);
	rc = ts_run(cmd, &out, 1);
	EXPECT(rc == 0, "%s: verify after resuming exited %d: %s", what, rc, out);
	free(out);
	free(cmd);
	char *left = leftover(archive);
	EXPECT(!left, "%s: left behind after resuming: %s", what, left);
	free(left);
	/* a done job keeps only its records: its input (now the document's
	 * master) and page checkpoints are gone for good */
	char *input = ts_fmt("%s/queue/done/%s/input", archive, id);
	char *page = ts_fmt("%s/queue/done/%s/work/0001.page", archive, id);
	EXPECT(!exists(input), "%s: the done job still holds its input", what);
	EXPECT(!exists(page), "%s: the done job still holds its page checkpoint", what);
	free(input);
	free(page);
}

static char *describe(const char *state, long k)
{
	char *path = NULL;
	if (pc_call_path(state, k, &path))
		return ts_fmt("the end of the run (after call %ld)", k - 1);
	char *s = ts_fmt("a cut before call %ld (fsync of %s)", k, path);
	free(path);
	return s;
}

/* Rebuilds the cut before call `k` of `state` into dir/cut-<tag>-<k>. */
static char *rebuild(const char *dir, const char *tag, const char *state, long k)
{
	char *out = ts_fmt("%s/cut-%s-%ld", dir, tag, k);
	const char *why = NULL;
	cr_assert_eq(pc_replay(state, out, k, &why), 0, "replay of cut %ld: %s", k,
		     why ? why : "?");
	return out;
}

/* An archive with the sample page queued, OCRed and checkpointed by a
 * worker the power was cut under just before it began the document: the
 * start of the publish path. Returns it; *id the job's id. */
static char *before_publish(const char *dir, char **id)
{
	char *a0 = ts_fmt("%s/a0", dir);
	char *page = ts_sample("eng.png");
	char *cmd = ts_fmt("%s init '%s' && %s add '%s' '%s' --collection " COLLECTION
			   " --lang eng --title 'Power cut'",
			   BUNKO_EXE, a0, BUNKO_EXE, a0, page);
	char *out = ts_run_ok(cmd); /* init's line, then the job id */
	size_t len = strlen(out);
	cr_assert(len > 1 && out[len - 1] == '\n', "no job id: %s", out);
	out[len - 1] = '\0';
	*id = strdup(strrchr(out, '\n') ? strrchr(out, '\n') + 1 : out);
	free(out);
	free(cmd);
	free(page);

	char *root = real_dir(a0);
	char *state = ts_fmt("%s/s0", dir);
	cr_assert_eq(pc_baseline(state, root), 0);
	const char *args[] = { "worker", root, "--drain", "-j", "1", NULL };
	int st = run_watched(state, root, 0, args);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the watched worker ended with %d", st);
	long n = pc_count(state);
	cr_assert_gt(n, 0, "no fsync was recorded: the shim is not loaded");
	long first = 0;
	for (long k = 1; k <= n && !first; k++) {
		char *path = NULL;
		if (pc_call_path(state, k, &path) == 0 && strstr(path, "store/"))
			first = k;
		free(path);
	}
	cr_assert_gt(first, 1, "the run stored nothing");
	char *b1 = rebuild(dir, "prep", state, first);
	free(root);
	free(state);
	free(a0);
	return b1;
}

Test(powercut, every_cut_of_a_publish_leaves_a_consistent_archive_that_resumes,
     .timeout = 1500)
{
	char *dir = ts_mkdtemp("powercut");
	char *id = NULL;
	char *b1 = before_publish(dir, &id);
	char *root = real_dir(b1);
	char *state = ts_fmt("%s/s1", dir);
	cr_assert_eq(pc_baseline(state, root), 0);
	const char *args[] = { "worker", root, "--drain", "-j", "1", NULL };
	int st = run_watched(state, root, 0, args);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the watched worker ended with %d", st);
	long n = pc_count(state);
	cr_assert_gt(n, 5, "%ld fsyncs recorded: the shim is not loaded", n);
	fprintf(stderr, "publish: %ld durability calls, each a cut point\n", n);

	/* call n+1 is never made: that archive is the end of the run, after
	 * the worker said the job was done */
	for (long k = 1; k <= n + 1; k++) {
		char *what = describe(state, k);
		char *cut = rebuild(dir, "sweep", state, k);
		check_cut(cut, id, what, k == n + 1);
		check_resume(cut, id, what);
		ts_rmtree(cut);
		free(cut);
		free(what);
		if (failures && getenv("BUNKO_POWERCUT_ALL") == NULL)
			break; /* the first failing cut says it; the rest repeat it */
	}

	/* real cuts: the process group killed at a random call */
	unsigned seed = (unsigned)time(NULL);
	fprintf(stderr, "random cuts: seed %u\n", seed);
	for (int i = 0; i < 3 && !failures; i++) {
		long k = 1 + (long)(rand_r(&seed) % (unsigned)n);
		char *fresh = ts_fmt("%s/real-%d", dir, i);
		char *cstate = ts_fmt("%s/real-state-%d", dir, i);
		const char *why = NULL;
		/* the same start as the sweep: the prepared archive again */
		cr_assert_eq(pc_replay(state, fresh, 1, &why), 0, "%s", why ? why : "?");
		char *froot = real_dir(fresh);
		cr_assert_eq(pc_baseline(cstate, froot), 0);
		const char *fargs[] = { "worker", froot, "--drain", "-j", "1", NULL };
		st = run_watched(cstate, froot, k, fargs);
		cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
			  "cut at %ld: the worker was not killed (status %d)", k, st);
		cr_assert_eq(pc_cut(cstate), k);
		char *what = ts_fmt("a real cut before call %ld", k);
		char *tag = ts_fmt("real%d", i);
		char *cut = rebuild(dir, tag, cstate, 0);
		free(tag);
		check_cut(cut, id, what, false);
		check_resume(cut, id, what);
		free(what);
		free(cut);
		free(froot);
		free(fresh);
		free(cstate);
	}
	free(state);
	free(root);
	free(b1);
	free(id);
	ts_rmtree(dir);
	free(dir);
}

/* The jobs in cut/queue/incoming: each must have a record and every
 * input at its full size (inputs: the file names; sizes: theirs). */
static int whole_jobs(const char *cut, const char *what, const char *const *inputs,
		      const off_t *sizes, int ninputs)
{
	char *inc = ts_fmt("%s/queue/incoming", cut);
	DIR *d = opendir(inc);
	struct dirent *de;
	int jobs = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		jobs++;
		char *meta = ts_fmt("%s/%s/job.meta", inc, de->d_name);
		char text[1 << 14];
		FILE *mf = fopen(meta, "r");
		size_t len = mf ? fread(text, 1, sizeof(text), mf) : 0;
		if (mf)
			fclose(mf);
		EXPECT(len > 0 && text[len - 1] == '\n' && strstr(text, "\"bunko-job\""),
		       "%s: a queued job without its whole record", what);
		int found = 0;
		for (int i = 0; i < ninputs; i++) {
			char *in = ts_fmt("%s/%s/input/%s", inc, de->d_name, inputs[i]);
			struct stat st;
			if (stat(in, &st) == 0) {
				found++;
				EXPECT(st.st_size == sizes[i], "%s: %s queued truncated", what, in);
			}
			free(in);
		}
		EXPECT(found == 1, "%s: a queued job with %d inputs", what, found);
		free(meta);
	}
	if (d)
		closedir(d);
	free(inc);
	return jobs;
}

Test(powercut, a_cut_add_leaves_no_job_or_the_whole_job, .timeout = 300)
{
	char *dir = ts_mkdtemp("powercut-add");
	char *a = ts_fmt("%s/a", dir);
	char *cmd = ts_fmt("%s init '%s'", BUNKO_EXE, a);
	free(ts_run_ok(cmd));
	free(cmd);
	char *root = real_dir(a);
	char *state = ts_fmt("%s/s", dir);
	char *page = ts_sample("eng.png");
	cr_assert_eq(pc_baseline(state, root), 0);
	const char *args[] = { "add", root, page, "--collection", COLLECTION, NULL };
	int st = run_watched(state, root, 0, args);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the watched add ended with %d", st);
	long n = pc_count(state);
	cr_assert_gt(n, 2, "%ld fsyncs recorded: the shim is not loaded", n);
	struct stat want;
	cr_assert_eq(stat(page, &want), 0);
	for (long k = 1; k <= n + 1; k++) {
		char *what = describe(state, k);
		char *cut = rebuild(dir, "add", state, k);
		const char *inputs[] = { "eng.png" };
		int jobs = whole_jobs(cut, what, inputs, &want.st_size, 1);
		if (k == n + 1)
			EXPECT(jobs == 1, "%s: add reported the job queued; %d in incoming/",
				     what, jobs);
		char *scmd = ts_fmt("%s status '%s' --json", BUNKO_EXE, cut);
		free(ts_run_ok(scmd));
		free(scmd);
		ts_rmtree(cut);
		free(cut);
		free(what);
	}
	free(page);
	free(state);
	free(root);
	free(a);
	ts_rmtree(dir);
	free(dir);
}

Test(powercut, a_cut_manifest_queues_each_volume_whole_or_not_at_all, .timeout = 300)
{
	char *dir = ts_mkdtemp("powercut-manifest");
	char *a = ts_fmt("%s/a", dir);
	char *cmd = ts_fmt("%s init '%s'", BUNKO_EXE, a);
	free(ts_run_ok(cmd));
	free(cmd);
	char *root = real_dir(a);
	char *state = ts_fmt("%s/s", dir);
	/* a public volume (hard-linked in), a restricted one (copied), and a
	 * public one of another page */
	const char *inputs[] = { "eng.png", "h-kokuji.png", "blank.png" };
	const char *access[] = { "public", "restricted", "public" };
	off_t sizes[3];
	char *csv = ts_fmt("%s/volumes.csv", dir);
	FILE *fp = fopen(csv, "w");
	cr_assert_not_null(fp);
	fprintf(fp, "files,collection,title,access\n");
	for (int i = 0; i < 3; i++) {
		char *src = ts_sample(inputs[i]);
		char *copy = ts_fmt("%s/%s", dir, inputs[i]);
		char *cp = ts_fmt("cp '%s' '%s'", src, copy);
		free(ts_run_ok(cp));
		struct stat st;
		cr_assert_eq(stat(copy, &st), 0);
		sizes[i] = st.st_size;
		fprintf(fp, "%s,%s,Vol %d,%s\n", copy, COLLECTION, i + 1, access[i]);
		free(cp);
		free(copy);
		free(src);
	}
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(pc_baseline(state, root), 0);
	const char *args[] = { "add", root, "--manifest", csv, NULL };
	int st = run_watched(state, root, 0, args);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the watched add ended with %d", st);
	long n = pc_count(state);
	cr_assert_gt(n, 1, "%ld syncs recorded: the shim is not loaded", n);
	for (long k = 1; k <= n + 1 && failures == 0; k++) {
		char *what = describe(state, k);
		char *cut = rebuild(dir, "manifest", state, k);
		int jobs = whole_jobs(cut, what, inputs, sizes, 3);
		if (k == n + 1)
			EXPECT(jobs == 3, "%s: add reported 3 volumes queued; %d in incoming/", what, jobs);
		/* again, without the shim: the volumes missing, and no other */
		char *again = ts_fmt("%s add '%s' --manifest '%s'", BUNKO_EXE, cut, csv);
		free(ts_run_ok(again));
		EXPECT(whole_jobs(cut, what, inputs, sizes, 3) == 3,
		       "%s: the manifest run again does not leave its 3 volumes queued once", what);
		free(again);
		ts_rmtree(cut);
		free(cut);
		free(what);
	}
	free(csv);
	free(state);
	free(root);
	free(a);
	ts_rmtree(dir);
	free(dir);
}
