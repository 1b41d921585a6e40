/*
 * tests/test_web_cache.c — the search page's results cache (web/cache.h):
 * an entry is served only at the index version it was made at and within
 * the lifetime it was put with (a page cut short by the time limit is put
 * with a shorter one), and 200 keys fit a cache of 1,024 entries without
 * evicting one another (its set-associativity); requests for a page being
 * computed wait for its one computation (the claim) instead of computing
 * it again, and a claim given back without a page lets one of them compute.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
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

/* A lookup as the search page makes it (bk_web_cache_claim); a miss's
 * claim is given back at once. */
static bool get_is(struct bk_web_cache *c, const char *key, const char *version, const char *want)
{
	struct bk_buf out = { 0 };
	enum bk_web_cache_claim got = bk_web_cache_claim(c, key, version, &out, 0);
	bool hit = got == BK_WEB_CACHE_HIT;
	if (got == BK_WEB_CACHE_CLAIMED)
		bk_web_cache_unclaim(c, key);
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

struct waiter {
	struct bk_web_cache *c;
	const char *key;
	int wait_ms;
	enum bk_web_cache_claim got;
	struct bk_buf out;
	atomic_int *answered;
};

static void *wait_for_page(void *arg)
{
	struct waiter *w = arg;
	w->got = bk_web_cache_claim(w->c, w->key, "v", &w->out, w->wait_ms);
	atomic_fetch_add(w->answered, 1);
	return NULL;
}

Test(web_cache, requests_for_a_page_being_computed_wait_for_its_one_computation)
{
	struct bk_web_cache *c = new_cache(64);
	struct bk_buf none = { 0 };
	atomic_int answered = 0;
	struct waiter w[8];
	pthread_t t[8];

	cr_assert_eq(bk_web_cache_claim(c, "q=区", "v", &none, 1000), BK_WEB_CACHE_CLAIMED);
	/* another page is not held up by this one's claim */
	cr_expect_eq(bk_web_cache_claim(c, "q=會", "v", &none, 1000), BK_WEB_CACHE_CLAIMED);
	for (int i = 0; i < 8; i++) {
		w[i] = (struct waiter){ c, "q=区", 10000, BK_WEB_CACHE_UNCLAIMED, { 0 }, &answered };
		cr_assert_eq(pthread_create(&t[i], NULL, wait_for_page, &w[i]), 0);
	}
	usleep(300 * 1000);
	cr_expect_eq(atomic_load(&answered), 0, "a request did not wait for the page being computed");
	bk_web_cache_put(c, "q=区", "v", "<ol>区</ol>", 13, BK_WEB_CACHE_TTL_S);
	bk_web_cache_unclaim(c, "q=区");
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		cr_expect_eq(w[i].got, BK_WEB_CACHE_HIT, "waiter %d computed the page again", i);
		cr_expect(w[i].out.len == 13 && !memcmp(w[i].out.data, "<ol>区</ol>", 13));
		bk_buf_release(&w[i].out);
	}
	bk_web_cache_unclaim(c, "q=會");
	bk_web_cache_free(&c);
}

Test(web_cache, a_claim_given_back_without_a_page_lets_a_waiter_compute_it)
{
	struct bk_web_cache *c = new_cache(64);
	struct bk_buf none = { 0 };
	atomic_int answered = 0;
	struct waiter w = { c, "q=失敗", 10000, BK_WEB_CACHE_HIT, { 0 }, &answered };
	pthread_t t;

	cr_assert_eq(bk_web_cache_claim(c, "q=失敗", "v", &none, 1000), BK_WEB_CACHE_CLAIMED);
	cr_assert_eq(pthread_create(&t, NULL, wait_for_page, &w), 0);
	usleep(200 * 1000);
	cr_expect_eq(atomic_load(&answered), 0);
	bk_web_cache_unclaim(c, "q=失敗"); /* the first request failed: nothing put */
	pthread_join(t, NULL);
	cr_expect_eq(w.got, BK_WEB_CACHE_CLAIMED, "the waiter neither computed the page nor got one");
	cr_expect_eq(w.out.len, 0);
	bk_web_cache_unclaim(c, "q=失敗");
	bk_web_cache_free(&c);
}

Test(web_cache, a_wait_longer_than_its_limit_ends_unclaimed)
{
	struct bk_web_cache *c = new_cache(64);
	struct bk_buf none = { 0 };
	struct timespec t0, t1;

	cr_assert_eq(bk_web_cache_claim(c, "q=遲", "v", &none, 1000), BK_WEB_CACHE_CLAIMED);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_expect_eq(bk_web_cache_claim(c, "q=遲", "v", &none, 150), BK_WEB_CACHE_UNCLAIMED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	cr_expect_geq(waited, 140.0, "gave up after %.0f ms, before its limit", waited);
	cr_expect_lt(waited, 5000.0);
	bk_web_cache_unclaim(c, "q=遲");
	bk_web_cache_free(&c);
}
