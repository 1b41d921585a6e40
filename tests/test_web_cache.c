/*
 * tests/test_web_cache.c — the search page's results cache (web/cache.h):
 * an entry is served only at the index version it was made at and within
 * the lifetime it was put with (a page cut short by the time limit is put
 * with a shorter one), and 200 keys fit a cache of 1,024 entries without
 * evicting one another (its set-associativity).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "web/cache.h"

static struct bk_web_cache *new_cache(int entries)
{
	struct bk_web_cache *c = NULL;
	struct bk_error err;
	bk_error_init(&err);
	cr_assert_eq(bk_web_cache_new(&c, entries, &err), 0, "%s", err.msg);
	return c;
}

static bool get_is(struct bk_web_cache *c, const char *key, const char *version, const char *want)
{
	struct bk_buf out = { 0 };
	bool hit = bk_web_cache_get(c, key, version, &out);
	bool same = hit && out.len == strlen(want) && !memcmp(out.data, want, out.len);
	bk_buf_release(&out);
	return same;
}

Test(web_cache, an_entry_is_served_only_at_its_index_version)
{
	struct bk_web_cache *c = new_cache(64);
	bk_web_cache_put(c, "q=区", "v1", "<ol>1</ol>", 10, BK_WEB_CACHE_TTL_S);
	cr_expect(get_is(c, "q=区", "v1", "<ol>1</ol>"));
	cr_expect(!get_is(c, "q=区", "v2", "<ol>1</ol>"), "a page of an older index was served");
	/* and the stale entry is gone, not kept for the old version */
	cr_expect(!get_is(c, "q=区", "v1", "<ol>1</ol>"));
	bk_web_cache_free(&c);
	cr_expect_null(c);
}

Test(web_cache, a_page_is_served_for_its_own_lifetime_only)
{
	struct bk_web_cache *c = new_cache(64);
	/* lifetimes in whole seconds of CLOCK_MONOTONIC: 0 lasts until the
	 * second changes, 60 (a cut-short page) outlives it */
	bk_web_cache_put(c, "short", "v", "cut", 3, 0);
	bk_web_cache_put(c, "cut", "v", "cut", 3, BK_WEB_CACHE_CUT_TTL_S);
	sleep(2);
	cr_expect(!get_is(c, "short", "v", "cut"), "an entry outlived its lifetime");
	cr_expect(get_is(c, "cut", "v", "cut"), "a cut-short page was not kept for its minute");
	cr_expect_lt(BK_WEB_CACHE_CUT_TTL_S, BK_WEB_CACHE_TTL_S);
	bk_web_cache_free(&c);
}

Test(web_cache, two_hundred_queries_fit_without_evicting_each_other)
{
	struct bk_web_cache *c = new_cache(BK_WEB_CACHE_ENTRIES);
	char key[32], val[32];
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "q=%d", i);
		snprintf(val, sizeof(val), "page %d", i);
		bk_web_cache_put(c, key, "v", val, strlen(val), BK_WEB_CACHE_TTL_S);
	}
	int kept = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "q=%d", i);
		snprintf(val, sizeof(val), "page %d", i);
		kept += get_is(c, key, "v", val);
	}
	cr_expect_eq(kept, 200, "only %d of 200 pages were still cached", kept);
	/* a put of a key already there replaces it in place */
	bk_web_cache_put(c, "q=7", "v", "new", 3, BK_WEB_CACHE_TTL_S);
	cr_expect(get_is(c, "q=7", "v", "new"));
	bk_web_cache_free(&c);
}
