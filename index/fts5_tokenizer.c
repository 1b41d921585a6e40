/*
 * index/fts5_tokenizer.c — the FTS5 side of bunko's tokenizer.
 *
 * This is the one file besides index/db.c that sees SQLite's types: it
 * needs the fts5_api / fts5_tokenizer structures from <sqlite3.h> to hand
 * index/tokenizer.c's tokens to FTS5. It holds no connection of its own;
 * db.c calls bk_fts5_register() on each connection it opens.
 *
 * The fts5_api pointer is obtained the documented way: "SELECT fts5(?1)"
 * with sqlite3_bind_pointer(..., "fts5_api_ptr", ...). FTS5 calls the
 * tokenizer with FTS5_TOKENIZE_QUERY for MATCH strings (query mode: see
 * tokenizer.h; bunko's MATCH strings quote one token per string, see
 * query.h) and with DOCUMENT otherwise, also for the 'delete' command,
 * which must see exactly the tokens the insert saw (index mode: bigrams
 * plus every character's unigram, the trigram of every three characters
 * of a Japanese run, and then the density markers of tokenizer.h, counted
 * here with a hash table per call; trigrams get no markers). In a MATCH
 * string a token that starts with BK_TIER_MARK is a marker bunko's search
 * asks for and goes to FTS5 as it is. bunko does not use FTS5's auxiliary
 * functions: snippets are made by index/match.c.
 */
#include "index/fts5_internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index/tokenizer.h"

/* FTS5 wants a tokenizer instance; bunko's has no state. */
struct bk_fts5_instance {
	int unused;
};

static int create(void *ud, const char **argv, int argc, Fts5Tokenizer **out)
{
	struct bk_fts5_instance *inst;

	*out = NULL;
	if (argc > 0)
		return SQLITE_ERROR; /* bunko takes no options */
	if (!(inst = calloc(1, sizeof(*inst))))
		return SQLITE_NOMEM;
	*out = (Fts5Tokenizer *)inst;
	return SQLITE_OK;
}

static void destroy(Fts5Tokenizer *tok)
{
	free(tok);
}

/* The distinct tokens of one page and how often each occurs. */
struct token_count {
	uint32_t hash, off, count;
	int len; /* 0: empty slot */
};

struct bk_fts5_call {
	void *ctx;
	int (*xToken)(void *, int, const char *, int, int, int);
	struct token_count *slot;  /* open addressing, nslots a power of 2 */
	size_t nslots, nused;
	char *arena;               /* token texts */
	size_t alen, acap;
	bool failed;
	/* the last Japanese bigram, for the trigrams (index mode) */
	char bigram[16];
	int bigram_len, bigram_start, bigram_end;
};

static uint32_t hash_bytes(const char *s, int n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (int i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static bool grow_slots(struct bk_fts5_call *c)
{
	size_t n = c->nslots ? c->nslots * 2 : 1024;
	struct token_count *t = calloc(n, sizeof(*t));
	if (!t)
		return false;
	for (size_t i = 0; i < c->nslots; i++) {
		if (!c->slot[i].len)
			continue;
		size_t j = c->slot[i].hash & (n - 1);
		while (t[j].len)
			j = (j + 1) & (n - 1);
		t[j] = c->slot[i];
	}
	free(c->slot);
	c->slot = t;
	c->nslots = n;
	return true;
}

/* Counts one occurrence of a token. */
static void count_token(struct bk_fts5_call *c, const char *text, int len)
{
	if (c->failed || len <= 0)
		return;
	if ((c->nused + 1) * 2 > c->nslots && !grow_slots(c)) {
		c->failed = true;
		return;
	}
	uint32_t h = hash_bytes(text, len);
	size_t j = h & (c->nslots - 1);
	for (; c->slot[j].len; j = (j + 1) & (c->nslots - 1))
		if (c->slot[j].hash == h && c->slot[j].len == len &&
		    !memcmp(c->arena + c->slot[j].off, text, (size_t)len)) {
			c->slot[j].count++;
			return;
		}
	if (c->alen + (size_t)len > c->acap) {
		size_t cap = (c->alen + (size_t)len) * 2 + 4096;
		char *grown = realloc(c->arena, cap);
		if (!grown) {
			c->failed = true;
			return;
		}
		c->arena = grown;
		c->acap = cap;
	}
	memcpy(c->arena + c->alen, text, (size_t)len);
	c->slot[j] = (struct token_count){ h, (uint32_t)c->alen, 1, len };
	c->alen += (size_t)len;
	c->nused++;
}

static int utf8_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* True for a token of two characters from a Japanese run. */
static bool is_bigram(const struct bk_token *tok)
{
	if (!tok->japanese || tok->len > 8)
		return false;
	int first = utf8_len((unsigned char)tok->text[0]);
	return first < tok->len && first + utf8_len((unsigned char)tok->text[first]) == tok->len;
}

/* Index mode: a bigram BC that starts inside the previous bigram AB (the
 * same run, one character on) also gives the trigram ABC, stored as
 * BK_TRIGRAM_MARK + ABC (tokenizer.h). */
static int trigram(struct bk_fts5_call *c, const struct bk_token *tok)
{
	int rc = 0;
	if (!is_bigram(tok))
		return 0;
	if (c->bigram_len && tok->start > c->bigram_start && tok->start < c->bigram_end) {
		char buf[24];
		int first = utf8_len((unsigned char)tok->text[0]);
		buf[0] = BK_TRIGRAM_MARK;
		memcpy(buf + 1, c->bigram, (size_t)c->bigram_len);
		memcpy(buf + 1 + c->bigram_len, tok->text + first, (size_t)(tok->len - first));
		rc = c->xToken(c->ctx, 0, buf, 1 + c->bigram_len + tok->len - first, c->bigram_start,
			       tok->end);
	}
	memcpy(c->bigram, tok->text, (size_t)tok->len);
	c->bigram_len = tok->len;
	c->bigram_start = tok->start;
	c->bigram_end = tok->end;
	return rc;
}

static int forward_token(const struct bk_token *tok, void *ud)
{
	struct bk_fts5_call *call = ud;
	int rc = call->xToken(call->ctx, 0, tok->text, tok->len, tok->start, tok->end);
	if (call->slot && !rc) { /* index mode */
		count_token(call, tok->text, tok->len);
		rc = trigram(call, tok);
	}
	return rc;
}

/* The density markers of the page counted in c (tokenizer.h). */
static int emit_markers(struct bk_fts5_call *c, int bytes)
{
	char buf[BK_TOKEN_MAX + 8];
	for (size_t i = 0; i < c->nslots; i++) {
		const struct token_count *t = &c->slot[i];
		int k = t->len ? bk_density_tier(t->count, bytes) : -1;
		if (k < 0 || t->len > BK_TOKEN_MAX)
			continue;
		buf[0] = BK_TIER_MARK;
		buf[1] = (char)('a' + k);
		memcpy(buf + 2, c->arena + t->off, (size_t)t->len);
		int rc = c->xToken(c->ctx, 0, buf, t->len + 2, 0, 0);
		if (rc)
			return rc;
	}
	return 0;
}

static int tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int len,
		    int (*xToken)(void *, int, const char *, int, int, int))
{
	struct bk_fts5_call call = { .ctx = ctx, .xToken = xToken };
	bool query = flags & FTS5_TOKENIZE_QUERY;
	int rc;

	if (!text || len <= 0)
		return SQLITE_OK;
	if (query && (text[0] == BK_TIER_MARK || text[0] == BK_TRIGRAM_MARK))
		return xToken(ctx, 0, text, len, 0, len);
	if (query)
		return bk_tokenize(text, (size_t)len, BK_TOK_QUERY, forward_token, &call);
	if (!grow_slots(&call))
		return SQLITE_NOMEM;
	rc = bk_tokenize(text, (size_t)len, BK_TOK_INDEX, forward_token, &call);
	if (rc == 0 && call.failed)
		rc = SQLITE_NOMEM;
	if (rc == 0)
		rc = emit_markers(&call, len);
	free(call.slot);
	free(call.arena);
	return rc;
}

static int get_fts5_api(sqlite3 *db, fts5_api **api, struct bk_error *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1;

	*api = NULL;
	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, NULL) != SQLITE_OK) {
		bk_error_set(err, "sqlite has no fts5: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_pointer(stmt, 1, (void *)api, "fts5_api_ptr", NULL);
	sqlite3_step(stmt);
	if (!*api) {
		bk_error_set(err, "sqlite has no fts5 api");
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(stmt);
	return rc;
}

int bk_fts5_register(sqlite3 *db, struct bk_error *err)
{
	fts5_api *api;
	fts5_tokenizer methods = { create, destroy, tokenize };

	if (get_fts5_api(db, &api, err))
		return -1;
	if (api->xCreateTokenizer(api, BK_FTS5_TOKENIZER, NULL, &methods, NULL) != SQLITE_OK)
		return bk_error_set(err, "cannot register the '%s' tokenizer", BK_FTS5_TOKENIZER);
	return 0;
}
