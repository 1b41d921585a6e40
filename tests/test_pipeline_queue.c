/*
 * tests/test_pipeline_queue.c — the queue directory protocol with real
 * processes: jobs appear complete, many processes racing for jobs each get
 * distinct ones, a dead worker's claim is recovered with its try counted
 * and its checkpoints kept, a job that keeps killing workers ends in
 * failed/ with a reason, and a claim from another host is judged by its
 * lease only.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive/store.h"
#include "pipeline/log.h"
#include "pipeline/queue.h"
#include "test_support.h"

static char *archive;
static struct bk_queue q;

static void setup(void)
{
	struct bk_error err;
	bk_error_init(&err);
	char *dir = ts_mkdtemp("queue");
	cr_assert(asprintf(&archive, "%s/archive", dir) > 0);
	free(dir);
	cr_assert_eq(bk_archive_init(archive, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_queue_open(&q, archive, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
	bk_queue_release(&q);
	char *parent = strdup(archive);
	*strrchr(parent, '/') = '\0';
	ts_rmtree(parent);
	free(parent);
	free(archive);
}

/* Queues one job of two small input files; returns its id. */
static char *add_job(const char *tag)
{
	struct bk_error err;
	struct bk_job_meta m;
	char *a = NULL, *b = NULL;
	const char *files[2];

	bk_error_init(&err);
	bk_job_meta_init(&m);
	cr_assert(asprintf(&a, "%s/%s-a.tif", archive, tag) > 0);
	cr_assert(asprintf(&b, "%s/%s-b.png", archive, tag) > 0);
	cr_assert_eq(ts_write(a, "first\0bytes", 11), 0);
	cr_assert_eq(ts_write(b, "second", 6), 0);
	files[0] = a;
	files[1] = b;
	m.collection = strdup("reiki");
	m.title = strdup("例規集 第1巻");
	m.profile = BK_PROFILE_BYLAW;
	m.access = BK_ACCESS_RESTRICTED;
	m.pages = 3;
	cr_assert_eq(bk_queue_add(&q, &m, files, 2, &err), 0, "%s", err.msg);
	char *id = strdup(m.id);
	bk_job_meta_release(&m);
	free(a);
	free(b);
	return id;
}

static int exists(const char *sub, const char *name, const char *file)
{
	char *p = NULL;
	struct stat st;
	cr_assert(asprintf(&p, "%s/queue/%s/%s%s%s", archive, sub, name,
			   file ? "/" : "", file ? file : "") > 0);
	int r = stat(p, &st) == 0;
	free(p);
	return r;
}

static struct bk_job_meta read_meta(const char *sub, const char *name)
{
	struct bk_error err;
	struct bk_job_meta m;
	char *p = NULL;
	bk_error_init(&err);
	cr_assert(asprintf(&p, "%s/queue/%s/%s/job.meta", archive, sub, name) > 0);
	cr_assert_eq(bk_job_meta_read(&m, p, &err), 0, "%s", err.msg);
	free(p);
	return m;
}

static char *queue_file(const char *sub, const char *name, const char *rel)
{
	char *p = NULL;
	cr_assert(asprintf(&p, "%s/queue/%s/%s%s%s", archive, sub, name, rel ? "/" : "",
			   rel ? rel : "") > 0);
	return p;
}

/* A record file read by jansson itself, not by bunko's reader: the file is
 * one JSON object, with no key twice. */
static json_t *load_record(const char *path)
{
	json_error_t je;
	json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	cr_assert_not_null(o, "'%s': %s", path, je.text);
	cr_assert(json_is_object(o), "'%s' is not an object", path);
	return o;
}

static const char *record_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

TestSuite(queue, .init = setup, .fini = teardown);

Test(queue, add_creates_a_complete_job)
{
	char *id = add_job("x");
	cr_expect(exists("incoming", id, "job.meta"));
	cr_expect(!exists("tmp", id, NULL));
	char *p = NULL;
	size_t len;
	cr_assert(asprintf(&p, "%s/queue/incoming/%s/input/x-a.tif", archive, id) > 0);
	char *data = ts_read(p, &len);
	cr_assert_not_null(data);
	cr_expect(len == 11 && memcmp(data, "first\0bytes", 11) == 0);
	struct bk_job_meta m = read_meta("incoming", id);
	cr_expect_str_eq(m.id, id);
	cr_expect_str_eq(m.collection, "reiki");
	cr_expect_str_eq(m.title, "例規集 第1巻");
	cr_expect_eq(m.profile, BK_PROFILE_BYLAW);
	cr_expect_eq(m.access, BK_ACCESS_RESTRICTED);
	cr_assert_eq(m.nfiles, 2);
	cr_expect_str_eq(m.files[0], "x-a.tif");
	cr_expect_str_eq(m.files[1], "x-b.png");
	cr_expect_eq(m.pages, 3);
	cr_expect_eq(m.tries, 0);
	bk_job_meta_release(&m);
	free(data);
	free(p);
	free(id);
}

Test(queue, same_file_names_are_refused)
{
	struct bk_error err;
	struct bk_job_meta m;
	char *a = NULL, *b = NULL;
	bk_error_init(&err);
	bk_job_meta_init(&m);
	cr_assert(asprintf(&a, "%s/scan.tif", archive) > 0);
	cr_assert(asprintf(&b, "%s/queue/scan.tif", archive) > 0);
	ts_write(a, "1", 1);
	ts_write(b, "2", 1);
	const char *files[] = { a, b };
	m.collection = strdup("c");
	cr_expect_eq(bk_queue_add(&q, &m, files, 2, &err), -1);
	cr_expect(strstr(err.msg, "same file name") != NULL, "%s", err.msg);
	bk_job_meta_release(&m);
	free(a);
	free(b);
}

/* Child: claims jobs until none are left, writing each claimed id to fd. */
static void claim_all(int fd, int start_fd)
{
	struct bk_queue cq;
	struct bk_error err;
	char go;
	bk_error_init(&err);
	if (read(start_fd, &go, 1) != 1 || bk_queue_open(&cq, archive, &err))
		_exit(2);
	for (;;) {
		struct bk_claim c;
		int r = bk_queue_claim(&cq, &c, &err);
		if (r < 0)
			_exit(3);
		if (r == 0)
			break;
		char line[128];
		int n = snprintf(line, sizeof(line), "%s\n", c.job_id);
		if (write(fd, line, n) != n)
			_exit(4);
		bk_claim_release(&c);
	}
	bk_queue_release(&cq);
	_exit(0);
}

Test(queue, racing_workers_claim_each_job_exactly_once)
{
	enum { JOBS = 30, PROCS = 4 };
	char *ids[JOBS];
	int out[2], start[2];
	pid_t pids[PROCS];

	for (int i = 0; i < JOBS; i++) {
		char tag[16];
		snprintf(tag, sizeof(tag), "j%d", i);
		ids[i] = add_job(tag);
	}
	cr_assert_eq(pipe(out), 0);
	cr_assert_eq(pipe(start), 0);
	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		cr_assert_geq(pids[p], 0);
		if (pids[p] == 0) {
			close(out[0]);
			close(start[1]);
			claim_all(out[1], start[0]);
		}
	}
	close(out[1]);
	close(start[0]);
	cr_assert_eq(write(start[1], "gggg", PROCS), PROCS); /* all start together */
	close(start[1]);
	char buf[8192];
	size_t len = 0;
	ssize_t n;
	while ((n = read(out[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	close(out[0]);
	for (int p = 0; p < PROCS; p++) {
		int status;
		waitpid(pids[p], &status, 0);
		cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	int total = 0;
	for (char *l = buf; *l; l = strchr(l, '\n') + 1)
		total++;
	cr_expect_eq(total, JOBS, "claims: %d", total);
	for (int i = 0; i < JOBS; i++) {
		char *hit = strstr(buf, ids[i]);
		cr_expect_not_null(hit, "job %s never claimed", ids[i]);
		if (hit)
			cr_expect_null(strstr(hit + 1, ids[i]), "job %s claimed twice", ids[i]);
		free(ids[i]);
	}
}

enum death { ON_PAGE, WHILE_BUILDING, AFTER_A_PAGE };

/* Forks a worker that claims the oldest job and dies holding it: on page 2
 * of x-a.tif (page 1 was checkpointed before its claim, so it made no
 * progress), while building the document, or right after checkpointing
 * page 2 (progress). */
static void claim_and_die_as(enum death how)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct bk_queue cq;
		struct bk_claim c;
		struct bk_job_progress p = { .source_done = 1, .logical_pages = 1,
					     .next_file = "x-a.tif", .next_page = 2 };
		char *incoming = NULL, *oldest = NULL, *work = NULL;
		struct dirent *de;
		DIR *d;
		if (bk_queue_open(&cq, archive, NULL) ||
		    !(incoming = bk_queue_path(&cq, "incoming", NULL)) || !(d = opendir(incoming)))
			_exit(2);
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && (!oldest || strcmp(de->d_name, oldest) < 0)) {
				free(oldest);
				oldest = strdup(de->d_name);
			}
		closedir(d);
		/* an earlier run's checkpoint of page 1, if there is none yet */
		if (!oldest || asprintf(&work, "%s/%s/work", incoming, oldest) < 0 ||
		    (mkdir(work, 0777) && errno != EEXIST))
			_exit(3);
		free(work);
		if (asprintf(&work, "%s/%s", incoming, oldest) < 0 ||
		    (access(queue_file("incoming", oldest, "work/progress"), F_OK) &&
		     bk_job_progress_write(&p, work, NULL)))
			_exit(4);
		if (bk_queue_claim(&cq, &c, NULL) != 1)
			_exit(5);
		if (how == WHILE_BUILDING ? bk_claim_page_write(&c, 3, NULL, 0, 60, NULL)
					  : bk_claim_page_write(&c, 1, "x-a.tif", 2, 60, NULL))
			_exit(6);
		if (how == AFTER_A_PAGE) {
			p.source_done = 2;
			p.logical_pages = 2;
			p.next_file = "x-b.png";
			p.next_page = 1;
			if (bk_job_progress_write(&p, c.dir, NULL))
				_exit(7);
		}
		_exit(0); /* dies holding the claim */
	}
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child exit %d", WEXITSTATUS(status));
}

static void claim_and_die(void)
{
	claim_and_die_as(ON_PAGE);
}

static char *only_claim_name(void)
{
	char *dir = bk_queue_path(&q, "claimed", NULL), *cmd = NULL, *out = NULL;
	cr_assert(asprintf(&cmd, "ls '%s'", dir) > 0);
	cr_assert_eq(ts_run(cmd, &out, 0), 0);
	*strchr(out, '\n') = '\0';
	free(dir);
	free(cmd);
	return out;
}

Test(queue, dead_workers_claim_is_recovered_with_tries_raised)
{
	struct bk_error err;
	char *id = add_job("d");
	bk_error_init(&err);
	claim_and_die();
	cr_expect(!exists("incoming", id, NULL));
	char *name = only_claim_name();
	cr_expect(strncmp(name, id, strlen(id)) == 0 && name[strlen(id)] == '@', "%s", name);
	cr_expect(bk_queue_claim_is_stale(&q, name, bk_queue_fs_now(&q)));

	cr_assert_eq(bk_queue_recover(&q, &err), 1, "%s", err.msg);
	cr_expect(exists("incoming", id, "job.meta"));
	struct bk_job_meta m = read_meta("incoming", id);
	cr_expect_eq(m.tries, 1);
	bk_job_meta_release(&m);
	/* the dead worker's checkpoints travel with the job */
	char *dir = bk_queue_path(&q, "incoming", id);
	struct bk_job_progress p;
	cr_assert_eq(bk_job_progress_read(&p, dir, &err), 0, "%s", err.msg);
	cr_expect_eq(p.source_done, 1);
	cr_expect_str_eq(p.next_file, "x-a.tif");
	bk_job_progress_release(&p);
	/* nothing more to recover */
	cr_expect_eq(bk_queue_recover(&q, &err), 0);
	free(dir);
	free(name);
	free(id);
}

Test(queue, page_that_keeps_killing_workers_is_quarantined)
{
	struct bk_error err;
	char *id = add_job("k");
	bk_error_init(&err);
	q.max_tries = 3;
	for (int i = 0; i < 3; i++) {
		claim_and_die();
		cr_assert_eq(bk_queue_recover(&q, &err), 1, "%s", err.msg);
	}
	/* the job goes on without the page: back in incoming/, the page
	 * named in job.meta with why, the count cleared for the next page */
	cr_expect(exists("incoming", id, "job.meta"));
	cr_expect(!exists("failed", id, NULL));
	struct bk_job_meta m = read_meta("incoming", id);
	cr_expect_eq(m.tries, 0);
	cr_assert_eq(m.nquarantine, 1);
	cr_expect_eq(m.quarantine[0].index, 1);
	cr_expect_str_eq(m.quarantine[0].file, "x-a.tif");
	cr_expect_eq(m.quarantine[0].page, 2);
	cr_expect(strstr(m.quarantine[0].reason, "killing or hanging 3 workers") != NULL, "%s",
		  m.quarantine[0].reason);
	bk_job_meta_release(&m);
	free(id);
}

Test(queue, a_death_after_progress_is_not_counted)
{
	struct bk_error err;
	char *id = add_job("g");
	bk_error_init(&err);
	q.max_tries = 3;
	claim_and_die();
	cr_assert_eq(bk_queue_recover(&q, &err), 1, "%s", err.msg);
	claim_and_die();
	cr_assert_eq(bk_queue_recover(&q, &err), 1, "%s", err.msg);
	struct bk_job_meta m = read_meta("incoming", id);
	cr_expect_eq(m.tries, 2);
	bk_job_meta_release(&m);
	/* a worker that checkpointed a page before it died: the count starts
	 * again, and nothing is quarantined */
	claim_and_die_as(AFTER_A_PAGE);
	cr_assert_eq(bk_queue_recover(&q, &err), 1, "%s", err.msg);
	m = read_meta("incoming", id);
	cr_expect_eq(m.tries, 0);
	cr_expect_eq(m.nquarantine, 0);
	bk_job_meta_release(&m);
	free(id);
}

Test(queue, job_that_keeps_killing_workers_while_built_goes_to_failed)
{
	struct bk_error err;
	char *id = add_job("b");
	bk_error_init(&err);
	q.max_tries = 3;
	for (int i = 0; i < 3; i++) {
		claim_and_die_as(WHILE_BUILDING);
		cr_assert_eq(bk_queue_recover(&q, &err), 1, "%s", err.msg);
	}
	cr_expect(!exists("incoming", id, NULL));
	cr_expect(exists("failed", id, "reason"));
	struct bk_job_meta m = read_meta("failed", id);
	cr_expect_eq(m.tries, 3);
	bk_job_meta_release(&m);
	char *p = NULL;
	cr_assert(asprintf(&p, "%s/queue/failed/%s/reason", archive, id) > 0);
	json_t *reason = load_record(p);
	cr_expect_str_eq(record_str(reason, "format"), "bunko-reason");
	cr_expect(!strncmp(record_str(reason, "message"),
			   "worker died 3 times on this job while its document was built", 60),
		  "%s", record_str(reason, "message"));
	json_decref(reason);
	free(p);
	free(id);
}

Test(queue, claim_of_another_host_is_judged_by_its_lease)
{
	struct bk_error err;
	struct bk_claim c;
	char *id = add_job("h");
	bk_error_init(&err);
	cr_assert_eq(bk_queue_claim(&q, &c, &err), 1, "%s", err.msg);
	/* pretend another host holds it, with a pid that exists nowhere here */
	char *other = NULL, *to = NULL, *hb = NULL;
	cr_assert(asprintf(&other, "%s@node17.cluster.local.%d", id, 999999) > 0);
	to = bk_queue_path(&q, "claimed", other);
	cr_assert_eq(rename(c.dir, to), 0);
	cr_assert(asprintf(&hb, "%s/heartbeat", to) > 0);
	q.lease_seconds = 60;
	time_t now = bk_queue_fs_now(&q);
	cr_expect(!bk_queue_claim_is_stale(&q, other, now), "fresh lease judged stale");
	cr_expect_eq(bk_queue_recover(&q, &err), 0);

	struct timespec old[2] = { { now - 1000, 0 }, { now - 1000, 0 } };
	cr_assert_eq(utimensat(AT_FDCWD, hb, old, 0), 0);
	cr_expect(bk_queue_claim_is_stale(&q, other, now));
	cr_expect_eq(bk_queue_recover(&q, &err), 1, "%s", err.msg);
	cr_expect(exists("incoming", id, "job.meta"));
	bk_claim_release(&c);
	free(other);
	free(to);
	free(hb);
	free(id);
}

Test(queue, live_local_claim_is_not_stale_and_states_move)
{
	struct bk_error err;
	struct bk_claim c;
	char *id1 = add_job("s1"), *id2 = add_job("s2"), *id3 = add_job("s3");
	bk_error_init(&err);

	/* oldest first */
	cr_assert_eq(bk_queue_claim(&q, &c, &err), 1);
	cr_expect_str_eq(c.job_id, id1);
	cr_expect_eq(bk_queue_recover(&q, &err), 0, "our own live claim was recovered");
	cr_expect_eq(bk_queue_finish(&q, &c, &err), 0, "%s", err.msg);
	cr_expect(exists("done", id1, "job.meta"));
	bk_claim_release(&c);

	cr_assert_eq(bk_queue_claim(&q, &c, &err), 1);
	cr_expect_eq(bk_queue_fail(&q, &c, "s2-b.png", 4, "'s2-b.png' page 4: bad\nthing", &err), 0);
	cr_expect(exists("failed", id2, "reason"));
	bk_claim_release(&c);

	cr_assert_eq(bk_queue_claim(&q, &c, &err), 1);
	cr_expect_eq(bk_queue_unclaim(&q, &c, &err), 0);
	struct bk_job_meta m = read_meta("incoming", id3);
	cr_expect_eq(m.tries, 0, "a graceful give-back is not a try");
	bk_job_meta_release(&m);
	bk_claim_release(&c);

	char *p = NULL;
	cr_assert(asprintf(&p, "%s/queue/failed/%s/reason", archive, id2) > 0);
	json_t *reason = load_record(p);
	cr_expect_str_eq(record_str(reason, "file"), "s2-b.png");
	cr_expect_eq(json_integer_value(json_object_get(reason, "page")), 4);
	cr_expect_str_eq(record_str(reason, "message"), "'s2-b.png' page 4: bad\nthing");
	json_decref(reason);
	/* bunko's own reader gives the same back */
	struct bk_job_reason back;
	char *failed_dir = queue_file("failed", id2, NULL);
	cr_assert_eq(bk_job_reason_read(&back, failed_dir, &err), 0, "%s", err.msg);
	cr_expect_str_eq(back.file, "s2-b.png");
	cr_expect_eq(back.page, 4);
	cr_expect_str_eq(back.message, "'s2-b.png' page 4: bad\nthing");
	bk_job_reason_release(&back);
	free(failed_dir);
	free(p);
	free(id1);
	free(id2);
	free(id3);
}

/* ---- recovery cleans up after the dead ------------------------------- */

Test(queue, recovery_deletes_the_dead_holders_temporaries)
{
	struct bk_error err;
	char *id = add_job("t");
	bk_error_init(&err);
	claim_and_die();
	char *name = only_claim_name();
	/* what a holder killed inside bk_atomic_write leaves behind */
	char *t1 = queue_file("claimed", name, ".job.meta.tmp.4242.Zz9Yy8");
	char *t2 = queue_file("claimed", name, "work/.0001.img.tmp.4242.Zz9Yy8");
	cr_assert_eq(ts_write(t1, "half", 4), 0);
	cr_assert_eq(ts_write(t2, "half", 4), 0);

	cr_assert_eq(bk_queue_recover(&q, &err), 1, "%s", err.msg);
	char *a = queue_file("incoming", id, ".job.meta.tmp.4242.Zz9Yy8");
	char *b = queue_file("incoming", id, "work/.0001.img.tmp.4242.Zz9Yy8");
	cr_expect(!exists("incoming", id, ".job.meta.tmp.4242.Zz9Yy8"), "%s kept", a);
	cr_expect(!exists("incoming", id, "work/.0001.img.tmp.4242.Zz9Yy8"), "%s kept", b);
	cr_expect(exists("incoming", id, "work/progress"), "the checkpoints must stay");
	cr_expect(exists("incoming", id, "input/t-a.tif"), "the inputs must stay");
	free(a);
	free(b);
	free(t1);
	free(t2);
	free(name);
	free(id);
}

/* Forks a recoverer that takes the dead worker's claim over and dies: after
 * the takeover only, or also after counting the death in job.meta. */
static void recoverer_dies(const char *claim_name, bool after_counting)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct bk_queue rq;
		struct bk_job_meta m;
		char *from = NULL, *to = NULL, *meta = NULL, *job = NULL, *host = NULL;
		long dead;
		if (bk_queue_open(&rq, archive, NULL) ||
		    bk_claim_name_parse(claim_name, &job, &host, &dead) ||
		    asprintf(&from, "%s/queue/claimed/%s", archive, claim_name) < 0 ||
		    asprintf(&to, "%s/queue/claimed/%s@%s.%ld", archive, job, rq.host,
			     (long)getpid()) < 0 ||
		    asprintf(&meta, "%s/job.meta", to) < 0 || rename(from, to))
			_exit(2);
		if (after_counting) {
			if (bk_job_meta_read(&m, meta, NULL))
				_exit(3);
			m.tries++;
			free(m.recoverer);
			if (asprintf(&m.recoverer, "%s.%ld", rq.host, (long)getpid()) < 0 ||
			    bk_job_meta_write(&m, meta, NULL))
				_exit(4);
		}
		_exit(0); /* dies holding the job */
	}
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "recoverer exit %d",
		  WEXITSTATUS(status));
}

Test(queue, a_death_is_counted_once_when_the_recoverer_dies_too)
{
	struct bk_error err;
	bk_error_init(&err);
	for (int after = 0; after < 2; after++) {
		char *id = add_job(after ? "c1" : "c0");
		claim_and_die();
		char *name = only_claim_name();
		recoverer_dies(name, after);
		cr_assert_eq(bk_queue_recover(&q, &err), 1, "%s", err.msg);
		struct bk_job_meta m = read_meta("incoming", id);
		cr_expect_eq(m.tries, 1, "recoverer died %s counting: tries %d, not 1",
			     after ? "after" : "before", m.tries);
		cr_expect_not_null(m.recoverer);
		bk_job_meta_release(&m);
		/* out of the way for the next round */
		char *from = queue_file("incoming", id, NULL), *to = queue_file("done", id, NULL);
		cr_assert_eq(rename(from, to), 0);
		free(from);
		free(to);
		free(name);
		free(id);
	}
}

Test(queue, live_pid_with_an_old_heartbeat_is_stale)
{
	struct bk_error err;
	struct bk_claim c;
	char *id = add_job("p");
	bk_error_init(&err);
	cr_assert_eq(bk_queue_claim(&q, &c, &err), 1, "%s", err.msg);
	/* a pid that is alive on this host, but (after a reboot, say) not the
	 * worker's: only the heartbeat can tell */
	char *name = NULL, *to = NULL, *hb = NULL;
	cr_assert(asprintf(&name, "%s@%s.%ld", id, q.host, (long)getppid()) > 0);
	to = bk_queue_path(&q, "claimed", name);
	cr_assert_eq(rename(c.dir, to), 0);
	cr_assert(asprintf(&hb, "%s/heartbeat", to) > 0);
	q.lease_seconds = 60;
	time_t now = bk_queue_fs_now(&q);
	cr_expect(!bk_queue_claim_is_stale(&q, name, now), "fresh heartbeat judged stale");
	struct timespec old[2] = { { now - 61, 0 }, { now - 61, 0 } };
	cr_assert_eq(utimensat(AT_FDCWD, hb, old, 0), 0);
	cr_expect(bk_queue_claim_is_stale(&q, name, now),
		  "a heartbeat older than the lease is stale even with a live pid");
	cr_expect_eq(bk_queue_recover(&q, &err), 1, "%s", err.msg);
	cr_expect(exists("incoming", id, "job.meta"));
	bk_claim_release(&c);
	free(name);
	free(to);
	free(hb);
	free(id);
}

/* Creates queue/tmp/<name> (a directory with a file in it, or a file),
 * `age` seconds old. */
static void tmp_entry(const char *name, bool dir, time_t now, time_t age)
{
	char *p = queue_file("tmp", name, NULL);
	if (dir) {
		cr_assert_eq(mkdir(p, 0777), 0, "%s", strerror(errno));
		char *f = queue_file("tmp", name, "scan.tif");
		cr_assert_eq(ts_write(f, "part", 4), 0);
		free(f);
	} else {
		cr_assert_eq(ts_write(p, "", 0), 0);
	}
	struct timespec t[2] = { { now - age, 0 }, { now - age, 0 } };
	cr_assert_eq(utimensat(AT_FDCWD, p, t, AT_SYMLINK_NOFOLLOW), 0);
	free(p);
}

Test(queue, recovery_clears_debris_of_dead_processes_from_tmp)
{
	struct bk_error err;
	char n[24][160];
	bool gone[24];
	int k = 0;
	long dead = ts_dead_pid(), live = getpid();
	time_t now = bk_queue_fs_now(&q), day = 24 * 3600;

	bk_error_init(&err);
	q.lease_seconds = 60;
#define ENTRY(dir, age, removed, ...)                                  \
	do {                                                            \
		snprintf(n[k], sizeof(n[k]), __VA_ARGS__);              \
		tmp_entry(n[k], dir, now, age);                         \
		gone[k++] = removed;                                    \
	} while (0)
	/* clock files (bk_queue_fs_now): this host's dead process; another
	 * host's older than the lease */
	ENTRY(false, 0, true, ".clock-%s-%ld", q.host, dead);
	/* (not our own pid: recovery itself uses our clock file) */
	ENTRY(false, 0, false, ".clock-%s-%ld", q.host, (long)getppid());
	ENTRY(false, 61, true, ".clock-node-7.cluster-%d", 4242);
	ENTRY(false, 5, false, ".clock-node-7.cluster-%d", 4243);
	/* `bunko add` directories: this host's dead process; another host's
	 * after a day; an old-style name after a day */
	ENTRY(true, 0, true, "20260101-000000-1-000001abc@%s.%ld", q.host, dead);
	ENTRY(true, 0, false, "20260101-000000-1-000002abc@%s.%ld", q.host, live);
	ENTRY(true, 3600, false, "20260101-000000-1-000003abc@node-7.cluster.%d", 4242);
	ENTRY(true, day + 60, true, "20260101-000000-1-000004abc@node-7.cluster.%d", 4242);
	ENTRY(true, day + 60, true, "20260101-000000-1-000005abc");
	ENTRY(true, 3600, false, "20260101-000000-1-000006abc");
#undef ENTRY
	cr_expect_eq(bk_queue_recover(&q, &err), 0, "%s", err.msg);
	for (int i = 0; i < k; i++)
		cr_expect_eq(!exists("tmp", n[i], NULL), gone[i], "tmp/%s: %s", n[i],
			     gone[i] ? "left behind" : "removed while its writer may live");
}

Test(queue, add_leaves_nothing_in_tmp)
{
	char *id = add_job("n");
	char *tmp = bk_queue_path(&q, "tmp", NULL), *cmd = NULL, *out = NULL;
	cr_assert(asprintf(&cmd, "ls -A '%s' | wc -l", tmp) > 0);
	cr_assert_eq(ts_run(cmd, &out, 0), 0);
	cr_expect_eq(atoi(out), 0, "queue/tmp holds %s entries", out);
	free(out);
	free(cmd);
	free(tmp);
	free(id);
}

Test(queue, job_ids_and_log_times_are_utc)
{
	time_t before = time(NULL);
	char *id = add_job("u");
	time_t after = time(NULL);
	char lo[32], hi[32];
	struct tm tm;
	gmtime_r(&before, &tm);
	strftime(lo, sizeof(lo), "%Y%m%d-%H%M%S", &tm);
	gmtime_r(&after, &tm);
	strftime(hi, sizeof(hi), "%Y%m%d-%H%M%S", &tm);
	cr_expect(strncmp(id, lo, 15) >= 0 && strncmp(id, hi, 15) <= 0,
		  "id %s is not stamped in UTC (%s..%s)", id, lo, hi);
	/* the worker log: "YYYY-MM-DDTHH:MM:SSZ " */
	char *path = NULL;
	cr_assert(asprintf(&path, "%s/utc.log", archive) > 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	before = time(NULL);
	bk_log_line(fd, "event=test");
	close(fd);
	char *line = ts_read(path, NULL);
	cr_assert_not_null(line);
	gmtime_r(&before, &tm);
	strftime(lo, sizeof(lo), "%Y-%m-%dT%H:", &tm);
	cr_expect(strlen(line) > 21 && line[19] == 'Z' && line[20] == ' ' &&
			  !strncmp(line, lo, strlen(lo)) && !strcmp(line + 21, "event=test\n"),
		  "%s", line);
	free(line);
	free(path);
	free(id);
}

Test(queue, a_claim_names_its_host_by_machine_id_too)
{
	struct bk_error err;
	if (!q.machine_id[0]) {
		cr_assert(!ts_in_ci(), "this host has no /etc/machine-id");
		cr_skip_test("this host has no /etc/machine-id");
	}
	char *id = add_job("h");
	bk_error_init(&err);
	claim_and_die();
	char *name = only_claim_name();
	char *dir = bk_queue_path(&q, "claimed", name);
	struct bk_claim_owner o;
	cr_assert_eq(bk_claim_owner_read(&o, dir, &err), 0, "%s", err.msg);
	cr_expect_str_eq(o.host, q.host);
	cr_expect_str_eq(o.machine_id, q.machine_id);
	cr_expect_gt(o.generation, 0);
	bk_claim_owner_release(&o);
	/* dead by pid on this host: stale at once */
	cr_expect(bk_queue_claim_is_stale(&q, name, bk_queue_fs_now(&q)));
	/* the same hostname on another machine (a cloned VM): its pids are
	 * not ours to look up, only its lease tells */
	char *mid = NULL;
	cr_assert(asprintf(&mid, "%s", q.machine_id) > 0);
	free(q.machine_id);
	q.machine_id = strdup("00000000000000000000000000000001");
	cr_expect(!bk_queue_claim_is_stale(&q, name, bk_queue_fs_now(&q)),
		  "a fresh claim of another machine with our hostname was judged by pid");
	cr_expect(bk_queue_claim_is_stale(&q, name, bk_queue_fs_now(&q) + q.lease_seconds + 1));
	free(q.machine_id);
	q.machine_id = mid;
	free(dir);
	free(name);
	free(id);
}
