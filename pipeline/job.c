/*
 * pipeline/job.c — running one queued job: OCR with per-page checkpoints,
 * then building, storing and indexing the document from the checkpoints,
 * then recording the result and dropping what the store now holds. The
 * checkpoint and finishing protocols and the idempotence argument are in
 * process.h.
 */
#include "pipeline/process.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/atomic.h"
#include "archive/pdf.h"
#include "archive/store.h"
#include "index/index.h"
#include "ocr/sidecar.h"
#include "pipeline/record.h"

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_failure(struct bk_job_failure *fail, const char *file, int page)
{
	snprintf(fail->file, sizeof(fail->file), "%s", file ? file : "");
	fail->page = page;
}

/* ---- phase 1: OCR into checkpoints ------------------------------------ */

struct checkpoint_sink {
	const char *job_dir;
	int next_number; /* logical number of the next page emitted */
};

static int emit_checkpoint(void *ud, const struct bk_page *page,
			   const struct bk_encoded_image *img, struct bk_error *err)
{
	struct checkpoint_sink *s = ud;
	if (bk_checkpoint_write(s->job_dir, s->next_number, page, img, err))
		return -1;
	s->next_number++;
	return 0;
}

/* Pages of each file, counted by opening them (structure only). */
static int count_pages(const char *job_dir, const struct bk_job_meta *m,
		       int *counts, int *total, struct bk_job_failure *fail,
		       struct bk_error *err)
{
	*total = 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		struct bk_source *src = NULL;
		char *path = bk_job_input_path(job_dir, m->files[i]);
		int rc;
		if (!path)
			return bk_error_set(err, "out of memory");
		rc = bk_source_open(&src, path, m->files[i], 0, err);
		free(path);
		if (rc) {
			set_failure(fail, m->files[i], 0);
			return -1;
		}
		counts[i] = bk_source_page_count(src);
		*total += counts[i];
		bk_source_free(&src);
	}
	return 0;
}

static int progress_save(const char *job_dir, int source_done, int logical,
			 const struct bk_job_meta *m, const int *counts,
			 struct bk_error *err)
{
	struct bk_job_progress p;
	int g = 0;

	bk_job_progress_init(&p);
	p.source_done = source_done;
	p.logical_pages = logical;
	for (size_t i = 0; i < m->nfiles; i++) {
		if (source_done < g + counts[i]) {
			p.next_file = m->files[i];
			p.next_page = source_done - g + 1;
			break;
		}
		g += counts[i];
	}
	int rc = bk_job_progress_write(&p, job_dir, err);
	p.next_file = NULL; /* borrowed */
	return rc;
}

/* Returns 0 all pages checkpointed, 1 stopped, -1 failed. *logical is the
 * document's page count so far. */
static int ocr_pages(struct bk_job_context *ctx, const char *job_dir,
		     const struct bk_job_meta *m, const int *counts, int total,
		     int *logical, struct bk_job_failure *fail, struct bk_error *err)
{
	struct bk_job_progress prog;
	struct bk_process_options opt = { .lang = m->lang, .profile = m->profile,
					  .bilevel = m->bilevel };
	struct checkpoint_sink sink = { job_dir, 1 };
	int g = 0, rc = -1;
	int mode = m->ocr ? bk_ocr_mode_parse(m->ocr) : BK_OCR_AUTO;

	if (mode < 0)
		return bk_error_set(err, "'%s/job.meta': unknown --ocr mode '%s'", job_dir, m->ocr);
	opt.ocr = mode;
	if (m->old_print && bk_old_print_parse(m->old_print, &opt.old_print))
		return bk_error_set(err, "'%s/job.meta': unknown --old-print mode '%s'",
				    job_dir, m->old_print);

	bk_job_progress_init(&prog);
	if (bk_job_progress_read(&prog, job_dir, err))
		return -1;
	sink.next_number = prog.logical_pages + 1;
	if (prog.source_done == 0 && progress_save(job_dir, 0, 0, m, counts, err))
		goto out;
	for (size_t i = 0; i < m->nfiles; g += counts[i], i++) {
		struct bk_source *src = NULL;
		char *path = NULL;
		if (g + counts[i] <= prog.source_done)
			continue; /* checkpointed by an earlier run */
		if (!(path = bk_job_input_path(job_dir, m->files[i]))) {
			bk_error_set(err, "out of memory");
			goto out;
		}
		int r = bk_source_open(&src, path, m->files[i], opt.max_pixels, err);
		free(path);
		if (r) {
			set_failure(fail, m->files[i], 0);
			goto out;
		}
		for (int p = prog.source_done - g > 0 ? prog.source_done - g : 0;
		     p < counts[i]; p++) {
			double t0 = now_seconds();
			int n = 0;
			if (ctx->should_stop && ctx->should_stop(ctx->ud)) {
				bk_source_free(&src);
				rc = 1;
				goto out;
			}
			r = bk_process_source_page(ctx->engine, src, p, &opt,
						   sink.next_number, emit_checkpoint,
						   &sink, &n, err);
			ctx->pages_read++;
			if (r == 0)
				r = progress_save(job_dir, g + p + 1,
						  sink.next_number - 1, m, counts, err);
			bk_log_line(ctx->log_fd, "job=%s page=%d/%d seconds=%.2f result=%s worker=%s",
				    m->id, g + p + 1, total, now_seconds() - t0,
				    r ? "error" : "ok", ctx->worker ? ctx->worker : "-");
			if (r) {
				set_failure(fail, m->files[i], p + 1);
				bk_source_free(&src);
				goto out;
			}
		}
		bk_source_free(&src);
	}
	*logical = sink.next_number - 1;
	rc = 0;
out:
	bk_job_progress_release(&prog);
	return rc;
}

/* ---- phase 2: the document -------------------------------------------- */

static char *utc_now(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return strdup(buf);
}

static int doc_meta_from_job(struct bk_doc_meta *d, const struct bk_job_meta *m,
			     int npages, struct bk_error *err)
{
	bk_doc_meta_init(d);
	if (bk_doc_meta_set(&d->id, m->id, err) ||
	    bk_doc_meta_set(&d->collection, m->collection, err) ||
	    bk_doc_meta_set(&d->title, m->title, err) ||
	    bk_doc_meta_set(&d->date, m->date, err) ||
	    bk_doc_meta_set(&d->lang, m->lang ? m->lang : "auto", err) ||
	    bk_doc_meta_set(&d->software, "bunko " BUNKO_VERSION, err))
		goto fail;
	d->box = m->box > 0 ? m->box : -1;
	d->volume = m->volume > 0 ? m->volume : -1;
	d->profile = m->profile;
	d->access = m->access;
	d->npages = npages;
	d->created = utc_now();
	if (!d->created) {
		bk_error_set(err, "out of memory");
		goto fail;
	}
	return 0;
fail:
	bk_doc_meta_release(d);
	return -1;
}

/* The open outputs of a document being built. */
struct doc_build {
	struct bk_doc_stage *stage;
	struct bk_pdf_writer *pdf;
	FILE *text, *hocr, *alto;
	char *text_path, *hocr_path, *alto_path;
	char **texts; /* per page, for the index */
	int npages;
};

static void doc_build_release(struct doc_build *b)
{
	bk_pdf_writer_abort(&b->pdf);
	if (b->text)
		fclose(b->text);
	if (b->hocr)
		fclose(b->hocr);
	if (b->alto)
		fclose(b->alto);
	bk_store_abandon(&b->stage);
	free(b->text_path);
	free(b->hocr_path);
	free(b->alto_path);
	for (int i = 0; b->texts && i < b->npages; i++)
		free(b->texts[i]);
	free(b->texts);
	memset(b, 0, sizeof(*b));
}

static FILE *open_payload(struct doc_build *b, const char *rel, char **path,
			  struct bk_error *err)
{
	FILE *fp;
	*path = bk_doc_stage_path(b->stage, rel);
	if (!*path) {
		bk_error_set(err, "cannot create '%s' in the staging area: %s", rel,
			     strerror(errno));
		return NULL;
	}
	int fd = bk_create_file(*path, O_TRUNC, err); /* the bag's mode */
	if (fd < 0)
		return NULL;
	fp = fdopen(fd, "w");
	if (!fp) {
		bk_error_set(err, "cannot create '%s': %s", *path, strerror(errno));
		close(fd);
	}
	return fp;
}

static int close_payload(FILE **fp, const char *path, struct bk_error *err)
{
	int bad = ferror(*fp);
	if (fclose(*fp))
		bad = 1;
	*fp = NULL;
	return bad ? bk_error_set(err, "cannot write '%s': %s", path,
				  strerror(errno ? errno : EIO))
		   : 0;
}

static int add_page(struct doc_build *b, const char *job_dir, int n,
		    struct bk_error *err)
{
	struct bk_page page;
	struct bk_encoded_image img;
	char rel[64], *page_path = NULL;
	FILE *fp = NULL;
	int rc = -1;

	if (bk_checkpoint_read(job_dir, n, &page, &img, err))
		return -1;
	if (bk_pdf_writer_add_page(b->pdf, &img, &page, err))
		goto out;
	b->texts[n - 1] = bk_page_text(&page);
	if (!b->texts[n - 1]) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (n > 1)
		fputc('\f', b->text);
	fputs(b->texts[n - 1], b->text);
	if (bk_hocr_page(b->hocr, &page)) {
		bk_error_set(err, "cannot write '%s'", b->hocr_path);
		goto out;
	}
	if (bk_alto_page(b->alto, &page)) {
		bk_error_set(err, "cannot write '%s'", b->alto_path);
		goto out;
	}
	snprintf(rel, sizeof(rel), "data/pages/%04d.page", n);
	fp = open_payload(b, rel, &page_path, err);
	if (!fp)
		goto out;
	if (bk_page_write(&page, fp)) {
		bk_error_set(err, "cannot write '%s'", page_path);
		goto out;
	}
	if (close_payload(&fp, page_path, err))
		goto out;
	rc = 0;
out:
	if (fp)
		fclose(fp);
	free(page_path);
	bk_page_release(&page);
	bk_encoded_image_release(&img);
	return rc;
}

static int index_document(struct bk_job_context *ctx, const struct bk_job_meta *m,
			  struct doc_build *b, struct bk_error *err)
{
	struct bk_index *idx = NULL;
	char *index_dir = NULL, *pdf = NULL;
	int rc = -1;

	if (asprintf(&index_dir, "%s/index", ctx->archive) < 0 ||
	    asprintf(&pdf, "store/%s/%s/data/document.pdf", m->collection, m->id) < 0) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	struct bk_index_doc doc = {
		.id = m->id, .collection = m->collection, .title = m->title,
		.date = m->date, .pdf = pdf, .profile = m->profile,
		.access = m->access, .page_texts = (const char *const *)b->texts,
		.npages = b->npages,
	};
	if (bk_index_open(&idx, index_dir, BK_ROLE_ADMIN, true, err) ||
	    bk_index_put(idx, &doc, err))
		goto out;
	rc = 0;
out:
	bk_index_free(&idx);
	free(index_dir);
	free(pdf);
	return rc;
}

static int build_document(struct bk_job_context *ctx, const char *job_dir,
			  const struct bk_job_meta *m, int npages,
			  struct bk_error *err)
{
	struct doc_build b = { 0 };
	struct bk_doc_meta dm;
	struct bk_pdf_meta pm;
	char *pdf_path = NULL;
	int rc = -1;

	if (npages == 0)
		return bk_error_set(err, "job %s: no pages", m->id);
	if (doc_meta_from_job(&dm, m, npages, err))
		return -1;
	if (bk_store_stage(ctx->store, &dm, &b.stage, err))
		goto out;
	for (size_t i = 0; i < m->nfiles; i++) {
		char *src = bk_job_input_path(job_dir, m->files[i]);
		if (!src) {
			bk_error_set(err, "out of memory");
			goto out;
		}
		int r = bk_doc_stage_add_master(b.stage, src, err);
		free(src);
		if (r)
			goto out;
	}
	bk_pdf_meta_init(&pm);
	pm.title = m->title;
	pm.collection = m->collection;
	pm.date = m->date;
	pm.source = m->files[0];
	pm.creator = "bunko " BUNKO_VERSION;
	pdf_path = bk_doc_stage_path(b.stage, "data/document.pdf");
	if (!pdf_path) {
		bk_error_set(err, "cannot create 'data/document.pdf' in the staging area: %s",
			     strerror(errno));
		goto out;
	}
	if (bk_pdf_writer_open(&b.pdf, pdf_path, &pm, err))
		goto out;
	if (!(b.text = open_payload(&b, "data/text.txt", &b.text_path, err)) ||
	    !(b.hocr = open_payload(&b, "data/document.hocr", &b.hocr_path, err)) ||
	    !(b.alto = open_payload(&b, "data/document.alto.xml", &b.alto_path, err)))
		goto out;
	b.texts = calloc((size_t)npages, sizeof(*b.texts));
	if (!b.texts) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	b.npages = npages;
	if (bk_hocr_begin(b.hocr, m->title ? m->title : m->id)) {
		bk_error_set(err, "cannot write '%s'", b.hocr_path);
		goto out;
	}
	if (bk_alto_begin(b.alto, m->files[0])) {
		bk_error_set(err, "cannot write '%s'", b.alto_path);
		goto out;
	}
	for (int n = 1; n <= npages; n++)
		if (add_page(&b, job_dir, n, err))
			goto out;
	if (bk_hocr_end(b.hocr)) {
		bk_error_set(err, "cannot write '%s'", b.hocr_path);
		goto out;
	}
	if (bk_alto_end(b.alto)) {
		bk_error_set(err, "cannot write '%s'", b.alto_path);
		goto out;
	}
	if (bk_pdf_writer_close(&b.pdf, err) ||
	    close_payload(&b.text, b.text_path, err) ||
	    close_payload(&b.hocr, b.hocr_path, err) ||
	    close_payload(&b.alto, b.alto_path, err))
		goto out;
	bk_doc_stage_meta(b.stage)->npages = npages;
	if (bk_store_commit(&b.stage, err))
		goto out;
	if (!ctx->no_index && index_document(ctx, m, &b, err))
		goto out;
	rc = 0;
out:
	free(pdf_path);
	doc_build_release(&b);
	bk_doc_meta_release(&dm);
	return rc;
}

/* ---- phase 3: finishing (process.h, "Finishing") ----------------------- */

static char *result_path(const char *job_dir)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", job_dir, BK_JOB_RESULT) < 0)
		return NULL;
	return p;
}

static bool has_result(const char *job_dir)
{
	char *path = result_path(job_dir);
	struct stat st;
	bool found = path && stat(path, &st) == 0;
	free(path);
	return found;
}

static int write_result(const struct bk_job_context *ctx, const char *job_dir,
			const struct bk_job_meta *m, int source_pages, int pages,
			double seconds, struct bk_error *err)
{
	char *path = result_path(job_dir), *finished = utc_now(), *store = NULL;
	struct bk_record *r = bk_record_new("bunko-result");
	int rc = -1;

	if (!path || !finished || !r ||
	    asprintf(&store, "store/%s/%s", m->collection, m->id) < 0) {
		store = NULL;
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (bk_record_set_str(r, "doc", m->id) ||
	    bk_record_set_str(r, "collection", m->collection) ||
	    bk_record_set_str(r, "store", store) || bk_record_set_int(r, "pages", pages) ||
	    bk_record_set_int(r, "source_pages", source_pages) ||
	    bk_record_set_real(r, "seconds", round(seconds * 100) / 100) ||
	    bk_record_set_bool(r, "indexed", !ctx->no_index) ||
	    bk_record_set_str(r, "finished", finished)) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	rc = bk_record_write(r, path, err);
out:
	bk_record_free(&r);
	free(store);
	free(finished);
	free(path);
	return rc;
}

static int unlink_quiet(const char *path, struct bk_error *err)
{
	if (unlink(path) == 0 || errno == ENOENT)
		return 0;
	return bk_error_set(err, "cannot remove '%s': %s", path, strerror(errno));
}

/* Deletes the inputs (now the document's masters) and the page checkpoints;
 * keeps job.meta, result and work/progress. Idempotent. */
static int drop_job_payload(const char *job_dir, const struct bk_job_meta *m,
			    struct bk_error *err)
{
	char *work = NULL;
	DIR *d = NULL;
	struct dirent *de;
	int rc = -1;

	for (size_t i = 0; i < m->nfiles; i++) {
		char *path = bk_job_input_path(job_dir, m->files[i]);
		if (!path)
			return bk_error_set(err, "out of memory");
		int r = unlink_quiet(path, err);
		free(path);
		if (r)
			return -1;
	}
	if (asprintf(&work, "%s/input", job_dir) < 0)
		return bk_error_set(err, "out of memory");
	if (rmdir(work) && errno != ENOENT) {
		bk_error_set(err, "cannot remove '%s': %s", work, strerror(errno));
		goto out;
	}
	free(work);
	if (asprintf(&work, "%s/work", job_dir) < 0) {
		work = NULL;
		return bk_error_set(err, "out of memory");
	}
	d = opendir(work);
	if (!d && errno != ENOENT) {
		bk_error_set(err, "cannot open '%s': %s", work, strerror(errno));
		goto out;
	}
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, "progress"))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) && errno != ENOENT) {
			bk_error_set(err, "cannot remove '%s/%s': %s", work, de->d_name,
				     strerror(errno));
			goto out;
		}
	}
	if (bk_fsync_dir(job_dir, err) || (d && bk_fsync_dir(work, err)))
		goto out;
	rc = 0;
out:
	if (d)
		closedir(d);
	free(work);
	return rc;
}

int bk_job_run(struct bk_job_context *ctx, const char *job_dir,
	       struct bk_job_failure *fail, struct bk_error *err)
{
	struct bk_job_meta m;
	char *meta_path = NULL;
	int *counts = NULL, total = 0, logical = 0, rc = -1;
	double t0 = now_seconds();

	set_failure(fail, NULL, 0);
	bk_job_meta_init(&m);
	if (asprintf(&meta_path, "%s/job.meta", job_dir) < 0) {
		meta_path = NULL;
		return bk_error_set(err, "out of memory");
	}
	if (bk_job_meta_read(&m, meta_path, err))
		goto out;
	if (bk_job_sweep(job_dir, err) < 0)
		goto out;
	if (has_result(job_dir)) {
		/* stored (and indexed) by an earlier run that did not get to
		 * move the job to done/: finish what it started */
		if (drop_job_payload(job_dir, &m, err))
			goto out;
		bk_log_line(ctx->log_fd, "job=%s result=done recorded=earlier worker=%s",
			    m.id, ctx->worker ? ctx->worker : "-");
		rc = 0;
		goto out;
	}
	counts = calloc(m.nfiles, sizeof(*counts));
	if (!counts) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (count_pages(job_dir, &m, counts, &total, fail, err))
		goto out;
	rc = ocr_pages(ctx, job_dir, &m, counts, total, &logical, fail, err);
	if (rc != 0)
		goto out;
	rc = -1;
	if (build_document(ctx, job_dir, &m, logical, err))
		goto out;
	/* the record first: once it exists, a re-run needs nothing else */
	if (write_result(ctx, job_dir, &m, total, logical, now_seconds() - t0, err) ||
	    drop_job_payload(job_dir, &m, err))
		goto out;
	bk_log_line(ctx->log_fd, "job=%s pages=%d documentpages=%d seconds=%.2f result=done worker=%s",
		    m.id, total, logical, now_seconds() - t0,
		    ctx->worker ? ctx->worker : "-");
	rc = 0;
out:
	if (rc < 0)
		bk_log_line(ctx->log_fd, "job=%s result=failed worker=%s reason=%s",
			    m.id ? m.id : job_dir, ctx->worker ? ctx->worker : "-",
			    err->msg);
	free(counts);
	free(meta_path);
	bk_job_meta_release(&m);
	return rc;
}
