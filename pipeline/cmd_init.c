/*
 * pipeline/cmd_init.c — `bunko init ARCHIVE`: creates an empty archive (the
 * marker file and the queue/, store/, index/ and log/ directories; see
 * archive/store.h). Running it again on an archive changes nothing.
 * --staff-group gives the new archive to the Unix group that may read its
 * restricted documents (archive/store.h, "Access levels on disk").
 */
#include <stdio.h>
#include <string.h>

#include "archive/store.h"
#include "pipeline/cli.h"

int cmd_init(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("init");
	const char *archive = NULL, *group = NULL;
	struct bk_error err;

	bk_error_init(&err);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--staff-group")) {
			if (i + 1 >= argc || !argv[i + 1][0])
				return bk_usage_error(cmd, "--staff-group needs a group name");
			group = argv[++i];
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return bk_usage_error(cmd, "unknown option '%s'", argv[i]);
		if (archive)
			return bk_usage_error(cmd, "unexpected argument '%s'", argv[i]);
		archive = argv[i];
	}
	if (!archive || !*archive)
		return bk_usage_error(cmd, "missing ARCHIVE");
	if (bk_archive_init_group(archive, group, &err))
		return bk_die(err.msg);
	printf("initialized archive '%s'\n", archive);
	return BK_EXIT_OK;
}
