/*
 * tests/test_archive_store.c — the archive store end to end on a real
 * filesystem: a document staged, committed, found again with its metadata,
 * its masters byte-identical (checked against the real `sha256sum`), its
 * page models readable; re-commits replacing without duplicates; fixity
 * verification catching a flipped byte, a deleted file and an added one;
 * abandoned stages and crash leftovers cleaned up; bad names refused.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bunko/atomic.h"
#include "archive/checksum.h"
#include "archive/meta.h"
#include "archive/store.h"
#include "bunko/page.h"
#include "test_support.h"

static char *scratch, *archive;
static struct bk_store *store;

static void setup(void)
{
	struct bk_error err;

	bk_error_init(&err);
	scratch = ts_mkdtemp("store");
	cr_assert_not_null(scratch);
	cr_assert(asprintf(&archive, "%s/archive", scratch) > 0);
	cr_assert_eq(bk_archive_init(archive, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_store_open(&store, archive, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
	bk_store_free(&store);
	ts_rmtree(scratch);
	free(archive);
	free(scratch);
}

TestSuite(store, .init = setup, .fini = teardown);


/* A scan to store as a master: a real sample if the generator has made
 * it, else pseudo-random bytes (a master is opaque bytes to the store). */
static char *make_master(const char *name, size_t size, unsigned seed)
{
	char *sample = ts_sample("h-reiki.tif");
	char *path = ts_fmt("%s/%s", scratch, name);
	size_t len = 0;
	char *bytes = sample && seed == 1 ? ts_read(sample, &len) : NULL;

	if (!bytes || !len) {
		free(bytes);
		bytes = malloc(size);
		cr_assert_not_null(bytes);
		srand(seed);
		for (size_t i = 0; i < size; i++)
			bytes[i] = (char)(rand() >> 7);
		len = size;
	}
	cr_assert_eq(ts_write(path, bytes, len), 0);
	free(bytes);
	free(sample);
	return path;
}

static void fill_meta(struct bk_doc_meta *m, const char *coll, const char *id)
{
	struct bk_error err;

	bk_doc_meta_init(m);
	cr_assert_eq(bk_doc_meta_set(&m->collection, coll, &err), 0);
	cr_assert_eq(bk_doc_meta_set(&m->id, id, &err), 0);
	cr_assert_eq(bk_doc_meta_set(&m->title, "東京市區例規集 第三巻: 區會議事規則", &err), 0);
	cr_assert_eq(bk_doc_meta_set(&m->date, "1923-09", &err), 0);
	cr_assert_eq(bk_doc_meta_set(&m->lang, "jpn+jpn_vert", &err), 0);
	cr_assert_eq(bk_doc_meta_set(&m->software, "bunko 0.1.0; tesseract 5.3.0", &err), 0);
	m->box = 12;
	m->volume = 3;
	m->profile = BK_PROFILE_BYLAW;
	m->access = BK_ACCESS_RESTRICTED;
	m->npages = 2;
}

static void write_staged(struct bk_doc_stage *st, const char *rel,
			 const char *text)
{
	char *path = bk_doc_stage_path(st, rel);
	cr_assert_not_null(path, "stage path for '%s': %s", rel, strerror(errno));
	cr_assert_eq(ts_write(path, text, strlen(text)), 0);
	free(path);
}

static void write_page_model(struct bk_doc_stage *st, int number,
			     const char *word)
{
	struct bk_page page;
	char rel[64];

	bk_page_init(&page);
	page.width = 2480;
	page.height = 3508;
	page.xres = page.yres = 300;
	page.number = number;
	struct bk_block *b = bk_page_add_block(&page, (struct bk_box){ 100, 100, 900, 300 },
					       BK_DIR_VERTICAL, "jpn_vert");
	struct bk_line *l = bk_block_add_line(b, (struct bk_box){ 100, 100, 200, 300 },
					      BK_DIR_VERTICAL);
	cr_assert_not_null(bk_line_add_word(l, (struct bk_box){ 100, 100, 200, 200 }, 91.5f,
					    word, strlen(word)));
	snprintf(rel, sizeof(rel), "data/pages/%04d.page", number);
	char *path = bk_doc_stage_path(st, rel);
	FILE *fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	cr_assert_eq(bk_page_write(&page, fp), 0);
	cr_assert_eq(fclose(fp), 0);
	free(path);
	bk_page_release(&page);
}

/* Stages and commits one document: a master, a PDF-like file, a text
 * sidecar and two page models. */
static void store_doc(const char *coll, const char *id, const char *master,
		      const char *pdf_text)
{
	struct bk_doc_meta meta;
	struct bk_doc_stage *st = NULL;
	struct bk_error err;

	bk_error_init(&err);
	fill_meta(&meta, coll, id);
	cr_assert_eq(bk_store_stage(store, &meta, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_doc_stage_add_master(st, master, &err), 0, "%s", err.msg);
	write_staged(st, "data/document.pdf", pdf_text);
	write_staged(st, "data/text.txt", "區會議事規則\n");
	write_page_model(st, 1, "區");
	write_page_model(st, 2, "會");
	cr_assert_eq(bk_store_commit(&st, &err), 0, "%s", err.msg);
	cr_assert_null(st);
	bk_doc_meta_release(&meta);
}

/* What bk_store_foreach saw. */
struct seen {
	struct bk_doc_meta metas[8];
	char *dirs[8];
	int n;
	int stop_after;
};

static int collect(const struct bk_doc_meta *meta, const char *doc_dir, void *ud)
{
	struct seen *s = ud;
	struct bk_error err;

	cr_assert_lt(s->n, 8);
	cr_assert_eq(bk_doc_meta_copy(&s->metas[s->n], meta, &err), 0);
	s->dirs[s->n] = strdup(doc_dir);
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 42 : 0;
}

static void seen_release(struct seen *s)
{
	for (int i = 0; i < s->n; i++) {
		bk_doc_meta_release(&s->metas[i]);
		free(s->dirs[i]);
	}
	s->n = 0;
}

/* Findings of one verify run, as "kind path" lines. */
struct findings {
	char *lines[32];
	int n;
};

static int record(const char *kind, const char *path, void *ud)
{
	struct findings *f = ud;
	cr_assert_lt(f->n, 32);
	cr_assert(asprintf(&f->lines[f->n++], "%s %s", kind, path) > 0);
	return 0;
}

static int has_finding(const struct findings *f, const char *line)
{
	for (int i = 0; i < f->n; i++)
		if (!strcmp(f->lines[i], line))
			return 1;
	return 0;
}

static void findings_release(struct findings *f)
{
	for (int i = 0; i < f->n; i++)
		free(f->lines[i]);
	f->n = 0;
}

static void verify(struct findings *f, struct bk_verify_stats *stats)
{
	struct bk_error err;

	bk_error_init(&err);
	cr_assert_eq(bk_store_verify_collection(store, NULL, record, f, stats, &err), 0,
		     "%s", err.msg);
}

/* The hex digest `sha256sum` (coreutils) prints for a file. */
static char *tool_sha256(const char *path)
{
	char *cmd = ts_fmt("sha256sum '%s'", path);
	char *out = NULL;
	cr_assert_eq(ts_run(cmd, &out, 0), 0);
	cr_assert_geq(strlen(out), BK_SHA256_HEX_LEN);
	out[BK_SHA256_HEX_LEN] = '\0';
	free(cmd);
	return out;
}

static int staging_entries(const char *coll)
{
	char *cmd = ts_fmt("ls -A '%s/store/.staging/%s' 2>/dev/null | wc -l", archive, coll);
	char *out = NULL;
	ts_run(cmd, &out, 0);
	int n = atoi(out);
	free(out);
	free(cmd);
	return n;
}

/*
 * A BagIt validator written separately in Python (hashlib, not libcrypto):
 * bagit.txt as RFC 8493 requires, every manifest line's checksum, decoded
 * paths, no payload file left out of the manifest, Payload-Oxum, and the tag
 * manifest. Prints "ok" or what is wrong.
 */
static const char bag_check_py[] =
	"import hashlib, os, re, sys\n"
	"bag = sys.argv[1]\n"
	"def dec(p):\n"
	"    return re.sub('%(0[AaDd]|25)', lambda m: {'0a':'\\n','0d':'\\r','25':'%'}[m.group(1).lower()], p)\n"
	"def sha(p):\n"
	"    h = hashlib.sha256()\n"
	"    with open(os.path.join(bag, p), 'rb') as f:\n"
	"        for b in iter(lambda: f.read(65536), b''): h.update(b)\n"
	"    return h.hexdigest()\n"
	"def manifest(name):\n"
	"    out = {}\n"
	"    for line in open(os.path.join(bag, name), encoding='utf-8').read().split('\\n'):\n"
	"        if not line: continue\n"
	"        digest, path = re.match(r'([0-9a-f]{64}) +(.+)$', line).groups()\n"
	"        out[dec(path)] = digest\n"
	"    return out\n"
	"bagit = open(os.path.join(bag, 'bagit.txt'), encoding='utf-8').read()\n"
	"assert bagit == 'BagIt-Version: 1.0\\nTag-File-Character-Encoding: UTF-8\\n', bagit\n"
	"payload = manifest('manifest-sha256.txt')\n"
	"on_disk = set()\n"
	"for root, dirs, files in os.walk(os.path.join(bag, 'data')):\n"
	"    for f in files: on_disk.add(os.path.relpath(os.path.join(root, f), bag))\n"
	"assert on_disk == set(payload), (on_disk, set(payload))\n"
	"for p, d in payload.items(): assert sha(p) == d, p\n"
	"info = dict(l.split(': ', 1) for l in open(os.path.join(bag, 'bag-info.txt'), encoding='utf-8').read().splitlines())\n"
	"octets = sum(os.path.getsize(os.path.join(bag, p)) for p in payload)\n"
	"assert info['Payload-Oxum'] == '%d.%d' % (octets, len(payload)), info['Payload-Oxum']\n"
	"tags = manifest('tagmanifest-sha256.txt')\n"
	"assert set(tags) == {'bagit.txt', 'bag-info.txt', 'manifest-sha256.txt'}, tags\n"
	"for p, d in tags.items(): assert sha(p) == d, p\n"
	"print('ok')\n";

static void bag_check_independently(const char *coll, const char *id)
{
	char *script = ts_fmt("%s/bag_check.py", scratch);
	char *cmd = ts_fmt("/usr/bin/python3 '%s' '%s/store/%s/%s'", script, archive, coll, id);
	char *out = NULL;

	cr_assert_eq(ts_write(script, bag_check_py, strlen(bag_check_py)), 0);
	cr_assert_eq(ts_run(cmd, &out, 1), 0, "bag check: %s", out);
	cr_assert_str_eq(out, "ok\n");
	free(out);
	free(cmd);
	free(script);
}

Test(store, round_trip_keeps_metadata_masters_and_pages)
{
	char *master = make_master("box12 第3巻.tif", 300 * 1024 + 17, 1);
	struct seen seen = { 0 };
	struct bk_error err;

	bk_error_init(&err);
	store_doc("例規集", "job-7-0001", master, "%PDF-1.7\n% fake but opaque\n");

	cr_assert_eq(bk_store_foreach(store, NULL, collect, &seen, &err), 0, "%s", err.msg);
	cr_assert_eq(seen.n, 1);
	const struct bk_doc_meta *m = &seen.metas[0];
	cr_assert_str_eq(m->id, "job-7-0001");
	cr_assert_str_eq(m->collection, "例規集");
	cr_assert_str_eq(m->title, "東京市區例規集 第三巻: 區會議事規則");
	cr_assert_str_eq(m->date, "1923-09");
	cr_assert_str_eq(m->lang, "jpn+jpn_vert");
	cr_assert_str_eq(m->software, "bunko 0.1.0; tesseract 5.3.0");
	cr_assert_eq(m->box, 12);
	cr_assert_eq(m->volume, 3);
	cr_assert_eq(m->profile, BK_PROFILE_BYLAW);
	cr_assert_eq(m->access, BK_ACCESS_RESTRICTED);
	cr_assert_eq(m->npages, 2);
	cr_assert_eq(m->nsources, 1);
	cr_assert_str_eq(m->sources[0], "box12 第3巻.tif");
	cr_assert_not_null(m->created);
	cr_assert_eq(strlen(m->created), 20, "created '%s'", m->created);

	/* the master, byte for byte: the real sha256sum agrees on both copies,
	 * and the manifest lists that same digest */
	char *stored = ts_fmt("%s/data/masters/%s", seen.dirs[0], "box12 第3巻.tif");
	char *want = tool_sha256(master), *got = tool_sha256(stored);
	cr_assert_str_eq(got, want);
	char *manifest_path = ts_fmt("%s/%s", seen.dirs[0], "manifest-sha256.txt");
	char *manifest = ts_read(manifest_path, NULL);
	char *line = ts_fmt("%s  data/masters/%s\n", want, "box12 第3巻.tif");
	cr_assert_not_null(strstr(manifest, line), "%s", manifest);

	/* BagIt declaration and the page models a reindex will read */
	char *bagit_path = ts_fmt("%s/%s", seen.dirs[0], "bagit.txt");
	char *bagit = ts_read(bagit_path, NULL);
	cr_assert_str_eq(bagit, "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
	char *page_path = ts_fmt("%s/%s", seen.dirs[0], "data/pages/0002.page");
	FILE *fp = fopen(page_path, "rb");
	cr_assert_not_null(fp);
	struct bk_page page;
	cr_assert_eq(bk_page_read(&page, fp, page_path, &err), 0, "%s", err.msg);
	char *text = bk_page_text(&page);
	cr_assert_not_null(strstr(text, "會"));
	fclose(fp);
	bk_page_release(&page);

	/* read back by name, and nothing left in staging */
	struct bk_doc_meta direct;
	cr_assert_eq(bk_store_read_meta(store, "例規集", "job-7-0001", &direct, &err), 0,
		     "%s", err.msg);
	cr_assert_str_eq(direct.title, m->title);
	bk_doc_meta_release(&direct);
	cr_assert_eq(staging_entries("例規集"), 0);

	bag_check_independently("例規集", "job-7-0001");
	struct findings f = { 0 };
	struct bk_verify_stats stats;
	verify(&f, &stats);
	cr_assert_eq(f.n, 0, "unexpected finding: %s", f.n ? f.lines[0] : "");
	cr_assert_eq(stats.documents, 1);
	cr_assert_eq(stats.files, 5 + 3, "payload 5, tag files 3");

	free(text);
	free(page_path);
	free(bagit);
	free(bagit_path);
	free(line);
	free(manifest);
	free(manifest_path);
	free(want);
	free(got);
	free(stored);
	free(master);
	seen_release(&seen);
}

Test(store, recommit_replaces_without_duplicates)
{
	char *master = make_master("scan.tif", 5000, 2);
	struct seen seen = { 0 };
	struct bk_error err;

	bk_error_init(&err);
	store_doc("議案", "job-3-0001", master, "first version");
	store_doc("議案", "job-3-0001", master, "second version, longer");
	store_doc("議案", "job-3-0002", master, "another document");

	cr_assert_eq(bk_store_foreach(store, "議案", collect, &seen, &err), 0, "%s", err.msg);
	cr_assert_eq(seen.n, 2);
	cr_assert_str_eq(seen.metas[0].id, "job-3-0001");
	cr_assert_str_eq(seen.metas[1].id, "job-3-0002");
	char *pdf = ts_fmt("%s/%s", seen.dirs[0], "data/document.pdf");
	char *content = ts_read(pdf, NULL);
	cr_assert_str_eq(content, "second version, longer");
	cr_assert_eq(staging_entries("議案"), 0, "old copy or stage left behind");

	struct findings f = { 0 };
	verify(&f, NULL);
	cr_assert_eq(f.n, 0, "unexpected finding: %s", f.n ? f.lines[0] : "");
	free(content);
	free(pdf);
	free(master);
	seen_release(&seen);
}

Test(store, concurrent_commits_of_one_id_leave_one_document)
{
	char *master = make_master("scan.tif", 20000, 13);
	struct seen seen = { 0 };
	struct bk_error err;
	pid_t kids[4];

	bk_error_init(&err);
	for (int k = 0; k < 4; k++) {
		kids[k] = fork();
		cr_assert_geq(kids[k], 0);
		if (kids[k] == 0) {
			struct bk_store *own = NULL;
			int failed = bk_store_open(&own, archive, &err);
			for (int round = 0; !failed && round < 5; round++) {
				struct bk_doc_meta meta;
				struct bk_doc_stage *st = NULL;
				char pdf[32];
				fill_meta(&meta, "議案", "job-8-0001");
				snprintf(pdf, sizeof(pdf), "writer %d round %d", k, round);
				failed = bk_store_stage(own, &meta, &st, &err) ||
					 bk_doc_stage_add_master(st, master, &err);
				char *path = failed ? NULL : bk_doc_stage_path(st, "data/document.pdf");
				failed = failed || !path || ts_write(path, pdf, strlen(pdf)) ||
					 bk_store_commit(&st, &err);
				bk_store_abandon(&st);
				free(path);
				bk_doc_meta_release(&meta);
			}
			if (failed)
				fprintf(stderr, "writer %d: %s\n", k, err.msg);
			bk_store_free(&own);
			_exit(failed);
		}
	}
	for (int k = 0; k < 4; k++) {
		int status = -1;
		cr_assert_eq(waitpid(kids[k], &status, 0), kids[k]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed", k);
	}
	cr_assert_eq(bk_store_foreach(store, NULL, collect, &seen, &err), 0, "%s", err.msg);
	cr_assert_eq(seen.n, 1);
	cr_assert_eq(staging_entries("議案"), 0);
	char *pdf = ts_fmt("%s/data/document.pdf", seen.dirs[0]);
	char *content = ts_read(pdf, NULL);
	cr_assert_not_null(strstr(content, "round 4"), "the last round of some writer: %s", content);
	struct findings f = { 0 };
	verify(&f, NULL);
	cr_assert_eq(f.n, 0, "finding: %s", f.n ? f.lines[0] : "");
	free(content);
	free(pdf);
	free(master);
	seen_release(&seen);
}

Test(store, verify_finds_flipped_byte_deleted_and_added_files)
{
	char *master = make_master("scan.tif", 100000, 3);
	char *docdir = ts_fmt("%s/store/%s", archive, "告示/job-1-0001");
	struct bk_error err;

	bk_error_init(&err);
	store_doc("告示", "job-1-0001", master, "%PDF-1.7 stored");
	store_doc("告示", "job-1-0002", master, "%PDF-1.7 untouched");

	/* flip one byte in the middle of the master */
	char *stored = ts_fmt("%s/%s", docdir, "data/masters/scan.tif");
	int fd = open(stored, O_RDWR);
	unsigned char byte;
	cr_assert_eq(pread(fd, &byte, 1, 50000), 1);
	byte ^= 0x01;
	cr_assert_eq(pwrite(fd, &byte, 1, 50000), 1);
	close(fd);
	/* delete a page model, add a stray file, edit the metadata */
	char *page = ts_fmt("%s/%s", docdir, "data/pages/0001.page");
	cr_assert_eq(unlink(page), 0);
	char *added = ts_fmt("%s/%s", docdir, "data/notes from staff.txt");
	cr_assert_eq(ts_write(added, "x", 1), 0);
	char *info = ts_fmt("%s/%s", docdir, "bag-info.txt");
	FILE *fp = fopen(info, "a");
	fputs("Bunko-Note: edited by hand\n", fp);
	fclose(fp);

	struct findings f = { 0 };
	struct bk_verify_stats stats;
	verify(&f, &stats);
	cr_assert_eq(f.n, 4);
	cr_assert(has_finding(&f, "changed store/告示/job-1-0001/data/masters/scan.tif"));
	cr_assert(has_finding(&f, "missing store/告示/job-1-0001/data/pages/0001.page"));
	cr_assert(has_finding(&f, "unexpected store/告示/job-1-0001/data/notes from staff.txt"));
	cr_assert(has_finding(&f, "changed store/告示/job-1-0001/bag-info.txt"));
	cr_assert_eq(stats.documents, 2);
	cr_assert_eq(stats.problems, 4);

	/* undo the flip: that finding goes away, the others stay */
	fd = open(stored, O_RDWR);
	byte ^= 0x01;
	cr_assert_eq(pwrite(fd, &byte, 1, 50000), 1);
	close(fd);
	findings_release(&f);
	verify(&f, NULL);
	cr_assert_eq(f.n, 3);
	cr_assert(!has_finding(&f, "changed store/告示/job-1-0001/data/masters/scan.tif"));
	findings_release(&f);
	free(info);
	free(added);
	free(page);
	free(stored);
	free(docdir);
	free(master);
}

Test(store, verify_reports_bags_without_manifests_and_strays)
{
	char *master = make_master("scan.tif", 1000, 4);
	struct bk_error err;

	bk_error_init(&err);
	store_doc("区史", "job-2-0001", master, "pdf");
	char *manifest = ts_fmt("%s/store/%s", archive, "区史/job-2-0001/manifest-sha256.txt");
	cr_assert_eq(unlink(manifest), 0);
	char *bare = ts_fmt("%s/store/%s", archive, "区史/job-2-0002/data");
	cr_assert_eq(bk_mkdir_p(bare, 0, &err), 0, "%s", err.msg);
	char *stray = ts_fmt("%s/store/%s", archive, "区史/README");
	cr_assert_eq(ts_write(stray, "?", 1), 0);
	char *link = ts_fmt("%s/store/%s", archive, "区史/job-2-0001/data/link.pdf");
	cr_assert_eq(symlink("/etc/passwd", link), 0);

	struct findings f = { 0 };
	verify(&f, NULL);
	int reported = 0;
	for (int i = 0; i < f.n; i++)
		reported += !strcmp(f.lines[i], "missing store/区史/job-2-0001/manifest-sha256.txt");
	cr_assert_eq(reported, 1, "reported once, though the tag manifest lists it too");
	cr_assert(has_finding(&f, "unexpected store/区史/job-2-0001/data/masters/scan.tif"));
	cr_assert(has_finding(&f, "unexpected store/区史/job-2-0001/data/link.pdf"));
	cr_assert(has_finding(&f, "missing store/区史/job-2-0002/manifest-sha256.txt"));
	cr_assert(has_finding(&f, "missing store/区史/job-2-0002/tagmanifest-sha256.txt"));
	cr_assert(has_finding(&f, "unexpected store/区史/README"));
	findings_release(&f);
	free(link);
	free(stray);
	free(bare);
	free(manifest);
	free(master);
}

Test(store, abandoned_stage_leaves_nothing_visible)
{
	char *master = make_master("scan.tif", 2000, 5);
	struct bk_doc_meta meta;
	struct bk_doc_stage *st = NULL;
	struct seen seen = { 0 };
	struct bk_error err;

	bk_error_init(&err);
	fill_meta(&meta, "告示", "job-9-0001");
	cr_assert_eq(bk_store_stage(store, &meta, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_doc_stage_add_master(st, master, &err), 0, "%s", err.msg);
	write_staged(st, "data/document.pdf", "half-written");
	char *stage_dir = strdup(bk_doc_stage_dir(st));
	cr_assert_eq(access(stage_dir, F_OK), 0);
	bk_store_abandon(&st);
	cr_assert_null(st);
	bk_store_abandon(&st); /* NULL-safe */
	cr_assert_eq(access(stage_dir, F_OK), -1);

	cr_assert_eq(bk_store_foreach(store, NULL, collect, &seen, &err), 0, "%s", err.msg);
	cr_assert_eq(seen.n, 0);
	char *doc = bk_store_doc_dir(store, "告示", "job-9-0001");
	cr_assert_eq(access(doc, F_OK), -1);
	cr_assert_eq(staging_entries("告示"), 0);
	struct findings f = { 0 };
	struct bk_verify_stats stats;
	verify(&f, &stats);
	cr_assert_eq(f.n, 0);
	cr_assert_eq(stats.documents, 0);
	free(doc);
	free(stage_dir);
	free(master);
	bk_doc_meta_release(&meta);
}

static void expect_rejected(const char *coll, const char *id, const char *needle)
{
	struct bk_doc_meta meta;
	struct bk_doc_stage *st = (struct bk_doc_stage *)&meta; /* must be NULLed */
	struct bk_error err;

	bk_error_init(&err);
	fill_meta(&meta, coll, id);
	cr_assert_eq(bk_store_stage(store, &meta, &st, &err), -1, "accepted '%s'/'%s'",
		     coll ? coll : "(null)", id ? id : "(null)");
	cr_assert_null(st);
	cr_assert_not_null(strstr(err.msg, needle), "message: %s", err.msg);
	bk_doc_meta_release(&meta);
}

Test(store, bad_names_are_rejected_with_clear_errors)
{
	char long_id[BK_NAME_MAX + 2];

	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	expect_rejected("例規集", "", "document id is empty");
	expect_rejected("例規集", NULL, "document id is empty");
	expect_rejected("例規集", "a/b", "contains '/'");
	expect_rejected("例規集", "..", "must not start with '.'");
	expect_rejected("例規集", ".staging", "must not start with '.'");
	expect_rejected("例規集", "job\n1", "control character");
	expect_rejected("例規集", "job\t1", "control character");
	expect_rejected("例規集", "\xff\xfe", "not valid UTF-8");
	expect_rejected("例規集", long_id, "longer than 100 bytes");
	expect_rejected("", "job-1", "collection is empty");
	expect_rejected("../etc", "job-1", "collection '../etc'");

	/* exactly 100 bytes is fine, and so is a Japanese id */
	struct bk_error err;
	long_id[BK_NAME_MAX] = '\0';
	char *master = make_master("m.tif", 10, 6);
	store_doc("例規集", long_id, master, "x");
	store_doc("例規集", "第3巻 1923.v2", master, "x");
	cr_assert_eq(bk_name_check("collection", "例規集", &err), 0);
	free(master);
}

Test(store, stage_paths_stay_inside_the_payload)
{
	struct bk_doc_meta meta;
	struct bk_doc_stage *st = NULL;
	struct bk_error err;

	bk_error_init(&err);
	fill_meta(&meta, "告示", "job-4-0001");
	cr_assert_eq(bk_store_stage(store, &meta, &st, &err), 0, "%s", err.msg);
	const char *bad[] = { "document.pdf", "bag-info.txt", "data/../bagit.txt",
			      "data/./x", "data//x", "/etc/passwd", "data/", "data" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		errno = 0;
		cr_assert_null(bk_doc_stage_path(st, bad[i]), "accepted '%s'", bad[i]);
		cr_assert_eq(errno, EINVAL);
	}
	char *ok = bk_doc_stage_path(st, "data/sidecars/deep/text.txt");
	cr_assert_not_null(ok);
	char *parent = strdup(ok);
	*strrchr(parent, '/') = '\0';
	struct stat sb;
	cr_assert_eq(stat(parent, &sb), 0, "parent directories are created");
	cr_assert(S_ISDIR(sb.st_mode));

	/* two masters with one name: refused, the first kept */
	char *m1 = make_master("same.tif", 10, 7);
	char *sub = ts_fmt("%s/%s", scratch, "other");
	cr_assert_eq(mkdir(sub, 0777), 0);
	char *m2 = ts_fmt("%s/%s", sub, "same.tif");
	cr_assert_eq(ts_write(m2, "different", 9), 0);
	cr_assert_eq(bk_doc_stage_add_master(st, m1, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_doc_stage_add_master(st, m2, &err), -1);
	cr_assert_not_null(strstr(err.msg, "already has a master named 'same.tif'"), "%s", err.msg);
	cr_assert_eq(bk_doc_stage_add_master(st, sub, &err), -1);
	cr_assert_not_null(strstr(err.msg, "not a regular file"), "%s", err.msg);
	cr_assert_eq(bk_store_commit(&st, &err), 0, "%s", err.msg);

	struct bk_doc_meta back;
	cr_assert_eq(bk_store_read_meta(store, "告示", "job-4-0001", &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back.nsources, 1);
	char *stored = ts_fmt("%s/store/%s", archive, "告示/job-4-0001/data/masters/same.tif");
	char *want = tool_sha256(m1), *got = tool_sha256(stored);
	cr_assert_str_eq(got, want);
	bk_doc_meta_release(&back);
	free(want);
	free(got);
	free(stored);
	free(m1);
	free(m2);
	free(sub);
	free(parent);
	free(ok);
	bk_doc_meta_release(&meta);
}

Test(store, awkward_file_names_are_percent_encoded)
{
	/* BagIt encodes CR, LF and '%' in manifest paths, nothing else */
	char *master = make_master("100% scan\nline two.tif", 3000, 8);
	struct bk_doc_meta meta;
	struct bk_doc_stage *st = NULL;
	struct bk_error err;

	bk_error_init(&err);
	fill_meta(&meta, "告示", "job-5-0001");
	cr_assert_eq(bk_store_stage(store, &meta, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_doc_stage_add_master(st, master, &err), 0, "%s", err.msg);
	write_staged(st, "data/ページ 1.txt", "text");
	cr_assert_eq(bk_store_commit(&st, &err), 0, "%s", err.msg);

	char *manifest_path = ts_fmt("%s/store/%s", archive, "告示/job-5-0001/manifest-sha256.txt");
	char *manifest = ts_read(manifest_path, NULL);
	cr_assert_not_null(strstr(manifest, "  data/masters/100%25 scan%0Aline two.tif\n"), "%s", manifest);
	cr_assert_not_null(strstr(manifest, "  data/ページ 1.txt\n"), "%s", manifest);
	int lines = 0;
	for (char *p = manifest; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 2);

	struct findings f = { 0 };
	struct bk_verify_stats stats;
	verify(&f, &stats);
	cr_assert_eq(f.n, 0, "finding: %s", f.n ? f.lines[0] : "");
	cr_assert_eq(stats.files, 2 + 3);

	/* a second, independent reading of RFC 8493 agrees */
	bag_check_independently("告示", "job-5-0001");
	struct bk_doc_meta back;
	cr_assert_eq(bk_store_read_meta(store, "告示", "job-5-0001", &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back.nsources, 1);
	cr_assert_str_eq(back.sources[0], "100% scan\nline two.tif");
	bk_doc_meta_release(&back);

	/* and the reference implementation too, when it is installed */
	if (ts_run("/usr/bin/python3 -c 'import bagit' 2>/dev/null", NULL, 0) == 0) {
		char *cmd = ts_fmt("/usr/bin/python3 -c 'import bagit,sys; bagit.Bag(sys.argv[1]).validate()' '%s/store/%s'",
				    archive, "告示/job-5-0001");
		char *out = NULL;
		cr_assert_eq(ts_run(cmd, &out, 1), 0, "python bagit: %s", out);
		free(out);
		free(cmd);
	}
	free(manifest);
	free(manifest_path);
	free(master);
	bk_doc_meta_release(&meta);
}

Test(store, foreach_is_sorted_filters_and_stops)
{
	char *master = make_master("m.tif", 10, 9);
	struct seen seen = { 0 };
	struct bk_error err;

	bk_error_init(&err);
	store_doc("b-coll", "doc-2", master, "x");
	store_doc("b-coll", "doc-10", master, "x");
	store_doc("a-coll", "doc-9", master, "x");
	cr_assert_eq(bk_store_foreach(store, NULL, collect, &seen, &err), 0, "%s", err.msg);
	cr_assert_eq(seen.n, 3);
	cr_assert_str_eq(seen.metas[0].collection, "a-coll");
	cr_assert_str_eq(seen.metas[1].id, "doc-10");
	cr_assert_str_eq(seen.metas[2].id, "doc-2");
	seen_release(&seen);

	cr_assert_eq(bk_store_foreach(store, "b-coll", collect, &seen, &err), 0);
	cr_assert_eq(seen.n, 2);
	seen_release(&seen);
	cr_assert_eq(bk_store_foreach(store, "no-such", collect, &seen, &err), 0);
	cr_assert_eq(seen.n, 0);

	seen.stop_after = 1;
	cr_assert_eq(bk_store_foreach(store, NULL, collect, &seen, &err), 42);
	cr_assert_eq(seen.n, 1);
	seen_release(&seen);

	/* a document whose metadata is gone is an error that names it */
	char *info = ts_fmt("%s/store/%s", archive, "b-coll/doc-2/bag-info.txt");
	cr_assert_eq(unlink(info), 0);
	seen.stop_after = 0;
	cr_assert_eq(bk_store_foreach(store, NULL, collect, &seen, &err), -1);
	cr_assert_not_null(strstr(err.msg, "doc-2/bag-info.txt"), "%s", err.msg);
	seen_release(&seen);
	free(info);
	free(master);
}

Test(store, init_and_open_check_the_archive)
{
	struct bk_error err;
	struct bk_store *other = (struct bk_store *)&err;

	bk_error_init(&err);
	char *marker = ts_fmt("%s/%s", archive, "bunko-archive");
	char *text = ts_read(marker, NULL);
	cr_assert_str_eq(text, "bunko-archive 1\n");
	const char *subs[] = { "queue", "store", "index", "log" };
	for (int i = 0; i < 4; i++) {
		char *sub = ts_fmt("%s/%s", archive, subs[i]);
		struct stat sb;
		cr_assert_eq(stat(sub, &sb), 0, "%s", sub);
		cr_assert(S_ISDIR(sb.st_mode));
		free(sub);
	}
	/* idempotent, and it keeps what is there */
	char *master = make_master("m.tif", 10, 10);
	store_doc("c", "d", master, "x");
	cr_assert_eq(bk_archive_init(archive, &err), 0, "%s", err.msg);
	char *doc = bk_store_doc_dir(store, "c", "d");
	cr_assert_eq(access(doc, F_OK), 0);

	/* a non-empty directory that is not an archive is refused */
	char *plain = ts_fmt("%s/%s", scratch, "photos");
	char *file = ts_fmt("%s/%s", plain, "IMG_0001.jpg");
	cr_assert_eq(mkdir(plain, 0777), 0);
	cr_assert_eq(ts_write(file, "jpeg", 4), 0);
	cr_assert_eq(bk_archive_init(plain, &err), -1);
	cr_assert_not_null(strstr(err.msg, "not empty"), "%s", err.msg);
	cr_assert_eq(bk_store_open(&other, plain, &err), -1);
	cr_assert_null(other);
	char *want = ts_fmt("'%s' is not a bunko archive (run 'bunko init %s')", plain, plain);
	cr_assert_str_eq(err.msg, want);

	/* a new nested path and an empty directory are fine */
	char *fresh = ts_fmt("%s/%s", scratch, "new/nested/archive");
	cr_assert_eq(bk_archive_init(fresh, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_store_open(&other, fresh, &err), 0, "%s", err.msg);
	bk_store_free(&other);
	cr_assert_null(other);

	/* a marker of another version is not silently accepted */
	char *fresh_marker = ts_fmt("%s/%s", fresh, "bunko-archive");
	cr_assert_eq(ts_write(fresh_marker, "bunko-archive 2\n", 16), 0);
	cr_assert_eq(bk_store_open(&other, fresh, &err), -1);
	cr_assert_not_null(strstr(err.msg, "version 2"), "%s", err.msg);
	cr_assert_eq(bk_archive_init(fresh, &err), -1);
	cr_assert_eq(bk_archive_init(file, &err), -1);
	cr_assert_not_null(strstr(err.msg, "not a directory"), "%s", err.msg);

	free(fresh_marker);
	free(fresh);
	free(want);
	free(file);
	free(plain);
	free(doc);
	free(master);
	free(text);
	free(marker);
}

/* The host part of a real stage name "<id>.<host>.<pid>.<random>". */
static char *stage_host(void)
{
	struct bk_doc_meta meta;
	struct bk_doc_stage *st = NULL;
	struct bk_error err;

	fill_meta(&meta, "probe", "probe");
	cr_assert_eq(bk_store_stage(store, &meta, &st, &err), 0, "%s", err.msg);
	const char *name = strrchr(bk_doc_stage_dir(st), '/') + 1;
	char *copy = strdup(name + strlen("probe."));
	*strchr(copy, '.') = '\0';
	bk_store_abandon(&st);
	bk_doc_meta_release(&meta);
	return copy;
}

Test(store, recovery_restores_an_old_copy_caught_mid_replace)
{
	char *master = make_master("m.tif", 4000, 11);
	char *host = stage_host();
	long pid = ts_dead_pid();
	struct bk_error err;
	char name[512];

	bk_error_init(&err);
	store_doc("例規集", "job-1-0001", master, "old copy");
	store_doc("例規集", "job-1-0002", master, "present");
	char *staging = ts_fmt("%s/store/.staging/%s", archive, "例規集");
	cr_assert_eq(bk_mkdir_p(staging, 0, &err), 0);

	/* crash between "old copy aside" and "new copy in" */
	char *doc1 = bk_store_doc_dir(store, "例規集", "job-1-0001");
	snprintf(name, sizeof(name), "%s/job-1-0001.%s.%ld.AbC123.old", staging, host, pid);
	char *old1 = strdup(name);
	cr_assert_eq(rename(doc1, old1), 0);
	snprintf(name, sizeof(name), "%s/job-1-0001.%s.%ld.XyZ789", staging, host, pid);
	char *new1 = strdup(name);
	cr_assert_eq(bk_mkdir_p(new1, 0, &err), 0);
	/* crash after the new copy went in: a stale old copy beside a live doc */
	snprintf(name, sizeof(name), "%s/job-1-0002.%s.%ld.QqQqQq.old", staging, host, pid);
	char *old2 = strdup(name);
	cr_assert_eq(bk_mkdir_p(old2, 0, &err), 0);
	/* not ours to touch: another host's stage, and a live process's */
	snprintf(name, sizeof(name), "%s/job-1-0003.otherhost.%ld.AAAAAA", staging, pid);
	char *foreign = strdup(name);
	cr_assert_eq(bk_mkdir_p(foreign, 0, &err), 0);
	snprintf(name, sizeof(name), "%s/job-1-0004.%s.%ld.BBBBBB", staging, host, (long)getppid());
	char *live = strdup(name);
	cr_assert_eq(bk_mkdir_p(live, 0, &err), 0);

	int restored = -1, removed = -1;
	cr_assert_eq(bk_store_recover(store, &restored, &removed, &err), 0, "%s", err.msg);
	cr_assert_eq(restored, 1);
	cr_assert_eq(removed, 2);
	cr_assert_eq(access(doc1, F_OK), 0);
	cr_assert_eq(access(old1, F_OK), -1);
	cr_assert_eq(access(new1, F_OK), -1);
	cr_assert_eq(access(old2, F_OK), -1);
	cr_assert_eq(access(foreign, F_OK), 0);
	cr_assert_eq(access(live, F_OK), 0);
	char *pdf = ts_fmt("%s/%s", doc1, "data/document.pdf");
	char *content = ts_read(pdf, NULL);
	cr_assert_str_eq(content, "old copy");

	/* opening the store runs the same recovery */
	cr_assert_eq(rename(doc1, old1), 0);
	bk_store_free(&store);
	cr_assert_eq(bk_store_open(&store, archive, &err), 0, "%s", err.msg);
	cr_assert_eq(access(doc1, F_OK), 0);

	struct findings f = { 0 };
	verify(&f, NULL);
	cr_assert_eq(f.n, 0, "finding: %s", f.n ? f.lines[0] : "");
	free(content);
	free(pdf);
	free(live);
	free(foreign);
	free(old2);
	free(new1);
	free(old1);
	free(doc1);
	free(staging);
	free(host);
	free(master);
}

Test(store, bag_info_round_trip_and_parse_rules)
{
	struct bk_doc_meta m, back;
	struct bk_error err;
	char *text = NULL;
	size_t len = 0;

	bk_error_init(&err);
	fill_meta(&m, "例規集", "job-1-0001");
	cr_assert_eq(bk_doc_meta_add_source(&m, "box 12.tif", &err), 0);
	cr_assert_eq(bk_doc_meta_add_source(&m, "box 13.tif", &err), 0);
	cr_assert_eq(bk_doc_meta_add_source(&m, "box 12.tif", &err), 0);
	cr_assert_eq(m.nsources, 2);
	FILE *fp = open_memstream(&text, &len);
	cr_assert_eq(bk_meta_write(fp, &m, "2024-05-01", "1234.5", &err), 0, "%s", err.msg);
	fclose(fp);
	cr_assert_not_null(strstr(text, "Payload-Oxum: 1234.5\n"));
	cr_assert_not_null(strstr(text, "Bunko-Source: box 12.tif\nBunko-Source: box 13.tif\n"));
	cr_assert_eq(bk_meta_parse(text, len, "bag-info.txt", &back, &err), 0, "%s", err.msg);
	cr_assert_str_eq(back.title, m.title);
	cr_assert_eq(back.nsources, 2);
	cr_assert_str_eq(back.sources[1], "box 13.tif");
	cr_assert_eq(back.access, BK_ACCESS_RESTRICTED);
	bk_doc_meta_release(&back);
	free(text);

	/* folded lines, CRLF, unknown keys; no access line reads as confidential */
	const char folded[] = "External-Identifier: x\r\nBunko-Title: a long\r\n   title\r\n"
			      "Contact-Name: someone\r\nBunko-Box: 7\r\n";
	cr_assert_eq(bk_meta_parse(folded, strlen(folded), "bag-info.txt", &back, &err), 0,
		     "%s", err.msg);
	cr_assert_str_eq(back.title, "a long title");
	cr_assert_eq(back.box, 7);
	cr_assert_eq(back.volume, -1);
	cr_assert_eq(back.access, BK_ACCESS_CONFIDENTIAL);
	bk_doc_meta_release(&back);

	const char bad_profile[] = "Bunko-Profile: poster\n";
	cr_assert_eq(bk_meta_parse(bad_profile, strlen(bad_profile), "x/bag-info.txt", &back, &err), -1);
	cr_assert_str_eq(err.msg, "'x/bag-info.txt' line 1: unknown profile 'poster'");
	const char bad_box[] = "Bunko-Pages: 3\nBunko-Box: twelve\n";
	cr_assert_eq(bk_meta_parse(bad_box, strlen(bad_box), "b", &back, &err), -1);
	cr_assert_not_null(strstr(err.msg, "line 2"), "%s", err.msg);
	const char no_colon[] = "just words\n";
	cr_assert_eq(bk_meta_parse(no_colon, strlen(no_colon), "b", &back, &err), -1);

	/* a value with a line break is refused, not folded into a new key */
	cr_assert_eq(bk_doc_meta_set(&m.title, "line\nBunko-Access: public", &err), 0);
	fp = open_memstream(&text, &len);
	cr_assert_eq(bk_meta_write(fp, &m, NULL, NULL, &err), -1);
	fclose(fp);
	cr_assert_not_null(strstr(err.msg, "line break"), "%s", err.msg);
	free(text);
	bk_doc_meta_release(&m);
}

Test(store, sha256_matches_the_standard_and_sha256sum)
{
	char hex[BK_SHA256_HEX_LEN + 1];
	struct bk_error err;
	uint64_t size = 0;

	bk_error_init(&err);
	/* FIPS 180-2 test vector */
	cr_assert_eq(bk_sha256_mem("abc", 3, hex, &err), 0);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* larger than the streaming buffer, not a multiple of it */
	char *big = make_master("big.bin", 3 * 64 * 1024 + 333, 12);
	cr_assert_eq(bk_sha256_file(big, hex, &size, &err), 0, "%s", err.msg);
	cr_assert_eq(size, 3 * 64 * 1024 + 333);
	char *want = tool_sha256(big);
	cr_assert_str_eq(hex, want);
	cr_assert_eq(bk_sha256_file("/nonexistent/x.tif", hex, &size, &err), -1);
	cr_assert_not_null(strstr(err.msg, "'/nonexistent/x.tif'"), "%s", err.msg);
	cr_assert(bk_sha256_is_hex(want, strlen(want)));
	cr_assert(!bk_sha256_is_hex("xyz", 3));
	free(want);
	free(big);
}

/* ---- access levels on disk ---- */

static unsigned level_dir_mode; /* what every directory of the bag must have */
static int wrong_modes, entries_seen;

static int check_level_mode(const char *path, const struct stat *st, int type,
			    struct FTW *ftw)
{
	unsigned want = type == FTW_D ? level_dir_mode : level_dir_mode & 0644;
	entries_seen++;
	if (((unsigned)st->st_mode & 0777) != want) {
		wrong_modes++;
		cr_log_error("%s is %04o, not %04o", path, (unsigned)st->st_mode & 0777, want);
	}
	return 0;
}

/* Stages a document of `level` the way the worker writes one (payload
 * files through bk_create_file, tag files atomically) and commits it. */
static void store_doc_at_level(const char *id, const char *master, enum bk_access level)
{
	struct bk_doc_meta meta;
	struct bk_doc_stage *st = NULL;
	struct bk_error err;
	static const char *const payload[] = { "data/document.pdf", "data/text.txt",
					       "data/pages/0001.page" };

	bk_error_init(&err);
	fill_meta(&meta, "議案", id);
	meta.access = level;
	cr_assert_eq(bk_store_stage(store, &meta, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(bk_doc_stage_add_master(st, master, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < sizeof(payload) / sizeof(*payload); i++) {
		char *path = bk_doc_stage_path(st, payload[i]);
		cr_assert_not_null(path);
		int fd = bk_create_file(path, O_TRUNC, &err);
		cr_assert_geq(fd, 0, "%s", err.msg);
		cr_assert_eq(write(fd, "text", 4), 4);
		close(fd);
		free(path);
	}
	cr_assert_eq(bk_store_commit(&st, &err), 0, "%s", err.msg);
	bk_doc_meta_release(&meta);
}

static void expect_bag_modes(const char *id, enum bk_access level)
{
	char *dir = bk_store_doc_dir(store, "議案", id);
	level_dir_mode = bk_access_dir_mode(level);
	wrong_modes = entries_seen = 0;
	cr_assert_eq(nftw(dir, check_level_mode, 16, FTW_PHYS), 0, "%s", dir);
	/* bag dir, data, masters, pages; 4 tag files, master, 3 payload */
	cr_expect_eq(entries_seen, 12, "%d entries in %s", entries_seen, dir);
	cr_expect_eq(wrong_modes, 0, "%s level: %d entries of %s have another mode",
		     bk_access_name(level), wrong_modes, dir);
	free(dir);
}

Test(store, every_file_of_a_bag_has_its_level_mode_whatever_the_umask)
{
	/* the scan itself is world-readable and the umask lets everything
	 * through: neither may widen a restricted or confidential bag */
	char *master = make_master("scan.tif", 5000, 2);
	mode_t old = umask(0);
	cr_assert_eq(chmod(master, 0666), 0);

	for (int l = 0; l < BK_ACCESS_COUNT; l++) {
		char id[32];
		snprintf(id, sizeof(id), "job-level-%d", l);
		umask(l == 1 ? 077 : 0); /* nor narrow a public one */
		store_doc_at_level(id, master, (enum bk_access)l);
		expect_bag_modes(id, (enum bk_access)l);
	}
	umask(old);
	free(master);
}

Test(store, a_replaced_document_takes_its_new_levels_mode)
{
	char *master = make_master("scan.tif", 5000, 2);

	store_doc_at_level("job-relevel", master, BK_ACCESS_PUBLIC);
	expect_bag_modes("job-relevel", BK_ACCESS_PUBLIC);
	store_doc_at_level("job-relevel", master, BK_ACCESS_CONFIDENTIAL);
	expect_bag_modes("job-relevel", BK_ACCESS_CONFIDENTIAL);
	store_doc_at_level("job-relevel", master, BK_ACCESS_RESTRICTED);
	expect_bag_modes("job-relevel", BK_ACCESS_RESTRICTED);
	cr_assert_eq(staging_entries("議案"), 0, "old copy or stage left behind");
	free(master);
}

Test(store, init_gives_the_archive_its_staff_group_and_the_group_bit)
{
	struct bk_error err;
	char *fresh = ts_fmt("%s/grouped", scratch);
	char *sub = ts_fmt("%s/grouped/store", scratch);
	struct stat st;

	bk_error_init(&err);
	cr_assert_eq(bk_archive_init_group(fresh, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(stat(sub, &st), 0);
	cr_expect(st.st_mode & S_ISGID, "store/ lacks the set-group-ID bit: %04o",
		  (unsigned)st.st_mode & 07777);
	cr_expect_eq(st.st_mode & 0777, 0755);
	bk_error_init(&err);
	cr_assert_eq(bk_archive_init_group(fresh, "daemon", &err), -1, "another group");
	cr_expect(strstr(err.msg, "'daemon'") && strstr(err.msg, "chgrp"), "%s", err.msg);
	char *other = ts_fmt("%s/other", scratch);
	bk_error_init(&err);
	cr_assert_eq(bk_archive_init_group(other, "no-such-group-bunko", &err), -1);
	cr_expect(strstr(err.msg, "no group 'no-such-group-bunko'"), "%s", err.msg);
	cr_expect_neq(access(other, F_OK), 0, "made before the group was checked");
	free(fresh);
	free(sub);
	free(other);
}

struct exposed_seen {
	char paths[8][256];
	int n;
};

static int record_exposed(const char *kind, const char *path, void *ud)
{
	struct exposed_seen *e = ud;
	cr_assert_str_eq(kind, "exposed");
	cr_assert_lt(e->n, 8);
	snprintf(e->paths[e->n++], sizeof(e->paths[0]), "%s", path);
	return 0;
}

Test(store, access_check_reports_what_is_readable_beyond_its_level)
{
	char *master = make_master("scan.tif", 5000, 2);
	struct exposed_seen e = { 0 };
	struct bk_verify_stats stats = { 0 };
	struct bk_error err;

	bk_error_init(&err);
	store_doc_at_level("job-open", master, BK_ACCESS_PUBLIC);
	store_doc_at_level("job-conf", master, BK_ACCESS_CONFIDENTIAL);
	store_doc_at_level("job-staff", master, BK_ACCESS_RESTRICTED);
	cr_assert_eq(bk_store_check_access(store, NULL, record_exposed, &e, &stats, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(e.n, 0, "fresh documents reported: %s", e.paths[0]);

	/* what an earlier bunko made, or a chmod by hand */
	char *doc = bk_store_doc_dir(store, "議案", "job-conf");
	char *text = ts_fmt("%s/data/text.txt", doc), *pages = ts_fmt("%s/data/pages", doc);
	cr_assert_eq(chmod(text, 0644), 0);
	cr_assert_eq(chmod(pages, 0711), 0);
	char *open_doc = bk_store_doc_dir(store, "議案", "job-open");
	char *open_text = ts_fmt("%s/data/text.txt", open_doc);
	cr_assert_eq(chmod(open_text, 0664), 0); /* no one reads more: not exposed */
	cr_assert_eq(bk_store_check_access(store, NULL, record_exposed, &e, &stats, &err), 0,
		     "%s", err.msg);
	cr_assert_eq(e.n, 2, "%d findings", e.n);
	cr_expect_str_eq(e.paths[0], "store/議案/job-conf/data/pages");
	cr_expect_str_eq(e.paths[1], "store/議案/job-conf/data/text.txt");
	cr_expect_eq(stats.problems, 2);

	/* a restricted file in another group is readable by that group */
	if (geteuid() == 0) {
		char *staff_doc = bk_store_doc_dir(store, "議案", "job-staff");
		char *pdf = ts_fmt("%s/data/document.pdf", staff_doc);
		struct stat st;
		cr_assert_eq(stat(archive, &st), 0);
		cr_assert_eq(chown(pdf, (uid_t)-1, st.st_gid + 1), 0);
		e.n = 0;
		cr_assert_eq(bk_store_check_access(store, "議案", record_exposed, &e, NULL, &err), 0,
			     "%s", err.msg);
		cr_expect_eq(e.n, 3, "%d findings", e.n);
		cr_expect_str_eq(e.paths[2], "store/議案/job-staff/data/document.pdf");
		free(pdf);
		free(staff_doc);
	}
	free(open_text);
	free(open_doc);
	free(text);
	free(pages);
	free(doc);
	free(master);
}
