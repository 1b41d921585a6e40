/*
 * pipeline/cmd_serve.c — `bunko serve ARCHIVE [--listen HOST:PORT]
 * [--workers N] [--per-address N]`: the web archive (web/web.h) over HTTP
 * (web/http.h).
 *
 * Bound to 127.0.0.1:8080 by default: the site is meant to be reached
 * through a front server (or by researchers on this machine), never
 * exposed by accident. Read-only on the archive, but for an
 * administrator's requeue of a failed job from the queue page (the
 * queue's own rename, logged as `bunko requeue` logs it) and the cache
 * of deep-zoom tiles (--tiles DIR). Prints one line, "bunko:
 * serving ARCHIVE at URL", on stdout once it accepts connections (so a
 * script that started it with port 0 learns the port), then runs until
 * SIGTERM or SIGINT: it stops accepting, lets the requests being answered
 * finish, and exits 0. Each request that shows a restricted or confidential
 * document to a logged-in user is one line of the audit log (web/web.h):
 * stderr, or appended to --audit-log FILE.
 *
 * The signals are blocked before any thread starts (the server's threads
 * inherit the mask) and taken with sigwait in the main thread, so no
 * signal handler runs and none interrupts a request.
 */
#include <pthread.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include "pipeline/cli.h"
#include "pipeline/log.h"
#include "pipeline/queue.h"
#include "pipeline/status.h"
#include "web/http.h"
#include "web/web.h"

#define BK_SERVE_WORKERS 4

/* The queue page's requeue: as `bunko requeue ARCHIVE JOB`. */
static int requeue_job(const char *archive, const char *job_id, struct bk_error *err)
{
	struct bk_queue q;
	int rc = -1;

	if (bk_queue_open(&q, archive, err))
		return -1;
	q.log_fd = bk_log_open(archive, q.host, err);
	if (q.log_fd >= 0)
		rc = bk_queue_requeue(&q, job_id, err);
	if (q.log_fd >= 0)
		close(q.log_fd);
	bk_queue_release(&q);
	return rc;
}

static const struct bk_web_queue_ops queue_ops = { bk_status_collect, bk_status_release, requeue_job };

int cmd_serve(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("serve");
	const char *archive = NULL, *listen_at = "127.0.0.1:8080", *audit_path = NULL, *tiles = NULL;
	FILE *audit = stderr;
	int workers = BK_SERVE_WORKERS, per_address = BK_HTTP_PER_ADDRESS, sig = 0;
	struct bk_web *site = NULL;
	struct bk_http_server *server = NULL;
	struct bk_error err;
	sigset_t set;
	int rc = BK_EXIT_FAIL;

	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 0 },
		{ "workers", required_argument, NULL, 0 },
		{ "audit-log", required_argument, NULL, 0 },
		{ "tiles", required_argument, NULL, 0 },
		{ "per-address", required_argument, NULL, 0 },
		{ 0 }
	};
	struct bk_args it;

	bk_error_init(&err);
	bk_args_init(&it, cmd, argc, argv, "", longopts);
	while (bk_args_next(&it)) {
		if (!it.opt) {
			if (archive)
				return bk_usage_error(cmd, "unexpected argument '%s'", it.value);
			archive = it.value;
		} else if (!strcmp(it.opt, "--listen")) {
			listen_at = it.value;
		} else if (!strcmp(it.opt, "--audit-log")) {
			audit_path = it.value;
		} else if (!strcmp(it.opt, "--tiles")) {
			tiles = it.value;
		} else if (!strcmp(it.opt, "--per-address")) {
			if (bk_parse_int(it.value, 1, BK_HTTP_CONNECTIONS, &per_address))
				return bk_usage_error(cmd, "invalid connection count '%s': expected 1 to %d",
						      it.value, BK_HTTP_CONNECTIONS);
		} else if (bk_parse_int(it.value, 1, 256, &workers)) { /* --workers */
			return bk_usage_error(cmd, "invalid worker count '%s': expected 1 to 256", it.value);
		}
	}
	if (it.done)
		return it.status;
	if (!archive)
		return bk_usage_error(cmd, "missing ARCHIVE");
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (audit_path && !(audit = fopen(audit_path, "ae"))) {
		bk_note("cannot open audit log '%s': %s", audit_path, strerror(errno));
		return BK_EXIT_FAIL;
	}
	struct bk_web_options o = { archive, workers, audit, tiles, &queue_ops };
	if (bk_web_open(&site, &o, &err) || bk_http_start(&server, listen_at, per_address, site, &err)) {
		bk_die(err.msg);
		goto out;
	}
	printf("bunko: serving %s at %s\n", archive, bk_http_url(server));
	fflush(stdout);
	sigwait(&set, &sig);
	rc = BK_EXIT_OK;
out:
	bk_http_stop(&server);
	bk_web_free(&site);
	if (audit && audit != stderr)
		fclose(audit);
	return rc;
}
