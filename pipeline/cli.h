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
/* True if argv holds -h or --help. */
int bk_wants_help(int argc, char **argv);
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
