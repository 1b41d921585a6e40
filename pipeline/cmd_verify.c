/*
 * pipeline/cmd_verify.c — `bunko verify ARCHIVE [--collection C] [--json]`:
 * re-hashes every stored file against its document's SHA-256 manifests
 * (bk_store_verify_collection in archive/store.h), then reports files and
 * directories readable beyond their document's level (bk_store_check_access).
 *
 * Text output: one line per finding as it is found, "KIND  PATH" (KIND is
 * missing, changed, unexpected, unreadable, malformed or exposed; PATH relative to
 * the archive, control characters shown as '?'), then
 * "verified N documents, M files: K problems". --json prints one object:
 *   {"findings":[{"kind":"changed","path":"store/c/d/data/document.pdf"}],
 *    "documents":N,"files":M,"bytes":B,"problems":K}
 * and, if the check stopped on an error, "error":"message" as well.
 * Exit status: 0 all intact, 1 any finding or an error, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "archive/meta.h"
#include "archive/store.h"
#include "pipeline/cli.h"

struct verify_options {
	const char *archive;
	const char *collection;
	int json;
};

struct verify_output {
	int json;
	long printed; /* findings written so far (for JSON commas) */
};

/* A JSON string: quotes, backslashes and control characters escaped. A
 * name that is not UTF-8 has its high bytes written as \u00XX, which keeps
 * the document valid JSON. */
static void json_string(FILE *fp, const char *s)
{
	int utf8 = bk_utf8_valid(s, strlen(s));

	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", fp);
		else if (*p < 0x20 || *p == 0x7f || (!utf8 && *p >= 0x80))
			fprintf(fp, "\\u%04x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

static void text_path(FILE *fp, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, fp);
}

static int print_finding(const char *kind, const char *path, void *ud)
{
	struct verify_output *out = ud;

	if (out->json) {
		fputs(out->printed ? ",\n  " : "\n  ", stdout);
		fputs("{\"kind\":", stdout);
		json_string(stdout, kind);
		fputs(",\"path\":", stdout);
		json_string(stdout, path);
		fputc('}', stdout);
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

static int parse_options(int argc, char **argv, struct verify_options *opt,
			 const struct bk_command *cmd)
{
	memset(opt, 0, sizeof(*opt));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			opt->json = 1;
		} else if (!strcmp(a, "--collection")) {
			if (i + 1 >= argc)
				return bk_usage_error(cmd, "'--collection' needs a name");
			opt->collection = argv[++i];
		} else if (!strncmp(a, "--collection=", 13)) {
			opt->collection = a + 13;
		} else if (a[0] == '-' && a[1]) {
			return bk_usage_error(cmd, "unknown option '%s'", a);
		} else if (opt->archive) {
			return bk_usage_error(cmd, "unexpected argument '%s'", a);
		} else {
			opt->archive = a;
		}
	}
	if (!opt->archive || !*opt->archive)
		return bk_usage_error(cmd, "missing ARCHIVE");
	return BK_EXIT_OK;
}

int cmd_verify(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("verify");
	struct verify_options opt;
	struct verify_output out = { 0, 0 };
	struct bk_verify_stats stats = { 0 };
	struct bk_store *store = NULL;
	struct bk_error err;
	int rc;

	bk_error_init(&err);
	rc = parse_options(argc, argv, &opt, cmd);
	if (rc != BK_EXIT_OK)
		return rc;
	out.json = opt.json;
	if (bk_store_open(&store, opt.archive, &err))
		return bk_die(err.msg);
	if (opt.json)
		fputs("{\"findings\":[", stdout);
	int failed = bk_store_verify_collection(store, opt.collection, print_finding,
						&out, &stats, &err) != 0 ||
		     bk_store_check_access(store, opt.collection, print_finding, &out,
					   &stats, &err) != 0;
	if (opt.json) {
		printf("%s],\n \"documents\":%ld,\"files\":%ld,\"bytes\":%llu,\"problems\":%ld",
		       out.printed ? "\n" : "", stats.documents, stats.files,
		       (unsigned long long)stats.bytes, stats.problems);
		if (failed) {
			fputs(",\"error\":", stdout);
			json_string(stdout, err.msg);
		}
		fputs("}\n", stdout);
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
