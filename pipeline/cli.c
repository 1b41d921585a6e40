/*
 * pipeline/cli.c — the one table of bunko's subcommands, and the help and
 * usage-error helpers every command shares.
 */
#include "pipeline/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>
#define OCR_MODE_HELP \
	"  --ocr auto   PDF pages with typeset text keep it and are not read; pages\n" \
	"               whose text is another tool's OCR layer or junk are read\n" \
	"               again (default)\n" \
	"  --ocr force  read every page, whatever text it has\n" \
	"  --ocr skip   keep any text a page has; read only pages without text\n" \
	"  --bilevel    show gray and color scans binarized (CCITT G4) in the PDF\n" \
	"               instead of as scanned (JPEG)\n" \
	"  --old-print auto  pages that read like old print (many doubtful kanji,\n" \
	"               old forms among them) have their doubtful lines read again\n" \
	"               with the Traditional Chinese models, which know the old\n" \
	"               kanji forms (國 區 會 經 ...) Japanese lacks (default)\n" \
	"  --old-print on|off  always / never\n"

const struct bk_command bk_commands[] = {
	{ "init", cmd_init, "create an empty archive",
	  "usage: bunko init ARCHIVE [--staff-group GROUP]\n"
	  "  --staff-group GROUP  the Unix group that may read restricted\n"
	  "              documents: the archive's directories get this group\n"
	  "              and the set-group-ID bit, so everything made in it\n"
	  "              belongs to GROUP (default: your group). Run init, add\n"
	  "              and the workers as the archive's owner, a member of\n"
	  "              GROUP; confidential documents are readable by that\n"
	  "              owner only\n" },
	{ "add", cmd_add, "queue scans as one batch job; prints the job id",
	  "usage: bunko add ARCHIVE FILE... --collection NAME\n"
	  "                 [--profile record|bylaw|ukiyoe|map]\n"
	  "                 [--access public|restricted|confidential]\n"
	  "                 [--title T] [--date YYYY[-MM[-DD]]] [--box N] [--volume N]\n"
	  "                 [--lang auto|jpn|jpn_vert|eng|LANG+LANG]\n"
	  "                 [--ocr auto|force|skip] [--bilevel]\n"
	  "                 [--old-print auto|on|off]\n"
	  OCR_MODE_HELP },
	{ "worker", cmd_worker, "process queued jobs with N worker processes",
	  "usage: bunko worker ARCHIVE [-j N] [--drain] [--no-index] [--lease S]\n"
	  "                    [--tries N]\n"
	  "  -j N        run N worker processes (default 1)\n"
	  "  --drain     exit once the queue is empty: nothing queued, and every\n"
	  "              job still claimed is held by a live worker (a dead one's\n"
	  "              job is taken back and done first)\n"
	  "  --no-index  store documents without writing the search index; run\n"
	  "              `bunko reindex ARCHIVE` on one machine afterwards. For\n"
	  "              workers on several hosts sharing the archive over a\n"
	  "              network filesystem, where SQLite must not be written\n"
	  "              (scripts/slurm/worker.sbatch uses it)\n"
	  "  --lease S   a claim whose heartbeat is older than S seconds is\n"
	  "              taken back from its (dead) worker (default 120)\n"
	  "  --tries N   fail a job after its worker died N times (default 3)\n"
	  "Pages, jobs, crashed workers and recovered jobs are logged to\n"
	  "ARCHIVE/log/worker-HOST.log, one file per host.\n" },
	{ "status", cmd_status, "show the queue, progress and failures",
	  "usage: bunko status ARCHIVE [--json]\n" },
	{ "search", cmd_search, "full-text search in Japanese or English",
	  "usage: bunko search ARCHIVE QUERY [--collection C] [--profile P]\n"
	  "                    [--from YYYY[-MM[-DD]]] [--to YYYY[-MM[-DD]]]\n"
	  "                    [--role public|staff|admin] [--limit N] [--json]\n"
	  "                    [--time-limit MS]\n"
	  "  QUERY: words (AND), \"a phrase\", a OR b, -excluded\n"
	  "  every matching page is ranked; --limit N hits are shown (20); a search\n"
	  "  that runs past --time-limit (2000 ms) stops and says so\n"
	  "  '--' ends the options (for a query that starts with '--')\n" },
	{ "reindex", cmd_reindex, "rebuild the index from stored page models",
	  "usage: bunko reindex ARCHIVE [--collection C]\n" },
	{ "verify", cmd_verify, "re-check every stored file against its checksum",
	  "usage: bunko verify ARCHIVE [--collection C] [--json]\n" },
	{ "ocr", cmd_ocr, "OCR one file into a searchable PDF, no queue",
	  "usage: bunko ocr INPUT -o OUT.pdf [--lang auto|jpn|jpn_vert|eng|LANG+LANG]\n"
	  "                 [--profile P] [--ocr auto|force|skip] [--bilevel]\n"
	  "                 [--old-print auto|on|off] [--text F] [--hocr F] [--alto F]\n"
	  OCR_MODE_HELP },
	{ "help", cmd_help, "show the commands, or one command's usage",
	  "usage: bunko help [COMMAND]\n" },
	{ "version", cmd_version, "print bunko's version",
	  "usage: bunko version\n" },
	{ NULL, NULL, NULL, NULL }
};

const struct bk_command *bk_command_find(const char *name)
{
	for (const struct bk_command *c = bk_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void bk_command_usage(const struct bk_command *cmd, FILE *fp)
{
	fprintf(fp, "%s\n%s", cmd->summary, cmd->usage);
}

int bk_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	return 0;
}

int bk_parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

void bk_print_line(FILE *fp, const char *text)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)text;
	size_t len = strlen(text), i = 0;

	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0 || cp < 0x20 || cp == 0x7f) {
			unsigned char c = p[i];
			if (c == '\n')
				fputs("\\n", fp);
			else if (c == '\t')
				fputs("\\t", fp);
			else if (c == '\r')
				fputs("\\r", fp);
			else
				fprintf(fp, "\\x%02x", c);
			i++;
			continue;
		}
		fwrite(p + i, 1, (size_t)n, fp);
		i += (size_t)n;
	}
	fputc('\n', fp);
}

static void vnote(const char *prefix, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	fputs(prefix, stderr);
	bk_print_line(stderr, msg ? msg : "out of memory");
	free(msg);
}

int bk_die(const char *msg)
{
	fputs("bunko: ", stderr);
	bk_print_line(stderr, msg);
	return BK_EXIT_FAIL;
}

void bk_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vnote("bunko: ", fmt, ap);
	va_end(ap);
}

int bk_usage_error(const struct bk_command *cmd, const char *fmt, ...)
{
	char prefix[64];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "bunko %s: ", cmd->name);
	va_start(ap, fmt);
	vnote(prefix, fmt, ap);
	va_end(ap);
	fputs(cmd->usage, stderr);
	return BK_EXIT_USAGE;
}

int cmd_help(int argc, char **argv)
{
	if (argc > 1) {
		const struct bk_command *cmd = bk_command_find(argv[1]);
		if (!cmd) {
			fprintf(stderr, "bunko: '%s' is not a bunko command\n", argv[1]);
			return BK_EXIT_USAGE;
		}
		bk_command_usage(cmd, stdout);
		return BK_EXIT_OK;
	}
	printf("usage: bunko <command> [options]\n\n"
	       "bunko turns scanned archives into searchable PDFs and a Japanese\n"
	       "full-text index.\n\ncommands:\n");
	for (const struct bk_command *c = bk_commands; c->name; c++)
		printf("  %-8s  %s\n", c->name, c->summary);
	printf("\n'bunko <command> --help' shows a command's options.\n");
	return BK_EXIT_OK;
}

int cmd_version(int argc, char **argv)
{
	printf("bunko %s\n", BUNKO_VERSION);
	return BK_EXIT_OK;
}
