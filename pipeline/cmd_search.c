/*
 * pipeline/cmd_search.c — `bunko search ARCHIVE QUERY [options]`: full-text
 * search in ARCHIVE/index for one role.
 *
 * The default role is `public`: a search sees confidential or restricted
 * documents only when asked (--role staff|admin), and then only if the
 * process can open those index files (their modes are 0640 and 0600).
 * Output: one block per hit ("doc  page N  title", the snippet with the hit
 * in [brackets], the PDF path), or with --json one JSON object per line;
 * after the hits, a last JSON line {"matches":N,"counted":true,
 * "truncated":false} (no "doc" key; counted false: N is a lower bound, the
 * best hits having been settled before every page was read), or on the
 * terminal a line on stderr when more pages match than are shown or the
 * search was cut short.
 * Exit status: 0 (also for no hits), 1 failure, 2 usage error.
 *
 * Every matching page is ranked (index/index.h, bk_index_search); only
 * when --time-limit MS (default BK_SEARCH_TIME_LIMIT_MS) runs out does a
 * search stop early, and then it says so ("truncated":true).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "index/index.h"
#include "pipeline/cli.h"
#include "bunko/record.h"

struct search_args {
	const char *archive, *query, *role;
	struct bk_search_query q;
	int time_limit_ms;
	bool json;
};

struct search_out {
	bool json;
	int nhits;
	bool write_failed;
};

static int print_hit(const struct bk_search_hit *h, void *ud)
{
	struct search_out *out = ud;

	if (out->json) {
		struct bk_record *r = bk_record_new(NULL);
		int bad = !r || bk_record_set_str(r, "doc", h->doc) ||
			  bk_record_set_str(r, "collection", h->collection) ||
			  bk_record_set_str(r, "title", h->title) ||
			  bk_record_set_str(r, "date", h->date) ||
			  bk_record_set_str(r, "snippet", h->snippet) ||
			  bk_record_set_str(r, "pdf", h->pdf) ||
			  bk_record_set_int(r, "page", h->page) ||
			  bk_record_set_real(r, "score", h->score) ||
			  bk_record_set_str(r, "access", bk_access_name(h->access)) ||
			  bk_record_print(r, stdout, false);
		bk_record_free(&r);
		if (bad) {
			out->write_failed = true;
			return -1;
		}
	} else {
		printf("%s%s  page %d  %s\n  %s\n  %s\n", out->nhits ? "\n" : "", h->doc, h->page,
		       *h->title ? h->title : "(untitled)", h->snippet, *h->pdf ? h->pdf : "-");
	}
	out->nhits++;
	return 0;
}

/* -1: the command goes on with `a`; else the exit status of a command
 * line answered here (a usage error, --help). */
static int parse_args(const struct bk_command *cmd, int argc, char **argv,
		      struct search_args *a)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 0 },
		{ "collection", required_argument, NULL, 0 },
		{ "profile", required_argument, NULL, 0 },
		{ "from", required_argument, NULL, 0 },
		{ "to", required_argument, NULL, 0 },
		{ "role", required_argument, NULL, 0 },
		{ "limit", required_argument, NULL, 0 },
		{ "time-limit", required_argument, NULL, 0 },
		{ 0 }
	};
	const char **positional[] = { &a->archive, &a->query };
	int npos = 0;
	struct bk_args it;

	/* a query may start with '-' ("-word" excludes): such an argument is
	 * the query, not options; after "--" everything is ARCHIVE and QUERY */
	bk_args_init(&it, cmd, argc, argv, "", longopts);
	it.dash_words = true;
	while (bk_args_next(&it)) {
		const char *opt = it.opt;
		const char **target = NULL;
		if (!opt) {
			if (npos == 2) {
				bk_args_release(&it);
				return bk_usage_error(cmd, "unexpected argument '%s' (quote a query with spaces)",
						      it.value);
			}
			*positional[npos++] = it.value;
			continue;
		}
		if (!strcmp(opt, "--json")) {
			a->json = true;
			continue;
		}
		if (!strcmp(opt, "--collection"))
			target = &a->q.collection;
		else if (!strcmp(opt, "--profile"))
			target = &a->q.profile;
		else if (!strcmp(opt, "--from"))
			target = &a->q.date_from;
		else if (!strcmp(opt, "--to"))
			target = &a->q.date_to;
		else if (!strcmp(opt, "--role"))
			target = &a->role;
		if (target) {
			*target = it.value;
		} else if (!strcmp(opt, "--time-limit")) {
			if (bk_parse_int(it.value, 0, 3600000, &a->time_limit_ms)) {
				bk_args_release(&it);
				return bk_usage_error(cmd, "invalid time limit '%s': expected 0 to 3600000 ms",
						      it.value);
			}
		} else if (bk_parse_int(it.value, 1, 10000, &a->q.limit)) { /* --limit */
			bk_args_release(&it);
			return bk_usage_error(cmd, "invalid limit '%s': expected 1 to 10000", it.value);
		}
	}
	if (it.done)
		return it.status;
	if (npos < 2)
		return bk_usage_error(cmd, npos ? "missing QUERY" : "missing ARCHIVE and QUERY");
	if (bk_role_parse(a->role) < 0)
		return bk_usage_error(cmd, "unknown role '%s'", a->role);
	if (a->q.profile && bk_profile_parse(a->q.profile) < 0)
		return bk_usage_error(cmd, "unknown profile '%s'", a->q.profile);
	if (a->q.date_from && !bk_date_valid(a->q.date_from))
		return bk_usage_error(cmd, "invalid date '%s': expected YYYY[-MM[-DD]]", a->q.date_from);
	if (a->q.date_to && !bk_date_valid(a->q.date_to))
		return bk_usage_error(cmd, "invalid date '%s': expected YYYY[-MM[-DD]]", a->q.date_to);
	return -1;
}

int cmd_search(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("search");
	struct search_args a = { .role = "public", .time_limit_ms = -1 };
	struct search_out out = { 0 };
	struct bk_search_info info = { 0 };
	struct bk_index *idx = NULL;
	struct bk_error err;
	char *dir = NULL;
	struct stat st;
	int rc;

	bk_error_init(&err);
	if ((rc = parse_args(cmd, argc, argv, &a)) >= 0)
		return rc;
	a.q.text = a.query;
	out.json = a.json;
	if (stat(a.archive, &st) || !S_ISDIR(st.st_mode)) {
		bk_note("cannot open archive '%s': %s", a.archive,
			errno ? strerror(errno) : "not a directory");
		return BK_EXIT_FAIL;
	}
	size_t n = strlen(a.archive) + sizeof("/index");
	if (!(dir = malloc(n)))
		return bk_die("out of memory");
	snprintf(dir, n, "%s/index", a.archive);
	rc = BK_EXIT_FAIL;
	if (bk_index_open(&idx, dir, (enum bk_role)bk_role_parse(a.role), false, &err) ||
	    bk_index_search_timed(idx, &a.q, a.time_limit_ms, print_hit, &out, &info, &err)) {
		bk_die(out.write_failed ? "cannot write the results" : err.msg);
		goto out;
	}
	if (a.json) {
		struct bk_record *summary = bk_record_new(NULL);
		if (!summary || bk_record_set_int(summary, "matches", info.matches) ||
		    bk_record_set_bool(summary, "counted", info.counted) ||
		    bk_record_set_bool(summary, "truncated", info.truncated) ||
		    bk_record_print(summary, stdout, false)) {
			bk_record_free(&summary);
			bk_die("cannot write the results");
			goto out;
		}
		bk_record_free(&summary);
	} else if (info.truncated)
		bk_note("search for '%s' stopped at the time limit: the best of %ld "
			"matching pages found in %ld checked; more pages may match",
			a.query, info.matches, info.examined);
	else if (!out.nhits)
		bk_note("no hits for '%s'", a.query);
	else if (info.matches > out.nhits || !info.counted)
		bk_note("%s%ld pages match '%s'; the best %d shown",
			info.counted ? "" : "at least ", info.matches, a.query, out.nhits);
	rc = BK_EXIT_OK;
out:
	bk_index_free(&idx);
	free(dir);
	return rc;
}
