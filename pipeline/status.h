/*
 * pipeline/status.h — what the queue is doing, for `bunko status` and the
 * supervisor's progress line: jobs per state, pages done of total (from the
 * job files and their checkpoints), the recent rate (from the worker log)
 * and the failures with their reasons. Read-only: collecting a status
 * changes nothing in the archive.
 */
#ifndef BUNKO_PIPELINE_STATUS_H
#define BUNKO_PIPELINE_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "bunko/common.h"
#include "pipeline/queue.h"

#define BK_STATUS_RATE_WINDOW 600 /* seconds of log the rate is measured over */
#define BK_STATUS_WORKER_ERRORS 10 /* the latest worker errors shown */

struct bk_status_job {
	char *id, *collection;
	enum bk_job_state state;
	char *worker;      /* "<host>.<pid>" while running, else NULL */
	bool stale;        /* running, but its worker is gone (recovery pending) */
	int pages_total;   /* source pages (0: unknown) */
	int pages_done;    /* source pages checkpointed (all of them once done) */
	int tries;
	/* failed jobs: the reason file */
	char *fail_file;
	int fail_page;
	char *fail_message;
	/* pages and files left out of the document so far (work/progress;
	 * a failed job's reason): file, page (0: the whole file), reason */
	struct bk_job_skip *missing;
	size_t nmissing;
};

/* A worker's own error from the log ("worker=H.P ... result=error
 * reason=..."): one that could not start or go on, or a lease it could not
 * renew. Job failures are in the jobs' reasons instead. */
struct bk_status_worker_error {
	char *when;    /* "YYYY-MM-DDTHH:MM:SSZ", UTC as in the log */
	char *worker;  /* "<host>.<pid>" */
	char *message;
};

/* A pool that paused itself ("event=pause pool=H.P reason=..." in its
 * host's log) and has not logged its resume since; dropped when it ran on
 * this host and its process is gone. */
struct bk_status_pause {
	char *when;    /* "YYYY-MM-DDTHH:MM:SSZ": since when */
	char *pool;    /* "<host>.<pid>" of its supervisor */
	char *message; /* "paused: no space left on the disk of ..." */
};

struct bk_status {
	int queued, running, done, failed;
	long pages_total;      /* jobs not failed */
	long pages_done;
	double pages_per_hour; /* over the last BK_STATUS_RATE_WINDOW seconds */
	double eta_seconds;    /* < 0: unknown */
	struct bk_status_job *jobs; /* every job, queue order per state */
	size_t njobs;
	/* the latest BK_STATUS_WORKER_ERRORS in the logs' tails, oldest first
	 * per host's log */
	struct bk_status_worker_error *worker_errors;
	size_t nworker_errors;
	/* pools paused now (disk full, out of memory), from the logs */
	struct bk_status_pause *pauses;
	size_t npauses;
};

void bk_status_init(struct bk_status *st);
void bk_status_release(struct bk_status *st);
int bk_status_collect(const char *archive, struct bk_status *st,
		      struct bk_error *err);

#endif
