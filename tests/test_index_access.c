/*
 * tests/test_index_access.c — access levels: a confidential document is
 * never returned, counted or snippeted for public or staff, through the API
 * and at the file level (which files a role's process opens, and the bytes
 * of public.db); file modes whatever the umask; documents that change level.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index/index.h"
#include "test_support.h"

static char *dir, *idxdir;

struct seen {
	char docs[1024];
	char text[8192]; /* every title and snippet returned */
	int n;
};

static int on_hit(const struct bk_search_hit *h, void *ud)
{
	struct seen *s = ud;
	size_t n = strlen(s->docs), t = strlen(s->text);
	snprintf(s->docs + n, sizeof(s->docs) - n, "%s%s", n ? " " : "", h->doc);
	snprintf(s->text + t, sizeof(s->text) - t, "%s\n%s\n", h->title, h->snippet);
	s->n++;
	return 0;
}

static void put(struct bk_index *idx, const char *id, const char *title, const char *text,
		enum bk_access access)
{
	struct bk_error err;
	const char *pages[] = { text };
	struct bk_index_doc doc = { id, "gian", title, "2024-01-01", "x.pdf", BK_PROFILE_RECORD,
				    access, pages, 1 };
	bk_error_init(&err);
	cr_assert_eq(bk_index_put(idx, &doc, &err), 0, "%s", err.msg);
}

static void setup(void)
{
	struct bk_index *idx = NULL;
	struct bk_error err;

	dir = ts_mkdtemp("index-access");
	idxdir = malloc(strlen(dir) + 8);
	sprintf(idxdir, "%s/index", dir);
	bk_error_init(&err);
	umask(0077); /* modes must not depend on it */
	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	put(idx, "pub1", "公開の議案", "令和六年度の予算について公開します。", BK_ACCESS_PUBLIC);
	umask(0);
	put(idx, "res1", "内部の議案", "令和六年度の予算の内部検討資料。", BK_ACCESS_RESTRICTED);
	put(idx, "conf1", "極秘人事案", "令和六年度の予算と極秘事項ハヤブサ計画。", BK_ACCESS_CONFIDENTIAL);
	umask(022);
	bk_index_free(&idx);
}

static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
	free(idxdir);
}

static struct seen search_as(enum bk_role role, const char *text)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	struct seen s = { "", "", 0 };
	struct bk_search_query q = { text, NULL, NULL, NULL, NULL, 100, BK_SORT_RELEVANCE, NULL };
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, idxdir, role, false, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_index_search(idx, &q, on_hit, &s, &err), 0, "%s", err.msg);
	bk_index_free(&idx);
	return s;
}

TestSuite(access, .init = setup, .fini = teardown);

Test(access, roles_see_only_their_levels)
{
	struct seen s = search_as(BK_ROLE_PUBLIC, "予算");
	cr_assert_str_eq(s.docs, "pub1");
	s = search_as(BK_ROLE_STAFF, "予算");
	cr_assert_eq(s.n, 2, "%s", s.docs);
	cr_assert(strstr(s.docs, "pub1") && strstr(s.docs, "res1"), "%s", s.docs);
	cr_assert_null(strstr(s.text, "極秘"), "%s", s.text);
	s = search_as(BK_ROLE_ADMIN, "予算");
	cr_assert_eq(s.n, 3, "%s", s.docs);
	cr_assert(strstr(s.text, "極秘人事案"), "%s", s.text);
	for (int r = BK_ROLE_PUBLIC; r <= BK_ROLE_STAFF; r++) {
		cr_assert_eq(search_as((enum bk_role)r, "ハヤブサ").n, 0);
		cr_assert_eq(search_as((enum bk_role)r, "極秘人事").n, 0);
		cr_assert_eq(search_as((enum bk_role)r, "予算 -公開").n, r == BK_ROLE_STAFF);
	}
}

/* Counts this process's open descriptors whose target contains `name`. */
static int open_files_named(const char *name)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char link[PATH_MAX], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strstr(target, idxdir) && strstr(target, name))
			n++;
	}
	closedir(d);
	return n;
}

Test(access, a_role_opens_only_its_files)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	struct seen s = { "", "", 0 };
	struct bk_search_query q = { "予算", NULL, NULL, NULL, NULL, 10, BK_SORT_RELEVANCE, NULL };
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_PUBLIC, false, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_index_search(idx, &q, on_hit, &s, &err), 0, "%s", err.msg);
	cr_assert_gt(open_files_named("/public.db"), 0);
	cr_assert_eq(open_files_named("/restricted.db"), 0);
	cr_assert_eq(open_files_named("/confidential.db"), 0);
	bk_index_free(&idx);
	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_STAFF, false, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_index_search(idx, &q, on_hit, &s, &err), 0, "%s", err.msg);
	cr_assert_gt(open_files_named("/restricted.db"), 0);
	cr_assert_eq(open_files_named("/confidential.db"), 0);
	bk_index_free(&idx);
	cr_assert_eq(open_files_named(".db"), 0);
}

static bool file_contains(const char *path, const char *needle)
{
	size_t len;
	char *data = ts_read(path, &len);
	bool found = false;
	if (!data)
		return false;
	for (size_t i = 0; !found && i + strlen(needle) <= len; i++)
		found = !memcmp(data + i, needle, strlen(needle));
	free(data);
	return found;
}

/* Every file of a level: the link target and any -wal beside it. */
static bool level_contains(const char *level, const char *needle)
{
	char path[PATH_MAX], wal[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/%s.db", idxdir, level);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	char *real = realpath(path, NULL);
	cr_assert_not_null(real, "%s", path);
	snprintf(wal, sizeof(wal), "%s-wal", real);
	bool found = file_contains(real, needle) || file_contains(wal, needle);
	free(real);
	return found;
}

Test(access, confidential_text_is_only_in_confidential_file)
{
	cr_assert(level_contains("confidential", "ハヤブサ計画"));
	cr_assert(level_contains("confidential", "極秘人事案"));
	cr_assert_not(level_contains("public", "ハヤブサ計画"));
	cr_assert_not(level_contains("public", "極秘人事案"));
	cr_assert_not(level_contains("public", "conf1"));
	cr_assert_not(level_contains("restricted", "ハヤブサ計画"));
	cr_assert_not(level_contains("public", "内部検討"));
	cr_assert(level_contains("public", "公開します"));
}

Test(access, file_modes_match_levels)
{
	static const char *levels[] = { "public", "restricted", "confidential" };
	static const unsigned modes[] = { 0644, 0640, 0600 };
	for (int i = 0; i < 3; i++) {
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s.db", idxdir, levels[i]);
		cr_assert_eq(stat(path, &st), 0, "%s", path);
		cr_assert_eq(st.st_mode & 0777, modes[i], "%s: %o", path, st.st_mode & 0777);
	}
}

Test(access, a_document_that_changes_level_moves)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	put(idx, "pub1", "公開の議案", "令和六年度の予算について公開します。", BK_ACCESS_CONFIDENTIAL);
	cr_assert_eq(search_as(BK_ROLE_PUBLIC, "予算").n, 0);
	cr_assert_eq(search_as(BK_ROLE_ADMIN, "公開").n, 1);
	put(idx, "pub1", "公開の議案", "令和六年度の予算について公開します。", BK_ACCESS_PUBLIC);
	put(idx, "pub1", "公開の議案", "令和六年度の予算について公開します。", BK_ACCESS_PUBLIC);
	cr_assert_str_eq(search_as(BK_ROLE_PUBLIC, "予算").docs, "pub1");
	cr_assert_eq(search_as(BK_ROLE_ADMIN, "公開").n, 1); /* idempotent */
	cr_assert_eq(bk_index_delete(idx, "pub1", &err), 0, "%s", err.msg);
	cr_assert_eq(search_as(BK_ROLE_ADMIN, "公開").n, 0);
	bk_index_free(&idx);
	/* a public writer cannot write confidential documents */
	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_PUBLIC, true, &err), 0, "%s", err.msg);
	const char *pages[] = { "x" };
	struct bk_index_doc doc = { "c2", "gian", "t", "", "", BK_PROFILE_RECORD,
				    BK_ACCESS_CONFIDENTIAL, pages, 1 };
	cr_assert_eq(bk_index_put(idx, &doc, &err), -1);
	cr_assert(strstr(err.msg, "may not write confidential"), "%s", err.msg);
	cr_assert_eq(open_files_named("/confidential.db"), 0);
	bk_index_free(&idx);
}
