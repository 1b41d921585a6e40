/*
 * pipeline/cli.h — the command table behind `bunko <command>` (git style).
 *
 * Each subcommand lives in cmd_<name>.c and has the signature of
 * bk_command_fn. Exit codes: 0 success, 1 failure, 2 usage error. A command
 * prints its own single error line ("bunko: cannot open 'x.tif': ...") to
 * stderr; library code below it only fills a struct bk_error.
 */
#ifndef BUNKO_PIPELINE_CLI_H
#define BUNKO_PIPELINE_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

enum { BK_EXIT_OK = 0, BK_EXIT_FAIL = 1, BK_EXIT_USAGE = 2 };

typedef int (*bk_command_fn)(int argc, char **argv);

struct bk_command {
	const char *name;
	bk_command_fn fn;
	const char *summary; /* one line for `bunko help` */
	const char *usage;   /* full text for `bunko <name> --help` */
};

/* The table, terminated by an entry with a NULL name (cli.c). */
extern const struct bk_command bk_commands[];

const struct bk_command *bk_command_find(const char *name);
/* Prints a command's usage to `fp`. */
void bk_command_usage(const struct bk_command *cmd, FILE *fp);
/* Parses a whole decimal integer in [lo, hi] into *out; -1 if `s` is not
 * one (nothing after it, no overflow). */
int bk_parse_int(const char *s, long lo, long hi, int *out);
/* Every message below is printed as ONE line: a line break, another
 * control character or a byte that is not UTF-8 inside it (a query, a file
 * name) is shown escaped, as \n, \t, \r or \xHH (bk_print_line). */
/* Prints "bunko: MSG\n" to stderr; returns BK_EXIT_FAIL. */
int bk_die(const char *msg);
/* Prints "bunko: " and the formatted message to stderr. */
void bk_note(const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 1, 2)))
#endif
	;
/* Prints "bunko CMD: MSG" and the usage hint; returns BK_EXIT_USAGE. */
int bk_usage_error(const struct bk_command *cmd, const char *fmt, ...);
/* Writes `text` to `fp` escaped as above, then a newline. */
void bk_print_line(FILE *fp, const char *text);

/*
 * A command's options, read by getopt_long: options and arguments in any
 * order (arguments come back in the order given), "--" ends the options,
 * "--name=value" and unambiguous abbreviations of long options are
 * understood, and an unknown option or a missing value is a usage error
 * (bk_usage_error, one line). A command's loop:
 *
 *	static const struct option longopts[] = {   vals are not used
 *		{ "drain", no_argument, NULL, 0 }, { "lease", required_argument, NULL, 0 },
 *		{ 0 } };
 *	struct bk_args it;
 *	bk_args_init(&it, cmd, argc, argv, "j:", longopts);
 *	while (bk_args_next(&it)) {
 *		if (!it.opt)                        an argument: it.value
 *		else if (!strcmp(it.opt, "--drain")) ...
 *		else if (!strcmp(it.opt, "-j"))      it.value is N
 *	}
 *	if (it.done)
 *		return it.status;                   a usage error, or the usage for --help
 *
 * `opt` names the option as the command spells it, whatever the user typed
 * ("--collection" for --coll=X, "-j" for -j4). With `dash_words` set after
 * init (a command without short options), an argument that starts with a
 * single '-' is an argument, not options: search's "-word" queries. One
 * bk_args at a time (getopt's state is the C library's); bk_args_release
 * frees what dash_words needs and may be called at any point. A command
 * has at most 46 long options.
 *
 * Every command also takes --help and -h (-h is a query word under
 * dash_words): read in turn like any option, it prints the command's usage
 * on stdout and ends the loop with `done` set and `status` BK_EXIT_OK, so
 * "--help" after "--" or as an option's value is no request for help.
 */
struct bk_args {
	const struct bk_command *cmd;
	int argc;
	char **argv;
	char **words;  /* dash_words: argv with "-word" as "word" (owned) */
	char shortopts[32];
	struct option longopts[48]; /* the command's, each with its own val */
	bool dash_words;
	const char *opt;   /* "--name" or "-c"; NULL for an argument */
	const char *value; /* the option's value, or the argument */
	bool done;         /* the command line is answered: return `status` */
	int status;        /* BK_EXIT_USAGE after a usage error, BK_EXIT_OK after --help */
	int rest;          /* after "--": the next argv index to hand out */
	bool started;
	char name[48];
};
void bk_args_init(struct bk_args *it, const struct bk_command *cmd, int argc,
		  char **argv, const char *shortopts, const struct option *longopts);
/* The next option or argument: true, or false at the end, after a usage
 * error or after --help (then `done` is set). */
bool bk_args_next(struct bk_args *it);
void bk_args_release(struct bk_args *it);

int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_requeue(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_reindex(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_ocr(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_user(int argc, char **argv);

#endif
