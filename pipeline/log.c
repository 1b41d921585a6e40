/*
 * pipeline/log.c — the per-host worker log (see log.h).
 */
#include "pipeline/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bunko/atomic.h"
#include "bunko/fs.h"

int bk_log_open(const char *archive, const char *host, struct bk_error *err)
{
	char *dir = NULL, *path = NULL;
	int fd = -1;

	if (!(dir = bk_path_join(archive, "log"))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (asprintf(&path, "%s/worker-%s.log", dir, host) < 0) {
		path = NULL;
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (bk_mkdir_p(dir, 0, err))
		goto out;
	/* Owner only, whatever the umask and an older file's mode: the log
	 * names the files and failures of documents of every level. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600)) {
		bk_error_set(err, "cannot open '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	free(dir);
	free(path);
	return fd;
}

void bk_log_line(int fd, const char *fmt, ...)
{
	char line[1024];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	size_t n;

	if (fd < 0)
		return;
	gmtime_r(&now, &tm); /* UTC: hosts in other zones, summer time */
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	/* one line, one write: newlines inside the text would split it */
	for (char *p = line + n; *p; p++)
		if (*p == '\n')
			*p = ' ';
	n = strlen(line);
	line[n++] = '\n';
	if (write(fd, line, n) < 0) {
		/* the log is advisory: a full disk shows up in the job itself */
	}
}
