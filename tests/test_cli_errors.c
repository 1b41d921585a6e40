/*
 * tests/test_cli_errors.c — no lost errors, through the real `bunko`:
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
	scratch = ts_mkdtemp("cli-errors");
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
	cr_expect(strstr(log, " result=error reason=heartbeat: cannot touch '") &&
		  strstr(log, "Is a directory"), "the log does not say why: %s", log);
	free(log);
	char *text = NULL, *messages = NULL;
	status_errors(&text, &messages);
	cr_expect(strstr(text, "\nworker error  ") && strstr(text, "heartbeat: cannot touch"),
		  "%s", text);
	cr_expect(strstr(messages, "Is a directory") != NULL, "%s", messages);
	free(text);
	free(messages);
	free(claimed);
	free(id);
}
