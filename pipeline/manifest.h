/*
 * pipeline/manifest.h — bulk queueing: `bunko add ARCHIVE --manifest
 * volumes.csv`, one job (one volume) per row.
 *
 * The manifest is CSV (RFC 4180: fields separated by commas, a field in
 * double quotes may hold commas, line breaks and "" for a quote), UTF-8.
 * Its first line names the columns, in any order:
 *   files       required: the volume's scans, separated by ';', in page
 *               order; or one directory, whose regular files (dot files
 *               skipped) are taken sorted by name. Relative paths are
 *               relative to the manifest's directory.
 *   collection  required
 *   title, date, box, volume, access, profile, lang   optional, as the
 *               options of `bunko add` (an empty field: not given)
 * Blank lines are skipped.
 *
 * Guarantees:
 * - the whole manifest is read and checked before anything is queued: each
 *   problem is one message naming the manifest and its line ("'volumes.csv'
 *   line 12: unknown access level 'secret'"), and a manifest with any
 *   problem queues nothing;
 * - every row has a key (a SHA-256 of its collection, title, date, box,
 *   volume, access, profile, lang and the files' names and sizes), kept in
 *   its job's job.meta; a row whose key is already in the queue (in any
 *   state) is not queued again, so running the same manifest twice queues
 *   nothing the second time. Two identical rows are refused.
 *
 * Ownership: structs are caller-owned, released with their _release.
 */
#ifndef BUNKO_PIPELINE_MANIFEST_H
#define BUNKO_PIPELINE_MANIFEST_H

#include <stddef.h>

#include "bunko/common.h"
#include "pipeline/queue.h"

struct bk_manifest_row {
	int line;          /* where the row starts, 1-based */
	char **paths;      /* the files to queue */
	size_t npaths;
	struct bk_job_meta meta; /* collection...lang, pages and key set */
};

struct bk_manifest {
	struct bk_manifest_row *rows;
	size_t nrows;
	char **problems;   /* one line each; none: the manifest is good */
	size_t nproblems;
};

void bk_manifest_init(struct bk_manifest *m);
void bk_manifest_release(struct bk_manifest *m);

/* Reads and checks `path`. Returns -1 (err set) only when the manifest
 * cannot be read at all; problems with its content are in m->problems. */
int bk_manifest_read(struct bk_manifest *m, const char *path, struct bk_error *err);

/* Queues every row whose key is not in the queue yet, in order; calls
 * `queued` with each new job id and its row's line. *skipped: rows already
 * queued. Call only on a manifest without problems. */
int bk_manifest_queue(struct bk_queue *q, struct bk_manifest *m,
		      void (*queued)(void *ud, const char *job_id, int line), void *ud,
		      size_t *skipped, struct bk_error *err);

/* Source pages in the input file `path`, for a job's `pages` (`bunko
 * status`), in both forms of `bunko add`; 0 when it cannot be opened (the
 * worker names it). */
int bk_input_pages(const char *path);

#endif
