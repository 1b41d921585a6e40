/*
 * pipeline/cmd_init.c — `bunko init ARCHIVE`: creates an empty archive (the
 * marker file and the queue/, store/, index/ and log/ directories; see
 * archive/store.h). Running it again on an archive changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "archive/store.h"
#include "pipeline/cli.h"

int cmd_init(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("init");
	const char *archive = NULL;
	struct bk_error err;

	bk_error_init(&err);
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1])
			return bk_usage_error(cmd, "unknown option '%s'", argv[i]);
		if (archive)
			return bk_usage_error(cmd, "unexpected argument '%s'", argv[i]);
		archive = argv[i];
	}
	if (!archive || !*archive)
		return bk_usage_error(cmd, "missing ARCHIVE");
	if (bk_archive_init(archive, &err))
		return bk_die(err.msg);
	printf("initialized archive '%s'\n", archive);
	return BK_EXIT_OK;
}
