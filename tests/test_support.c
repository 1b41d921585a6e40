/*
 * tests/test_support.c — see test_support.h.
 */
#include "test_support.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bunko/page.h"

char *ts_mkdtemp(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *path = NULL;
	if (asprintf(&path, "%s/bunko-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
		     tag) < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

void ts_rmtree(const char *path)
{
	char *cmd = NULL;
	if (!path || asprintf(&cmd, "rm -rf '%s'", path) < 0)
		return;
	if (system(cmd)) {
		/* best effort: a leftover scratch directory fails no test */
	}
	free(cmd);
}

int ts_run(const char *cmd, char **output, int merge_stderr)
{
	char *full = NULL;
	FILE *fp;
	size_t len = 0, cap = 0;
	char *buf = NULL;
	char chunk[4096];
	size_t n;

	if (asprintf(&full, "%s%s", cmd, merge_stderr ? " 2>&1" : "") < 0)
		return -1;
	fp = popen(full, "r");
	free(full);
	if (!fp)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			buf = realloc(buf, cap);
			if (!buf)
				break;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	if (buf)
		buf[len] = '\0';
	else
		buf = strdup("");
	int status = pclose(fp);
	if (output)
		*output = buf;
	else
		free(buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ts_run_argv(const char *const *argv, char **out, char **err)
{
	char *dir = ts_mkdtemp("argv");
	char *out_path = NULL, *err_path = NULL;
	int status = -1;
	pid_t pid;

	if (!dir || asprintf(&out_path, "%s/out", dir) < 0 ||
	    asprintf(&err_path, "%s/err", dir) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		if (!freopen(out_path, "w", stdout) || !freopen(err_path, "w", stderr))
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (out)
		*out = ts_read(out_path, NULL);
	if (err)
		*err = ts_read(err_path, NULL);
	ts_rmtree(dir);
	free(dir);
	free(out_path);
	free(err_path);
	return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *vfmt(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	return s;
}

char *ts_fmt(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = vfmt(fmt, ap);
	va_end(ap);
	return s;
}

char *ts_read(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *buf = malloc(size + 1);
	if (buf && fread(buf, 1, size, fp) != (size_t)size) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	if (buf) {
		buf[size] = '\0';
		if (len)
			*len = size;
	}
	return buf;
}

int ts_write(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return -1;
	size_t n = fwrite(data, 1, len, fp);
	return (fclose(fp) || n != len) ? -1 : 0;
}

char *ts_sample(const char *name)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s", BUNKO_SAMPLES_DIR, name) < 0)
		return NULL;
	return path;
}

int ts_have_tool(const char *tool)
{
	char *cmd = NULL;
	if (asprintf(&cmd, "command -v '%s' >/dev/null 2>&1", tool) < 0)
		return 0;
	int rc = system(cmd);
	free(cmd);
	return rc == 0;
}

char *ts_strip_space(char *s)
{
	char *out = s;
	for (char *p = s; *p; p++) {
		if (isspace((unsigned char)*p))
			continue;
		/* U+3000 IDEOGRAPHIC SPACE is E3 80 80 */
		if ((unsigned char)p[0] == 0xE3 && (unsigned char)p[1] == 0x80 &&
		    (unsigned char)p[2] == 0x80) {
			p += 2;
			continue;
		}
		*out++ = *p;
	}
	*out = '\0';
	return s;
}

int ts_in_ci(void)
{
	const char *ci = getenv("CI");
	return ci && !strcmp(ci, "true");
}

int ts_write_pdf(const char *path, const char *const *objs, const size_t *lens, int n)
{
	FILE *fp = fopen(path, "wb");
	long *offs = calloc((size_t)n + 1, sizeof(*offs));
	int rc = -1;

	if (!fp || !offs)
		goto out;
	fputs("%PDF-1.7\n", fp);
	for (int i = 0; i < n; i++) {
		offs[i] = ftell(fp);
		fprintf(fp, "%d 0 obj\n", i + 1);
		fwrite(objs[i], 1, lens ? lens[i] : strlen(objs[i]), fp);
		fputs("\nendobj\n", fp);
	}
	offs[n] = ftell(fp);
	fprintf(fp, "xref\n0 %d\n0000000000 65535 f \n", n + 1);
	for (int i = 0; i < n; i++)
		fprintf(fp, "%010ld 00000 n \n", offs[i]);
	fprintf(fp, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n", n + 1,
		offs[n]);
	rc = ferror(fp) ? -1 : 0;
out:
	if (fp && fclose(fp))
		rc = -1;
	free(offs);
	return rc;
}

int ts_have_xhtml_dtd(void)
{
	char *out = NULL;
	/* the catalog resolves the public identifier to a local file, or says
	 * "No entry" */
	int rc = ts_run("xmlcatalog /etc/xml/catalog "
			"'-//W3C//DTD XHTML 1.0 Transitional//EN' 2>/dev/null", &out, 0);
	int ok = rc == 0 && out && strstr(out, "file://") != NULL;
	free(out);
	return ok;
}

/* xmllint against tests/data/<schema>, with `valid` "--valid " also
 * against the file's DTD; nothing fetched. */
static int validate(const char *path, const char *valid, const char *schema, char **out)
{
	char *cmd = ts_fmt("xmllint --noout --nonet %s--schema '%s/tests/data/%s' '%s'", valid,
			   BUNKO_SOURCE_DIR, schema, path);
	int rc = ts_run(cmd, out, 1);
	free(cmd);
	return rc;
}

int ts_validate_hocr(const char *path, char **out)
{
	return validate(path, "--valid ", "hocr/bunko-hocr.xsd", out);
}

int ts_validate_alto(const char *path, char **out)
{
	return validate(path, "", "alto/bunko-alto-4.xsd", out);
}

int ts_bunko(char **output, const char *args, ...)
{
	va_list ap;
	va_start(ap, args);
	char *rest = vfmt(args, ap);
	va_end(ap);
	char *cmd = ts_fmt("'%s' %s", BUNKO_EXE, rest);
	int rc = ts_run(cmd, output, 1);
	free(cmd);
	free(rest);
	return rc;
}

static char *run_ok(const char *cmd, int merge_stderr)
{
	char *out = NULL;
	int rc = ts_run(cmd, &out, merge_stderr);
	cr_assert_eq(rc, 0, "'%s' exited %d: %s", cmd, rc, out);
	return out;
}

char *ts_run_ok(const char *cmd)
{
	return run_ok(cmd, 1);
}

char *ts_run_ok_stdout(const char *cmd)
{
	return run_ok(cmd, 0);
}

pid_t ts_spawn_group(const char *const *argv, const char *log)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		/* if the test dies, what it started does not run on */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		setenv("OMP_THREAD_LIMIT", "1", 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	setpgid(pid, pid); /* both sides, so no kill can miss the group */
	return pid;
}

double ts_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t ts_utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

long ts_json_int(const char *json, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	const char *p = strstr(json, pat);
	cr_assert_not_null(p, "no %s in %s", key, json);
	return strtol(p + strlen(pat), NULL, 10);
}

int ts_queue_entries(const char *archive, const char *sub)
{
	char *dir = ts_fmt("%s/queue/%s", archive, sub);
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	free(dir);
	return n;
}

long ts_dead_pid(void)
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	return (long)pid;
}

unsigned char *ts_word_boxes_bits(const struct bk_page *page, int w, int h, int inset,
				  size_t *stride)
{
	size_t row = ((size_t)w + 7) / 8;
	unsigned char *bits = calloc(row, (size_t)h);

	cr_assert_not_null(bits);
	for (size_t b = 0; b < page->nblocks; b++)
		for (size_t l = 0; l < page->blocks[b].nlines; l++) {
			const struct bk_line *line = &page->blocks[b].lines[l];
			for (size_t k = 0; k < line->nwords; k++) {
				struct bk_box bx = line->words[k].box;
				for (int y = bx.y0 + inset; y < bx.y1 - inset; y++)
					for (int x = bx.x0 + inset; x < bx.x1 - inset; x++)
						bits[(size_t)y * row + x / 8] |=
							(unsigned char)(0x80 >> (x % 8));
			}
		}
	*stride = row;
	return bits;
}
