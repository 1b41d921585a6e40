/*
 * pipeline/cmd_worker.c — `bunko worker ARCHIVE [-j N] [--drain]
 * [--no-index] [--lease S] [--tries N] [--page-timeout S]`: runs the worker pool
 * (pipeline/worker.h) and, on a terminal, keeps one live progress line on
 * stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipeline/cli.h"
#include "pipeline/worker.h"

struct progress_line {
	bool tty;
	int last_len;
};

static void show_progress(const struct bk_status *st, bool final, void *ud)
{
	struct progress_line *pl = ud;
	char line[256], eta[32] = "";

	if (!pl->tty)
		return;
	if (st->eta_seconds > 0)
		snprintf(eta, sizeof(eta), ", eta %.0f min", st->eta_seconds / 60 + 0.5);
	int n = snprintf(line, sizeof(line),
			 "%d queued, %d running, %d done, %d failed; pages %ld/%ld; %.0f pages/h%s",
			 st->queued, st->running, st->done, st->failed, st->pages_done,
			 st->pages_total, st->pages_per_hour, eta);
	fprintf(stderr, "\r%s%*s", line, pl->last_len > n ? pl->last_len - n : 0, "");
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
	pl->last_len = n;
}

static void show_notice(const char *msg, void *ud)
{
	struct progress_line *pl = ud;
	if (pl->tty && pl->last_len)
		fputc('\n', stderr);
	pl->last_len = 0;
	bk_note("%s", msg);
}

int cmd_worker(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("worker");
	struct bk_worker_options opt = { .processes = 1 };
	struct progress_line pl = { .tty = isatty(STDERR_FILENO) != 0 };
	struct bk_error err;

	static const struct option longopts[] = {
		{ "drain", no_argument, NULL, 0 },
		{ "no-index", no_argument, NULL, 0 },
		{ "lease", required_argument, NULL, 0 },
		{ "tries", required_argument, NULL, 0 },
		{ "page-timeout", required_argument, NULL, 0 },
		{ 0 }
	};
	struct bk_args it;

	bk_error_init(&err);
	bk_args_init(&it, cmd, argc, argv, "j:", longopts);
	while (bk_args_next(&it)) {
		const char *a = it.opt;
		if (!a) {
			if (opt.archive)
				return bk_usage_error(cmd, "unexpected argument '%s'", it.value);
			opt.archive = it.value;
		} else if (!strcmp(a, "--drain")) {
			opt.drain = true;
		} else if (!strcmp(a, "--no-index")) {
			opt.no_index = true;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--lease") || !strcmp(a, "--tries") ||
			   !strcmp(a, "--page-timeout")) {
			int *dst = a[1] == 'j' ? &opt.processes
				   : a[2] == 'l' ? &opt.lease_seconds
				   : a[2] == 'p' ? &opt.page_timeout : &opt.max_tries;
			if (bk_parse_int(it.value, 1, a[1] == 'j' ? 256 : 1000000, dst))
				return bk_usage_error(cmd, "%s needs a positive number", a);
		}
	}
	if (it.done)
		return it.status;
	if (!opt.archive)
		return bk_usage_error(cmd, "an archive is needed");
	opt.progress = show_progress;
	opt.notice = show_notice;
	opt.ud = &pl;
	if (bk_worker_pool_run(&opt, &err))
		return bk_die(err.msg);
	return BK_EXIT_OK;
}
