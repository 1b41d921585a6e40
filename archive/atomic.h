/*
 * archive/atomic.h — files that appear whole or not at all.
 *
 * Protocol: data is written to a temporary file in the destination's own
 * directory (".NAME.tmp.PID.XXXXXX"), flushed and fsync()ed, then rename(2)d over
 * the final name and the directory fsync()ed. rename within one filesystem
 * is atomic, so a reader (or a crash) sees either the old file or the
 * complete new one, never a torn file. An aborted or crashed write leaves at
 * most a dot-temporary that bk_atomic_sweep() removes.
 */
#ifndef BUNKO_ARCHIVE_ATOMIC_H
#define BUNKO_ARCHIVE_ATOMIC_H

#include <stddef.h>
#include <stdio.h>

#include "bunko/common.h"

struct bk_atomic_file {
	FILE *fp;         /* write here between open and commit */
	char *tmp_path;   /* owned */
	char *final_path; /* owned */
};

/* Opens a temporary beside `path`. On failure `af` is left closed. */
int bk_atomic_open(struct bk_atomic_file *af, const char *path,
		   struct bk_error *err);
/* Flushes, fsyncs and renames into place; the file is closed either way. */
int bk_atomic_commit(struct bk_atomic_file *af, struct bk_error *err);
/* Discards the temporary; safe on a closed or committed file. */
void bk_atomic_abort(struct bk_atomic_file *af);

/* Writes `len` bytes as the whole content of `path`, atomically. */
int bk_atomic_write(const char *path, const void *data, size_t len,
		    struct bk_error *err);
/* fsync()s a directory so that a rename inside it is durable. */
int bk_fsync_dir(const char *dir, struct bk_error *err);
/* Creates `path` and its parents (mode 0777 & ~umask, or `mode`). */
int bk_mkdir_p(const char *path, unsigned mode, struct bk_error *err);
/* Removes leftover ".*.tmp.*" temporaries in `dir` (not recursive);
 * returns how many were removed, or -1. Only for a directory the caller
 * owns (a claimed job, a stage): a temporary of another live writer in the
 * same directory would be removed too. */
int bk_atomic_sweep(const char *dir, struct bk_error *err);
/* Reads a whole file into a new buffer (NUL-terminated for convenience). */
int bk_read_file(const char *path, char **data, size_t *len,
		 struct bk_error *err);

#endif
