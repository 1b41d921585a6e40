/*
 * pipeline/cmd_status.c — `bunko status ARCHIVE [--json]`: jobs per state,
 * pages done of total, the recent rate and ETA, running jobs, failures
 * with their file, page and reason, the pools paused now (a full disk, no
 * memory) and the latest errors of the workers themselves
 * (pipeline/status.h). Every message is printed on one line
 * (cli.h); --json prints one object through bunko/record.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cli.h"
#include "bunko/record.h"
#include "pipeline/status.h"

/* "'x.tif' page 2: reason" or "'x.tif' (the whole file): reason"; NULL
 * when out of memory. */
static char *missing_line(const struct bk_job_skip *k)
{
	char *s = NULL;
	int r = k->page > 0 ? asprintf(&s, "'%s' page %d: %s", k->file, k->page, k->reason)
			    : asprintf(&s, "'%s' (the whole file): %s", k->file, k->reason);
	return r < 0 ? NULL : s;
}

/* One object on one line (see the top of the file); -1 when out of memory
 * or the output cannot be written. */
static int print_json(const struct bk_status *st)
{
	struct bk_record *r = bk_record_new(NULL);
	int bad = !r;

	if (r) {
		bad |= bk_record_set_int(r, "queued", st->queued);
		bad |= bk_record_set_int(r, "running", st->running);
		bad |= bk_record_set_int(r, "done", st->done);
		bad |= bk_record_set_int(r, "failed", st->failed);
		bad |= bk_record_set_int(r, "pages_done", st->pages_done);
		bad |= bk_record_set_int(r, "pages_total", st->pages_total);
		bad |= bk_record_set_real(r, "pages_per_hour", st->pages_per_hour);
		if (st->eta_seconds >= 0)
			bad |= bk_record_set_int(r, "eta_seconds", (long long)(st->eta_seconds + 0.5));
		else
			bad |= bk_record_set_str(r, "eta_seconds", NULL);
		bad |= bk_record_set_array(r, "jobs") || bk_record_set_array(r, "failures");
	}
	for (size_t i = 0; r && i < st->njobs; i++) {
		const struct bk_status_job *j = &st->jobs[i];
		struct bk_record *o = bk_record_add_object(r, "jobs");
		if (!o) {
			bad = 1;
			break;
		}
		bad |= bk_record_set_str(o, "id", j->id);
		bad |= bk_record_set_str(o, "state", bk_job_state_name(j->state));
		bad |= bk_record_set_str(o, "collection", j->collection);
		bad |= bk_record_set_int(o, "pages_done", j->pages_done);
		bad |= bk_record_set_int(o, "pages_total", j->pages_total);
		bad |= bk_record_set_int(o, "tries", j->tries);
		bad |= bk_record_set_str(o, "worker", j->worker);
		if (j->state == BK_JOB_RUNNING)
			bad |= bk_record_set_bool(o, "stale", j->stale);
		bad |= bk_record_set_bool(o, "incomplete", j->nmissing > 0);
		bad |= bk_record_set_array(o, "missing");
		for (size_t k = 0; k < j->nmissing; k++) {
			struct bk_record *mo = bk_record_add_object(o, "missing");
			bad |= !mo || bk_record_set_str(mo, "file", j->missing[k].file) ||
			       bk_record_set_int(mo, "page", j->missing[k].page) ||
			       bk_record_set_str(mo, "reason", j->missing[k].reason);
		}
	}
	for (size_t i = 0; r && i < st->njobs; i++) {
		const struct bk_status_job *j = &st->jobs[i];
		if (j->state != BK_JOB_FAILED)
			continue;
		struct bk_record *o = bk_record_add_object(r, "failures");
		if (!o) {
			bad = 1;
			break;
		}
		bad |= bk_record_set_str(o, "job", j->id);
		bad |= bk_record_set_str(o, "state", "failed");
		bad |= bk_record_set_str(o, "file", j->fail_file);
		bad |= bk_record_set_int(o, "page", j->fail_page);
		bad |= bk_record_set_str(o, "message", j->fail_message);
	}
	/* the pages other jobs go on without: one entry each */
	for (size_t i = 0; r && i < st->njobs; i++) {
		const struct bk_status_job *j = &st->jobs[i];
		for (size_t k = 0; j->state != BK_JOB_FAILED && k < j->nmissing; k++) {
			struct bk_record *o = bk_record_add_object(r, "failures");
			char *msg = missing_line(&j->missing[k]);
			bad |= !o || !msg;
			if (o && msg) {
				bad |= bk_record_set_str(o, "job", j->id);
				bad |= bk_record_set_str(o, "state", "incomplete");
				bad |= bk_record_set_str(o, "file", j->missing[k].file);
				bad |= bk_record_set_int(o, "page", j->missing[k].page);
				bad |= bk_record_set_str(o, "message", msg);
			}
			free(msg);
		}
	}
	if (r)
		bad |= bk_record_set_array(r, "paused");
	for (size_t i = 0; r && i < st->npauses; i++) {
		const struct bk_status_pause *p = &st->pauses[i];
		struct bk_record *o = bk_record_add_object(r, "paused");
		if (!o) {
			bad = 1;
			break;
		}
		bad |= bk_record_set_str(o, "since", p->when);
		bad |= bk_record_set_str(o, "pool", p->pool);
		bad |= bk_record_set_str(o, "message", p->message);
	}
	if (r)
		bad |= bk_record_set_array(r, "worker_errors");
	for (size_t i = 0; r && i < st->nworker_errors; i++) {
		const struct bk_status_worker_error *e = &st->worker_errors[i];
		struct bk_record *o = bk_record_add_object(r, "worker_errors");
		if (!o) {
			bad = 1;
			break;
		}
		bad |= bk_record_set_str(o, "time", e->when);
		bad |= bk_record_set_str(o, "worker", e->worker);
		bad |= bk_record_set_str(o, "message", e->message);
	}
	if (!bad)
		bad = bk_record_print(r, stdout, true);
	bk_record_free(&r);
	return bad ? -1 : 0;
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
		if (j->state == BK_JOB_FAILED) {
			printf("failed  %s  ", j->id);
			bk_print_line(stdout, j->fail_message);
		}
	}
	for (size_t i = 0; i < st->njobs; i++) {
		const struct bk_status_job *j = &st->jobs[i];
		for (size_t k = 0; j->state != BK_JOB_FAILED && k < j->nmissing; k++) {
			char *msg = missing_line(&j->missing[k]);
			printf("%s  %s  ", j->state == BK_JOB_DONE ? "incomplete" : "missing",
			       j->id);
			bk_print_line(stdout, msg ? msg : "out of memory");
			free(msg);
		}
	}
	for (size_t i = 0; i < st->npauses; i++) {
		const struct bk_status_pause *p = &st->pauses[i];
		printf("paused  pool %s since %s  ", p->pool, p->when);
		bk_print_line(stdout, p->message);
	}
	for (size_t i = 0; i < st->nworker_errors; i++) {
		const struct bk_status_worker_error *e = &st->worker_errors[i];
		printf("worker error  %s  %s  ", e->when, e->worker);
		bk_print_line(stdout, e->message);
	}
}

int cmd_status(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("status");
	const char *archive = NULL;
	struct bk_status st;
	struct bk_error err;
	int json = 0;

	static const struct option longopts[] = { { "json", no_argument, NULL, 0 }, { 0 } };
	struct bk_args it;

	bk_error_init(&err);
	bk_args_init(&it, cmd, argc, argv, "", longopts);
	while (bk_args_next(&it)) {
		if (it.opt) /* --json, the only option */
			json = 1;
		else if (!archive)
			archive = it.value;
		else
			return bk_usage_error(cmd, "unexpected argument '%s'", it.value);
	}
	if (it.done)
		return it.status;
	if (!archive)
		return bk_usage_error(cmd, "an archive is needed");
	if (bk_status_collect(archive, &st, &err))
		return bk_die(err.msg);
	int rc = BK_EXIT_OK;
	if (!json)
		print_text(archive, &st);
	else if (print_json(&st))
		rc = bk_die("cannot write the status");
	bk_status_release(&st);
	return rc;
}
