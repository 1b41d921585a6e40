/*
 * pipeline/cmd_user.c — `bunko user add ARCHIVE NAME --role staff|admin`:
 * adds (or replaces) a staff account of the web archive (web/auth.h). The
 * password is read from standard input, one line (without echo on a
 * terminal), so it never appears in a command line or a process list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "archive/store.h"
#include "pipeline/cli.h"
#include "web/auth.h"

int cmd_user(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("user");
	const char *sub = NULL, *archive = NULL, *name = NULL, *role = NULL;
	static const struct option longopts[] = {
		{ "role", required_argument, NULL, 0 },
		{ 0 }
	};
	struct bk_args it;
	struct termios old, quiet;
	struct bk_error err;
	char *line = NULL;
	size_t cap = 0;
	bool tty = isatty(0);
	int rc = BK_EXIT_FAIL;

	bk_error_init(&err);
	bk_args_init(&it, cmd, argc, argv, "", longopts);
	while (bk_args_next(&it)) {
		if (it.opt) /* --role, the only option */
			role = it.value;
		else if (!sub && strcmp(it.value, "add"))
			return bk_usage_error(cmd, "unknown subcommand '%s'", it.value);
		else if (!sub)
			sub = it.value;
		else if (!archive)
			archive = it.value;
		else if (!name)
			name = it.value;
		else
			return bk_usage_error(cmd, "unexpected argument '%s'", it.value);
	}
	if (it.done)
		return it.status;
	if (!sub)
		return bk_usage_error(cmd, "missing 'add'");
	if (!archive || !name)
		return bk_usage_error(cmd, archive ? "missing NAME" : "missing ARCHIVE and NAME");
	int r = role ? bk_role_parse(role) : -1;
	if (r != BK_ROLE_STAFF && r != BK_ROLE_ADMIN)
		return bk_usage_error(cmd, role ? "unknown role '%s': staff or admin" : "missing --role", role);
	if (bk_archive_check(archive, &err))
		return bk_die(err.msg);
	if (tty) {
		fprintf(stderr, "password for %s: ", name);
		tcgetattr(0, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(0, TCSANOW, &quiet);
	}
	ssize_t n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(0, TCSANOW, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		bk_note("no password given for '%s' on standard input", name);
		goto out;
	}
	line[strcspn(line, "\r\n")] = '\0';
	if (bk_auth_user_add(archive, name, (enum bk_role)r, line, &err)) {
		bk_die(err.msg);
		goto out;
	}
	printf("user '%s' (%s) added to '%s'\n", name, bk_role_name((enum bk_role)r), archive);
	rc = BK_EXIT_OK;
out:
	if (line)
		memset(line, 0, cap);
	free(line);
	return rc;
}
