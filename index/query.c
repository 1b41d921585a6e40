/*
 * index/query.c — the query parser (language in query.h).
 *
 * Two passes: the lexer splits the input into terms (bare words, quoted
 * phrases, OR, each possibly negated) as byte ranges of the input; the
 * parser tokenizes each term with bunko's tokenizer in query mode into a
 * struct bk_query (groups of phrases of tokens), from which FTS5 syntax is
 * written from the tokens only. Nothing of the input is copied into the
 * output except token text inside double quotes (with any '"' doubled,
 * although tokens never contain one).
 */
#include "index/query.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bunko/buf.h"
#include "index/tokenizer.h"

enum term_kind { TERM_WORD, TERM_PHRASE, TERM_OR };

struct term {
	enum term_kind kind;
	bool negated;
	int start, end; /* the text, without quotes or '-' */
};

struct terms {
	struct term *v;
	int n, cap;
};

static int push_term(struct terms *t, struct term term)
{
	if (t->n == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		struct term *grown = realloc(t->v, (size_t)cap * sizeof(*grown));
		if (!grown)
			return -1;
		t->v = grown;
		t->cap = cap;
	}
	t->v[t->n++] = term;
	return 0;
}

/* Length of the whitespace at s (ASCII or U+3000 IDEOGRAPHIC SPACE). */
static int space_len(const char *s)
{
	if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v')
		return 1;
	if (!strncmp(s, "\xe3\x80\x80", 3))
		return 3;
	return 0;
}

static int lex(const char *q, struct terms *t, struct bk_error *err)
{
	int i = 0;

	while (q[i]) {
		int sp = space_len(q + i);
		if (sp) {
			i += sp;
			continue;
		}
		struct term term = { TERM_WORD, false, 0, 0 };
		if (q[i] == '-' && q[i + 1] && !space_len(q + i + 1)) {
			term.negated = true;
			i++;
		}
		if (q[i] == '"') {
			const char *close = strchr(q + i + 1, '"');
			if (!close)
				return bk_error_set(err, "unbalanced quote in query '%s'", q);
			term.kind = TERM_PHRASE;
			term.start = i + 1;
			term.end = (int)(close - q);
			i = term.end + 1;
		} else {
			term.start = i;
			while (q[i] && !space_len(q + i) && q[i] != '"')
				i++;
			term.end = i;
			if (!term.negated && term.end - term.start == 2 && !strncmp(q + term.start, "OR", 2))
				term.kind = TERM_OR;
		}
		if (push_term(t, term))
			return bk_error_set(err, "out of memory parsing query '%s'", q);
	}
	return 0;
}

struct token_count {
	int n;
	bool lone_japanese;
};

static int count_token(const struct bk_token *tok, void *ud)
{
	struct token_count *c = ud;
	c->n++;
	c->lone_japanese = c->n == 1 && tok->japanese && tok->prefix;
	return 0;
}

static bool is_lone_japanese(const char *q, const struct term *t)
{
	struct token_count c = { 0, false };
	if (t->kind != TERM_WORD || t->negated)
		return false;
	bk_tokenize(q + t->start, (size_t)(t->end - t->start), BK_TOK_QUERY, count_token, &c);
	return c.n == 1 && c.lone_japanese;
}

static bool ends_japanese(const char *q, const struct term *t, bool at_end)
{
	/* the last (or first) character of the term, decoded via the tokenizer
	 * on a small window is overkill: check the byte ranges directly */
	struct token_count c = { 0, false };
	int s = t->start, e = t->end;
	if (t->kind != TERM_WORD || t->negated || s == e)
		return false;
	if (at_end) {
		s = e - 1;
		while (s > t->start && ((unsigned char)q[s] & 0xc0) == 0x80)
			s--;
	} else {
		e = s + 1;
		while (e < t->end && ((unsigned char)q[e] & 0xc0) == 0x80)
			e++;
	}
	bk_tokenize(q + s, (size_t)(e - s), BK_TOK_QUERY, count_token, &c);
	return c.n == 1 && c.lone_japanese;
}

/* Joins "予 算": a bare lone Japanese character and a bare Japanese
 * neighbour separated only by spaces become one term. */
static void join_spaced_japanese(const char *q, struct terms *t)
{
	int out = 0;
	for (int i = 0; i < t->n; i++) {
		if (out > 0) {
			struct term *prev = &t->v[out - 1], *cur = &t->v[i];
			if ((is_lone_japanese(q, prev) || is_lone_japanese(q, cur)) &&
			    ends_japanese(q, prev, true) && ends_japanese(q, cur, false)) {
				prev->end = cur->end;
				continue;
			}
		}
		t->v[out++] = t->v[i];
	}
	t->n = out;
}

/* Checks OR placement: every OR between two non-negated terms. */
static int check_or(const char *q, const struct terms *t, struct bk_error *err)
{
	for (int i = 0; i < t->n; i++) {
		if (t->v[i].kind != TERM_OR)
			continue;
		if (i == 0 || i == t->n - 1 || t->v[i - 1].kind == TERM_OR ||
		    t->v[i + 1].kind == TERM_OR)
			return bk_error_set(err, "'OR' needs a term on each side in query '%s'", q);
		if (t->v[i - 1].negated || t->v[i + 1].negated)
			return bk_error_set(err, "an excluded term (-word) cannot be part of "
						 "'OR' in query '%s'", q);
	}
	return 0;
}

/* ---- the parsed query ----------------------------------------------------- */

static void phrase_release(struct bk_query_phrase *p)
{
	for (int i = 0; i < p->ntok; i++)
		free(p->tok[i].text);
	free(p->tok);
	p->tok = NULL;
	p->ntok = 0;
}

void bk_query_release(struct bk_query *q)
{
	for (int g = 0; g < q->ngroups; g++) {
		for (int a = 0; a < q->groups[g].nalt; a++)
			phrase_release(&q->groups[g].alt[a]);
		free(q->groups[g].alt);
	}
	for (int i = 0; i < q->nexcluded; i++)
		phrase_release(&q->excluded[i]);
	free(q->groups);
	free(q->excluded);
	memset(q, 0, sizeof(*q));
}

static int add_token(const struct bk_token *tok, void *ud)
{
	struct bk_query_phrase *p = ud;
	struct bk_query_token *grown = realloc(p->tok, (size_t)(p->ntok + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	p->tok = grown;
	struct bk_query_token *t = &p->tok[p->ntok];
	if (!(t->text = malloc((size_t)tok->len + 1)))
		return -1;
	memcpy(t->text, tok->text, (size_t)tok->len);
	t->text[tok->len] = '\0';
	t->len = tok->len;
	t->prefix = tok->prefix;
	t->japanese = tok->japanese;
	p->ntok++;
	return 0;
}

/* Tokenizes one term into *p (no tokens: the term has nothing searchable). */
static int parse_phrase(const char *q, const struct term *t, struct bk_query_phrase *p)
{
	memset(p, 0, sizeof(*p));
	if (bk_tokenize(q + t->start, (size_t)(t->end - t->start), BK_TOK_QUERY, add_token, p)) {
		phrase_release(p);
		return -1;
	}
	return 0;
}

/* Adds terms [i, j) joined by OR (the OR terms themselves skipped) as one
 * group; members without tokens are dropped, and so is an empty group. */
static int parse_group(const char *q, const struct terms *t, int i, int j, struct bk_query *out)
{
	struct bk_query_group g = { NULL, 0 };
	for (int k = i; k < j; k++) {
		struct bk_query_phrase p;
		if (t->v[k].kind == TERM_OR)
			continue;
		if (parse_phrase(q, &t->v[k], &p))
			goto fail;
		if (!p.ntok)
			continue;
		struct bk_query_phrase *grown = realloc(g.alt, (size_t)(g.nalt + 1) * sizeof(*grown));
		if (!grown) {
			phrase_release(&p);
			goto fail;
		}
		g.alt = grown;
		g.alt[g.nalt++] = p;
	}
	if (!g.nalt)
		return 0;
	struct bk_query_group *grown = realloc(out->groups, (size_t)(out->ngroups + 1) * sizeof(*grown));
	if (!grown)
		goto fail;
	out->groups = grown;
	out->groups[out->ngroups++] = g;
	return 0;
fail:
	for (int a = 0; a < g.nalt; a++)
		phrase_release(&g.alt[a]);
	free(g.alt);
	return -1;
}

static int parse_excluded(const char *q, const struct term *t, struct bk_query *out)
{
	struct bk_query_phrase p;
	if (parse_phrase(q, t, &p))
		return -1;
	if (!p.ntok)
		return 0;
	struct bk_query_phrase *grown = realloc(out->excluded, (size_t)(out->nexcluded + 1) * sizeof(*grown));
	if (!grown) {
		phrase_release(&p);
		return -1;
	}
	out->excluded = grown;
	out->excluded[out->nexcluded++] = p;
	return 0;
}

static int parse_terms(const char *q, const struct terms *t, struct bk_query *out,
		       struct bk_error *err)
{
	for (int i = 0; i < t->n;) {
		int j = i + 1;
		while (j + 1 < t->n && t->v[j].kind == TERM_OR)
			j += 2;
		int rc = t->v[i].negated ? parse_excluded(q, &t->v[i], out)
					 : parse_group(q, t, i, j, out);
		if (rc)
			return bk_error_set(err, "out of memory parsing query '%s'", q);
		i = j;
	}
	if (!out->ngroups) {
		if (out->nexcluded)
			return bk_error_set(err, "query '%s' has only excluded terms (-word); "
						 "add a term to search for", q);
		return bk_error_set(err, "query '%s' has no searchable words", q);
	}
	return 0;
}

int bk_query_parse(const char *text, struct bk_query *q, struct bk_error *err)
{
	struct terms t = { 0 };
	int rc = -1;

	memset(q, 0, sizeof(*q));
	if (!text || !*text) {
		bk_error_set(err, "empty query");
		goto out;
	}
	if (lex(text, &t, err) || check_or(text, &t, err))
		goto out;
	join_spaced_japanese(text, &t);
	if (parse_terms(text, &t, q, err))
		goto out;
	rc = 0;
out:
	free(t.v);
	if (rc)
		bk_query_release(q);
	return rc;
}

/* ---- FTS5 syntax ----------------------------------------------------------- */

static void write_token(struct bk_buf *sb, const struct bk_query_token *tok, bool with_prefix)
{
	bk_buf_addstr(sb, "\"");
	for (int i = 0; i < tok->len; i++)
		bk_buf_add(sb, tok->text[i] == '"' ? "\"\"" : tok->text + i, tok->text[i] == '"' ? 2 : 1);
	bk_buf_addstr(sb, with_prefix && tok->prefix ? "\"*" : "\"");
}

static int utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Length of the first character of a two-character Japanese token, or 0. */
static int bigram_first(const struct bk_query_token *t)
{
	if (!t->japanese || t->prefix || t->len > 8)
		return 0;
	int first = utf8_len((unsigned char)t->text[0]);
	return first < t->len && first + utf8_len((unsigned char)t->text[first]) == t->len ? first : 0;
}

/* Whether bigrams a and b make a trigram: b follows a in one run (b
 * starts with a's second character). */
static bool makes_trigram(const struct bk_query_token *a, const struct bk_query_token *b)
{
	int fa = bigram_first(a), fb = bigram_first(b);
	return fa && fb && a->len - fa == fb && !memcmp(a->text + fa, b->text, (size_t)fb);
}

/* TERMS: the trigram of bigrams a and b if they make one: "\x02abc",
 * after " AND " unless it is the first term. */
static void write_trigram(struct bk_buf *sb, const struct bk_query_token *a,
			  const struct bk_query_token *b, bool first)
{
	if (!makes_trigram(a, b))
		return;
	int fb = bigram_first(b);
	char mark[2] = { BK_TRIGRAM_MARK, '\0' };
	bk_buf_addstr(sb, first ? "\"" : " AND \"");
	bk_buf_addstr(sb, mark);
	bk_buf_add(sb, a->text, (size_t)a->len);
	bk_buf_add(sb, b->text + fb, (size_t)(b->len - fb));
	bk_buf_addstr(sb, "\"");
}

/* PHRASES: "a" + "b"; TERMS: ("a" AND "b" AND the trigrams), a lone
 * character a plain term. A bigram inside a trigram of the phrase is left
 * out of TERMS: every page holding the trigram holds it (the index makes
 * trigrams of the bigrams it holds), and FTS5 pays for each term's whole
 * page list, which for a common bigram is most of the archive. */
static void write_phrase(struct bk_buf *sb, const struct bk_query_phrase *p,
			 enum bk_query_form form)
{
	bool terms = form == BK_QUERY_TERMS, first = true;
	if (terms && p->ntok > 1)
		bk_buf_addstr(sb, "(");
	for (int i = 0; i < p->ntok; i++) {
		if (terms && ((i + 1 < p->ntok && makes_trigram(&p->tok[i], &p->tok[i + 1])) ||
			      (i > 0 && makes_trigram(&p->tok[i - 1], &p->tok[i]))))
			continue;
		if (!first)
			bk_buf_addstr(sb, terms ? " AND " : " + ");
		write_token(sb, &p->tok[i], !terms);
		first = false;
	}
	for (int i = 0; terms && i + 1 < p->ntok; i++) {
		write_trigram(sb, &p->tok[i], &p->tok[i + 1], first);
		first = first && !makes_trigram(&p->tok[i], &p->tok[i + 1]);
	}
	if (terms && p->ntok > 1)
		bk_buf_addstr(sb, ")");
}

char *bk_query_fts5(const struct bk_query *q, enum bk_query_form form)
{
	struct bk_buf sb = { 0 };

	bk_buf_addstr(&sb, "(");
	for (int g = 0; g < q->ngroups; g++) {
		const struct bk_query_group *grp = &q->groups[g];
		if (g)
			bk_buf_addstr(&sb, " AND ");
		if (grp->nalt > 1)
			bk_buf_addstr(&sb, "(");
		for (int a = 0; a < grp->nalt; a++) {
			if (a)
				bk_buf_addstr(&sb, " OR ");
			write_phrase(&sb, &grp->alt[a], form);
		}
		if (grp->nalt > 1)
			bk_buf_addstr(&sb, ")");
	}
	bk_buf_addstr(&sb, ")");
	for (int i = 0; i < q->nexcluded; i++) {
		/* without positions a multi-token exclusion cannot be said in
		 * FTS5: NOT ("a" AND "b") would also drop pages where a and b
		 * are apart; the caller checks those on the text */
		if (form == BK_QUERY_TERMS && q->excluded[i].ntok > 1)
			continue;
		bk_buf_addstr(&sb, " NOT ");
		write_phrase(&sb, &q->excluded[i], form);
	}
	if (sb.failed) {
		bk_buf_release(&sb);
		return NULL;
	}
	return sb.data;
}

char *bk_query_fts5_dense(const struct bk_query *q, int g, int tier)
{
	struct bk_buf sb = { 0 };
	const struct bk_query_group *grp = &q->groups[g];

	bk_buf_addstr(&sb, "(");
	for (int a = 0; a < grp->nalt; a++) {
		const struct bk_query_phrase *p = &grp->alt[a];
		bk_buf_addstr(&sb, a ? " OR (" : "(");
		for (int i = 0; i < p->ntok; i++) {
			bk_buf_addstr(&sb, i ? " AND (" : "(");
			for (int k = tier; k < BK_TIERS; k++) {
				char mark[3] = { BK_TIER_MARK, (char)('a' + k), '\0' };
				bk_buf_addstr(&sb, k > tier ? " OR \"" : "\"");
				bk_buf_addstr(&sb, mark);
				for (int c = 0; c < p->tok[i].len; c++)
					bk_buf_add(&sb, p->tok[i].text[c] == '"' ? "\"\"" : p->tok[i].text + c,
					       p->tok[i].text[c] == '"' ? 2 : 1);
				bk_buf_addstr(&sb, "\"");
			}
			bk_buf_addstr(&sb, ")");
		}
		bk_buf_addstr(&sb, ")");
	}
	bk_buf_addstr(&sb, ")");
	if (sb.failed) {
		bk_buf_release(&sb);
		return NULL;
	}
	return sb.data;
}

static bool one_japanese_token(const struct bk_query_phrase *p)
{
	return p->ntok == 1 && p->tok[0].japanese;
}

bool bk_query_exact(const struct bk_query *q)
{
	for (int g = 0; g < q->ngroups; g++)
		if (q->groups[g].nalt != 1 || !one_japanese_token(&q->groups[g].alt[0]))
			return false;
	for (int i = 0; i < q->nexcluded; i++)
		if (!one_japanese_token(&q->excluded[i]))
			return false;
	return q->ngroups > 0;
}

int bk_query_compile(const char *text, char **fts5, struct bk_error *err)
{
	struct bk_query q;

	*fts5 = NULL;
	if (bk_query_parse(text, &q, err))
		return -1;
	*fts5 = bk_query_fts5(&q, BK_QUERY_PHRASES);
	bk_query_release(&q);
	if (!*fts5)
		return bk_error_set(err, "out of memory parsing query '%s'", text);
	return 0;
}
