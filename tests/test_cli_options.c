/*
 * tests/test_cli_options.c — how every command reads its options
 * (getopt_long through bk_args, pipeline/cli.h), through the real `bunko`:
 * options before, between and after the arguments; --name=value and
 * unambiguous abbreviations; an ambiguous abbreviation, an unknown option
 * and a missing value are usage errors (exit 2) that name the option
 * (checked on each command, serve and requeue included, and on the newer
 * --dpi and --page-timeout);
 * -j4 as -j 4; a search query that starts with '-' (an excluded word) is
 * the query, and after "--" everything is ARCHIVE and QUERY. `add
 * --manifest` (also as --manifest=F and abbreviated) refuses files and
 * other options before judging them; `user add` reads --role the same way.
 * --help is one more option of every command, read in turn (not looked
 * for anywhere on the command line): after "--" or as a value it is text.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static char *scratch, *archive;


static void setup(void)
{
	scratch = ts_mkdtemp("cli-options");
	cr_assert_not_null(scratch);
	archive = ts_fmt("%s/arc", scratch);
	char *out = NULL;
	cr_assert_eq(ts_bunko(&out, "init '%s'", archive), 0, "%s", out);
	free(out);
}

static void teardown(void)
{
	ts_rmtree(scratch);
	free(scratch);
	free(archive);
}

TestSuite(cli_options, .init = setup, .fini = teardown);

static void expect(int want_rc, const char *want_text, const char *args)
{
	char *out = NULL;
	int rc = ts_bunko(&out, "%s", args);
	cr_expect_eq(rc, want_rc, "bunko %s: exit %d, not %d: %s", args, rc, want_rc, out);
	if (want_text)
		cr_expect(strstr(out, want_text) != NULL, "bunko %s: no '%s' in: %s", args,
			  want_text, out);
	free(out);
}

Test(cli_options, forms_errors_and_dash_queries)
{
	char *a = ts_fmt("'%s'", archive), *args;

	/* an abbreviation; --name=value; the option before the argument */
	args = ts_fmt("status --js %s", a);
	expect(0, "\"queued\"", args);
	free(args);
	args = ts_fmt("verify %s --collection=none --json", a);
	expect(1, "no collection 'none'", args);
	free(args);
	args = ts_fmt("reindex --coll none %s", a);
	expect(0, "reindexed 0 documents", args);
	free(args);
	/* -j4 is -j 4; --dr is --drain (nothing queued: the worker ends) */
	args = ts_fmt("worker %s -j4 --dr --no-index", a);
	expect(0, NULL, args);
	free(args);

	/* usage errors name the option */
	args = ts_fmt("search %s word --t 5", a); /* --to or --time-limit */
	expect(2, "unknown option '--t'", args);
	free(args);
	args = ts_fmt("status %s -x", a);
	expect(2, "unknown option '-x'", args);
	free(args);
	args = ts_fmt("worker %s -j", a);
	expect(2, "option '-j' needs a value", args);
	free(args);
	args = ts_fmt("add %s x.tif --title", a);
	expect(2, "option '--title' needs a value", args);
	free(args);
	args = ts_fmt("status %s --json=yes", a);
	expect(2, "unknown option '--json=yes'", args);
	free(args);
	args = ts_fmt("ocr in.png --outptu x.pdf");
	expect(2, "unknown option '--outptu'", args);
	free(args);
	args = ts_fmt("serve %s --work=0", a);
	expect(2, "invalid worker count '0'", args);
	free(args);
	args = ts_fmt("requeue %s some-job --coll x", a); /* --collection without --failed */
	expect(2, "--collection goes with --failed", args);
	free(args);
	args = ts_fmt("add %s x.tif --collection c --dpi", a);
	expect(2, "option '--dpi' needs a value", args);
	free(args);
	args = ts_fmt("worker %s --page-t 0", a);
	expect(2, "--page-timeout needs a positive number", args);
	free(args);

	/* a query that starts with '-' is the query: one excluded word alone
	 * is refused by the query parser (exit 1), not taken for an option */
	args = ts_fmt("search %s -大阪", a);
	expect(1, "only excluded terms", args);
	free(args);
	args = ts_fmt("search %s --json -- '--x'", a);
	expect(1, "only excluded terms", args);
	free(args);
	args = ts_fmt("search %s -- 東京 --json", a);
	expect(2, "unexpected argument '--json'", args);
	free(args);
	args = ts_fmt("search %s 東京 -大阪 --json", a);
	expect(2, "unexpected argument '-大阪'", args);
	free(args);
	free(a);
}

Test(cli_options, add_manifest_and_user_forms)
{
	char *a = ts_fmt("'%s'", archive), *args;

	/* --manifest in every getopt form reaches the manifest reader */
	args = ts_fmt("add %s --manifest=%s/none.csv", a, scratch);
	expect(1, "none.csv'", args);
	free(args);
	args = ts_fmt("add --man '%s/none.csv' %s", scratch, a);
	expect(1, "none.csv'", args);
	free(args);
	/* anything else with --manifest is refused whole, even a bad value
	 * before it, which would otherwise be judged first */
	args = ts_fmt("add %s --collection bad/name --manifest m.csv", a);
	expect(2, "--manifest takes no files or other options", args);
	free(args);
	args = ts_fmt("add %s --manifest m.csv x.tif", a);
	expect(2, "--manifest takes no files or other options", args);
	free(args);
	args = ts_fmt("add --manifest m.csv");
	expect(2, "an archive and a manifest are needed", args);
	free(args);
	args = ts_fmt("add %s --manifest", a);
	expect(2, "option '--manifest' needs a value", args);
	free(args);
	args = ts_fmt("add %s --manifest m.csv --colour x", a);
	expect(2, "unknown option '--colour'", args);
	free(args);

	/* user add: the subcommand, then ARCHIVE NAME, --role anywhere */
	expect(2, "missing 'add'", "user");
	expect(2, "unknown subcommand 'remove'", "user remove");
	args = ts_fmt("user add %s", a);
	expect(2, "missing NAME", args);
	free(args);
	args = ts_fmt("user add %s bob", a);
	expect(2, "missing --role", args);
	free(args);
	args = ts_fmt("user add %s bob --role", a);
	expect(2, "option '--role' needs a value", args);
	free(args);
	args = ts_fmt("user add --ro=chief %s bob", a);
	expect(2, "unknown role 'chief': staff or admin", args);
	free(args);
	args = ts_fmt("user add %s bob carol --role staff", a);
	expect(2, "unexpected argument 'carol'", args);
	free(args);
	args = ts_fmt("user add %s bob --rank staff", a);
	expect(2, "unknown option '--rank'", args);
	free(args);
	args = ts_fmt("user add --role=staff %s bob < /dev/null", a);
	expect(1, "no password given for 'bob'", args);
	free(args);
	free(a);
}

Test(cli_options, help_is_read_as_an_option)
{
	static const char *const commands[] = { "init", "add", "worker", "requeue", "status",
						"search", "serve", "user", "reindex", "verify",
						"ocr", "help", "version" };
	char *a = ts_fmt("'%s'", archive), *args, *want;

	/* every command answers --help with its usage, exit 0; -h too */
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		args = ts_fmt("%s --help", commands[i]);
		want = ts_fmt("usage: bunko %s", commands[i]);
		expect(0, want, args);
		free(want);
		free(args);
	}
	expect(0, "usage: bunko worker", "worker -h");
	/* read in turn, as getopt_long reads it: after "--" it is the query,
	 * as an option's value it is the value, after a bad option too late */
	static const struct { int rc; const char *want, *cmd, *rest; } in_turn[] = {
		{ 1, "query '--help' has only excluded terms", "search", "-- --help" },
		{ 2, "--collection is required", "add", "x.tif --title --help" },
		{ 2, "unknown option '--bogus'", "status", "--bogus --help" },
	};
	for (size_t i = 0; i < sizeof(in_turn) / sizeof(in_turn[0]); i++) {
		args = ts_fmt("%s %s %s", in_turn[i].cmd, a, in_turn[i].rest);
		expect(in_turn[i].rc, in_turn[i].want, args);
		free(args);
	}
	free(a);
}
