/*
 * pipeline/main.c — `bunko`: looks the subcommand up in the command table
 * and runs it. All work happens in the cmd_<name>.c files.
 */
#include <stdio.h>
#include <string.h>

#include "index/index.h"
#include "pipeline/cli.h"

int main(int argc, char **argv)
{
	if (argc < 2)
		return cmd_help(1, argv) ? BK_EXIT_FAIL : BK_EXIT_USAGE;
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h"))
		name = "help";
	else if (!strcmp(name, "--version"))
		name = "version";
	bk_index_process_setup();
	const struct bk_command *cmd = bk_command_find(name);
	if (!cmd) {
		bk_note("'%s' is not a bunko command; see 'bunko help'", argv[1]);
		return BK_EXIT_USAGE;
	}
	return cmd->fn(argc - 1, argv + 1);
}
