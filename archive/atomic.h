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
#include "bunko/fs.h"

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

/*
 * Permissions. What bunko creates inside the archive takes its mode from
 * the directory it is created in, umask aside: a file gets the directory's
 * read and write bits (0755 -> 0644, 0750 -> 0640, 0700 -> 0600), a new
 * directory its parent's bits (at most 0755), and both the directory's
 * group through the set-group-ID bit, which `bunko init` sets on the
 * archive's directories. A file is created 0600 and fchmod()ed to that
 * mode on its descriptor before its name is published (atomic files) or
 * anything is written (bk_create_file); a directory is made with at most
 * its bits and given the rest before anything is put inside. So the mode a
 * level gives a document's or job's directory (bk_access_dir_mode) is the
 * mode of everything in it, and nothing is ever readable more widely than
 * it will stay. bk_atomic_open's temporary follows the same rule.
 */
/* The mode of a file created in a directory of mode `dir_mode`. */
unsigned bk_file_mode_in(unsigned dir_mode);
/* Opens `path` for writing with O_CREAT (plus `flags`: O_EXCL, O_TRUNC,
 * O_APPEND) and the mode of its directory (see above); returns the
 * descriptor or -1 with `err` set. */
int bk_create_file(const char *path, int flags, struct bk_error *err);
/* Creates the directory `path` (not its parents; fails if it exists) with
 * exactly the permission bits `mode`, keeping the set-group-ID bit it
 * inherits. Fails, removing it, where the kernel would drop that bit
 * (the caller is not in the directory's group). */
int bk_mkdir_mode(const char *path, unsigned mode, struct bk_error *err);

/* bk_mkdir_mode's second half, for a directory just made otherwise
 * (mkdtemp) and still empty. */
int bk_dir_set_mode(const char *path, unsigned mode, struct bk_error *err);

/* Writes `len` bytes as the whole content of `path`, atomically. */
int bk_atomic_write(const char *path, const void *data, size_t len,
		    struct bk_error *err);
/* bk_fsync_dir(), which makes a rename inside a directory durable, is in
 * bunko/fs.h (included here), shared with the index. */
/* Creates `path` and its missing parents, each with exactly `mode` or,
 * `mode` 0, with its parent's mode (see above); existing ones are left
 * as they are. The parent of each directory made is fsync()ed, so what
 * is later made durable inside is not lost with its directory's name. */
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
