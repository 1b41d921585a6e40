/*
 * tests/test_cli_search.c — complete search through `bunko search`, as
 * users run it, over a real index file: more than 1,000 decoy pages come
 * before the true page in archive order (they hold the bigrams of the
 * phrase, or the common term, but not what is asked), and the true page
 * is still found, counted and ranked; NOT of a common term, OR, one
 * character; a search cut short by its time limit says so.
 *
 * The archive is made by `bunko init`; its index is written through the
 * index library's put, the call a worker makes for each document (OCR of
 * 1,200 scans would take an hour and test nothing more here).
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/index.h"
#include "test_support.h"

#define DECOY_DOCS 24
#define DOC_PAGES 50 /* 24 x 50 = 1,200 decoy pages */

static char *dir, *archive;

static void put(struct bk_index *idx, const char *id, const char *const *pages, int n)
{
	struct bk_error err;
	struct bk_index_doc doc = { id, "gian", id, "2020-04-01", "", BK_PROFILE_RECORD,
				    BK_ACCESS_PUBLIC, pages, n };
	bk_error_init(&err);
	cr_assert_eq(bk_index_put(idx, &doc, &err), 0, "%s", err.msg);
}

/* 1,200 decoy pages (予算 and 算案, の, 案 on every one; never 予算案),
 * then the pages the tests look for, last in archive order. */
static void setup(void)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	const char *decoy[DOC_PAGES];
	char *out = NULL;

	dir = ts_mkdtemp("cli-search");
	cr_assert_not_null(dir);
	archive = ts_fmt("%s/a", dir);
	char *cmd = ts_fmt("%s init %s", BUNKO_EXE, archive);
	cr_assert_eq(ts_run(cmd, &out, 1), 0, "%s: %s", cmd, out);
	free(cmd);
	free(out);

	char *index = ts_fmt("%s/index", archive);
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, index, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	for (int i = 0; i < DOC_PAGES; i++)
		decoy[i] = "令和二年度予算の計算案について、委員会の審査を経た。";
	for (int d = 0; d < DECOY_DOCS; d++) {
		char id[32];
		snprintf(id, sizeof(id), "decoy%02d", d);
		put(idx, id, decoy, DOC_PAGES);
	}
	const char *truth[] = { "本年度予算案を審議", "令和二年度決算書を公表した。" };
	put(idx, "truth", truth, 2);
	/* the page with the most 案 for its length, indexed last */
	const char *dense[] = { "案、案、案、案。" };
	put(idx, "dense", dense, 1);
	bk_index_free(&idx);
	free(index);
}

static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
	free(archive);
}

TestSuite(cli_search, .init = setup, .fini = teardown, .timeout = 120);

/* Runs `bunko search ARCHIVE 'QUERY' OPTIONS`; returns stdout (+ stderr
 * if merge), asserts exit status 0. */
static char *search(const char *query, const char *options, int merge)
{
	char *out = NULL;
	char *cmd = ts_fmt("%s search %s '%s' %s", BUNKO_EXE, archive, query, options);
	int rc = ts_run(cmd, &out, merge);
	cr_assert_eq(rc, 0, "%s: exit %d: %s", cmd, rc, out ? out : "");
	free(cmd);
	return out;
}

/* The JSON hit lines' "doc:page" in order, space-separated (caller frees),
 * and the summary line's numbers. */
static char *hits_of(const char *json, long *matches, int *truncated)
{
	char *list = calloc(1, strlen(json) + 1);
	const char *line = json;
	*matches = -1;
	*truncated = -1;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t n = end ? (size_t)(end - line) : strlen(line);
		char *l = strndup(line, n);
		const char *d = strstr(l, "\"doc\":\""), *p = strstr(l, "\"page\":");
		if (d && p)
			sprintf(list + strlen(list), "%s%.*s:%d", *list ? " " : "",
				(int)strcspn(d + 7, "\""), d + 7, atoi(p + 7));
		else if (strstr(l, "\"matches\":")) {
			*matches = atol(strstr(l, "\"matches\":") + 10);
			*truncated = strstr(l, "\"truncated\":true") ? 1 : strstr(l, "\"truncated\":false") ? 0 : -1;
		}
		free(l);
		line += n + (end ? 1 : 0);
	}
	return list;
}

/* The scores of the hits in --json output, in order; their number in *n. */
static double *scores_of(const char *json, int *n)
{
	double *v = calloc(strlen(json) / 16 + 1, sizeof(double));
	*n = 0;
	for (const char *p = json; (p = strstr(p, "\"score\":")); p += 8)
		v[(*n)++] = strtod(p + 8, NULL);
	return v;
}

Test(cli_search, phrase_behind_1200_decoys_is_found)
{
	/* the case, as a user types it: terminal output */
	char *out = search("\"予算案\"", "--role admin", 1);
	cr_expect(strstr(out, "truth  page 1") != NULL, "no hit on the true page: %s", out);
	cr_expect(strstr(out, "[予算案]") != NULL, "%s", out);
	cr_expect(strstr(out, "decoy") == NULL, "a decoy page was listed: %s", out);
	free(out);

	/* and as JSON: exactly one match, nothing cut short */
	long matches;
	int truncated;
	out = search("予算案", "--json", 0);
	char *hits = hits_of(out, &matches, &truncated);
	cr_expect_str_eq(hits, "truth:1", "%s", out);
	cr_expect_eq(matches, 1, "%s", out);
	cr_expect_eq(truncated, 0, "%s", out);
	free(hits);
	free(out);
}

/* The index's trigrams keep what the phrase check allows: a phrase
 * wrapped over a line end or spaced out by OCR, or spelt with old kanji,
 * is still a candidate. */
Test(cli_search, phrase_across_spaces_and_old_kanji)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	char *index = ts_fmt("%s/index", archive);
	const char *pages[] = { "本年度予\n算 案を審議", "本年度豫算案を審議", "國會議事堂" };
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, index, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	put(idx, "spaced", pages, 3);
	bk_index_free(&idx);
	free(index);
	long matches;
	int truncated;
	char *out = search("\"予算案を審議\"", "--json", 0);
	char *hits = hits_of(out, &matches, &truncated);
	cr_expect(strstr(hits, "truth:1") && strstr(hits, "spaced:1") && strstr(hits, "spaced:2"),
		  "%s", out);
	cr_expect_eq(matches, 3, "%s", out);
	free(hits);
	free(out);
	out = search("国会議事", "--json", 0);
	hits = hits_of(out, &matches, &truncated);
	cr_expect_str_eq(hits, "spaced:3", "%s", out);
	free(hits);
	free(out);
}

Test(cli_search, not_of_a_common_term)
{
	long matches;
	int truncated;
	/* の is on every decoy page, not on the true page */
	char *out = search("予算 -の", "--json", 0);
	char *hits = hits_of(out, &matches, &truncated);
	cr_expect_str_eq(hits, "truth:1", "%s", out);
	cr_expect_eq(matches, 1, "%s", out);
	free(hits);
	free(out);
	/* excluding a phrase (checked on the text, not in the index) */
	out = search("予算 -\"計算案\"", "--json", 0);
	hits = hits_of(out, &matches, &truncated);
	cr_expect_str_eq(hits, "truth:1", "%s", out);
	free(hits);
	free(out);
}

Test(cli_search, or_finds_both_pages_behind_the_decoys)
{
	long matches;
	int truncated;
	char *out = search("\"予算案\" OR 決算書", "--json", 0);
	char *hits = hits_of(out, &matches, &truncated);
	cr_expect(strstr(hits, "truth:1") && strstr(hits, "truth:2"), "%s", out);
	cr_expect_eq(matches, 2, "%s", out);
	cr_expect_eq(truncated, 0, "%s", out);
	free(hits);
	free(out);
}

Test(cli_search, one_character_ranks_every_matching_page)
{
	long matches;
	int truncated;
	/* 議 is on the true page only, behind the decoys (審査, not 審議) */
	char *out = search("議", "--json", 0);
	char *hits = hits_of(out, &matches, &truncated);
	cr_expect_str_eq(hits, "truth:1", "%s", out);
	free(hits);
	free(out);
	/* 案 is on all 1,202 pages; the best is the last one indexed */
	out = search("案", "--json --limit 5", 0);
	hits = hits_of(out, &matches, &truncated);
	cr_expect_eq(strncmp(hits, "dense:1 ", 8), 0, "the densest page is not first: %s", hits);
	cr_expect(matches >= 5 && matches <= DECOY_DOCS * DOC_PAGES + 2, "%s", out);
	cr_expect_eq(truncated, 0, "%s", out);
	int shown = 0;
	for (const char *p = hits; (p = strchr(p, ':')); p++)
		shown++;
	cr_expect_eq(shown, 5, "--limit 5 showed %d: %s", shown, hits);
	/* the best 5 were settled before every page was read: the count is
	 * then a lower bound, and says so */
	cr_expect(strstr(out, "\"counted\":false") != NULL, "%s", out);
	free(hits);
	free(out);
	out = search("案", "--limit 5 2>&1 >/dev/null", 0);
	long least = 0;
	cr_expect(sscanf(out, "bunko: at least %ld pages match '案'; the best 5 shown", &least) == 1 &&
			  least >= 5 && least <= 1202, "%s", out);
	free(out);
	/* a limit above the matches reads every page and counts them */
	out = search("案", "--json --limit 2000", 0);
	hits = hits_of(out, &matches, &truncated);
	cr_expect_eq(matches, DECOY_DOCS * DOC_PAGES + 2, "%s", out);
	cr_expect(strstr(out, "\"counted\":true") != NULL, "%s", out);
	free(hits);
	free(out);

}

Test(cli_search, a_search_out_of_time_says_so)
{
	long matches;
	int truncated;
	char *out = search("案", "--json --time-limit 0", 0);
	char *hits = hits_of(out, &matches, &truncated);
	cr_expect_eq(truncated, 1, "%s", out);
	cr_expect_lt(matches, DECOY_DOCS * DOC_PAGES + 2, "%s", out);
	free(hits);
	free(out);
	out = search("案", "--time-limit 0 2>&1 >/dev/null", 0);
	cr_expect(strstr(out, "stopped at the time limit") && strstr(out, "more pages may match"),
		  "%s", out);
	free(out);
	/* with the default limit the same search is complete */
	out = search("案", "--json", 0);
	hits = hits_of(out, &matches, &truncated);
	cr_expect_eq(truncated, 0, "%s", out);
	free(hits);
	free(out);
}

/* ---- early settling gives the same best hits as reading every page ---- */

static char *varied_dir, *varied_archive;

/* 1,600 pages (more candidates than a level reads whole) of 1 to 400
 * characters drawn from a few kanji and kana with a fixed seed, so hit
 * densities spread over many tiers. */
static void varied_setup(void)
{
	static const char *const alphabet[] = { "予", "算", "案", "決", "議", "会", "の", "を", "区",
						"\n", "、" };
	struct bk_index *idx = NULL;
	struct bk_error err;
	char *out = NULL;
	uint64_t rng = 0x2545f4914f6cdd1dULL;

	varied_dir = ts_mkdtemp("cli-search-varied");
	cr_assert_not_null(varied_dir);
	varied_archive = ts_fmt("%s/a", varied_dir);
	char *cmd = ts_fmt("%s init %s", BUNKO_EXE, varied_archive);
	cr_assert_eq(ts_run(cmd, &out, 1), 0, "%s: %s", cmd, out);
	free(cmd);
	free(out);
	char *index = ts_fmt("%s/index", varied_archive);
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, index, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	for (int d = 0; d < 32; d++) {
		char *pages[50];
		for (int i = 0; i < 50; i++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			int n = 1 + (int)(rng % 400);
			/* a page leans to one character, so densities differ */
			int lean = (int)((rng >> 20) % 9);
			pages[i] = calloc((size_t)n * 3 + 1, 1);
			for (int c = 0; c < n; c++) {
				rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
				int pick = (rng >> 8) % 3 == 0 ? lean : (int)((rng >> 16) % 11);
				strcat(pages[i], alphabet[pick]);
			}
		}
		char id[16];
		snprintf(id, sizeof(id), "v%02d", d);
		put(idx, id, (const char *const *)pages, 50);
		for (int i = 0; i < 50; i++)
			free(pages[i]);
	}
	bk_index_free(&idx);
	free(index);
}

static void varied_teardown(void)
{
	ts_rmtree(varied_dir);
	free(varied_dir);
	free(varied_archive);
}

TestSuite(cli_search_settle, .init = varied_setup, .fini = varied_teardown, .timeout = 300);

Test(cli_search_settle, best_hits_are_within_the_tolerance_of_a_complete_ranking)
{
	static const char *const queries[] = { "案", "の", "区", "予算", "決議", "\"予算案\"",
					       "会議", "案 OR 区", "予算 会", "予算 -の", "議会 OR 決算",
					       "\"算案の\"", "案 区", "の 会", "の 案 OR 区", "案 区 の" };
	int settled = 0;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		char *q = ts_fmt("%s search %s '%s' --json --limit 10000", BUNKO_EXE, varied_archive,
				 queries[i]);
		char *all = NULL;
		cr_assert_eq(ts_run(q, &all, 0), 0, "%s", q);
		free(q);
		long total, matches;
		int truncated;
		char *full = hits_of(all, &total, &truncated);
		cr_assert(strstr(all, "\"counted\":true"), "'%s' at --limit 10000 not counted: %s",
			  queries[i], all);
		for (int limit = 1; limit <= 40; limit *= 3) {
			q = ts_fmt("%s search %s '%s' --json --limit %d", BUNKO_EXE, varied_archive,
				   queries[i], limit);
			char *some = NULL;
			cr_assert_eq(ts_run(q, &some, 0), 0, "%s", q);
			free(q);
			char *best = hits_of(some, &matches, &truncated);
			/* as many hits as the complete ranking's first `limit`,
			 * each a true hit, best first, and none scoring less than
			 * the limit-th of the complete ranking by more than the
			 * ranking's tolerance (index/db.c, BK_RANK_TOLERANCE 1.05):
			 * no page left unread could beat them by more */
			int nbest, nfull;
			double *sb = scores_of(some, &nbest), *sf = scores_of(all, &nfull);
			int want = limit < nfull ? limit : nfull;
			cr_expect_eq(nbest, want, "'%s' --limit %d: %s", queries[i], limit, best);
			for (int k = 0; k < nbest && k < want; k++) {
				cr_expect(k == 0 || sb[k] <= sb[k - 1], "'%s' --limit %d: not best first: %s",
					  queries[i], limit, best);
				cr_expect(sb[k] * 1.05 >= sf[want - 1] - 1e-9,
					  "'%s' --limit %d: hit %d scores %.4f, the complete ranking's %dth %.4f\n%s\n%s",
					  queries[i], limit, k + 1, sb[k], want, sf[want - 1], best, full);
			}
			for (char *h = strtok(best, " "); h; h = strtok(NULL, " ")) {
				char *key = ts_fmt(" %s ", h), *in = ts_fmt(" %s ", full);
				cr_expect(strstr(in, key), "'%s' --limit %d: %s is no hit of the complete ranking",
					  queries[i], limit, h);
				free(key);
				free(in);
			}
			free(sb);
			free(sf);
			cr_expect_leq(matches, total, "'%s'", queries[i]);
			cr_expect_eq(truncated, 0, "'%s'", queries[i]);
			settled += strstr(some, "\"counted\":false") != NULL;
			free(best);
			free(some);
		}
		free(full);
		free(all);
	}
	/* the early stop was taken, or this test shows nothing */
	cr_expect_gt(settled, 10, "only %d searches stopped early", settled);
}
