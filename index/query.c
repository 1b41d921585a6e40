/*
 * index/query.c — the query parser (language in query.h).
 *
 * Two passes: the lexer splits the input into terms (bare words, quoted
 * phrases, OR, each possibly negated) as byte ranges of the input; the
 * compiler tokenizes each term with bunko's tokenizer in query mode and
 * writes FTS5 syntax from the tokens only. Nothing of the input is copied
 * into the output except token text inside double quotes (with any '"'
 * doubled, although tokens never contain one).
 */
#include "index/query.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

struct strbuf {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void sb_add(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->failed)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = (sb->len + n + 1) * 2;
		char *grown = realloc(sb->buf, cap);
		if (!grown) {
			sb->failed = true;
			return;
		}
		sb->buf = grown;
		sb->cap = cap;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

static void sb_puts(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

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

struct phrase_writer {
	struct strbuf *sb;
	int ntokens;
};

static int write_token(const struct bk_token *tok, void *ud)
{
	struct phrase_writer *pw = ud;
	if (pw->ntokens++)
		sb_puts(pw->sb, " + ");
	sb_puts(pw->sb, "\"");
	for (int i = 0; i < tok->len; i++)
		sb_add(pw->sb, tok->text[i] == '"' ? "\"\"" : tok->text + i, tok->text[i] == '"' ? 2 : 1);
	sb_puts(pw->sb, tok->prefix ? "\"*" : "\"");
	return 0;
}

/* Writes one term as an FTS5 phrase; returns its token count (0: the
 * term had nothing searchable and nothing was written). */
static int write_phrase(struct strbuf *sb, const char *q, const struct term *t)
{
	struct strbuf tmp = { 0 };
	struct phrase_writer pw = { &tmp, 0 };
	bk_tokenize(q + t->start, (size_t)(t->end - t->start), BK_TOK_QUERY, write_token, &pw);
	if (tmp.failed)
		sb->failed = true;
	else if (pw.ntokens)
		sb_add(sb, tmp.buf, tmp.len);
	free(tmp.buf);
	return pw.ntokens;
}

/* Writes terms [i, j) joined by OR (the OR terms themselves skipped);
 * returns how many members had tokens. */
static int write_group(struct strbuf *sb, const char *q, const struct terms *t, int i, int j)
{
	struct strbuf tmp = { 0 };
	int members = 0;
	for (int k = i; k < j; k++) {
		if (t->v[k].kind == TERM_OR)
			continue;
		size_t mark = tmp.len;
		if (members)
			sb_puts(&tmp, " OR ");
		if (write_phrase(&tmp, q, &t->v[k]))
			members++;
		else if (!tmp.failed && tmp.buf)
			tmp.len = mark, tmp.buf[mark] = '\0';
	}
	if (tmp.failed)
		sb->failed = true;
	else if (members > 1) {
		sb_puts(sb, "(");
		sb_add(sb, tmp.buf, tmp.len);
		sb_puts(sb, ")");
	} else if (members == 1)
		sb_add(sb, tmp.buf, tmp.len);
	free(tmp.buf);
	return members;
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

static int compile_terms(const char *q, const struct terms *t, struct strbuf *sb,
			 struct bk_error *err)
{
	struct strbuf pos = { 0 }, neg = { 0 };
	int npos = 0, nneg = 0, rc = -1;

	for (int i = 0; i < t->n;) {
		int j = i + 1;
		while (j + 1 < t->n && t->v[j].kind == TERM_OR)
			j += 2;
		if (t->v[i].negated) {
			size_t mark = neg.len;
			sb_puts(&neg, " NOT ");
			if (write_phrase(&neg, q, &t->v[i]))
				nneg++;
			else if (!neg.failed)
				neg.len = mark, neg.buf[mark] = '\0';
		} else {
			size_t mark = pos.len;
			if (npos)
				sb_puts(&pos, " AND ");
			if (write_group(&pos, q, t, i, j))
				npos++;
			else if (!pos.failed && pos.buf)
				pos.len = mark, pos.buf[mark] = '\0';
		}
		i = j;
	}
	if (pos.failed || neg.failed) {
		bk_error_set(err, "out of memory parsing query '%s'", q);
		goto out;
	}
	if (!npos) {
		if (nneg)
			bk_error_set(err, "query '%s' has only excluded terms (-word); "
					  "add a term to search for", q);
		else
			bk_error_set(err, "query '%s' has no searchable words", q);
		goto out;
	}
	sb_puts(sb, "(");
	sb_add(sb, pos.buf, pos.len);
	sb_puts(sb, ")");
	if (nneg)
		sb_add(sb, neg.buf, neg.len);
	if (sb->failed) {
		bk_error_set(err, "out of memory parsing query '%s'", q);
		goto out;
	}
	rc = 0;
out:
	free(pos.buf);
	free(neg.buf);
	return rc;
}

int bk_query_compile(const char *text, char **fts5, struct bk_error *err)
{
	struct terms t = { 0 };
	struct strbuf sb = { 0 };
	int rc = -1;

	*fts5 = NULL;
	if (!text || !*text) {
		bk_error_set(err, "empty query");
		goto out;
	}
	if (lex(text, &t, err) || check_or(text, &t, err))
		goto out;
	join_spaced_japanese(text, &t);
	if (compile_terms(text, &t, &sb, err))
		goto out;
	*fts5 = sb.buf;
	sb.buf = NULL;
	rc = 0;
out:
	free(t.v);
	free(sb.buf);
	return rc;
}
