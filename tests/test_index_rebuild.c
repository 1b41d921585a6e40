/*
 * tests/test_index_rebuild.c — reindex: new files are swapped in while
 * another process keeps searching (no search fails, every search sees a
 * complete index), results after equal results before, one-collection
 * rebuilds keep the other collections, and no stray files are left (also
 * none that an earlier, crashed rebuild left). A put from another process
 * while a rebuild runs waits for it and lands in the new files.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "index/index.h"
#include "test_support.h"

#define NDOCS 12

static char *dir, *idxdir;

/* text of doc `i` of collection `c`, version `v` */
static void doc_text(char *buf, size_t n, char c, int i, int v)
{
	snprintf(buf, n, "令和六年度%c%02d号の予算審議について。区議会の会議録、第%d版。%s",
		 c, i, v, v ? "改訂された新規条文を含む。" : "旧版の附則を含む。");
}

static int put_collection(struct bk_index *idx, char c, int version, struct bk_error *err)
{
	for (int i = 0; i < NDOCS; i++) {
		char id[16], coll[2] = { c, 0 }, text[512];
		snprintf(id, sizeof(id), "%c%02d", c, i);
		doc_text(text, sizeof(text), c, i, version);
		const char *pages[] = { text, "第二頁。予算の内訳。" };
		struct bk_index_doc d = { id, coll, "会議録", "2024-04-01", "d.pdf", BK_PROFILE_RECORD,
					  i % 3 == 2 ? BK_ACCESS_CONFIDENTIAL : BK_ACCESS_PUBLIC, pages, 2 };
		if (bk_index_put(idx, &d, err))
			return -1;
	}
	return 0;
}

struct feed_plan {
	int version_a, version_b;
	bool only_a;
};

static int feed(struct bk_index *b, void *ud, struct bk_error *err)
{
	struct feed_plan *p = ud;
	if (put_collection(b, 'a', p->version_a, err))
		return -1;
	return p->only_a ? 0 : put_collection(b, 'b', p->version_b, err);
}

static void setup(void)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	dir = ts_mkdtemp("index-rebuild");
	idxdir = malloc(strlen(dir) + 8);
	sprintf(idxdir, "%s/index", dir);
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	cr_assert_eq(put_collection(idx, 'a', 0, &err), 0, "%s", err.msg);
	cr_assert_eq(put_collection(idx, 'b', 0, &err), 0, "%s", err.msg);
	bk_index_free(&idx);
}

static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
	free(idxdir);
}

struct tally {
	char list[4096];
	int n;
};

static int on_hit(const struct bk_search_hit *h, void *ud)
{
	struct tally *t = ud;
	size_t n = strlen(t->list);
	snprintf(t->list + n, sizeof(t->list) - n, "%s:%d ", h->doc, h->page);
	t->n++;
	return 0;
}

/* Returns the hits as a sorted-independent count, or -1 on error. */
static int count(struct bk_index *idx, const char *text, struct tally *t, struct bk_error *err)
{
	struct bk_search_query q = { text, NULL, NULL, NULL, NULL, 1000, BK_SORT_RELEVANCE, NULL };
	memset(t, 0, sizeof(*t));
	return bk_index_search(idx, &q, on_hit, t, err) ? -1 : t->n;
}

static int count_as(enum bk_role role, const char *text)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	struct tally t;
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, idxdir, role, false, &err), 0, "%s", err.msg);
	int n = count(idx, text, &t, &err);
	cr_assert_geq(n, 0, "%s", err.msg);
	bk_index_free(&idx);
	return n;
}

/* The searching child: loops until killed; exits 1 at the first failure
 * or a result that differs from the expected counts. */
static void searcher(int expect_pub, int expect_admin, const char *stopfile)
{
	struct bk_index *kept = NULL, *fresh = NULL;
	struct bk_error err;
	struct tally t;
	long rounds = 0;
	bk_error_init(&err);
	if (bk_index_open(&kept, idxdir, BK_ROLE_PUBLIC, false, &err))
		_exit(1);
	while (access(stopfile, F_OK) != 0) {
		if (count(kept, "予算審議", &t, &err) != expect_pub) {
			fprintf(stderr, "kept public index: %d hits (%s) %s\n", t.n, t.list, err.msg);
			_exit(1);
		}
		if (bk_index_open(&fresh, idxdir, BK_ROLE_ADMIN, false, &err) ||
		    count(fresh, "予算審議", &t, &err) != expect_admin) {
			fprintf(stderr, "fresh admin index: %d hits: %s\n", t.n, err.msg);
			_exit(1);
		}
		bk_index_free(&fresh);
		rounds++;
	}
	bk_index_free(&kept);
	_exit(rounds > 0 ? 0 : 2);
}

static int failing_feed(struct bk_index *b, void *ud, struct bk_error *err)
{
	if (feed(b, ud, err))
		return -1;
	return bk_error_set(err, "feeder gave up");
}

TestSuite(rebuild, .init = setup, .fini = teardown, .timeout = 300);

Test(rebuild, swap_while_searching)
{
	int pub = count_as(BK_ROLE_PUBLIC, "予算審議"), admin = count_as(BK_ROLE_ADMIN, "予算審議");
	char stopfile[512];
	cr_assert_eq(pub, 2 * (NDOCS - NDOCS / 3));
	cr_assert_eq(admin, 2 * NDOCS);
	snprintf(stopfile, sizeof(stopfile), "%s/stop", dir);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		searcher(pub, admin, stopfile);
	struct bk_error err;
	struct feed_plan plan = { 0, 0, false };
	bk_error_init(&err);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(bk_index_rebuild(idxdir, NULL, feed, &plan, &err), 0, "%s", err.msg);
	usleep(200 * 1000);
	ts_write(stopfile, "", 0);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "searcher status %d", status);
	cr_assert_eq(count_as(BK_ROLE_PUBLIC, "予算審議"), pub);
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "予算審議"), admin);
}

Test(rebuild, results_after_equal_before)
{
	static const char *queries[] = { "予算", "会議録", "附則", "a03号", "区 -b01号", "内訳" };
	struct bk_index *idx = NULL;
	struct bk_error err;
	struct tally before[6], after[6];
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_ADMIN, false, &err), 0, "%s", err.msg);
	for (int i = 0; i < 6; i++)
		cr_assert_geq(count(idx, queries[i], &before[i], &err), 0, "%s", err.msg);
	bk_index_free(&idx);
	struct feed_plan plan = { 0, 0, false };
	cr_assert_eq(bk_index_rebuild(idxdir, NULL, feed, &plan, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_ADMIN, false, &err), 0, "%s", err.msg);
	for (int i = 0; i < 6; i++) {
		cr_assert_geq(count(idx, queries[i], &after[i], &err), 0, "%s", err.msg);
		cr_assert_gt(before[i].n, 0, "%s", queries[i]);
		cr_assert_str_eq(after[i].list, before[i].list, "%s", queries[i]);
	}
	bk_index_free(&idx);
}

Test(rebuild, one_collection)
{
	struct bk_error err;
	struct feed_plan plan = { 1, 0, true };
	bk_error_init(&err);
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "新規条文"), 0);
	cr_assert_eq(bk_index_rebuild(idxdir, "a", feed, &plan, &err), 0, "%s", err.msg);
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "新規条文"), NDOCS);        /* a, version 1 */
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "旧版の附則"), NDOCS);      /* b kept, version 0 */
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "旧版 a05号"), 0);
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "b05号"), 1);
	cr_assert_eq(count_as(BK_ROLE_PUBLIC, "新規条文"), NDOCS - NDOCS / 3);
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "予算審議"), 2 * NDOCS);
}

Test(rebuild, failed_feed_changes_nothing_and_leaves_no_files)
{
	struct bk_error err;
	bk_error_init(&err);
	int before = count_as(BK_ROLE_ADMIN, "予算");
	struct feed_plan plan = { 1, 1, false };
	cr_assert_eq(bk_index_rebuild(idxdir, NULL, failing_feed, &plan, &err), -1);
	cr_assert_str_eq(err.msg, "feeder gave up");
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "新規条文"), 0);
	plan.version_a = plan.version_b = 0;
	for (int i = 0; i < 2; i++)
		cr_assert_eq(bk_index_rebuild(idxdir, i ? "b" : NULL, feed, &plan, &err), 0, "%s", err.msg);
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "予算"), before);
	/* exactly the three links and their three generation files remain */
	DIR *d = opendir(idxdir);
	struct dirent *e;
	int links = 0, gens = 0, other = 0;
	while ((e = readdir(d))) {
		char path[1024];
		struct stat st;
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		snprintf(path, sizeof(path), "%s/%s", idxdir, e->d_name);
		lstat(path, &st);
		if (S_ISLNK(st.st_mode))
			links++;
		else if (strstr(e->d_name, ".db.") && !strchr(strstr(e->d_name, ".db.") + 4, '-'))
			gens++;
		else if (!strstr(e->d_name, "-wal") && !strstr(e->d_name, "-shm"))
			other++;
	}
	closedir(d);
	cr_assert_eq(links, 3);
	cr_assert_eq(gens, 3);
	cr_assert_eq(other, 0);
}

/* Feed that lets a waiting writer try its put while the rebuild runs. */
struct late_plan {
	struct feed_plan plan;
	const char *go;       /* file that releases the writer */
	pid_t writer;
	bool writer_waited;   /* the writer had not finished when the feed ended */
};

static int feed_with_late_put(struct bk_index *b, void *ud, struct bk_error *err)
{
	struct late_plan *p = ud;
	int status;
	if (feed(b, &p->plan, err))
		return -1;
	ts_write(p->go, "", 0);
	usleep(500 * 1000); /* the writer is now blocked on the index lock */
	p->writer_waited = waitpid(p->writer, &status, WNOHANG) == 0;
	return 0;
}

static void late_writer(const char *go)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	const char *pages[] = { "遅れて届いた補正予算書。" };
	struct bk_index_doc d = { "late", "a", "補正", "2024-05-01", "l.pdf", BK_PROFILE_RECORD,
				  BK_ACCESS_PUBLIC, pages, 1 };
	bk_error_init(&err);
	while (access(go, F_OK) != 0)
		usleep(10 * 1000);
	if (bk_index_open(&idx, idxdir, BK_ROLE_ADMIN, true, &err) || bk_index_put(idx, &d, &err)) {
		fprintf(stderr, "late put: %s\n", err.msg);
		_exit(1);
	}
	bk_index_free(&idx);
	_exit(0);
}

Test(rebuild, put_during_rebuild_is_kept)
{
	char go[512];
	struct bk_error err;
	int status;
	snprintf(go, sizeof(go), "%s/go", dir);
	bk_error_init(&err);
	/* forked before the rebuild takes its lock, so the writer does not
	 * share the locked descriptor */
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		late_writer(go);
	struct late_plan lp = { { 0, 0, false }, go, pid, false };
	cr_assert_eq(bk_index_rebuild(idxdir, NULL, feed_with_late_put, &lp, &err), 0, "%s", err.msg);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer status %d", status);
	cr_assert(lp.writer_waited, "the put did not wait for the rebuild");
	cr_assert_eq(count_as(BK_ROLE_PUBLIC, "補正予算書"), 1);
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "予算審議"), 2 * NDOCS);
}

Test(rebuild, leftovers_of_a_crashed_rebuild_are_removed)
{
	static const char *stale[] = { "public.db.1234abcd", "public.db.1234abcd-wal",
				       "restricted.db.99-shm", ".confidential.db.link.42" };
	struct feed_plan plan = { 0, 0, false };
	struct bk_error err;
	char path[1024], current[1024];
	bk_error_init(&err);
	for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", idxdir, stale[i]);
		ts_write(path, "x", 1);
	}
	cr_assert_eq(bk_index_rebuild(idxdir, NULL, feed, &plan, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", idxdir, stale[i]);
		cr_assert_neq(access(path, F_OK), 0, "%s was left", stale[i]);
	}
	/* the generation swapped out is gone too, the current one is there */
	snprintf(path, sizeof(path), "%s/public.db", idxdir);
	ssize_t n = readlink(path, current, sizeof(current) - 1);
	cr_assert_gt(n, 0);
	current[n] = '\0';
	DIR *d = opendir(idxdir);
	struct dirent *e;
	int gens = 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "public.db.", 10) && !strchr(e->d_name + 10, '-')) {
			cr_assert_str_eq(e->d_name, current);
			gens++;
		}
	closedir(d);
	cr_assert_eq(gens, 1);
	cr_assert_eq(count_as(BK_ROLE_ADMIN, "予算審議"), 2 * NDOCS);
}
