/*
 * archive/store.h — the archive directory and its document store, with
 * SHA-256 fixity.
 *
 * Layout:
 *   ARCHIVE/bunko-archive            marker, "bunko-archive 1\n"
 *   ARCHIVE/queue/ index/ log/       the pipeline's, the index's, the workers'
 *   ARCHIVE/store/<collection>/<id>/ one document, a BagIt 1.0 bag (RFC 8493):
 *       bagit.txt, bag-info.txt (archive/meta.h), manifest-sha256.txt,
 *       tagmanifest-sha256.txt,
 *       data/masters/<original names>   the scans, byte for byte as received
 *       data/document.pdf, data/text.txt, data/document.hocr,
 *       data/document.alto.xml, data/pages/0001.page ...
 *   ARCHIVE/store/.staging/<collection>/<id>.<host>.<pid>.<random>[.old]
 *       bags being built, and old copies being replaced
 *
 * Access levels on disk: a bag's directory is created with its level's
 * mode (bk_access_dir_mode: public 0755, restricted 0750, confidential
 * 0700) while it is still empty in .staging, and every file and directory
 * in it takes its mode from its directory (bunko/atomic.h): 0644, 0640,
 * 0600. Every directory of the archive has the archive's group (the staff
 * group, bk_archive_init_group) through the set-group-ID bit, so
 * restricted files are readable by that group, confidential ones by the
 * archive's owner only. A replaced document's new bag is made with its
 * new level's mode, so its files follow a change of level.
 *
 * Manifest lines are "<sha256 hex>  <path>", paths relative to the bag with
 * CR, LF and '%' percent-encoded (%0D %0A %25) as RFC 8493 requires; names
 * are otherwise raw UTF-8, spaces included.
 *
 * Commit protocol (bk_store_commit): a document is built in a staging
 * directory on the store's own filesystem; commit hashes and fsyncs every
 * payload file, writes the manifests and tag files atomically
 * (bunko/atomic.h), fsyncs, then makes the whole bag visible with one
 * rename(2) to store/<collection>/<id>. If an older copy is there (a job
 * re-run after a crash) the two directories are swapped with
 * renameat2(RENAME_EXCHANGE) and the old one deleted: readers see the old
 * bag or the new one, never neither and never a mix. On filesystems without
 * RENAME_EXCHANGE the old copy is first renamed aside to
 * .staging/<collection>/<stage name>.old, the new one renamed in, and the
 * old one deleted; a crash inside that window leaves the document invisible
 * and its old copy in .staging. Recovery (bk_store_recover, run by
 * bk_store_open) puts such an old copy back when the document is absent,
 * and deletes stale staging directories; a staging directory is stale when
 * its host is this host and its process is dead. Staging directories of
 * other hosts are never touched.
 *
 * A document lives at exactly one path, so a re-run can replace it but never
 * produce it twice.
 *
 * Not thread-safe per object: one struct bk_store and its stages per thread
 * (many processes may share one archive).
 */
#ifndef BUNKO_ARCHIVE_STORE_H
#define BUNKO_ARCHIVE_STORE_H

#include <stdint.h>

#include "archive/meta.h"
#include "bunko/common.h"

#define BK_ARCHIVE_MARKER "bunko-archive"
#define BK_ARCHIVE_VERSION 1

struct bk_store;     /* an open archive; owned by the caller */
struct bk_doc_stage; /* a document being built; invisible until committed */

/* Creates ARCHIVE (marker, queue/, store/, index/, log/). Idempotent on an
 * existing archive; refuses a non-empty directory that is not one. */
int bk_archive_init(const char *archive, struct bk_error *err);
/* The same, the archive's directory given to the Unix group `group` (the
 * staff group, who may read restricted documents; NULL: the creator's
 * group) with the set-group-ID bit, so that everything created in the
 * archive belongs to that group. The caller must be a member of it (or
 * root). An existing archive of another group is refused (its files
 * would keep theirs). See "Access levels on disk" above. */
int bk_archive_init_group(const char *archive, const char *group,
			  struct bk_error *err);
/* 0 if `archive` holds a marker of a version this bunko reads; otherwise -1
 * and "'x' is not a bunko archive (run 'bunko init x')" or similar. */
int bk_archive_check(const char *archive, struct bk_error *err);

/* Opens the store of an archive (checks the marker); then recovers stale
 * staging directories as far as it is allowed to (errors in that recovery
 * do not fail the open: a read-only user can still read). */
int bk_store_open(struct bk_store **s, const char *archive, struct bk_error *err);
void bk_store_free(struct bk_store **s);
/* The archive path given to bk_store_open (owned by the store). */
const char *bk_store_archive(const struct bk_store *s);
/* Path of a document's directory, whether or not it exists; caller frees.
 * NULL only when out of memory. */
char *bk_store_doc_dir(const struct bk_store *s, const char *collection,
		       const char *id);
/* Reads a stored document's bag-info.txt into `meta` (initialized here).
 * id and collection are taken from where the document lies. */
int bk_store_read_meta(struct bk_store *s, const char *collection,
		       const char *id, struct bk_doc_meta *meta,
		       struct bk_error *err);
/* Puts back old copies left by a crash in a replace and deletes stale
 * staging directories (see the protocol above). `restored`/`removed` may be
 * NULL. */
int bk_store_recover(struct bk_store *s, int *restored, int *removed,
		     struct bk_error *err);

/*
 * Starts a document. meta->id and meta->collection are checked with
 * bk_name_check(); the stage keeps its own copy of `meta`. The store must
 * outlive the stage. *out is NULL on failure.
 */
int bk_store_stage(struct bk_store *s, const struct bk_doc_meta *meta,
		   struct bk_doc_stage **out, struct bk_error *err);
/* The stage's copy of the metadata, to be completed before commit (npages,
 * software, ...; created and software default to now and "bunko VERSION").
 * Owned by the stage; its id and collection must not be changed. */
struct bk_doc_meta *bk_doc_stage_meta(struct bk_doc_stage *stage);
/* The staging bag directory (owned by the stage). */
const char *bk_doc_stage_dir(const struct bk_doc_stage *stage);
/*
 * Where to write a payload file: `relpath` is relative to the bag and must
 * lie under "data/" ("data/document.pdf", "data/pages/0001.page"), without
 * "." or ".." components. Creates the parent directories. Returns a new
 * string the caller frees, or NULL (errno EINVAL for a bad relpath, else the
 * error of the directory creation).
 */
char *bk_doc_stage_path(struct bk_doc_stage *stage, const char *relpath);
/*
 * Copies a scan, byte for byte, to data/masters/<its file name>, adds the
 * name to the sources in the stage's metadata, and remembers the SHA-256 of
 * the bytes read so that commit can prove the stored copy is identical.
 * Refuses a second master of the same name and names that are not UTF-8.
 */
int bk_doc_stage_add_master(struct bk_doc_stage *stage, const char *src_path,
			    struct bk_error *err);
/* Makes the document visible (see the protocol above). Frees the stage and
 * NULLs *stage either way; on failure nothing visible has changed. */
int bk_store_commit(struct bk_doc_stage **stage, struct bk_error *err);
/* Deletes the staging directory and frees the stage; NULL-safe. */
void bk_store_abandon(struct bk_doc_stage **stage);

/*
 * Calls fn for each stored document, sorted by collection then id (byte
 * order), reading each bag-info.txt. `collection` NULL means all. fn
 * returns 0 to go on; any other value stops the walk and is returned (fn
 * reports its own errors). -1 with `err` set on a store error, including a
 * document whose bag-info.txt cannot be read.
 */
int bk_store_foreach(struct bk_store *s, const char *collection,
		     int (*fn)(const struct bk_doc_meta *meta, const char *doc_dir,
			       void *ud),
		     void *ud, struct bk_error *err);

/*
 * Fixity check of every document: each file in manifest-sha256.txt and
 * tagmanifest-sha256.txt is re-hashed (streamed) and compared. Findings go
 * to `report` with a path relative to the archive
 * ("store/<collection>/<id>/data/document.pdf") and one of the kinds:
 *   "missing"     listed in a manifest, not on disk (also: a document
 *                 directory without manifest-sha256.txt or
 *                 tagmanifest-sha256.txt, reported as that file missing)
 *   "changed"     on disk, but its checksum differs
 *   "unexpected"  on disk under the bag but in no manifest; also anything
 *                 that is not a regular file or directory (a symlink, ...)
 *                 and a plain file where a collection or document should be
 *   "unreadable"  listed and present, but reading it failed
 *   "malformed"   a manifest line that is not "<sha256>  <safe path>"
 * Returns 0 when everything was checked (findings or not), -1 with `err` on
 * an error that stopped the check, or report's non-zero return value.
 */
int bk_store_verify(struct bk_store *s,
		    int (*report)(const char *kind, const char *path, void *ud),
		    void *ud, struct bk_error *err);

struct bk_verify_stats {
	long documents; /* document directories looked at */
	long files;     /* manifest entries checked */
	long problems;  /* findings reported */
	uint64_t bytes; /* bytes hashed */
};
/* bk_store_verify for one collection (NULL: all), counting into `stats`
 * (may be NULL; zeroed first). */
int bk_store_verify_collection(struct bk_store *s, const char *collection,
			       int (*report)(const char *kind, const char *path,
					     void *ud),
			       void *ud, struct bk_verify_stats *stats,
			       struct bk_error *err);

/*
 * Access check: reports as "exposed" every file and directory of a stored
 * document that is readable beyond its level (read or search bits wider
 * than the level's modes, see "Access levels on disk" above, or, for a
 * restricted document, readable by a group other than the archive's): an
 * archive made by an earlier bunko, a chmod or chgrp by hand. Findings and
 * return value as bk_store_verify_collection; `stats->problems` (if given)
 * is added to, not reset.
 */
int bk_store_check_access(struct bk_store *s, const char *collection,
			  int (*report)(const char *kind, const char *path, void *ud),
			  void *ud, struct bk_verify_stats *stats, struct bk_error *err);

#endif
