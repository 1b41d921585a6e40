/*
 * index/match.h — a parsed query (query.h) checked against a page's text:
 * the exact phrase test that bunko's position-free index (db.c) leaves to
 * the candidates it returns, the term counts that rank them, and the
 * snippet shown for a hit. Pure C over index/tokenizer.c; no SQLite.
 *
 * Semantics are those of an FTS5 phrase over the document-mode tokens
 * (tokenizer.h): consecutive tokens equal to the query's, a lone Japanese
 * query character matching any token it starts. A phrase that is one
 * Japanese run ("予算案") is first looked for byte for byte in the text, in
 * each of its spellings with the old kanji that fold to its characters
 * (up to 8 spellings: 国会 is also looked for as 國會, 國会, 国會):
 * wherever one occurs literally (and no combining mark follows) the tokens
 * there are exactly the phrase's, so a literal hit is a true hit and only
 * pages without one are tokenized.
 */
#ifndef BUNKO_INDEX_MATCH_H
#define BUNKO_INDEX_MATCH_H

#include <stddef.h>

#include "bunko/common.h"
#include "index/query.h"

#define BK_SNIPPET_CONTEXT 20 /* characters shown either side of a hit */

struct bk_matcher;

/* Prepares `q` (borrowed: it must outlive the matcher). */
int bk_matcher_new(struct bk_matcher **m, const struct bk_query *q, struct bk_error *err);
void bk_matcher_free(struct bk_matcher **m);

/* Checks a page: 1 if it matches, with tf[g] the number of hits of group
 * g (tf has q->ngroups entries); 0 if not; -1 out of memory. The counts
 * only rank, so where a phrase has literal hits they are what is counted
 * (a hit split by a line end beside them is not). */
int bk_matcher_check(struct bk_matcher *m, const char *text, size_t len, int *tf,
		     struct bk_error *err);

/* A new snippet (caller frees) of `text` around its first hit: about
 * BK_SNIPPET_CONTEXT characters either side, hits between the markers of
 * index.h, "…" where text was cut, white space between Japanese
 * characters dropped and other runs of it made one space. NULL: out of
 * memory. */
char *bk_matcher_snippet(struct bk_matcher *m, const char *text, size_t len);

/* Calls fn, in text order, for each stretch [start, end) of bytes of
 * `text` that a hit of the query's phrases (not the excluded ones) covers,
 * overlapping hits merged: what a snippet marks, for a caller that marks
 * it itself (the web pages, the hit boxes on a page image). Returns the
 * number of stretches, -1 when out of memory. */
int bk_matcher_ranges(struct bk_matcher *m, const char *text, size_t len,
		      void (*fn)(int start, int end, void *ud), void *ud, struct bk_error *err);

#endif
