/*
 * pipeline/cmd_requeue.c — `bunko requeue ARCHIVE JOB... | --failed
 * [--collection C]`: gives failed jobs another run. Each goes back from
 * failed/ to incoming/ with its tries cleared and its checkpoints kept
 * (bk_queue_requeue), so the pages it had finished are not read again.
 * Prints each job requeued; a job that is not in failed/ is an error
 * naming it, and the others are still requeued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bunko/fs.h"
#include "pipeline/cli.h"
#include "pipeline/log.h"
#include "pipeline/queue.h"

struct pick {
	const char *collection; /* NULL: every failed job */
	char **ids;
	size_t n;
	struct bk_error *err;
};

static int pick_failed(enum bk_job_state state, const char *job_id, const char *dir,
		       const char *owner, void *ud)
{
	struct pick *p = ud;
	struct bk_job_meta m;
	char *meta = NULL;
	bool take = state == BK_JOB_FAILED;

	(void)owner;
	if (take && p->collection) {
		bk_job_meta_init(&m);
		take = (meta = bk_path_join(dir, "job.meta")) &&
		       bk_job_meta_read(&m, meta, NULL) == 0 &&
		       !strcmp(m.collection, p->collection);
		bk_job_meta_release(&m);
		free(meta);
	}
	if (!take)
		return 0;
	char **nv = realloc(p->ids, (p->n + 1) * sizeof(*nv));
	if (!nv || !(nv[p->n] = strdup(job_id))) {
		if (nv)
			p->ids = nv;
		return bk_error_set(p->err, "out of memory");
	}
	p->ids = nv;
	p->n++;
	return 0;
}

int cmd_requeue(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("requeue");
	struct bk_error err;
	struct bk_queue q;
	struct pick pick = { .err = &err };
	const char *archive = NULL;
	const char **jobs = NULL;
	size_t njobs = 0;
	bool failed = false, queue_open = false;
	int rc = BK_EXIT_USAGE;
	static const struct option longopts[] = {
		{ "failed", no_argument, NULL, 0 },
		{ "collection", required_argument, NULL, 0 },
		{ 0 }
	};
	struct bk_args it;

	bk_error_init(&err);
	jobs = calloc((size_t)argc, sizeof(*jobs));
	if (!jobs)
		return bk_die("out of memory");
	bk_args_init(&it, cmd, argc, argv, "", longopts);
	while (bk_args_next(&it)) {
		const char *a = it.opt;
		if (!a) {
			if (!archive)
				archive = it.value;
			else
				jobs[njobs++] = it.value;
		} else if (!strcmp(a, "--failed")) {
			failed = true;
		} else if (!strcmp(a, "--collection")) {
			pick.collection = it.value;
		}
	}
	if (it.done) {
		rc = it.status;
		goto out;
	}
	if (!archive || (njobs == 0) == !failed) {
		bk_usage_error(cmd, "an archive and either job ids or --failed are needed");
		goto out;
	}
	if (pick.collection && !failed) {
		bk_usage_error(cmd, "--collection goes with --failed");
		goto out;
	}
	rc = BK_EXIT_FAIL;
	if (bk_queue_open(&q, archive, &err)) {
		bk_die(err.msg);
		goto out;
	}
	queue_open = true;
	q.log_fd = bk_log_open(archive, q.host, &err); /* each requeue is logged */
	if (q.log_fd < 0 || (failed && bk_queue_foreach(&q, pick_failed, &pick, &err))) {
		bk_die(err.msg);
		goto out;
	}
	rc = BK_EXIT_OK;
	size_t n = failed ? pick.n : njobs;
	for (size_t i = 0; i < n; i++) {
		const char *id = failed ? pick.ids[i] : jobs[i];
		int r = bk_queue_requeue(&q, id, &err);
		if (r == 0) {
			printf("%s\n", id);
		} else {
			if (r > 0)
				bk_note("job '%s' is not in failed/", id);
			else
				bk_die(err.msg);
			rc = BK_EXIT_FAIL;
		}
	}
out:
	if (queue_open) {
		if (q.log_fd >= 0)
			close(q.log_fd);
		bk_queue_release(&q);
	}
	for (size_t i = 0; i < pick.n; i++)
		free(pick.ids[i]);
	free(pick.ids);
	free(jobs);
	return rc;
}
