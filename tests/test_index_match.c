/*
 * tests/test_index_match.c — the text side of search: phrase checks on a
 * page's text (literal hits, hits across white space and line ends, old
 * kanji in the text, half-width kana and combining marks that only the
 * tokenizer sees right, bigrams present but apart), hit counts,
 * exclusions, snippets, and the stored page form (UTF-16 packing) coming
 * back byte for byte.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "index/match.h"
#include "index/pagetext.h"
#include "index/query.h"

/* Returns the hits of group 0 of `query` on `text`, or 0 if the page does
 * not match. */
static int hits(const char *query, const char *text)
{
	struct bk_query q;
	struct bk_matcher *m = NULL;
	struct bk_error err;
	int tf[8] = { 0 };
	bk_error_init(&err);
	cr_assert_eq(bk_query_parse(query, &q, &err), 0, "%s", err.msg);
	cr_assert_leq(q.ngroups, 8);
	cr_assert_eq(bk_matcher_new(&m, &q, &err), 0, "%s", err.msg);
	int rc = bk_matcher_check(m, text, strlen(text), tf, &err);
	cr_assert_geq(rc, 0, "%s", err.msg);
	bk_matcher_free(&m);
	bk_query_release(&q);
	return rc ? tf[0] : 0;
}

static char *snippet(const char *query, const char *text)
{
	struct bk_query q;
	struct bk_matcher *m = NULL;
	struct bk_error err;
	bk_error_init(&err);
	cr_assert_eq(bk_query_parse(query, &q, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_matcher_new(&m, &q, &err), 0, "%s", err.msg);
	char *s = bk_matcher_snippet(m, text, strlen(text));
	cr_assert_not_null(s);
	bk_matcher_free(&m);
	bk_query_release(&q);
	return s;
}

Test(match, literal_phrases_and_counts)
{
	cr_assert_eq(hits("予算案", "令和六年度予算案と補正予算案。"), 2);
	cr_assert_eq(hits("予算", "予算"), 1);
	cr_assert_eq(hits("案", "予算案、議案、案内"), 3);
	cr_assert_eq(hits("ああ", "あああ"), 2); /* overlapping, as FTS5 counts phrases */
	cr_assert_eq(hits("予算案", "予算の案"), 0);
}

Test(match, bigrams_present_but_apart_do_not_match)
{
	/* 予算, 算案 both occur, never as 予算案: the index alone would say yes */
	cr_assert_eq(hits("予算案", "予算の計算案を作る。"), 0);
	cr_assert_eq(hits("していき", "している。いきます。ていねいに"), 0);
}

Test(match, white_space_and_line_ends_inside_runs)
{
	cr_assert_eq(hits("予算案", "予算\n案を審議"), 1);
	cr_assert_eq(hits("予算案", "予 算　案"), 1);          /* ideographic space */
	/* a literal hit and a spaced one: counts are of literal hits when there
	 * are any (they only rank), so at least one */
	cr_assert_geq(hits("予算案", "予算\n案と予算案"), 1);
	/* a Latin word or punctuation between breaks the run */
	cr_assert_eq(hits("予算案", "予算 a 案"), 0);
	cr_assert_eq(hits("予算案", "予算、案"), 0);
}

Test(match, spellings_the_text_may_use)
{
	cr_assert_eq(hits("国会", "帝國議會と國會"), 1);        /* old kanji in the text */
	cr_assert_eq(hits("國會", "国会"), 1);                  /* old kanji in the query */
	cr_assert_eq(hits("東京市区会", "東京市區會の議事録"), 1);
	/* only the tokenizer knows these: half-width kana, a page that is not plain */
	cr_assert_eq(hits("ガス", "都市ｶﾞｽの料金"), 1);
	cr_assert_eq(hits("平成元年", "㍻元年四月"), 1);
	/* a combining mark changes the character before it: か+゛ is が */
	cr_assert_eq(hits("か", "か\xe3\x82\x99き"), 0);
	cr_assert_eq(hits("がき", "か\xe3\x82\x99き"), 1);
}

Test(match, words_groups_and_exclusions)
{
	cr_assert_eq(hits("\"tokyo ward\"", "Tokyo Ward LAN"), 1);
	cr_assert_eq(hits("\"ward tokyo\"", "Tokyo Ward LAN"), 0);
	cr_assert_eq(hits("a03号", "令和a03号の予算"), 1);
	cr_assert_eq(hits("決算 OR 予算案", "予算案の審議"), 1);
	cr_assert_eq(hits("予算 -\"決算の比較\"", "予算と決算の比較"), 0);
	cr_assert_eq(hits("予算 -\"決算の比較\"", "予算と決算、比較"), 1);
	cr_assert_eq(hits("予算 -\"決算の比較\"", "予算と決算の\n比較"), 0);
}

Test(match, snippet_marks_hits_in_a_window)
{
	char *s = snippet("帝国", "大日本帝國憲法");
	cr_assert_str_eq(s, "大日本[帝國]憲法");
	free(s);
	s = snippet("執行", "予 算 の 執 行 状 況");
	cr_assert(strstr(s, "[執行]"), "%s", s);
	free(s);
	char text[4096] = "";
	for (int i = 0; i < 40; i++)
		strcat(text, "あいうえお");
	strcat(text, "予算案");
	for (int i = 0; i < 40; i++)
		strcat(text, "かきくけこ");
	s = snippet("予算", text);
	cr_assert(strstr(s, "[予算]案"), "%s", s);
	cr_assert(!strncmp(s, "…", strlen("…")), "%s", s);
	cr_assert(strstr(s + strlen(s) - strlen("…"), "…"), "%s", s);
	cr_assert_lt(strlen(s), 60 * 3, "%s", s);
	free(s);
}

static void round_trip(const char *text, bool expect_packed)
{
	unsigned char *packed = NULL;
	size_t plen, len;
	bool is_packed;
	char *back = NULL;
	size_t cap = 0;
	struct bk_error err;
	bk_error_init(&err);
	cr_assert_eq(bk_pagetext_pack(text, strlen(text), &packed, &plen, &is_packed, &err), 0);
	cr_assert_eq(is_packed, expect_packed, "%.40s", text);
	if (!is_packed)
		return;
	cr_assert_lt(plen, strlen(text));
	cr_assert_eq(bk_pagetext_unpack(packed, plen, &back, &cap, &len, &err), 0, "%s", err.msg);
	cr_assert_eq(len, strlen(text));
	cr_assert_eq(memcmp(back, text, len), 0);
	free(packed);
	free(back);
}

Test(match, stored_pages_come_back_byte_for_byte)
{
	char jp[2048] = "", latin[2048] = "", astral[2048] = "", bad[2048] = "";
	for (int i = 0; i < 40; i++) {
		strcat(jp, "令和六年度の予算案（第3号）\n");
		strcat(latin, "Tokyo Ward budget, 2024.\n");
		strcat(astral, "𠮷野家の\xf0\x9f\x98\xbe予算。");
		strcat(bad, "予算\xff案");
	}
	round_trip(jp, true);
	round_trip(astral, true);
	round_trip(latin, false); /* UTF-16 would be larger */
	round_trip(bad, false);   /* not valid UTF-8: kept as is */
	round_trip("予算案", false); /* short */
}
