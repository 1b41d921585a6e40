/*
 * tests/test_index_facets.c — the facets of a query with more candidate
 * pages than BK_FACET_EXACT, on a real index file: estimated from the
 * index's candidates and a sample checked on the text, close to the true
 * counts when most candidates are decoys (pages holding every token of a
 * phrase but not the phrase), exact when the sample finds no match or the
 * candidates are few, and never counting a level the role may not see.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/index.h"
#include "test_support.h"

#define DOC_PAGES 50

static char *dir, *idxdir;

/* 予算案件: its tokens are on every page below, the phrase only on the
 * real ones; 予算案と算案件 holds 予算案 and 算案件 but not 予算案件. */
static const char real_page[] = "今年度の予算案件を審議する。";
static const char decoy_page[] = "今年度の予算案と算案件を審議する。";

/* `ndocs` documents of collection `coll` at `level`, each page real when
 * real(doc, page), else a decoy. */
static void put_docs(struct bk_index *idx, const char *coll, enum bk_access level, int ndocs,
		     int (*real)(int doc, int page))
{
	const char *texts[DOC_PAGES];
	struct bk_error err;
	bk_error_init(&err);
	for (int d = 0; d < ndocs; d++) {
		char id[64];
		snprintf(id, sizeof(id), "%s-%02d", coll, d);
		for (int p = 0; p < DOC_PAGES; p++)
			texts[p] = real(d, p) ? real_page : decoy_page;
		struct bk_index_doc doc = { id, coll, id, "2001", "", BK_PROFILE_RECORD, level, texts, DOC_PAGES };
		cr_assert_eq(bk_index_put(idx, &doc, &err), 0, "%s", err.msg);
	}
}

/* two pages in five real, in a regular pattern */
static int two_in_five(int doc, int page)
{
	return page % 5 < 2;
}

/* three real pages among all the decoys */
static int three(int doc, int page)
{
	return doc == 7 && page < 3;
}

static void setup(void)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	dir = ts_mkdtemp("index-facets");
	cr_assert_not_null(dir);
	idxdir = malloc(strlen(dir) + 8);
	sprintf(idxdir, "%s/index", dir);
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	/* "mixed": 2,500 candidate pages, 1,000 real; "restricted" 500 more,
	 * 200 real, that a visitor's reader never opens */
	put_docs(idx, "mixed", BK_ACCESS_PUBLIC, 50, two_in_five);
	put_docs(idx, "hidden", BK_ACCESS_RESTRICTED, 10, two_in_five);
	/* a second word's documents: 2,500 decoys and three real pages */
	static const char *const real2 = "決算報告書の提出。", *const decoy2 = "決算報と算報告書の提出。";
	const char *texts[DOC_PAGES];
	for (int d = 0; d < 50; d++) {
		char id[32];
		snprintf(id, sizeof(id), "rare-%02d", d);
		for (int p = 0; p < DOC_PAGES; p++)
			texts[p] = three(d, p) ? real2 : decoy2;
		struct bk_index_doc doc = { id, "rare", id, "1999", "", BK_PROFILE_BYLAW, BK_ACCESS_PUBLIC, texts,
					    DOC_PAGES };
		cr_assert_eq(bk_index_put(idx, &doc, &err), 0, "%s", err.msg);
	}
	/* a word of one document's 50 pages */
	for (int p = 0; p < DOC_PAGES; p++)
		texts[p] = "少数語の頁。";
	struct bk_index_doc small = { "small-00", "small", "small", "2010", "", BK_PROFILE_MAP, BK_ACCESS_PUBLIC,
				      texts, DOC_PAGES };
	cr_assert_eq(bk_index_put(idx, &small, &err), 0, "%s", err.msg);
	bk_index_free(&idx);
}

static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
	free(idxdir);
}

TestSuite(facets, .init = setup, .fini = teardown, .timeout = 300);

static long value_of(const struct bk_facet_counts *f, int kind, const char *v)
{
	for (int i = 0; i < f->n[kind]; i++)
		if (!strcmp(f->v[kind][i].value, v))
			return f->v[kind][i].pages;
	return -1;
}

static void facets(enum bk_role role, const char *text, struct bk_facet_counts *f)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, idxdir, role, false, &err), 0, "%s", err.msg);
	struct bk_search_query q = { text, NULL, NULL, NULL, NULL, 0, BK_SORT_RELEVANCE, NULL };
	/* no time limit to speak of: the test is about the method, not speed */
	cr_assert_eq(bk_index_facet_counts(idx, &q, 600000, f, &err), 0, "%s", err.msg);
	bk_index_free(&idx);
}

Test(facets, decoys_are_estimated_from_the_sample_and_said_to_be)
{
	struct bk_facet_counts f;
	facets(BK_ROLE_PUBLIC, "予算案件", &f);
	cr_expect(f.estimated);
	cr_expect_not(f.counted);
	cr_expect_not(f.partial);
	cr_expect_eq(f.candidates, 2500, "%ld", f.candidates);
	cr_expect_eq(f.sampled, BK_FACET_SAMPLE);
	/* the true count is 1,000: the estimate within 15% (the sample is
	 * fixed, so this is the same every run) */
	cr_expect(f.total > 850 && f.total < 1150, "estimate %ld of 1000 (%ld of %ld sampled matched)", f.total,
		  f.confirmed, f.sampled);
	cr_expect_eq(value_of(&f, BK_FACET_COLLECTION, "mixed"), f.total);
	/* the restricted level is not opened, so neither counted nor sampled */
	cr_expect_eq(value_of(&f, BK_FACET_COLLECTION, "hidden"), -1);
	cr_expect_eq(value_of(&f, BK_FACET_ACCESS, "restricted"), -1);
	bk_facet_counts_release(&f);

	facets(BK_ROLE_STAFF, "予算案件", &f);
	cr_expect(f.estimated);
	cr_expect_eq(f.candidates, 3000);
	long hidden = value_of(&f, BK_FACET_COLLECTION, "hidden");
	cr_expect(hidden > 150 && hidden < 250, "hidden: %ld of 200", hidden);
	cr_expect_eq(value_of(&f, BK_FACET_ACCESS, "restricted"), hidden);
	bk_facet_counts_release(&f);
}

Test(facets, a_sample_without_a_match_falls_back_to_an_exact_count)
{
	struct bk_facet_counts f;
	facets(BK_ROLE_PUBLIC, "決算報告書", &f);
	cr_expect_eq(f.candidates, 2500, "%ld", f.candidates);
	cr_expect_eq(f.confirmed, 0, "the sample found %ld of the 3 pages: pick other pages", f.confirmed);
	cr_expect(f.counted);
	cr_expect_not(f.estimated);
	cr_expect_eq(f.total, 3);
	cr_expect_eq(value_of(&f, BK_FACET_COLLECTION, "rare"), 3);
	bk_facet_counts_release(&f);
}

Test(facets, few_candidates_are_counted_exactly)
{
	struct bk_facet_counts f;
	facets(BK_ROLE_PUBLIC, "少数語", &f);
	cr_expect_eq(f.candidates, 50);
	cr_expect(f.counted);
	cr_expect_not(f.estimated);
	cr_expect_eq(f.sampled, 0);
	cr_expect_eq(f.total, 50);
	cr_expect_eq(value_of(&f, BK_FACET_PROFILE, "map"), 50);
	bk_facet_counts_release(&f);
}

/* A reader keeps each level's documents in memory for its facets: a
 * document put, changed or removed by another process since must count
 * as it is now, in the same reader. */
Test(facets, a_long_lived_reader_counts_documents_put_and_removed_since)
{
	struct bk_index *reader = NULL, *writer = NULL;
	struct bk_facet_counts f;
	struct bk_error err;
	struct bk_search_query q = { "少数語", NULL, NULL, NULL, NULL, 0, BK_SORT_RELEVANCE, NULL };
	const char *texts[DOC_PAGES];

	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&reader, idxdir, BK_ROLE_PUBLIC, false, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_index_facet_counts(reader, &q, 600000, &f, &err), 0, "%s", err.msg);
	cr_expect_eq(value_of(&f, BK_FACET_COLLECTION, "small"), DOC_PAGES);
	cr_expect_eq(value_of(&f, BK_FACET_COLLECTION, "later"), -1);
	bk_facet_counts_release(&f);

	cr_assert_eq(bk_index_open(&writer, idxdir, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	for (int p = 0; p < DOC_PAGES; p++)
		texts[p] = "少数語の頁。";
	struct bk_index_doc later = { "later-00", "later", "later", "1925", "", BK_PROFILE_MAP, BK_ACCESS_PUBLIC,
				      texts, DOC_PAGES };
	cr_assert_eq(bk_index_put(writer, &later, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_index_facet_counts(reader, &q, 600000, &f, &err), 0, "%s", err.msg);
	cr_expect_eq(value_of(&f, BK_FACET_COLLECTION, "later"), DOC_PAGES, "a document put since is not counted");
	cr_expect_eq(value_of(&f, BK_FACET_DECADE, "1920"), DOC_PAGES);
	bk_facet_counts_release(&f);

	/* moved to another collection: counted under its new one only */
	later.collection = "moved";
	cr_assert_eq(bk_index_put(writer, &later, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_index_facet_counts(reader, &q, 600000, &f, &err), 0, "%s", err.msg);
	cr_expect_eq(value_of(&f, BK_FACET_COLLECTION, "moved"), DOC_PAGES);
	cr_expect_eq(value_of(&f, BK_FACET_COLLECTION, "later"), -1, "a changed document counted as it was");
	bk_facet_counts_release(&f);

	cr_assert_geq(bk_index_delete(writer, "later-00", &err), 0, "%s", err.msg);
	cr_assert_eq(bk_index_facet_counts(reader, &q, 600000, &f, &err), 0, "%s", err.msg);
	cr_expect_eq(value_of(&f, BK_FACET_COLLECTION, "moved"), -1, "a removed document is still counted");
	cr_expect_eq(f.total, DOC_PAGES);
	bk_facet_counts_release(&f);
	bk_index_free(&writer);
	bk_index_free(&reader);
}
