/*
 * web/queue.c — the records staff's queue page: what `bunko status` shows
 * (jobs per state, pages done of total, pages per hour, the ETA, the
 * running jobs, the failures with their reasons and the workers' own
 * errors), from the pipeline's bk_status_collect through the options'
 * queue functions (web.h). Staff and administrators only: anyone else
 * gets the site's one not-found page.
 *
 * The page refreshes itself every BK_QUEUE_REFRESH_S seconds with a meta
 * refresh (the site allows no scripts); `?refresh=0` stops it, and the
 * page links to both (WCAG 2.2.1: a time limit the user can turn off).
 * Administrators see a requeue button on each failed job: a POST to
 * /queue/requeue with the job and the session's CSRF token, which moves
 * the job back to incoming/ as `bunko requeue` does; without the token,
 * or from a staff session, it is refused (403).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/status.h"
#include "web/auth.h"
#include "web/html.h"
#include "web/site.h"

#define BK_QUEUE_REFRESH_S 30

static bool may_see(const struct bk_web_ctx *c)
{
	return c->user && c->role >= BK_ROLE_STAFF && c->queue;
}

static void row_head(struct bk_buf *b, enum bk_lang l, const enum bk_msg *cols, int n)
{
	bk_buf_addstr(b, "<thead><tr>");
	for (int i = 0; i < n; i++) {
		bk_buf_addstr(b, "<th scope=\"col\">");
		bk_msg_html(b, l, cols[i], NULL);
		bk_buf_addstr(b, "</th>");
	}
	bk_buf_addstr(b, "</tr></thead>\n<tbody>\n");
}

static void progress(struct bk_buf *b, long done, long total)
{
	if (total > 0)
		bk_buf_addf(b, "<progress value=\"%ld\" max=\"%ld\" aria-label=\"%ld / %ld\"></progress> ", done,
			    total, done, total);
	bk_buf_addf(b, "%ld / %ld", done, total);
	if (total > 0)
		bk_buf_addf(b, " (%.0f%%)", 100.0 * (double)done / (double)total);
}

/* The reason of a failed job as `bunko status` words it. */
static void reason(struct bk_buf *b, const struct bk_status_job *j)
{
	if (j->fail_file && *j->fail_file) {
		bk_buf_addstr(b, "'");
		bk_html_text(b, j->fail_file, (size_t)-1);
		bk_buf_addstr(b, "'");
		if (j->fail_page > 0)
			bk_buf_addf(b, " page %d", j->fail_page);
		bk_buf_addstr(b, ": ");
	}
	bk_html_text(b, j->fail_message ? j->fail_message : "", (size_t)-1);
}

static void queue_page(struct bk_web_ctx *c, struct bk_web_response *r, const char *notice_job,
		       enum bk_msg notice)
{
	struct bk_status st;
	struct bk_error err;
	struct bk_buf *b = &r->body;
	enum bk_lang l = c->lang;
	const char *refresh = bk_web_arg(c->req, "refresh");
	bool refreshing = !refresh || strcmp(refresh, "0");
	bool admin = c->role == BK_ROLE_ADMIN;

	bk_error_init(&err);
	bk_status_init(&st);
	if (c->queue->collect(c->archive, &st, &err)) {
		bk_web_error_page(r, 500, bk_msg(l, M_ERROR), err.msg);
		goto out;
	}
	struct bk_html_frame f = bk_web_frame(c);
	f.refresh_s = refreshing ? BK_QUEUE_REFRESH_S : 0;
	r->status = 200;
	r->type = "text/html; charset=utf-8";
	bk_html_begin_frame(b, &f, bk_msg(l, M_QUEUE), NULL);
	bk_buf_addstr(b, "<h1>");
	bk_msg_html(b, l, M_QUEUE, NULL);
	bk_buf_addstr(b, "</h1>\n");
	if (notice_job) {
		bk_buf_addstr(b, "<p class=\"notice\" role=\"status\">");
		bk_msg_html(b, l, notice, notice_job);
		bk_buf_addstr(b, "</p>\n");
	}
	bk_buf_addstr(b, "<p class=\"refresh\">");
	if (refreshing) {
		bk_msg_html(b, l, M_QUEUE_REFRESH, NULL);
		bk_buf_addstr(b, " <a href=\"/queue?refresh=0\">");
		bk_msg_html(b, l, M_QUEUE_STOP_REFRESH, NULL);
	} else {
		bk_buf_addstr(b, "<a href=\"/queue\">");
		bk_msg_html(b, l, M_QUEUE_START_REFRESH, NULL);
	}
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&now, &tm));
	bk_buf_addstr(b, "</a> · ");
	bk_msg_html(b, l, M_QUEUE_UPDATED, NULL);
	bk_buf_addf(b, " <time>%s</time></p>\n<dl class=\"summary\">\n<dt>", when);
	bk_msg_html(b, l, M_QUEUE_JOBS, NULL);
	bk_buf_addf(b, "</dt><dd data-queued=\"%d\" data-running=\"%d\" data-done=\"%d\" data-failed=\"%d\">",
		    st.queued, st.running, st.done, st.failed);
	const struct { int n; enum bk_msg m; } states[] = { { st.queued, M_QUEUE_QUEUED }, { st.running, M_QUEUE_RUNNING },
							      { st.done, M_QUEUE_DONE }, { st.failed, M_QUEUE_FAILED } };
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		bk_buf_addf(b, "%s%d ", i ? ", " : "", states[i].n);
		bk_msg_html(b, l, states[i].m, NULL);
	}
	bk_buf_addstr(b, "</dd>\n<dt>");
	bk_msg_html(b, l, M_QUEUE_PAGES, NULL);
	bk_buf_addf(b, "</dt><dd data-pages-done=\"%ld\" data-pages-total=\"%ld\">", st.pages_done, st.pages_total);
	progress(b, st.pages_done, st.pages_total);
	bk_buf_addstr(b, "</dd>\n<dt>");
	bk_msg_html(b, l, M_QUEUE_RATE, NULL);
	bk_buf_addf(b, "</dt><dd data-rate=\"%.0f\">%.0f</dd>\n<dt>", st.pages_per_hour, st.pages_per_hour);
	bk_msg_html(b, l, M_QUEUE_ETA, NULL);
	bk_buf_addstr(b, "</dt><dd class=\"eta\">");
	if (st.eta_seconds > 0)
		bk_msg_html_num(b, l, M_QUEUE_MINUTES, (long)(st.eta_seconds / 60 + 0.5));
	else
		bk_msg_html(b, l, M_QUEUE_ETA_UNKNOWN, NULL);
	bk_buf_addstr(b, "</dd>\n</dl>\n");

	static const enum bk_msg running_cols[] = { M_QUEUE_JOB, M_QUEUE_COLLECTION, M_QUEUE_PROGRESS, M_QUEUE_WORKER };
	static const enum bk_msg failed_cols[] = { M_QUEUE_JOB, M_QUEUE_COLLECTION, M_QUEUE_REASON, M_QUEUE_TRIES,
						   M_QUEUE_REQUEUE };
	for (int section = 0; section < 2; section++) {
		enum bk_job_state want = section ? BK_JOB_FAILED : BK_JOB_RUNNING;
		int n = 0;
		bk_buf_addf(b, "<h2 id=\"%s\">", section ? "failures" : "running");
		bk_msg_html(b, l, section ? M_QUEUE_FAILURES : M_QUEUE_RUNNING_JOBS, NULL);
		bk_buf_addstr(b, "</h2>\n");
		for (size_t i = 0; i < st.njobs; i++) {
			const struct bk_status_job *j = &st.jobs[i];
			if (j->state != want)
				continue;
			if (!n++) {
				bk_buf_addf(b, "<table class=\"queue %s\" aria-labelledby=\"%s\">\n", section ? "failed" : "running",
					    section ? "failures" : "running");
				if (section)
					row_head(b, l, failed_cols, admin ? 5 : 4);
				else
					row_head(b, l, running_cols, 4);
			}
			bk_buf_addstr(b, "<tr><td class=\"job\">");
			bk_html_text(b, j->id, (size_t)-1);
			bk_buf_addstr(b, "</td><td>");
			bk_html_text(b, j->collection ? j->collection : "", (size_t)-1);
			bk_buf_addstr(b, "</td><td>");
			if (!section) {
				progress(b, j->pages_done, j->pages_total);
				bk_buf_addstr(b, "</td><td>");
				bk_html_text(b, j->worker ? j->worker : "?", (size_t)-1);
				if (j->stale) {
					bk_buf_addstr(b, " (");
					bk_msg_html(b, l, M_QUEUE_STALE, NULL);
					bk_buf_addstr(b, ")");
				}
				bk_buf_addstr(b, "</td></tr>\n");
				continue;
			}
			bk_buf_addstr(b, "<span class=\"reason\">");
			reason(b, j);
			bk_buf_addf(b, "</span></td><td>%d</td>", j->tries);
			if (admin) {
				bk_buf_addstr(b, "<td><form action=\"/queue/requeue\" method=\"post\">"
						 "<input type=\"hidden\" name=\"csrf\" value=\"");
				bk_html_attr(b, c->csrf);
				bk_buf_addstr(b, "\"><input type=\"hidden\" name=\"job\" value=\"");
				bk_html_attr(b, j->id);
				bk_buf_addstr(b, "\"><button type=\"submit\" aria-label=\"");
				bk_msg_html(b, l, M_QUEUE_REQUEUE, NULL);
				bk_buf_addstr(b, " ");
				bk_html_attr(b, j->id);
				bk_buf_addstr(b, "\">");
				bk_msg_html(b, l, M_QUEUE_REQUEUE, NULL);
				bk_buf_addstr(b, "</button></form></td>");
			}
			bk_buf_addstr(b, "</tr>\n");
		}
		if (n)
			bk_buf_addstr(b, "</tbody>\n</table>\n");
		else {
			bk_buf_addstr(b, "<p>");
			bk_msg_html(b, l, M_QUEUE_NONE, NULL);
			bk_buf_addstr(b, "</p>\n");
		}
	}
	if (st.nworker_errors) {
		bk_buf_addstr(b, "<h2>");
		bk_msg_html(b, l, M_QUEUE_WORKER_ERRORS, NULL);
		bk_buf_addstr(b, "</h2>\n<ul class=\"worker-errors\">\n");
		for (size_t i = 0; i < st.nworker_errors; i++) {
			const struct bk_status_worker_error *e = &st.worker_errors[i];
			bk_buf_addstr(b, "<li><time>");
			bk_html_text(b, e->when, (size_t)-1);
			bk_buf_addstr(b, "</time> ");
			bk_html_text(b, e->worker, (size_t)-1);
			bk_buf_addstr(b, ": ");
			bk_html_text(b, e->message, (size_t)-1);
			bk_buf_addstr(b, "</li>\n");
		}
		bk_buf_addstr(b, "</ul>\n");
	}
	bk_html_end(b);
out:
	c->queue->release(&st);
}

void bk_web_queue(struct bk_web_ctx *c, struct bk_web_response *r)
{
	if (!may_see(c)) {
		bk_web_not_found(r);
		return;
	}
	queue_page(c, r, NULL, M_QUEUE_NONE);
}

void bk_web_requeue(struct bk_web_ctx *c, struct bk_web_response *r)
{
	const char *csrf = bk_web_form_arg(c->req, "csrf"), *job = bk_web_form_arg(c->req, "job");
	struct bk_error err;

	bk_error_init(&err);
	if (strcmp(c->req->method, "POST") || !may_see(c) || !csrf || !bk_auth_equal(csrf, c->csrf) ||
	    c->role != BK_ROLE_ADMIN || !job) {
		bk_web_error_msg(r, 403, M_QUEUE_REQUEUE, M_QUEUE_FORBIDDEN);
		return;
	}
	int rc = c->queue->requeue(c->archive, job, &err);
	if (rc < 0) {
		bk_web_error_page(r, 500, bk_msg(c->lang, M_ERROR), err.msg);
		return;
	}
	queue_page(c, r, job, rc == 0 ? M_QUEUE_REQUEUED : M_QUEUE_NOT_FAILED);
	if (rc)
		r->status = 409;
}
