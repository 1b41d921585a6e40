/*
 * pipeline/queue.c — the queue directory protocol.
 *
 * THE PROTOCOL
 *
 *   ARCHIVE/queue/tmp/        jobs being written by `bunko add`
 *   ARCHIVE/queue/incoming/   complete jobs waiting for a worker
 *   ARCHIVE/queue/claimed/    jobs held by a worker: <job>@<host>.<pid>
 *   ARCHIVE/queue/done/       finished jobs (their documents are in the store)
 *   ARCHIVE/queue/failed/     jobs given up on; <job>/reason says why
 *
 * A job is a directory named by its id, YYYYMMDD-HHMMSS-<pid>-<rand> (UTC),
 * so sorting the names gives the order jobs were queued in. It holds:
 *   job.meta     the job's metadata, written atomically; also its tries,
 *                its generation (the fencing token) and the pages
 *                quarantined by recovery
 *   input/       the input scans under their own names, copied byte for
 *                byte (public jobs: hard-linked where the filesystem
 *                allows); in a directory of their own, so an input called
 *                job.meta, heartbeat or work is only a scan
 *                (bk_job_input_path)
 *   heartbeat    only while claimed: its mtime is the worker's lease
 *   owner        who holds the claim: generation, hostname, machine id,
 *                pid, supervisor pid, the pages done at the claim, when
 *   page         the page the holder has begun and its time limit (its
 *                mtime: when it began); file null while the document is
 *                built
 *   work/        the worker's page checkpoints and progress (process.c),
 *                with the pages and files left out so far and why
 *   result       once the document is stored: what and where (process.h)
 *   reason       only in failed/: the file, page and message of the failure
 * job.meta, owner, page, work/progress, result, reason and the header of
 * each page checkpoint are records: one JSON object each, written and read
 * by bunko/record.h and nothing else, so no value (a file name with a
 * newline, say) can add or change a key.
 *
 * The job directory has its access level's mode from its mkdir on
 * (bk_access_dir_mode), and everything inside takes its mode from it
 * (bunko/atomic.h), so a restricted or confidential job's inputs,
 * checkpoints and records are never readable beyond its level.
 *
 * Every state change is one rename(2) of the job directory inside the one
 * queue tree. rename is atomic on a local filesystem and on NFS (the server
 * performs it), so a job is always in exactly one state directory and never
 * half moved. Nothing relies on flock/fcntl locks, which are unreliable
 * across hosts.
 *
 * 1. Add: the job is built in tmp/<job>@<host>.<pid> (input/ and its
 *    files, then job.meta, all fsync()ed) and renamed to incoming/<job> when complete.
 *    A crashed `add` leaves only a directory in tmp/, which no worker takes
 *    a job from; recovery (4) deletes it. A batch (`add --manifest`)
 *    builds all its jobs in tmp/ unsynced, makes them durable with one
 *    syncfs(2), then renames each to incoming/ and fsyncs incoming/ once:
 *    a cut leaves each job queued whole or not at all, as for one add.
 * 2. Claim: a worker renames incoming/<job> to claimed/<job>@<host>.<pid>.
 *    When several workers race for one job, exactly one rename succeeds;
 *    the others get ENOENT and try the next job. (An NFS client may report
 *    ENOENT for a retransmitted rename that did succeed, so after ENOENT the
 *    worker checks whether its own claim name exists.) The winner at once
 *    touches claimed/<claim>/heartbeat, removes the last holder's page
 *    record, raises job.meta's generation and writes the owner record
 *    with that generation (take_claim).
 * 3. Lease: while it holds the job, a worker renews the heartbeat's mtime
 *    every lease/4 seconds (a thread of its own, so a long page does not
 *    starve it), but only while the page it is on is within its time
 *    limit: a heartbeat says the worker is getting on, not merely that a
 *    thread runs, so a hung page lets any host take the job back. Times
 *    are compared with the filesystem's clock (the mtime of a file just
 *    touched in tmp/), never across hosts' system clocks.
 * 4. Recovery: a claim is stale when its worker is gone: on the same host
 *    (the same hostname and, where the owner record has one, the same
 *    /etc/machine-id: cloned VMs share hostnames, not machine ids) its pid
 *    no longer exists (kill(pid, 0) gives ESRCH, or it is a zombie); on any
 *    host its heartbeat is older than the lease, even if a process with
 *    its pid exists (pids are reused, after a reboot certainly; a live
 *    holder renews its heartbeat). Whoever notices a stale claim first
 *    takes it over by renaming it to its own claim name (again exactly one
 *    rename wins, and a recoverer that dies mid-way leaves a claim that is
 *    itself recoverable), reads the dead holder's owner and page records,
 *    and claims the job as in 2. Holding it, the recoverer deletes the
 *    temporaries the dead holder left inside (bk_job_sweep) and decides
 *    whom the death is charged to. It is charged to the page the holder
 *    was on only when all of these hold:
 *      - the holder had begun a page (a page record of its generation);
 *      - it made no progress: work/progress counts no more pages than the
 *        owner record did at its claim (a death after a checkpoint resets
 *        the job's `tries` to 0 instead);
 *      - its whole pool did not die with it (its supervisor, on this host,
 *        is gone too: a power cut, an operator's kill says nothing about
 *        the page);
 *      - where the holder was the recoverer's own worker, its supervisor
 *        saw it end by the page's doing: a crash signal, the kernel's OOM
 *        kill, its time limit, a failure exit; not a SIGKILL or SIGTERM
 *        from outside (bk_queue_note_death);
 *      - it was not counted already: a recoverer that finds the dead holder
 *        named as `recoverer` in job.meta knows that holder was itself a
 *        recoverer that had counted (it died before the move).
 *    A charged death raises `tries`. When `tries` reaches the limit
 *    (default 3) on a page, the page is quarantined: added to job.meta's
 *    quarantine with its file, page and why, `tries` back to 0, and the
 *    job goes on without it (the worker puts a placeholder page in its
 *    place, process.h). Deaths while the document is being built (no page
 *    to leave out) send the job to failed/ with a reason instead. The
 *    recoverer records itself as `recoverer` and renames the job to
 *    incoming/<job>. The job's work/ directory moves with it, so the next
 *    worker resumes after the last checkpointed page.
 *    Recovery also clears queue/tmp/: a `bunko add` directory
 *    (<job>@<host>.<pid>) or a clock file (.clock-<host>-<pid>, see
 *    bk_queue_fs_now) whose process is gone on this host; on any host a
 *    clock file older than the lease (it lives for microseconds) and an
 *    add directory (or any other entry) untouched for a day.
 * 5. Finish: claimed/<claim> -> done/<job>, which by then holds only
 *    job.meta, work/progress, result, heartbeat, owner and page (the worker
 *    deleted input/ and checkpoints once the store had the document).
 *    Fail: write reason, then claimed/<claim> -> failed/<job>. Each move
 *    into done/, failed/ or incoming/ (finish, fail, give back, requeue)
 *    is followed by an fsync of that directory, so a job a worker has
 *    reported done is still done after a power cut. Graceful
 *    stop (SIGTERM): the worker gives the job back, claimed/<claim> ->
 *    incoming/<job>, tries unchanged.
 * 6. Requeue (`bunko requeue`): failed/<job> is claimed by rename as in 2,
 *    its tries cleared and reason removed, and renamed to incoming/<job>;
 *    input/ and work/ stay, so its finished pages are not read again.
 *
 * Deadlines: each page has a time limit (--page-timeout, or from the page's
 * size: bk_page_time_limit), written in the page record when the page
 * begins. The supervisor kills a worker of its own whose page runs past it;
 * that death is charged to the page, so a page that hangs three workers is
 * quarantined and a draining pool always ends. Elsewhere (a lone worker, a
 * worker on a host without its supervisor) the unrenewed lease (3) hands
 * the job on.
 *
 * Fencing: a worker stopped past its lease (SIGSTOP, a frozen VM, a network
 * partition) may wake up holding a claim that was taken over. Before every
 * checkpoint, before storing the document and writing its result, and
 * before moving the claim, it checks that the claim is still its own:
 * claimed/<its claim name>/owner exists and carries its generation and pid
 * (bk_claim_owned). It never creates the claim directory again (work/ is
 * made with mkdir(2) of work/ alone, which fails once the directory is
 * gone: bk_job_work_dir), and every write goes through paths under its
 * claim name, which no longer resolve once the directory was renamed away.
 * Having lost the claim, it writes nothing more, logs that it lost the job
 * and takes the next. A check and the write after it are two steps, so a
 * holder stopped between them can still finish one write into the taken
 * directory's old name: none exists any more, and a document stored twice
 * under its job id replaces itself (the store commit and the index put
 * replace an earlier copy with the same id), so a job processed twice
 * produces one document, not two.
 */
#include "pipeline/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/meta.h"
#include "archive/store.h"
#include "bunko/atomic.h"
#include "bunko/fs.h"
#include "bunko/record.h"
#include "bunko/stamp.h"
#include "ocr/resolution.h"
#include "pipeline/log.h"

static const char *const queue_subdirs[] = { "tmp", "incoming", "claimed",
					     "done", "failed" };

#define TMP_MAX_AGE (24 * 3600) /* seconds: a queue/tmp/ entry left this long is debris */

/* ---- small helpers ---------------------------------------------------- */

char *bk_queue_path(const struct bk_queue *q, const char *sub, const char *name)
{
	char *p = NULL;
	int rc = name ? asprintf(&p, "%s/%s/%s", q->root, sub, name)
		      : asprintf(&p, "%s/%s", q->root, sub);
	return rc < 0 ? NULL : p;
}

/* "<job>@<host>.<pid>": this process's name for a job it holds. */
static char *own_claim_name(const struct bk_queue *q, const char *job_id)
{
	char *name = NULL;
	if (asprintf(&name, "%s@%s.%ld", job_id, q->host, (long)getpid()) < 0)
		return NULL;
	return name;
}

static int touch(const char *path, struct bk_error *err)
{
	int fd = bk_create_file(path, 0, err); /* the mode of its job */
	if (fd < 0)
		return -1;
	/* UTIME_NOW: on NFS the server stamps the time, so every host's
	 * heartbeat is measured with the same clock. */
	int rc = futimens(fd, NULL);
	int saved = errno;
	close(fd);
	if (rc)
		return bk_error_set(err, "cannot touch '%s': %s", path, strerror(saved));
	return 0;
}

/* ---- skipped pages ---------------------------------------------------- */

int bk_job_skip_add(struct bk_job_skip **v, size_t *n, int index, const char *file,
		    int page, const char *reason)
{
	struct bk_job_skip *nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	*v = nv;
	struct bk_job_skip *k = &nv[*n];
	k->index = index;
	k->page = page;
	k->file = strdup(file ? file : "");
	k->reason = strdup(reason ? reason : "");
	if (!k->file || !k->reason) {
		free(k->file);
		free(k->reason);
		return -1;
	}
	(*n)++;
	return 0;
}

void bk_job_skips_free(struct bk_job_skip **v, size_t *n)
{
	for (size_t i = 0; *v && i < *n; i++) {
		free((*v)[i].file);
		free((*v)[i].reason);
	}
	free(*v);
	*v = NULL;
	*n = 0;
}

/* Appends the skips as objects {index, file, page, reason} to array `key`. */
static int skips_to_record(struct bk_record *r, const char *key,
			   const struct bk_job_skip *v, size_t n)
{
	if (bk_record_set_array(r, key))
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct bk_record *o = bk_record_add_object(r, key);
		if (!o || bk_record_set_int(o, "index", v[i].index) ||
		    bk_record_set_str(o, "file", v[i].file) ||
		    bk_record_set_int(o, "page", v[i].page) ||
		    bk_record_set_str(o, "reason", v[i].reason))
			return -1;
	}
	return 0;
}

/* Reads the array `key` written by skips_to_record; -1 and err when an
 * entry is not one. */
static int skips_from_record(const struct bk_record *r, const char *key, const char *name,
			     struct bk_job_skip **v, size_t *n, struct bk_error *err)
{
	for (size_t i = 0; i < bk_record_count(r, key); i++) {
		const struct bk_record *o = bk_record_object_at(r, key, i);
		int index = -1, page = -1;
		if (!o || bk_record_check_types(o, name, "index:i file:s page:i reason:s", err))
			return -1;
		if (!bk_record_int(o, "index", &index) || !bk_record_int(o, "page", &page) ||
		    !bk_record_str(o, "file") || !bk_record_str(o, "reason") || index < 0)
			return bk_error_set(err, "'%s': a damaged entry in '%s'", name, key);
		if (bk_job_skip_add(v, n, index, bk_record_str(o, "file"), page,
				    bk_record_str(o, "reason")))
			return bk_error_set(err, "out of memory reading '%s'", name);
	}
	return 0;
}

/* ---- job.meta --------------------------------------------------------- */

void bk_job_meta_init(struct bk_job_meta *m)
{
	memset(m, 0, sizeof(*m));
}

void bk_job_meta_release(struct bk_job_meta *m)
{
	free(m->id);
	free(m->collection);
	free(m->title);
	free(m->date);
	free(m->lang);
	free(m->ocr);
	free(m->old_print);
	free(m->recoverer);
	free(m->key);
	bk_names_free(m->files, m->nfiles);
	bk_job_skips_free(&m->quarantine, &m->nquarantine);
	bk_job_meta_init(m);
}

static int meta_add_file(struct bk_job_meta *m, const char *name)
{
	char **nv = realloc(m->files, (m->nfiles + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	m->files = nv;
	if (!(m->files[m->nfiles] = strdup(name)))
		return -1;
	m->nfiles++;
	return 0;
}

static int set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
	return !v || *dst ? 0 : -1;
}

/* Reads the record file `name` in `dir`: checks its `format` and the types
 * of its keys (bk_record_check_types), then `fill` copies what it needs
 * into `out` (the record is freed afterwards; `path` is for its messages).
 * 0, or -1 with `err` set; `out` may then be half filled. */
static int read_record_in(const char *dir, const char *name, const char *format,
			  const char *types,
			  int (*fill)(const struct bk_record *r, const char *path,
				      void *out, struct bk_error *err),
			  void *out, struct bk_error *err)
{
	char *path = bk_path_join(dir, name);
	struct bk_record *r = NULL;
	int rc = -1;

	if (!path)
		return bk_error_set(err, "out of memory");
	if (!bk_record_read(&r, path, format, err) &&
	    !bk_record_check_types(r, path, types, err))
		rc = fill(r, path, out, err);
	bk_record_free(&r);
	free(path);
	return rc;
}

#define JOB_META_TYPES                                                       \
	"id:s collection:s title:s date:s lang:s recoverer:s profile:s "     \
	"access:s files:a box:i volume:i pages:i tries:i ocr:s bilevel:i "   \
	"dpi:i generation:i quarantine:o key:s old_print:s"

int bk_job_meta_read(struct bk_job_meta *m, const char *path, struct bk_error *err)
{
	struct bk_record *r = NULL;
	const char *profile, *access;
	int rc = -1;

	bk_job_meta_init(m);
	if (bk_record_read(&r, path, "bunko-job", err) ||
	    bk_record_check_types(r, path, JOB_META_TYPES, err))
		goto out;
	if (set_str(&m->id, bk_record_str(r, "id")) ||
	    set_str(&m->collection, bk_record_str(r, "collection")) ||
	    set_str(&m->title, bk_record_str(r, "title")) ||
	    set_str(&m->date, bk_record_str(r, "date")) ||
	    set_str(&m->lang, bk_record_str(r, "lang")) ||
	    set_str(&m->ocr, bk_record_str(r, "ocr")) ||
	    set_str(&m->old_print, bk_record_str(r, "old_print")) ||
	    set_str(&m->recoverer, bk_record_str(r, "recoverer")) ||
	    set_str(&m->key, bk_record_str(r, "key")))
		goto oom;
	if (skips_from_record(r, "quarantine", path, &m->quarantine, &m->nquarantine, err))
		goto out;
	bk_record_int(r, "generation", &m->generation);
	for (size_t i = 0; i < bk_record_count(r, "files"); i++)
		if (meta_add_file(m, bk_record_str_at(r, "files", i)))
			goto oom;
	bk_record_int(r, "box", &m->box);
	bk_record_int(r, "volume", &m->volume);
	bk_record_int(r, "pages", &m->pages);
	bk_record_int(r, "tries", &m->tries);
	{
		int bilevel = 0;
		bk_record_int(r, "bilevel", &bilevel);
		m->bilevel = bilevel != 0;
	}
	bk_record_int(r, "dpi", &m->dpi);
	profile = bk_record_str(r, "profile");
	access = bk_record_str(r, "access");
	if (!m->id || !m->collection || m->nfiles == 0 || !profile || !access) {
		bk_error_set(err, "'%s' lacks id, collection, files, profile or access", path);
		goto out;
	}
	if (bk_profile_parse(profile) < 0) {
		bk_error_set(err, "'%s': unknown profile '%s'", path, profile);
		goto out;
	}
	m->profile = bk_profile_parse(profile);
	if (bk_access_parse(access) < 0) {
		bk_error_set(err, "'%s': unknown access level '%s'", path, access);
		goto out;
	}
	m->access = bk_access_parse(access);
	if (m->dpi != 0 && (m->dpi < BK_DPI_MIN || m->dpi > BK_DPI_MAX)) {
		bk_error_set(err, "'%s': dpi %d outside %d..%d", path, m->dpi, BK_DPI_MIN, BK_DPI_MAX);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	bk_error_set(err, "out of memory reading '%s'", path);
out:
	bk_record_free(&r);
	if (rc)
		bk_job_meta_release(m);
	return rc;
}

/* job.meta's record; NULL when out of memory. */
static struct bk_record *job_meta_record(const struct bk_job_meta *m)
{
	struct bk_record *r = bk_record_new("bunko-job");
	int bad = !r;

	if (r) {
		bad |= bk_record_set_str(r, "id", m->id);
		bad |= bk_record_set_str(r, "collection", m->collection);
		bad |= bk_record_set_str(r, "title", m->title);
		bad |= bk_record_set_str(r, "date", m->date);
		if (m->box)
			bad |= bk_record_set_int(r, "box", m->box);
		if (m->volume)
			bad |= bk_record_set_int(r, "volume", m->volume);
		bad |= bk_record_set_str(r, "profile", bk_profile_name(m->profile));
		bad |= bk_record_set_str(r, "access", bk_access_name(m->access));
		bad |= bk_record_set_str(r, "lang", m->lang ? m->lang : "auto");
		if (m->ocr)
			bad |= bk_record_set_str(r, "ocr", m->ocr);
		if (m->bilevel)
			bad |= bk_record_set_int(r, "bilevel", 1);
		if (m->dpi)
			bad |= bk_record_set_int(r, "dpi", m->dpi);
		if (m->old_print)
			bad |= bk_record_set_str(r, "old_print", m->old_print);
		bad |= bk_record_set_array(r, "files");
		for (size_t i = 0; i < m->nfiles; i++)
			bad |= bk_record_add_str(r, "files", m->files[i]);
		bad |= bk_record_set_int(r, "pages", m->pages);
		bad |= bk_record_set_int(r, "tries", m->tries);
		if (m->recoverer)
			bad |= bk_record_set_str(r, "recoverer", m->recoverer);
		bad |= bk_record_set_int(r, "generation", m->generation);
		if (m->nquarantine)
			bad |= skips_to_record(r, "quarantine", m->quarantine, m->nquarantine);
		if (m->key)
			bad |= bk_record_set_str(r, "key", m->key);
	}
	if (bad)
		bk_record_free(&r);
	return r;
}

int bk_job_meta_write(const struct bk_job_meta *m, const char *path,
		      struct bk_error *err)
{
	struct bk_record *r = job_meta_record(m);
	int rc = r ? bk_record_write(r, path, err)
		   : bk_error_set(err, "out of memory writing '%s'", path);
	bk_record_free(&r);
	return rc;
}

/* ---- opening ---------------------------------------------------------- */

/* The host's machine id (systemd's /etc/machine-id, or D-Bus's copy): 32
 * hex digits that stay with one installation, unlike a hostname that
 * cloned VMs share. "" when there is none. */
static char *read_machine_id(void)
{
	static const char *const paths[] = { "/etc/machine-id", "/var/lib/dbus/machine-id" };
	char buf[128];

	for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		FILE *fp = fopen(paths[i], "re");
		if (!fp)
			continue;
		char *line = fgets(buf, sizeof(buf), fp);
		fclose(fp);
		if (!line)
			continue;
		buf[strcspn(buf, " \t\r\n")] = '\0';
		bool hex = buf[0] != '\0';
		for (char *p = buf; *p; p++)
			hex &= (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
		if (hex)
			return strdup(buf);
	}
	return strdup("");
}

int bk_queue_open(struct bk_queue *q, const char *archive, struct bk_error *err)
{
	char host[HOST_NAME_MAX + 1] = "";
	int rc = -1;

	memset(q, 0, sizeof(*q));
	q->lease_seconds = BK_QUEUE_LEASE_DEFAULT;
	q->max_tries = BK_QUEUE_TRIES_DEFAULT;
	q->log_fd = -1;
	if (bk_archive_check(archive, err))
		goto out;
	if (gethostname(host, sizeof(host) - 1) || !host[0])
		strcpy(host, "localhost");
	/* '@' and '/' would break claim names; '.' is fine: the pid is what
	 * follows the LAST dot. */
	for (char *p = host; *p; p++)
		if (*p == '@' || *p == '/')
			*p = '_';
	q->archive = strdup(archive);
	q->root = bk_path_join(archive, "queue");
	q->host = strdup(host);
	q->machine_id = read_machine_id();
	if (!q->archive || !q->root || !q->host || !q->machine_id) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < sizeof(queue_subdirs) / sizeof(*queue_subdirs); i++) {
		char *d = bk_queue_path(q, queue_subdirs[i], NULL);
		int r = d ? bk_mkdir_p(d, 0, err) : bk_error_set(err, "out of memory");
		free(d);
		if (r)
			goto out;
	}
	rc = 0;
out:
	if (rc)
		bk_queue_release(q);
	return rc;
}

void bk_queue_release(struct bk_queue *q)
{
	free(q->archive);
	free(q->root);
	free(q->host);
	free(q->machine_id);
	memset(q, 0, sizeof(*q));
	q->log_fd = -1;
}

/* ---- add -------------------------------------------------------------- */

/* YYYYMMDD-HHMMSS-<pid>-<usec><rand>, the time in UTC (so ids from hosts in
 * different time zones, or across a change of summer time, still sort in
 * the order they were made): the microseconds make one process's
 * jobs sort in the order they were queued; the random hex keeps ids apart
 * across hosts whose pids coincide. */
static char *new_job_id(void)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	uint32_t rnd = 0;
	char *id = NULL;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid();
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	if (asprintf(&id, "%s-%ld-%06ld%03x", stamp, (long)getpid(),
		     ts.tv_nsec / 1000, rnd & 0xfff) < 0)
		return NULL;
	return id;
}

/* Copies src to dst with fsync; the copy is exact. */
/* Writes all of data to fd, `name` its file for the message. */
static int write_all(int fd, const void *data, size_t len, const char *name,
		     struct bk_error *err)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return bk_error_set(err, "cannot write '%s': %s", name, strerror(errno));
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Copies src to the new file dst; fsync()ed when `sync` (a batch syncs
 * the whole filesystem once instead, bk_queue_batch_commit). */
static int copy_file(const char *src, const char *dst, bool sync, struct bk_error *err)
{
	char buf[1 << 16];
	int in = -1, out = -1, rc = -1;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		bk_error_set(err, "cannot open '%s': %s", src, strerror(errno));
		goto out;
	}
	out = bk_create_file(dst, O_EXCL, err); /* the mode of its job */
	if (out < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			bk_error_set(err, "cannot read '%s': %s", src, strerror(errno));
			goto out;
		}
		if (write_all(out, buf, (size_t)n, dst, err))
			goto out;
	}
	if (sync && fsync(out)) {
		bk_error_set(err, "cannot write '%s': %s", dst, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) && rc == 0)
		rc = bk_error_set(err, "cannot write '%s': %s", dst, strerror(errno));
	return rc;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

char *bk_job_input_path(const char *job_dir, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/input/%s", job_dir, name) < 0)
		return NULL;
	return p;
}

/* A new job's job.meta, unsynced: it is inside tmp/, where no worker
 * looks, until the batch's one sync and its rename. */
static int write_meta_unsynced(const struct bk_job_meta *m, const char *path,
			       struct bk_error *err)
{
	struct bk_record *r = job_meta_record(m);
	char *text = r ? bk_record_dump(r, false) : NULL;
	int fd = -1, rc = -1;

	if (!text) {
		bk_error_set(err, "out of memory writing '%s'", path);
		goto out;
	}
	size_t n = strlen(text);
	text[n] = '\n'; /* the NUL's byte: the file is the line (bk_record_write) */
	fd = bk_create_file(path, O_EXCL, err);
	if (fd < 0 || write_all(fd, text, n + 1, path, err))
		goto out;
	rc = 0;
out:
	if (fd >= 0 && close(fd) && rc == 0)
		rc = bk_error_set(err, "cannot write '%s': %s", path, strerror(errno));
	free(text);
	bk_record_free(&r);
	return rc;
}

/* Builds the job in tmp/<job>@<host>.<pid> (add, step 1 of the protocol)
 * and gives its directory in *tmpdir (caller frees; NULL on error, when
 * nothing is left behind). `sync`: every file and directory fsync()ed,
 * as a single add does; otherwise its batch syncs the filesystem once. */
static int build_job(struct bk_queue *q, struct bk_job_meta *meta,
		     const char *const *paths, size_t npaths, bool sync,
		     char **tmpdir, struct bk_error *err)
{
	char *dir = NULL, *metapath = NULL, *inputs = NULL;
	int rc = -1;

	*tmpdir = NULL;
	if (npaths == 0)
		return bk_error_set(err, "no input files");
	for (size_t i = 0; i < npaths; i++)
		if (bk_text_check("file name", base_name(paths[i]), BK_FILE_NAME_MAX, err))
			return -1;
	for (size_t i = 0; i < npaths; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(base_name(paths[i]), base_name(paths[j])))
				return bk_error_set(err,
						    "'%s' and '%s' have the same file name; "
						    "masters are stored by name",
						    paths[j], paths[i]);
	meta->id = new_job_id();
	if (!meta->id)
		return bk_error_set(err, "out of memory");
	/* named like a claim, so recovery can tell when its writer is gone */
	{
		char *name = own_claim_name(q, meta->id);
		dir = name ? bk_queue_path(q, "tmp", name) : NULL;
		free(name);
	}
	metapath = dir ? bk_path_join(dir, "job.meta") : NULL;
	inputs = dir ? bk_path_join(dir, "input") : NULL;
	if (!dir || !metapath || !inputs) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	/* the job's level's mode from the start: what is put inside takes
	 * it (bunko/atomic.h), and it moves with the job */
	if (bk_mkdir_mode(dir, bk_access_dir_mode(meta->access), err))
		goto out;
	if (bk_mkdir_mode(inputs, bk_access_dir_mode(meta->access), err))
		goto out;
	for (size_t i = 0; i < npaths; i++) {
		char *dst = bk_job_input_path(dir, base_name(paths[i]));
		int r;
		if (!dst) {
			bk_error_set(err, "out of memory");
			goto out;
		}
		/* A hard link costs nothing and is the same bytes; across
		 * filesystems (EXDEV) or where links are refused, copy. Not for
		 * a restricted or confidential job: a link is the user's own
		 * file, with its owner and mode, not the level's. */
		r = meta->access == BK_ACCESS_PUBLIC && link(paths[i], dst) == 0
			    ? 0 : copy_file(paths[i], dst, sync, err);
		if (r == 0 && meta_add_file(meta, base_name(paths[i])))
			r = bk_error_set(err, "out of memory");
		free(dst);
		if (r)
			goto out;
	}
	meta->tries = 0;
	/* job.meta's atomic commit fsyncs the job directory too, which makes
	 * input/ durable in it */
	if (sync ? bk_fsync_dir(inputs, err) || bk_job_meta_write(meta, metapath, err)
		 : write_meta_unsynced(meta, metapath, err))
		goto out;
	*tmpdir = dir;
	dir = NULL;
	rc = 0;
out:
	if (dir)
		bk_rm_tree(dir, NULL);
	free(dir);
	free(metapath);
	free(inputs);
	return rc;
}

/* Renames a built job into incoming/ (add, the end of step 1); the
 * caller fsyncs incoming/ after. */
static int move_to_incoming(struct bk_queue *q, const char *tmpdir, const char *id,
			    struct bk_error *err)
{
	char *incoming = bk_queue_path(q, "incoming", id);
	int rc = 0;

	if (!incoming)
		rc = bk_error_set(err, "out of memory");
	else if (rename(tmpdir, incoming))
		rc = bk_error_set(err, "cannot move job into '%s': %s", incoming,
				  strerror(errno));
	free(incoming);
	return rc;
}

static int fsync_incoming(struct bk_queue *q, struct bk_error *err)
{
	char *d = bk_queue_path(q, "incoming", NULL);
	int rc = d ? bk_fsync_dir(d, err) : bk_error_set(err, "out of memory");
	free(d);
	return rc;
}

int bk_queue_add(struct bk_queue *q, struct bk_job_meta *meta,
		 const char *const *paths, size_t npaths, struct bk_error *err)
{
	char *tmpdir = NULL;
	int rc = -1;

	if (build_job(q, meta, paths, npaths, true, &tmpdir, err))
		goto out;
	if (move_to_incoming(q, tmpdir, meta->id, err)) {
		bk_rm_tree(tmpdir, NULL);
		goto out;
	}
	rc = fsync_incoming(q, err);
out:
	free(tmpdir);
	return rc;
}

/* ---- batches of new jobs ---------------------------------------------- */

void bk_queue_batch_init(struct bk_queue_batch *b)
{
	memset(b, 0, sizeof(*b));
}

int bk_queue_batch_add(struct bk_queue *q, struct bk_queue_batch *b,
		       struct bk_job_meta *meta, const char *const *paths,
		       size_t npaths, struct bk_error *err)
{
	char *tmpdir = NULL;

	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		char **dirs = realloc(b->tmpdirs, cap * sizeof(*dirs));
		char **ids = dirs ? realloc(b->ids, cap * sizeof(*ids)) : NULL;
		if (dirs)
			b->tmpdirs = dirs;
		if (!ids)
			return bk_error_set(err, "out of memory");
		b->ids = ids;
		b->cap = cap;
	}
	if (build_job(q, meta, paths, npaths, false, &tmpdir, err))
		return -1;
	b->ids[b->n] = strdup(meta->id);
	if (!b->ids[b->n]) {
		bk_rm_tree(tmpdir, NULL);
		free(tmpdir);
		return bk_error_set(err, "out of memory");
	}
	b->tmpdirs[b->n++] = tmpdir;
	return 0;
}

int bk_queue_batch_commit(struct bk_queue *q, struct bk_queue_batch *b,
			  struct bk_error *err)
{
	char *tmp = bk_queue_path(q, "tmp", NULL);
	int fd = -1, rc = -1;

	if (b->n == 0) {
		rc = 0;
		goto out;
	}
	if (!tmp) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	/* One syncfs(2) makes every built job durable (with all else dirty
	 * on the archive's filesystem): one journal commit instead of five
	 * fsyncs per job. Only then may a job be seen in incoming/. */
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd)) {
		bk_error_set(err, "cannot sync '%s': %s", tmp, strerror(errno));
		goto out;
	}
	for (; b->done < b->n; b->done++)
		if (move_to_incoming(q, b->tmpdirs[b->done], b->ids[b->done], err))
			goto out;
	rc = fsync_incoming(q, err);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	return rc;
}

void bk_queue_batch_release(struct bk_queue_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (i >= b->done)
			bk_rm_tree(b->tmpdirs[i], NULL);
		free(b->tmpdirs[i]);
		free(b->ids[i]);
	}
	free(b->tmpdirs);
	free(b->ids);
	bk_queue_batch_init(b);
}

/* ---- claims ----------------------------------------------------------- */

void bk_claim_release(struct bk_claim *c)
{
	free(c->job_id);
	free(c->dir);
	memset(c, 0, sizeof(*c));
}

int bk_claim_name_parse(const char *name, char **job_id, char **host, long *pid)
{
	const char *at = strchr(name, '@');
	const char *dot = at ? strrchr(at, '.') : NULL;
	char *end;

	*job_id = *host = NULL;
	if (!at || !dot || dot == at + 1 || at == name || !dot[1])
		return -1;
	*pid = strtol(dot + 1, &end, 10);
	if (*end || *pid <= 0)
		return -1;
	*job_id = strndup(name, at - name);
	*host = strndup(at + 1, dot - at - 1);
	if (!*job_id || !*host) {
		free(*job_id);
		free(*host);
		*job_id = *host = NULL;
		return -1;
	}
	return 0;
}

/* Renames `from` to `to`, treating ENOENT-after-success (an NFS
 * retransmission) as success. Returns 0 won, 1 lost (someone else moved
 * it), -1 error. */
static int rename_claim(const char *from, const char *to, struct bk_error *err)
{
	struct stat st;

	if (rename(from, to) == 0)
		return 0;
	if (errno == ENOENT)
		return stat(to, &st) == 0 ? 0 : 1;
	return bk_error_set(err, "cannot rename '%s' to '%s': %s", from, to,
			    strerror(errno));
}

int bk_claim_heartbeat(const struct bk_claim *c, struct bk_error *err)
{
	char *hb = bk_path_join(c->dir, "heartbeat");
	int rc = hb ? touch(hb, err) : bk_error_set(err, "out of memory");
	free(hb);
	return rc;
}

void bk_claim_owner_release(struct bk_claim_owner *o)
{
	free(o->host);
	free(o->machine_id);
	free(o->claimed);
	memset(o, 0, sizeof(*o));
}

static int claim_owner_fill(const struct bk_record *r, const char *path, void *out,
			    struct bk_error *err)
{
	struct bk_claim_owner *o = out;
	long long v = 0;

	bk_record_int(r, "generation", &o->generation);
	bk_record_int(r, "source_done", &o->source_done);
	if (bk_record_long(r, "pid", &v))
		o->pid = (long)v;
	v = 0;
	if (bk_record_long(r, "supervisor", &v))
		o->supervisor = (long)v;
	if (set_str(&o->host, bk_record_str(r, "host")) ||
	    set_str(&o->machine_id, bk_record_str(r, "machine_id")) ||
	    set_str(&o->claimed, bk_record_str(r, "claimed")))
		return bk_error_set(err, "out of memory reading '%s'", path);
	return 0;
}

int bk_claim_owner_read(struct bk_claim_owner *o, const char *claim_dir,
			struct bk_error *err)
{
	memset(o, 0, sizeof(*o));
	if (read_record_in(claim_dir, "owner", "bunko-claim",
			   "generation:i host:s machine_id:s source_done:i claimed:s",
			   claim_owner_fill, o, err)) {
		bk_claim_owner_release(o);
		return -1;
	}
	return 0;
}

static int dead_letter_unreadable(struct bk_queue *q, struct bk_claim *c,
				  struct bk_error *err);

/* The claim was just won by rename: renew its lease, raise the job's
 * generation (the fencing token) and record who holds it and how far the
 * job had got (see the protocol, 2). Returns 1 when job.meta cannot be
 * read (err says why). */
static int take_claim(struct bk_queue *q, struct bk_claim *c, struct bk_error *err)
{
	struct bk_job_meta m;
	struct bk_job_progress p;
	struct bk_record *r = NULL;
	char *metapath = bk_path_join(c->dir, "job.meta");
	char *owner = bk_path_join(c->dir, "owner"), *when = bk_utc_now();
	int rc = -1;

	bk_job_meta_init(&m);
	bk_job_progress_init(&p);
	if (!metapath || !owner || !when) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (bk_claim_heartbeat(c, err))
		goto out;
	if (bk_job_meta_read(&m, metapath, err)) {
		/* a record no worker can read fails every claim alike: the job,
		 * not the worker, is at fault (the caller dead-letters it) */
		rc = 1;
		goto out;
	}
	/* the page record is the last holder's: this claim has begun none */
	{
		char *page = bk_path_join(c->dir, "page");
		if (!page || (unlink(page) && errno != ENOENT)) {
			bk_error_set(err, "cannot remove '%s': %s", page ? page : "page",
				     strerror(errno));
			free(page);
			goto out;
		}
		free(page);
	}
	m.generation++;
	if (bk_job_meta_write(&m, metapath, err))
		goto out;
	c->generation = m.generation;
	if (bk_job_progress_read(&p, c->dir, NULL)) /* a damaged record: the worker says why */
		bk_job_progress_init(&p);
	r = bk_record_new("bunko-claim");
	if (!r || bk_record_set_int(r, "generation", m.generation) ||
	    bk_record_set_str(r, "host", q->host) ||
	    bk_record_set_str(r, "machine_id", q->machine_id) ||
	    bk_record_set_int(r, "pid", (long long)getpid()) ||
	    bk_record_set_int(r, "supervisor", (long long)getppid()) ||
	    bk_record_set_int(r, "source_done", p.source_done) ||
	    bk_record_set_str(r, "claimed", when)) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	rc = bk_record_write(r, owner, err);
out:
	bk_record_free(&r);
	bk_job_progress_release(&p);
	bk_job_meta_release(&m);
	free(metapath);
	free(owner);
	free(when);
	return rc;
}

bool bk_claim_owned(const struct bk_claim *c)
{
	struct bk_claim_owner o;
	bool owned = false;

	if (!c || !c->dir)
		return false;
	if (bk_claim_owner_read(&o, c->dir, NULL) == 0) {
		owned = o.generation == c->generation && o.pid == (long)getpid();
		bk_claim_owner_release(&o);
	}
	return owned;
}

int bk_job_work_dir(const char *job_dir, struct bk_error *err)
{
	char *work = bk_path_join(job_dir, "work");
	struct stat st;
	int rc = -1;

	if (!work)
		return bk_error_set(err, "out of memory");
	if (stat(work, &st) == 0) {
		rc = 0;
		goto out;
	}
	/* the job directory's own bits, so work/ is no more readable than
	 * the job; mkdir(2) of work/ alone fails when the job directory is
	 * gone, where a mkdir -p would bring a lost claim back to life */
	if (stat(job_dir, &st)) {
		bk_error_set(err, "'%s': claim lost (%s)", job_dir, strerror(errno));
		goto out;
	}
	if (bk_mkdir_mode(work, st.st_mode & 0777, err) && stat(work, &st))
		goto out;
	rc = 0;
out:
	free(work);
	return rc;
}

int bk_claim_page_write(const struct bk_claim *c, int index, const char *file,
			int page, int limit, struct bk_error *err)
{
	char *path = bk_path_join(c->dir, "page");
	struct bk_record *r = bk_record_new("bunko-page");
	int rc;

	if (!path || !r || bk_record_set_int(r, "index", index) ||
	    bk_record_set_str(r, "file", file) || bk_record_set_int(r, "page", page) ||
	    bk_record_set_int(r, "limit", limit) ||
	    bk_record_set_int(r, "generation", c->generation))
		rc = bk_error_set(err, "out of memory");
	else
		rc = bk_record_write(r, path, err);
	bk_record_free(&r);
	free(path);
	return rc;
}

void bk_claim_page_release(struct bk_claim_page *p)
{
	free(p->file);
	memset(p, 0, sizeof(*p));
}

int bk_claim_page_read(struct bk_claim_page *p, const char *claim_dir,
		       struct bk_error *err)
{
	char *path = bk_path_join(claim_dir, "page");
	struct bk_record *r = NULL;
	struct stat st;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (!path)
		return bk_error_set(err, "out of memory");
	if (stat(path, &st)) {
		rc = errno == ENOENT ? 1 : bk_error_set(err, "cannot read '%s': %s", path,
							 strerror(errno));
		goto out;
	}
	if (bk_record_read(&r, path, "bunko-page", err) ||
	    bk_record_check_types(r, path, "index:i file:s page:i limit:i", err))
		goto out;
	bk_record_int(r, "index", &p->index);
	bk_record_int(r, "page", &p->page);
	bk_record_int(r, "limit", &p->limit);
	bk_record_int(r, "generation", &p->generation);
	p->started = st.st_mtime;
	if (set_str(&p->file, bk_record_str(r, "file"))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	bk_record_free(&r);
	free(path);
	return rc;
}

int bk_queue_claim(struct bk_queue *q, struct bk_claim *c, struct bk_error *err)
{
	char *incoming = bk_queue_path(q, "incoming", NULL);
	char **names = NULL;
	size_t n = 0;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (!incoming)
		return bk_error_set(err, "out of memory");
	if (bk_list_dir(incoming, &names, &n, err))
		goto out;
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *from = bk_path_join(incoming, names[i]);
		char *cname = own_claim_name(q, names[i]);
		char *to = cname ? bk_queue_path(q, "claimed", cname) : NULL;
		int r = (from && to) ? rename_claim(from, to, err)
				     : bk_error_set(err, "out of memory");
		if (r == 0) {
			c->job_id = strdup(names[i]);
			c->dir = to;
			to = NULL;
			rc = c->job_id ? 1 : bk_error_set(err, "out of memory");
			int taken = rc == 1 ? take_claim(q, c, err) : 0;
			if (taken == 1) {
				rc = dead_letter_unreadable(q, c, err);
				bk_claim_release(c);
			} else if (taken < 0) {
				rc = -1;
			}
		} else if (r < 0) {
			rc = -1;
		}
		free(from);
		free(cname);
		free(to);
	}
	if (rc < 0)
		bk_claim_release(c);
out:
	bk_names_free(names, n);
	free(incoming);
	return rc;
}

/* Makes a move into queue/<sub> durable: fsync(2) of the directory the job
 * went into commits the rename on both sides (a journaling filesystem
 * commits a rename as one transaction), so after a power cut the job is
 * found where it was moved, never in two state directories or in none
 * (tests/test_cli_powercut.c). */
static int fsync_state_dir(const struct bk_queue *q, const char *sub, struct bk_error *err)
{
	char *d = bk_queue_path(q, sub, NULL);
	int rc = d ? bk_fsync_dir(d, err) : bk_error_set(err, "out of memory");
	free(d);
	return rc;
}

/* Moves the claim to <sub>/<job>. If a finished copy already sits there
 * (the job was processed twice after a lost lease), ours is dropped. */
static int move_claim(struct bk_queue *q, struct bk_claim *c, const char *sub,
		      struct bk_error *err)
{
	char *to = bk_queue_path(q, sub, c->job_id);
	int rc = -1;

	if (!to)
		return bk_error_set(err, "out of memory");
	if (!bk_claim_owned(c)) {
		/* taken over while we were stopped: it is someone else's now */
		bk_error_set(err, "job %s: claim lost (lease expired and the job "
			     "was taken over)", c->job_id);
	} else if (rename(c->dir, to) == 0) {
		rc = fsync_state_dir(q, sub, err);
	} else if (errno == ENOTEMPTY || errno == EEXIST) {
		rc = bk_rm_tree(c->dir, err);
	} else if (errno == ENOENT) {
		bk_error_set(err, "job %s: claim lost (lease expired and the job "
			     "was taken over)", c->job_id);
	} else {
		bk_error_set(err, "cannot move '%s' to '%s': %s", c->dir, to,
			     strerror(errno));
	}
	free(to);
	return rc;
}

int bk_queue_finish(struct bk_queue *q, struct bk_claim *c, struct bk_error *err)
{
	return move_claim(q, c, "done", err);
}

static int write_reason(const char *job_dir, const char *file, int page,
			const char *message, const struct bk_job_skip *missing,
			size_t nmissing, struct bk_error *err)
{
	char *path = bk_path_join(job_dir, "reason");
	struct bk_record *r = bk_record_new("bunko-reason");
	int rc;

	if (!path || !r || bk_record_set_str(r, "file", file && *file ? file : NULL) ||
	    bk_record_set_int(r, "page", page) || bk_record_set_str(r, "message", message) ||
	    skips_to_record(r, "missing", missing, nmissing))
		rc = bk_error_set(err, "out of memory");
	else
		rc = bk_record_write(r, path, err);
	bk_record_free(&r);
	free(path);
	return rc;
}

static int reason_fill(const struct bk_record *r, const char *path, void *out,
		       struct bk_error *err)
{
	struct bk_job_reason *reason = out;

	if (skips_from_record(r, "missing", path, &reason->missing, &reason->nmissing, err))
		return -1;
	bk_record_int(r, "page", &reason->page);
	if (set_str(&reason->file, bk_record_str(r, "file")) ||
	    set_str(&reason->message, bk_record_str(r, "message")))
		return bk_error_set(err, "out of memory reading '%s'", path);
	return 0;
}

int bk_job_reason_read(struct bk_job_reason *reason, const char *job_dir,
		       struct bk_error *err)
{
	memset(reason, 0, sizeof(*reason));
	if (read_record_in(job_dir, "reason", "bunko-reason",
			   "file:s page:i message:s missing:o", reason_fill, reason, err)) {
		bk_job_reason_release(reason);
		return -1;
	}
	return 0;
}

void bk_job_reason_release(struct bk_job_reason *reason)
{
	free(reason->file);
	free(reason->message);
	bk_job_skips_free(&reason->missing, &reason->nmissing);
	memset(reason, 0, sizeof(*reason));
}

/* A job whose job.meta cannot be read (err: why), just claimed by us and
 * not yet marked as ours, goes straight to failed/ with that reason; the
 * error is consumed. Returns 0 so the caller looks for the next job. */
static int dead_letter_unreadable(struct bk_queue *q, struct bk_claim *c,
				  struct bk_error *err)
{
	char *to = bk_queue_path(q, "failed", c->job_id);
	char *why = strdup(err && err->msg[0] ? err->msg : "unreadable job record");
	int rc = -1;

	if (!to || !why) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (write_reason(c->dir, NULL, 0, why, NULL, 0, err))
		goto out;
	if (rename(c->dir, to)) {
		bk_error_set(err, "cannot move '%s' to '%s': %s", c->dir, to, strerror(errno));
		goto out;
	}
	if (fsync_state_dir(q, "failed", err))
		goto out;
	bk_error_init(err);
	rc = 0;
out:
	free(to);
	free(why);
	return rc;
}

int bk_queue_fail_skips(struct bk_queue *q, struct bk_claim *c, const char *file,
			int page, const char *message, const struct bk_job_skip *missing,
			size_t nmissing, struct bk_error *err)
{
	if (!bk_claim_owned(c))
		return bk_error_set(err, "job %s: claim lost (lease expired and the job "
				    "was taken over)", c->job_id);
	if (write_reason(c->dir, file, page, message, missing, nmissing, err))
		return -1;
	return move_claim(q, c, "failed", err);
}

int bk_queue_fail(struct bk_queue *q, struct bk_claim *c, const char *file,
		  int page, const char *message, struct bk_error *err)
{
	return bk_queue_fail_skips(q, c, file, page, message, NULL, 0, err);
}

int bk_queue_unclaim(struct bk_queue *q, struct bk_claim *c, struct bk_error *err)
{
	return move_claim(q, c, "incoming", err);
}

int bk_queue_requeue(struct bk_queue *q, const char *job_id, struct bk_error *err)
{
	struct bk_job_meta m;
	char *from = NULL, *tmp = NULL, *to = NULL, *metapath = NULL, *reason = NULL;
	char *name = NULL;
	struct stat st;
	int rc = -1;

	bk_job_meta_init(&m);
	if (bk_name_check("job id", job_id, err))
		return -1;
	from = bk_queue_path(q, "failed", job_id);
	name = own_claim_name(q, job_id);
	tmp = name ? bk_queue_path(q, "claimed", name) : NULL;
	to = bk_queue_path(q, "incoming", job_id);
	if (!from || !tmp || !to) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (stat(from, &st)) {
		rc = 1;
		goto out;
	}
	/* held as a claim of ours while job.meta is changed, so no worker
	 * sees it half done; a crash here leaves a claim recovery returns
	 * to incoming/ (it began no page, so nothing is charged) */
	int r = rename_claim(from, tmp, err);
	if (r) {
		rc = r > 0 ? 1 : -1;
		goto out;
	}
	metapath = bk_path_join(tmp, "job.meta");
	reason = bk_path_join(tmp, "reason");
	if (!metapath || !reason) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (bk_job_meta_read(&m, metapath, err))
		goto out;
	m.tries = 0;
	free(m.recoverer);
	m.recoverer = NULL;
	if (bk_job_meta_write(&m, metapath, err))
		goto out;
	if (unlink(reason) && errno != ENOENT) {
		bk_error_set(err, "cannot remove '%s': %s", reason, strerror(errno));
		goto out;
	}
	if (rename(tmp, to)) {
		bk_error_set(err, "cannot move '%s' to '%s': %s", tmp, to, strerror(errno));
		goto out;
	}
	if (fsync_state_dir(q, "incoming", err))
		goto out;
	bk_log_line(q->log_fd, "event=requeue job=%s from=failed to=incoming", job_id);
	rc = 0;
out:
	bk_job_meta_release(&m);
	free(from);
	free(tmp);
	free(to);
	free(name);
	free(metapath);
	free(reason);
	return rc;
}

/* ---- recovery --------------------------------------------------------- */

time_t bk_queue_fs_now(const struct bk_queue *q)
{
	char name[HOST_NAME_MAX + 64];
	struct stat st;
	time_t now = time(NULL);

	snprintf(name, sizeof(name), ".clock-%s-%ld", q->host, (long)getpid());
	char *path = bk_queue_path(q, "tmp", name);
	if (path && touch(path, NULL) == 0 && stat(path, &st) == 0)
		now = st.st_mtime;
	if (path)
		unlink(path);
	free(path);
	return now;
}

/* When the claim's lease was last renewed: the heartbeat's mtime, or the
 * claim directory's ctime (set by the claiming rename) if there is none yet. */
static time_t lease_time(const char *claim_dir)
{
	struct stat st;
	char *hb = bk_path_join(claim_dir, "heartbeat");
	time_t t = 0;

	if (hb && stat(hb, &st) == 0)
		t = st.st_mtime;
	else if (stat(claim_dir, &st) == 0)
		t = st.st_ctime;
	free(hb);
	return t;
}

static bool pid_gone(long pid);

bool bk_queue_pool_gone(const struct bk_queue *q, const char *pool)
{
	const char *dot = strrchr(pool, '.');
	char *end = NULL;
	long pid = dot ? strtol(dot + 1, &end, 10) : 0;

	if (!dot || pid <= 0 || *end || (size_t)(dot - pool) != strlen(q->host) ||
	    strncmp(pool, q->host, (size_t)(dot - pool)))
		return false; /* another host's: only its log can say */
	return pid_gone(pid);
}

/* True if process `pid` on this host has ended: it does not exist, or it
 * is a zombie nobody has reaped yet (a killed worker whose supervisor died
 * too stays one until init gets to it; Linux /proc tells). */
static bool pid_gone(long pid)
{
	char path[64], buf[512];
	FILE *fp;
	size_t n;

	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold spaces and parentheses */
	char *close = strrchr(buf, ')');
	return close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X');
}

bool bk_queue_claim_is_stale(const struct bk_queue *q, const char *name, time_t now)
{
	char *job = NULL, *host = NULL, *dir = NULL;
	long pid;
	bool stale = false;

	if (bk_claim_name_parse(name, &job, &host, &pid))
		return false;
	dir = bk_queue_path(q, "claimed", name);
	if (!dir)
		goto out;
	if (!strcmp(host, q->host)) {
		/* a host of the same name is this one unless its owner record
		 * names another machine id (a cloned VM): then only the lease
		 * tells, its pids are not ours to look up */
		struct bk_claim_owner o;
		bool same = true;
		if (bk_claim_owner_read(&o, dir, NULL) == 0 && o.machine_id) {
			same = !o.machine_id[0] || !q->machine_id[0] ||
			       !strcmp(o.machine_id, q->machine_id);
			bk_claim_owner_release(&o);
		}
		if (same && pid_gone(pid)) {
			stale = true;
			goto out;
		}
	}
	{
		time_t t = lease_time(dir);
		stale = t > 0 && now - t > q->lease_seconds;
	}
out:
	free(job);
	free(host);
	free(dir);
	return stale;
}

void bk_queue_note_death(struct bk_queue *q, long pid, bool charge, const char *how)
{
	struct bk_death *d = &q->deaths[q->next_death++ % BK_QUEUE_DEATHS];
	d->pid = pid;
	d->charge = charge;
	snprintf(d->how, sizeof(d->how), "%s", how);
}

/* The latest death of `pid` among ours (a pid may have been reused). */
static const struct bk_death *known_death(const struct bk_queue *q, long pid)
{
	for (size_t k = 1; k <= BK_QUEUE_DEATHS && pid > 0; k++) {
		const struct bk_death *d =
			&q->deaths[(q->next_death + BK_QUEUE_DEATHS - k) % BK_QUEUE_DEATHS];
		if (d->pid == pid)
			return d;
	}
	return NULL;
}

/* What the dead holder of a claim left that tells whom its death is to be
 * charged to: its owner record, and the page it had begun. */
struct dead_claim {
	const char *name;         /* "<host>.<pid>" */
	bool have_owner, began;   /* began: a page record of its generation */
	struct bk_claim_owner owner;
	struct bk_claim_page page;
};

/* We hold `c` (taken over from a dead holder): clear the dead holder's
 * temporaries, charge the death where it belongs (see the protocol, 4),
 * then send the job back to incoming/, quarantining the page that has now
 * killed or hung max_tries workers, or, when the deaths came while the
 * document was being built, to failed/. */
static int requeue_taken(struct bk_queue *q, struct bk_claim *c,
			 const struct dead_claim *dead, struct bk_error *err)
{
	struct bk_job_meta m;
	struct bk_job_progress p;
	char *metapath = bk_path_join(c->dir, "job.meta");
	char *msg = NULL, *me = NULL, *why = NULL;
	const struct bk_claim_page *pg = &dead->page;
	bool progressed, pool_lost, charged, page_known;
	int rc = -1;

	bk_job_meta_init(&m);
	bk_job_progress_init(&p);
	if (!metapath || asprintf(&me, "%s.%ld", q->host, (long)getpid()) < 0) {
		me = NULL;
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (bk_job_sweep(c->dir, err) < 0)
		goto out;
	if (bk_job_meta_read(&m, metapath, err))
		goto out;
	if (bk_job_progress_read(&p, c->dir, NULL))
		bk_job_progress_init(&p); /* damaged: the next worker says why */
	progressed = dead->have_owner && p.source_done > dead->owner.source_done;
	/* its supervisor gone too, on this host: the whole pool died (a power
	 * cut, an operator's kill), which says nothing about the page */
	pool_lost = dead->have_owner && dead->owner.host && dead->owner.machine_id &&
		    !strcmp(dead->owner.host, q->host) &&
		    !strcmp(dead->owner.machine_id, q->machine_id) &&
		    dead->owner.supervisor > 1 && pid_gone(dead->owner.supervisor);
	/* a worker of ours: its supervisor saw how it ended */
	const struct bk_death *known = dead->have_owner &&
						       !strcmp(dead->owner.host ? dead->owner.host : "", q->host)
					       ? known_death(q, dead->owner.pid) : NULL;
	charged = dead->began && !progressed && !pool_lost &&
		  !(m.recoverer && !strcmp(m.recoverer, dead->name)) &&
		  (!known || known->charge);
	if (progressed)
		m.tries = 0;
	if (charged)
		m.tries++;
	free(m.recoverer);
	m.recoverer = me;
	me = NULL;
	page_known = dead->began && pg->file && pg->file[0] && pg->page > 0;
	if (charged) {
		time_t now = bk_queue_fs_now(q);
		int r = known ? asprintf(&why, "worker %s %s", dead->name, known->how)
			: pg->limit > 0 && now - pg->started > pg->limit
				? asprintf(&why, "ran past its time limit of %d s", pg->limit)
				: asprintf(&why, "worker %s died", dead->name);
		if (r < 0) {
			why = NULL;
			bk_error_set(err, "out of memory");
			goto out;
		}
	}
	bool full = m.tries >= q->max_tries;
	if (full && page_known) {
		if (asprintf(&msg, "quarantined after killing or hanging %d workers (the "
			     "last %s)", m.tries, why) < 0) {
			msg = NULL;
			bk_error_set(err, "out of memory");
			goto out;
		}
		if (bk_job_skip_add(&m.quarantine, &m.nquarantine, pg->index, pg->file,
				    pg->page, msg)) {
			bk_error_set(err, "out of memory");
			goto out;
		}
		m.tries = 0;
	}
	if (bk_job_meta_write(&m, metapath, err))
		goto out;
	bk_log_line(q->log_fd, "event=recover job=%s tries=%d from=%s to=%s worker=%s charged=%s",
		    c->job_id, m.tries, dead->name, full && !page_known ? "failed" : "incoming",
		    m.recoverer,
		    charged ? "yes" : progressed ? "no(progress made)" : pool_lost ? "no(pool lost)"
		    : !dead->began ? "no(no page begun)" : known ? "no(killed from outside)"
		    : "no(counted)");
	if (full && page_known)
		bk_log_line(q->log_fd, "event=quarantine job=%s file=%s page=%d reason=%s",
			    c->job_id, pg->file, pg->page, msg);
	if (!full || page_known) {
		rc = bk_queue_unclaim(q, c, err);
		goto out;
	}
	free(msg);
	if (asprintf(&msg, "worker died %d times on this job while its document was "
		     "built (the last: %s)", m.tries, why) < 0) {
		msg = NULL;
		bk_error_set(err, "out of memory");
		goto out;
	}
	rc = bk_queue_fail(q, c, NULL, 0, msg, err);
out:
	free(msg);
	free(why);
	free(me);
	free(metapath);
	bk_job_progress_release(&p);
	bk_job_meta_release(&m);
	return rc;
}

static int recover_one(struct bk_queue *q, const char *name, struct bk_error *err)
{
	struct bk_claim c = { 0 };
	struct dead_claim dead = { .name = strchr(name, '@') + 1 };
	char *job = NULL, *host = NULL, *from = NULL, *mine = NULL;
	long pid;
	int rc = -1, r;

	if (bk_claim_name_parse(name, &job, &host, &pid))
		return 0;
	from = bk_queue_path(q, "claimed", name);
	mine = own_claim_name(q, job);
	c.dir = mine ? bk_queue_path(q, "claimed", mine) : NULL;
	if (!from || !c.dir) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	r = rename_claim(from, c.dir, err);
	if (r) {
		rc = r > 0 ? 0 : -1; /* another recoverer was first */
		goto out;
	}
	c.job_id = job;
	job = NULL;
	/* what the dead holder left, before our own claim replaces it */
	dead.have_owner = bk_claim_owner_read(&dead.owner, c.dir, NULL) == 0;
	dead.began = dead.have_owner && bk_claim_page_read(&dead.page, c.dir, NULL) == 0 &&
		     dead.page.generation == dead.owner.generation;
	if (take_claim(q, &c, err))
		goto out;
	rc = requeue_taken(q, &c, &dead, err);
	if (rc == 0)
		rc = 1;
out:
	bk_claim_owner_release(&dead.owner);
	bk_claim_page_release(&dead.page);
	bk_claim_release(&c);
	free(job);
	free(host);
	free(from);
	free(mine);
	return rc;
}

/* True if the queue/tmp/ entry `name`, last changed at `mtime`, is debris:
 * its writer is gone (same host, pid dead) or it is older than it can be
 * while in use (see the protocol). */
static bool tmp_entry_is_debris(const struct bk_queue *q, const char *name,
				time_t mtime, time_t now)
{
	char *job = NULL, *host = NULL;
	long pid = 0;
	bool mine = false, clock = !strncmp(name, ".clock-", 7);
	time_t max_age = clock ? q->lease_seconds : TMP_MAX_AGE;

	if (clock) {
		const char *dash = strrchr(name, '-');
		char *end;
		if (dash > name + 7) {
			pid = strtol(dash + 1, &end, 10);
			mine = !*end && pid > 0 && (size_t)(dash - name - 7) == strlen(q->host) &&
			       !strncmp(name + 7, q->host, strlen(q->host));
		}
	} else if (bk_claim_name_parse(name, &job, &host, &pid) == 0) {
		mine = !strcmp(host, q->host);
	}
	free(job);
	free(host);
	if (mine && pid_gone(pid))
		return true;
	return now - mtime > max_age;
}

/* Clears queue/tmp/ of what dead processes left: `bunko add` directories
 * and clock files. Best effort: a failure is retried at the next recovery.
 * readdir, not bk_list_dir, which skips the clock files' dot names. */
static void sweep_tmp(const struct bk_queue *q, time_t now)
{
	char *tmp = bk_queue_path(q, "tmp", NULL);
	DIR *d = tmp ? opendir(tmp) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !tmp_entry_is_debris(q, de->d_name, st.st_mtime, now))
			continue;
		char *path = bk_path_join(tmp, de->d_name);
		if (path)
			bk_rm_tree(path, NULL);
		free(path);
	}
	if (d)
		closedir(d);
	free(tmp);
}

int bk_queue_recover(struct bk_queue *q, struct bk_error *err)
{
	char *claimed = bk_queue_path(q, "claimed", NULL);
	char **names = NULL;
	size_t n = 0;
	int recovered = 0;
	time_t now;

	if (!claimed)
		return bk_error_set(err, "out of memory");
	if (bk_list_dir(claimed, &names, &n, err)) {
		recovered = -1;
		goto out;
	}
	now = bk_queue_fs_now(q);
	for (size_t i = 0; i < n; i++) {
		if (!bk_queue_claim_is_stale(q, names[i], now))
			continue;
		int r = recover_one(q, names[i], err);
		if (r < 0) {
			recovered = -1;
			goto out;
		}
		recovered += r;
	}
	sweep_tmp(q, now);
out:
	bk_names_free(names, n);
	free(claimed);
	return recovered;
}

int bk_job_sweep(const char *job_dir, struct bk_error *err)
{
	char *work = bk_path_join(job_dir, "work");
	struct stat st;
	int n, w = 0;

	if (!work)
		return bk_error_set(err, "out of memory");
	n = bk_atomic_sweep(job_dir, err);
	if (n >= 0 && stat(work, &st) == 0)
		w = bk_atomic_sweep(work, err);
	free(work);
	return n < 0 || w < 0 ? -1 : n + w;
}

/* ---- listing ---------------------------------------------------------- */

const char *bk_job_state_name(enum bk_job_state s)
{
	static const char *const names[] = { "queued", "running", "done", "failed" };
	return (unsigned)s < 4 ? names[s] : "?";
}

int bk_queue_foreach(struct bk_queue *q,
		     int (*fn)(enum bk_job_state state, const char *job_id,
			       const char *dir, const char *owner, void *ud),
		     void *ud, struct bk_error *err)
{
	static const char *const subs[] = { "incoming", "claimed", "done", "failed" };
	int rc = 0;

	for (int s = 0; s < 4 && rc == 0; s++) {
		char *d = bk_queue_path(q, subs[s], NULL);
		char **names = NULL;
		size_t n = 0;
		if (!d)
			return bk_error_set(err, "out of memory");
		if (bk_list_dir(d, &names, &n, err)) {
			free(d);
			return -1;
		}
		for (size_t i = 0; i < n && rc == 0; i++) {
			char *dir = bk_path_join(d, names[i]);
			char *job = NULL, *host = NULL;
			long pid = 0;
			const char *owner = NULL;
			if (!dir) {
				rc = bk_error_set(err, "out of memory");
				break;
			}
			if (s == BK_JOB_RUNNING) {
				if (bk_claim_name_parse(names[i], &job, &host, &pid)) {
					free(dir);
					continue;
				}
				owner = strchr(names[i], '@') + 1;
			}
			rc = fn((enum bk_job_state)s, job ? job : names[i], dir, owner, ud);
			free(job);
			free(host);
			free(dir);
		}
		bk_names_free(names, n);
		free(d);
	}
	return rc;
}

/* ---- progress --------------------------------------------------------- */

void bk_job_progress_init(struct bk_job_progress *p)
{
	memset(p, 0, sizeof(*p));
}

void bk_job_progress_release(struct bk_job_progress *p)
{
	free(p->next_file);
	bk_job_skips_free(&p->missing, &p->nmissing);
	bk_job_progress_init(p);
}

int bk_job_progress_read(struct bk_job_progress *p, const char *job_dir,
			 struct bk_error *err)
{
	struct bk_record *r = NULL;
	char *path = NULL;
	struct stat st;
	int rc = -1;

	bk_job_progress_init(p);
	if (asprintf(&path, "%s/work/progress", job_dir) < 0)
		return bk_error_set(err, "out of memory");
	if (stat(path, &st) && errno == ENOENT) {
		rc = 0;
		goto out;
	}
	if (bk_record_read(&r, path, "bunko-progress", err) ||
	    bk_record_check_types(r, path, "source_done:i logical_pages:i "
				  "next_file:s next_page:i missing:o", err) ||
	    skips_from_record(r, "missing", path, &p->missing, &p->nmissing, err))
		goto out;
	bk_record_int(r, "source_done", &p->source_done);
	bk_record_int(r, "logical_pages", &p->logical_pages);
	bk_record_int(r, "next_page", &p->next_page);
	if (set_str(&p->next_file, bk_record_str(r, "next_file"))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (rc)
		bk_job_progress_release(p);
	bk_record_free(&r);
	free(path);
	return rc;
}

int bk_job_progress_write(const struct bk_job_progress *p, const char *job_dir,
			  struct bk_error *err)
{
	struct bk_record *r = NULL;
	char *path = NULL;
	int rc = -1;

	if (bk_job_work_dir(job_dir, err))
		return -1;
	if (asprintf(&path, "%s/work/progress", job_dir) < 0) {
		path = NULL;
		bk_error_set(err, "out of memory");
		goto out;
	}
	r = bk_record_new("bunko-progress");
	if (!r || bk_record_set_int(r, "source_done", p->source_done) ||
	    bk_record_set_int(r, "logical_pages", p->logical_pages) ||
	    bk_record_set_str(r, "next_file", p->next_file) ||
	    bk_record_set_int(r, "next_page", p->next_page) ||
	    skips_to_record(r, "missing", p->missing, p->nmissing)) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	rc = bk_record_write(r, path, err);
out:
	bk_record_free(&r);
	free(path);
	return rc;
}
