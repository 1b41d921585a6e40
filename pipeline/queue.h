/*
 * pipeline/queue.h — the job queue: a directory tree that any number of
 * worker processes, on one host or many hosts sharing a POSIX filesystem,
 * take jobs from. The protocol is written down at the top of queue.c.
 *
 * A job is one document to be: the list of scanned files (copied into the
 * job's input/ directory, byte for byte, under their own names) and the
 * metadata `bunko add` was given. Everything a
 * worker learns while processing (page checkpoints) lives inside the job's
 * own directory, so it moves with the job when a claim is recovered.
 *
 * Ownership: structs are caller-owned and released with their _release
 * function; every returned string is newly allocated.
 */
#ifndef BUNKO_PIPELINE_QUEUE_H
#define BUNKO_PIPELINE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "bunko/common.h"

#define BK_QUEUE_LEASE_DEFAULT 120 /* seconds without heartbeat: claim is stale */
#define BK_QUEUE_TRIES_DEFAULT 3   /* deaths on one page before it is quarantined */

/* A source page (or a whole file) of a job that is left out of its
 * document, and why: a page that could not be read, a file that could not
 * be opened, or a page quarantined after killing or hanging workers. */
struct bk_job_skip {
	int index;    /* 0-based source page of the job, all files in order */
	char *file;   /* the input file's name */
	int page;     /* 1-based page in that file; 0: the whole file */
	char *reason; /* one line */
};

/* Appends a copy of (index, file, page, reason) to *v; -1 when out of
 * memory. */
int bk_job_skip_add(struct bk_job_skip **v, size_t *n, int index, const char *file,
		    int page, const char *reason);
void bk_job_skips_free(struct bk_job_skip **v, size_t *n);

/* job.meta: what `bunko add` recorded about one job (a "bunko-job" record,
 * bunko/record.h). */
struct bk_job_meta {
	char *id;         /* 20261122-123456-<pid>-<rand> */
	char *collection; /* required */
	char *title, *date, *lang; /* may be NULL; lang NULL = "auto" */
	char *ocr;        /* --ocr mode (bk_ocr_mode_parse); NULL = "auto" */
	bool bilevel;     /* --bilevel */
	int dpi;          /* --dpi (BK_DPI_MIN..BK_DPI_MAX); 0 = not given */
	char *old_print;  /* --old-print mode (bk_old_print_parse); NULL = "auto" */
	int box, volume;           /* 0 = not given */
	enum bk_profile profile;
	enum bk_access access;
	char **files;  /* names of the input files in the job's input/, in order */
	size_t nfiles;
	int pages;     /* source pages of all files (counted at add; 0 unknown) */
	int tries;     /* worker deaths charged to the job since its last
			  progress: deaths of workers that checkpointed no
			  page since their claim (queue.c, recovery) */
	char *recoverer; /* "<host>.<pid>" of the last process that took the job
			    back from a dead worker and counted that death in
			    `tries`; NULL if none (see queue.c, recovery) */
	int generation;  /* raised by every claim: the fencing token */
	/* pages quarantined by recovery: the worker skips them */
	struct bk_job_skip *quarantine;
	size_t nquarantine;
	char *key;       /* `bunko add --manifest`: the row's key; else NULL */
};

void bk_job_meta_init(struct bk_job_meta *m);
void bk_job_meta_release(struct bk_job_meta *m);
int bk_job_meta_read(struct bk_job_meta *m, const char *path, struct bk_error *err);
/* Atomic (bunko/atomic.h). Any string is stored safely (record.h). */
int bk_job_meta_write(const struct bk_job_meta *m, const char *path,
		      struct bk_error *err);

/* "<job_dir>/input/<name>": where input file `name` of a job lives, apart
 * from the job's own files (job.meta, heartbeat, work/, ...) so that no
 * input name can collide with them. Newly allocated; NULL when out of
 * memory. */
char *bk_job_input_path(const char *job_dir, const char *name);

/* How a worker process ended, as its supervisor saw it (worker.c): the
 * cause recovery charges, or not, to the page the worker was on. */
struct bk_death {
	long pid;
	bool charge;   /* the page's doing: a crash, the kernel's OOM kill, its
			  time limit; not: a kill from outside */
	char how[96];  /* "crashed with signal 11", "killed from outside" */
};

#define BK_QUEUE_DEATHS 64 /* the latest deaths a supervisor remembers */

struct bk_queue {
	char *archive;     /* ARCHIVE */
	char *root;        /* ARCHIVE/queue */
	char *host;        /* this host's name as used in claim names */
	char *machine_id;  /* /etc/machine-id ("" when there is none): tells
			      apart hosts that share a name (cloned VMs) */
	int lease_seconds; /* BK_QUEUE_LEASE_DEFAULT unless changed */
	int max_tries;     /* BK_QUEUE_TRIES_DEFAULT unless changed */
	int log_fd;        /* recovery events go to this worker log
			      (pipeline/log.h); -1 (the default): none */
	/* the supervisor's own workers' deaths (a ring; pid 0: empty); a
	 * claim of a pid listed here is charged by its cause, any other by
	 * what its claim shows (see queue.c, recovery) */
	struct bk_death deaths[BK_QUEUE_DEATHS];
	size_t next_death;
};

/* Remembers how a worker of this process ended, for recovery. */
void bk_queue_note_death(struct bk_queue *q, long pid, bool charge, const char *how);

/* Opens ARCHIVE/queue, creating its subdirectories if missing. Fails if
 * ARCHIVE is not a bunko archive (no ARCHIVE/bunko-archive marker). */
int bk_queue_open(struct bk_queue *q, const char *archive, struct bk_error *err);
void bk_queue_release(struct bk_queue *q);

/* "ARCHIVE/queue/<sub>/<name>" (sub: "tmp", "incoming", ...; name may be
 * NULL); newly allocated, NULL when out of memory. */
char *bk_queue_path(const struct bk_queue *q, const char *sub, const char *name);

/*
 * Queues a new job: copies `paths` into it (a public job hard-links them
 * where it can), in a job directory of its level's mode, fills in
 * meta->id (must be NULL on entry) and meta->files, and writes job.meta.
 * The job appears in incoming/ complete or not at all. Base names must be
 * distinct (they become the masters' names).
 */
int bk_queue_add(struct bk_queue *q, struct bk_job_meta *meta,
		 const char *const *paths, size_t npaths, struct bk_error *err);

/*
 * A batch of new jobs (`bunko add --manifest`): each is built in tmp/ as
 * bk_queue_add builds one, but unsynced; commit makes them all durable
 * with one syncfs(2), then moves each into incoming/ and fsyncs it once.
 * A job is queued whole or not at all, as by bk_queue_add; release
 * deletes the jobs not committed.
 */
struct bk_queue_batch {
	char **tmpdirs, **ids; /* owned */
	size_t n, cap, done;   /* done: moved into incoming/ */
};
void bk_queue_batch_init(struct bk_queue_batch *b);
/* Builds meta's job into the batch: fills in meta->id and meta->files as
 * bk_queue_add does. */
int bk_queue_batch_add(struct bk_queue *q, struct bk_queue_batch *b,
		       struct bk_job_meta *meta, const char *const *paths,
		       size_t npaths, struct bk_error *err);
/* Queues the batch's jobs; on error those before b->ids[b->done] are
 * queued. */
int bk_queue_batch_commit(struct bk_queue *q, struct bk_queue_batch *b,
			  struct bk_error *err);
void bk_queue_batch_release(struct bk_queue_batch *b);

/* A job this process holds. */
struct bk_claim {
	char *job_id;
	char *dir; /* ARCHIVE/queue/claimed/<job>@<host>.<pid> */
	int generation; /* job.meta's generation as this claim set it */
};

void bk_claim_release(struct bk_claim *c);

/* <claim>/owner: who holds a claim (a "bunko-claim" record), written by
 * the claimer right after its rename. */
struct bk_claim_owner {
	int generation;   /* the fencing token (job.meta generation) */
	char *host;       /* hostname */
	char *machine_id; /* "" when the host has none */
	long pid;         /* the worker */
	long supervisor;  /* its parent (the pool's supervisor), 0 unknown */
	int source_done;  /* work/progress source_done at the claim */
	char *claimed;    /* UTC, "YYYY-MM-DDTHH:MM:SSZ" */
};
void bk_claim_owner_release(struct bk_claim_owner *o);
int bk_claim_owner_read(struct bk_claim_owner *o, const char *claim_dir,
			struct bk_error *err);

/* Fencing: true while `c` is still this process's claim: its directory
 * exists under its name and its owner record carries c->generation. A
 * worker asks before every checkpoint and before publishing anything, and
 * once it is false writes nothing more (see queue.c, fencing). */
bool bk_claim_owned(const struct bk_claim *c);
/* Creates <job_dir>/work if missing, never job_dir itself: a claim
 * directory that was taken away is not recreated (ENOENT, "claim lost"). */
int bk_job_work_dir(const char *job_dir, struct bk_error *err);

/* <claim>/page: the source page a worker has begun (file NULL, page 0:
 * building the document) (a "bunko-page"
 * record), rewritten at each page; its mtime, on the filesystem's clock,
 * is when the page began. The supervisor kills a worker whose page runs
 * past `limit` seconds, and recovery names the page. */
struct bk_claim_page {
	int index;      /* 0-based source page of the job */
	char *file;
	int page;       /* 1-based in the file */
	int limit;      /* seconds */
	int generation; /* of the claim that wrote it */
	time_t started; /* the record's mtime */
};
int bk_claim_page_write(const struct bk_claim *c, int index, const char *file,
			int page, int limit, struct bk_error *err);
/* 0 and *p filled, 1 when there is no page record, -1 on error. */
int bk_claim_page_read(struct bk_claim_page *p, const char *claim_dir,
		       struct bk_error *err);
void bk_claim_page_release(struct bk_claim_page *p);

/* Claims the oldest job in incoming/. Returns 1 with *c filled, 0 when
 * there is nothing to claim, -1 on error. */
int bk_queue_claim(struct bk_queue *q, struct bk_claim *c, struct bk_error *err);
/* Renews the lease (mtime of <claim>/heartbeat). */
int bk_claim_heartbeat(const struct bk_claim *c, struct bk_error *err);
/* Finished: claimed/<claim> -> done/<job>. */
int bk_queue_finish(struct bk_queue *q, struct bk_claim *c, struct bk_error *err);
/* Failed for good: writes <claim>/reason (a "bunko-reason" record: file,
 * page, message; file/page may be NULL/0) and moves it to failed/<job>. */
int bk_queue_fail(struct bk_queue *q, struct bk_claim *c, const char *file,
		  int page, const char *message, struct bk_error *err);
/* The same, the reason also listing the pages and files left out. */
int bk_queue_fail_skips(struct bk_queue *q, struct bk_claim *c, const char *file,
			int page, const char *message, const struct bk_job_skip *missing,
			size_t nmissing, struct bk_error *err);
/* Gives the job back untouched (graceful stop): -> incoming/<job>, tries
 * unchanged, checkpoints kept. */
int bk_queue_unclaim(struct bk_queue *q, struct bk_claim *c, struct bk_error *err);
/* `bunko requeue`: failed/<job> -> incoming/<job> with tries 0 and its
 * reason removed; input/ and work/ (its checkpoints) are kept, so the
 * pages it had finished are not read again. Returns 0, 1 when the job is
 * not in failed/, -1 on error. */
int bk_queue_requeue(struct bk_queue *q, const char *job_id, struct bk_error *err);

/* True if the claim directory entry `name` (in claimed/) belongs to a dead
 * worker: same host and the pid is gone, or, on any host, its heartbeat is
 * older than the lease. The second rule holds even when the pid exists: a
 * pid can be reused (after a reboot, by an unrelated process), and only a
 * renewed heartbeat shows a holder alive. `now` is the filesystem's clock
 * (bk_queue_fs_now). */
bool bk_queue_claim_is_stale(const struct bk_queue *q, const char *name, time_t now);
/* True if the pool (supervisor) "<host>.<pid>" is known to have ended: it
 * ran on this host and its process is gone. Another host's pool is never
 * known gone. */
bool bk_queue_pool_gone(const struct bk_queue *q, const char *pool);
/* The filesystem's idea of now: mtime of a file touched in queue/tmp (on a
 * network filesystem the server's clock, the one heartbeats are stamped
 * with). Falls back to time(NULL). */
time_t bk_queue_fs_now(const struct bk_queue *q);
/* Returns stale claims to incoming/, charging the death to the job only
 * when its worker made no progress and was not lost with its whole pool;
 * a page that reaches max_tries charged deaths is quarantined (the job
 * goes on without it), a job that dies max_tries times while building its
 * document goes to failed/. Removes queue/tmp/ debris of dead processes
 * (see queue.c, recovery). Returns how many claims were recovered, or -1. */
int bk_queue_recover(struct bk_queue *q, struct bk_error *err);

/* Deletes the temporaries (".*.tmp.*", bunko/atomic.h) that a killed
 * process left in the job directory `job_dir` and in its work/. Only the
 * holder of the job's claim may call it: everything inside a claimed job is
 * written by its holder alone. Returns how many were removed, or -1. */
int bk_job_sweep(const char *job_dir, struct bk_error *err);

enum bk_job_state { BK_JOB_QUEUED, BK_JOB_RUNNING, BK_JOB_DONE, BK_JOB_FAILED };
const char *bk_job_state_name(enum bk_job_state s);

/* Calls fn for every job in incoming/, claimed/, done/ and failed/ (in that
 * order, names sorted). `owner` is "<host>.<pid>" for a running job, else
 * NULL. A non-zero return from fn stops the walk and is returned. */
int bk_queue_foreach(struct bk_queue *q,
		     int (*fn)(enum bk_job_state state, const char *job_id,
			       const char *dir, const char *owner, void *ud),
		     void *ud, struct bk_error *err);

/* Parses a claim name "<job>@<host>.<pid>"; returns 0 and newly allocated
 * parts, or -1 when it is not one. */
int bk_claim_name_parse(const char *name, char **job_id, char **host, long *pid);

/* failed/<job>/reason, read back. */
struct bk_job_reason {
	char *file;    /* NULL when no file is concerned */
	int page;      /* 0 when no page is */
	char *message;
	struct bk_job_skip *missing; /* the pages and files left out */
	size_t nmissing;
};
int bk_job_reason_read(struct bk_job_reason *reason, const char *job_dir,
		       struct bk_error *err);
void bk_job_reason_release(struct bk_job_reason *reason);

/*
 * Per-job progress, kept in <job>/work/progress (a "bunko-progress"
 * record) by the worker (see pipeline/process.h) and read by `bunko status`
 * and by recovery to name the page a dead worker was on.
 */
struct bk_job_progress {
	int source_done;   /* source pages finished (checkpointed) */
	int logical_pages; /* document pages written so far */
	char *next_file;   /* file and 1-based page of the next source page */
	int next_page;
	/* pages and files left out so far (each has a placeholder page in
	 * the checkpoints), in job order */
	struct bk_job_skip *missing;
	size_t nmissing;
};
void bk_job_progress_init(struct bk_job_progress *p);
void bk_job_progress_release(struct bk_job_progress *p);
/* Missing file: *p stays at zero and 0 is returned. */
int bk_job_progress_read(struct bk_job_progress *p, const char *job_dir,
			 struct bk_error *err);
int bk_job_progress_write(const struct bk_job_progress *p, const char *job_dir,
			  struct bk_error *err);

#endif
