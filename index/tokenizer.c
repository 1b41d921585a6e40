/*
 * index/tokenizer.c — normalization and tokenization (see tokenizer.h for
 * the rules). Streams over the text with no allocation: each cluster is
 * normalized into a small code-point buffer (utf8proc_decompose +
 * utf8proc_normalize_utf32, both into caller memory), then fed to a token
 * state machine that remembers only the previous Japanese character.
 *
 * Fast paths: ASCII, CJK unified ideographs and the kana blocks are already
 * NFKC-stable, so they skip utf8proc unless a combining mark follows.
 */
#include "index/tokenizer.h"

#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

#include "index/variants.h"

#define BK_NORM_MAX 32 /* code points one cluster may normalize to */

enum unit_class { UNIT_JAPANESE, UNIT_WORD, UNIT_SPACE, UNIT_OTHER, UNIT_IGNORE };

/* One normalized character and the original bytes it came from. */
struct unit {
	int32_t cp;
	int start, end;
};

struct tok_state {
	enum bk_tok_mode mode;
	bk_token_fn fn;
	void *ud;
	/* the current Japanese run */
	struct unit prev;
	int run_len;
	/* the tail of an ended run whose unigram waits to see if more follows */
	struct unit pending;
	int pending_run_len;
	/* the current Latin/digit word */
	char word[BK_TOKEN_MAX];
	int word_len, word_start, word_end;
	bool in_word;
};

bool bk_is_japanese(int cp)
{
	return (cp >= 0x3005 && cp <= 0x3007) || (cp >= 0x3021 && cp <= 0x3029) ||
	       (cp >= 0x3031 && cp <= 0x3035) || cp == 0x303b ||
	       (cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x309d && cp <= 0x309f) ||
	       (cp >= 0x30a1 && cp <= 0x30fa) || (cp >= 0x30fc && cp <= 0x30ff) ||
	       (cp >= 0x31f0 && cp <= 0x31ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	       (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0x20000 && cp <= 0x3134f);
}

/* Characters NFKC leaves alone whatever precedes them. */
static bool nfkc_stable(int32_t cp)
{
	return (cp >= 0x20 && cp < 0x7f) || (cp >= 0x4e00 && cp <= 0x9fff) ||
	       (cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x30a1 && cp <= 0x30fa) ||
	       cp == 0x30fc || cp == 0x3001 || cp == 0x3002 || cp == '\n';
}

/* True if `cp` joins the cluster before it (a combining mark, or a
 * character like U+FF9E HALFWIDTH KATAKANA VOICED SOUND MARK that
 * decomposes to one). */
bool bk_joins_previous(int cp)
{
	utf8proc_int32_t buf[4];
	int boundclass = 0;

	if (nfkc_stable(cp))
		return false;
	if (utf8proc_get_property(cp)->combining_class)
		return true;
	utf8proc_ssize_t n = utf8proc_decompose_char(cp, buf, 4, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, &boundclass);
	return n > 0 && n <= 4 && utf8proc_get_property(buf[0])->combining_class;
}

static enum unit_class classify(int32_t cp)
{
	if (bk_is_japanese(cp))
		return UNIT_JAPANESE;
	if (cp < 0x80) {
		if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') || (cp >= 'A' && cp <= 'Z'))
			return UNIT_WORD;
		return cp == ' ' || (cp >= '\t' && cp <= '\r') ? UNIT_SPACE : UNIT_OTHER;
	}
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return UNIT_WORD;
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_CF:
		return UNIT_IGNORE;
	case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
		return UNIT_SPACE;
	default:
		return UNIT_OTHER;
	}
}

static int encode(int32_t cp, char *out)
{
	return (int)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out);
}

static int emit(struct tok_state *st, const char *text, int len, int start, int end,
		bool prefix, bool japanese)
{
	struct bk_token tok = { text, len, start, end, prefix, japanese };
	return st->fn(&tok, st->ud);
}

static int emit_unigram(struct tok_state *st, const struct unit *u, bool prefix)
{
	char buf[8];
	return emit(st, buf, encode(u->cp, buf), u->start, u->end, prefix, true);
}

/* A token is about to follow: the waiting tail unigram goes first. */
static int flush_pending(struct tok_state *st)
{
	if (!st->pending_run_len)
		return 0;
	st->pending_run_len = 0;
	return emit_unigram(st, &st->pending, false);
}

static void end_run(struct tok_state *st)
{
	if (!st->run_len)
		return;
	st->pending = st->prev;
	st->pending_run_len = st->run_len;
	st->run_len = 0;
}

static int end_word(struct tok_state *st)
{
	int rc;

	if (!st->in_word)
		return 0;
	st->in_word = false;
	if ((rc = flush_pending(st)))
		return rc;
	return emit(st, st->word, st->word_len, st->word_start, st->word_end, false, false);
}

static int feed_japanese(struct tok_state *st, const struct unit *u)
{
	int rc;

	if ((rc = end_word(st)))
		return rc;
	if (!st->run_len) {
		if ((rc = flush_pending(st)))
			return rc;
		st->prev = *u;
		st->run_len = 1;
		return 0;
	}
	char buf[16];
	int n = encode(st->prev.cp, buf);
	n += encode(u->cp, buf + n);
	rc = emit(st, buf, n, st->prev.start, u->end, false, true);
	if (!rc && st->mode == BK_TOK_INDEX)
		rc = emit_unigram(st, &st->prev, false);
	st->prev = *u;
	st->run_len++;
	return rc;
}

static int feed_word(struct tok_state *st, const struct unit *u)
{
	char buf[8];
	int n = encode(u->cp, buf);

	end_run(st);
	if (!st->in_word) {
		st->in_word = true;
		st->word_len = 0;
		st->word_start = u->start;
	}
	if (st->word_len + n <= BK_TOKEN_MAX) {
		memcpy(st->word + st->word_len, buf, (size_t)n);
		st->word_len += n;
	}
	st->word_end = u->end;
	return 0;
}

static int feed(struct tok_state *st, const struct unit *u)
{
	switch (classify(u->cp)) {
	case UNIT_JAPANESE:
		return feed_japanese(st, u);
	case UNIT_WORD:
		return feed_word(st, u);
	case UNIT_SPACE: /* ends a word, never a Japanese run */
		return end_word(st);
	case UNIT_OTHER:
		end_run(st);
		return end_word(st);
	case UNIT_IGNORE:
		break;
	}
	return 0;
}

static int finish(struct tok_state *st)
{
	int rc;

	if ((rc = end_word(st)))
		return rc;
	end_run(st);
	if (!st->pending_run_len)
		return 0;
	if (st->mode != BK_TOK_QUERY)
		return flush_pending(st);
	if (st->pending_run_len == 1)
		return emit_unigram(st, &st->pending, true);
	return 0; /* query: the document's run may continue past here */
}

/* Normalizes text[start, end) (one cluster) into cps; returns the count. */
static int normalize_cluster(const char *text, int start, int end, int32_t first,
			     int first_len, utf8proc_int32_t *cps)
{
	const utf8proc_option_t opts = UTF8PROC_STABLE | UTF8PROC_COMPAT |
				       UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD;
	utf8proc_ssize_t n;

	if (end - start == first_len && nfkc_stable(first)) {
		cps[0] = first >= 'A' && first <= 'Z' ? first + 32 : first;
		return 1;
	}
	n = utf8proc_decompose((const utf8proc_uint8_t *)text + start, end - start, cps,
			       BK_NORM_MAX, opts);
	if (n < 0 || n > BK_NORM_MAX) {
		cps[0] = first; /* unnormalizable or huge expansion: keep as is */
		return 1;
	}
	n = utf8proc_normalize_utf32(cps, n, opts);
	return n < 0 ? 0 : (int)n;
}

int bk_tokenize(const char *text, size_t len, enum bk_tok_mode mode, bk_token_fn fn,
		void *ud)
{
	struct tok_state st = { .mode = mode, .fn = fn, .ud = ud };
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;
	utf8proc_int32_t cps[BK_NORM_MAX];
	int pos = 0, rc;

	while ((size_t)pos < len) {
		int32_t first, next;
		utf8proc_ssize_t n = utf8proc_iterate(s + pos, (utf8proc_ssize_t)len - pos, &first);
		if (n <= 0) { /* invalid byte: a separator */
			struct unit bad = { '?', pos, pos + 1 };
			if ((rc = feed(&st, &bad)))
				return rc;
			pos++;
			continue;
		}
		int start = pos, end = pos + (int)n, first_len = (int)n;
		while ((size_t)end < len &&
		       (n = utf8proc_iterate(s + end, (utf8proc_ssize_t)len - end, &next)) > 0 &&
		       bk_joins_previous(next))
			end += (int)n;
		int ncps = normalize_cluster(text, start, end, first, first_len, cps);
		for (int i = 0; i < ncps; i++) {
			struct unit u = { (int32_t)bk_kanji_fold((uint32_t)cps[i]), start, end };
			if ((rc = feed(&st, &u)))
				return rc;
		}
		pos = end;
	}
	return finish(&st);
}
