/*
 * index/match.c — phrase checks, hit counts and snippets on a page's text
 * (see match.h).
 *
 * A page is tokenized at most once per check (document mode, into an
 * array of tokens whose texts live in one arena), and only when a phrase
 * has no literal form or no literal hit: for the usual query, a run of
 * Japanese characters, the check is memmem() over the text.
 */
#include "index/match.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index/index.h"
#include "index/tokenizer.h"
#include "index/variants.h"

struct doc_token {
	size_t off;      /* token text in the arena */
	int len;
	int start, end;  /* bytes of the original text */
};

struct range {
	int start, end;
};

struct bk_matcher {
	const struct bk_query *q;
	struct literal **literal[2]; /* per phrase (NULL: none): [0] the groups'
					phrases (flat), [1] the excluded ones */
	/* the current page's tokens */
	struct doc_token *tok;
	int ntok, captok;
	char *arena;
	size_t alen, acap;
	bool tokenized;
	const char *text;
	/* the current page without white space, if it is plain */
	char *squeezed;
	size_t slen, scap;
	int squeezed_state;       /* 0 not made, 1 made, -1 the page is not plain */
};

/* ---- literal forms --------------------------------------------------------- */

static int utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static int decode(const char *s, size_t avail, int *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	int n = utf8_len(u[0]);
	if ((size_t)n > avail)
		return *cp = -1, 1;
	switch (n) {
	case 1: *cp = u[0]; break;
	case 2: *cp = ((u[0] & 0x1f) << 6) | (u[1] & 0x3f); break;
	case 3: *cp = ((u[0] & 0x0f) << 12) | ((u[1] & 0x3f) << 6) | (u[2] & 0x3f); break;
	default:
		*cp = ((u[0] & 0x07) << 18) | ((u[1] & 0x3f) << 12) | ((u[2] & 0x3f) << 6) | (u[3] & 0x3f);
	}
	return n;
}

#define BK_SPELLINGS 8      /* spellings of one character looked for */
#define BK_LITERAL_CHARS 64

/* A phrase that is one Japanese run, as the characters a text may have
 * in its place: at each position the normalized character itself and the
 * old forms the variant table folds to it (国: 国 and 國). Other
 * spellings (compatibility forms, half-width kana) are left to the
 * tokenizing path. The text is searched for the anchor, the longest
 * stretch of positions with one spelling each (or, if there is none, the
 * position with the fewest: one search per spelling), and each hit is
 * then checked outwards. */
struct literal {
	int nchars;
	uint32_t alt[BK_LITERAL_CHARS][BK_SPELLINGS];
	int nalt[BK_LITERAL_CHARS];
	int a, b;                          /* the anchor: positions [a, b) */
	char anchor[BK_SPELLINGS][BK_LITERAL_CHARS * 4 + 1];
	int nanchor;
	bool complete;                     /* every spelling is in alt[] */
};

/* Writes up to max spellings of cp; *complete false if there are more. */
static int spellings(uint32_t cp, uint32_t *out, int max, bool *complete)
{
	int n = 0;
	out[n++] = cp;
	for (unsigned i = 0; i < bk_nvariants; i++) {
		if (bk_variants[i].to != cp)
			continue;
		if (n == max) {
			*complete = false;
			break;
		}
		out[n++] = bk_variants[i].from;
	}
	return n;
}

static size_t encode_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80)
		return out[0] = (char)cp, 1;
	if (cp < 0x800)
		return out[0] = (char)(0xc0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3f)), 2;
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Picks the anchor: the longest stretch of single-spelling positions. */
static void choose_anchor(struct literal *l)
{
	int best_len = 0, fewest = 0;
	for (int i = 0; i < l->nchars;) {
		int j = i;
		while (j < l->nchars && l->nalt[j] == 1)
			j++;
		if (j - i > best_len)
			best_len = j - i, l->a = i, l->b = j;
		i = j > i ? j : i + 1;
	}
	if (best_len) {
		size_t o = 0;
		for (int i = l->a; i < l->b; i++)
			o += encode_utf8(l->alt[i][0], l->anchor[0] + o);
		l->anchor[0][o] = '\0';
		l->nanchor = 1;
		return;
	}
	for (int i = 1; i < l->nchars; i++)
		if (l->nalt[i] < l->nalt[fewest])
			fewest = i;
	l->a = fewest;
	l->b = fewest + 1;
	l->nanchor = l->nalt[fewest];
	for (int k = 0; k < l->nanchor; k++)
		l->anchor[k][encode_utf8(l->alt[fewest][k], l->anchor[k])] = '\0';
}

/* The literal form of a phrase, or NULL if it is not one Japanese run
 * (words, several runs), too long, or out of memory. */
static struct literal *literal_of(const struct bk_query_phrase *p)
{
	struct literal *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->complete = true;
	for (int i = 0; i < p->ntok; i++) {
		const struct bk_query_token *t = &p->tok[i];
		int cps[3] = { 0 }, n = 0;
		for (int o = 0; o < t->len && n < 3; n++)
			o += decode(t->text + o, (size_t)(t->len - o), &cps[n]);
		bool shape = t->japanese && (t->prefix ? p->ntok == 1 && n == 1 : n == 2);
		/* consecutive bigrams of one run share a character */
		if (!shape || (i && (uint32_t)cps[0] != l->alt[l->nchars - 1][0]) ||
		    l->nchars + (i ? 1 : n) > BK_LITERAL_CHARS) {
			free(l);
			return NULL;
		}
		for (int k = i ? 1 : 0; k < n; k++, l->nchars++)
			l->nalt[l->nchars] = spellings((uint32_t)cps[k], l->alt[l->nchars], BK_SPELLINGS,
						       &l->complete);
	}
	choose_anchor(l);
	return l;
}

static bool spelled(const struct literal *l, int pos, int cp)
{
	for (int k = 0; k < l->nalt[pos]; k++)
		if (l->alt[pos][k] == (uint32_t)cp)
			return true;
	return false;
}

/* Checks positions [0, a) before byte `at` and [b, nchars) from byte
 * `after`; on success sets *end to the byte after the match. */
static bool literal_around(const struct literal *l, const char *text, size_t len, size_t at,
			   size_t after, size_t *end)
{
	for (int i = l->a - 1; i >= 0; i--) {
		int cp;
		if (!at)
			return false;
		do
			at--;
		while (at > 0 && ((unsigned char)text[at] & 0xc0) == 0x80);
		decode(text + at, len - at, &cp);
		if (!spelled(l, i, cp))
			return false;
	}
	for (int i = l->b; i < l->nchars; i++) {
		int cp;
		if (after >= len)
			return false;
		after += (size_t)decode(text + after, len - after, &cp);
		if (!spelled(l, i, cp))
			return false;
	}
	*end = after;
	return true;
}

/* Occurrences of the literal in text that are not followed by a
 * combining mark (which would change the last character). */
static int literal_count(const struct literal *l, const char *text, size_t len)
{
	int count = 0;
	for (int k = 0; k < l->nanchor; k++) {
		const char *anchor = l->anchor[k];
		size_t n = strlen(anchor), step = (size_t)utf8_len((unsigned char)anchor[0]);
		const char *p = text, *end = text + len;
		while ((size_t)(end - p) >= n && (p = memmem(p, (size_t)(end - p), anchor, n))) {
			size_t at = (size_t)(p - text), stop;
			int cp = 0;
			if (literal_around(l, text, len, at, at + n, &stop)) {
				if (stop < len && ((unsigned char)text[stop] & 0x80))
					decode(text + stop, len - stop, &cp);
				if (!cp || !bk_joins_previous(cp))
					count++;
			}
			p += step;
		}
	}
	return count;
}

/* ---- plain pages ------------------------------------------------------------ */

/* Characters that normalize to themselves and never join a neighbour, or
 * that normalize to something that is not Japanese (full-width ASCII):
 * in a page of only these (plus white space) the tokens of a Japanese
 * run are its raw characters with the white space left out. */
static bool plain_char(int cp)
{
	/* Latin-1 less the ones NFKC turns into white space plus a combining
	 * mark (¨ ¯ ´ ¸), no-break space and soft hyphen */
	if (cp >= 0xa1 && cp <= 0xff)
		return cp != 0xa8 && cp != 0xad && cp != 0xaf && cp != 0xb4 && cp != 0xb8;
	return cp < 0x80 || (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3041 && cp <= 0x3096) ||
	       (cp >= 0x30a1 && cp <= 0x30fe) || cp == 0x309d || cp == 0x309e ||
	       (cp >= 0x3000 && cp <= 0x3011) || (cp >= 0x3014 && cp <= 0x301f) ||
	       (cp >= 0xff01 && cp <= 0xff5e) || (cp >= 0x0391 && cp <= 0x03c9) ||
	       /* punctuation, less ‗ and ‾ (white space plus a mark again) */
	       (cp >= 0x2010 && cp <= 0x2027 && cp != 0x2017) ||
	       (cp >= 0x2030 && cp <= 0x205e && cp != 0x203e) ||
	       (cp >= 0x2190 && cp <= 0x27bf) || /* arrows, math, enclosed numbers, shapes */
	       (cp >= 0x1f300 && cp <= 0x1faff); /* pictographs */
}

static bool is_white(int cp)
{
	return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x3000;
}

/* Fills m->squeezed with the page minus its white space; false if the
 * page is not plain (then only tokenizing is exact). */
static bool squeeze_page(struct bk_matcher *m, const char *text, size_t len)
{
	if (m->squeezed_state)
		return m->squeezed_state > 0;
	m->squeezed_state = -1;
	if (m->scap < len + 1) {
		char *grown = realloc(m->squeezed, len + 1);
		if (!grown)
			return false;
		m->squeezed = grown;
		m->scap = len + 1;
	}
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		int cp, n = decode(text + i, len - i, &cp);
		if (!plain_char(cp))
			return false;
		if (!is_white(cp)) {
			memcpy(m->squeezed + o, text + i, (size_t)n);
			o += (size_t)n;
		}
		i += (size_t)n;
	}
	m->squeezed[o] = '\0';
	m->slen = o;
	m->squeezed_state = 1;
	return true;
}

int bk_matcher_new(struct bk_matcher **out, const struct bk_query *q, struct bk_error *err)
{
	struct bk_matcher *m = calloc(1, sizeof(*m));
	int nalt = 0;

	*out = NULL;
	if (!m)
		return bk_error_set(err, "out of memory");
	m->q = q;
	for (int g = 0; g < q->ngroups; g++)
		nalt += q->groups[g].nalt;
	m->literal[0] = calloc((size_t)nalt + 1, sizeof(struct literal *));
	m->literal[1] = calloc((size_t)q->nexcluded + 1, sizeof(struct literal *));
	if (!m->literal[0] || !m->literal[1]) {
		bk_matcher_free(&m);
		return bk_error_set(err, "out of memory");
	}
	/* a literal that cannot be made (out of memory) just means tokenizing */
	for (int g = 0, k = 0; g < q->ngroups; g++)
		for (int a = 0; a < q->groups[g].nalt; a++)
			m->literal[0][k++] = literal_of(&q->groups[g].alt[a]);
	for (int i = 0; i < q->nexcluded; i++)
		m->literal[1][i] = literal_of(&q->excluded[i]);
	*out = m;
	return 0;
}

void bk_matcher_free(struct bk_matcher **m)
{
	if (!m || !*m)
		return;
	int nalt = 0;
	for (int g = 0; g < (*m)->q->ngroups; g++)
		nalt += (*m)->q->groups[g].nalt;
	for (int i = 0; (*m)->literal[0] && i < nalt; i++)
		free((*m)->literal[0][i]);
	for (int i = 0; (*m)->literal[1] && i < (*m)->q->nexcluded; i++)
		free((*m)->literal[1][i]);
	free((*m)->literal[0]);
	free((*m)->literal[1]);
	free((*m)->tok);
	free((*m)->arena);
	free((*m)->squeezed);
	free(*m);
	*m = NULL;
}

/* ---- tokens of the page ----------------------------------------------------- */

static int keep_token(const struct bk_token *t, void *ud)
{
	struct bk_matcher *m = ud;
	if (m->ntok == m->captok) {
		int cap = m->captok ? m->captok * 2 : 1024;
		struct doc_token *grown = realloc(m->tok, (size_t)cap * sizeof(*grown));
		if (!grown)
			return -1;
		m->tok = grown;
		m->captok = cap;
	}
	if (m->alen + (size_t)t->len > m->acap) {
		size_t cap = (m->alen + (size_t)t->len) * 2 + 4096;
		char *grown = realloc(m->arena, cap);
		if (!grown)
			return -1;
		m->arena = grown;
		m->acap = cap;
	}
	memcpy(m->arena + m->alen, t->text, (size_t)t->len);
	m->tok[m->ntok++] = (struct doc_token){ m->alen, t->len, t->start, t->end };
	m->alen += (size_t)t->len;
	return 0;
}

static int tokenize_page(struct bk_matcher *m, const char *text, size_t len)
{
	if (m->tokenized && m->text == text)
		return 0;
	m->ntok = 0;
	m->alen = 0;
	if (bk_tokenize(text, len, BK_TOK_DOCUMENT, keep_token, m))
		return -1;
	m->tokenized = true;
	m->text = text;
	return 0;
}

static bool token_matches(const struct bk_matcher *m, const struct doc_token *d,
			  const struct bk_query_token *q)
{
	const char *s = m->arena + d->off;
	if (q->prefix)
		return d->len >= q->len && !memcmp(s, q->text, (size_t)q->len);
	return d->len == q->len && !memcmp(s, q->text, (size_t)q->len);
}

/* Calls fn (if given) for each hit of p in the tokenized page; returns
 * the number of hits. */
static int phrase_hits(const struct bk_matcher *m, const struct bk_query_phrase *p,
		       void (*fn)(struct range, void *), void *ud)
{
	int count = 0;
	for (int i = 0; i + p->ntok <= m->ntok; i++) {
		int k = 0, end = 0;
		while (k < p->ntok && token_matches(m, &m->tok[i + k], &p->tok[k])) {
			if (m->tok[i + k].end > end)
				end = m->tok[i + k].end;
			k++;
		}
		if (k < p->ntok)
			continue;
		count++;
		if (fn)
			fn((struct range){ m->tok[i].start, end }, ud);
	}
	return count;
}

/* Hits of one phrase: literally if it has a literal form and a literal
 * hit, else on the tokens. */
static int count_phrase(struct bk_matcher *m, const struct bk_query_phrase *p,
			const struct literal *lit, const char *text, size_t len)
{
	int n = lit ? literal_count(lit, text, len) : 0;
	if (n)
		return n;
	/* no literal hit: on a plain page, look again across white space */
	if (lit && lit->complete && squeeze_page(m, text, len))
		return literal_count(lit, m->squeezed, m->slen);
	if (tokenize_page(m, text, len))
		return -1;
	return phrase_hits(m, p, NULL, NULL);
}

int bk_matcher_check(struct bk_matcher *m, const char *text, size_t len, int *tf,
		     struct bk_error *err)
{
	const struct bk_query *q = m->q;

	m->tokenized = false;
	m->squeezed_state = 0;
	for (int g = 0, k = 0; g < q->ngroups; g++) {
		tf[g] = 0;
		for (int a = 0; a < q->groups[g].nalt; a++, k++) {
			int n = count_phrase(m, &q->groups[g].alt[a], m->literal[0][k], text, len);
			if (n < 0)
				return bk_error_set(err, "out of memory");
			tf[g] += n;
		}
		if (!tf[g])
			return 0;
	}
	for (int i = 0; i < q->nexcluded; i++) {
		if (q->excluded[i].ntok < 2)
			continue; /* the index itself excluded these */
		int n = count_phrase(m, &q->excluded[i], m->literal[1][i], text, len);
		if (n < 0)
			return bk_error_set(err, "out of memory");
		if (n)
			return 0;
	}
	return 1;
}

/* ---- snippets ---------------------------------------------------------------- */

struct ranges {
	struct range *v;
	int n, cap;
	bool failed;
};

static void add_range(struct range r, void *ud)
{
	struct ranges *rs = ud;
	if (rs->n == rs->cap) {
		int cap = rs->cap ? rs->cap * 2 : 16;
		struct range *grown = realloc(rs->v, (size_t)cap * sizeof(*grown));
		if (!grown) {
			rs->failed = true;
			return;
		}
		rs->v = grown;
		rs->cap = cap;
	}
	rs->v[rs->n++] = r;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->start != y->start ? (x->start < y->start ? -1 : 1) : x->end - y->end;
}

/* Sorts and merges overlapping ranges. */
static void merge_ranges(struct ranges *rs)
{
	int out = 0;
	if (!rs->n) /* qsort(NULL, 0, ...) is undefined */
		return;
	qsort(rs->v, (size_t)rs->n, sizeof(*rs->v), cmp_range);
	for (int i = 0; i < rs->n; i++) {
		if (out && rs->v[i].start <= rs->v[out - 1].end) {
			if (rs->v[i].end > rs->v[out - 1].end)
				rs->v[out - 1].end = rs->v[i].end;
			continue;
		}
		rs->v[out++] = rs->v[i];
	}
	rs->n = out;
}

/* Moves `at` back (dir -1) or forward (+1) by `chars` characters. */
static int step_chars(const char *text, int len, int at, int chars, int dir)
{
	while (chars-- > 0) {
		if (dir < 0) {
			if (at <= 0)
				break;
			at--;
			while (at > 0 && ((unsigned char)text[at] & 0xc0) == 0x80)
				at--;
		} else {
			if (at >= len)
				break;
			at += utf8_len((unsigned char)text[at]);
			if (at > len)
				at = len;
		}
	}
	return at;
}

static bool is_space_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_marker(char c)
{
	return c == BK_SNIPPET_OPEN[0] || c == BK_SNIPPET_CLOSE[0];
}

/* In place: white space between two non-ASCII characters (markers looked
 * through) goes, other white space runs become one space. */
static void tidy_snippet(char *s)
{
	char *out = s;
	const char *in = s;

	while (*in) {
		if (!is_space_byte(*in)) {
			*out++ = *in++;
			continue;
		}
		while (is_space_byte(*in))
			in++;
		const char *next = in, *prev = out;
		while (*next && is_marker(*next))
			next++;
		while (prev > s && is_marker(prev[-1]))
			prev--;
		bool japanese_both = prev > s && ((unsigned char)prev[-1] & 0x80) &&
				     ((unsigned char)*next & 0x80);
		if (out > s && *in && !japanese_both)
			*out++ = ' ';
	}
	*out = '\0';
}

/* The hits of every phrase of the query's groups on the page, sorted and
 * merged, into rs (the caller frees rs->v). -1: out of memory. */
static int collect_ranges(struct bk_matcher *m, const char *text, size_t len, struct ranges *rs)
{
	const struct bk_query *q = m->q;

	m->tokenized = false;
	if (tokenize_page(m, text, len))
		return -1;
	for (int g = 0; g < q->ngroups; g++)
		for (int a = 0; a < q->groups[g].nalt; a++)
			phrase_hits(m, &q->groups[g].alt[a], add_range, rs);
	if (rs->failed)
		return -1;
	merge_ranges(rs);
	return 0;
}

int bk_matcher_ranges(struct bk_matcher *m, const char *text, size_t len,
		      void (*fn)(int start, int end, void *ud), void *ud, struct bk_error *err)
{
	struct ranges rs = { 0 };
	int rc = -1;

	if (collect_ranges(m, text, len, &rs)) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	for (int i = 0; i < rs.n; i++)
		fn(rs.v[i].start, rs.v[i].end, ud);
	rc = rs.n;
out:
	free(rs.v);
	return rc;
}

char *bk_matcher_snippet(struct bk_matcher *m, const char *text, size_t len)
{
	struct ranges rs = { 0 };
	char *out = NULL;
	int n = (int)len;

	if (collect_ranges(m, text, len, &rs))
		goto out;
	int anchor_start = rs.n ? rs.v[0].start : 0, anchor_end = rs.n ? rs.v[0].end : 0;
	int from = step_chars(text, n, anchor_start, BK_SNIPPET_CONTEXT, -1);
	int to = step_chars(text, n, anchor_end, BK_SNIPPET_CONTEXT, +1);
	size_t cap = (size_t)(to - from) + (size_t)rs.n * 2 + 2 * sizeof(BK_SNIPPET_ELLIPSIS) + 1;
	if (!(out = malloc(cap)))
		goto out;
	size_t o = 0;
	if (from > 0)
		o += (size_t)sprintf(out + o, "%s", BK_SNIPPET_ELLIPSIS);
	int at = from;
	for (int i = 0; i < rs.n && rs.v[i].start < to; i++) {
		if (rs.v[i].end <= from)
			continue;
		int s = rs.v[i].start < from ? from : rs.v[i].start;
		int e = rs.v[i].end > to ? to : rs.v[i].end;
		memcpy(out + o, text + at, (size_t)(s - at));
		o += (size_t)(s - at);
		out[o++] = BK_SNIPPET_OPEN[0];
		memcpy(out + o, text + s, (size_t)(e - s));
		o += (size_t)(e - s);
		out[o++] = BK_SNIPPET_CLOSE[0];
		at = e;
	}
	memcpy(out + o, text + at, (size_t)(to - at));
	o += (size_t)(to - at);
	out[o] = '\0';
	if (to < n)
		strcat(out + o, BK_SNIPPET_ELLIPSIS);
	tidy_snippet(out);
out:
	free(rs.v);
	return out;
}
