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

	static const struct option longopts[] = {
		{ "staff-group", required_argument, NULL, 0 },
		{ 0 }
	};
	struct bk_args it;

	bk_error_init(&err);
	bk_args_init(&it, cmd, argc, argv, "", longopts);
	while (bk_args_next(&it)) {
		if (it.opt) { /* --staff-group, the only option */
			if (!it.value[0])
				return bk_usage_error(cmd, "--staff-group needs a group name");
			group = it.value;
			continue;
		}
		if (archive)
			return bk_usage_error(cmd, "unexpected argument '%s'", it.value);
		archive = it.value;
	}
	if (it.done)
		return it.status;
	if (!archive || !*archive)
		return bk_usage_error(cmd, "missing ARCHIVE");
	if (bk_archive_init_group(archive, group, &err))
		return bk_die(err.msg);
	printf("initialized archive '%s'\n", archive);
	return BK_EXIT_OK;
}
