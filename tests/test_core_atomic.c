/*
 * tests/test_core_atomic.c — core/atomic.c on a real filesystem: a
 * file written through the protocol is invisible until commit, an abort
 * leaves nothing, sweep removes crash leftovers and only those, and the
 * directory and read helpers report errors that name their subject; what
 * they create takes its mode from its directory whatever the umask.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bunko/atomic.h"
#include "test_support.h"

static char *scratch;

static void setup(void)
{
	scratch = ts_mkdtemp("atomic");
	cr_assert_not_null(scratch);
}

static void teardown(void)
{
	ts_rmtree(scratch);
	free(scratch);
}

TestSuite(atomic, .init = setup, .fini = teardown);

static char *in_scratch(const char *name)
{
	char *p = NULL;
	cr_assert(asprintf(&p, "%s/%s", scratch, name) > 0);
	return p;
}

/* How many entries of `dir` (besides . and ..) contain `must_contain`
 * (NULL: all of them). */
static int count_entries(const char *dir, const char *must_contain)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    (!must_contain || strstr(de->d_name, must_contain)))
			n++;
	closedir(d);
	return n;
}

Test(atomic, file_is_invisible_until_commit)
{
	struct bk_atomic_file af;
	struct bk_error err;
	char *path = in_scratch("document.pdf");

	bk_error_init(&err);
	cr_assert_eq(bk_atomic_open(&af, path, &err), 0, "%s", err.msg);
	fputs("%PDF-1.7 first part", af.fp);
	fflush(af.fp);
	cr_assert_eq(access(path, F_OK), -1, "final name exists before commit");
	cr_assert_eq(count_entries(scratch, ".document.pdf.tmp."), 1);
	cr_assert_eq(access(af.tmp_path, F_OK), 0);

	cr_assert_eq(bk_atomic_commit(&af, &err), 0, "%s", err.msg);
	size_t len = 0;
	char *got = ts_read(path, &len);
	cr_assert_not_null(got);
	cr_assert_str_eq(got, "%PDF-1.7 first part");
	cr_assert_eq(count_entries(scratch, NULL), 1, "temporary left behind");
	cr_assert_null(af.fp);
	cr_assert_null(af.tmp_path);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "not the mode of its 0700 directory");
	free(got);
	free(path);
}

Test(atomic, abort_leaves_nothing_and_keeps_the_old_file)
{
	struct bk_atomic_file af;
	struct bk_error err;
	char *path = in_scratch("text.txt");

	bk_error_init(&err);
	cr_assert_eq(ts_write(path, "old", 3), 0);
	cr_assert_eq(bk_atomic_open(&af, path, &err), 0, "%s", err.msg);
	fputs("new content that must never appear", af.fp);
	bk_atomic_abort(&af);
	bk_atomic_abort(&af); /* twice is harmless */
	cr_assert_eq(count_entries(scratch, NULL), 1);
	char *got = ts_read(path, NULL);
	cr_assert_str_eq(got, "old");
	free(got);
	free(path);
}

Test(atomic, write_replaces_whole_content)
{
	struct bk_error err;
	char *path = in_scratch("manifest-sha256.txt");

	bk_error_init(&err);
	cr_assert_eq(bk_atomic_write(path, "a much longer first version\n", 28, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(bk_atomic_write(path, "short\n", 6, &err), 0, "%s", err.msg);
	size_t len = 0;
	char *got = ts_read(path, &len);
	cr_assert_eq(len, 6);
	cr_assert_str_eq(got, "short\n");
	cr_assert_eq(bk_atomic_write(path, "", 0, &err), 0, "%s", err.msg);
	free(got);
	got = ts_read(path, &len);
	cr_assert_eq(len, 0);
	cr_assert_eq(count_entries(scratch, NULL), 1);
	free(got);
	free(path);
}

Test(atomic, open_in_missing_directory_fails_with_the_name)
{
	struct bk_atomic_file af;
	struct bk_error err;
	char *path = in_scratch("no/such/dir/file.txt");

	bk_error_init(&err);
	cr_assert_eq(bk_atomic_open(&af, path, &err), -1);
	cr_assert_not_null(strstr(err.msg, "no/such/dir"), "%s", err.msg);
	cr_assert_null(af.fp);
	bk_atomic_abort(&af); /* safe on a closed file */
	free(path);
}

Test(atomic, sweep_removes_only_leftover_temporaries)
{
	struct bk_atomic_file af;
	struct bk_error err;
	char *keep = in_scratch("keep.tmp.txt");
	char *visible = in_scratch("data.txt");

	bk_error_init(&err);
	cr_assert_eq(ts_write(keep, "k", 1), 0);
	cr_assert_eq(ts_write(visible, "v", 1), 0);
	/* a crashed writer: open, write, never commit nor abort */
	cr_assert_eq(bk_atomic_open(&af, visible, &err), 0, "%s", err.msg);
	fputs("half", af.fp);
	fclose(af.fp);
	af.fp = NULL;
	char *leftover = in_scratch(".other.pdf.tmp.1234.AbCdEf");
	cr_assert_eq(ts_write(leftover, "x", 1), 0);
	cr_assert_eq(count_entries(scratch, NULL), 4);

	cr_assert_eq(bk_atomic_sweep(scratch, &err), 2, "%s", err.msg);
	cr_assert_eq(count_entries(scratch, NULL), 2);
	cr_assert_eq(access(keep, F_OK), 0);
	char *got = ts_read(visible, NULL);
	cr_assert_str_eq(got, "v");
	cr_assert_eq(bk_atomic_sweep(scratch, &err), 0);

	free(af.tmp_path);
	free(af.final_path);
	free(got);
	free(leftover);
	free(keep);
	free(visible);
}

Test(atomic, sweep_of_missing_directory_fails)
{
	struct bk_error err;
	char *path = in_scratch("absent");

	bk_error_init(&err);
	cr_assert_eq(bk_atomic_sweep(path, &err), -1);
	cr_assert_not_null(strstr(err.msg, "absent"), "%s", err.msg);
	free(path);
}

Test(atomic, mkdir_p_creates_parents_and_is_idempotent)
{
	struct bk_error err;
	char *deep = in_scratch("store/例規集/doc 1/data/pages");
	struct stat st;

	bk_error_init(&err);
	cr_assert_eq(bk_mkdir_p(deep, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(deep, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(bk_mkdir_p(deep, 0, &err), 0, "%s", err.msg);

	char *trailing = in_scratch("a/b/");
	cr_assert_eq(bk_mkdir_p(trailing, 0750, &err), 0, "%s", err.msg);
	char *b = in_scratch("a/b");
	cr_assert_eq(stat(b, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0750);
	free(deep);
	free(trailing);
	free(b);
}

Test(atomic, mkdir_p_refuses_a_file_in_the_way)
{
	struct bk_error err;
	char *file = in_scratch("queue");
	char *below = in_scratch("queue/job-1");

	bk_error_init(&err);
	cr_assert_eq(ts_write(file, "not a dir", 9), 0);
	cr_assert_eq(bk_mkdir_p(below, 0, &err), -1);
	cr_assert_not_null(strstr(err.msg, "queue"), "%s", err.msg);
	bk_error_init(&err);
	cr_assert_eq(bk_mkdir_p(file, 0, &err), -1, "a file passed for a directory");
	cr_assert_not_null(strstr(err.msg, "queue"), "%s", err.msg);
	bk_error_init(&err);
	cr_assert_eq(bk_mkdir_p("", 0, &err), -1);
	free(file);
	free(below);
}

Test(atomic, fsync_dir_and_read_file)
{
	struct bk_error err;
	char *path = in_scratch("bag-info.txt");
	char *absent = in_scratch("nothing-here");
	char *data = NULL;
	size_t len = 0;

	bk_error_init(&err);
	cr_assert_eq(bk_fsync_dir(scratch, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_fsync_dir(absent, &err), -1);
	cr_assert_not_null(strstr(err.msg, "nothing-here"), "%s", err.msg);

	const char text[] = "Bunko-Title: 東京都区例規集\n";
	cr_assert_eq(ts_write(path, text, sizeof(text) - 1), 0);
	cr_assert_eq(bk_read_file(path, &data, &len, &err), 0, "%s", err.msg);
	cr_assert_eq(len, sizeof(text) - 1);
	cr_assert_str_eq(data, text);
	free(data);

	bk_error_init(&err);
	cr_assert_eq(bk_read_file(absent, &data, &len, &err), -1);
	cr_assert_null(data);
	cr_assert_not_null(strstr(err.msg, "'"), "%s", err.msg);
	cr_assert_not_null(strstr(err.msg, "nothing-here"), "%s", err.msg);
	cr_assert_eq(bk_read_file(scratch, &data, &len, &err), -1);
	cr_assert_not_null(strstr(err.msg, "not a regular file"), "%s", err.msg);
	free(path);
	free(absent);
}

/* The mode of `path` (permission, set-group-ID and sticky bits). */
static unsigned mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (unsigned)st.st_mode & 07777;
}

Test(atomic, new_files_and_directories_take_their_directory_mode_whatever_the_umask)
{
	static const unsigned dir_modes[] = { 0755, 0750, 0700 };
	static const unsigned umasks[] = { 0, 022, 077, 0277 };
	struct bk_error err;
	mode_t old = umask(0);

	bk_error_init(&err);
	for (size_t u = 0; u < sizeof(umasks) / sizeof(*umasks); u++) {
		umask(umasks[u]);
		for (size_t d = 0; d < sizeof(dir_modes) / sizeof(*dir_modes); d++) {
			unsigned dm = dir_modes[d], fm = dm & 0644;
			char *dir = NULL, *file = NULL, *made = NULL, *sub = NULL;
			cr_assert(asprintf(&dir, "%s/level-%zu-%zu", scratch, u, d) > 0);
			cr_assert_eq(bk_mkdir_mode(dir, dm, &err), 0, "%s", err.msg);
			cr_assert_eq(mode_of(dir), dm, "umask %03o: %s is %04o", umasks[u], dir,
				     mode_of(dir));
			cr_assert_eq(bk_mkdir_mode(dir, dm, &err), -1, "it exists");

			cr_assert(asprintf(&file, "%s/job.meta", dir) > 0);
			cr_assert_eq(bk_atomic_write(file, "x", 1, &err), 0, "%s", err.msg);
			cr_expect_eq(mode_of(file), fm, "umask %03o: atomic file %04o in a %04o directory",
				     umasks[u], mode_of(file), dm);

			cr_assert(asprintf(&made, "%s/master.tif", dir) > 0);
			int fd = bk_create_file(made, O_EXCL, &err);
			cr_assert_geq(fd, 0, "%s", err.msg);
			close(fd);
			cr_expect_eq(mode_of(made), fm, "umask %03o: created file %04o in a %04o directory",
				     umasks[u], mode_of(made), dm);
			errno = 0;
			cr_assert_eq(bk_create_file(made, O_EXCL, &err), -1);
			cr_assert_eq(errno, EEXIST, "the caller can tell a file that exists");

			cr_assert(asprintf(&sub, "%s/data/pages", dir) > 0);
			cr_assert_eq(bk_mkdir_p(sub, 0, &err), 0, "%s", err.msg);
			cr_expect_eq(mode_of(sub), dm, "umask %03o: directory %04o in a %04o one",
				     umasks[u], mode_of(sub), dm);
			free(dir);
			free(file);
			free(made);
			free(sub);
		}
	}
	umask(old);
}

Test(atomic, a_group_shared_directory_keeps_its_group_bit_and_never_gives_write)
{
	struct bk_error err;
	char *top = in_scratch("archive"), *deep = in_scratch("archive/store/c/doc");
	char *file = in_scratch("archive/store/c/doc/text.txt");
	mode_t old = umask(0);

	bk_error_init(&err);
	cr_assert_eq(bk_mkdir_mode(top, 0775, &err), 0, "%s", err.msg);
	cr_assert_eq(chmod(top, 02775), 0);
	umask(077);
	cr_assert_eq(bk_mkdir_p(deep, 0, &err), 0, "%s", err.msg);
	/* inherited set-group-ID, no group write passed on */
	cr_expect_eq(mode_of(deep), 02755, "%04o", mode_of(deep));
	cr_assert_eq(bk_atomic_write(file, "x", 1, &err), 0, "%s", err.msg);
	cr_expect_eq(mode_of(file), 0644, "%04o", mode_of(file));
	umask(old);
	free(top);
	free(deep);
	free(file);
}
