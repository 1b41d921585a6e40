/*
 * tests/test_support.h — small helpers shared by the Criterion tests: a
 * scratch directory per test, running a real command and capturing its
 * output, reading files. Nothing here imitates a component: tests drive the
 * real libraries, the real `bunko` executable and the real poppler/qpdf tools.
 */
#ifndef BUNKO_TEST_SUPPORT_H
#define BUNKO_TEST_SUPPORT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); caller frees. */
char *ts_mkdtemp(const char *tag);
/* Removes a directory tree (rm -rf). */
void ts_rmtree(const char *path);
/* Runs `cmd` through /bin/sh; stores its stdout (and stderr if
 * merge_stderr) in *output (caller frees); returns the exit status, or -1
 * if it did not exit normally. */
int ts_run(const char *cmd, char **output, int merge_stderr);
/* Runs argv[0] (searched on PATH) with `argv` directly, no shell, so any
 * bytes can be an argument; stores its stdout and its stderr apart in *out
 * and *err (either may be NULL; caller frees). Returns the exit status, or
 * -1 if it did not exit normally. */
int ts_run_argv(const char *const *argv, char **out, char **err);
/* A new string formatted like printf (caller frees); aborts when out of
 * memory, which a test reports as a crash. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
char *ts_fmt(const char *fmt, ...);
/* Runs the `bunko` under test with `args` (printf-formatted, already
 * shell-quoted), its stderr merged into *output (caller frees); returns
 * the exit status. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int ts_bunko(char **output, const char *args, ...);
/* Reads a whole file (NUL-terminated); NULL if it cannot. */
char *ts_read(const char *path, size_t *len);
/* Writes a whole file; 0 on success. */
int ts_write(const char *path, const void *data, size_t len);
/* Path of a sample: BUNKO_SAMPLES_DIR "/" name; caller frees. */
char *ts_sample(const char *name);
/* True if `tool` is on PATH. */
int ts_have_tool(const char *tool);
/* True under CI=true (.ci/run), where every tool the tests use is installed
 * (scripts/install-deps --tests) and a missing one is a failure. */
int ts_in_ci(void);
/*
 * For a test (or a part of one) that needs a tool: when `tool` is missing,
 * fails the test under CI, and elsewhere skips it, printing why. Needs
 * <criterion/criterion.h> included before this header.
 */
#define TS_NEED_TOOL(tool)                                                          \
	do {                                                                        \
		if (!ts_have_tool(tool)) {                                          \
			if (ts_in_ci())                                             \
				cr_assert_fail("%s is not installed (scripts/install-deps " \
					       "--tests installs it)", tool);       \
			printf("skipped: %s is not installed\n", tool);             \
			cr_skip_test("%s is not installed", tool);                  \
		}                                                                   \
	} while (0)
/*
 * Validation of the sidecars with xmllint, fetching nothing (--nonet):
 * hOCR against the XHTML 1.0 Transitional DTD (Debian's w3c-sgml-lib,
 * found through the XML catalog) and tests/data/hocr/bunko-hocr.xsd; ALTO
 * against tests/data/alto/bunko-alto-4.xsd (both schemas say what they
 * check and why they are bunko's own). Return xmllint's exit status (0:
 * valid) and its messages in *out (caller frees).
 */
int ts_validate_hocr(const char *path, char **out);
int ts_validate_alto(const char *path, char **out);
/* True if the XHTML 1.0 DTD is installed where the XML catalog finds it. */
int ts_have_xhtml_dtd(void);
/* As TS_NEED_TOOL, for xmllint and the XHTML DTD together. */
#define TS_NEED_XML_VALIDATION()                                                    \
	do {                                                                        \
		TS_NEED_TOOL("xmllint");                                            \
		if (!ts_have_xhtml_dtd()) {                                         \
			if (ts_in_ci())                                             \
				cr_assert_fail("the XHTML 1.0 DTD is not installed "   \
					       "(scripts/install-deps --tests "     \
					       "installs w3c-sgml-lib)");           \
			printf("skipped: the XHTML 1.0 DTD is not installed\n");    \
			cr_skip_test("the XHTML 1.0 DTD is not installed");         \
		}                                                                   \
	} while (0)
/* Removes all whitespace from a UTF-8 string in place and returns it. */
char *ts_strip_space(char *s);
/* Writes a PDF of `n` objects (object i+1 is objs[i], lens[i] bytes, or
 * strlen() when lens is NULL) with a correct cross-reference table; object
 * 1 is the catalog. 0 on success. */
int ts_write_pdf(const char *path, const char *const *objs, const size_t *lens, int n);

/* ts_run, asserting exit status 0: the command's stdout and stderr
 * together (ts_run_ok) or its stdout alone (ts_run_ok_stdout); caller
 * frees. Needs <criterion/criterion.h>, as every test has. */
char *ts_run_ok(const char *cmd);
char *ts_run_ok_stdout(const char *cmd);
/* Starts argv (argv[0] a path, or a program on PATH) in a process group of its own, as a pool
 * of workers that a test kills whole (kill(-pid, ...)): signals unblocked,
 * killed when the test process dies, stdout and stderr appended to `log`,
 * OMP_THREAD_LIMIT=1. Returns its pid, which is also the group's. */
pid_t ts_spawn_group(const char *const *argv, const char *log);
/* Seconds on the monotonic clock, for deadlines in polling loops. */
double ts_now(void);
/* Characters (code points) in a UTF-8 string. */
size_t ts_utf8_len(const char *s);
/* The integer after the first `"key": ` in a JSON text printed with
 * ", " and ": " (`--json` of status and verify); asserts there is one. */
long ts_json_int(const char *json, const char *key);
/* Entries of ARCHIVE/queue/SUB that do not start with '.' (jobs, claims);
 * 0 when the directory cannot be read. */
int ts_queue_entries(const char *archive, const char *sub);
/* The id of a process that has exited and been reaped. */
long ts_dead_pid(void);
/* A 1-bit image (MSB first, 0 white, `*stride` bytes a row; caller frees)
 * of w x h pixels with a black square at every word box of `page`, each
 * box shrunk by `inset` pixels on every side, so page images whose words
 * lie where the page model says can be made without an OCR run. */
struct bk_page;
unsigned char *ts_word_boxes_bits(const struct bk_page *page, int w, int h, int inset,
				  size_t *stride);

#endif
