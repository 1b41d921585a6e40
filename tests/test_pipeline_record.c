/*
 * tests/test_pipeline_record.c — the one record format (bunko/record.h):
 * values with newlines, '=', quotes and bytes that are not UTF-8 cannot add
 * or change a key; the writer emits only valid UTF-8 (checked by jansson's
 * strict reader, not by bunko's); the reader refuses a duplicated key, a
 * record of another format, a value of the wrong type and bytes after the
 * object.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/queue.h"
#include "bunko/record.h"
#include "test_support.h"

static char *dir;

static void setup(void)
{
	dir = ts_mkdtemp("record");
	cr_assert_not_null(dir);
}

static void teardown(void)
{
	ts_rmtree(dir);
	free(dir);
}

TestSuite(record, .init = setup, .fini = teardown);

Test(record, a_forged_line_in_a_name_stays_inside_its_value)
{
	struct bk_job_meta m, back;
	struct bk_error err;
	char *path = ts_fmt("%s/job.meta", dir);
	char *files[] = { "x\naccess=public\nfile=/etc/passwd", "a=b \"q\" \\ }" };

	bk_error_init(&err);
	bk_job_meta_init(&m);
	m.id = "job-1";
	m.collection = "c";
	m.title = "t\"}\n{\"access\":\"public\"";
	m.access = BK_ACCESS_CONFIDENTIAL;
	m.files = files;
	m.nfiles = 2;
	cr_assert_eq(bk_job_meta_write(&m, path, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_job_meta_read(&back, path, &err), 0, "%s", err.msg);
	cr_expect_eq(back.access, BK_ACCESS_CONFIDENTIAL);
	cr_expect_str_eq(back.title, m.title);
	cr_assert_eq(back.nfiles, 2);
	cr_expect_str_eq(back.files[0], files[0]);
	cr_expect_str_eq(back.files[1], files[1]);
	bk_job_meta_release(&back);
	/* and the file is one line of JSON */
	char *text = ts_read(path, NULL);
	cr_assert_not_null(text);
	cr_expect_eq(strchr(text, '\n'), text + strlen(text) - 1, "%s", text);
	free(text);
	free(path);
}

Test(record, the_writer_never_emits_invalid_utf8)
{
	const char *bad[] = { "\xff\xfe", "ab\xed\xa0\x80" "cd", "x\xc0\xafy", "\xe6\x97", "ok 例" };
	struct bk_record *r = bk_record_new(NULL);
	cr_assert_not_null(r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(bk_record_add_str(r, "v", bad[i]), 0);
	char *text = bk_record_dump(r, false);
	cr_assert_not_null(text);
	json_error_t je;
	json_t *v = json_loads(text, 0, &je); /* jansson refuses invalid UTF-8 */
	cr_assert_not_null(v, "%s: %s", text, je.text);
	json_t *a = json_object_get(v, "v");
	cr_expect_str_eq(json_string_value(json_array_get(a, 0)), "\xef\xbf\xbd\xef\xbf\xbd");
	cr_expect_str_eq(json_string_value(json_array_get(a, 4)), "ok 例");
	json_decref(v);
	free(text);
	bk_record_free(&r);
	cr_expect_null(r);
}

Test(record, the_reader_refuses_what_it_was_not_written_as)
{
	static const struct {
		const char *text, *expect;
	} cases[] = {
		{ "{\"format\":\"bunko-job\",\"version\":1,\"access\":\"confidential\","
		  "\"access\":\"public\"}\n", "duplicate" },
		{ "{\"format\":\"bunko-result\",\"version\":1}\n", "is not a bunko-job record" },
		{ "{\"format\":\"bunko-job\",\"version\":2}\n", "unknown bunko-job record version" },
		{ "{\"format\":\"bunko-job\",\"version\":1}\naccess=public\n", "end of file expected" },
		{ "bunko-job 1\nid=x\n", "is not a bunko-job record" },
		{ "{\"format\":\"bunko-job\",\"version\":1,\"id\":\"x\",\"collection\":\"c\","
		  "\"files\":[\"a\"],\"profile\":\"record\",\"access\":\"public\",\"tries\":\"1\"}\n",
		  "'tries' is not an integer" },
		{ "{\"format\":\"bunko-job\",\"version\":1,\"id\":\"x\",\"collection\":\"c\","
		  "\"files\":[\"a\"],\"profile\":\"record\",\"access\":\"everyone\"}\n",
		  "unknown access level 'everyone'" },
	};
	char *path = ts_fmt("%s/job.meta", dir);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bk_job_meta m;
		struct bk_error err;
		bk_error_init(&err);
		cr_assert_eq(ts_write(path, cases[i].text, strlen(cases[i].text)), 0);
		cr_expect_eq(bk_job_meta_read(&m, path, &err), -1, "case %zu read", i);
		cr_expect(strstr(err.msg, cases[i].expect) != NULL, "case %zu: %s", i, err.msg);
	}
	free(path);
}
