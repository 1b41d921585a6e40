/*
 * pipeline/cmd_verify.c — `bunko verify ARCHIVE [--collection C] [--json]`:
 * re-hashes every stored file against its document's SHA-256 manifests
 * (bk_store_verify_collection in archive/store.h), then reports files and
 * directories readable beyond their document's level (bk_store_check_access).
 *
 * Text output: one line per finding as it is found, "KIND  PATH" (KIND is
 * missing, changed, unexpected, unreadable, malformed or exposed; PATH relative to
 * the archive, control characters shown as '?'), then
 * "verified N documents, M files: K problems". --json prints one object on
 * one line, written by bunko/record.h once the check is over:
 *   {"findings":[{"kind":"changed","path":"store/c/d/data/document.pdf"}],
 *    "documents":N,"files":M,"bytes":B,"problems":K}
 * and, if the check stopped on an error, "error":"message" as well. A path
 * that is not UTF-8 shows each invalid byte as U+FFFD there.
 * Exit status: 0 all intact, 1 any finding or an error, 2 usage error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "archive/store.h"
#include "pipeline/cli.h"
#include "bunko/record.h"

struct verify_options {
	const char *archive;
	const char *collection;
	int json;
};

struct verify_output {
	struct bk_record *json; /* --json: the object being built, else NULL */
	long printed;           /* findings so far */
	bool oom;
};

static void text_path(FILE *fp, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, fp);
}

static int print_finding(const char *kind, const char *path, void *ud)
{
	struct verify_output *out = ud;

	if (out->json) {
		struct bk_record *f = bk_record_add_object(out->json, "findings");
		if (!f || bk_record_set_str(f, "kind", kind) ||
		    bk_record_set_str(f, "path", path))
			out->oom = true;
	} else {
		printf("%s  ", kind);
		text_path(stdout, path);
		putchar('\n');
		fflush(stdout); /* a long check shows its findings as it goes */
	}
	out->printed++;
	return 0;
}

static const char *plural(long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* -1: the command goes on with `opt`; else the exit status of a command
 * line answered here (a usage error, --help). */
static int parse_options(int argc, char **argv, struct verify_options *opt,
			 const struct bk_command *cmd)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 0 },
		{ "collection", required_argument, NULL, 0 },
		{ 0 }
	};
	struct bk_args it;

	memset(opt, 0, sizeof(*opt));
	bk_args_init(&it, cmd, argc, argv, "", longopts);
	while (bk_args_next(&it)) {
		const char *a = it.opt;
		if (!a) {
			if (opt->archive)
				return bk_usage_error(cmd, "unexpected argument '%s'", it.value);
			opt->archive = it.value;
		} else if (!strcmp(a, "--json")) {
			opt->json = 1;
		} else if (!strcmp(a, "--collection")) {
			opt->collection = it.value;
		}
	}
	if (it.done)
		return it.status;
	if (!opt->archive || !*opt->archive)
		return bk_usage_error(cmd, "missing ARCHIVE");
	return -1;
}

int cmd_verify(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("verify");
	struct verify_options opt;
	struct verify_output out = { 0 };
	struct bk_verify_stats stats = { 0 };
	struct bk_store *store = NULL;
	struct bk_error err;
	int rc;

	bk_error_init(&err);
	if ((rc = parse_options(argc, argv, &opt, cmd)) >= 0)
		return rc;
	if (bk_store_open(&store, opt.archive, &err))
		return bk_die(err.msg);
	if (opt.json && (!(out.json = bk_record_new(NULL)) ||
			 bk_record_set_array(out.json, "findings"))) {
		bk_store_free(&store);
		bk_record_free(&out.json);
		return bk_die("out of memory");
	}
	int failed = bk_store_verify_collection(store, opt.collection, print_finding,
						&out, &stats, &err) != 0 ||
		     bk_store_check_access(store, opt.collection, print_finding, &out,
					   &stats, &err) != 0;
	if (out.json) {
		struct bk_record *r = out.json;
		if (bk_record_set_int(r, "documents", stats.documents) ||
		    bk_record_set_int(r, "files", stats.files) ||
		    bk_record_set_int(r, "bytes", (long long)stats.bytes) ||
		    bk_record_set_int(r, "problems", stats.problems) ||
		    (failed && bk_record_set_str(r, "error", err.msg)) || out.oom ||
		    bk_record_print(r, stdout, false)) {
			failed = 1;
			snprintf(err.msg, sizeof(err.msg), "cannot write the findings");
		}
		bk_record_free(&out.json);
	} else if (!failed) {
		printf("verified %ld %s, %ld %s: %ld %s\n", stats.documents,
		       plural(stats.documents, "document", "documents"), stats.files,
		       plural(stats.files, "file", "files"), stats.problems,
		       plural(stats.problems, "problem", "problems"));
	}
	fflush(stdout);
	bk_store_free(&store);
	if (failed)
		return bk_die(err.msg);
	return stats.problems ? BK_EXIT_FAIL : BK_EXIT_OK;
}
