/*
 * tests/test_pipeline_job.c — a job's page checkpoints and its finishing: a
 * run stopped after its first page leaves that page checkpointed, the next
 * run OCRs only the remaining pages (counted by the engine calls the
 * context records, and the first page's checkpoint files are not
 * rewritten), stores the document, records the result and drops the input
 * copies and page checkpoints; running the finished job again (a crash
 * before the move to done/) reads nothing and still leaves one document;
 * temporaries a killed holder left in the job are deleted by the next run.
 * Real Tesseract, three small pages, one engine for the whole test.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/store.h"
#include "ocr/engine.h"
#include "pipeline/process.h"
#include "pipeline/queue.h"
#include "test_support.h"

static bool stop_after_first_page(void *ud)
{
	const struct bk_job_context *ctx = ud;
	return ctx->pages_read >= 1;
}

/* Asked before each page of the resumed run: page 1's checkpoint files must
 * still be the ones the first run wrote (the finished run deletes them). */
struct page1_watch {
	const char *dir;
	ino_t img, page;
	int asked, rewritten;
};

static ino_t inode_of(const char *dir, const char *rel);

static bool watch_page1(void *ud)
{
	struct page1_watch *w = ud;
	w->asked++;
	if (inode_of(w->dir, "work/0001.img") != w->img ||
	    inode_of(w->dir, "work/0001.page") != w->page)
		w->rewritten++;
	return false;
}

static ino_t inode_of(const char *dir, const char *rel)
{
	char *p = NULL;
	struct stat st;
	cr_assert(asprintf(&p, "%s/%s", dir, rel) > 0);
	int r = stat(p, &st);
	free(p);
	return r == 0 ? st.st_ino : 0;
}

static int count_docs(const struct bk_doc_meta *meta, const char *doc_dir, void *ud)
{
	(*(int *)ud)++;
	return 0;
}

Test(job, resumes_after_the_last_checkpointed_page, .timeout = 600)
{
	struct bk_error err;
	struct bk_queue q;
	struct bk_job_meta m;
	struct bk_claim claim;
	struct bk_job_failure fail;
	struct bk_job_progress prog;
	char *dir = ts_mkdtemp("job"), *archive = NULL;
	char *f1 = ts_sample("h-reiki.tif"), *f2 = ts_sample("eng.png");
	const char *files[] = { f1, f2 };

	bk_error_init(&err);
	setenv("OMP_THREAD_LIMIT", "1", 1);
	cr_assert(asprintf(&archive, "%s/archive", dir) > 0);
	cr_assert_eq(bk_archive_init(archive, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_queue_open(&q, archive, &err), 0, "%s", err.msg);
	bk_job_meta_init(&m);
	m.collection = strdup("reiki");
	m.title = strdup("resume test");
	m.pages = 3;
	cr_assert_eq(bk_queue_add(&q, &m, files, 2, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_queue_claim(&q, &claim, &err), 1);

	struct bk_job_context ctx = { .archive = archive, .log_fd = -1, .worker = "test" };
	ctx.engine = bk_engine_new(NULL, &err);
	cr_assert_not_null(ctx.engine, "%s", err.msg);
	cr_assert_eq(bk_store_open(&ctx.store, archive, &err), 0, "%s", err.msg);
	ctx.should_stop = stop_after_first_page;
	ctx.ud = &ctx;

	/* run 1: stopped after the first source page */
	cr_assert_eq(bk_job_run(&ctx, claim.dir, &fail, &err), 1, "%s", err.msg);
	cr_expect_eq(ctx.pages_read, 1);
	cr_assert_eq(bk_job_progress_read(&prog, claim.dir, &err), 0);
	cr_expect_eq(prog.source_done, 1);
	cr_expect_eq(prog.logical_pages, 1);
	cr_expect_str_eq(prog.next_file, "h-reiki.tif");
	cr_expect_eq(prog.next_page, 2);
	bk_job_progress_release(&prog);
	ino_t img1 = inode_of(claim.dir, "work/0001.img");
	ino_t page1 = inode_of(claim.dir, "work/0001.page");
	cr_assert(img1 && page1, "page 1 was not checkpointed");
	cr_expect_eq(inode_of(claim.dir, "work/0002.page"), 0);

	/* a holder killed mid-write left temporaries in the job: the next run
	 * (the new holder) deletes them */
	char *junk1 = NULL, *junk2 = NULL;
	cr_assert(asprintf(&junk1, "%s/.job.meta.tmp.99999.AbCdEf", claim.dir) > 0);
	cr_assert(asprintf(&junk2, "%s/work/.0002.img.tmp.99999.AbCdEf", claim.dir) > 0);
	cr_assert_eq(ts_write(junk1, "x", 1), 0);
	cr_assert_eq(ts_write(junk2, "y", 1), 0);

	/* run 2: only pages 2 and 3 are read */
	struct page1_watch watch = { claim.dir, img1, page1, 0, 0 };
	ctx.should_stop = watch_page1;
	ctx.ud = &watch;
	ctx.pages_read = 0;
	int r2 = bk_job_run(&ctx, claim.dir, &fail, &err);
	cr_assert_eq(r2, 0, "run 2 returned %d: %s", r2, err.msg);
	cr_expect_eq(ctx.pages_read, 2, "pages OCRed on resume: %d", ctx.pages_read);
	cr_expect_eq(watch.asked, 2);
	cr_expect_eq(watch.rewritten, 0, "page 1 checkpoint rewritten on resume");
	cr_expect_eq(inode_of(claim.dir, ".job.meta.tmp.99999.AbCdEf"), 0);
	cr_expect_eq(inode_of(claim.dir, "work/.0002.img.tmp.99999.AbCdEf"), 0);

	/* finished: the result is recorded, the inputs (now masters) and the
	 * page checkpoints are gone, job.meta and progress stay */
	char *result_path = NULL;
	cr_assert(asprintf(&result_path, "%s/result", claim.dir) > 0);
	json_error_t je;
	json_t *result = json_load_file(result_path, JSON_REJECT_DUPLICATES, &je);
	cr_assert_not_null(result, "no result record: %s", je.text);
	char *want = NULL;
	cr_assert(asprintf(&want, "store/reiki/%s", m.id) > 0);
	cr_expect_str_eq(json_string_value(json_object_get(result, "format")), "bunko-result");
	cr_expect_str_eq(json_string_value(json_object_get(result, "doc")), m.id);
	cr_expect_str_eq(json_string_value(json_object_get(result, "collection")), "reiki");
	cr_expect_str_eq(json_string_value(json_object_get(result, "store")), want);
	cr_expect_eq(json_integer_value(json_object_get(result, "pages")), 3);
	cr_expect_eq(json_integer_value(json_object_get(result, "source_pages")), 3);
	cr_expect(json_is_true(json_object_get(result, "indexed")));
	cr_expect_eq(inode_of(claim.dir, "input/h-reiki.tif"), 0, "input copy kept");
	cr_expect_eq(inode_of(claim.dir, "input/eng.png"), 0, "input copy kept");
	cr_expect_eq(inode_of(claim.dir, "input"), 0, "input/ kept");
	for (int n = 1; n <= 3; n++) {
		char rel[32];
		snprintf(rel, sizeof(rel), "work/%04d.img", n);
		cr_expect_eq(inode_of(claim.dir, rel), 0, "%s kept", rel);
		snprintf(rel, sizeof(rel), "work/%04d.page", n);
		cr_expect_eq(inode_of(claim.dir, rel), 0, "%s kept", rel);
	}
	cr_expect_neq(inode_of(claim.dir, "job.meta"), 0);
	cr_assert_eq(bk_job_progress_read(&prog, claim.dir, &err), 0);
	cr_expect_eq(prog.source_done, 3);
	bk_job_progress_release(&prog);
	free(want);
	json_decref(result);

	char *doc_dir = bk_store_doc_dir(ctx.store, "reiki", m.id);
	char *text = NULL;
	cr_assert(asprintf(&text, "%s/data/text.txt", doc_dir) > 0);
	char *t = ts_read(text, NULL);
	cr_assert_not_null(t, "no text.txt in the stored document");
	int ff = 0;
	for (char *p = t; *p; p++)
		ff += *p == '\f';
	cr_expect_eq(ff, 2, "3 pages are separated by 2 form feeds, got %d", ff);
	cr_expect(strstr(ts_strip_space(t), "公金収納") != NULL, "page 1 text missing");
	cr_expect_neq(inode_of(doc_dir, "data/pages/0003.page"), 0);
	cr_expect_neq(inode_of(doc_dir, "data/masters/eng.png"), 0);

	/* run 3 (a crash after the result, before done/): the inputs are gone,
	 * the result says the document is stored: nothing OCRed, still one
	 * document, the result unchanged */
	ctx.pages_read = 0;
	ino_t result_ino = inode_of(claim.dir, "result");
	cr_assert_eq(bk_job_run(&ctx, claim.dir, &fail, &err), 0, "%s", err.msg);
	cr_expect_eq(ctx.pages_read, 0);
	cr_expect_eq(inode_of(claim.dir, "result"), result_ino);
	int ndocs = 0;
	cr_assert_eq(bk_store_foreach(ctx.store, NULL, count_docs, &ndocs, &err), 0, "%s", err.msg);
	cr_expect_eq(ndocs, 1);
	cr_expect_neq(inode_of(doc_dir, "data/masters/h-reiki.tif"), 0);

	cr_expect_eq(bk_queue_finish(&q, &claim, &err), 0, "%s", err.msg);
	free(t);
	free(text);
	free(result_path);
	free(junk1);
	free(junk2);
	free(doc_dir);
	bk_claim_release(&claim);
	bk_job_meta_release(&m);
	bk_engine_free(&ctx.engine);
	bk_store_free(&ctx.store);
	bk_queue_release(&q);
	ts_rmtree(dir);
	free(dir);
	free(archive);
	free(f1);
	free(f2);
}
