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
 * one-character term becomes a prefix query (案 → 案*). Old kanji are folded
 * as in documents (國 = 国). A lone Japanese character separated by spaces
 * from a Japanese neighbour is joined to it ("予 算" = "予算"): that is
 * OCR-style spacing, not two words.
 */
#ifndef BUNKO_INDEX_QUERY_H
#define BUNKO_INDEX_QUERY_H

#include "bunko/common.h"

/* Compiles `text` into a new FTS5 expression in *fts5 (caller frees).
 * Errors name the query: "unbalanced quote in query '\"予算'". */
int bk_query_compile(const char *text, char **fts5, struct bk_error *err);

#endif
