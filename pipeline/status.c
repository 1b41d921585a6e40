/*
 * pipeline/status.c — collecting the queue's status (see status.h).
 *
 * Pages: a job's total is the source page count `bunko add` recorded in
 * job.meta; pages done are its checkpointed source pages (work/progress),
 * or all of them once the job is done. The rate is the number of pages the
 * worker log says were finished in the last BK_STATUS_RATE_WINDOW seconds,
 * divided by the time since the first of them started (so a pool that has
 * run for one minute is not reported at a tenth of its speed). Every
 * host's log is read (log/worker*.log, pipeline/log.h), only its tail, so
 * a long log costs nothing. The same tails give the workers' own errors
 * ("worker=H.P ... result=error reason=..."), the latest kept, and the
 * pools paused now: a pool's "event=pause pool=H.P" line not followed by
 * its "event=resume pool=H.P" (pipeline/worker.c writes both; the log is
 * appended to by a few bytes, which a full disk's last block usually
 * still takes, where a new status file would need a block of its own).
 */
#include "pipeline/status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bunko/atomic.h"
#include "bunko/fs.h"

#define LOG_TAIL_BYTES (512 * 1024)

void bk_status_init(struct bk_status *st)
{
	memset(st, 0, sizeof(*st));
	st->eta_seconds = -1;
}

static void pause_free(struct bk_status_pause *p)
{
	free(p->when);
	free(p->pool);
	free(p->message);
	memset(p, 0, sizeof(*p));
}

/* A pool's pause or resume line: the pause kept (replacing the pool's
 * earlier one), or the pool's pause dropped. */
static void keep_pause(struct bk_status *st, const char *line)
{
	const char *ev = strstr(line, " event=pause pool="), *res = strstr(line, " event=resume pool=");
	const char *pool = ev ? ev + 18 : res ? res + 19 : NULL;
	size_t stamp = strlen(line) > 20 && line[19] == 'Z' ? 20 : 19;

	if (!pool || (size_t)((ev ? ev : res) - line) != stamp)
		return; /* not "YYYY-MM-DDTHH:MM:SSZ event=..." */
	size_t plen = strcspn(pool, " ");
	for (size_t i = 0; i < st->npauses; i++)
		if (strlen(st->pauses[i].pool) == plen && !strncmp(st->pauses[i].pool, pool, plen)) {
			pause_free(&st->pauses[i]);
			st->pauses[i] = st->pauses[--st->npauses];
			break;
		}
	const char *reason = strstr(pool, " reason=");
	if (!ev || !reason)
		return;
	struct bk_status_pause p = { strndup(line, stamp), strndup(pool, plen),
				     strdup(reason + 8) };
	struct bk_status_pause *nv = realloc(st->pauses, (st->npauses + 1) * sizeof(p));
	if (!nv || !p.when || !p.pool || !p.message) {
		st->pauses = nv ? nv : st->pauses;
		pause_free(&p);
		return;
	}
	st->pauses = nv;
	st->pauses[st->npauses++] = p;
}

void bk_status_release(struct bk_status *st)
{
	for (size_t i = 0; i < st->njobs; i++) {
		struct bk_status_job *j = &st->jobs[i];
		free(j->id);
		free(j->collection);
		free(j->worker);
		free(j->fail_file);
		free(j->fail_message);
		bk_job_skips_free(&j->missing, &j->nmissing);
	}
	free(st->jobs);
	for (size_t i = 0; i < st->nworker_errors; i++) {
		free(st->worker_errors[i].when);
		free(st->worker_errors[i].worker);
		free(st->worker_errors[i].message);
	}
	free(st->worker_errors);
	for (size_t i = 0; i < st->npauses; i++)
		pause_free(&st->pauses[i]);
	free(st->pauses);
	bk_status_init(st);
}

/* Reads failed/<job>/reason; a reason that cannot be read is reported as
 * the job's failure, with why. */
static void read_reason(const char *dir, struct bk_status_job *j)
{
	struct bk_job_reason reason;
	struct bk_error err;

	bk_error_init(&err);
	if (bk_job_reason_read(&reason, dir, &err) == 0) {
		j->fail_file = reason.file;
		j->fail_page = reason.page;
		j->fail_message = reason.message;
		reason.file = reason.message = NULL;
		if (reason.nmissing) {
			bk_job_skips_free(&j->missing, &j->nmissing);
			j->missing = reason.missing;
			j->nmissing = reason.nmissing;
			reason.missing = NULL;
			reason.nmissing = 0;
		}
		bk_job_reason_release(&reason);
	}
	if (!j->fail_message)
		j->fail_message = strdup(err.msg[0] ? err.msg : "no reason recorded");
}

struct collect {
	struct bk_status *st;
	const struct bk_queue *q;
	struct bk_error *err;
};

static int add_job(enum bk_job_state state, const char *job_id, const char *dir,
		   const char *owner, void *ud)
{
	struct collect *c = ud;
	struct bk_status *st = c->st;
	struct bk_job_meta m;
	struct bk_job_progress p;
	char *meta_path = NULL;

	struct bk_status_job *nv = realloc(st->jobs, (st->njobs + 1) * sizeof(*nv));
	if (!nv)
		return bk_error_set(c->err, "out of memory");
	st->jobs = nv;
	struct bk_status_job *j = &st->jobs[st->njobs++];
	memset(j, 0, sizeof(*j));
	j->state = state;
	j->id = strdup(job_id);
	j->worker = owner ? strdup(owner) : NULL;
	if (owner) {
		/* the system clock, not bk_queue_fs_now(): a status writes nothing */
		char *name = NULL;
		if (asprintf(&name, "%s@%s", job_id, owner) >= 0)
			j->stale = bk_queue_claim_is_stale(c->q, name, time(NULL));
		free(name);
	}
	bk_job_meta_init(&m);
	bk_job_progress_init(&p);
	/* a job being moved between states right now may not be readable;
	 * it is still counted */
	if ((meta_path = bk_path_join(dir, "job.meta")) &&
	    bk_job_meta_read(&m, meta_path, NULL) == 0) {
		j->collection = m.collection;
		m.collection = NULL;
		j->pages_total = m.pages;
		j->tries = m.tries;
	}
	if (bk_job_progress_read(&p, dir, NULL) == 0) {
		j->pages_done = p.source_done;
		j->missing = p.missing;
		j->nmissing = p.nmissing;
		p.missing = NULL;
		p.nmissing = 0;
	}
	if (state == BK_JOB_DONE)
		j->pages_done = j->pages_total;
	if (j->pages_done > j->pages_total)
		j->pages_total = j->pages_done;
	switch (state) {
	case BK_JOB_QUEUED:
		st->queued++;
		break;
	case BK_JOB_RUNNING:
		st->running++;
		break;
	case BK_JOB_DONE:
		st->done++;
		break;
	case BK_JOB_FAILED:
		st->failed++;
		read_reason(dir, j);
		break;
	}
	if (state != BK_JOB_FAILED) {
		st->pages_total += j->pages_total;
		st->pages_done += j->pages_done;
	}
	bk_job_progress_release(&p);
	bk_job_meta_release(&m);
	free(meta_path);
	return 0;
}

/* Parses "YYYY-MM-DDTHH:MM:SS ... page=... seconds=S result=ok": returns 1
 * with the page's start and end times. */
static int parse_page_line(const char *line, time_t *start, time_t *end)
{
	struct tm tm;
	const char *sec, *rest;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(line, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest || !strstr(rest, " page=") || !strstr(rest, " result=ok"))
		return 0;
	if (*rest == 'Z') { /* UTC, as the log is written now */
		*end = timegm(&tm);
	} else { /* local time, from an older version */
		tm.tm_isdst = -1;
		*end = mktime(&tm);
	}
	sec = strstr(rest, " seconds=");
	*start = *end - (sec ? (time_t)atof(sec + 9) : 0);
	return 1;
}

/* A worker error line (see status.h): kept, dropping the oldest kept one
 * beyond BK_STATUS_WORKER_ERRORS. */
static void keep_worker_error(struct bk_status *st, const char *line)
{
	const char *worker = strstr(line, " worker="), *reason = strstr(line, " result=error reason=");
	struct bk_status_worker_error e;

	size_t stamp = strlen(line) > 20 && line[19] == 'Z' ? 20 : 19;
	if (!worker || !reason || worker > reason || strlen(line) < stamp + 8 ||
	    strncmp(line + stamp, " worker=", 8))
		return; /* not "YYYY-MM-DDTHH:MM:SS[Z] worker=..." */
	worker += 8;
	e.when = strndup(line, stamp);
	e.worker = strndup(worker, strcspn(worker, " "));
	e.message = strdup(reason + 21);
	if (st->nworker_errors == BK_STATUS_WORKER_ERRORS) {
		free(st->worker_errors[0].when);
		free(st->worker_errors[0].worker);
		free(st->worker_errors[0].message);
		memmove(st->worker_errors, st->worker_errors + 1,
			(st->nworker_errors - 1) * sizeof(e));
		st->nworker_errors--;
	}
	struct bk_status_worker_error *nv =
		realloc(st->worker_errors, (st->nworker_errors + 1) * sizeof(e));
	if (!nv || !e.when || !e.worker || !e.message) {
		st->worker_errors = nv ? nv : st->worker_errors;
		free(e.when);
		free(e.worker);
		free(e.message);
		return;
	}
	st->worker_errors = nv;
	st->worker_errors[st->nworker_errors++] = e;
}

/* Page lines of one log's tail: counts those that ended within the window
 * and keeps the earliest start among them in *first; keeps worker errors. */
static void log_file_pages(const char *path, time_t now, long *count, time_t *first,
			   struct bk_status *status)
{
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st))
		goto out;
	off_t from = st.st_size > LOG_TAIL_BYTES ? st.st_size - LOG_TAIL_BYTES : 0;
	size_t len = (size_t)(st.st_size - from);
	buf = malloc(len + 1);
	if (!buf)
		goto out;
	ssize_t n = pread(fd, buf, len, from);
	if (n <= 0)
		goto out;
	buf[n] = '\0';
	char *line = buf, *save = NULL;
	if (from > 0) /* the first line may be cut */
		line = strchr(buf, '\n') ? strchr(buf, '\n') + 1 : buf + n;
	for (line = strtok_r(line, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		time_t s, e;
		keep_worker_error(status, line);
		keep_pause(status, line);
		if (!parse_page_line(line, &s, &e) || e < now - BK_STATUS_RATE_WINDOW)
			continue;
		if (*count == 0 || s < *first)
			*first = s;
		(*count)++;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
}

/* The rate over every host's log: log/worker-<host>.log (pipeline/log.h),
 * and log/worker.log of older versions. */
static double log_rate(const char *archive, struct bk_status *st)
{
	char *dir = NULL, **names = NULL;
	size_t nnames = 0;
	time_t now = time(NULL), first = 0;
	long count = 0;
	double rate = 0;

	if (!(dir = bk_path_join(archive, "log")))
		return 0;
	bk_list_dir(dir, &names, &nnames, NULL); /* no log yet: no rate */
	for (size_t i = 0; i < nnames; i++) {
		size_t len = strlen(names[i]);
		char *path;
		if (strncmp(names[i], "worker", 6) || len < 10 ||
		    strcmp(names[i] + len - 4, ".log"))
			continue;
		if (!(path = bk_path_join(dir, names[i])))
			break;
		log_file_pages(path, now, &count, &first, st);
		free(path);
	}
	bk_names_free(names, nnames);
	if (count > 0) {
		double span = (double)(now - first);
		if (span < 1)
			span = 1;
		rate = count * 3600.0 / span;
	}
	free(dir);
	return rate;
}

int bk_status_collect(const char *archive, struct bk_status *st,
		      struct bk_error *err)
{
	struct bk_queue q;
	struct collect c = { st, &q, err };
	int rc;

	bk_status_init(st);
	if (bk_queue_open(&q, archive, err))
		return -1;
	rc = bk_queue_foreach(&q, add_job, &c, err);
	if (rc == 0) {
		st->pages_per_hour = log_rate(archive, st);
		/* a pool killed while paused logged no resume */
		for (size_t i = st->npauses; i-- > 0;)
			if (bk_queue_pool_gone(&q, st->pauses[i].pool)) {
				pause_free(&st->pauses[i]);
				st->pauses[i] = st->pauses[--st->npauses];
			}
	}
	bk_queue_release(&q);
	if (rc) {
		bk_status_release(st);
		return -1;
	}
	long left = st->pages_total - st->pages_done;
	if (left <= 0)
		st->eta_seconds = 0;
	else if (st->pages_per_hour > 0)
		st->eta_seconds = left * 3600.0 / st->pages_per_hour;
	return 0;
}
