/*
 * pipeline/worker.c — the supervisor and the worker loop (see worker.h).
 *
 * Signals: the supervisor blocks SIGTERM, SIGINT and SIGCHLD and collects
 * them with sigtimedwait() in its loop; children inherit the mask and look
 * for a pending SIGTERM/SIGINT between pages (sigpending), so a stop never
 * interrupts a page half written. Ctrl-C on a terminal reaches the whole
 * process group; a SIGTERM sent to the supervisor alone is forwarded.
 *
 * Heartbeats: while a worker holds a job, a thread of its own renews the
 * claim's lease every lease/4 seconds, so a page that takes minutes does not
 * make a live worker look dead to other hosts.
 *
 * Draining (--drain) ends when no job needs the pool; see "Draining" below
 * for why a claim held elsewhere can keep a pool waiting.
 */
#include "pipeline/worker.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive/store.h"
#include "bunko/fs.h"
#include "ocr/engine.h"
#include "pipeline/log.h"
#include "pipeline/process.h"
#include "pipeline/queue.h"

#define IDLE_POLL_SECONDS 2     /* a worker with nothing to do looks again */
#define RECOVER_EVERY_SECONDS 10 /* supervisor's stale-claim sweep */
#define PROGRESS_EVERY_SECONDS 2
#define PAUSE_RETRY_SECONDS 10   /* a pool paused for disk or memory tries again */

/* How a worker process ends when it cannot go on (see the supervisor). */
enum {
	WORKER_EXIT_SETUP = 3,    /* could not start or go on */
	WORKER_EXIT_NO_SPACE = 4, /* the disk is full: the pool pauses */
	WORKER_EXIT_IO = 5,       /* the disk failed (EIO): the pool stops */
	WORKER_EXIT_NO_MEMORY = 6, /* the system refused memory: the pool pauses */
};

/* ---- heartbeat thread ------------------------------------------------- */

struct heartbeat {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, running;
	const struct bk_claim *claim;
	int interval;
	int log_fd;         /* a failed renewal is logged here (pipeline/log.h) */
	const char *worker; /* "<host>.<pid>", for the log */
	/* the page the worker is on: when it began (CLOCK_MONOTONIC) and its
	 * limit; a page past its limit is not proof of life */
	struct timespec page_started;
	int page_limit;     /* 0: no page yet */
	bool overrun_logged, lost;
};

static double mono_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (now.tv_nsec - t->tv_nsec) / 1e9;
}

static void *heartbeat_main(void *arg)
{
	struct heartbeat *hb = arg;

	pthread_mutex_lock(&hb->mu);
	while (!hb->stop && !hb->lost) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += hb->interval;
		while (!hb->stop &&
		       pthread_cond_timedwait(&hb->cv, &hb->mu, &until) != ETIMEDOUT)
			;
		if (hb->stop)
			break;
		/* the lease says the worker is getting on with the job, not only
		 * that this thread runs: a page past its limit (a hung Tesseract)
		 * is not renewed, so any host takes the job back once the lease
		 * runs out */
		if (hb->page_limit > 0 && mono_since(&hb->page_started) > hb->page_limit) {
			if (!hb->overrun_logged)
				bk_log_line(hb->log_fd, "event=overrun job=%s limit=%d worker=%s",
					    hb->claim->job_id, hb->page_limit, hb->worker);
			hb->overrun_logged = true;
			continue;
		}
		struct bk_error err;
		bk_error_init(&err);
		/* a claim taken over while we were stopped is left alone, quietly;
		 * a lease that cannot be renewed otherwise lets another worker take
		 * the job: the log says why, and `bunko status` shows it */
		if (!bk_claim_owned(hb->claim)) {
			hb->lost = true;
			bk_log_line(hb->log_fd, "event=lost job=%s worker=%s", hb->claim->job_id,
				    hb->worker);
		} else if (bk_claim_heartbeat(hb->claim, &err)) {
			bk_log_line(hb->log_fd, "worker=%s job=%s result=error reason=heartbeat: %s",
				    hb->worker, hb->claim->job_id, err.msg);
		}
	}
	pthread_mutex_unlock(&hb->mu);
	return NULL;
}

/* ctx->page_begin: a page (or the build) starts, with its limit. */
static void heartbeat_page(void *ud, int limit)
{
	struct heartbeat *hb = ud;
	pthread_mutex_lock(&hb->mu);
	clock_gettime(CLOCK_MONOTONIC, &hb->page_started);
	hb->page_limit = limit;
	hb->overrun_logged = false;
	pthread_mutex_unlock(&hb->mu);
}

static int heartbeat_start(struct heartbeat *hb, const struct bk_claim *claim,
			   int lease, int log_fd, const char *worker, struct bk_error *err)
{
	memset(hb, 0, sizeof(*hb));
	hb->claim = claim;
	hb->log_fd = log_fd;
	hb->worker = worker;
	hb->interval = lease / 4 > 1 ? lease / 4 : 1;
	pthread_mutex_init(&hb->mu, NULL);
	pthread_cond_init(&hb->cv, NULL);
	if (pthread_create(&hb->thread, NULL, heartbeat_main, hb)) {
		pthread_mutex_destroy(&hb->mu);
		pthread_cond_destroy(&hb->cv);
		return bk_error_set(err, "cannot start the heartbeat thread");
	}
	hb->running = true;
	return 0;
}

static void heartbeat_stop(struct heartbeat *hb)
{
	if (!hb->running)
		return;
	pthread_mutex_lock(&hb->mu);
	hb->stop = true;
	pthread_cond_signal(&hb->cv);
	pthread_mutex_unlock(&hb->mu);
	pthread_join(hb->thread, NULL);
	pthread_mutex_destroy(&hb->mu);
	pthread_cond_destroy(&hb->cv);
	hb->running = false;
}

/* ---- the worker loop -------------------------------------------------- */

static bool stop_requested(void *ud)
{
	sigset_t pending;
	(void)ud;
	if (sigpending(&pending))
		return false;
	return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

/* Sleeps up to `seconds`, returning early (true) when asked to stop. */
static bool idle_wait(int seconds)
{
	sigset_t set;
	struct timespec ts = { seconds, 0 };
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* leave the signal pending for stop_requested: peek, then re-raise */
	int sig = sigtimedwait(&set, NULL, &ts);
	if (sig > 0) {
		raise(sig); /* blocked, so it stays pending */
		return true;
	}
	return false;
}

struct worker {
	const struct bk_worker_options *opt;
	struct bk_queue queue;
	struct bk_store *store;
	struct bk_engine *engine;
	int log_fd;
	char name[300];
};

/* Processes one claimed job to its end state. */
static int work_on(struct worker *w, struct bk_claim *claim, struct bk_error *err)
{
	struct heartbeat hb;
	struct bk_job_failure fail;
	struct bk_error jerr;
	struct bk_job_context ctx = {
		.archive = w->opt->archive, .store = w->store, .log_fd = w->log_fd,
		.worker = w->name, .should_stop = stop_requested,
		.no_index = w->opt->no_index, .claim = claim,
		.page_timeout = w->opt->page_timeout, .page_begin = heartbeat_page,
		.ud = &hb,
	};
	int r, rc = -1;

	if (!w->engine) {
		w->engine = bk_engine_new(w->opt->tessdata, err);
		if (!w->engine) {
			bk_queue_unclaim(&w->queue, claim, NULL);
			return -1;
		}
	}
	ctx.engine = w->engine;
	if (heartbeat_start(&hb, claim, w->queue.lease_seconds, w->log_fd, w->name, err)) {
		bk_queue_unclaim(&w->queue, claim, NULL);
		return -1;
	}
	bk_error_init(&jerr);
	r = bk_job_run(&ctx, claim->dir, &fail, &jerr);
	heartbeat_stop(&hb);
	if (ctx.lost || hb.lost || !bk_claim_owned(claim))
		rc = 1; /* taken over while we were stopped: it is not ours to move */
	else if (r == 0)
		rc = bk_queue_finish(&w->queue, claim, err);
	else if (r == 1)
		rc = bk_queue_unclaim(&w->queue, claim, err);
	else if (r == 2) {
		/* given back untouched (its renames need no space); the worker
		 * stops and its supervisor pauses the pool */
		bk_queue_unclaim(&w->queue, claim, NULL);
		bk_job_failure_release(&fail);
		*err = jerr;
		return -1;
	} else
		rc = bk_queue_fail_skips(&w->queue, claim, fail.file[0] ? fail.file : NULL,
					 fail.page, jerr.msg, fail.missing, fail.nmissing, err);
	bk_job_failure_release(&fail);
	if (rc && !bk_claim_owned(claim)) {
		/* quietly: the job is someone else's, and nothing was written */
		if (rc < 0 || !ctx.lost)
			bk_log_line(w->log_fd, "job=%s result=lost worker=%s", claim->job_id,
				    w->name);
		rc = 0;
	}
	return rc;
}

/* The worker loop; an error is logged in its own log or, when that is not
 * open yet, in `fallback_log_fd` (the supervisor's, inherited by fork), so
 * a worker that cannot start says why. */
static int worker_run(const struct bk_worker_options *opt, int fallback_log_fd,
		      struct bk_error *err)
{
	struct worker w = { .opt = opt, .log_fd = -1 };
	int rc = -1;

	setenv("OMP_THREAD_LIMIT", "1", 1);
	if (bk_queue_open(&w.queue, opt->archive, err))
		goto out;
	if (opt->lease_seconds > 0)
		w.queue.lease_seconds = opt->lease_seconds;
	if (opt->max_tries > 0)
		w.queue.max_tries = opt->max_tries;
	snprintf(w.name, sizeof(w.name), "%s.%ld", w.queue.host, (long)getpid());
	if (bk_store_open(&w.store, opt->archive, err))
		goto out;
	w.log_fd = bk_log_open(opt->archive, w.queue.host, err);
	if (w.log_fd < 0)
		goto out;
	while (!stop_requested(NULL)) {
		struct bk_claim claim;
		int got = bk_queue_claim(&w.queue, &claim, err);
		if (got < 0)
			goto out;
		if (got == 0) {
			if (opt->drain)
				break;
			if (idle_wait(IDLE_POLL_SECONDS))
				break;
			continue;
		}
		int r = work_on(&w, &claim, err);
		bk_claim_release(&claim);
		if (r)
			goto out;
	}
	rc = 0;
out:
	if (rc) {
		if (!w.name[0])
			snprintf(w.name, sizeof(w.name), "%s.%ld",
				 w.queue.host ? w.queue.host : "?", (long)getpid());
		bk_log_line(w.log_fd >= 0 ? w.log_fd : fallback_log_fd,
			    "worker=%s result=error reason=%s", w.name, err->msg);
	}
	bk_engine_free(&w.engine);
	bk_store_free(&w.store);
	if (w.log_fd >= 0)
		close(w.log_fd);
	bk_queue_release(&w.queue);
	return rc;
}

int bk_worker_loop(const struct bk_worker_options *opt, struct bk_error *err)
{
	return worker_run(opt, -1, err);
}

/* ---- the supervisor --------------------------------------------------- */

struct slot {
	pid_t pid;      /* 0: free */
	time_t started; /* when the current/last process started */
	pid_t crashed;  /* the last process, if it died unclean: not yet replaced */
	pid_t overdue;  /* killed for running past its page's limit */
};

/* Deadlines: a worker of this pool whose page has run past its limit (the
 * page record of its claim, pipeline/queue.h) is killed; recovery then
 * counts the death against that page, and after max_tries the page is
 * quarantined, so a hung page cannot hold a job, or `--drain`, for ever. */
static void enforce_deadlines(struct bk_queue *q, struct slot *slots, int n)
{
	char *dir = bk_queue_path(q, "claimed", NULL);
	char **names = NULL;
	size_t count = 0;
	time_t now = 0;

	if (dir)
		bk_list_dir(dir, &names, &count, NULL); /* none: nothing to check now */
	for (size_t k = 0; k < count; k++) {
		char *job = NULL, *host = NULL, *path = NULL;
		struct bk_claim_page pg;
		long pid = 0;
		int i = n;
		if (bk_claim_name_parse(names[k], &job, &host, &pid) == 0 &&
		    !strcmp(host, q->host))
			for (i = 0; i < n; i++)
				if (slots[i].pid == (pid_t)pid && slots[i].overdue != (pid_t)pid)
					break;
		if (i < n && (path = bk_path_join(dir, names[k])) &&
		    bk_claim_page_read(&pg, path, NULL) == 0) {
			if (!now)
				now = bk_queue_fs_now(q);
			if (pg.limit > 0 && now - pg.started > pg.limit &&
			    kill((pid_t)pid, SIGKILL) == 0) {
				slots[i].overdue = (pid_t)pid;
				bk_log_line(q->log_fd, "event=deadline job=%s file=%s page=%d "
					    "limit=%d worker=%s.%ld", job, pg.file ? pg.file : "-",
					    pg.page, pg.limit, q->host, pid);
			}
			bk_claim_page_release(&pg);
		}
		free(path);
		free(job);
		free(host);
	}
	bk_names_free(names, count);
	free(dir);
}

static pid_t spawn_worker(const struct bk_worker_options *opt, int log_fd,
			  struct bk_error *err)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return bk_error_set(err, "cannot start a worker process: %s", strerror(errno));
	if (pid == 0) {
		struct bk_error cerr;
		sigset_t chld;
		bk_error_init(&cerr);
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		int r = worker_run(opt, log_fd, &cerr);
		int res = r ? bk_resource_error(&cerr) : 0;
		_exit(r == 0 ? 0 : res == ENOSPC ? WORKER_EXIT_NO_SPACE
				 : res == ENOMEM ? WORKER_EXIT_NO_MEMORY
				 : res == EIO ? WORKER_EXIT_IO : WORKER_EXIT_SETUP);
	}
	return pid;
}

/* Stops at the first job's name: no need to list (bk_list_dir) a long
 * queue to know it is not empty. */
static bool incoming_nonempty(const struct bk_queue *q)
{
	char *dir = bk_queue_path(q, "incoming", NULL);
	bool found = false;
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.') {
			found = true;
			break;
		}
	if (d)
		closedir(d);
	free(dir);
	return found;
}

/*
 * Draining: the pool may end only when no job can still need it. Jobs in
 * incoming/ do; so does a claim in claimed/ unless its holder is shown to
 * be alive, because a claim whose holder died must be recovered and worked
 * on, and recovery only happens while some worker runs. The pool's own
 * workers are waited for anyway; any other claim's holder is shown alive
 * by a heartbeat renewed while the pool watched it: a heartbeat
 * that is merely fresh proves nothing (the holder may have died a second
 * ago, or its pid may belong to someone else after a reboot), but a live
 * holder renews it every lease/4 seconds. A claim that is not renewed
 * turns stale within the lease and is recovered. So each host that drains
 * a shared queue ends once the queue is empty or every remaining claim is
 * held by a live worker (on this host or another); it never ends while a
 * dead worker's job waits. (A holder that dies after the pool ended is
 * recovered by the next pool to run, on any host.)
 */
struct claim_watch {
	char *name;
	struct timespec first; /* heartbeat mtime when first seen */
	bool renewed;          /* seen to change since */
};

struct drain_watch {
	struct claim_watch *v;
	size_t n;
};

static void drain_watch_release(struct drain_watch *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].name);
	free(w->v);
	memset(w, 0, sizeof(*w));
}

/* True while a claim in claimed/ may still need this pool (see above);
 * updates the watch list. Asked only once the pool's own workers have all
 * ended, so every claim is someone else's. Errors count as "may need it". */
static bool claims_pending(const struct bk_queue *q, struct drain_watch *w)
{
	char *dir = bk_queue_path(q, "claimed", NULL);
	struct drain_watch next = { 0 };
	char **names = NULL;
	size_t count = 0;
	bool pending = !dir || bk_list_dir(dir, &names, &count, NULL);

	for (size_t k = 0; k < count; k++) {
		char *job = NULL, *host = NULL, *hb = NULL;
		long pid;
		struct stat st;
		struct claim_watch c = { 0 };
		bool claim = bk_claim_name_parse(names[k], &job, &host, &pid) == 0;
		free(job);
		free(host);
		if (!claim)
			continue;
		if (asprintf(&hb, "%s/%s/heartbeat", dir, names[k]) < 0) {
			pending = true;
			break;
		}
		if (stat(hb, &st) == 0)
			c.first = st.st_mtim;
		free(hb);
		for (size_t i = 0; i < w->n; i++) {
			if (strcmp(w->v[i].name, names[k]))
				continue;
			c.renewed = w->v[i].renewed ||
				    w->v[i].first.tv_sec != c.first.tv_sec ||
				    w->v[i].first.tv_nsec != c.first.tv_nsec;
			c.first = w->v[i].first;
		}
		pending |= !c.renewed;
		struct claim_watch *nv = realloc(next.v, (next.n + 1) * sizeof(*nv));
		if (!nv || !(c.name = strdup(names[k]))) {
			next.v = nv ? nv : next.v;
			pending = true;
			break;
		}
		next.v = nv;
		next.v[next.n++] = c;
	}
	bk_names_free(names, count);
	free(dir);
	drain_watch_release(w);
	*w = next;
	return pending;
}

static void report_progress(const struct bk_worker_options *opt, bool final)
{
	struct bk_status st;
	if (!opt->progress || bk_status_collect(opt->archive, &st, NULL))
		return;
	opt->progress(&st, final, opt->ud);
	bk_status_release(&st);
}

/* The kernel's count of processes it killed for want of memory
 * (/proc/vmstat oom_kill; -1 when it cannot be read). */
static long oom_kills(void)
{
	FILE *fp = fopen("/proc/vmstat", "re");
	char line[128];
	long n = -1;

	while (fp && fgets(line, sizeof(line), fp))
		if (!strncmp(line, "oom_kill ", 9))
			n = atol(line + 9);
	if (fp)
		fclose(fp);
	return n;
}

/* Whether a worker's end is its page's doing, and how to say it: a crash
 * (SIGSEGV, SIGABRT...), the kernel's OOM kill (a SIGKILL while the
 * kernel's count rose, or when it cannot be read), its time limit, or a
 * failure exit are; a SIGKILL or SIGTERM from outside (an operator, a
 * batch system's kill) and a worker that could not start (exit 3) are not. */
static bool death_charge(int status, bool overdue, long oom_before, long oom_after,
			 char *how, size_t cap)
{
	if (overdue) {
		snprintf(how, cap, "was killed at its page's time limit");
		return true;
	}
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		if (sig == SIGKILL) {
			bool oom = oom_after < 0 || oom_after > oom_before;
			snprintf(how, cap, oom ? "was killed, the kernel short of memory"
					       : "was killed from outside (SIGKILL)");
			return oom;
		}
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) {
			snprintf(how, cap, "was stopped from outside (signal %d)", sig);
			return false;
		}
		snprintf(how, cap, "crashed with signal %d", sig);
		return true;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) >= WORKER_EXIT_SETUP &&
	    WEXITSTATUS(status) <= WORKER_EXIT_IO) {
		snprintf(how, cap, "could not go on (its disk, its start)");
		return false;
	}
	snprintf(how, cap, "ended with status 0x%x", status);
	return true;
}

/* "signal 9", "exit status 3": how a worker process ended. */
static void describe_exit(int status, char *buf, size_t cap)
{
	if (WIFSIGNALED(status))
		snprintf(buf, cap, "signal %d", WTERMSIG(status));
	else if (WIFEXITED(status))
		snprintf(buf, cap, "exit status %d", WEXITSTATUS(status));
	else
		snprintf(buf, cap, "status 0x%x", status);
}

/* Collects the workers that ended: logs a crash, remembers how each died
 * for recovery (bk_queue_note_death), and gives up when workers cannot
 * start at all. */
/* A pool paused by a full disk or a lack of memory (see
 * bk_worker_pool_run). */
struct pause {
	bool on;
	int why;         /* ENOSPC or ENOMEM */
	time_t retry_at; /* workers are started again from then */
	time_t since;    /* the last retry */
};

static void notice(const struct bk_worker_options *opt, const struct bk_queue *q,
		   const char *event, const char *msg)
{
	/* pool=: `bunko status` shows a pause until this pool logs its end
	 * (pipeline/status.c), or, on this host, the pool is gone */
	bk_log_line(q->log_fd, "event=%s pool=%s.%ld reason=%s", event, q->host,
		    (long)getpid(), msg);
	if (opt->notice)
		opt->notice(msg, opt->ud);
}

/* The disk is full (why ENOSPC) or memory ran out (ENOMEM): no worker is
 * started until PAUSE_RETRY_SECONDS have passed; said once per episode. */
static void pause_pool(struct pause *p, const struct bk_worker_options *opt,
		       const struct bk_queue *q, int why)
{
	char msg[512];
	if (!p->on || p->why != why) {
		if (why == ENOMEM)
			snprintf(msg, sizeof(msg), "paused: out of memory; no job is charged, "
				 "and the pool tries again every %d s", PAUSE_RETRY_SECONDS);
		else
			snprintf(msg, sizeof(msg), "paused: no space left on the disk of '%s'; "
				 "no job is charged, and the pool tries again every %d s",
				 opt->archive, PAUSE_RETRY_SECONDS);
		notice(opt, q, "pause", msg);
	}
	p->on = true;
	p->why = why;
	p->retry_at = time(NULL) + PAUSE_RETRY_SECONDS;
}

static void reap_workers(struct bk_queue *q, const struct bk_worker_options *opt,
			 struct slot *slots, int n, int *alive, int *setup_failures,
			 bool *fatal, time_t *last_recover, long *oom, struct pause *pause,
			 struct bk_error *err)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < n; i++) {
			if (slots[i].pid != pid)
				continue;
			slots[i].pid = 0;
			(*alive)--;
			bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
			if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_NO_SPACE)
				pause_pool(pause, opt, q, ENOSPC);
			if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_NO_MEMORY)
				pause_pool(pause, opt, q, ENOMEM);
			if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_IO && !*fatal) {
				bk_error_set(err, "the disk of '%s' reported an I/O error; the pool "
					     "stopped (see '%s/log/worker-%s.log')", opt->archive,
					     opt->archive, q->host);
				*fatal = true;
			}
			if (WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_SETUP &&
			    ++*setup_failures >= 3 * n) {
				bk_error_set(err, "worker processes cannot start; see "
					     "'%s/log/worker-%s.log'", opt->archive, q->host);
				*fatal = true;
			}
			if (!clean) { /* its claim, if any, is stale now */
				char how[64], cause[96];
				long now_oom = oom_kills();
				describe_exit(status, how, sizeof(how));
				bool charge = death_charge(status, slots[i].overdue == pid, *oom,
							   now_oom, cause, sizeof(cause));
				*oom = now_oom;
				bk_queue_note_death(q, (long)pid, charge, cause);
				bk_log_line(q->log_fd, "event=crash worker=%s.%ld reason=%s",
					    q->host, (long)pid, how);
				slots[i].crashed = pid;
				*last_recover = 0;
			} else {
				*setup_failures = 0;
			}
		}
	}
}

int bk_worker_pool_run(const struct bk_worker_options *opt, struct bk_error *err)
{
	struct bk_queue q;
	struct slot *slots = NULL;
	struct drain_watch watch = { 0 };
	sigset_t set;
	bool stopping = false, fatal = false;
	int n = opt->processes > 0 ? opt->processes : 1, rc = -1, alive = 0;
	int setup_failures = 0;
	time_t last_recover = 0, last_progress = 0;
	long oom = oom_kills();
	struct pause pause = { 0 };

	setenv("OMP_THREAD_LIMIT", "1", 1);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (bk_queue_open(&q, opt->archive, err))
		return -1;
	if (opt->lease_seconds > 0)
		q.lease_seconds = opt->lease_seconds;
	if (opt->max_tries > 0)
		q.max_tries = opt->max_tries;
	q.log_fd = bk_log_open(opt->archive, q.host, err);
	if (q.log_fd < 0)
		goto out;
	slots = calloc((size_t)n, sizeof(*slots));
	if (!slots) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	for (;;) {
		time_t now = time(NULL);
		/* reaped first, so recovery knows how each of ours died */
		reap_workers(&q, opt, slots, n, &alive, &setup_failures, &fatal,
			     &last_recover, &oom, &pause, err);
		if (now - last_recover >= RECOVER_EVERY_SECONDS || alive == 0) {
			if (bk_queue_recover(&q, err) < 0) {
				if (bk_resource_error(err) != ENOSPC)
					goto out;
				if (!pause.on) /* retried at the next sweep */
					pause_pool(&pause, opt, &q, ENOSPC);
			}
			last_recover = now;
		}
		/* paused: wait; a retry that lasts PAUSE_RETRY_SECONDS ends it */
		if (pause.on && pause.since && alive > 0 && now - pause.since >= PAUSE_RETRY_SECONDS) {
			pause.on = false;
			pause.since = 0;
			char msg[512];
			if (pause.why == ENOMEM)
				snprintf(msg, sizeof(msg), "resumed: there is memory again");
			else
				snprintf(msg, sizeof(msg), "resumed: there is space again on the disk of '%s'",
					 opt->archive);
			notice(opt, &q, "resume", msg);
		}
		bool held = pause.on && now < pause.retry_at;
		if (pause.on && !held && !pause.since)
			pause.since = now;
		if (held)
			pause.since = 0;
		/* (re)fill free slots; a drained pool only while work is queued */
		bool work = !opt->drain || incoming_nonempty(&q);
		for (int i = 0; i < n && !stopping && !fatal && work && !held; i++) {
			if (slots[i].pid || now - slots[i].started < 1)
				continue;
			pid_t pid = spawn_worker(opt, q.log_fd, err);
			if (pid < 0)
				goto out;
			if (slots[i].crashed)
				bk_log_line(q.log_fd, "event=restart worker=%s.%ld new=%s.%ld",
					    q.host, (long)slots[i].crashed, q.host, (long)pid);
			slots[i].pid = pid;
			slots[i].started = now;
			slots[i].crashed = 0;
			alive++;
		}
		if (alive == 0 && (stopping || fatal ||
				   (!work && !claims_pending(&q, &watch))))
			break;
		if (alive > 0)
			enforce_deadlines(&q, slots, n);
		if (opt->progress && now - last_progress >= PROGRESS_EVERY_SECONDS) {
			report_progress(opt, false);
			last_progress = now;
		}
		struct timespec ts = { 1, 0 };
		int sig = sigtimedwait(&set, NULL, &ts);
		if ((sig == SIGTERM || sig == SIGINT || fatal) && !stopping) {
			stopping = true;
			for (int i = 0; i < n; i++)
				if (slots[i].pid)
					kill(slots[i].pid, SIGTERM);
		}
		reap_workers(&q, opt, slots, n, &alive, &setup_failures, &fatal,
			     &last_recover, &oom, &pause, err);
	}
	rc = fatal ? -1 : 0;
out:
	if (rc) {
		for (int i = 0; slots && i < n; i++)
			if (slots[i].pid)
				kill(slots[i].pid, SIGTERM);
		for (int i = 0; slots && i < n; i++)
			if (slots[i].pid)
				waitpid(slots[i].pid, NULL, 0);
	}
	if (pause.on) /* a pool that ends is no longer paused: said in the log */
		bk_log_line(q.log_fd, "event=resume pool=%s.%ld reason=the pool stopped",
			    q.host, (long)getpid());
	report_progress(opt, true);
	drain_watch_release(&watch);
	free(slots);
	if (q.log_fd >= 0)
		close(q.log_fd);
	bk_queue_release(&q);
	return rc;
}
