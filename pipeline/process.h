/*
 * pipeline/process.h — turning scans into document pages, shared by
 * `bunko ocr` (one file, straight into a PDF) and the queue workers (a job,
 * page by page through checkpoints into the store).
 *
 * Page processing: one SOURCE page (a page of a scanned file) is read
 * (pipeline/source.h), cleaned and OCRed (bk_read_page) into one or two
 * LOGICAL pages (two when a spread is split); each logical page is its page
 * model plus its display image, encoded for the PDF (bk_encode_display).
 *
 * Job processing (bk_job_run): a job's document is the concatenation of the
 * pages of the job's files, in order. Each logical page is checkpointed in
 * the job directory as soon as it is read:
 *   work/NNNN.page   the page model (bk_page_write format)
 *   work/NNNN.img    the encoded display image: one header line, a
 *                    "bunko-img" record (pipeline/record.h) with encoding
 *                    (g4, jpeg, flate), width, height, bits_per_component,
 *                    components, xres, yres and size, then size bytes
 *   work/progress    source pages done, logical pages written, and the
 *                    next file/page (pipeline/queue.h, bk_job_progress)
 * each written atomically (temp + fsync + rename), images and models
 * before the progress record that counts them. A job interrupted at any
 * point resumes at the first source page the progress record does not
 * count; anything written beyond it is simply overwritten.
 *
 * Bad input does not stop a volume: a file that cannot be opened (it
 * counts as one source page), a page that cannot be read, and a page
 * quarantined by recovery (job.meta) are each checkpointed as a
 * placeholder page that says what is missing and why
 * (bk_render_note_page), and listed in work/progress (file, page, reason).
 * The document is stored as incomplete: its bag-info.txt names the
 * missing pages, and the result record lists them. Only a volume with no
 * readable page at all fails, its reason naming every bad file and page.
 * A failed write (a full disk, an I/O error) is not the page's fault: the
 * run stops with 2 and the page is tried again later.
 *
 * Fencing: under a claim (ctx->claim), the run checks that the claim is
 * still its own (bk_claim_owned) before every checkpoint, before storing
 * the document and before the result record; once it is not, it writes
 * nothing more (pipeline/queue.c, fencing). Each page begins with the
 * claim's page record (its time limit), which the supervisor enforces.
 *
 * When every page is checkpointed the document is built from the
 * checkpoints, one page in memory at a time: staged in the store with its
 * masters, PDF, text (pages separated by form feeds), hOCR, ALTO and page
 * models, committed, and indexed (unless the worker runs without an index:
 * `bunko worker --no-index`, and `bunko reindex` builds it later from the
 * stored page models). The document id is the job id, and both the store
 * commit and the index put replace an earlier copy, so running a job again
 * (after a crash between commit and the result record) produces the same
 * single document.
 *
 * Finishing (what a done job keeps): once the document is committed and
 * indexed, the run
 *   1. writes <job>/result atomically, a "bunko-result" record
 *      (pipeline/record.h): doc, collection, store (the document's
 *      directory relative to the archive), pages (document pages),
 *      source_pages, seconds, indexed (true|false), finished;
 *   2. only then deletes what the store now holds or no longer needs: the
 *      input files (their bytes are the document's masters) and the page
 *      checkpoints work/NNNN.img and work/NNNN.page (about 70 KB a page).
 * job.meta, work/progress and result stay, for `bunko status` and audits.
 * A run that finds a result record goes straight to step 2 and reports the
 * job done without reading anything: a crash anywhere in finishing (or
 * between it and the move to done/) ends, on the next run, in done/ with
 * one document. Whoever holds the claim owns every file inside it, so a
 * run first deletes the temporaries (archive/atomic.h) that a killed
 * holder left in the job directory and in work/.
 *
 * Memory is bounded by one page image and its model, plus the text of the
 * document's pages for the index.
 */
#ifndef BUNKO_PIPELINE_PROCESS_H
#define BUNKO_PIPELINE_PROCESS_H

#include <stdbool.h>
#include <stdio.h>

#include "bunko/common.h"
#include "ocr/engine.h"
#include "ocr/image.h"
#include "ocr/page.h"
#include "pipeline/log.h"
#include "pipeline/queue.h"
#include "pipeline/source.h"

#define BK_JPEG_QUALITY 88 /* display images that are not bilevel */
#define BK_JOB_RESULT "result" /* <job>/result: the finished job's record */

/*
 * Pages that already carry text (PDF pages, see enum bk_text_layer), as
 * OCRmyPDF's --skip-text / --force-ocr / --redo-ocr choose:
 * - AUTO (default): a page with typeset text (a born-digital page) keeps
 *   its text exactly and is not read; a page whose text is an OCR layer
 *   over a scan, or junk, is read again, as is every page without text;
 * - FORCE: every page is read, whatever text it has;
 * - SKIP: a page with any text keeps it (even an OCR layer or junk);
 *   only pages without text are read.
 * A page that keeps its text is shown as the PDF draws it (rendered at
 * 300 dpi, or its one page-covering image at its own resolution), with
 * its text as the page model.
 */
enum bk_ocr_mode { BK_OCR_AUTO = 0, BK_OCR_FORCE, BK_OCR_SKIP };

/* "auto", "force", "skip" -> the mode, or -1. */
int bk_ocr_mode_parse(const char *s);
const char *bk_ocr_mode_name(enum bk_ocr_mode mode);

/* How a page is processed: from job.meta or the `bunko ocr` options. */
struct bk_process_options {
	const char *lang;        /* NULL or "auto": detect */
	enum bk_profile profile;
	long max_pixels;         /* 0: BK_IMAGE_MAX_PIXELS_DEFAULT */
	enum bk_ocr_mode ocr;    /* pages that have text */
	bool bilevel;            /* show gray and color scans binarized (G4) */
	int dpi;                 /* --dpi: the scans' resolution; 0: the file's
				    tag when the text agrees, else measured
				    (ocr/resolution.h). Not for PDF pages,
				    whose size the PDF gives */
	enum bk_old_print old_print; /* old-form kanji reading (ocr/oldprint.h);
					0 = auto */
};

/* Receives each logical page, in order. `page` and `img` are borrowed. */
typedef int (*bk_page_emit_fn)(void *ud, const struct bk_page *page,
			       const struct bk_encoded_image *img,
			       struct bk_error *err);

/*
 * Reads source page `index` of `src`, OCRs it, and emits its logical pages
 * numbered from `first_number`. *nemitted is how many (1 or 2). Errors name
 * the file and page.
 */
int bk_process_source_page(struct bk_engine *engine, struct bk_source *src,
			   int index, const struct bk_process_options *opt,
			   int first_number, bk_page_emit_fn emit, void *ud,
			   int *nemitted, struct bk_error *err);

/* Checkpoint files (see above). `n` is the logical page number. */
int bk_checkpoint_write(const char *job_dir, int n, const struct bk_page *page,
			const struct bk_encoded_image *img, struct bk_error *err);
int bk_checkpoint_read(const char *job_dir, int n, struct bk_page *page,
		       struct bk_encoded_image *img, struct bk_error *err);

/* What a job run needs from the worker that runs it. */
struct bk_job_context {
	const char *archive;
	struct bk_engine *engine;  /* created by the worker, reused */
	struct bk_store *store;    /* opened by the worker */
	int log_fd;                /* the host's worker log (pipeline/log.h), or -1 */
	const char *worker;        /* "<host>.<pid>", for the log */
	/* Asked between pages; true stops the run (it resumes later). */
	bool (*should_stop)(void *ud);
	void *ud;
	int pages_read;            /* source pages OCRed by this context (counter) */
	bool no_index;             /* store only; the index is rebuilt later */
	/* Fencing (pipeline/queue.c): the claim the job is run under, asked
	 * before every checkpoint and before anything is published; NULL: no
	 * claim (nothing asked). */
	const struct bk_claim *claim;
	int page_timeout;          /* seconds a page may take; 0: from its size */
	/* Told when a page (or, with limit of the build, the document) begins
	 * and how long it may take; may be NULL. */
	void (*page_begin)(void *ud, int limit_seconds);
	bool lost;                 /* out: the claim was lost; nothing written since */
};

/* The time limit of a page of `page_bytes` bytes (its file's size divided
 * by its pages): BK_PAGE_LIMIT_BASE seconds plus BK_PAGE_LIMIT_PER_MB per
 * megabyte, at most BK_PAGE_LIMIT_MAX. */
#define BK_PAGE_LIMIT_BASE 120
#define BK_PAGE_LIMIT_PER_MB 30
#define BK_PAGE_LIMIT_MAX 3600
int bk_page_time_limit(long long page_bytes);

/* Where a job failed, for failed/<job>/reason. */
struct bk_job_failure {
	char file[256]; /* "" when no file is concerned */
	int page;       /* 1-based within the file; 0 when none */
	/* every page and file left out before it failed (owned; released
	 * with bk_job_failure_release) */
	struct bk_job_skip *missing;
	size_t nmissing;
};
void bk_job_failure_release(struct bk_job_failure *fail);

/*
 * Runs the job in `job_dir` (a claim): OCRs the pages its checkpoints do
 * not yet have, then builds, stores and indexes the document, records the
 * result and deletes the inputs and checkpoints (see "Finishing" above).
 * Returns 0 when the document is stored (and indexed) and the result
 * recorded, 1 when should_stop asked it to stop (progress kept), 2 when
 * the disk is full, memory ran out or an I/O error kept it from writing (progress kept,
 * err says what: not the job's fault, see bk_resource_error), -1 on
 * failure (err and *fail set).
 */
int bk_job_run(struct bk_job_context *ctx, const char *job_dir,
	       struct bk_job_failure *fail, struct bk_error *err);

/* ENOSPC (also for EDQUOT) or EIO when `err` reports that the disk is full
 * or failed, ENOMEM when the system refused memory (a system call's
 * ENOMEM: a fork, a map), else 0. Errors reach the worker as one line of text naming
 * the file (bunko/common.h), so the text of strerror is what tells. */
int bk_resource_error(const struct bk_error *err);

#endif
