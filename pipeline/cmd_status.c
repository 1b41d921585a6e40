/*
 * pipeline/cmd_status.c — `bunko status ARCHIVE [--json]`: jobs per state,
 * pages done of total, the recent rate and ETA, running jobs, and failures
 * with their file, page and reason.
 */
#include <stdio.h>
#include <string.h>

#include "pipeline/cli.h"
#include "pipeline/status.h"

static void json_string(const char *s)
{
	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void print_json(const struct bk_status *st)
{
	printf("{\"queued\": %d, \"running\": %d, \"done\": %d, \"failed\": %d,\n",
	       st->queued, st->running, st->done, st->failed);
	printf(" \"pages_done\": %ld, \"pages_total\": %ld, \"pages_per_hour\": %.1f, ",
	       st->pages_done, st->pages_total, st->pages_per_hour);
	if (st->eta_seconds >= 0)
		printf("\"eta_seconds\": %.0f,\n", st->eta_seconds);
	else
		printf("\"eta_seconds\": null,\n");
	printf(" \"jobs\": [");
	for (size_t i = 0; i < st->njobs; i++) {
		const struct bk_status_job *j = &st->jobs[i];
		printf("%s\n  {\"id\": ", i ? "," : "");
		json_string(j->id);
		printf(", \"state\": \"%s\", \"collection\": ", bk_job_state_name(j->state));
		json_string(j->collection);
		printf(", \"pages_done\": %d, \"pages_total\": %d, \"tries\": %d, \"worker\": ",
		       j->pages_done, j->pages_total, j->tries);
		json_string(j->worker);
		if (j->state == BK_JOB_RUNNING)
			printf(", \"stale\": %s", j->stale ? "true" : "false");
		putchar('}');
	}
	printf("],\n \"failures\": [");
	int nf = 0;
	for (size_t i = 0; i < st->njobs; i++) {
		const struct bk_status_job *j = &st->jobs[i];
		if (j->state != BK_JOB_FAILED)
			continue;
		printf("%s\n  {\"job\": ", nf++ ? "," : "");
		json_string(j->id);
		printf(", \"file\": ");
		json_string(j->fail_file);
		printf(", \"page\": %d, \"message\": ", j->fail_page);
		json_string(j->fail_message);
		putchar('}');
	}
	printf("]}\n");
}

static void print_text(const char *archive, const struct bk_status *st)
{
	printf("archive %s\n", archive);
	printf("jobs:  %d queued, %d running, %d done, %d failed\n", st->queued,
	       st->running, st->done, st->failed);
	printf("pages: %ld of %ld done", st->pages_done, st->pages_total);
	if (st->pages_total > 0)
		printf(" (%.0f%%)", 100.0 * st->pages_done / st->pages_total);
	printf("\nrate:  %.0f pages/hour over the last %d minutes", st->pages_per_hour,
	       BK_STATUS_RATE_WINDOW / 60);
	if (st->eta_seconds > 0)
		printf(", about %.0f minutes left", st->eta_seconds / 60 + 0.5);
	putchar('\n');
	for (size_t i = 0; i < st->njobs; i++) {
		const struct bk_status_job *j = &st->jobs[i];
		if (j->state == BK_JOB_RUNNING)
			printf("running %s  %s  page %d of %d  (worker %s%s)\n", j->id,
			       j->collection ? j->collection : "?", j->pages_done,
			       j->pages_total, j->worker ? j->worker : "?",
			       j->stale ? ", gone: the next worker takes the job back" : "");
	}
	for (size_t i = 0; i < st->njobs; i++) {
		const struct bk_status_job *j = &st->jobs[i];
		if (j->state == BK_JOB_FAILED)
			printf("failed  %s  %s\n", j->id, j->fail_message);
	}
}

int cmd_status(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("status");
	const char *archive = NULL;
	struct bk_status st;
	struct bk_error err;
	int json = 0;

	bk_error_init(&err);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-')
			return bk_usage_error(cmd, "unknown option '%s'", argv[i]);
		else if (!archive)
			archive = argv[i];
		else
			return bk_usage_error(cmd, "unexpected argument '%s'", argv[i]);
	}
	if (!archive)
		return bk_usage_error(cmd, "an archive is needed");
	if (bk_status_collect(archive, &st, &err))
		return bk_die(err.msg);
	if (json)
		print_json(&st);
	else
		print_text(archive, &st);
	bk_status_release(&st);
	return BK_EXIT_OK;
}
