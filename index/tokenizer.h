/*
 * index/tokenizer.h — bunko's Japanese tokenizer, independent of SQLite.
 * index/fts5_tokenizer.c registers it with FTS5; index/query.c uses it to
 * turn query terms into the same tokens, index/match.c to check phrases
 * on a page's text.
 *
 * Normalization, per grapheme-ish cluster (a code point plus the combining
 * marks and half-width voiced sound marks that follow it):
 *   Unicode NFKC with case folding (utf8proc: COMPAT|COMPOSE|CASEFOLD):
 *   ｱ→ア, ｶﾞ→ガ, ＡＢＣ→abc, ７→7, ㍻→平成; then old/variant kanji to the
 *   modern form (國→国, National Diet Library table, index/variants.h).
 *
 * Tokens:
 *   - a Japanese run (kanji, kana, 々〆〇ー...) gives its overlapping
 *     character bigrams plus, in document mode, the run's last character
 *     as a unigram: "予算案" → 予算 算案 案. So every character of the text
 *     starts exactly one token (one position per character), which lets a
 *     1-character query be the prefix query 案* and keeps phrase positions
 *     aligned across runs;
 *   - whitespace (including newlines) between Japanese characters is
 *     ignored: "予 算" is the run "予算" (OCR output, wrapped lines);
 *   - Latin letters and digits form words ("lan", "2024"); anything else
 *     (punctuation, symbols) separates tokens and gives none.
 * Query mode differs only at the end of the text: the last run's unigram is
 * dropped (the document's run may go on: "予算" must match "予算案"), and a
 * last run of one character is marked `prefix` (案 → 案*).
 * Index mode is what FTS5 stores (index/fts5_tokenizer.c): document mode
 * plus a unigram for EVERY character of a Japanese run, emitted right
 * after the bigram that starts there ("予算案" → 予算 予 算案 算 案). The
 * index keeps no positions (detail=none, see db.c), so the extra tokens
 * cost no phrase alignment: they let a 1-character query be one plain
 * term instead of a prefix query over every bigram that starts with it.
 *
 * Trigrams (index mode as FTS5 stores it, index/fts5_tokenizer.c): for
 * every three consecutive characters ABC of a Japanese run, the token
 * BK_TRIGRAM_MARK + "ABC", so a phrase of three characters or more asks
 * the index for its trigrams and only pages that hold them in a row are
 * read: a page with 予算 and 算案 but not 予算案 is no candidate for
 * "予算案".
 * Density markers (index mode as FTS5 stores it, index/fts5_tokenizer.c):
 * after a page's tokens, one more token for each distinct token t of the
 * page that is dense enough: BK_TIER_MARK, the letter 'a' + k, then t's
 * text, where k = bk_density_tier(count of t on the page, page bytes) >= 0.
 * So FTS5, which keeps no counts, can still say "pages where t makes up at
 * least 2^k / BK_TIER_SCALE of the text": the OR of t's markers of tier k
 * and up. A page with no marker for t holds it less densely than tier 0.
 * Real tokens never contain BK_TIER_MARK or BK_TRIGRAM_MARK (a control
 * character separates tokens), and in a MATCH string a token that starts
 * with one is passed through as it is, so only bunko's own query code can
 * ask for markers and trigrams.
 *
 * Offsets: start/end are byte offsets into the ORIGINAL text, covering the
 * source characters a token came from, so snippets (index/match.c) mark
 * the right characters even when normalization changed lengths.
 */
#ifndef BUNKO_INDEX_TOKENIZER_H
#define BUNKO_INDEX_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>

#define BK_TOKEN_MAX 128 /* bytes of token text; longer words are cut */

enum bk_tok_mode { BK_TOK_DOCUMENT, BK_TOK_QUERY, BK_TOK_INDEX };

struct bk_token {
	const char *text; /* normalized UTF-8, not NUL-terminated */
	int len;
	int start, end;   /* byte range in the original text */
	bool prefix;      /* query mode: match as a prefix */
	bool japanese;    /* a bigram or unigram of a Japanese run */
};

/* Called per token in order; a non-zero return stops tokenizing and is
 * returned by bk_tokenize. */
typedef int (*bk_token_fn)(const struct bk_token *tok, void *ud);

#define BK_TIER_MARK '\x01'
#define BK_TRIGRAM_MARK '\x02'
#define BK_TIER_SCALE 4096 /* bytes: density x = count * BK_TIER_SCALE / page bytes */
#define BK_TIERS 13        /* tiers 0..12: x in [2^k, 2^(k+1)); x <= BK_TIER_SCALE */

/* The density tier of a token seen `count` times on a page of `bytes`
 * bytes: floor(log2(count * BK_TIER_SCALE / bytes)), at most BK_TIERS - 1,
 * or -1 below 1 (then no marker). */
static inline int bk_density_tier(long count, long bytes)
{
	long x = bytes > 0 ? count * BK_TIER_SCALE / bytes : 0;
	int k = -1;
	while (x > 0 && k < BK_TIERS - 1) {
		x >>= 1;
		k++;
	}
	return k;
}

/* Tokenizes `len` bytes of UTF-8 (invalid bytes separate tokens). */
int bk_tokenize(const char *text, size_t len, enum bk_tok_mode mode, bk_token_fn fn,
		void *ud);

/* True for the characters that form Japanese runs (after normalization). */
bool bk_is_japanese(int cp);

/* True if `cp` joins the character before it into one cluster (a
 * combining mark, or one like U+FF9E that decomposes to one), which
 * normalization may merge with that character. */
bool bk_joins_previous(int cp);

#endif
