/*
 * tests/test_index_errors.c — an index write that fails inside its
 * transaction reports SQLite's own message for the statement that failed,
 * not the one of the ROLLBACK that follows it. The failure is real: a
 * trigger in the index file aborts the insert with a message of its own.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/index.h"
#include "test_support.h"

Test(index_errors, the_message_behind_a_rollback_is_kept)
{
	char *dir = ts_mkdtemp("index-errors");
	char *idxdir = ts_fmt("%s/index", dir);
	struct bk_index *idx = NULL;
	struct bk_error err;
	const char *pages[] = { "令和六年度の予算について" };
	struct bk_index_doc doc = { "doc1", "gian", "議案", "2024-01-01", "x.pdf",
				    BK_PROFILE_RECORD, BK_ACCESS_PUBLIC, pages, 1 };

	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_index_put(idx, &doc, &err), 0, "%s", err.msg);
	bk_index_free(&idx);

	char *db_path = ts_fmt("%s/public.db", idxdir);
	sqlite3 *db = NULL;
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK,
		     "%s", db_path);
	cr_assert_eq(sqlite3_exec(db, "CREATE TRIGGER refuse BEFORE INSERT ON doc BEGIN "
				      "SELECT RAISE(ABORT, 'the disk said no'); END;",
				  NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);

	cr_assert_eq(bk_index_open(&idx, idxdir, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	doc.id = "doc2";
	cr_expect_eq(bk_index_put(idx, &doc, &err), -1);
	cr_expect(strstr(err.msg, "cannot index 'doc2' in the public index: the disk said no"),
		  "%s", err.msg);
	bk_index_free(&idx);
	free(db_path);
	ts_rmtree(dir);
	free(idxdir);
	free(dir);
}
