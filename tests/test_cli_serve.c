/*
 * tests/test_cli_serve.c — `bunko serve` end to end: the real executable
 * on an archive made by the real pipeline (`bunko init`, `bunko add` of
 * four samples, `bunko worker --drain`: Tesseract reads them), asked over
 * HTTP through a socket, as a browser would.
 *
 * The archive: h-reiki.tif (2 pages, public, collection reiki),
 * v-gian.tif (1 vertical page, public, collection gian), h-kokuji.png
 * (confidential, gian) and eng.png (restricted, gian); then 45 public
 * pages of collection "synth" put through the index library (the call a
 * worker makes), so that a query has three pages of results. It is built
 * once per test run (in the first test that needs it) and removed after
 * the last.
 *
 * It proves: the web finds what `bunko search` finds (same totals and
 * pages, old kanji folded, phrases, OR, NOT), with the collection facet's
 * counts, KWIC lines with the hit in <mark>, and pagination; the page
 * view draws one box per hit and line, each the tight union of the page
 * model's boxes of exactly the characters hit, in vertical columns too;
 * the page image is a PNG of the page's proportions; downloads are the
 * stored files; a confidential or restricted document answers every URL
 * exactly as a missing one (404, same body) and its words, title and id
 * appear in no response, nor in any count; an anonymous crawl of every
 * link the site gives (pages, redirects, the IIIF JSON's URLs: some 330)
 * reaches both public documents' images, thumbnails, manifests and
 * downloads and no byte of a hidden one's id, title or words; hostile queries are escaped or
 * refused (400) and leave the server up; SIGTERM stops it with status 0;
 * each public document has a IIIF Presentation 3.0 manifest (a canvas
 * per page of the page model's size, right-to-left for the vertical
 * volume, the PDF as rendering) whose images the level 0 Image API
 * service answers at every listed size, and its Content Search 2.0
 * service answers one highlighting annotation per hit box; and in headless Chromium (the
 * Debian package, driven by puppeteer-core from tests/browser/), each hit
 * box is drawn where its page-model box falls on the page image as laid
 * out, outlined in the hit colour, over ink (the characters), on a
 * horizontal and a vertical page; the screenshots are kept in
 * build/test-artifacts/. Staff accounts (`bunko user add`, Argon2id, a
 * 0600 file): a login needs the form's CSRF token, a wrong password or
 * an unknown name is refused alike, and repeated failures are refused
 * for a while; a staff session sees the restricted document (search,
 * page, files, not cached) but not the confidential one, an admin's sees
 * both, and after logout (which needs the session's CSRF token) the
 * session's cookie sees only public documents again; each view of a
 * restricted or confidential document is a line of the audit log (who,
 * what, when), and views of public ones are not. Behind nginx, with the
 * site file scripts/nginx/bunko.conf as shipped (the test's ports and a
 * self-signed certificate put in): HTTP is redirected to HTTPS, pages and
 * hidden documents answer as directly, PDFs are served in byte ranges,
 * cookies are Secure, and oversized headers are refused. With JavaScript,
 * the page view's deep-zoom viewer loads the page's libvips tiles, draws
 * each hit overlay where the tiled image puts its box, outlined, and
 * zooms onto the next hit over finer tiles; Mirador (npm), served from
 * another origin, opens a manifest, draws its page from the tiles, and
 * lists and marks the hits of Content Search 1.0 (screenshots kept).
 * The search page's facets (type, decade, access for staff) count what
 * `bunko search` finds with the same --profile/--from/--to, a date range
 * and type chosen give the CLI's total and pages, sorting by date orders
 * the results by their dates, and each role's facets add up to the pages
 * it may see, never counting a confidential page for staff or a hidden
 * one for a visitor; the English pages (?lang=en, then the cookie) carry
 * lang="en" and none of the Japanese labels; the queue page shows what
 * `bunko status --json` says, to staff only, and an administrator's
 * requeue (with the session's CSRF token only) moves a failed job back
 * to the queue; in Chromium, axe-core finds no violation on the search
 * page (Japanese and English), a page view and the login page, and the
 * keyboard alone searches and opens a hit.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "index/index.h"
#include "bunko/page.h"
#include "test_support.h"

static char *archive; /* shared by the tests of one run */

/* The job id `bunko add` printed. */
static char *add(const char *file, const char *options)
{
	char *sample = ts_sample(file);
	char *cmd = ts_fmt("%s add %s %s %s", BUNKO_EXE, archive, sample, options);
	char *out = ts_run_ok(cmd);
	free(cmd);
	free(sample);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

static char *reiki_id, *gian_id, *secret_id, *restricted_id;

static char *root_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	return ts_fmt("%s/bunko-serve-test-%d", tmp && *tmp ? tmp : "/tmp", (int)getppid());
}

static char *read_id(const char *name)
{
	char *path = ts_fmt("%s/%s.id", archive, name);
	char *id = ts_read(path, NULL);
	cr_assert_not_null(id, "cannot read %s", path);
	free(path);
	return id;
}

static void save_id(const char *name, const char *id)
{
	char *path = ts_fmt("%s/%s.id", archive, name);
	cr_assert_eq(ts_write(path, id, strlen(id)), 0);
	free(path);
}

static void make_archive(void)
{
	char *root = root_dir();
	archive = ts_fmt("%s/a", root);
	char *ready = ts_fmt("%s/ready", root);
	struct stat st;
	if (stat(ready, &st) == 0)
		goto ids;
	ts_rmtree(root);
	cr_assert_eq(mkdir(root, 0755), 0);
	char *cmd = ts_fmt("%s init %s", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);
	char *id = add("h-reiki.tif", "--collection reiki --profile bylaw --title 例規集 --date 2025-04-01");
	save_id("reiki", id);
	free(id);
	id = add("v-gian.tif", "--collection gian --title 議案 --date 2025");
	save_id("gian", id);
	free(id);
	id = add("h-kokuji.png", "--collection gian --access confidential --title 秘密文書");
	save_id("secret", id);
	free(id);
	id = add("eng.png", "--collection gian --access restricted --title 非公開英文");
	save_id("restricted", id);
	free(id);
	cmd = ts_fmt("OMP_THREAD_LIMIT=1 %s worker %s --drain", BUNKO_EXE, archive);
	free(ts_run_ok(cmd));
	free(cmd);

	struct bk_index *idx = NULL;
	struct bk_error err;
	char *index = ts_fmt("%s/index", archive);
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, index, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	for (int d = 0; d < 45; d++) {
		char docid[32];
		const char *pages[] = { "令和八年度の合成ページ。" };
		snprintf(docid, sizeof(docid), "synth%02d", d);
		/* three decades and two types, for the facets */
		const char *date = d < 15 ? "1925-06-01" : d < 30 ? "1968" : "2026";
		struct bk_index_doc doc = { docid, "synth", docid, date, "", d >= 40 ? BK_PROFILE_UKIYOE : BK_PROFILE_RECORD,
					    BK_ACCESS_PUBLIC, pages, 1 };
		cr_assert_eq(bk_index_put(idx, &doc, &err), 0, "%s", err.msg);
	}
	/* one word on more pages than the facets count exactly
	 * (BK_FACET_EXACT): 2,400 public pages in two collections, 600
	 * restricted */
	const char *bulk[50];
	for (int p = 0; p < 50; p++)
		bulk[p] = "多数頁の見本、推定の試験。";
	for (int d = 0; d < 60; d++) {
		char docid[32];
		snprintf(docid, sizeof(docid), "bulk%02d", d);
		struct bk_index_doc doc = { docid, d % 2 ? "bulkb" : "bulka", docid, "1990", "", BK_PROFILE_RECORD,
					    d < 48 ? BK_ACCESS_PUBLIC : BK_ACCESS_RESTRICTED, bulk, 50 };
		cr_assert_eq(bk_index_put(idx, &doc, &err), 0, "%s", err.msg);
	}
	bk_index_free(&idx);
	free(index);
	cr_assert_eq(ts_write(ready, "", 0), 0);
ids:
	reiki_id = read_id("reiki");
	gian_id = read_id("gian");
	secret_id = read_id("secret");
	restricted_id = read_id("restricted");
	free(ready);
	free(root);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	/* the hook runs in the runner, whose pid the tests saw as their parent */
	const char *tmp = getenv("TMPDIR");
	char *root = ts_fmt("%s/bunko-serve-test-%d", tmp && *tmp ? tmp : "/tmp", (int)getpid());
	ts_rmtree(root);
	free(root);
}

/* ---- the server --------------------------------------------------------------- */

static pid_t server_pid;
static pid_t nginx_pid; /* a test's nginx, stopped by teardown if the test failed */
static int port;

/* Starts `bunko serve` on the test archive, with one more option and its
 * value if `opt` is not NULL. */
static void start_server_with(const char *opt, const char *value)
{
	int fds[2];
	cr_assert_eq(pipe(fds), 0);
	server_pid = fork();
	cr_assert_neq(server_pid, -1);
	if (server_pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		char *audit = ts_fmt("%s-audit.log", archive);
		execl(BUNKO_EXE, BUNKO_EXE, "serve", archive, "--listen", "127.0.0.1:0", "--workers", "3",
		      "--audit-log", audit, opt, value, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	char line[512];
	size_t n = 0;
	while (n + 1 < sizeof(line)) {
		ssize_t k = read(fds[0], line + n, 1);
		if (k <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(fds[0]);
	const char *p = strstr(line, "http://127.0.0.1:");
	cr_assert_not_null(p, "bunko serve said '%s'", line);
	port = atoi(p + strlen("http://127.0.0.1:"));
	cr_assert_gt(port, 0);
}

static void start_server(void)
{
	start_server_with(NULL, NULL);
}

/* Stops the server with SIGTERM; returns its exit status. */
static int stop_server(void)
{
	int status;
	if (server_pid <= 0)
		return -1;
	kill(server_pid, SIGTERM);
	cr_assert_eq(waitpid(server_pid, &status, 0), server_pid);
	server_pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void setup(void)
{
	make_archive();
	start_server();
}

static void teardown(void)
{
	if (nginx_pid > 0) {
		kill(nginx_pid, SIGQUIT);
		waitpid(nginx_pid, NULL, 0);
	}
	if (server_pid > 0)
		stop_server();
	free(archive);
	free(reiki_id);
	free(gian_id);
	free(secret_id);
	free(restricted_id);
}

TestSuite(cli_serve, .init = setup, .fini = teardown, .timeout = 600);

struct reply {
	int status;
	char *head, *body; /* body NUL-terminated */
	size_t len;
};

static void reply_free(struct reply *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Sends `request` (a whole HTTP/1.0 request) and reads the reply. */
static struct reply raw(const char *request)
{
	struct reply r = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s", strerror(errno));
	size_t len = strlen(request), sent = 0;
	while (sent < len) {
		ssize_t k = write(fd, request + sent, len - sent);
		if (k <= 0)
			break;
		sent += (size_t)k;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (n == cap)
			buf = realloc(buf, (cap *= 2) + 1);
		ssize_t k = read(fd, buf + n, cap - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	buf[n] = '\0';
	char *end = strstr(buf, "\r\n\r\n");
	if (sscanf(buf, "HTTP/1.%*d %d", &r.status) != 1)
		r.status = -1;
	size_t hlen = end ? (size_t)(end - buf) : n;
	r.head = strndup(buf, hlen);
	r.len = end ? n - hlen - 4 : 0;
	r.body = malloc(r.len + 1);
	memcpy(r.body, end ? end + 4 : "", r.len);
	r.body[r.len] = '\0';
	free(buf);
	return r;
}

static struct reply get(const char *path)
{
	char *req = ts_fmt("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
	struct reply r = raw(req);
	free(req);
	return r;
}

static char *pct(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			*o++ = (char)*p;
		else
			o += sprintf(o, "%%%02X", *p);
	}
	*o = '\0';
	return out;
}

static struct reply search(const char *q, const char *extra)
{
	char *e = pct(q);
	char *path = ts_fmt("/search?q=%s%s", e, extra ? extra : "");
	struct reply r = get(path);
	free(path);
	free(e);
	return r;
}

static long data_total(const char *html)
{
	const char *p = strstr(html, "data-total=\"");
	cr_assert_not_null(p, "no total in %s", html);
	return atol(p + strlen("data-total=\""));
}

static int count_of(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* "doc:page" of every result of a results page, space-separated, sorted
 * in the order shown. */
static char *result_pages(const char *html)
{
	char *out = calloc(1, strlen(html) + 1);
	for (const char *p = html; (p = strstr(p, "<li class=\"hit\"><a href=\"/doc/")); p++) {
		p += strlen("<li class=\"hit\"><a href=\"/doc/");
		const char *slash = strchr(p, '/');
		int page = atoi(slash + strlen("/page/"));
		sprintf(out + strlen(out), "%s%.*s:%d", *out ? " " : "", (int)(slash - p), p, page);
	}
	return out;
}

/* The CLI's hits for q (--limit 1000 --json) as "doc:page ..." and its total. */
static char *cli_pages(const char *q, const char *options, long *total)
{
	char *e = ts_fmt("'%s'", q);
	char *cmd = ts_fmt("%s search %s --limit 1000 --json %s -- %s", BUNKO_EXE, archive,
			   options ? options : "", e);
	char *out = ts_run_ok(cmd);
	char *list = calloc(1, strlen(out) + 1);
	*total = -1;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		const char *d = strstr(line, "\"doc\":\""), *p = strstr(line, "\"page\":");
		if (d && p)
			sprintf(list + strlen(list), "%s%.*s:%d", *list ? " " : "",
				(int)strcspn(d + 7, "\""), d + 7, atoi(p + 7));
		else if (strstr(line, "\"matches\":"))
			*total = atol(strstr(line, "\"matches\":") + 10);
	}
	free(out);
	free(cmd);
	free(e);
	return list;
}

/* ---- search ------------------------------------------------------------------- */

/* Each result shows its own page's thumbnail, and the thumbnail is a
 * JPEG of that page, BK_WEB_THUMB_WIDTH (150) wide. */
static void expect_result_thumbnails(const char *html)
{
	int results = 0;
	for (const char *p = html; (p = strstr(p, "<li class=\"hit\"><a href=\"/doc/")); p++) {
		p += strlen("<li class=\"hit\"><a href=\"");
		size_t page_len = strcspn(p, "?\"");
		const char *img = strstr(p, "<img class=\"thumb\" src=\"");
		cr_assert(img && img < strstr(p, "</li>"), "a result without a thumbnail: %.200s", p);
		img += strlen("<img class=\"thumb\" src=\"");
		char *want = ts_fmt("%.*s/thumb\"", (int)page_len, p);
		cr_expect_eq(strncmp(img, want, strlen(want)), 0, "thumbnail %.80s for %s", img, want);
		if (results++ == 0) {
			char *src = strndup(img, strcspn(img, "\""));
			struct reply t = get(src);
			cr_expect_eq(t.status, 200, "%s: %d", src, t.status);
			cr_expect(strstr(t.head, "image/jpeg"), "%s: %s", src, t.head);
			cr_expect(t.len > 3 && (unsigned char)t.body[0] == 0xff && (unsigned char)t.body[1] == 0xd8,
				  "%s is not a JPEG", src);
			reply_free(&t);
			free(src);
		}
		free(want);
	}
	cr_expect_gt(results, 0, "no results to check");
}

Test(cli_serve, search_finds_what_the_cli_finds)
{
	/* old kanji: 學 on the page; a phrase; OR; NOT; words of two lines */
	const char *queries[] = { "学ぶ", "\"令和6年度\"", "セキュリティ OR 防災", "令和 -セキュリティ",
				  "會", "令和",
				  /* old kanji in the query, stray spaces (ASCII and ideographic) */
				  "學ぶ", "  学ぶ  ", "令和\u3000 -セキュリティ", " セキュリティ  OR\u3000防災 " };
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		long cli_total;
		char *cli = cli_pages(queries[i], NULL, &cli_total);
		struct reply r = search(queries[i], NULL);
		cr_assert_eq(r.status, 200, "%s: %d", queries[i], r.status);
		cr_expect_eq(data_total(r.body), cli_total, "'%s': web %ld, cli %ld", queries[i],
			     data_total(r.body), cli_total);
		char *web = result_pages(r.body);
		/* the first 20 of the CLI's, in the same order */
		char *first = strdup(cli);
		char *cut = first;
		for (int k = 0; k < 20 && cut; k++)
			cut = strchr(cut + 1, ' ');
		if (cut && cli_total > 20)
			*cut = '\0';
		cr_expect_str_eq(web, first, "'%s'", queries[i]);
		if (i == 0)
			expect_result_thumbnails(r.body);
		cr_expect_gt(cli_total, 0, "'%s' finds nothing: the test would prove nothing", queries[i]);
		free(first);
		free(web);
		free(cli);
		reply_free(&r);
	}
}

Test(cli_serve, kwic_marks_facets_and_pagination)
{
	struct reply r = search("学ぶ", NULL);
	cr_assert_eq(r.status, 200);
	cr_expect(strstr(r.body, "<html lang=\"ja\">"));
	/* the hit as the page spells it, old kanji and all */
	cr_expect(strstr(r.body, "<mark>學ぶ</mark>"), "%s", r.body);
	reply_free(&r);

	/* 令和: 45 synthetic pages + the real ones; facet counts as the CLI's */
	long all, reiki, synth;
	free(cli_pages("令和", NULL, &all));
	free(cli_pages("令和", "--collection reiki", &reiki));
	free(cli_pages("令和", "--collection synth", &synth));
	cr_assert_gt(all, 45);
	r = search("令和", NULL);
	char *want = ts_fmt("collection=reiki\">reiki</a> <span class=\"count\">(%ld)</span>", reiki);
	cr_expect(strstr(r.body, want), "no '%s' in %s", want, r.body);
	free(want);
	want = ts_fmt("collection=synth\">synth</a> <span class=\"count\">(%ld)</span>", synth);
	cr_expect(strstr(r.body, want), "no '%s'", want);
	free(want);
	cr_expect_eq(count_of(r.body, "<li class=\"hit\">"), 20);
	cr_expect_geq(count_of(r.body, "<mark>令和</mark>"), 20);
	cr_expect(strstr(r.body, "rel=\"next\" href=\"/search?q=%E4%BB%A4%E5%92%8C&amp;p=2\""));
	cr_expect_null(strstr(r.body, "rel=\"prev\""));
	reply_free(&r);

	long npages = (all + 19) / 20;
	char *extra = ts_fmt("&p=%ld", npages);
	r = search("令和", extra);
	free(extra);
	cr_expect_eq(count_of(r.body, "<li class=\"hit\">"), all - (npages - 1) * 20);
	want = ts_fmt("<ol class=\"results\" start=\"%ld\"", (npages - 1) * 20 + 1);
	cr_expect(strstr(r.body, want), "%s", r.body);
	free(want);
	cr_expect(strstr(r.body, "rel=\"prev\""));
	cr_expect_null(strstr(r.body, "rel=\"next\""));
	reply_free(&r);

	/* one collection: its count is the total, and every result is in it */
	r = search("令和", "&collection=reiki");
	cr_expect_eq(data_total(r.body), reiki);
	cr_expect_eq(count_of(r.body, "<li class=\"hit\">"), reiki);
	char *pages = result_pages(r.body);
	cr_expect(strstr(pages, reiki_id), "%s", pages);
	cr_expect_null(strstr(pages, "synth"));
	free(pages);
	reply_free(&r);
}

/* The count a facet shows for the value whose link reads `label`; -1 if
 * the facet does not offer it. */
static long facet_count(const char *html, const char *facet, const char *label)
{
	char *start = ts_fmt("data-facet=\"%s\"", facet);
	const char *p = strstr(html, start);
	free(start);
	if (!p)
		return -1;
	const char *end = strstr(p, "</ul>");
	char *want = ts_fmt("\">%s</a> <span class=\"count\">(", label);
	const char *q = strstr(p, want);
	long n = q && q < end ? atol(q + strlen(want)) : -1;
	free(want);
	return n;
}

/* The sum of the counts of one facet; -1 if it is not on the page. */
static long facet_sum(const char *html, const char *facet)
{
	char *start = ts_fmt("data-facet=\"%s\"", facet);
	const char *p = strstr(html, start);
	free(start);
	if (!p)
		return -1;
	const char *end = strstr(p, "</ul>");
	long sum = 0;
	for (const char *q = p; (q = strstr(q, "<span class=\"count\">(")) && q < end; q++)
		sum += atol(q + strlen("<span class=\"count\">("));
	return sum;
}

/* The dates of the results shown, in order ("" for an undated one). */
static int result_dates(const char *html, char dates[][16], int max)
{
	int n = 0;
	for (const char *p = html; n < max && (p = strstr(p, "<div class=\"meta\">")); p++) {
		const char *end = strstr(p, "</div>"), *dot = strstr(p, " · ");
		dates[n][0] = '\0';
		const char *dot2 = dot ? strstr(dot + 1, " · ") : NULL;
		if (dot && dot2 && dot2 < end)
			snprintf(dates[n], 16, "%.*s", (int)(dot2 - dot - strlen(" · ")), dot + strlen(" · "));
		n++;
	}
	return n;
}

Test(cli_serve, facets_count_types_decades_and_date_ranges)
{
	long all, d1920, d1960, d2020, bylaw, ukiyoe, record;
	free(cli_pages("令和", NULL, &all));
	free(cli_pages("令和", "--from 1920 --to 1929", &d1920));
	free(cli_pages("令和", "--from 1960 --to 1969", &d1960));
	free(cli_pages("令和", "--from 2020 --to 2029", &d2020));
	free(cli_pages("令和", "--profile bylaw", &bylaw));
	free(cli_pages("令和", "--profile ukiyoe", &ukiyoe));
	free(cli_pages("令和", "--profile record", &record));
	cr_assert_eq(d1920, 15);
	cr_assert_eq(d1960, 15);
	cr_assert_gt(d2020, 15, "the real pages of 2025 are not found");
	cr_assert_gt(bylaw, 0);
	cr_assert_eq(ukiyoe, 5);
	cr_assert_eq(d1920 + d1960 + d2020, all, "an undated public page holds 令和");

	struct reply r = search("令和", NULL);
	cr_expect_eq(facet_count(r.body, "decade", "1920年代"), d1920, "%s", r.body);
	cr_expect_eq(facet_count(r.body, "decade", "1960年代"), d1960);
	cr_expect_eq(facet_count(r.body, "decade", "2020年代"), d2020);
	cr_expect_eq(facet_count(r.body, "profile", "例規"), bylaw);
	cr_expect_eq(facet_count(r.body, "profile", "浮世絵"), ukiyoe);
	cr_expect_eq(facet_count(r.body, "profile", "文書"), record);
	cr_expect_eq(facet_sum(r.body, "collection"), all);
	cr_expect_eq(facet_sum(r.body, "profile"), all);
	cr_expect_eq(facet_sum(r.body, "access"), -1, "a visitor is offered the access facet");
	cr_expect(strstr(r.body, "href=\"/search?q=%E4%BB%A4%E5%92%8C&amp;from=1920&amp;to=1929\">1920年代</a>"));
	cr_expect(strstr(r.body, "href=\"/search?q=%E4%BB%A4%E5%92%8C&amp;profile=ukiyoe\">浮世絵</a>"));
	reply_free(&r);

	/* a decade chosen: its count is the total, the other decades stay
	 * offered with their own counts, the types count within the decade */
	r = search("令和", "&from=1920&to=1929");
	cr_expect_eq(data_total(r.body), d1920);
	cr_expect_eq(count_of(r.body, "<li class=\"hit\">"), 15);
	cr_expect_eq(facet_count(r.body, "decade", "1960年代"), d1960);
	cr_expect(strstr(r.body, "<strong aria-current=\"true\"><a href=\"/search?q=%E4%BB%A4%E5%92%8C&amp;from=1920&amp;to=1929\">"));
	cr_expect_eq(facet_count(r.body, "profile", "文書"), d1920);
	cr_expect_eq(facet_count(r.body, "profile", "例規"), -1);
	char *pages = result_pages(r.body);
	cr_expect(strstr(pages, "synth00:1") && strstr(pages, "synth14:1") && !strstr(pages, "synth15"), "%s", pages);
	free(pages);
	reply_free(&r);

	/* a date range typed in, and a type with it: what the CLI finds */
	const char *ranges[][2] = { { "&from=1960&to=2025-12", "--from 1960 --to 2025-12" },
				    { "&profile=ukiyoe&from=2020&to=2029", "--profile ukiyoe --from 2020 --to 2029" },
				    { "&profile=bylaw", "--profile bylaw" } };
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		long n;
		char *cli = cli_pages("令和", ranges[i][1], &n);
		r = search("令和", ranges[i][0]);
		cr_expect_eq(r.status, 200);
		cr_expect_eq(data_total(r.body), n, "%s: web %ld, cli %ld", ranges[i][0], data_total(r.body), n);
		char *web = result_pages(r.body);
		if (n <= 20)
			cr_expect_str_eq(web, cli, "%s", ranges[i][0]);
		free(web);
		free(cli);
		reply_free(&r);
	}
	r = search("令和", "&from=1925-13");
	cr_expect_eq(r.status, 400);
	reply_free(&r);

	/* by date, oldest or newest first: dated pages in order, the same total */
	for (int order = 0; order < 2; order++) {
		r = search("令和", order ? "&sort=new" : "&sort=old");
		cr_expect_eq(data_total(r.body), all);
		char dates[20][16];
		int n = result_dates(r.body, dates, 20);
		cr_expect_eq(n, 20);
		cr_expect_str_eq(dates[0], order ? "2026" : "1925-06-01");
		for (int i = 1; i < n; i++)
			cr_expect(order ? strcmp(dates[i - 1], dates[i]) >= 0 : strcmp(dates[i - 1], dates[i]) <= 0,
				  "result %d dated %s after %s", i, dates[i], dates[i - 1]);
		cr_expect(strstr(r.body, order ? "<option value=\"new\" selected>" : "<option value=\"old\" selected>"));
		/* the pager keeps the order */
		cr_expect(strstr(r.body, order ? "&amp;sort=new&amp;p=2" : "&amp;sort=old&amp;p=2"));
		reply_free(&r);
	}
	/* 學ぶ and 学ぶ: one word */
	long old_form, new_form;
	free(cli_pages("學ぶ", NULL, &old_form));
	free(cli_pages("学ぶ", NULL, &new_form));
	cr_expect_eq(old_form, new_form);
	r = search("學ぶ", NULL);
	cr_expect_eq(data_total(r.body), new_form);
	reply_free(&r);
}

Test(cli_serve, a_repeated_search_sees_pages_indexed_since)
{
	/* the server keeps results pages (web/cache.h): a put must show at once */
	const char *q = "キャッシュ確認";
	struct reply r = search(q, NULL);
	cr_assert_eq(data_total(r.body), 0);
	reply_free(&r);
	r = search(q, NULL);
	cr_assert_eq(data_total(r.body), 0);
	reply_free(&r);
	struct bk_index *idx = NULL;
	struct bk_error err;
	char *index = ts_fmt("%s/index", archive);
	bk_error_init(&err);
	cr_assert_eq(bk_index_open(&idx, index, BK_ROLE_ADMIN, true, &err), 0, "%s", err.msg);
	const char *pages[] = { "キャッシュ確認のページ。" };
	struct bk_index_doc doc = { "cachecheck", "synth", "cachecheck", "2026", "", BK_PROFILE_RECORD,
				    BK_ACCESS_PUBLIC, pages, 1 };
	cr_assert_eq(bk_index_put(idx, &doc, &err), 0, "%s", err.msg);
	r = search(q, NULL);
	cr_expect_eq(data_total(r.body), 1, "a cached page hid a new hit");
	reply_free(&r);
	cr_assert_eq(bk_index_delete(idx, "cachecheck", &err), 0, "%s", err.msg);
	r = search(q, NULL);
	cr_expect_eq(data_total(r.body), 0, "a cached page showed a removed hit");
	reply_free(&r);
	bk_index_free(&idx);
	free(index);
}

/* ---- page view ----------------------------------------------------------------- */

struct rect {
	int x, y, w, h;
	bool vertical;
	char text[256];
};

static int rects_of(const char *html, struct rect *out, int max)
{
	int n = 0;
	for (const char *p = html; n < max && (p = strstr(p, "<rect class=\"hit")); p++) {
		struct rect *r = &out[n];
		r->vertical = !strncmp(p, "<rect class=\"hit vertical\"", 26);
		const char *a = strstr(p, " x=\"");
		cr_assert_eq(sscanf(a, " x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"", &r->x, &r->y, &r->w, &r->h), 4);
		const char *t = strstr(p, "<title>") + 7, *e = strstr(t, "</title>");
		snprintf(r->text, sizeof(r->text), "%.*s", (int)(e - t), t);
		n++;
	}
	return n;
}

static void read_model(const char *collection, const char *id, int page, struct bk_page *m)
{
	struct bk_error err;
	char *path = ts_fmt("%s/store/%s/%s/data/pages/%04d.page", archive, collection, id, page);
	FILE *fp = fopen(path, "r");
	cr_assert_not_null(fp, "%s", path);
	bk_page_init(m);
	bk_error_init(&err);
	cr_assert_eq(bk_page_read(m, fp, path, &err), 0, "%s", err.msg);
	fclose(fp);
	free(path);
}

/* Every box is the tight union of the model's words that lie in it, and
 * those words, in order, are the box's text. */
static void check_boxes(const struct bk_page *m, const struct rect *r, int n, bool vertical)
{
	for (int i = 0; i < n; i++) {
		char text[256] = "";
		struct bk_box u = { 1 << 30, 1 << 30, -1, -1 };
		for (size_t b = 0; b < m->nblocks; b++)
			for (size_t l = 0; l < m->blocks[b].nlines; l++)
				for (size_t w = 0; w < m->blocks[b].lines[l].nwords; w++) {
					const struct bk_word *wd = &m->blocks[b].lines[l].words[w];
					if (wd->box.x0 < r[i].x || wd->box.y0 < r[i].y ||
					    wd->box.x1 > r[i].x + r[i].w || wd->box.y1 > r[i].y + r[i].h)
						continue;
					strcat(text, wd->text);
					u.x0 = wd->box.x0 < u.x0 ? wd->box.x0 : u.x0;
					u.y0 = wd->box.y0 < u.y0 ? wd->box.y0 : u.y0;
					u.x1 = wd->box.x1 > u.x1 ? wd->box.x1 : u.x1;
					u.y1 = wd->box.y1 > u.y1 ? wd->box.y1 : u.y1;
				}
		cr_expect_str_eq(text, r[i].text, "box %d (%d,%d %dx%d)", i, r[i].x, r[i].y, r[i].w, r[i].h);
		cr_expect(u.x0 == r[i].x && u.y0 == r[i].y && u.x1 == r[i].x + r[i].w && u.y1 == r[i].y + r[i].h,
			  "box %d is not tight", i);
		cr_expect_eq(r[i].vertical, vertical, "box %d direction", i);
		/* a hit is a few characters, never a whole line */
		cr_expect_lt(vertical ? r[i].h : r[i].w, vertical ? m->height / 4 : m->width / 4, "box %d", i);
	}
}

Test(cli_serve, page_view_draws_each_hit_on_the_image)
{
	struct rect rects[64];
	struct bk_page m;

	/* a vertical page: 學ぶ, asked as 学ぶ */
	char *q = pct("学ぶ");
	char *path = ts_fmt("/doc/%s/page/1?q=%s", gian_id, q);
	struct reply r = get(path);
	cr_assert_eq(r.status, 200, "%s", r.body);
	int n = rects_of(r.body, rects, 64);
	cr_assert_eq(n, 1, "%s", r.body);
	cr_expect_str_eq(rects[0].text, "學ぶ");
	read_model("gian", gian_id, 1, &m);
	check_boxes(&m, rects, n, true);
	char *viewbox = ts_fmt("viewBox=\"0 0 %d %d\"", m.width, m.height);
	cr_expect(strstr(r.body, viewbox));
	free(viewbox);
	cr_expect(strstr(r.body, "<section class=\"pagetext vertical\""));
	cr_expect(strstr(r.body, "<mark>學ぶ</mark>"));
	bk_page_release(&m);
	reply_free(&r);
	free(path);
	free(q);

	/* a horizontal page with several hits of 令和 */
	q = pct("令和");
	path = ts_fmt("/doc/%s/page/2?q=%s", reiki_id, q);
	r = get(path);
	cr_assert_eq(r.status, 200);
	n = rects_of(r.body, rects, 64);
	const char *h = strstr(r.body, "data-hits=\"");
	cr_assert_not_null(h);
	cr_expect_geq(n, atoi(h + 11));
	cr_expect_geq(n, 2);
	read_model("reiki", reiki_id, 2, &m);
	check_boxes(&m, rects, n, false);
	bk_page_release(&m);
	/* previous page link keeps the query; page 2 of 2 has no next */
	char *prev = ts_fmt("rel=\"prev\" href=\"/doc/%s/page/1?q=%s\"", reiki_id, q);
	cr_expect(strstr(r.body, prev), "%s", r.body);
	cr_expect_null(strstr(r.body, "rel=\"next\""));
	free(prev);
	reply_free(&r);
	free(path);
	free(q);

	/* the image: a PNG 1400 wide, of the page's proportions */
	path = ts_fmt("/doc/%s/page/2/image", reiki_id);
	r = get(path);
	cr_assert_eq(r.status, 200);
	cr_assert(r.len > 24 && !memcmp(r.body, "\x89PNG\r\n\x1a\n", 8));
	unsigned char *ihdr = (unsigned char *)r.body + 16;
	long w = (long)ihdr[0] << 24 | ihdr[1] << 16 | ihdr[2] << 8 | ihdr[3];
	long hh = (long)ihdr[4] << 24 | ihdr[5] << 16 | ihdr[6] << 8 | ihdr[7];
	read_model("reiki", reiki_id, 2, &m);
	cr_expect_eq(w, 1400);
	cr_expect(labs(hh - 1400L * m.height / m.width) <= 1, "%ld x %ld for %d x %d", w, hh, m.width, m.height);
	bk_page_release(&m);
	reply_free(&r);
	free(path);

	/* downloads are the stored files */
	const char *kinds[][2] = { { "pdf", "document.pdf" }, { "text", "text.txt" }, { "alto", "document.alto.xml" } };
	for (int k = 0; k < 3; k++) {
		path = ts_fmt("/doc/%s/%s", reiki_id, kinds[k][0]);
		r = get(path);
		char *file = ts_fmt("%s/store/reiki/%s/data/%s", archive, reiki_id, kinds[k][1]);
		size_t flen;
		char *want = ts_read(file, &flen);
		cr_assert_not_null(want);
		cr_expect_eq(r.status, 200);
		cr_expect(r.len == flen && !memcmp(r.body, want, flen), "%s differs", path);
		cr_expect(strstr(r.head, "Content-Disposition: attachment"));
		free(want);
		free(file);
		free(path);
		reply_free(&r);
	}
}

/* ---- access --------------------------------------------------------------------- */

/* Every response of the site we can reach, concatenated, must not hold `s`. */
static void expect_nowhere(const char *s, const char *const *bodies, int n)
{
	for (int i = 0; i < n; i++)
		cr_expect_null(strstr(bodies[i], s), "'%s' shown in response %d", s, i);
}

Test(cli_serve, confidential_and_restricted_are_never_shown)
{
	struct reply missing = get("/doc/no-such-document/page/1");
	cr_assert_eq(missing.status, 404);
	const char *tails[] = { "", "/", "/page/1", "/page/1/image", "/page/1/thumb", "/pdf", "/text", "/alto", "/page/2" };
	const char *hidden[] = { secret_id, restricted_id };
	for (int h = 0; h < 2; h++)
		for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
			char *path = ts_fmt("/doc/%s%s?q=%%E5%%8C%%BA%%E6%%B0%%91", hidden[h], tails[t]);
			struct reply r = get(path);
			cr_expect_eq(r.status, 404, "%s: %d", path, r.status);
			cr_expect_str_eq(r.body, missing.body, "%s answers unlike a missing document", path);
			reply_free(&r);
			free(path);
		}
	reply_free(&missing);

	/* words only the confidential page has, one it shares with public ones */
	const char *secret_words[] = { "区民", "千代田区", "防災ポータル", "Digitizing", "microfilm" };
	char *bodies[16];
	int nb = 0;
	for (size_t i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++) {
		long admin;
		free(cli_pages(secret_words[i], "--role admin", &admin));
		cr_assert_gt(admin, 0, "'%s' is not in the hidden documents: the test proves nothing", secret_words[i]);
		struct reply r = search(secret_words[i], NULL);
		cr_expect_eq(r.status, 200);
		cr_expect_eq(data_total(r.body), 0, "'%s' counted", secret_words[i]);
		cr_expect_null(strstr(r.body, "class=\"facets\""), "'%s' has a facet", secret_words[i]);
		bodies[nb++] = r.body;
		free(r.head);
	}
	long pub, admin;
	free(cli_pages("防災", NULL, &pub));
	free(cli_pages("防災", "--role admin", &admin));
	cr_assert_gt(admin, pub, "防災 is not in a hidden document");
	struct reply r = search("防災", NULL);
	cr_expect_eq(data_total(r.body), pub);
	char *facet = ts_fmt("collection=gian\">gian</a> <span class=\"count\">(%ld)</span>", pub);
	cr_expect(strstr(r.body, facet), "%s", r.body);
	free(facet);
	bodies[nb++] = r.body;
	free(r.head);
	r = search("令和", "&collection=gian");
	bodies[nb++] = r.body;
	free(r.head);
	r = get("/");
	bodies[nb++] = r.body;
	free(r.head);
	expect_nowhere(secret_id, (const char *const *)bodies, nb);
	expect_nowhere(restricted_id, (const char *const *)bodies, nb);
	expect_nowhere("秘密文書", (const char *const *)bodies, nb);
	expect_nowhere("非公開英文", (const char *const *)bodies, nb);
	for (int i = 0; i < nb; i++)
		free(bodies[i]);
}

/* ---- hostile input ----------------------------------------------------------------- */

Test(cli_serve, hostile_queries_are_escaped_or_refused)
{
	struct reply r = search("<script>alert(1)</script>\"'&", NULL);
	cr_expect_eq(r.status, 400); /* an unbalanced quote */
	cr_expect_null(strstr(r.body, "<script"));
	cr_expect(strstr(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), "%s", r.body);
	reply_free(&r);

	r = search("<img src=x onerror=alert(1)> 令和", NULL);
	cr_expect_eq(r.status, 200);
	cr_expect_null(strstr(r.body, "<img"));
	reply_free(&r);

	/* FTS5 syntax is plain text */
	const char *fts[] = { "NEAR(令和 年度)", "text:令和", "令*", "^令和", "(令和", "OR", "-" };
	for (size_t i = 0; i < sizeof(fts) / sizeof(fts[0]); i++) {
		r = search(fts[i], NULL);
		cr_expect(r.status == 200 || r.status == 400, "'%s': %d", fts[i], r.status);
		cr_expect(strstr(r.body, "</html>"), "'%s' has no page", fts[i]);
		reply_free(&r);
	}

	const char *bad[] = { "/search?q=%FF%FE", "/search?q=a%00b", "/search?q=%E4%BB", "/search?q=%01x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = get(bad[i]);
		cr_expect_eq(r.status, 400, "%s: %d", bad[i], r.status);
		reply_free(&r);
	}
	/* 500 bytes are searched, 501 are too many */
	char q500[502];
	memset(q500, 'a', 501);
	q500[500] = '\0';
	r = search(q500, NULL);
	cr_expect_eq(r.status, 200);
	reply_free(&r);
	q500[500] = 'a';
	q500[501] = '\0';
	r = search(q500, NULL);
	cr_expect_eq(r.status, 400);
	reply_free(&r);
	/* a query too long to search, and one too long for the request */
	char *longq = malloc(3 * 400 * 3 + 32);
	strcpy(longq, "/search?q=");
	for (int i = 0; i < 400; i++)
		strcat(longq, "%E4%BB%A4");
	r = get(longq);
	cr_expect_eq(r.status, 400);
	reply_free(&r);
	free(longq);
	longq = malloc(200000);
	strcpy(longq, "/search?q=");
	memset(longq + 10, 'a', 150000);
	longq[150010] = '\0';
	r = get(longq);
	cr_expect(r.status >= 400 || r.status == -1, "a 150 kB request answered %d", r.status);
	reply_free(&r);
	free(longq);

	const char *paths[] = { "/doc/..%2F..%2Fbunko-archive/page/1", "/doc/../bunko-archive",
				"/doc/.staging/page/1", "/doc/%2E%2E/pdf", "/store/reiki", "/doc/x/page/0",
				"/doc/x/page/-1", "/static/../bunko-archive" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		r = get(paths[i]);
		cr_expect_eq(r.status, 404, "%s: %d", paths[i], r.status);
		reply_free(&r);
	}
	char *p = ts_fmt("/doc/%s/page/99", reiki_id);
	r = get(p);
	cr_expect_eq(r.status, 404);
	reply_free(&r);
	free(p);
	p = ts_fmt("/doc/%s/page/1x", reiki_id);
	r = get(p);
	cr_expect_eq(r.status, 404);
	reply_free(&r);
	free(p);

	r = raw("POST /search HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		"Content-Length: 3\r\n\r\nq=a");
	cr_expect_eq(r.status, 405);
	reply_free(&r);
	r = raw("PUT /search HTTP/1.0\r\nContent-Length: 3\r\n\r\nq=a");
	cr_expect_eq(r.status, 405);
	reply_free(&r);
	r = raw("POST /login HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nq=a");
	cr_expect_eq(r.status, 415);
	reply_free(&r);

	/* still up */
	r = search("令和", NULL);
	cr_expect_eq(r.status, 200);
	cr_expect(strstr(r.head, "Content-Security-Policy: default-src 'none'"));
	cr_expect(strstr(r.head, "X-Content-Type-Options: nosniff"));
	reply_free(&r);
}

Test(cli_serve, sigterm_stops_it_cleanly)
{
	struct reply r = get("/");
	cr_expect_eq(r.status, 200);
	cr_expect(strstr(r.body, "<html lang=\"ja\">"));
	reply_free(&r);
	cr_expect_eq(stop_server(), 0);
}

Test(cli_serve, listens_on_localhost_by_default)
{
	char *out = NULL;
	/* a bad address and a missing archive are one clear error each */
	char *cmd = ts_fmt("%s serve %s --listen nowhere 2>&1", BUNKO_EXE, archive);
	cr_expect_eq(ts_run(cmd, &out, 1), 1);
	cr_expect(strstr(out, "invalid address 'nowhere'"), "%s", out);
	free(out);
	free(cmd);
	cmd = ts_fmt("%s serve %s/none 2>&1", BUNKO_EXE, archive);
	cr_expect_eq(ts_run(cmd, &out, 1), 1);
	cr_expect(strstr(out, "not a bunko archive") || strstr(out, "cannot"), "%s", out);
	free(out);
	free(cmd);
	cmd = ts_fmt("%s help serve", BUNKO_EXE);
	cr_expect_eq(ts_run(cmd, &out, 1), 0);
	cr_expect(strstr(out, "default\n              127.0.0.1:8080"), "%s", out);
	free(out);
	free(cmd);
}

/* ---- IIIF ------------------------------------------------------------------------- */

static json_t *get_json(const char *path, int *status)
{
	struct reply r = get(path);
	json_error_t jerr;
	*status = r.status;
	json_t *j = r.status == 200 ? json_loads(r.body, 0, &jerr) : NULL;
	if (r.status == 200)
		cr_assert_not_null(j, "%s: %s", path, jerr.text);
	reply_free(&r);
	return j;
}

/* Width and height from a JPEG's SOF0 segment. */
static void jpeg_size(const unsigned char *p, size_t n, int *w, int *h)
{
	*w = *h = -1;
	for (size_t i = 2; i + 9 < n;) {
		if (p[i] != 0xff)
			return;
		int marker = p[i + 1], len = p[i + 2] << 8 | p[i + 3];
		if (marker == 0xc0 || marker == 0xc2) {
			*h = p[i + 5] << 8 | p[i + 6];
			*w = p[i + 7] << 8 | p[i + 8];
			return;
		}
		i += 2 + (size_t)len;
	}
}

static void check_manifest(const char *collection, const char *id, const char *direction)
{
	int status;
	char *path = ts_fmt("/iiif/%s/manifest", id);
	json_t *m = get_json(path, &status);
	cr_assert_eq(status, 200, "%s", path);
	cr_expect_str_eq(json_string_value(json_object_get(m, "@context")),
			 "http://iiif.io/api/presentation/3/context.json");
	cr_expect_str_eq(json_string_value(json_object_get(m, "type")), "Manifest");
	char *self = ts_fmt("http://localhost/iiif/%s/manifest", id);
	cr_expect_str_eq(json_string_value(json_object_get(m, "id")), self);
	free(self);
	cr_expect_str_eq(json_string_value(json_object_get(m, "viewingDirection")), direction, "%s", id);
	json_t *rendering = json_array_get(json_object_get(m, "rendering"), 0);
	char *pdf = ts_fmt("http://localhost/doc/%s/pdf", id);
	cr_expect_str_eq(json_string_value(json_object_get(rendering, "id")), pdf);
	cr_expect_str_eq(json_string_value(json_object_get(rendering, "format")), "application/pdf");
	free(pdf);
	cr_expect_gt(json_array_size(json_object_get(m, "metadata")), 2);
	json_t *items = json_object_get(m, "items");
	char *meta = ts_fmt("%s/store/%s/%s/bag-info.txt", archive, collection, id);
	char *info = ts_read(meta, NULL);
	int npages = atoi(strstr(info, "Bunko-Pages: ") + 13);
	free(info);
	free(meta);
	cr_assert_eq((int)json_array_size(items), npages);
	for (int n = 1; n <= npages; n++) {
		json_t *canvas = json_array_get(items, (size_t)n - 1);
		struct bk_page model;
		read_model(collection, id, n, &model);
		cr_expect_eq(json_integer_value(json_object_get(canvas, "width")), model.width);
		cr_expect_eq(json_integer_value(json_object_get(canvas, "height")), model.height);
		json_t *anno = json_array_get(json_object_get(json_array_get(json_object_get(canvas, "items"), 0), "items"), 0);
		cr_expect_str_eq(json_string_value(json_object_get(anno, "motivation")), "painting");
		cr_expect_str_eq(json_string_value(json_object_get(anno, "target")),
				 json_string_value(json_object_get(canvas, "id")));
		json_t *body = json_object_get(anno, "body");
		json_t *service = json_array_get(json_object_get(body, "service"), 0);
		cr_expect_str_eq(json_string_value(json_object_get(service, "profile")), "level0");
		/* the service's info.json, and every listed size as a JPEG of that size */
		const char *sid = json_string_value(json_object_get(service, "id"));
		cr_assert(sid && !strncmp(sid, "http://localhost", 16));
		char *ipath = ts_fmt("%s/info.json", sid + 16);
		json_t *inf = get_json(ipath, &status);
		cr_assert_eq(status, 200, "%s", ipath);
		cr_expect_eq(json_integer_value(json_object_get(inf, "width")), model.width);
		cr_expect_eq(json_integer_value(json_object_get(inf, "height")), model.height);
		json_t *sizes = json_object_get(inf, "sizes");
		cr_expect_geq(json_array_size(sizes), 2);
		bool small[3] = { false };
		for (size_t k = 0; k < json_array_size(sizes); k++) {
			int w = (int)json_integer_value(json_object_get(json_array_get(sizes, k), "width"));
			small[0] |= w == 350;
			small[1] |= w == 700;
			small[2] |= w == 1400;
		}
		cr_expect(small[0] && small[1] && (small[2] || model.width <= 1400), "sizes of %s", ipath);
		for (size_t k = 0; k < json_array_size(sizes); k++) {
			int w = (int)json_integer_value(json_object_get(json_array_get(sizes, k), "width"));
			int h = (int)json_integer_value(json_object_get(json_array_get(sizes, k), "height"));
			char *img = ts_fmt("%s/full/%d,%d/0/default.jpg", sid + 16, w, h);
			struct reply r = get(img);
			int gw, gh;
			cr_expect_eq(r.status, 200, "%s", img);
			jpeg_size((const unsigned char *)r.body, r.len, &gw, &gh);
			cr_expect(gw == w && gh == h, "%s is %d x %d", img, gw, gh);
			reply_free(&r);
			free(img);
		}
		char *bad = ts_fmt("%s/0,0,10,10/max/0/default.jpg", sid + 16);
		struct reply r = get(bad);
		cr_expect_eq(r.status, 400, "%s", bad);
		reply_free(&r);
		free(bad);
		json_decref(inf);
		free(ipath);
		bk_page_release(&model);
	}
	json_decref(m);
	free(path);
}

Test(cli_serve, iiif_manifest_and_level0_images)
{
	check_manifest("gian", gian_id, "right-to-left");
	check_manifest("reiki", reiki_id, "left-to-right");

	struct reply missing = get("/iiif/no-such-document/manifest");
	cr_assert_eq(missing.status, 404);
	const char *tails[] = { "/manifest", "/1/info.json", "/1", "/1/full/max/0/default.jpg" };
	const char *hidden[] = { secret_id, restricted_id };
	for (int h = 0; h < 2; h++)
		for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
			char *path = ts_fmt("/iiif/%s%s", hidden[h], tails[t]);
			struct reply r = get(path);
			cr_expect_eq(r.status, 404, "%s: %d", path, r.status);
			cr_expect_str_eq(r.body, missing.body);
			reply_free(&r);
			free(path);
		}
	reply_free(&missing);

	/* Content Search 2.0: one highlighting annotation per hit box of the
	 * page view, on its canvas */
	struct reply r;
	int status;
	char *mpath = ts_fmt("/iiif/%s/manifest", reiki_id);
	json_t *m = get_json(mpath, &status);
	json_t *svc = json_array_get(json_object_get(m, "service"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(svc, "type")), "SearchService2");
	char *sid = ts_fmt("http://localhost/iiif/%s/search", reiki_id);
	cr_expect_str_eq(json_string_value(json_object_get(svc, "id")), sid);
	free(sid);
	json_decref(m);
	free(mpath);
	char *spath = ts_fmt("/iiif/%s/search?q=%%E4%%BB%%A4%%E5%%92%%8C", reiki_id);
	json_t *res = get_json(spath, &status);
	cr_assert_eq(status, 200);
	cr_expect_str_eq(json_string_value(json_object_get(res, "type")), "AnnotationPage");
	json_t *annos = json_object_get(res, "items");
	size_t want = 0;
	for (int page = 1; page <= 2; page++) {
		char *vpath = ts_fmt("/doc/%s/page/%d?q=%%E4%%BB%%A4%%E5%%92%%8C", reiki_id, page);
		struct reply v = get(vpath);
		struct rect rects[64];
		int n = rects_of(v.body, rects, 64);
		for (int i = 0; i < n; i++) {
			char *target = ts_fmt("http://localhost/iiif/%s/canvas/%d#xywh=%d,%d,%d,%d", reiki_id, page,
					      rects[i].x, rects[i].y, rects[i].w, rects[i].h);
			bool found = false;
			for (size_t k = 0; k < json_array_size(annos) && !found; k++) {
				json_t *a = json_array_get(annos, k);
				found = !strcmp(json_string_value(json_object_get(a, "target")), target) &&
					!strcmp(json_string_value(json_object_get(a, "motivation")), "highlighting");
			}
			cr_expect(found, "no annotation on %s", target);
			free(target);
		}
		want += (size_t)n;
		reply_free(&v);
		free(vpath);
	}
	cr_expect_eq(json_array_size(annos), want);
	cr_expect_gt(want, 2);
	json_decref(res);
	free(spath);
	spath = ts_fmt("/iiif/%s/search?q=%%E5%%8C%%BA%%E6%%B0%%91", secret_id);
	r = get(spath);
	cr_expect_eq(r.status, 404);
	reply_free(&r);
	free(spath);

	/* a Host that is not a host name is not echoed */
	r = raw("GET /iiif/x HTTP/1.0\r\nHost: localhost\r\n\r\n");
	reply_free(&r);
	char *req = ts_fmt("GET /iiif/%s/manifest HTTP/1.0\r\nHost: evil\"><script>\r\n\r\n", reiki_id);
	r = raw(req);
	cr_expect_eq(r.status, 200);
	cr_expect_null(strstr(r.body, "evil"));
	cr_expect(strstr(r.body, "\"http://localhost/iiif/"));
	reply_free(&r);
	free(req);
}

/* ---- in a browser ----------------------------------------------------------------- */

static void check_in_browser(const char *collection, const char *id, int page, const char *q,
			     const char *shot_name)
{
	char *chromium = NULL;
	cr_assert_eq(ts_run("command -v chromium", &chromium, 0), 0);
	chromium[strcspn(chromium, "\n")] = '\0';
	char *eq = pct(q);
	char *path = ts_fmt("/doc/%s/page/%d?q=%s", id, page, eq);
	struct reply html = get(path);
	cr_assert_eq(html.status, 200);
	struct rect rects[64];
	int n = rects_of(html.body, rects, 64);
	cr_assert_gt(n, 0, "no hit of '%s' on %s page %d", q, id, page);
	mkdir(BUNKO_ARTIFACTS_DIR, 0755);
	char *shot = ts_fmt("%s/%s", BUNKO_ARTIFACTS_DIR, shot_name);
	char *url = ts_fmt("http://127.0.0.1:%d%s", port, path);
	char *script = ts_fmt("%s/tests/browser/page-hits.mjs", BUNKO_SOURCE_DIR);
	const char *argv[] = { "node", script, chromium, url, shot, NULL };
	char *out = NULL, *err = NULL;
	int rc = ts_run_argv(argv, &out, &err);
	cr_assert_eq(rc, 0, "node %s: %s", script, err);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	cr_assert_not_null(j, "%s: %s", jerr.text, out);
	cr_expect_eq(json_integer_value(json_object_get(j, "status")), 200);
	cr_expect_str_eq(json_string_value(json_object_get(j, "lang")), "ja");
	json_t *svg = json_object_get(j, "svg"), *vb = json_object_get(j, "viewBox");
	double left = json_number_value(json_object_get(svg, "left"));
	double top = json_number_value(json_object_get(svg, "top"));
	double scale = json_number_value(json_object_get(svg, "width")) /
		       json_number_value(json_object_get(vb, "width"));
	struct bk_page model;
	read_model(collection, id, page, &model);
	cr_expect_eq((int)json_number_value(json_object_get(vb, "width")), model.width);
	cr_expect(fabs(json_number_value(json_object_get(svg, "height")) / scale - model.height) < 2,
		  "the image is drawn out of its proportions");
	bk_page_release(&model);
	/* the page image was drawn (the svg is not blank) */
	cr_expect_gt(json_number_value(json_object_get(j, "imageInk")), 0.005, "%s", out);
	json_t *drawn = json_object_get(j, "rects");
	cr_assert_eq((int)json_array_size(drawn), n);
	for (int i = 0; i < n; i++) {
		json_t *d = json_array_get(drawn, (size_t)i), *s = json_object_get(d, "screen");
		double sl = json_number_value(json_object_get(s, "left"));
		double st = json_number_value(json_object_get(s, "top"));
		double sw = json_number_value(json_object_get(s, "width"));
		double sh = json_number_value(json_object_get(s, "height"));
		/* where the model's box falls on the image as laid out */
		cr_expect(fabs(sl - (left + rects[i].x * scale)) < 1.5 && fabs(st - (top + rects[i].y * scale)) < 1.5 &&
			  fabs(sw - rects[i].w * scale) < 1.5 && fabs(sh - rects[i].h * scale) < 1.5,
			  "box %d at %.1f,%.1f %.1fx%.1f, model box %d,%d %dx%d at scale %.3f", i, sl, st, sw, sh,
			  rects[i].x, rects[i].y, rects[i].w, rects[i].h, scale);
		cr_expect_gt(json_number_value(json_object_get(d, "edgeRed")), 0.6, "box %d is not outlined: %s", i, out);
		cr_expect_gt(json_number_value(json_object_get(d, "insideInk")), 0.05, "box %d has no characters under it", i);
	}
	struct stat st;
	cr_expect(stat(shot, &st) == 0 && st.st_size > 1000, "no screenshot %s", shot);
	json_decref(j);
	free(out);
	free(err);
	free(script);
	free(url);
	free(shot);
	reply_free(&html);
	free(path);
	free(eq);
	free(chromium);
}

/* Skips (or in CI fails) the test when tests/browser's npm module is missing. */
#define NEED_BROWSER_MODULE(name)                                                                   \
	do {                                                                                        \
		char *modules = ts_fmt("%s/tests/browser/node_modules/%s", BUNKO_SOURCE_DIR, name); \
		struct stat mst;                                                                    \
		if (stat(modules, &mst)) {                                                          \
			if (ts_in_ci())                                                             \
				cr_assert_fail("%s is missing (scripts/install-deps --tests runs npm ci)", modules); \
			printf("skipped: %s is missing (scripts/install-deps --tests)\n", modules); \
			free(modules);                                                              \
			cr_skip_test("%s is not installed", name);                                  \
		}                                                                                   \
		free(modules);                                                                      \
	} while (0)

Test(cli_serve, browser_draws_each_hit_box_on_its_characters, .timeout = 300)
{
	TS_NEED_TOOL("chromium");
	TS_NEED_TOOL("node");
	NEED_BROWSER_MODULE("puppeteer-core");
	check_in_browser("reiki", reiki_id, 2, "令和", "page-hits-horizontal.png");
	check_in_browser("gian", gian_id, 1, "学ぶ", "page-hits-vertical.png");
}

Test(cli_serve, browser_axe_finds_no_violation_and_the_keyboard_opens_a_hit, .timeout = 300)
{
	TS_NEED_TOOL("chromium");
	TS_NEED_TOOL("node");
	NEED_BROWSER_MODULE("puppeteer-core");
	NEED_BROWSER_MODULE("axe-core");
	char *chromium = NULL;
	cr_assert_eq(ts_run("command -v chromium", &chromium, 0), 0);
	chromium[strcspn(chromium, "\n")] = '\0';
	mkdir(BUNKO_ARTIFACTS_DIR, 0755);
	char *origin = ts_fmt("http://127.0.0.1:%d", port);
	char *page = ts_fmt("/doc/%s/page/2?q=%%E4%%BB%%A4%%E5%%92%%8C", reiki_id);
	char *script = ts_fmt("%s/tests/browser/a11y.mjs", BUNKO_SOURCE_DIR);
	/* the keyboard's query: its first hit is a page of a stored document (学ぶ, the vertical page) */
	const char *argv[] = { "node", script, chromium, origin, "令和", page, BUNKO_ARTIFACTS_DIR, "学ぶ", NULL };
	char *out = NULL, *err = NULL;
	int rc = ts_run_argv(argv, &out, &err);
	cr_assert_eq(rc, 0, "node %s: %s", script, err);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	cr_assert_not_null(j, "%s: %s", jerr.text, out);
	json_t *axe = json_object_get(j, "axe");
	cr_assert_eq(json_array_size(axe), 4);
	for (size_t i = 0; i < json_array_size(axe); i++) {
		json_t *p = json_array_get(axe, i);
		const char *name = json_string_value(json_object_get(p, "name"));
		cr_expect_eq(json_integer_value(json_object_get(p, "status")), 200, "%s", name);
		/* axe ran its rules: some passed */
		cr_expect_gt(json_integer_value(json_object_get(p, "passes")), 10, "%s", name);
		char *v = json_dumps(json_object_get(p, "violations"), 0);
		cr_expect_eq(json_array_size(json_object_get(p, "violations")), 0, "%s: %s", name, v);
		free(v);
		cr_expect_str_eq(json_string_value(json_object_get(p, "lang")), strcmp(name, "search-en") ? "ja" : "en");
	}
	json_t *k = json_object_get(j, "keyboard");
	char *kd = json_dumps(k, 0);
	cr_expect_gt(json_integer_value(json_object_get(k, "tabsToSearch")), 0, "Tab never reached the search box: %s", kd);
	cr_expect(strstr(json_string_value(json_object_get(k, "resultsUrl")), "/search?q=%E5%AD%A6%E3%81%B6"), "%s", kd);
	cr_expect_gt(json_integer_value(json_object_get(k, "tabsToHit")), 0, "Tab never reached a hit: %s", kd);
	cr_expect_str_neq(json_string_value(json_object_get(k, "hitOutline")), "none", "the focus is not shown: %s", kd);
	const char *href = json_string_value(json_object_get(k, "hitHref"));
	const char *opened = json_string_value(json_object_get(k, "openedUrl"));
	cr_expect(href && opened && !strcmp(href, opened) && strstr(opened, "/doc/") && strstr(opened, "/page/"),
		  "Enter on the hit did not open it: %s", kd);
	cr_expect_eq(json_integer_value(json_object_get(k, "openedStatus")), 200, "%s", kd);
	cr_expect(json_is_true(json_object_get(k, "openedImage")), "the opened page shows no page image: %s", kd);
	cr_expect_str_eq(json_string_value(json_object_get(k, "openedLang")), "ja");
	char *gian = ts_fmt("/doc/%s/page/1?q=", gian_id);
	cr_expect(opened && strstr(opened, gian), "the first hit of 学ぶ is not the vertical page: %s", kd);
	free(gian);
	free(kd);
	json_decref(j);
	free(out);
	free(err);
	free(script);
	free(page);
	free(origin);
	free(chromium);
}

/* ---- staff ------------------------------------------------------------------------ */

static struct reply get_as(const char *path, const char *cookie)
{
	char *req = ts_fmt("GET %s HTTP/1.0\r\nHost: localhost\r\nCookie: %s\r\n\r\n", path, cookie);
	struct reply r = raw(req);
	free(req);
	return r;
}

static struct reply post(const char *path, const char *cookie, const char *body)
{
	char *req = ts_fmt("POST %s HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
			   "Content-Length: %zu\r\n%s%s%s\r\n%s", path, strlen(body), cookie ? "Cookie: " : "",
			   cookie ? cookie : "", cookie ? "\r\n" : "", body);
	struct reply r = raw(req);
	free(req);
	return r;
}

/* The value of a Set-Cookie for `name` in a reply's head (caller frees). */
static char *set_cookie(const struct reply *r, const char *name)
{
	char *pat = ts_fmt("Set-Cookie: %s=", name);
	const char *p = strstr(r->head, pat);
	char *v = p ? strndup(p + strlen(pat), strcspn(p + strlen(pat), ";\r\n")) : NULL;
	free(pat);
	return v;
}

static char *hidden_csrf(const char *html)
{
	const char *p = strstr(html, "name=\"csrf\" value=\"");
	cr_assert_not_null(p, "no csrf field in %s", html);
	p += strlen("name=\"csrf\" value=\"");
	return strndup(p, strcspn(p, "\""));
}

static void add_user(const char *name, const char *role, const char *password)
{
	char *cmd = ts_fmt("printf '%%s\\n' '%s' | %s user add %s %s --role %s", password, BUNKO_EXE, archive, name, role);
	free(ts_run_ok(cmd));
	free(cmd);
}

/* Logs in; returns "bunko_session=TOKEN" (caller frees), or NULL with
 * *status the answer's status. */
static char *log_in(const char *name, const char *password, int *status)
{
	struct reply form = get("/login");
	cr_assert_eq(form.status, 200);
	char *csrf = hidden_csrf(form.body), *cookie_csrf = set_cookie(&form, "bunko_csrf");
	cr_assert_not_null(cookie_csrf);
	cr_expect_str_eq(csrf, cookie_csrf);
	cr_expect(strstr(form.head, "HttpOnly; SameSite=Strict"));
	char *cookie = ts_fmt("bunko_csrf=%s", cookie_csrf);
	char *body = ts_fmt("csrf=%s&name=%s&password=%s", csrf, name, password);
	struct reply r = post("/login", cookie, body);
	*status = r.status;
	char *session = set_cookie(&r, "bunko_session");
	char *out = NULL;
	if (r.status == 303) {
		cr_assert(session && strlen(session) == 64, "%s", r.head);
		cr_expect(strstr(r.head, "; Path=/; HttpOnly; SameSite=Strict"), "%s", r.head);
		out = ts_fmt("bunko_session=%s", session);
	}
	free(session);
	reply_free(&r);
	free(body);
	free(cookie);
	free(cookie_csrf);
	free(csrf);
	reply_free(&form);
	return out;
}

Test(cli_serve, staff_login_shows_restricted_and_logout_hides_it)
{
	add_user("alice", "staff", "correct horse");
	add_user("boss", "admin", "battery staple");
	struct stat st;
	char *users = ts_fmt("%s/auth/users", archive);
	cr_assert_eq(stat(users, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	char *text = ts_read(users, NULL);
	cr_expect(strstr(text, "alice staff $argon2id$"), "%s", text);
	cr_expect_null(strstr(text, "correct horse"));
	free(text);
	free(users);

	int status;
	/* a form without the token of its cookie */
	struct reply r = post("/login", "bunko_csrf=abc", "csrf=abd&name=alice&password=correct+horse");
	cr_expect_eq(r.status, 403);
	cr_expect_null(set_cookie(&r, "bunko_session"));
	reply_free(&r);
	cr_expect_null(log_in("alice", "wrong", &status));
	cr_expect_eq(status, 401);
	cr_expect_null(log_in("nobody", "correct+horse", &status));
	cr_expect_eq(status, 401);

	char *staff = log_in("alice", "correct+horse", &status);
	cr_assert_not_null(staff, "login answered %d", status);
	r = search("microfilm", NULL);
	cr_expect_eq(data_total(r.body), 0);
	reply_free(&r);
	r = get_as("/search?q=microfilm", staff);
	cr_expect_eq(data_total(r.body), 1, "%s", r.body);
	cr_expect(strstr(r.body, restricted_id));
	cr_expect(strstr(r.body, "<span class=\"user\">alice</span>"));
	char *csrf = hidden_csrf(r.body);
	reply_free(&r);
	char *path = ts_fmt("/doc/%s/page/1", restricted_id);
	r = get_as(path, staff);
	cr_expect_eq(r.status, 200);
	reply_free(&r);
	char *pdf = ts_fmt("/doc/%s/pdf", restricted_id);
	r = get_as(pdf, staff);
	cr_expect_eq(r.status, 200);
	cr_expect(strstr(r.head, "Cache-Control: no-store"), "%s", r.head);
	reply_free(&r);
	char *secret = ts_fmt("/doc/%s/page/1", secret_id);
	r = get_as(secret, staff);
	cr_expect_eq(r.status, 404, "staff sees the confidential document");
	reply_free(&r);
	r = get_as("/search?q=%E5%8C%BA%E6%B0%91", staff);
	cr_expect_eq(data_total(r.body), 0);
	reply_free(&r);

	/* logout needs the session's token */
	r = post("/logout", staff, "csrf=0000");
	cr_expect_eq(r.status, 403);
	reply_free(&r);
	r = get_as(path, staff);
	cr_expect_eq(r.status, 200, "a refused logout ended the session");
	reply_free(&r);
	char *body = ts_fmt("csrf=%s", csrf);
	r = post("/logout", staff, body);
	cr_expect_eq(r.status, 303);
	cr_expect(strstr(r.head, "Set-Cookie: bunko_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
	reply_free(&r);
	free(body);
	r = get_as(path, staff);
	cr_expect_eq(r.status, 404, "the session outlived its logout");
	reply_free(&r);
	r = get_as("/search?q=microfilm", staff);
	cr_expect_eq(data_total(r.body), 0);
	reply_free(&r);

	char *admin = log_in("boss", "battery+staple", &status);
	cr_assert_not_null(admin, "admin login answered %d", status);
	r = get_as(secret, admin);
	cr_expect_eq(r.status, 200);
	reply_free(&r);
	r = get_as("/search?q=%E5%8C%BA%E6%B0%91", admin);
	cr_expect_gt(data_total(r.body), 0);
	reply_free(&r);

	/* the audit log: who saw which hidden document; public views are not in it */
	char *audit_path = ts_fmt("%s-audit.log", archive);
	char *audit = ts_read(audit_path, NULL);
	cr_assert_not_null(audit, "no audit log %s", audit_path);
	char *line = ts_fmt(" alice staff restricted %s /doc/%s/pdf\n", restricted_id, restricted_id);
	cr_expect(strstr(audit, line), "no '%s' in %s", line, audit);
	free(line);
	line = ts_fmt(" boss admin confidential %s /doc/%s/page/1\n", secret_id, secret_id);
	cr_expect(strstr(audit, line), "no '%s' in %s", line, audit);
	free(line);
	cr_expect_null(strstr(audit, reiki_id));
	cr_expect_null(strstr(audit, gian_id));
	cr_expect(audit[0] == '2' && audit[4] == '-' && audit[10] == 'T', "%s", audit);
	free(audit);
	free(audit_path);

	/* behind a TLS front server the cookies are Secure */
	r = raw("GET /login HTTP/1.0\r\nHost: localhost\r\nX-Forwarded-Proto: https\r\n\r\n");
	cr_expect(strstr(r.head, "HttpOnly; SameSite=Strict; Secure"), "%s", r.head);
	reply_free(&r);
	r = get("/login");
	cr_expect_null(strstr(r.head, "Secure"));
	reply_free(&r);

	/* failures are limited: after five, even the right password waits */
	for (int i = 0; i < 5; i++) {
		cr_expect_null(log_in("alice", "nope", &status));
		cr_expect(status == 401 || status == 429, "%d", status);
	}
	cr_expect_null(log_in("alice", "correct+horse", &status));
	cr_expect_eq(status, 429);

	free(admin);
	free(secret);
	free(pdf);
	free(path);
	free(csrf);
	free(staff);
}

Test(cli_serve, facets_never_count_what_the_role_may_not_see)
{
	add_user("carol", "staff", "carol pass");
	add_user("dave", "admin", "dave pass");
	int status;
	char *staff = log_in("carol", "carol+pass", &status);
	cr_assert_not_null(staff, "%d", status);
	char *admin = log_in("dave", "dave+pass", &status);
	cr_assert_not_null(admin, "%d", status);
	const char *as[] = { NULL, staff, admin }, *roles[] = { "", "--role staff", "--role admin" };
	/* 防災: public pages and the confidential one; microfilm: the
	 * restricted one; 区民: the confidential one only */
	const char *words[] = { "防災", "microfilm", "区民" };
	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		long totals[3];
		for (int role = 0; role < 3; role++)
			free(cli_pages(words[w], roles[role], &totals[role]));
		cr_assert_gt(totals[2], totals[0], "'%s' is not in a hidden document", words[w]);
		char *e = pct(words[w]), *path = ts_fmt("/search?q=%s", e);
		for (int role = 0; role < 3; role++) {
			struct reply r = as[role] ? get_as(path, as[role]) : get(path);
			cr_assert_eq(r.status, 200);
			long total = data_total(r.body);
			cr_expect_eq(total, totals[role], "'%s' role %d: %ld, cli %ld", words[w], role, total,
				     totals[role]);
			if (!total) {
				cr_expect_null(strstr(r.body, "class=\"facets\""), "'%s' role %d has facets", words[w], role);
				reply_free(&r);
				continue;
			}
			/* every facet adds up to the pages the role may see */
			cr_expect_eq(facet_sum(r.body, "collection"), total, "'%s' role %d", words[w], role);
			cr_expect_eq(facet_sum(r.body, "profile"), total);
			cr_expect_eq(facet_sum(r.body, "decade"), total);
			cr_expect_eq(facet_sum(r.body, "access"), role ? total : -1);
			/* levels: only those the role may see, with their own counts */
			long pub = facet_count(r.body, "access", "公開"), res = facet_count(r.body, "access", "職員限定");
			long conf = facet_count(r.body, "access", "秘");
			if (role == 1)
				cr_expect_eq(conf, -1, "staff are counted a confidential page of '%s'", words[w]);
			if (role == 2) {
				long want = totals[2] > totals[1] ? totals[2] - totals[1] : -1;
				cr_expect_eq(conf, want, "'%s'", words[w]);
				conf = conf < 0 ? 0 : conf;
				/* choosing the level: its count is the total */
				char *extra = ts_fmt("/search?q=%s&access=confidential", e);
				struct reply c = get_as(extra, admin);
				cr_expect_eq(data_total(c.body), conf);
				reply_free(&c);
				free(extra);
			}
			if (role >= 1 && totals[1] > totals[0])
				cr_expect_eq(res, totals[1] - totals[0]);
			if (totals[0] > 0 && role >= 1)
				cr_expect_eq(pub, totals[0]);
			reply_free(&r);
		}
		/* a visitor cannot choose a level to see it */
		char *extra = ts_fmt("/search?q=%s&access=confidential", e);
		struct reply r = get(extra);
		cr_expect_eq(data_total(r.body), totals[0]);
		cr_expect_null(strstr(r.body, secret_id));
		reply_free(&r);
		free(extra);
		free(path);
		free(e);
	}
	free(staff);
	free(admin);
}

/* A word on more candidate pages than BK_FACET_EXACT: the facets and the
 * total are estimates and say so, in both languages, and count only the
 * levels the role may see. Every page of it matches (no decoys), so the
 * estimates are the true counts. */
Test(cli_serve, facets_of_a_common_word_are_estimates_and_say_so)
{
	struct reply r = search("多数頁", NULL);
	cr_assert_eq(r.status, 200);
	cr_expect(strstr(r.body, "data-total=\"2400\" data-estimated=\"true\""), "%s", r.body);
	cr_expect(strstr(r.body, "約2400件（推定）"));
	cr_expect(strstr(r.body, "data-candidates=\"2400\" data-sampled=\"500\" data-confirmed=\"500\""));
	cr_expect(strstr(r.body, "件数は推定です。"));
	cr_expect(strstr(r.body, "bulka\">bulka</a> <span class=\"count\" data-estimate=\"1200\">(約1200)</span>"),
		  "%s", r.body);
	cr_expect(strstr(r.body, "bulkb\">bulkb</a> <span class=\"count\" data-estimate=\"1200\">(約1200)</span>"));
	/* an estimate is never shown as a count */
	cr_expect_eq(facet_sum(r.body, "collection"), 0);
	cr_expect_null(strstr(r.body, "data-facet=\"access\""));
	cr_expect_eq(count_of(r.body, "<li class=\"hit\">"), 20);
	reply_free(&r);

	r = search("多数頁", "&lang=en");
	cr_expect(strstr(r.body, "about 2400 pages (estimated)"), "%s", r.body);
	cr_expect(strstr(r.body, "(about 1200)</span>"));
	cr_expect(strstr(r.body, "Counts are estimates"));
	reply_free(&r);

	/* a chosen collection: its estimate is the total */
	r = search("多数頁", "&collection=bulka");
	cr_expect(strstr(r.body, "data-total=\"1200\" data-estimated=\"true\""), "%s", r.body);
	reply_free(&r);

	/* staff: the restricted pages too, in the access facet */
	add_user("erin", "staff", "erin pass");
	int status;
	char *staff = log_in("erin", "erin+pass", &status);
	cr_assert_not_null(staff, "%d", status);
	r = get_as("/search?q=%E5%A4%9A%E6%95%B0%E9%A0%81", staff);
	cr_expect(strstr(r.body, "data-total=\"3000\" data-estimated=\"true\""), "%s", r.body);
	cr_expect(strstr(r.body, "data-candidates=\"3000\""));
	cr_expect(strstr(r.body, "職員限定</a> <span class=\"count\" data-estimate=\"600\">(約600)</span>"), "%s",
		  r.body);
	reply_free(&r);
	free(staff);
}

/* Every connection of a test client that holds them open at once from
 * 127.0.0.1, more than the 16 an address once had, is answered. */
static int open_conns(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		cr_assert_eq(connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s", strerror(errno));
	}
	/* every one open before any request: the server holds them all.
	 * The server accepts each on a thread of its own; let it take (or
	 * refuse) them all before the first request is answered and closed,
	 * which would free a place under the limit for a later one: up to
	 * half a second, less as soon as one is refused. */
	struct pollfd pf[64];
	for (int i = 0; i < n; i++)
		pf[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	poll(pf, (nfds_t)n, 500);
	int answered = 0;
	const char req[] = "GET /static/bunko.css HTTP/1.0\r\nHost: localhost\r\n\r\n";
	for (int i = 0; i < n; i++)
		if (write(fds[i], req, sizeof(req) - 1) < 0)
			continue;
	for (int i = 0; i < n; i++) {
		char buf[64] = "";
		ssize_t k = read(fds[i], buf, sizeof(buf) - 1);
		if (k > 0 && !strncmp(buf, "HTTP/1.1 200", 12))
			answered++;
		close(fds[i]);
	}
	return answered;
}

/* One HTTP/1.1 answer read from fd: its head (caller frees), its status;
 * the body is read by its Content-Length, so the connection can go on. */
static char *read_answer(int fd, int *status)
{
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap + 1), *end = NULL;
	long length = -1;
	*status = -1;
	while (n < cap) {
		ssize_t k = read(fd, buf + n, cap - n);
		if (k <= 0)
			break;
		n += (size_t)k;
		buf[n] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			length = cl && cl < end ? atol(cl + 17) : -1;
		}
		if (end && length >= 0 && n >= (size_t)(end - buf) + 4 + (size_t)length)
			break;
	}
	buf[n] = '\0';
	if (sscanf(buf, "HTTP/1.1 %d", status) != 1)
		*status = -1;
	char *head = strndup(buf, end ? (size_t)(end - buf) : n);
	free(buf);
	return head;
}

/* Browsers, and nginx in front (its upstream keepalive), send the next
 * request on the same connection: each answer keeps it open. */
Test(cli_serve, a_connection_is_kept_for_the_next_request)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s", strerror(errno));
	char *q = pct("区");
	char *search_path = ts_fmt("/search?q=%s", q);
	const char *paths[] = { search_path, "/static/bunko.css", search_path, "/" };
	for (int i = 0; i < 4; i++) {
		char *req = ts_fmt("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", paths[i]);
		cr_assert_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req),
			     "request %d not sent: the connection was closed", i + 1);
		int status;
		char *head = read_answer(fd, &status);
		cr_expect_eq(status, 200, "request %d (%s) on the same connection: %s", i + 1, paths[i], head);
		cr_assert_null(strcasestr(head, "Connection: close"), "request %d closed the connection: %s", i + 1,
			       head);
		free(head);
		free(req);
	}
	close(fd);
	free(search_path);
	free(q);
}

/* The first line of a /proc file (whose size says 0), or "". */
static void proc_line(const char *path, char *out, size_t n)
{
	FILE *f = fopen(path, "r");
	out[0] = '\0';
	if (f && !fgets(out, (int)n, f))
		out[0] = '\0';
	if (f)
		fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

/* The nice value of thread `tid` of the server, and its name in *comm. */
static int thread_nice(const char *tid, char *comm, size_t n)
{
	char stat[1024];
	char *path = ts_fmt("/proc/%d/task/%s/comm", (int)server_pid, tid);
	proc_line(path, comm, n);
	free(path);
	path = ts_fmt("/proc/%d/task/%s/stat", (int)server_pid, tid);
	proc_line(path, stat, sizeof(stat));
	free(path);
	/* "pid (name) state ppid ...": the nice value is field 19 */
	const char *p = strrchr(stat, ')');
	for (int field = 2; p && field < 19; field++)
		p = strchr(p + 1, ' ');
	return p ? atoi(p + 1) : 99;
}

/* A search being computed is not slowed by the cheap answers of other
 * connections: the connections' threads run 5 nice values below the
 * search threads (web/http.c, web/site.c). */
Test(cli_serve, connection_threads_yield_to_the_search_threads)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "connect: %s", strerror(errno));
	const char req[] = "GET /static/bunko.css HTTP/1.1\r\nHost: localhost\r\n\r\n";
	cr_assert_eq(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
	int status;
	free(read_answer(fd, &status));
	cr_assert_eq(status, 200);
	/* the connection is still open: its thread is there */
	char *dirpath = ts_fmt("/proc/%d/task", (int)server_pid);
	DIR *d = opendir(dirpath);
	cr_assert_not_null(d, "%s", dirpath);
	char main_tid[16], main_comm[32];
	snprintf(main_tid, sizeof(main_tid), "%d", (int)server_pid);
	int base = thread_nice(main_tid, main_comm, sizeof(main_comm));
	int connections = 0, at_base = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char comm[32];
		int nice = thread_nice(e->d_name, comm, sizeof(comm));
		if (!strcmp(comm, "MHD-connection")) {
			connections++;
			cr_expect_eq(nice, base + 5, "a connection's thread at nice %d, the server at %d", nice, base);
		} else if (nice == base)
			at_base++;
	}
	closedir(d);
	free(dirpath);
	close(fd);
	cr_expect_geq(connections, 1, "no connection thread found");
	/* the main thread and the three search threads (--workers 3) */
	cr_expect_geq(at_base, 4, "%d threads at the server's own priority", at_base);
}

Test(cli_serve, many_connections_from_one_address_are_answered)
{
	int fds[40];
	cr_expect_eq(open_conns(fds, 40), 40);
	/* the limit still holds where it is set: the third of one address is refused */
	stop_server();
	start_server_with("--per-address", "2");
	cr_expect_eq(open_conns(fds, 3), 2);
	char *out = NULL;
	char *cmd = ts_fmt("%s serve %s --per-address 0 2>&1", BUNKO_EXE, archive);
	cr_expect_eq(ts_run(cmd, &out, 1), 2, "%s", out);
	cr_expect(strstr(out, "invalid connection count '0'"), "%s", out);
	free(out);
	free(cmd);
}

/* A tile as a viewer asks for it: the very file libvips made, with its
 * type, length, caching and CORS headers. */
Test(cli_serve, tiles_are_sent_as_made_with_their_headers)
{
	int status;
	char *ipath = ts_fmt("/iiif/%s/1/info.json", reiki_id);
	json_t *info = get_json(ipath, &status); /* makes the page's tiles */
	cr_assert_eq(status, 200);
	json_decref(info);
	free(ipath);
	char *pagedir = ts_fmt("%s/tiles/%s/0001", archive, reiki_id);
	const char *rel[] = { "full/max/0/default.jpg", NULL };
	/* the first tile of the full resolution, as dzsave named it */
	char *tile = NULL;
	DIR *d = opendir(pagedir);
	cr_assert_not_null(d, "%s", pagedir);
	for (struct dirent *e; !tile && (e = readdir(d));)
		if (!strncmp(e->d_name, "0,0,512,512", 11)) {
			char *sub = ts_fmt("%s/%s", pagedir, e->d_name);
			DIR *sd = opendir(sub);
			for (struct dirent *f; sd && !tile && (f = readdir(sd));)
				if (f->d_name[0] != '.')
					tile = ts_fmt("%s/%s/0/default.jpg", e->d_name, f->d_name);
			if (sd)
				closedir(sd);
			free(sub);
		}
	closedir(d);
	cr_assert_not_null(tile, "no tile in %s", pagedir);
	rel[1] = tile;
	for (int i = 0; i < 2; i++) {
		size_t len = 0;
		char *file = ts_fmt("%s/%s", pagedir, rel[i]);
		char *want = ts_read(file, &len);
		cr_assert_not_null(want, "%s", file);
		char *path = ts_fmt("/iiif/%s/1/%s", reiki_id, rel[i]);
		struct reply r = get(path);
		cr_expect_eq(r.status, 200, "%s: %d", path, r.status);
		cr_expect(strstr(r.head, "Content-Type: image/jpeg"), "%s", r.head);
		char *length = ts_fmt("Content-Length: %zu", len);
		cr_expect(strstr(r.head, length), "%s", r.head);
		cr_expect(strstr(r.head, "Cache-Control: private, max-age=3600"), "%s", r.head);
		cr_expect(strstr(r.head, "Access-Control-Allow-Origin: *"), "%s", r.head);
		cr_expect(r.len == len && !memcmp(r.body, want, len), "%s: %zu bytes, the file %zu", path, r.len, len);
		reply_free(&r);
		free(length);
		free(path);
		free(want);
		free(file);
	}
	/* a tile info.json does not offer */
	char *path = ts_fmt("/iiif/%s/1/0,0,7,7/7,7/0/default.jpg", reiki_id);
	struct reply r = get(path);
	cr_expect_eq(r.status, 400);
	reply_free(&r);
	free(path);
	free(tile);
	free(pagedir);
}

Test(cli_serve, english_pages_from_the_message_table)
{
	struct reply r = search("令和", "&lang=en");
	cr_assert_eq(r.status, 200);
	cr_expect(strstr(r.body, "<html lang=\"en\">"));
	cr_expect(strstr(r.head, "Set-Cookie: bunko_lang=en; Path=/;"), "%s", r.head);
	const char *english[] = { "Results for", "Collection", "Decade", "1920s", "Type", "Sort by", "Staff login",
				  "Full-text search", "hreflang=\"ja\"" };
	for (size_t i = 0; i < sizeof(english) / sizeof(english[0]); i++)
		cr_expect(strstr(r.body, english[i]), "no '%s' in the English page", english[i]);
	/* the labels of the Japanese page are gone (the pages' own text stays) */
	const char *japanese[] = { "検索結果", "コレクション", "年代", "絞り込み", "並び順", "職員ログイン", "全文検索",
				   "ページ送り", "件" };
	for (size_t i = 0; i < sizeof(japanese) / sizeof(japanese[0]); i++)
		cr_expect_null(strstr(r.body, japanese[i]), "'%s' in the English page", japanese[i]);
	reply_free(&r);

	/* the cookie keeps it; ?lang=ja switches back */
	r = get_as("/login", "bunko_lang=en");
	cr_expect(strstr(r.body, "<html lang=\"en\">"));
	cr_expect(strstr(r.body, "<label for=\"name\">User name</label>"));
	cr_expect(strstr(r.body, "<label for=\"password\">Password</label>"));
	reply_free(&r);
	r = get_as("/?lang=ja", "bunko_lang=en");
	cr_expect(strstr(r.body, "<html lang=\"ja\">"));
	cr_expect(strstr(r.head, "Set-Cookie: bunko_lang=ja"));
	cr_expect(strstr(r.body, "href=\"/?lang=en\" hreflang=\"en\" lang=\"en\">English</a>"), "%s", r.body);
	reply_free(&r);
	r = get("/");
	cr_expect(strstr(r.body, "<html lang=\"ja\">"));
	cr_expect_null(strstr(r.head, "bunko_lang"));
	reply_free(&r);

	/* a hidden document answers in English exactly as a missing one */
	struct reply missing = get_as("/doc/no-such-document/page/1", "bunko_lang=en");
	cr_expect_eq(missing.status, 404);
	cr_expect(strstr(missing.body, "Page not found"));
	char *path = ts_fmt("/doc/%s/page/1", secret_id);
	r = get_as(path, "bunko_lang=en");
	cr_expect_eq(r.status, 404);
	cr_expect_str_eq(r.body, missing.body);
	reply_free(&r);
	reply_free(&missing);
	free(path);
}

/* s with & < > " ' as the site escapes them. */
static char *html_escaped(const char *s)
{
	char *out = malloc(strlen(s) * 6 + 1), *o = out;
	for (; *s; s++)
		o += *s == '&' ? sprintf(o, "&amp;") : *s == '<' ? sprintf(o, "&lt;") : *s == '>' ? sprintf(o, "&gt;")
		     : *s == '"' ? sprintf(o, "&quot;") : *s == '\'' ? sprintf(o, "&#39;") : sprintf(o, "%c", *s);
	*o = '\0';
	return out;
}

static json_t *status_json(void)
{
	char *cmd = ts_fmt("%s status %s --json", BUNKO_EXE, archive);
	char *out = ts_run_ok(cmd);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	cr_assert_not_null(j, "%s: %s", jerr.text, out);
	free(out);
	free(cmd);
	return j;
}

Test(cli_serve, queue_page_shows_the_status_and_admins_requeue, .timeout = 300)
{
	/* a job that fails: not an image */
	char *bad = add("bad/notimage.png", "--collection bad --title 壊れたファイル");
	char *cmd = ts_fmt("OMP_THREAD_LIMIT=1 %s worker %s --drain", BUNKO_EXE, archive);
	char *out = NULL;
	ts_run(cmd, &out, 1); /* its status says a job failed */
	free(out);
	free(cmd);
	json_t *st = status_json();
	long failed = (long)json_integer_value(json_object_get(st, "failed"));
	cr_assert_geq(failed, 1);
	const char *message = NULL;
	json_t *failures = json_object_get(st, "failures");
	for (size_t i = 0; i < json_array_size(failures); i++) {
		json_t *f = json_array_get(failures, i);
		if (!strcmp(json_string_value(json_object_get(f, "job")), bad))
			message = json_string_value(json_object_get(f, "message"));
	}
	cr_assert_not_null(message, "the job did not fail");

	struct reply missing = get("/no-such-page");
	struct reply r = get("/queue");
	cr_expect_eq(r.status, 404);
	cr_expect_str_eq(r.body, missing.body, "the queue page answers visitors unlike a missing page");
	reply_free(&r);
	reply_free(&missing);

	add_user("erin", "staff", "erin pass");
	add_user("frank", "admin", "frank pass");
	int status;
	char *staff = log_in("erin", "erin+pass", &status);
	char *admin = log_in("frank", "frank+pass", &status);
	cr_assert(staff && admin);

	r = get_as("/search?q=x", staff);
	cr_expect(strstr(r.body, "<a class=\"queue\" href=\"/queue\">"));
	reply_free(&r);
	r = get_as("/queue", staff);
	cr_assert_eq(r.status, 200);
	char *want = ts_fmt("data-queued=\"%lld\" data-running=\"%lld\" data-done=\"%lld\" data-failed=\"%lld\"",
			    json_integer_value(json_object_get(st, "queued")),
			    json_integer_value(json_object_get(st, "running")),
			    json_integer_value(json_object_get(st, "done")), (long long)failed);
	cr_expect(strstr(r.body, want), "no '%s' in %s", want, r.body);
	free(want);
	want = ts_fmt("data-pages-done=\"%lld\" data-pages-total=\"%lld\"",
		      json_integer_value(json_object_get(st, "pages_done")),
		      json_integer_value(json_object_get(st, "pages_total")));
	cr_expect(strstr(r.body, want), "no '%s'", want);
	free(want);
	cr_expect(strstr(r.body, "data-rate=\""));
	char *reason = html_escaped(message);
	cr_expect(strstr(r.body, reason), "no reason '%s' in %s", reason, r.body);
	free(reason);
	cr_expect(strstr(r.body, bad));
	cr_expect(strstr(r.body, "<meta http-equiv=\"refresh\" content=\"30\">"));
	cr_expect(strstr(r.body, "href=\"/queue?refresh=0\""));
	cr_expect_null(strstr(r.body, "/queue/requeue"), "staff are offered requeue");
	char *staff_csrf = hidden_csrf(r.body);
	reply_free(&r);
	r = get_as("/queue?refresh=0", staff);
	cr_expect_null(strstr(r.body, "http-equiv=\"refresh\""));
	reply_free(&r);
	/* staff may not requeue, even with their token */
	char *body = ts_fmt("csrf=%s&job=%s", staff_csrf, bad);
	r = post("/queue/requeue", staff, body);
	cr_expect_eq(r.status, 403);
	reply_free(&r);
	free(body);

	r = get_as("/queue", admin);
	char *form = ts_fmt("<input type=\"hidden\" name=\"job\" value=\"%s\">", bad);
	cr_expect(strstr(r.body, form), "no requeue form for %s", bad);
	free(form);
	char *admin_csrf = hidden_csrf(r.body);
	reply_free(&r);
	body = ts_fmt("csrf=0000&job=%s", bad);
	r = post("/queue/requeue", admin, body);
	cr_expect_eq(r.status, 403, "a requeue without the session's token");
	reply_free(&r);
	free(body);
	json_t *same = status_json();
	cr_expect_eq(json_integer_value(json_object_get(same, "failed")), failed);
	json_decref(same);
	body = ts_fmt("csrf=%s&job=%s", admin_csrf, bad);
	r = post("/queue/requeue", admin, body);
	cr_expect_eq(r.status, 200);
	cr_expect(strstr(r.body, "role=\"status\""));
	reply_free(&r);
	json_t *after = status_json();
	cr_expect_eq(json_integer_value(json_object_get(after, "failed")), failed - 1);
	cr_expect_eq(json_integer_value(json_object_get(after, "queued")),
		     json_integer_value(json_object_get(st, "queued")) + 1);
	json_decref(after);
	/* again: it is no longer a failed job */
	r = post("/queue/requeue", admin, body);
	cr_expect_eq(r.status, 409);
	reply_free(&r);
	free(body);
	json_decref(st);
	free(admin_csrf);
	free(staff_csrf);
	free(staff);
	free(admin);
	free(bad);
}

/* ---- behind nginx ------------------------------------------------------------------ */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* Replaces the one occurrence of `from` in *s (which must be there). */
static void replace(char **s, const char *from, const char *to)
{
	char *at = strstr(*s, from);
	cr_assert_not_null(at, "scripts/nginx/bunko.conf has no '%s'", from);
	char *out = ts_fmt("%.*s%s%s", (int)(at - *s), *s, to, at + strlen(from));
	free(*s);
	*s = out;
}

/* curl's status for a URL; headers and body into files under dir. */
static int curl(const char *dir, const char *url, const char *const *extra)
{
	const char *argv[32] = { "curl", "--http1.1", "-k", "-s", "-o", NULL, "-D", NULL, "-w", "%{http_code}" };
	int n = 10;
	char *body = ts_fmt("%s/body", dir), *head = ts_fmt("%s/head", dir);
	argv[5] = body;
	argv[7] = head;
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n++] = url;
	argv[n] = NULL;
	char *out = NULL;
	int rc = ts_run_argv(argv, &out, NULL);
	int status = rc == 0 && out ? atoi(out) : -1; /* -1: no answer (refused, cut) */
	free(out);
	free(body);
	free(head);
	return status;
}

Test(cli_serve, behind_nginx_with_tls, .timeout = 120)
{
	TS_NEED_TOOL("nginx");
	TS_NEED_TOOL("openssl");
	TS_NEED_TOOL("curl");
	char *dir = ts_fmt("%s-nginx-%d", archive, (int)getpid());
	ts_rmtree(dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	char *tmp = ts_fmt("%s/tmp", dir);
	cr_assert_eq(mkdir(tmp, 0777), 0);
	chmod(tmp, 0777);
	char *cmd = ts_fmt("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s/key.pem -out %s/cert.pem "
			   "-days 1 -subj /CN=localhost 2>&1", dir, dir);
	free(ts_run_ok(cmd));
	free(cmd);

	int http_port = free_port(), https_port = free_port();
	char *site_path = ts_fmt("%s/scripts/nginx/bunko.conf", BUNKO_SOURCE_DIR);
	char *site = ts_read(site_path, NULL);
	cr_assert_not_null(site);
	char *v;
	replace(&site, "server 127.0.0.1:8080;", v = ts_fmt("server 127.0.0.1:%d;", port)); free(v);
	replace(&site, "listen 80;", v = ts_fmt("listen 127.0.0.1:%d;", http_port)); free(v);
	replace(&site, "listen [::]:80;", "");
	replace(&site, "listen 443 ssl http2;", v = ts_fmt("listen 127.0.0.1:%d ssl http2;", https_port)); free(v);
	replace(&site, "listen [::]:443 ssl http2;", "");
	replace(&site, "/etc/ssl/certs/bunko.crt", v = ts_fmt("%s/cert.pem", dir)); free(v);
	replace(&site, "/etc/ssl/private/bunko.key", v = ts_fmt("%s/key.pem", dir)); free(v);
	char *site_file = ts_fmt("%s/site.conf", dir);
	cr_assert_eq(ts_write(site_file, site, strlen(site)), 0);
	char *conf = ts_fmt("worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\n"
			    "http {\n access_log off;\n client_body_temp_path %s;\n proxy_temp_path %s;\n"
			    " fastcgi_temp_path %s;\n uwsgi_temp_path %s;\n scgi_temp_path %s;\n include %s;\n}\n",
			    dir, dir, tmp, tmp, tmp, tmp, tmp, site_file);
	char *conf_file = ts_fmt("%s/nginx.conf", dir);
	cr_assert_eq(ts_write(conf_file, conf, strlen(conf)), 0);

	pid_t nginx = nginx_pid = fork();
	cr_assert_neq(nginx, -1);
	if (nginx == 0) {
		execlp("nginx", "nginx", "-p", dir, "-c", conf_file, "-g", "daemon off;", (char *)NULL);
		_exit(127);
	}
	char *base = ts_fmt("https://127.0.0.1:%d", https_port);
	char *url = ts_fmt("%s/", base);
	int status = 0;
	for (int i = 0; i < 100 && status != 200; i++) {
		status = curl(dir, url, NULL);
		if (status != 200)
			usleep(100000);
	}
	char *log = ts_fmt("%s/error.log", dir);
	char *errors = ts_read(log, NULL);
	cr_assert_eq(status, 200, "nginx did not answer: %s", errors ? errors : "");
	free(errors);
	free(log);
	char *head_path = ts_fmt("%s/head", dir), *body_path = ts_fmt("%s/body", dir);
	char *head, *body;
	size_t blen;

	cr_expect(strstr(head = ts_read(head_path, NULL), "Strict-Transport-Security: max-age="), "%s", head);
	free(head);

	/* plain HTTP goes to HTTPS */
	char *plain = ts_fmt("http://127.0.0.1:%d/search?q=x", http_port);
	cr_expect_eq(curl(dir, plain, NULL), 301);
	cr_expect(strstr(head = ts_read(head_path, NULL), "Location: https://127.0.0.1/search?q=x"), "%s", head);
	free(head);
	free(plain);

	/* the same answers as directly */
	char *q = ts_fmt("%s/search?q=%%E4%%BB%%A4%%E5%%92%%8C", base);
	cr_expect_eq(curl(dir, q, NULL), 200);
	body = ts_read(body_path, NULL);
	struct reply direct = search("令和", NULL);
	cr_expect_eq(data_total(body), data_total(direct.body));
	reply_free(&direct);
	free(body);
	free(q);
	char *hidden = ts_fmt("%s/doc/%s/page/1", base, secret_id);
	cr_expect_eq(curl(dir, hidden, NULL), 404);
	free(hidden);

	/* a PDF in byte ranges */
	char *pdf = ts_fmt("%s/doc/%s/pdf", base, reiki_id);
	const char *range[] = { "-H", "Range: bytes=0-99", NULL };
	cr_expect_eq(curl(dir, pdf, range), 206);
	body = ts_read(body_path, &blen);
	char *file = ts_fmt("%s/store/reiki/%s/data/document.pdf", archive, reiki_id);
	char *whole = ts_read(file, NULL);
	cr_expect(blen == 100 && !memcmp(body, whole, 100), "%zu bytes", blen);
	cr_expect(strstr(head = ts_read(head_path, NULL), "Content-Range: bytes 0-99/"), "%s", head);
	free(head);
	free(whole);
	free(file);
	free(body);
	free(pdf);

	/* cookies are Secure over TLS */
	char *login = ts_fmt("%s/login", base);
	cr_expect_eq(curl(dir, login, NULL), 200);
	cr_expect(strstr(head = ts_read(head_path, NULL), "SameSite=Strict; Secure"), "%s", head);
	free(head);

	/* oversized headers never reach bunko */
	char *big = malloc(40000);
	strcpy(big, "X-Big: ");
	memset(big + 7, 'a', 30000);
	big[30007] = '\0';
	const char *huge[] = { "-H", big, NULL };
	int st = curl(dir, url, huge);
	cr_expect(st == 400 || st == 431 || st == 494, "a 30 kB header answered %d", st);
	cr_expect_eq(curl(dir, url, NULL), 200, "nginx stopped answering");
	free(big);

	free(login);
	kill(nginx, SIGQUIT);
	int wst;
	waitpid(nginx, &wst, 0);
	nginx_pid = 0;
	free(head_path);
	free(body_path);
	free(url);
	free(base);
	free(conf_file);
	free(conf);
	free(site_file);
	free(site);
	free(site_path);
	free(tmp);
	ts_rmtree(dir);
	free(dir);
}

/* ---- deep zoom, and a third-party IIIF viewer -------------------------------------- */

static json_t *run_browser_script(const char *name, const char *const *args, int nargs)
{
	char *chromium = NULL;
	cr_assert_eq(ts_run("command -v chromium", &chromium, 0), 0);
	chromium[strcspn(chromium, "\n")] = '\0';
	char *script = ts_fmt("%s/tests/browser/%s", BUNKO_SOURCE_DIR, name);
	const char *argv[8] = { "node", script, chromium };
	for (int i = 0; i < nargs && i < 4; i++)
		argv[3 + i] = args[i];
	char *out = NULL, *err = NULL;
	int rc = ts_run_argv(argv, &out, &err);
	cr_assert_eq(rc, 0, "node %s: %s", script, err);
	json_error_t jerr;
	json_t *j = json_loads(out, 0, &jerr);
	cr_assert_not_null(j, "%s: %s", jerr.text, out);
	free(out);
	free(err);
	free(script);
	free(chromium);
	return j;
}

static void need_browser_modules(const char *module)
{
	char *modules = ts_fmt("%s/tests/browser/node_modules/%s", BUNKO_SOURCE_DIR, module);
	struct stat st;
	if (stat(modules, &st)) {
		if (ts_in_ci())
			cr_assert_fail("%s is missing (scripts/install-deps --tests runs npm ci)", modules);
		printf("skipped: %s is missing (scripts/install-deps --tests)\n", modules);
		free(modules);
		cr_skip_test("%s is not installed", module);
	}
	free(modules);
}

Test(cli_serve, deep_zoom_viewer_draws_hits_on_the_tiles, .timeout = 300)
{
	TS_NEED_TOOL("chromium");
	TS_NEED_TOOL("node");
	need_browser_modules("puppeteer-core");
	mkdir(BUNKO_ARTIFACTS_DIR, 0755);
	char *url = ts_fmt("http://127.0.0.1:%d/doc/%s/page/2?q=%%E4%%BB%%A4%%E5%%92%%8C", port, reiki_id);
	char *prefix = ts_fmt("%s/deepzoom", BUNKO_ARTIFACTS_DIR);
	const char *args[] = { url, prefix };
	json_t *j = run_browser_script("deepzoom.mjs", args, 2);
	cr_expect_eq(json_integer_value(json_object_get(j, "status")), 200);
	cr_expect_eq(json_array_size(json_object_get(j, "errors")), 0);
	cr_expect_eq(json_array_size(json_object_get(j, "tileErrors")), 0);
	cr_expect_gt(json_integer_value(json_object_get(j, "tiles")), 0);
	cr_expect_gt(json_integer_value(json_object_get(j, "zoomTiles")), 0, "no finer tiles after zooming");
	json_t *home = json_object_get(j, "home");
	cr_expect(!json_is_true(json_object_get(home, "svgShown")), "the plain image is still shown");
	json_t *ov = json_object_get(home, "overlays");
	cr_assert_gt(json_array_size(ov), 0);
	for (size_t i = 0; i < json_array_size(ov); i++) {
		json_t *o = json_array_get(ov, i), *s = json_object_get(o, "screen"), *e = json_object_get(o, "expect");
		const char *k[] = { "left", "top", "width", "height" };
		for (int n = 0; n < 4; n++)
			cr_expect(fabs(json_number_value(json_object_get(s, k[n])) -
				       json_number_value(json_object_get(e, k[n]))) < 1.5,
				  "overlay %zu %s off its box", i, k[n]);
		cr_expect_gt(json_number_value(json_object_get(o, "edgeRed")), 0.6, "overlay %zu not outlined", i);
	}
	json_t *zoomed = json_object_get(json_object_get(j, "zoom"), "overlays");
	json_t *cur = json_array_get(zoomed, 0);
	cr_expect(json_is_true(json_object_get(cur, "current")));
	cr_expect_gt(json_number_value(json_object_get(json_object_get(cur, "screen"), "width")), 60);
	cr_expect_gt(json_number_value(json_object_get(cur, "insideInk")), 0.05, "no characters under the zoomed hit");
	json_decref(j);
	free(url);
	free(prefix);
}

Test(cli_serve, mirador_shows_the_manifest_and_its_search_hits, .timeout = 300)
{
	TS_NEED_TOOL("chromium");
	TS_NEED_TOOL("node");
	need_browser_modules("mirador/package.json");
	int status;
	char *spath = ts_fmt("/iiif/%s/search1?q=%%E4%%BB%%A4%%E5%%92%%8C", reiki_id);
	json_t *s1 = get_json(spath, &status);
	cr_assert_eq(status, 200);
	size_t hits = json_array_size(json_object_get(s1, "hits"));
	cr_expect_gt(hits, 2);
	mkdir(BUNKO_ARTIFACTS_DIR, 0755);
	char *manifest = ts_fmt("http://127.0.0.1:%d/iiif/%s/manifest", port, reiki_id);
	char *shot = ts_fmt("%s/mirador.png", BUNKO_ARTIFACTS_DIR);
	const char *args[] = { manifest, "令和", shot };
	json_t *j = run_browser_script("mirador.mjs", args, 3);
	cr_expect_eq(json_array_size(json_object_get(j, "errors")), 0);
	cr_expect_eq((size_t)json_integer_value(json_object_get(j, "hitsListed")), hits);
	bool tile = false, search = false;
	json_t *asked = json_object_get(j, "asked");
	for (size_t i = 0; i < json_array_size(asked); i++) {
		const char *u = json_string_value(json_object_get(json_array_get(asked, i), "url"));
		int st = (int)json_integer_value(json_object_get(json_array_get(asked, i), "status"));
		cr_expect_eq(st, 200, "%s", u);
		tile |= strstr(u, "/default.jpg") != NULL;
		search |= strstr(u, "/search1?q=") != NULL;
	}
	cr_expect(tile && search, "Mirador asked for no tile or no search");
	cr_expect_gt(json_number_value(json_object_get(j, "imageInk")), 0.005, "the page is not drawn");
	cr_expect_gt(json_integer_value(json_object_get(json_object_get(j, "selected"), "n")), 5,
		     "the selected hit is not marked on the image");
	json_decref(j);
	json_decref(s1);
	free(spath);
	free(manifest);
	free(shot);
}

/* ---- an anonymous crawl ----------------------------------------------------------- */

#define CRAWL_MAX 900 /* fetches at most: every link of the test archive's site is well within */

struct crawl {
	char *seen[CRAWL_MAX * 8];
	int nseen, next;
};

/* Queues path (a site path; &amp; decoded, the fragment dropped) unless
 * seen. */
static void crawl_push(struct crawl *c, const char *start, size_t len)
{
	char *p = strndup(start, len), *o = p;
	for (const char *s = p; *s; s++) {
		if (!strncmp(s, "&amp;", 5)) {
			*o++ = '&';
			s += 4;
		} else if (*s == '#') {
			break;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	bool skip = p[0] != '/' || p[1] == '/' || !strncmp(p, "/logout", 7);
	for (int i = 0; i < c->nseen && !skip; i++)
		skip = !strcmp(c->seen[i], p);
	if (skip || c->nseen == (int)(sizeof(c->seen) / sizeof(c->seen[0])))
		free(p);
	else
		c->seen[c->nseen++] = p;
}

/* Every site link in a body: attributes ="/..." of HTML pages and the
 * "http://localhost/..." URLs of IIIF JSON. */
static void crawl_links(struct crawl *c, const char *body)
{
	const char *marks[] = { "=\"/", "\"http://localhost/" };
	for (int m = 0; m < 2; m++)
		for (const char *p = body; (p = strstr(p, marks[m])); p++) {
			const char *start = m == 0 ? p + 2 : p + strlen("\"http://localhost");
			crawl_push(c, start, strcspn(start, "\"<> "));
		}
}

/* The document id of /doc/ID/... or /iiif/ID/... into id (empty if none). */
static void crawl_doc_of(const char *path, char *id, size_t size)
{
	const char *p = !strncmp(path, "/doc/", 5) ? path + 5 : !strncmp(path, "/iiif/", 6) ? path + 6 : NULL;
	size_t n = p ? strcspn(p, "/?") : 0;
	snprintf(id, size, "%.*s", (int)(n < size ? n : size - 1), p ? p : "");
}

Test(cli_serve, an_anonymous_crawl_of_every_link_shows_nothing_hidden, .timeout = 300)
{
	static struct crawl c;
	const char *seeds[] = { "/", "/?lang=en", "/search?q=%E4%BB%A4%E5%92%8C", "/search?q=%E5%AD%A6%E3%81%B6",
				"/search?q=%E8%AD%B0%E6%A1%88", "/search?q=%E4%BE%8B%E8%A6%8F" };
	/* what only the hidden documents hold: their ids, titles and words */
	const char *hidden[] = { secret_id, restricted_id, "秘密文書", "非公開英文", "千代田区", "防災ポータル",
				 "Digitizing", "microfilm" };
	int docs_seen[2] = { 0, 0 }, kinds[6] = { 0 };
	const char *kind_tails[] = { "/image", "/thumb", "/manifest", "/pdf", "/text", "/alto" };
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		crawl_push(&c, seeds[i], strlen(seeds[i]));
	while (c.next < c.nseen && c.next < CRAWL_MAX) {
		const char *path = c.seen[c.next++];
		struct reply r = get(path);
		/* redirects, a search service asked nothing (400), missing pages */
		cr_expect(r.status >= 200 && r.status < 500, "%s: %d", path, r.status);
		for (size_t h = 0; h < sizeof(hidden) / sizeof(hidden[0]); h++) {
			cr_expect_null(memmem(r.body, r.len, hidden[h], strlen(hidden[h])),
				       "'%s' in the answer to %s", hidden[h], path);
			cr_expect_null(strstr(r.head, hidden[h]), "'%s' in the headers of %s", hidden[h], path);
		}
		char id[128];
		crawl_doc_of(path, id, sizeof(id));
		cr_expect(strcmp(id, secret_id) && strcmp(id, restricted_id), "a link to a hidden document: %s", path);
		docs_seen[0] += !strcmp(id, reiki_id);
		docs_seen[1] += !strcmp(id, gian_id);
		for (int k = 0; k < 6; k++) {
			const char *t = strstr(path, kind_tails[k]);
			kinds[k] += r.status == 200 && t && (t[strlen(kind_tails[k])] == '\0' || t[strlen(kind_tails[k])] == '?');
		}
		/* a redirect's target is a link too */
		const char *loc = strcasestr(r.head, "\nLocation: ");
		if (loc) {
			loc += 11;
			if (!strncmp(loc, "http://localhost", 16))
				loc += 16;
			crawl_push(&c, loc, strcspn(loc, "\r\n"));
		}
		if (r.status == 200 && (strstr(r.head, "text/html") || strstr(r.head, "json")))
			crawl_links(&c, r.body);
		reply_free(&r);
	}
	cr_expect_lt(c.next, CRAWL_MAX, "the crawl stopped at %d fetches with %d links left", c.next,
		     c.nseen - c.next);
	cr_log_info("crawled %d URLs", c.next);
	cr_expect_gt(c.next, 40, "only %d URLs crawled: the test proves little", c.next);
	cr_expect(docs_seen[0] && docs_seen[1], "the crawl missed a public document (%d, %d)", docs_seen[0],
		  docs_seen[1]);
	for (int k = 0; k < 6; k++)
		cr_expect_gt(kinds[k], 0, "the crawl fetched no %s", kind_tails[k]);
	for (int i = 0; i < c.nseen; i++)
		free(c.seen[i]);
}
