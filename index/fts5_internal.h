/*
 * index/fts5_internal.h — registers bunko's tokenizer with a SQLite
 * connection's FTS5 under the name "bunko". Not a public header (hence
 * _internal, which tests/check_layout.cmake allows SQLite types): only
 * index/db.c includes it (it is the second of the two files that see
 * SQLite types, see fts5_tokenizer.c).
 */
#ifndef BUNKO_INDEX_FTS5_INTERNAL_H
#define BUNKO_INDEX_FTS5_INTERNAL_H

#include <sqlite3.h>

#include "bunko/common.h"

#define BK_FTS5_TOKENIZER "bunko"

/* Registers "bunko" on `db`; must be done on every connection before the
 * FTS5 table is used. */
int bk_fts5_register(sqlite3 *db, struct bk_error *err);

#endif
