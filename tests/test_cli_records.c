/*
 * tests/test_cli_records.c — what a user (or an attacker) can put into the
 * real `bunko` through file names, titles, collections and queries, and
 * what comes out:
 *   - a file name with a newline (a forged "access=public" line after it)
 *     or bytes that are not UTF-8 is refused with one clear line, and no
 *     job is queued;
 *   - titles that are not UTF-8 (invalid bytes, an encoded surrogate, an
 *     overlong form) or too long are refused;
 *   - file names with '=', quotes and backslashes, and input files named
 *     job.meta, heartbeat and work (one of them hard-linked to the user's
 *     original), are queued and processed as scans: job.meta keeps the
 *     job's own metadata (access stays confidential), the masters keep
 *     their names, the user's original is not touched;
 *   - every --json output (search, status, verify) parses as strict UTF-8
 *     JSON for a hostile title and collection, and gives them back exactly;
 *   - every damaged file, from samples/bad and truncated PNG, JPEG and TIFF
 *     made here, costs exactly one line on stderr, naming the file (and the
 *     page where a page was read); a query with a newline is echoed on one
 *     line, escaped.
 * JSON is checked by Python's json module reading the bytes as strict
 * UTF-8, and the values by jansson: neither is bunko's own reader.
 *
 * And no lost errors (suite "errors"):
 *   - a worker process that cannot start (its archive lost the store
 *     directory after the supervisor opened the queue) writes its real
 *     message into the host's log, although its own log was not open yet,
 *     and `bunko status` (text and --json) shows it;
 *   - a lease the heartbeat thread cannot renew (the claim's heartbeat was
 *     replaced by a directory while the job ran) is logged with the reason
 *     and shown by `bunko status`.
 * (The SQLite message behind a rollback: tests/test_index_errors.c.)
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_support.h"

static char *scratch, *archive;

static void setup(void)
{
	scratch = ts_mkdtemp("cli-records");
	cr_assert_not_null(scratch);
	archive = ts_fmt("%s/archive", scratch);
	const char *argv[] = { BUNKO_EXE, "init", archive, NULL };
	cr_assert_eq(ts_run_argv(argv, NULL, NULL), 0);
}

static void teardown(void)
{
	ts_rmtree(scratch);
	free(archive);
	free(scratch);
}

TestSuite(records, .init = setup, .fini = teardown, .timeout = 600);

/* Lines in `text` (a final line without '\n' counts). */
static int count_lines(const char *text)
{
	int n = 0;
	for (const char *p = text; p && *p; p++)
		if (*p == '\n' || !p[1])
			n++;
	return n;
}

/* Copies sample `sample` to `dir`/`name` (any bytes); returns the path. */
static char *copy_sample(const char *sample, const char *dir, const char *name)
{
	char *src = ts_sample(sample), *dst = ts_fmt("%s/%s", dir, name);
	size_t len = 0;
	char *data = ts_read(src, &len);
	cr_assert_not_null(data, "%s", src);
	cr_assert_eq(ts_write(dst, data, len), 0, "cannot write %s", dst);
	free(data);
	free(src);
	return dst;
}

static int entries_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!d)
		return 0; /* not even created */
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Parses `text` as JSON with Python: strict UTF-8, every line one value
 * (`per_line`; lines end at '\n' only: U+2028 inside a string is no line
 * break) or the whole text one value. */
static void expect_python_parses(const char *text, bool per_line, const char *what)
{
	char *path = ts_fmt("%s/out.json", scratch);
	cr_assert_eq(ts_write(path, text, strlen(text)), 0);
	char *cmd = ts_fmt("python3 -c 'import json,sys\n"
			   "t = open(sys.argv[1], \"rb\").read().decode(\"utf-8\", \"strict\")\n"
			   "%s' '%s'", per_line ? "[json.loads(l) for l in t.split(\"\\n\") if l]"
						: "json.loads(t)", path);
	char *out = NULL;
	cr_expect_eq(ts_run(cmd, &out, 1), 0, "%s is not strict UTF-8 JSON: %s\n%s", what, out,
		     text);
	free(out);
	free(cmd);
	free(path);
}

static json_t *parse(const char *text, const char *what)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	cr_assert_not_null(v, "%s: %s in %s", what, je.text, text);
	return v;
}

Test(records, names_that_would_forge_a_record_are_refused)
{
	char *dir = ts_fmt("%s/in", scratch);
	cr_assert_eq(mkdir(dir, 0755), 0);
	char *incoming = ts_fmt("%s/queue/incoming", archive);
	const char *names[] = { "x\naccess=public.png", "x\raccess=public.png",
				"tab\there.png", "\xff\xfe.png", "bad\xc0\xafslash.png" };
	const char *expect[] = { "contains a control character", "contains a control character",
				 "contains a control character", "is not valid UTF-8",
				 "is not valid UTF-8" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *path = copy_sample("blank.png", dir, names[i]);
		const char *argv[] = { BUNKO_EXE, "add", archive, path, "--collection", "c",
				       "--access", "confidential", NULL };
		char *err = NULL;
		cr_expect_eq(ts_run_argv(argv, NULL, &err), 1, "name %zu accepted", i);
		cr_expect_eq(count_lines(err), 1, "name %zu: not one line: %s", i, err);
		cr_expect(strstr(err, "bunko: file name '") && strstr(err, expect[i]),
			  "name %zu: %s", i, err);
		free(err);
		free(path);
	}
	cr_expect_eq(entries_in(incoming), 0, "a refused add queued a job");

	/* titles: not UTF-8, an encoded surrogate, an overlong '/', too long */
	char long_title[1100];
	memset(long_title, 'a', sizeof(long_title) - 1);
	long_title[sizeof(long_title) - 1] = '\0';
	const char *titles[] = { "\xff\xfe", "ab\xed\xa0\x80" "cd", "x\xc0\xafy", "one\ntwo",
				 long_title };
	char *scan = copy_sample("blank.png", dir, "ok.png");
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
		const char *argv[] = { BUNKO_EXE, "add", archive, scan, "--collection", "c",
				       "--title", titles[i], NULL };
		char *err = NULL;
		cr_expect_eq(ts_run_argv(argv, NULL, &err), 2, "title %zu accepted", i);
		cr_expect(strncmp(err, "bunko add: title '", 18) == 0, "title %zu: %s", i, err);
		cr_expect(strchr(err, '\n') && strstr(strchr(err, '\n') + 1, "usage: bunko add"),
			  "title %zu: the message is not one line before the usage: %s", i, err);
		free(err);
	}
	/* a collection is checked the same way */
	const char *argv[] = { BUNKO_EXE, "add", archive, scan, "--collection", "c\xff", NULL };
	char *err = NULL;
	cr_expect_eq(ts_run_argv(argv, NULL, &err), 2);
	cr_expect(strstr(err, "is not valid UTF-8") != NULL, "%s", err);
	free(err);
	cr_expect_eq(entries_in(incoming), 0, "a refused add queued a job");
	free(scan);
	free(incoming);
	free(dir);
}

#define HOSTILE_TITLE "例規 \"quoted\" \\back\\ }{ access=public \u2028 'x'"
#define HOSTILE_COLLECTION "議案 \"c\"=\\x"

Test(records, hostile_but_valid_names_are_kept_exactly)
{
	char *dir = ts_fmt("%s/in", scratch);
	cr_assert_eq(mkdir(dir, 0755), 0);
	/* the text page carries names with '=' and quotes; the reserved names
	 * are blank pages (fast to read) */
	char *text = copy_sample("eng.png", dir, "a=b \"q\" 'x' \\.png");
	char *meta = copy_sample("blank.png", dir, "job.meta");
	char *hb = copy_sample("blank.png", dir, "heartbeat");
	char *work = copy_sample("blank.png", dir, "work");
	/* an old mtime on the original: the worker must never touch it (a
	 * hard-linked input would be the same inode) */
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	cr_assert_eq(utimensat(AT_FDCWD, hb, old, 0), 0);

	const char *add[] = { BUNKO_EXE, "add", archive, text, meta, hb, work, "--collection",
			      HOSTILE_COLLECTION, "--access", "confidential", "--title",
			      HOSTILE_TITLE, NULL };
	char *id = NULL, *err = NULL;
	cr_assert_eq(ts_run_argv(add, &id, &err), 0, "%s", err);
	free(err);
	id[strcspn(id, "\n")] = '\0';

	/* job.meta, read by jansson: the job's own values, the names exact */
	char *meta_path = ts_fmt("%s/queue/incoming/%s/job.meta", archive, id);
	json_error_t je;
	json_t *m = json_load_file(meta_path, JSON_REJECT_DUPLICATES, &je);
	cr_assert_not_null(m, "%s: %s", meta_path, je.text);
	cr_expect_str_eq(json_string_value(json_object_get(m, "access")), "confidential");
	cr_expect_str_eq(json_string_value(json_object_get(m, "title")), HOSTILE_TITLE);
	cr_expect_str_eq(json_string_value(json_object_get(m, "collection")), HOSTILE_COLLECTION);
	json_t *files = json_object_get(m, "files");
	cr_assert_eq(json_array_size(files), 4);
	cr_expect_str_eq(json_string_value(json_array_get(files, 0)), "a=b \"q\" 'x' \\.png");
	cr_expect_str_eq(json_string_value(json_array_get(files, 1)), "job.meta");
	cr_expect_str_eq(json_string_value(json_array_get(files, 2)), "heartbeat");
	cr_expect_str_eq(json_string_value(json_array_get(files, 3)), "work");
	json_decref(m);
	free(meta_path);

	const char *worker[] = { BUNKO_EXE, "worker", archive, "--drain", NULL };
	err = NULL;
	cr_assert_eq(ts_run_argv(worker, NULL, &err), 0, "%s", err);
	cr_expect_str_eq(err, "", "the worker printed: %s", err);
	free(err);

	struct stat st;
	cr_assert_eq(stat(hb, &st), 0);
	cr_expect_eq(st.st_mtim.tv_sec, 1000000000, "the user's 'heartbeat' file was touched");

	/* status --json: strict JSON, the job done, confidential kept */
	const char *status[] = { BUNKO_EXE, "status", archive, "--json", NULL };
	char *out = NULL;
	cr_assert_eq(ts_run_argv(status, &out, NULL), 0);
	expect_python_parses(out, false, "status --json");
	json_t *s = parse(out, "status --json");
	cr_expect_eq(json_integer_value(json_object_get(s, "done")), 1, "%s", out);
	cr_expect_eq(json_integer_value(json_object_get(s, "failed")), 0, "%s", out);
	json_t *job = json_array_get(json_object_get(s, "jobs"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(job, "collection")), HOSTILE_COLLECTION);
	cr_expect_eq(json_integer_value(json_object_get(job, "pages_done")), 4, "%s", out);
	json_decref(s);
	free(out);

	/* the masters keep the names; the store's metadata kept the level */
	for (size_t i = 0; i < 3; i++) {
		const char *n[] = { "job.meta", "heartbeat", "work" };
		char *master = ts_fmt("%s/store/%s/%s/data/masters/%s", archive,
				      HOSTILE_COLLECTION, id, n[i]);
		cr_expect_eq(stat(master, &st), 0, "no master %s", master);
		free(master);
	}
	char *bag_info = ts_fmt("%s/store/%s/%s/bag-info.txt", archive, HOSTILE_COLLECTION, id);
	char *bag = ts_read(bag_info, NULL);
	cr_assert_not_null(bag, "%s", bag_info);
	cr_expect(strstr(bag, "\nBunko-Access: confidential\n") != NULL, "%s", bag);
	cr_expect(strstr(bag, "Bunko-Access: public") == NULL, "%s", bag);
	free(bag);
	free(bag_info);

	/* search --json: one strict JSON object a line, title and collection exact */
	const char *search[] = { BUNKO_EXE, "search", archive, "Ward Archive", "--json",
				 "--role", "admin", NULL };
	out = NULL;
	cr_assert_eq(ts_run_argv(search, &out, NULL), 0);
	cr_assert(strchr(out, '{') != NULL, "no hit: %s", out);
	expect_python_parses(out, true, "search --json");
	json_t *hit = parse(strtok(out, "\n"), "search --json");
	cr_expect_str_eq(json_string_value(json_object_get(hit, "doc")), id);
	cr_expect_str_eq(json_string_value(json_object_get(hit, "title")), HOSTILE_TITLE);
	cr_expect_str_eq(json_string_value(json_object_get(hit, "collection")), HOSTILE_COLLECTION);
	cr_expect_eq(json_integer_value(json_object_get(hit, "page")), 1);
	cr_expect_str_eq(json_string_value(json_object_get(hit, "access")), "confidential");
	json_decref(hit);
	free(out);
	/* the public sees nothing of it */
	const char *public_search[] = { BUNKO_EXE, "search", archive, "Ward Archive", "--json",
					NULL };
	out = NULL;
	cr_assert_eq(ts_run_argv(public_search, &out, NULL), 0);
	cr_expect_str_eq(out, "{\"matches\":0,\"counted\":true,\"truncated\":false}\n",
			 "a public search shows the confidential document: %s", out);
	free(out);

	/* verify --json: strict JSON, clean */
	const char *verify[] = { BUNKO_EXE, "verify", archive, "--json", NULL };
	out = NULL;
	cr_assert_eq(ts_run_argv(verify, &out, NULL), 0, "%s", out);
	expect_python_parses(out, false, "verify --json");
	json_t *v = parse(out, "verify --json");
	cr_expect_eq(json_integer_value(json_object_get(v, "documents")), 1);
	cr_expect_eq(json_integer_value(json_object_get(v, "problems")), 0);
	json_decref(v);
	free(out);

	free(id);
	free(text);
	free(meta);
	free(hb);
	free(work);
	free(dir);
}

/* Writes the first `keep` of every 3 parts of sample `sample` as `name`. */
static char *truncated_copy(const char *sample, const char *name, int keep)
{
	char *src = ts_sample(sample), *dst = ts_fmt("%s/%s", scratch, name);
	size_t len = 0;
	char *data = ts_read(src, &len);
	cr_assert_not_null(data);
	cr_assert_eq(ts_write(dst, data, len * keep / 3), 0);
	free(data);
	free(src);
	return dst;
}

Test(records, one_line_per_error)
{
	struct {
		char *path;
		const char *name; /* as named in the message */
		bool page;        /* the failure is on page 1, which is named */
	} cases[] = {
		{ truncated_copy("eng.png", "half.png", 2), "half.png", true },
		{ truncated_copy("map.png", "third.png", 1), "third.png", true },
		{ truncated_copy("ukiyoe.jpg", "half.jpg", 2), "half.jpg", true },
		{ truncated_copy("h-reiki.tif", "third.tif", 1), "third.tif", false },
		{ truncated_copy("h-reiki.tif", "most.tif", 2), "most.tif", false },
		{ ts_sample("bad/truncated.tif"), "truncated.tif", true },
		{ ts_sample("bad/notimage.png"), "notimage.png", false },
		{ ts_sample("bad/zero.tif"), "zero.tif", false },
		{ ts_sample("bad/bomb.png"), "bomb.png", false },
		{ ts_sample("bad/corrupt.pdf"), "corrupt.pdf", false },
	};
	char *pdf = ts_fmt("%s/out.pdf", scratch);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { BUNKO_EXE, "ocr", cases[i].path, "-o", pdf, NULL };
		char *err = NULL;
		cr_expect_eq(ts_run_argv(argv, NULL, &err), 1, "%s", cases[i].path);
		cr_expect_eq(count_lines(err), 1, "%s: %d lines: %s", cases[i].name,
			     count_lines(err), err);
		char *quoted = ts_fmt("%s'", cases[i].name);
		cr_expect(strncmp(err, "bunko: ", 7) == 0 && strstr(err, quoted),
			  "%s not named: %s", cases[i].name, err);
		cr_expect(strstr(err, "''") == NULL, "quoted twice: %s", err);
		if (cases[i].page) {
			char *page = ts_fmt("%s' page 1: ", cases[i].name);
			cr_expect(strstr(err, page) != NULL, "no page: %s", err);
			free(page);
		}
		free(quoted);
		free(err);
	}

	/* the same files through the queue: the worker prints nothing, and
	 * each failure is one line of `bunko status` with its file */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { BUNKO_EXE, "add", archive, cases[i].path, "--collection",
				       "bad", NULL };
		cr_assert_eq(ts_run_argv(argv, NULL, NULL), 0, "%s", cases[i].path);
	}
	const char *worker[] = { BUNKO_EXE, "worker", archive, "--drain", NULL };
	char *err = NULL;
	cr_assert_eq(ts_run_argv(worker, NULL, &err), 0, "%s", err);
	cr_expect_str_eq(err, "", "the worker printed: %s", err);
	free(err);
	const char *status[] = { BUNKO_EXE, "status", archive, NULL };
	char *out = NULL;
	cr_assert_eq(ts_run_argv(status, &out, NULL), 0);
	int failed_lines = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		failed_lines += strncmp(line, "failed  ", 8) == 0;
	cr_expect_eq(failed_lines, (int)(sizeof(cases) / sizeof(cases[0])), "%d failed lines",
		     failed_lines);
	free(out);
	const char *status_json[] = { BUNKO_EXE, "status", archive, "--json", NULL };
	out = NULL;
	cr_assert_eq(ts_run_argv(status_json, &out, NULL), 0);
	json_t *s = parse(out, "status --json");
	json_t *failures = json_object_get(s, "failures");
	cr_expect_eq(json_array_size(failures), sizeof(cases) / sizeof(cases[0]));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool found = false;
		for (size_t k = 0; k < json_array_size(failures); k++) {
			json_t *f = json_array_get(failures, k);
			const char *file = json_string_value(json_object_get(f, "file"));
			const char *msg = json_string_value(json_object_get(f, "message"));
			if (file && !strcmp(file, cases[i].name)) {
				found = true;
				cr_expect(msg && !strchr(msg, '\n') && strstr(msg, cases[i].name),
					  "%s: %s", cases[i].name, msg);
				if (cases[i].page)
					cr_expect_eq(json_integer_value(json_object_get(f, "page")), 1,
						     "%s", cases[i].name);
			}
		}
		cr_expect(found, "no failure names %s: %s", cases[i].name, out);
		free(cases[i].path);
	}
	json_decref(s);
	free(out);
	free(pdf);
}

Test(records, a_query_with_a_newline_is_echoed_on_one_line)
{
	const char *argv[] = { BUNKO_EXE, "search", archive, "予算\nbunko: forged line", NULL };
	char *err = NULL;
	cr_expect_eq(ts_run_argv(argv, NULL, &err), 0);
	cr_expect_str_eq(err, "bunko: no hits for '予算\\nbunko: forged line'\n");
	free(err);
}

/* ---- no lost errors ---------------------------------------------------- */

TestSuite(errors, .init = setup, .fini = teardown, .timeout = 300);

static char *add_sample(const char *sample)
{
	char *path = ts_sample(sample), *id = NULL;
	const char *argv[] = { BUNKO_EXE, "add", archive, path, "--collection", "c", NULL };
	cr_assert_eq(ts_run_argv(argv, &id, NULL), 0);
	id[strcspn(id, "\n")] = '\0';
	free(path);
	return id;
}

/* Every host's log, concatenated. */
static char *logs(void)
{
	char *cmd = ts_fmt("cat '%s'/log/worker*.log", archive), *out = NULL;
	ts_run(cmd, &out, 0);
	free(cmd);
	return out;
}

/* `bunko status` text, and --json's worker_errors messages joined by '\n'. */
static void status_errors(char **text, char **json_messages)
{
	const char *argv[] = { BUNKO_EXE, "status", archive, NULL };
	const char *argv_json[] = { BUNKO_EXE, "status", archive, "--json", NULL };
	char *out = NULL;
	json_error_t je;

	cr_assert_eq(ts_run_argv(argv, text, NULL), 0);
	cr_assert_eq(ts_run_argv(argv_json, &out, NULL), 0);
	json_t *st = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	cr_assert_not_null(st, "%s: %s", je.text, out);
	json_t *errs = json_object_get(st, "worker_errors");
	cr_assert(json_is_array(errs), "%s", out);
	char *joined = strdup("");
	for (size_t i = 0; i < json_array_size(errs); i++) {
		const char *m = json_string_value(json_object_get(json_array_get(errs, i), "message"));
		char *next = ts_fmt("%s%s\n", joined, m ? m : "(none)");
		free(joined);
		joined = next;
	}
	*json_messages = joined;
	json_decref(st);
	free(out);
}

Test(errors, a_worker_that_cannot_start_says_why)
{
	char *id = add_sample("blank.png");
	char *store = ts_fmt("%s/store", archive);
	ts_rmtree(store);
	cr_assert_eq(ts_write(store, "not a directory\n", 16), 0);

	const char *worker[] = { BUNKO_EXE, "worker", archive, "--drain", NULL };
	char *err = NULL;
	cr_expect_eq(ts_run_argv(worker, NULL, &err), 1);
	cr_expect(strstr(err, "worker processes cannot start; see") != NULL, "%s", err);
	free(err);

	const char *why = "has no store directory";
	char *log = logs();
	cr_expect(strstr(log, " result=error reason=archive '") && strstr(log, why),
		  "the log does not say why: %s", log);
	free(log);
	char *text = NULL, *messages = NULL;
	status_errors(&text, &messages);
	cr_expect(strstr(text, "\nworker error  ") && strstr(text, why), "%s", text);
	cr_expect(strstr(messages, why) != NULL, "%s", messages);
	free(text);
	free(messages);
	free(store);
	free(id);
}

Test(errors, a_lease_that_cannot_be_renewed_is_reported)
{
	/* two text pages: the job runs long enough for several renewals
	 * (every second with --lease 4) */
	char *id = add_sample("h-reiki.tif");
	char *claimed = ts_fmt("%s/queue/claimed", archive);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl(BUNKO_EXE, BUNKO_EXE, "worker", archive, "--drain", "--lease", "4",
		      (char *)NULL);
		_exit(127);
	}
	/* as soon as the job is claimed, its heartbeat becomes a directory */
	bool broke = false;
	for (int i = 0; i < 600 && !broke; i++) {
		DIR *d = opendir(claimed);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (!strncmp(de->d_name, id, strlen(id))) {
				char *hb = ts_fmt("%s/%s/heartbeat", claimed, de->d_name);
				broke = unlink(hb) == 0 && mkdir(hb, 0755) == 0;
				free(hb);
				break;
			}
		if (d)
			closedir(d);
		if (!broke)
			usleep(20 * 1000);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	cr_assert(broke, "the job was never seen claimed");

	char *log = logs();
	cr_expect(strstr(log, " result=error reason=heartbeat: cannot create '") &&
		  strstr(log, "Is a directory"), "the log does not say why: %s", log);
	free(log);
	char *text = NULL, *messages = NULL;
	status_errors(&text, &messages);
	cr_expect(strstr(text, "\nworker error  ") && strstr(text, "heartbeat: cannot create"),
		  "%s", text);
	cr_expect(strstr(messages, "Is a directory") != NULL, "%s", messages);
	free(text);
	free(messages);
	free(claimed);
	free(id);
}
