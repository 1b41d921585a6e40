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

#include "bunko/atomic.h"
#include "archive/pdf.h"
#include "archive/store.h"
#include "bunko/fs.h"
#include "index/index.h"
#include "ocr/sidecar.h"
#include "bunko/record.h"
#include "bunko/stamp.h"

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

void bk_job_failure_release(struct bk_job_failure *fail)
{
	bk_job_skips_free(&fail->missing, &fail->nmissing);
	set_failure(fail, NULL, 0);
}

int bk_page_time_limit(long long page_bytes)
{
	long long limit = BK_PAGE_LIMIT_BASE +
			  BK_PAGE_LIMIT_PER_MB * (page_bytes / (1024 * 1024));
	return limit > BK_PAGE_LIMIT_MAX ? BK_PAGE_LIMIT_MAX : (int)limit;
}

/* Fencing: fails (and marks the run lost) once the claim is no longer
 * ours, so nothing more is written (pipeline/queue.c). */
static int fence(struct bk_job_context *ctx, struct bk_error *err)
{
	if (!ctx->claim || bk_claim_owned(ctx->claim))
		return 0;
	ctx->lost = true;
	return bk_error_set(err, "job %s: claim lost (lease expired and the job was "
			    "taken over)", ctx->claim->job_id);
}

/* ---- phase 1: OCR into checkpoints ------------------------------------ */

struct checkpoint_sink {
	struct bk_job_context *ctx;
	const char *job_dir;
	int next_number; /* logical number of the next page emitted */
	bool failed;     /* a checkpoint could not be written: not the page's fault */
};

static int emit_checkpoint(void *ud, const struct bk_page *page,
			   const struct bk_encoded_image *img, struct bk_error *err)
{
	struct checkpoint_sink *s = ud;
	if (fence(s->ctx, err) ||
	    bk_checkpoint_write(s->job_dir, s->next_number, page, img, err)) {
		s->failed = true;
		return -1;
	}
	s->next_number++;
	return 0;
}

/* What each input file holds: its page count, or why it cannot be opened
 * (then it counts as one source page: the place of its placeholder). */
struct file_pages {
	int count;
	char *bad;      /* NULL: readable */
	long long size; /* bytes */
};

static void file_pages_free(struct file_pages *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++)
		free(f[i].bad);
	free(f);
}

/* Pages of each file, counted by opening them (structure only); a file
 * that cannot be opened is noted, not fatal. */
static int count_pages(const char *job_dir, const struct bk_job_meta *m,
		       struct file_pages *files, int *total, struct bk_error *err)
{
	*total = 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		struct bk_source *src = NULL;
		struct bk_error why;
		struct stat st;
		char *path = bk_job_input_path(job_dir, m->files[i]);
		if (!path)
			return bk_error_set(err, "out of memory");
		bk_error_init(&why);
		files[i].size = stat(path, &st) == 0 ? (long long)st.st_size : 0;
		int rc = bk_source_open(&src, path, m->files[i], 0, &why);
		free(path);
		if (rc == 0 && bk_source_page_count(src) <= 0)
			rc = bk_error_set(&why, "'%s': no pages", m->files[i]);
		if (rc) {
			files[i].count = 1;
			if (!(files[i].bad = strdup(why.msg[0] ? why.msg : "cannot be read")))
				return bk_error_set(err, "out of memory");
		} else {
			files[i].count = bk_source_page_count(src);
		}
		*total += files[i].count;
		bk_source_free(&src);
	}
	return 0;
}

static int progress_save(const char *job_dir, struct bk_job_progress *p, int source_done,
			 int logical, const struct bk_job_meta *m,
			 const struct file_pages *files, struct bk_error *err)
{
	int g = 0;

	p->source_done = source_done;
	p->logical_pages = logical;
	free(p->next_file);
	p->next_file = NULL;
	p->next_page = 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		if (source_done < g + files[i].count) {
			if (!(p->next_file = strdup(m->files[i])))
				return bk_error_set(err, "out of memory");
			p->next_page = files[i].bad ? 0 : source_done - g + 1;
			break;
		}
		g += files[i].count;
	}
	return bk_job_progress_write(p, job_dir, err);
}

/* The reason without the file and page it names first ("'x.tif' page 2: "
 * or "'x.tif': "), which the list of missing pages gives apart. */
static const char *bare_reason(const char *msg, const char *file)
{
	size_t n = strlen(file);
	if (msg[0] != '\'' || strncmp(msg + 1, file, n) || msg[n + 1] != '\'')
		return msg;
	const char *p = msg + n + 2;
	if (!strncmp(p, " page ", 6)) {
		p += 6;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p[0] == ':' && p[1] == ' ' ? p + 2 : msg;
}

/* "'x.tif' page 2" or "'x.tif' (the whole file)". */
static char *skip_place(const struct bk_job_skip *k)
{
	char *s = NULL;
	int r = k->page > 0 ? asprintf(&s, "'%s' page %d", k->file, k->page)
			    : asprintf(&s, "'%s' (the whole file)", k->file);
	return r < 0 ? NULL : s;
}

/* "'x.tif' page 2: reason" for each missing page, for the record and the
 * document's metadata; NULL when out of memory. */
static char *skip_line(const struct bk_job_skip *k)
{
	char *place = skip_place(k), *line = NULL;
	if (place && asprintf(&line, "%s: %s", place, k->reason) < 0)
		line = NULL;
	free(place);
	return line;
}

#define NOTE_LINES_MAX 12  /* of the reason, on a placeholder page */
#define NOTE_LINE_BYTES 64

/* Records page `index` as missing and checkpoints a placeholder page in
 * its place that says what is missing and why. */
static int skip_page(struct checkpoint_sink *sink, struct bk_job_progress *prog,
		     int index, const char *file, int page, const char *reason,
		     struct bk_error *err)
{
	struct bk_image *img = NULL, *bw = NULL;
	struct bk_encoded_image enc = { 0 };
	struct bk_page model;
	char *place = NULL, *why = NULL;
	int rc = -1;

	bk_page_init(&model);
	if (bk_job_skip_add(&prog->missing, &prog->nmissing, index, file, page,
			    bare_reason(reason, file)))
		return bk_error_set(err, "out of memory");
	const struct bk_job_skip *k = &prog->missing[prog->nmissing - 1];
	place = skip_place(k);
	if (!place || asprintf(&why, "Reason: %s", k->reason) < 0) {
		why = NULL;
		bk_error_set(err, "out of memory");
		goto out;
	}
	/* the reason wrapped at spaces (or, in a long word, between
	 * characters) into lines that fit the page */
	const char *lines[NOTE_LINES_MAX + 8];
	char chunks[NOTE_LINES_MAX][NOTE_LINE_BYTES + 1];
	size_t nl = 0, nc = 0;
	lines[nl++] = "MISSING FROM THIS DOCUMENT";
	lines[nl++] = "";
	lines[nl++] = place;
	lines[nl++] = "could not be processed and is not in this document.";
	for (const char *p = why; *p && nc < NOTE_LINES_MAX; nc++) {
		size_t n = strlen(p);
		if (n > NOTE_LINE_BYTES) {
			n = NOTE_LINE_BYTES;
			while (n > NOTE_LINE_BYTES / 2 && p[n] != ' ')
				n--;
			if (p[n] != ' ')
				for (n = NOTE_LINE_BYTES; n > 0 && ((unsigned char)p[n] & 0xc0) == 0x80;)
					n--;
		}
		memcpy(chunks[nc], p, n);
		chunks[nc][n] = '\0';
		lines[nl++] = chunks[nc];
		p += n;
		while (*p == ' ')
			p++;
	}
	lines[nl++] = "";
	lines[nl++] = "The master file is kept as it was received.";
	if (bk_render_note_page(lines, nl, &img, &model, err))
		goto out;
	bw = bk_image_depth(img) == 1 ? NULL : bk_image_binarize(img, BK_BINARIZE_OTSU, err);
	if (bk_image_depth(img) != 1 && !bw)
		goto out;
	if (bk_image_encode(bw ? bw : img, BK_ENC_G4, 0, &enc, err))
		goto out;
	model.number = sink->next_number;
	if (emit_checkpoint(sink, &model, &enc, err))
		goto out;
	bk_log_line(sink->ctx->log_fd, "job=%s event=missing %s reason=%s worker=%s",
		    sink->ctx->claim ? sink->ctx->claim->job_id : "-", place, k->reason,
		    sink->ctx->worker ? sink->ctx->worker : "-");
	rc = 0;
out:
	bk_encoded_image_release(&enc);
	bk_page_release(&model);
	bk_image_free(&bw);
	bk_image_free(&img);
	free(place);
	free(why);
	return rc;
}

static const struct bk_job_skip *quarantined(const struct bk_job_meta *m, int index)
{
	for (size_t i = 0; i < m->nquarantine; i++)
		if (m->quarantine[i].index == index)
			return &m->quarantine[i];
	return NULL;
}

/* A page (index; file NULL: the document build) begins: the claim's page
 * record, and the heartbeat thread learns its limit. */
static int begin_page(struct bk_job_context *ctx, int index, const char *file, int page,
		      int limit, struct bk_error *err)
{
	if (fence(ctx, err))
		return -1;
	if (ctx->claim && bk_claim_page_write(ctx->claim, index, file, page, limit, err))
		return -1;
	if (ctx->page_begin)
		ctx->page_begin(ctx->ud, limit);
	return 0;
}

/* Returns 0 all pages checkpointed, 1 stopped, -1 failed. *logical is the
 * document's page count so far; *good how many source pages were read. */
static int ocr_pages(struct bk_job_context *ctx, const char *job_dir,
		     const struct bk_job_meta *m, const struct file_pages *files,
		     int total, int *logical, struct bk_job_progress *prog,
		     struct bk_job_failure *fail, struct bk_error *err)
{
	struct bk_process_options opt = { .lang = m->lang, .profile = m->profile,
					  .bilevel = m->bilevel, .dpi = m->dpi };
	struct checkpoint_sink sink = { ctx, job_dir, 1, false };
	int g = 0, rc = -1;
	int mode = m->ocr ? bk_ocr_mode_parse(m->ocr) : BK_OCR_AUTO;

	if (mode < 0)
		return bk_error_set(err, "'%s/job.meta': unknown --ocr mode '%s'", job_dir, m->ocr);
	opt.ocr = mode;
	if (m->old_print && bk_old_print_parse(m->old_print, &opt.old_print))
		return bk_error_set(err, "'%s/job.meta': unknown --old-print mode '%s'",
				    job_dir, m->old_print);

	if (bk_job_progress_read(prog, job_dir, err))
		return -1;
	sink.next_number = prog->logical_pages + 1;
	if (prog->source_done == 0 &&
	    (fence(ctx, err) || progress_save(job_dir, prog, 0, 0, m, files, err)))
		goto out;
	for (size_t i = 0; i < m->nfiles; g += files[i].count, i++) {
		struct bk_source *src = NULL;
		struct bk_error why;
		char *path = NULL;
		if (g + files[i].count <= prog->source_done)
			continue; /* checkpointed by an earlier run */
		bk_error_init(&why);
		if (files[i].bad) {
			if (skip_page(&sink, prog, g, m->files[i], 0, files[i].bad, err) ||
			    progress_save(job_dir, prog, g + 1, sink.next_number - 1, m,
					  files, err)) {
				set_failure(fail, m->files[i], 0);
				goto out;
			}
			continue;
		}
		if (!(path = bk_job_input_path(job_dir, m->files[i]))) {
			bk_error_set(err, "out of memory");
			goto out;
		}
		int r = bk_source_open(&src, path, m->files[i], opt.max_pixels, &why);
		free(path);
		int limit = ctx->page_timeout > 0
				    ? ctx->page_timeout
				    : bk_page_time_limit(files[i].size / files[i].count);
		for (int p = prog->source_done - g > 0 ? prog->source_done - g : 0;
		     p < files[i].count; p++) {
			const struct bk_job_skip *q = quarantined(m, g + p);
			double t0 = now_seconds();
			int n = 0;
			if (ctx->should_stop && ctx->should_stop(ctx->ud)) {
				bk_source_free(&src);
				rc = 1;
				goto out;
			}
			if (q || r) {
				r = skip_page(&sink, prog, g + p, m->files[i], p + 1,
					      q ? q->reason : why.msg, err);
			} else {
				sink.failed = false;
				r = begin_page(ctx, g + p, m->files[i], p + 1, limit, err);
				if (r == 0)
					r = bk_process_source_page(ctx->engine, src, p, &opt,
								   sink.next_number,
								   emit_checkpoint, &sink, &n,
								   err);
				ctx->pages_read++;
				if (r && !sink.failed && !ctx->lost) {
					/* the page itself is bad: named, and the rest goes on */
					why = *err;
					r = skip_page(&sink, prog, g + p, m->files[i], p + 1,
						      why.msg, err);
				}
			}
			if (r == 0)
				r = progress_save(job_dir, prog, g + p + 1,
						  sink.next_number - 1, m, files, err);
			bk_log_line(ctx->log_fd, "job=%s page=%d/%d seconds=%.2f result=%s worker=%s",
				    m->id, g + p + 1, total, now_seconds() - t0,
				    r ? "error" : "ok", ctx->worker ? ctx->worker : "-");
			if (r) {
				set_failure(fail, m->files[i], p + 1);
				bk_source_free(&src);
				goto out;
			}
			r = src ? 0 : -1; /* an unopened file stays unopened */
		}
		bk_source_free(&src);
	}
	*logical = sink.next_number - 1;
	rc = 0;
out:
	return rc;
}

/* ---- phase 2: the document -------------------------------------------- */

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
	d->created = bk_utc_now();
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
	struct bk_xml *hocr_xml, *alto_xml; /* the sidecars' writers */
	char *text_path, *hocr_path, *alto_path;
	char **texts; /* per page, for the index */
	int npages;
};

static void doc_build_release(struct doc_build *b)
{
	bk_pdf_writer_abort(&b->pdf);
	bk_xml_free(&b->hocr_xml);
	bk_xml_free(&b->alto_xml);
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
	if (bk_hocr_page(b->hocr_xml, &page)) {
		bk_error_set(err, "cannot write '%s'", b->hocr_path);
		goto out;
	}
	if (bk_alto_page(b->alto_xml, &page)) {
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

	if (!(index_dir = bk_path_join(ctx->archive, "index")) ||
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
			  const struct bk_job_progress *prog, struct bk_error *err)
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
	for (size_t i = 0; i < prog->nmissing; i++) {
		char *line = skip_line(&prog->missing[i]);
		if (!line || bk_doc_meta_add_missing(&dm, line, err)) {
			if (!line)
				bk_error_set(err, "out of memory");
			free(line);
			goto out;
		}
		free(line);
	}
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
	if (bk_hocr_begin(&b.hocr_xml, b.hocr, m->title ? m->title : m->id)) {
		bk_error_set(err, "cannot write '%s'", b.hocr_path);
		goto out;
	}
	if (bk_alto_begin(&b.alto_xml, b.alto, m->files[0])) {
		bk_error_set(err, "cannot write '%s'", b.alto_path);
		goto out;
	}
	for (int n = 1; n <= npages; n++)
		if (add_page(&b, job_dir, n, err))
			goto out;
	if (bk_hocr_end(&b.hocr_xml)) {
		bk_error_set(err, "cannot write '%s'", b.hocr_path);
		goto out;
	}
	if (bk_alto_end(&b.alto_xml)) {
		bk_error_set(err, "cannot write '%s'", b.alto_path);
		goto out;
	}
	if (bk_pdf_writer_close(&b.pdf, err) ||
	    close_payload(&b.text, b.text_path, err) ||
	    close_payload(&b.hocr, b.hocr_path, err) ||
	    close_payload(&b.alto, b.alto_path, err))
		goto out;
	bk_doc_stage_meta(b.stage)->npages = npages;
	if (fence(ctx, err) || bk_store_commit(&b.stage, err))
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

static bool has_result(const char *job_dir)
{
	char *path = bk_path_join(job_dir, BK_JOB_RESULT);
	struct stat st;
	bool found = path && stat(path, &st) == 0;
	free(path);
	return found;
}

static int write_result(const struct bk_job_context *ctx, const char *job_dir,
			const struct bk_job_meta *m, int source_pages, int pages,
			const struct bk_job_progress *prog, double seconds,
			struct bk_error *err)
{
	char *path = bk_path_join(job_dir, BK_JOB_RESULT), *finished = bk_utc_now(), *store = NULL;
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
	    bk_record_set_str(r, "finished", finished) ||
	    bk_record_set_bool(r, "incomplete", prog->nmissing > 0) ||
	    bk_record_set_array(r, "missing")) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < prog->nmissing; i++) {
		const struct bk_job_skip *k = &prog->missing[i];
		struct bk_record *o = bk_record_add_object(r, "missing");
		if (!o || bk_record_set_str(o, "file", k->file) ||
		    bk_record_set_int(o, "page", k->page) ||
		    bk_record_set_str(o, "reason", k->reason)) {
			bk_error_set(err, "out of memory");
			goto out;
		}
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
 * keeps job.meta, result and work/progress. Idempotent. work/ is read with
 * readdir, not bk_list_dir: a crashed atomic write leaves a dot name there. */
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
	if (!(work = bk_path_join(job_dir, "input")))
		return bk_error_set(err, "out of memory");
	if (rmdir(work) && errno != ENOENT) {
		bk_error_set(err, "cannot remove '%s': %s", work, strerror(errno));
		goto out;
	}
	free(work);
	if (!(work = bk_path_join(job_dir, "work")))
		return bk_error_set(err, "out of memory");
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

int bk_resource_error(const struct bk_error *err)
{
	if (strstr(err->msg, strerror(ENOSPC)) || strstr(err->msg, strerror(EDQUOT)))
		return ENOSPC;
	if (strstr(err->msg, strerror(EIO)))
		return EIO;
	if (strstr(err->msg, strerror(ENOMEM)))
		return ENOMEM;
	return 0;
}

/* Every page is missing: the job fails, every bad file and page named. */
static int nothing_readable(const struct bk_job_progress *prog, struct bk_job_failure *fail,
			    struct bk_error *err)
{
	size_t cap = sizeof(err->msg), len = 0;
	char msg[sizeof(err->msg)];

	len = (size_t)snprintf(msg, cap, "no page could be read:");
	for (size_t i = 0; i < prog->nmissing && len < cap; i++) {
		char *line = skip_line(&prog->missing[i]);
		len += (size_t)snprintf(msg + len, cap - len, "%s %s", i ? ";" : "",
					line ? line : "?");
		free(line);
	}
	for (size_t i = 0; i < prog->nmissing; i++)
		if (bk_job_skip_add(&fail->missing, &fail->nmissing, prog->missing[i].index,
				    prog->missing[i].file, prog->missing[i].page,
				    prog->missing[i].reason))
			return bk_error_set(err, "out of memory");
	if (prog->nmissing == 1)
		set_failure(fail, prog->missing[0].file, prog->missing[0].page);
	return bk_error_set(err, "%s", msg);
}

int bk_job_run(struct bk_job_context *ctx, const char *job_dir,
	       struct bk_job_failure *fail, struct bk_error *err)
{
	struct bk_job_meta m;
	struct bk_job_progress prog;
	struct file_pages *files = NULL;
	char *meta_path = NULL;
	int total = 0, logical = 0, rc = -1;
	double t0 = now_seconds();

	memset(fail, 0, sizeof(*fail));
	ctx->lost = false;
	bk_job_meta_init(&m);
	bk_job_progress_init(&prog);
	if (!(meta_path = bk_path_join(job_dir, "job.meta")))
		return bk_error_set(err, "out of memory");
	if (bk_job_meta_read(&m, meta_path, err))
		goto out;
	if (fence(ctx, err) || bk_job_sweep(job_dir, err) < 0)
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
	files = calloc(m.nfiles, sizeof(*files));
	if (!files) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (count_pages(job_dir, &m, files, &total, err))
		goto out;
	rc = ocr_pages(ctx, job_dir, &m, files, total, &logical, &prog, fail, err);
	if (rc != 0)
		goto out;
	rc = -1;
	if ((size_t)logical <= prog.nmissing) {
		nothing_readable(&prog, fail, err);
		goto out;
	}
	if (begin_page(ctx, total, NULL, 0,
		       ctx->page_timeout > 0 ? ctx->page_timeout * 2 + logical
					     : BK_PAGE_LIMIT_BASE + 10 * logical, err) ||
	    build_document(ctx, job_dir, &m, logical, &prog, err))
		goto out;
	/* the record first: once it exists, a re-run needs nothing else */
	if (fence(ctx, err) ||
	    write_result(ctx, job_dir, &m, total, logical, &prog, now_seconds() - t0, err) ||
	    drop_job_payload(job_dir, &m, err))
		goto out;
	bk_log_line(ctx->log_fd, "job=%s pages=%d documentpages=%d missing=%zu seconds=%.2f "
		    "result=done worker=%s", m.id, total, logical, prog.nmissing,
		    now_seconds() - t0, ctx->worker ? ctx->worker : "-");
	rc = 0;
out:
	if (rc < 0 && !ctx->lost && bk_resource_error(err)) {
		/* the disk, not the job: progress is kept and the job given back */
		bk_log_line(ctx->log_fd, "job=%s result=paused worker=%s reason=%s",
			    m.id ? m.id : job_dir, ctx->worker ? ctx->worker : "-", err->msg);
		rc = 2;
	} else if (rc < 0 && ctx->lost)
		bk_log_line(ctx->log_fd, "job=%s result=lost worker=%s", m.id ? m.id : job_dir,
			    ctx->worker ? ctx->worker : "-");
	else if (rc < 0)
		bk_log_line(ctx->log_fd, "job=%s result=failed worker=%s reason=%s",
			    m.id ? m.id : job_dir, ctx->worker ? ctx->worker : "-",
			    err->msg);
	file_pages_free(files, m.nfiles);
	bk_job_progress_release(&prog);
	free(meta_path);
	bk_job_meta_release(&m);
	return rc;
}
