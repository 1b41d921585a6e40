/*
 * index/query.h — bunko's query language, compiled to an FTS5 MATCH
 * expression. The result is always bound as a parameter, never pasted into
 * SQL, and every user term reaches FTS5 only as double-quoted tokens that
 * bunko's tokenizer produced, so FTS5 syntax in the input (quotes, *, ^,
 * NEAR(, column filters "text:", parentheses) is plain text.
 *
 * Language:
 *   a b          both (AND)
 *   "a phrase"   the words in this order; spaces inside are ignored
 *                between Japanese characters
 *   a OR b       either; OR binds tighter than the implicit AND
 *   -a, -"a b"   excluded (NOT); a query of only excluded terms is an error
 * A Japanese term becomes a phrase over its bigrams (予算案 → 予算+算案); a
 * one-character term matches that character anywhere in a Japanese run
 * (案 → 案*: any bigram starting with it). Old kanji are folded
 * as in documents (國 = 国). A lone Japanese character separated by spaces
 * from a Japanese neighbour is joined to it ("予 算" = "予算"): that is
 * OCR-style spacing, not two words.
 */
#ifndef BUNKO_INDEX_QUERY_H
#define BUNKO_INDEX_QUERY_H

#include <stdbool.h>

#include "bunko/common.h"

/* The parsed query: every group must match (AND), a group matches if one
 * of its phrases does (OR), and no excluded phrase may match. A phrase is
 * the term's tokens (tokenizer.h, query mode) at consecutive positions. */
struct bk_query_token {
	char *text;    /* normalized token, NUL-terminated (owned) */
	int len;
	bool prefix;   /* a lone Japanese character: matches any token it starts */
	bool japanese;
};
struct bk_query_phrase { struct bk_query_token *tok; int ntok; };
struct bk_query_group { struct bk_query_phrase *alt; int nalt; };
struct bk_query {
	struct bk_query_group *groups;
	int ngroups;
	struct bk_query_phrase *excluded;
	int nexcluded;
};

/* Parses `text` into *q (release with bk_query_release, also after an
 * error). Errors name the query: "unbalanced quote in query '\"予算'". */
int bk_query_parse(const char *text, struct bk_query *q, struct bk_error *err);
void bk_query_release(struct bk_query *q);

enum bk_query_form {
	BK_QUERY_PHRASES, /* exact: phrases ("a" + "b") and prefixes, for an
			     index with positions (FTS5 detail=full) */
	BK_QUERY_TERMS    /* the candidates for bunko's index, which has no
			     positions (detail=none) but a unigram for every
			     Japanese character: each phrase becomes the AND of
			     its tokens, a lone character a plain term, and
			     excluded phrases of several tokens are left out
			     (index/match.c checks phrases on the page text) */
};
/* Writes q as an FTS5 MATCH expression (new string; NULL: out of memory). */
char *bk_query_fts5(const struct bk_query *q, enum bk_query_form form);

/* An FTS5 expression for the pages where group `g` of q may have a hit
 * density of at least 2^tier / BK_TIER_SCALE (tokenizer.h): some phrase of
 * the group has every token at that density or more (its markers of tier
 * `tier` and up). A page outside it holds each of the group's phrases less
 * densely, since a phrase occurs no more often than each of its tokens.
 * New string; NULL: out of memory. */
char *bk_query_fts5_dense(const struct bk_query *q, int g, int tier);

/* Whether q's FTS5 expression (BK_QUERY_TERMS) is its meaning: every
 * group one Japanese token (a character or a bigram, which the index
 * holds as such), every exclusion too. Then every candidate page
 * matches, and none needs its text read to be counted. */
bool bk_query_exact(const struct bk_query *q);

/* bk_query_parse + bk_query_fts5(BK_QUERY_PHRASES): the query's exact
 * meaning in FTS5 syntax (caller frees *fts5). */
int bk_query_compile(const char *text, char **fts5, struct bk_error *err);

#endif
