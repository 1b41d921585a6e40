/*
 * pipeline/worker.h — the worker pool behind `bunko worker`: a supervisor
 * process that forks N worker processes and keeps them running, and the
 * worker loop each of them runs (claim a job, process it, repeat).
 *
 * Guarantees:
 * - each worker process creates one OCR engine (lazily, at its first job)
 *   and reuses it for every page; OMP_THREAD_LIMIT=1 is set before
 *   Tesseract starts, so N workers use N cores.
 * - a worker that crashes is restarted, and its claim goes back to the
 *   queue by the queue protocol (pipeline/queue.c); the supervisor tells
 *   recovery how each of its workers ended (bk_queue_note_death), so only
 *   a death that is the page's doing, with no page finished since the
 *   claim, counts; a page that kills or hangs max_tries workers is
 *   quarantined and the volume goes on without it.
 * - deadlines: a worker whose page runs past its limit (page_timeout, or
 *   from the page's size) is killed by the supervisor, which counts as one
 *   death on that page; its heartbeat thread stops renewing the lease once
 *   the page is past its limit, for supervisors on other hosts.
 * - SIGTERM or SIGINT: every worker finishes the page it is on, gives its
 *   job back to incoming/ (checkpoints kept) and exits; the supervisor waits
 *   for all of them. No signal handlers: signals are blocked and collected
 *   synchronously (sigtimedwait, sigpending), so no global state is needed.
 * - bad pages and files are left out of their document, named, and the
 *   rest goes on (process.h); a job that fails (no page readable) goes to
 *   failed/ with its reason; the worker goes on with the next job.
 * - a full disk (ENOSPC, EDQUOT) is nobody's fault: the worker gives its
 *   job back untouched and ends, the supervisor pauses the pool (one
 *   notice), starts workers again every PAUSE_RETRY_SECONDS, and says once
 *   when it goes on. An I/O error (EIO) stops the pool with one error.
 * - the host's worker log (pipeline/log.h) records every page and job, and
 *   the supervisor's events: a worker that crashed and its restart, and
 *   each claim it recovered.
 */
#ifndef BUNKO_PIPELINE_WORKER_H
#define BUNKO_PIPELINE_WORKER_H

#include <stdbool.h>

#include "bunko/common.h"
#include "pipeline/status.h"

struct bk_worker_options {
	const char *archive;
	int processes;      /* worker processes (>= 1) */
	bool drain;         /* exit once no job needs this pool: incoming/ is
			       empty and every claim left is held by a live
			       worker (worker.c, "Draining") */
	bool no_index;      /* store documents without indexing them
			       (`bunko reindex` builds the index later) */
	int lease_seconds;  /* 0: BK_QUEUE_LEASE_DEFAULT */
	int max_tries;      /* 0: BK_QUEUE_TRIES_DEFAULT */
	int page_timeout;   /* seconds a page may take before the supervisor
			       kills its worker; 0: from the page's size
			       (bk_page_time_limit) */
	const char *tessdata; /* NULL: Tesseract's default */
	/* Called by the supervisor every couple of seconds (may be NULL);
	 * final is true once, at the end. */
	void (*progress)(const struct bk_status *st, bool final, void *ud);
	/* Told, in one line each, when the pool pauses because the disk is
	 * full (no job is charged; it retries) and when it resumes (may be
	 * NULL). */
	void (*notice)(const char *msg, void *ud);
	void *ud;
};

/* Runs the supervisor until drained or stopped by SIGTERM/SIGINT. Blocks
 * SIGTERM, SIGINT and SIGCHLD in the calling process. */
int bk_worker_pool_run(const struct bk_worker_options *opt, struct bk_error *err);

/* Runs one worker loop in this process (what each pool child runs; usable
 * alone, e.g. one worker per batch-system task). Expects SIGTERM/SIGINT to
 * be blocked by the caller if a graceful stop is wanted. Returns 0 when
 * stopped or drained, -1 when it could not work at all. */
int bk_worker_loop(const struct bk_worker_options *opt, struct bk_error *err);

#endif
