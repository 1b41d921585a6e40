/*
 * tests/powercut.h — a simulated power cut for the durability tests.
 *
 * tests/powercut_shim.c, an LD_PRELOAD library, watches a process tree
 * (bunko worker, bunko add) working on an archive and writes down, in a
 * state directory, only what a disk is obliged to keep across a power
 * cut; tests/powercut.c rebuilds the archive from that record, as a
 * machine coming back up would find it. The model is the one POSIX and
 * the journaling filesystems (ext4, XFS) give an application:
 *   - a file's data (its whole content at that moment) is durable once
 *     fsync(2) or fdatasync(2) on the file returns; written but unsynced
 *     data is lost (a file whose data was never synced comes back empty);
 *   - a directory's entries (files and directories created, removed,
 *     renamed within it, symbolic links) are durable once fsync(2) on the
 *     directory returns, and not before;
 *   - a rename(2) is one atomic change of the filesystem: once either
 *     directory it touched is fsynced, it is durable on both sides
 *     (journaling filesystems commit it as one transaction), so a
 *     renamed directory is never found in both places or in neither.
 *   - sync(2) and syncfs(2) make everything durable.
 * Files are told apart by inode number and birth time (statx), so an
 * inode number reused by a later file does not lend it the older one's
 * synced data.
 *
 * The cut: with BUNKO_POWERCUT_AT=N the process that is about to make the
 * N-th durability call (fsync, fdatasync, sync, syncfs on something
 * under the root; counted over the whole process tree) kills its process
 * group with SIGKILL instead: the archive then holds what the first N-1
 * calls made durable. The process being watched must lead its own
 * process group (the test starts it with setpgid). Without
 * BUNKO_POWERCUT_AT nothing is cut and every call is counted, so a run
 * tells how many cut points there are.
 *
 * Environment of the watched process:
 *   BUNKO_POWERCUT_DIR   the state directory (made by pc_baseline)
 *   BUNKO_POWERCUT_ROOT  the archive, an absolute path without symlinks
 *   BUNKO_POWERCUT_AT    the call to cut before (1-based), optional
 *
 * State directory: `log` (the events below, one per line, appended under
 * flock(2) on `lock`), `count` (durability calls so far, decimal), `cut`
 * (exists once the power was cut: holds the call number) and `blob/`
 * (file contents as they were when synced). Log lines; an identity ID is
 * "INO.BTIME_SEC.BTIME_NSEC", a NAME is percent-encoded:
 *   R ID MODE                     the root directory and its mode (octal)
 *   F ID BLOB                     a file's data is durable: blob/BLOB
 *   D ID COUNT                    a directory's entries are durable; COUNT
 *   E TYPE MODE ID NAME [TARGET]  entry lines follow (TYPE d, f or l; a
 *                                 symlink's TARGET)
 *   M SRC_DIR SRC DST_DIR DST X   a rename happened (not durable yet): the
 *   E ...                         entry moved (as it is at DST) follows,
 *                                 and with X=1 (RENAME_EXCHANGE) the one
 *                                 moved the other way (now at SRC)
 *   S N PATH                      durability call N is made, on PATH
 *                                 (relative to the root)
 *   C N                           the power was cut before call N
 */
#ifndef BUNKO_TESTS_POWERCUT_H
#define BUNKO_TESTS_POWERCUT_H

#include <stddef.h>

/* Makes the state directory `state` (which must not exist) for watching
 * `root`: everything now under `root` counts as durable. 0 on success. */
int pc_baseline(const char *state, const char *root);
/* Builds at `out` (which must not exist) the tree a power cut leaves,
 * from the record in `state`: the cut before durability call `before`
 * (1-based), or, with 0, where the record ends (the real cut, or the end
 * of the run). In the model a cut changes nothing before it, so one
 * recorded run gives the archive of a cut at each of its calls. 0 on
 * success; on failure *why says why (static text). */
int pc_replay(const char *state, const char *out, long before, const char **why);
/* The path (relative to the root, "(sync)" for sync) durability call
 * `n` was made on, in *path (caller frees); -1 if the record has none. */
int pc_call_path(const char *state, long n, char **path);
/* Durability calls counted in `state` so far; -1 if unreadable. */
long pc_count(const char *state);
/* The call the power was cut before, or 0 if it was not cut. */
long pc_cut(const char *state);

#endif
