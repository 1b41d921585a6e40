/*
 * pipeline/cli.c — the one table of bunko's subcommands, and the help,
 * usage-error and option-reading (bk_args: getopt_long) helpers every
 * command shares.
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
	"  --dpi N      the scans' resolution (50-2400), whatever their files say;\n" \
	"               without it a missing or false tag (72, 96, 1) is replaced\n" \
	"               by a resolution measured from the text. PDF pages keep\n" \
	"               the size their PDF gives\n" \
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
	  "                 [--ocr auto|force|skip] [--bilevel] [--dpi N]\n"
	  "                 [--old-print auto|on|off]\n"
	  "       bunko add ARCHIVE --manifest volumes.csv\n"
	  OCR_MODE_HELP
	  "  --manifest F one job per row of the CSV file F, whose header names\n"
	  "               the columns: files (paths separated by ';', or one\n"
	  "               directory), collection, and any of title, date, box,\n"
	  "               volume, access, profile, lang. The whole file is\n"
	  "               checked first (errors give its line) and nothing is\n"
	  "               queued if any row is bad; rows already queued are\n"
	  "               skipped, so running it again queues nothing twice\n" },
	{ "worker", cmd_worker, "process queued jobs with N worker processes",
	  "usage: bunko worker ARCHIVE [-j N] [--drain] [--no-index] [--lease S]\n"
	  "                    [--tries N] [--page-timeout S]\n"
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
	  "  --tries N   a page that killed or hung N workers (default 3) is\n"
	  "              quarantined: left out of its document, which goes on\n"
	  "              without it and names it. Only a death with no page\n"
	  "              finished since the claim counts, and none where the\n"
	  "              whole pool died\n"
	  "  --page-timeout S  kill a worker whose page runs past S seconds; it\n"
	  "              counts as one death on that page (default: 120 s plus\n"
	  "              30 s per MB of the page's file)\n"
	  "Pages, jobs, crashed workers and recovered jobs are logged to\n"
	  "ARCHIVE/log/worker-HOST.log, one file per host.\n" },
	{ "requeue", cmd_requeue, "give failed jobs another run, keeping their finished pages",
	  "usage: bunko requeue ARCHIVE JOB... | --failed [--collection C]\n"
	  "  JOB...      the ids of failed jobs (`bunko status` lists them)\n"
	  "  --failed    every failed job (of collection C with --collection)\n"
	  "Each job goes back to the queue with its tries cleared; the pages it\n"
	  "had finished are kept and not read again.\n" },
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
	{ "serve", cmd_serve, "serve the web archive: search and page viewer",
	  "usage: bunko serve ARCHIVE [--listen HOST:PORT] [--workers N]\n"
	  "                   [--audit-log FILE] [--tiles DIR] [--per-address N]\n"
	  "  --listen HOST:PORT  where to accept connections (default\n"
	  "              127.0.0.1:8080, this machine only; port 0: any free port)\n"
	  "  --workers N  threads answering requests, each with its own index\n"
	  "              reader (default 4)\n"
	  "  --audit-log FILE  append a line (time, user, role, level, document,\n"
	  "              path) for each view of a restricted or confidential\n"
	  "              document (default: standard error)\n"
	  "  --tiles DIR  where the deep-zoom tiles of the pages are kept, made\n"
	  "              when a page is first viewed (default: ARCHIVE/tiles)\n"
	  "  --per-address N  connections accepted at once from one address\n"
	  "              (default 64, at most 256 in all); behind nginx every\n"
	  "              connection comes from nginx's address\n"
	  "  anonymous visitors see public documents only, staff who log in\n"
	  "  (bunko user add) what their role allows; read-only on the archive;\n"
	  "  SIGTERM or SIGINT stops it after the requests in progress\n" },
	{ "user", cmd_user, "add a staff account of the web archive",
	  "usage: bunko user add ARCHIVE NAME --role staff|admin\n"
	  "  the password is read from standard input (one line); staff see\n"
	  "  restricted documents in `bunko serve`, admins confidential ones too\n" },
	{ "reindex", cmd_reindex, "rebuild the index from stored page models",
	  "usage: bunko reindex ARCHIVE [--collection C]\n" },
	{ "verify", cmd_verify, "re-check every stored file against its checksum",
	  "usage: bunko verify ARCHIVE [--collection C] [--json]\n" },
	{ "ocr", cmd_ocr, "OCR one file into a searchable PDF, no queue",
	  "usage: bunko ocr INPUT -o OUT.pdf [--lang auto|jpn|jpn_vert|eng|LANG+LANG]\n"
	  "                 [--profile P] [--ocr auto|force|skip] [--bilevel] [--dpi N]\n"
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

void bk_args_init(struct bk_args *it, const struct bk_command *cmd, int argc,
		  char **argv, const char *shortopts, const struct option *longopts)
{
	memset(it, 0, sizeof(*it));
	it->cmd = cmd;
	it->argc = argc;
	it->argv = argv;
	/* each long option gets a val of its own (256 and up, beyond any
	 * short option): getopt_long takes an abbreviation that fits two
	 * options alike (--t: --to, --time-limit) for the first, not as
	 * ambiguous, when their vals agree */
	size_t i = 0;
	for (; longopts[i].name && i + 2 < sizeof(it->longopts) / sizeof(it->longopts[0]); i++) {
		it->longopts[i] = longopts[i];
		it->longopts[i].flag = NULL;
		it->longopts[i].val = 256 + (int)i;
	}
	it->longopts[i] = (struct option){ "help", no_argument, NULL, 256 + (int)i };
	/* '-': arguments are returned in order (code 1); ':': a missing value
	 * is told apart from an unknown option, and getopt prints nothing */
	snprintf(it->shortopts, sizeof(it->shortopts), "-:%sh", shortopts);
}

void bk_args_release(struct bk_args *it)
{
	free(it->words);
	it->words = NULL;
}

/* The first call: getopt's state reset for this command line, and for
 * dash_words the copy of argv that getopt reads instead. */
static bool args_start(struct bk_args *it)
{
	it->started = true;
	optind = 0; /* glibc: a full reset, also of a previous command line */
	opterr = 0;
	if (!it->dash_words)
		return true;
	it->words = calloc((size_t)it->argc + 1, sizeof(*it->words));
	if (!it->words) {
		bk_die("out of memory");
		it->status = BK_EXIT_FAIL;
		it->done = true;
		return false;
	}
	for (int i = 0; i < it->argc; i++) {
		const char *a = it->argv[i];
		bool word = i > 0 && a[0] == '-' && a[1] && a[1] != '-';
		it->words[i] = (char *)(word ? a + 1 : a);
	}
	return true;
}

static bool args_usage_error(struct bk_args *it, const char *fmt, const char *what)
{
	bk_usage_error(it->cmd, fmt, what);
	it->status = BK_EXIT_USAGE;
	it->done = true;
	bk_args_release(it);
	return false;
}

bool bk_args_next(struct bk_args *it)
{
	it->opt = it->value = NULL;
	if (it->done || (!it->started && !args_start(it)))
		return false;
	if (it->rest) {
		if (it->rest >= it->argc) {
			bk_args_release(it);
			return false;
		}
		it->value = it->argv[it->rest++];
		return true;
	}
	char **argv = it->words ? it->words : it->argv;
	int c = getopt_long(it->argc, argv, it->shortopts, it->longopts, NULL);
	if (c == -1) {
		/* "--" or the end: what is left are arguments */
		it->rest = optind < it->argc ? optind : it->argc;
		return bk_args_next(it);
	}
	if (c == 1) {
		/* an argument; for dash_words, the "-word" it was */
		it->value = it->words ? it->argv[optind - 1] : optarg;
		return true;
	}
	/* optopt is a short option's character (below 256), a long option's
	 * val, or 0 for an unknown long option; a long one is reported as typed */
	const char *typed = it->argv[optind - 1];
	bool is_short = optopt > 0 && optopt < 256;
	char shortname[3] = { '-', (char)optopt, 0 };
	if (c == ':')
		return args_usage_error(it, "option '%s' needs a value", is_short ? shortname : typed);
	if (c == '?')
		return args_usage_error(it, "unknown option '%s'", is_short ? shortname : typed);
	if (c == 'h' || (c >= 256 && !strcmp(it->longopts[c - 256].name, "help"))) {
		bk_command_usage(it->cmd, stdout);
		it->status = BK_EXIT_OK;
		it->done = true;
		bk_args_release(it);
		return false;
	}
	if (c >= 256)
		snprintf(it->name, sizeof(it->name), "--%s", it->longopts[c - 256].name);
	else
		snprintf(it->name, sizeof(it->name), "-%c", c);
	it->opt = it->name;
	it->value = optarg;
	return true;
}

/* help and version have no options of their own: only --help, and
 * arguments beyond the first (help) or any (version) are not looked at */
static const struct option no_options[] = { { 0 } };

int cmd_help(int argc, char **argv)
{
	const char *name = NULL;
	struct bk_args it;

	bk_args_init(&it, bk_command_find("help"), argc, argv, "", no_options);
	while (bk_args_next(&it))
		if (!name)
			name = it.value;
	if (it.done)
		return it.status;
	if (name) {
		const struct bk_command *cmd = bk_command_find(name);
		if (!cmd) {
			fprintf(stderr, "bunko: '%s' is not a bunko command\n", name);
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
	struct bk_args it;

	bk_args_init(&it, bk_command_find("version"), argc, argv, "", no_options);
	while (bk_args_next(&it))
		;
	if (it.done)
		return it.status;
	printf("bunko %s\n", BUNKO_VERSION);
	return BK_EXIT_OK;
}
