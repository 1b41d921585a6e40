/*
 * index/bench_index.c — bunko-bench-index: the index at archive scale.
 *
 *   bunko-bench-index --pages N --corpus DIR --out DIR [--queries Q] [--seed S]
 *                     [--no-build] [--json] [--verbose]
 *
 * Builds an index of N synthetic pages (about 1,500 characters each, made
 * by shuffling the sentences of the real corpus, the .txt files in DIR, with a fixed
 * seed; 50 pages a document, 90% public and 10% restricted) through
 * bk_index_rebuild, the same path `bunko reindex` takes, then runs Q
 * queries (default 210, a seventh each of the classes below, cut from the
 * corpus) with snippets and the default time limit, and reports build
 * time, index size against text size, and query latency percentiles
 * (p50, p95, worst) per class, for the hostile classes together and for
 * all, with the number of searches that ran out of time, as a table and
 * one machine-readable "BENCH ..." line; with --json, also one JSON object
 * on a line of its own (scripts/bench reads it): {"pages", "text_bytes",
 * "index_bytes", "build_seconds", "p50_ms", "p95_ms", "max_ms", "queries",
 * "truncated", "classes": [{"name", "queries", "truncated", "p50_ms",
 * "p95_ms", "max_ms"}]}. --verbose prints each query's time, matches and
 * pages read on stderr. --no-build queries the index a previous run left
 * in DIR. Index bytes are those of every level's current generation file
 * and its -wal (the build leaves no -wal).
 * Targets (2 cores, N = 627,944): build < 30 min, index < 1.5x text,
 * p95 < 100 ms.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bunko/fs.h"
#include "bunko/record.h"
#include "index/index.h"
#include "index/tokenizer.h"

#define PAGE_CHARS 1500
#define DOC_PAGES 50
#define NCLASSES 7

struct corpus {
	char **sent;
	size_t n, cap;
};

struct bench {
	struct corpus corpus;
	long pages;
	uint64_t rng;
	unsigned long long text_bytes;
	long fed;
};

/* The query mix: ordinary terms (2 and 4 characters, two words) and the
 * kinds chosen to hurt: one character (on most pages), a 3-character
 * phrase whose two bigrams are each on many pages but which is itself in
 * at most one sentence of the corpus (so most pages holding its bigrams
 * are decoys that only the text check rejects), an 8-character phrase,
 * and a term with a very common character excluded. */
enum { Q_ONE, Q_TWO, Q_FOUR, Q_WORDS, Q_RARE, Q_LONG, Q_NOT };
static const char *const class_names[NCLASSES] = { "1-char", "2-char", "4-char", "2 words",
						   "rare phrase", "8-char", "NOT common" };

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int add_sentence(struct corpus *c, const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\n'))
		s++, len--;
	if (len < 6)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		char **grown = realloc(c->sent, cap * sizeof(*grown));
		if (!grown)
			return -1;
		c->sent = grown;
		c->cap = cap;
	}
	return (c->sent[c->n++] = strndup(s, len)) ? 0 : -1;
}

/* Splits a file into sentences: after 。 or at line ends. */
static int load_file(struct corpus *c, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0;
	if (!fp)
		return -1;
	ssize_t len = getdelim(&text, &cap, '\0', fp);
	fclose(fp);
	if (len < 0) {
		free(text);
		return -1;
	}
	size_t start = 0;
	for (size_t i = 0; i < (size_t)len; i++) {
		bool stop = text[i] == '\n' || (i >= 2 && !memcmp(text + i - 2, "。", 3));
		if (stop) {
			if (add_sentence(c, text + start, i + 1 - start)) {
				free(text);
				return -1;
			}
			start = i + 1;
		}
	}
	int rc = add_sentence(c, text + start, (size_t)len - start);
	free(text);
	return rc;
}

/* The .txt files of `dir` in name order (bk_list_dir), so that a seed
 * makes the same pages whatever order the file system lists them in. */
static int load_corpus(struct corpus *c, const char *dir)
{
	struct bk_error err;
	char **names = NULL;
	size_t count = 0;
	int rc = -1;

	bk_error_init(&err);
	if (bk_list_dir(dir, &names, &count, &err)) {
		fprintf(stderr, "bunko-bench-index: %s\n", err.msg);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		size_t n = strlen(names[i]);
		if (n < 5 || strcmp(names[i] + n - 4, ".txt"))
			continue;
		char *path = bk_path_join(dir, names[i]);
		if (!path || load_file(c, path)) {
			fprintf(stderr, "bunko-bench-index: cannot read '%s/%s'\n", dir, names[i]);
			free(path);
			goto out;
		}
		free(path);
	}
	if (!c->n) {
		fprintf(stderr, "bunko-bench-index: no sentences in the .txt files of '%s'\n", dir);
		goto out;
	}
	rc = 0;
out:
	bk_names_free(names, count);
	return rc;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Fills buf with shuffled sentences up to PAGE_CHARS characters. */
static void make_page(struct bench *b, char *buf, size_t cap)
{
	size_t len = 0, chars = 0;
	buf[0] = '\0';
	while (chars < PAGE_CHARS) {
		const char *s = b->corpus.sent[next_rand(&b->rng) % b->corpus.n];
		size_t n = strlen(s);
		if (len + n + 2 >= cap)
			break;
		memcpy(buf + len, s, n);
		len += n;
		buf[len++] = '\n';
		buf[len] = '\0';
		chars += utf8_chars(s) + 1;
	}
}

static int feed(struct bk_index *building, void *ud, struct bk_error *err)
{
	struct bench *b = ud;
	static const char *const colls[] = { "reiki", "gian", "kokuji", "kushi" };
	char *pages[DOC_PAGES];
	int rc = -1;

	for (int i = 0; i < DOC_PAGES; i++)
		if (!(pages[i] = malloc(16384)))
			return bk_error_set(err, "out of memory");
	double t0 = now();
	for (long doc = 0; b->fed < b->pages; doc++) {
		int n = b->pages - b->fed < DOC_PAGES ? (int)(b->pages - b->fed) : DOC_PAGES;
		for (int i = 0; i < n; i++) {
			make_page(b, pages[i], 16384);
			b->text_bytes += strlen(pages[i]);
		}
		char id[32], date[16], pdf[96];
		snprintf(id, sizeof(id), "d%07ld", doc);
		snprintf(date, sizeof(date), "%04d-%02d-01", (int)(1950 + doc % 70), (int)(1 + doc % 12));
		snprintf(pdf, sizeof(pdf), "store/%s/%s/data/document.pdf", colls[doc % 4], id);
		struct bk_index_doc d = { id, colls[doc % 4], "ベンチマーク文書", date, pdf,
					  BK_PROFILE_RECORD,
					  doc % 10 == 9 ? BK_ACCESS_RESTRICTED : BK_ACCESS_PUBLIC,
					  (const char *const *)pages, n };
		if (bk_index_put(building, &d, err))
			goto out;
		b->fed += n;
		if (doc % 200 == 0)
			fprintf(stderr, "\r%ld pages, %.0f s", b->fed, now() - t0);
	}
	fprintf(stderr, "\n");
	rc = 0;
out:
	for (int i = 0; i < DOC_PAGES; i++)
		free(pages[i]);
	return rc;
}

/* Cuts `nchars` consecutive Japanese characters out of a random sentence. */
static int japanese_term(struct bench *b, int nchars, char *out, size_t cap)
{
	for (int tries = 0; tries < 10000; tries++) {
		const char *s = b->corpus.sent[next_rand(&b->rng) % b->corpus.n];
		size_t len = strlen(s), at = next_rand(&b->rng) % len;
		while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
			at--;
		size_t i = at;
		int got = 0;
		while (got < nchars && s[i]) {
			unsigned char c = (unsigned char)s[i];
			int n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
			int cp = n == 3 ? ((c & 0x0f) << 12) | ((s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f) : 0;
			if (!bk_is_japanese(cp))
				break;
			i += (size_t)n;
			got++;
		}
		if (got == nchars && i - at < cap) {
			snprintf(out, cap, "%.*s", (int)(i - at), s + at);
			return 0;
		}
	}
	return -1;
}

/* Sentences of the corpus that contain `s`. */
static size_t sentences_with(const struct corpus *c, const char *s)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += strstr(c->sent[i], s) != NULL;
	return n;
}

/* A phrase "ABC" whose bigrams AB and BC are each in at least 5% of the
 * corpus's sentences but which is in at most one. */
static int rare_phrase(struct bench *b, char *out, size_t cap)
{
	const struct corpus *c = &b->corpus;
	size_t common = c->n / 20 > 2 ? c->n / 20 : 2;
	for (int tries = 0; tries < 2000; tries++) {
		char ab[16];
		if (japanese_term(b, 2, ab, sizeof(ab)) || sentences_with(c, ab) < common)
			continue;
		const char *second = ab + (((unsigned char)ab[0] < 0xe0) ? 2 : 3);
		size_t blen = strlen(second);
		/* every C that follows B somewhere in the corpus */
		for (size_t i = 0; i < c->n; i++) {
			for (const char *p = c->sent[i]; (p = strstr(p, second)); p += blen) {
				const char *nx = p + blen;
				if (((unsigned char)*nx & 0xf0) != 0xe0)
					continue;
				int cp = ((nx[0] & 0x0f) << 12) | ((nx[1] & 0x3f) << 6) | (nx[2] & 0x3f);
				if (!bk_is_japanese(cp))
					continue;
				char bc[16], abc[24];
				snprintf(bc, sizeof(bc), "%.*s", (int)(blen + 3), p);
				snprintf(abc, sizeof(abc), "%s%.3s", ab, nx);
				if (sentences_with(c, bc) >= common && sentences_with(c, abc) <= 1 &&
				    strlen(abc) + 3 < cap) {
					snprintf(out, cap, "\"%s\"", abc);
					return 0;
				}
			}
		}
	}
	return -1;
}

/* One of the five commonest Japanese characters of the corpus. */
static int common_char(struct bench *b, char *out, size_t cap)
{
	char best[5][8] = { { 0 } };
	size_t best_n[5] = { 0 };
	for (int tries = 0; tries < 300; tries++) {
		char ch[8];
		if (japanese_term(b, 1, ch, sizeof(ch)))
			continue;
		size_t n = sentences_with(&b->corpus, ch);
		bool dup = false;
		for (int k = 0; k < 5; k++)
			dup |= !strcmp(best[k], ch);
		for (int k = 0; k < 5 && !dup; k++)
			if (n > best_n[k]) {
				memmove(best + k + 1, best + k, (size_t)(4 - k) * sizeof(best[0]));
				memmove(best_n + k + 1, best_n + k, (size_t)(4 - k) * sizeof(best_n[0]));
				snprintf(best[k], sizeof(best[k]), "%s", ch);
				best_n[k] = n;
				break;
			}
	}
	const char *pick = best[next_rand(&b->rng) % 5];
	if (!*pick)
		return -1;
	snprintf(out, cap, "%s", pick);
	return 0;
}

/* Makes a query of class `cls` in q (cap: at least 80 bytes). */
static int make_query(struct bench *b, int cls, char *q, size_t cap)
{
	char w1[32], w2[32];
	switch (cls) {
	case Q_ONE: return japanese_term(b, 1, q, cap);
	case Q_TWO: return japanese_term(b, 2, q, cap);
	case Q_FOUR: return japanese_term(b, 4, q, cap);
	case Q_LONG: return japanese_term(b, 8, q, cap);
	case Q_RARE: return rare_phrase(b, q, cap);
	case Q_WORDS:
		if (japanese_term(b, 2, w1, sizeof(w1)) || japanese_term(b, 2, w2, sizeof(w2)))
			return -1;
		snprintf(q, cap, "%s %s", w1, w2);
		return 0;
	default:
		if (japanese_term(b, 2, w1, sizeof(w1)) || common_char(b, w2, sizeof(w2)))
			return -1;
		snprintf(q, cap, "%s -%s", w1, w2);
		return 0;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double percentile(const double *v, int n, double p)
{
	if (!n)
		return 0;
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

static int count_hit(const struct bk_search_hit *h, void *ud)
{
	(*(long *)ud)++;
	return 0;
}

static unsigned long long index_bytes(const char *dir)
{
	static const char *const names[] = { "public.db", "restricted.db", "confidential.db" };
	unsigned long long total = 0;
	for (int i = 0; i < 3; i++) {
		char path[4200];
		struct stat st;
		snprintf(path, sizeof(path), "%.4000s/%s", dir, names[i]);
		if (stat(path, &st) == 0)
			total += (unsigned long long)st.st_size;
		char *real = realpath(path, NULL);
		if (real) {
			snprintf(path, sizeof(path), "%.4000s-wal", real);
			if (stat(path, &st) == 0)
				total += (unsigned long long)st.st_size;
			free(real);
		}
	}
	return total;
}

static int run_queries(struct bench *b, const char *idxdir, int nq, double *lat[NCLASSES],
		       int nlat[NCLASSES], int ntrunc[NCLASSES], long *total_hits, bool verbose)
{
	struct bk_index *idx = NULL;
	struct bk_error err;
	bk_error_init(&err);
	if (bk_index_open(&idx, idxdir, BK_ROLE_STAFF, false, &err)) {
		fprintf(stderr, "bunko-bench-index: %s\n", err.msg);
		return -1;
	}
	for (int i = 0; i < nq; i++) {
		int cls = i % NCLASSES;
		char q[160];
		if (make_query(b, cls, q, sizeof(q)))
			continue;
		struct bk_search_query sq = { q, NULL, NULL, NULL, NULL, 20, BK_SORT_RELEVANCE, NULL };
		struct bk_search_info info;
		double t0 = now();
		if (bk_index_search_timed(idx, &sq, -1, count_hit, total_hits, &info, &err)) {
			fprintf(stderr, "bunko-bench-index: query '%s': %s\n", q, err.msg);
			bk_index_free(&idx);
			return -1;
		}
		double ms = (now() - t0) * 1000;
		lat[cls][nlat[cls]++] = ms;
		ntrunc[cls] += info.truncated;
		if (verbose)
			fprintf(stderr, "%-12s %-28s %9.2f ms %8ld matches %8ld checked%s\n",
				class_names[cls], q, ms, info.matches, info.examined,
				info.truncated ? " TRUNCATED" : "");
	}
	bk_index_free(&idx);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: bunko-bench-index --pages N --corpus DIR --out DIR "
			"[--queries Q] [--seed S] [--no-build] [--json] [--verbose]\n");
	return 2;
}

/* p50_ms, p95_ms and max_ms of `n` sorted latencies, to 0.01 ms. */
static int set_latency(struct bk_record *r, const double *ms, int n)
{
	return bk_record_set_real(r, "p50_ms", round(percentile(ms, n, 0.5) * 100) / 100) |
	       bk_record_set_real(r, "p95_ms", round(percentile(ms, n, 0.95) * 100) / 100) |
	       bk_record_set_real(r, "max_ms", round((n ? ms[n - 1] : 0) * 100) / 100);
}

/* The --json line (see the top of the file), through bunko/record.h. */
static int print_json(const struct bench *b, unsigned long long ibytes, double build_s,
		      double *const *lat, const int *nlat, const int *ntrunc,
		      const double *all, int nall, int trunc, const double *hostile,
		      int nhostile)
{
	struct bk_record *r = bk_record_new(NULL), *h, *c;
	int bad = !r;

	if (r) {
		bad |= bk_record_set_int(r, "pages", b->pages);
		bad |= bk_record_set_int(r, "text_bytes", (long long)b->text_bytes);
		bad |= bk_record_set_int(r, "index_bytes", (long long)ibytes);
		bad |= bk_record_set_real(r, "build_seconds", round(build_s * 10) / 10);
		bad |= set_latency(r, all, nall);
		bad |= bk_record_set_int(r, "queries", nall);
		bad |= bk_record_set_int(r, "truncated", trunc);
		bad |= !(h = bk_record_set_object(r, "hostile"));
		if (h) {
			bad |= bk_record_set_int(h, "queries", nhostile);
			bad |= set_latency(h, hostile, nhostile);
		}
		bad |= bk_record_set_array(r, "classes");
	}
	for (int k = 0; r && k < NCLASSES; k++) {
		bad |= !(c = bk_record_add_object(r, "classes"));
		if (!c)
			break;
		bad |= bk_record_set_str(c, "name", class_names[k]);
		bad |= bk_record_set_int(c, "queries", nlat[k]);
		bad |= bk_record_set_int(c, "truncated", ntrunc[k]);
		bad |= set_latency(c, lat[k], nlat[k]);
	}
	if (bad || bk_record_print(r, stdout, false)) {
		fprintf(stderr, "bunko-bench-index: cannot print the JSON line\n");
		bad = 1;
	}
	bk_record_free(&r);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct bench b = { .rng = 0x9e3779b97f4a7c15ULL };
	const char *corpus = NULL, *out = NULL;
	int nq = 210;
	bool build = true, json = false, verbose = false;

	static const struct option longopts[] = {
		{ "pages", required_argument, NULL, 'p' },
		{ "corpus", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "queries", required_argument, NULL, 'q' },
		{ "seed", required_argument, NULL, 's' },
		{ "no-build", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 }
	};
	int opt;
	/* long options only: "" as the short ones; an unknown option, a
	 * missing value or an argument is the usage line */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': b.pages = atol(optarg); break;
		case 'c': corpus = optarg; break;
		case 'o': out = optarg; break;
		case 'q': nq = atoi(optarg); break;
		case 's': b.rng = strtoull(optarg, NULL, 0) | 1; break;
		case 'n': build = false; break;
		case 'j': json = true; break;
		case 'v': verbose = true; break;
		default: return usage();
		}
	}
	if (optind < argc)
		return usage();
	if (b.pages <= 0 || !corpus || !out || nq <= 0)
		return usage();
	if (load_corpus(&b.corpus, corpus))
		return 1;
	char idxdir[4096];
	snprintf(idxdir, sizeof(idxdir), "%s/index", out);
	mkdir(out, 0755);

	struct bk_error err;
	bk_error_init(&err);
	double t0 = now(), build_s = 0;
	if (build) {
		if (bk_index_rebuild(idxdir, NULL, feed, &b, &err)) {
			fprintf(stderr, "bunko-bench-index: %s\n", err.msg);
			return 1;
		}
		build_s = now() - t0;
	} else {
		/* text size must be recomputed: regenerate pages without indexing */
		char page[16384];
		for (long i = 0; i < b.pages; i++) {
			make_page(&b, page, sizeof(page));
			b.text_bytes += strlen(page);
		}
	}
	unsigned long long ibytes = index_bytes(idxdir);

	double *lat[NCLASSES], all[4096], hostile[4096];
	int nlat[NCLASSES] = { 0 }, ntrunc[NCLASSES] = { 0 }, nall = 0, nhostile = 0, trunc = 0;
	long hits = 0;
	for (int c = 0; c < NCLASSES; c++)
		lat[c] = calloc((size_t)nq, sizeof(double));
	if (run_queries(&b, idxdir, nq, lat, nlat, ntrunc, &hits, verbose))
		return 1;
	printf("pages %ld, text %.1f MB, index %.1f MB (%.2fx text), build %.1f s (%.0f pages/s)\n",
	       b.pages, b.text_bytes / 1e6, ibytes / 1e6, (double)ibytes / (double)b.text_bytes,
	       build_s, build_s > 0 ? b.pages / build_s : 0);
	printf("%-12s %7s %9s %9s %9s %9s\n", "query", "count", "truncated", "p50 ms", "p95 ms",
	       "max ms");
	for (int c = 0; c < NCLASSES; c++) {
		qsort(lat[c], (size_t)nlat[c], sizeof(double), cmp_double);
		printf("%-12s %7d %9d %9.2f %9.2f %9.2f\n", class_names[c], nlat[c], ntrunc[c],
		       percentile(lat[c], nlat[c], 0.5), percentile(lat[c], nlat[c], 0.95),
		       nlat[c] ? lat[c][nlat[c] - 1] : 0);
		bool hurts = c == Q_ONE || c == Q_RARE || c == Q_LONG || c == Q_NOT;
		for (int i = 0; i < nlat[c] && nall < 4096; i++) {
			all[nall++] = lat[c][i];
			if (hurts)
				hostile[nhostile++] = lat[c][i];
		}
		trunc += ntrunc[c];
	}
	qsort(all, (size_t)nall, sizeof(double), cmp_double);
	qsort(hostile, (size_t)nhostile, sizeof(double), cmp_double);
	printf("%-12s %7d %9s %9.2f %9.2f %9.2f\n", "hostile", nhostile, "",
	       percentile(hostile, nhostile, 0.5), percentile(hostile, nhostile, 0.95),
	       nhostile ? hostile[nhostile - 1] : 0);
	printf("%-12s %7d %9d %9.2f %9.2f %9.2f\n", "all", nall, trunc, percentile(all, nall, 0.5),
	       percentile(all, nall, 0.95), nall ? all[nall - 1] : 0);
	printf("BENCH pages=%ld text_bytes=%llu index_bytes=%llu ratio=%.3f build_s=%.1f "
	       "queries=%d truncated=%d p50_ms=%.2f p95_ms=%.2f max_ms=%.2f hostile_p95_ms=%.2f "
	       "hits=%ld\n",
	       b.pages, b.text_bytes, ibytes, (double)ibytes / (double)b.text_bytes, build_s, nall,
	       trunc, percentile(all, nall, 0.5), percentile(all, nall, 0.95),
	       nall ? all[nall - 1] : 0, percentile(hostile, nhostile, 0.95), hits);
	if (json && print_json(&b, ibytes, build_s, lat, nlat, ntrunc, all, nall, trunc,
			       hostile, nhostile))
		return 1;
	for (int c = 0; c < NCLASSES; c++)
		free(lat[c]);
	return 0;
}
