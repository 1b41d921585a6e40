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
 * plus every character's unigram). bunko does not use FTS5's auxiliary
 * functions: snippets are made by index/match.c.
 */
#include "index/fts5_tokenizer.h"

#include <stdlib.h>

#include "index/tokenizer.h"

/* FTS5 wants a tokenizer instance; bunko's has no state. */
struct bk_fts5_instance {
	int unused;
};

struct bk_fts5_call {
	void *ctx;
	int (*xToken)(void *, int, const char *, int, int, int);
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

static int forward_token(const struct bk_token *tok, void *ud)
{
	struct bk_fts5_call *call = ud;
	return call->xToken(call->ctx, 0, tok->text, tok->len, tok->start, tok->end);
}

static int tokenize(Fts5Tokenizer *tok, void *ctx, int flags, const char *text, int len,
		    int (*xToken)(void *, int, const char *, int, int, int))
{
	struct bk_fts5_call call = { ctx, xToken };
	enum bk_tok_mode mode = (flags & FTS5_TOKENIZE_QUERY) ? BK_TOK_QUERY : BK_TOK_INDEX;

	if (!text || len <= 0)
		return SQLITE_OK;
	return bk_tokenize(text, (size_t)len, mode, forward_token, &call);
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
