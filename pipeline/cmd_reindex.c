/*
 * pipeline/cmd_reindex.c — `bunko reindex ARCHIVE [--collection C]`:
 * rebuilds the search index from the page models stored with each document
 * (data/pages/NNNN.page); no OCR is run. The index is built into new files
 * and swapped in whole (bk_index_rebuild), so searches keep working on the
 * old index until the new one is complete.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/store.h"
#include "bunko/fs.h"
#include "index/index.h"
#include "bunko/page.h"
#include "pipeline/cli.h"

struct reindex {
	struct bk_store *store;
	const char *collection;
	struct bk_index *building;
	struct bk_error *err;
	long docs, pages;
};

/* Reads data/pages/0001.page ... in order until one is missing. */
static int read_page_texts(const char *doc_dir, int npages_hint, char ***texts,
			   int *npages, struct bk_error *err)
{
	char **v = NULL;
	int n = 0, rc = -1;

	*texts = NULL;
	*npages = 0;
	for (int i = 1;; i++) {
		char *path = NULL;
		struct bk_page page;
		FILE *fp;
		if (asprintf(&path, "%s/data/pages/%04d.page", doc_dir, i) < 0) {
			bk_error_set(err, "out of memory");
			goto out;
		}
		fp = fopen(path, "r");
		if (!fp) {
			int missing = errno == ENOENT;
			if (!missing || i <= npages_hint)
				bk_error_set(err, "cannot open '%s': %s", path, strerror(errno));
			free(path);
			if (!missing || i <= npages_hint)
				goto out;
			break;
		}
		bk_page_init(&page);
		int r = bk_page_read(&page, fp, path, err);
		fclose(fp);
		free(path);
		if (r)
			goto out;
		char **nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
		char *t = bk_page_text(&page);
		bk_page_release(&page);
		if (!nv || !t) {
			free(t);
			if (nv)
				v = nv;
			bk_error_set(err, "out of memory");
			goto out;
		}
		v = nv;
		v[n++] = t;
	}
	*texts = v;
	*npages = n;
	v = NULL;
	rc = 0;
out:
	for (int i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
	return rc;
}

static int feed_doc(const struct bk_doc_meta *meta, const char *doc_dir, void *ud)
{
	struct reindex *r = ud;
	char **texts = NULL, *pdf = NULL;
	int n = 0, rc = -1;

	if (read_page_texts(doc_dir, meta->npages, &texts, &n, r->err))
		goto out;
	if (asprintf(&pdf, "store/%s/%s/data/document.pdf", meta->collection, meta->id) < 0) {
		pdf = NULL;
		bk_error_set(r->err, "out of memory");
		goto out;
	}
	struct bk_index_doc doc = {
		.id = meta->id, .collection = meta->collection, .title = meta->title,
		.date = meta->date, .pdf = pdf, .profile = meta->profile,
		.access = meta->access, .page_texts = (const char *const *)texts,
		.npages = n,
	};
	if (bk_index_put(r->building, &doc, r->err))
		goto out;
	r->docs++;
	r->pages += n;
	rc = 0;
out:
	for (int i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(pdf);
	return rc;
}

static int feed_all(struct bk_index *building, void *ud, struct bk_error *err)
{
	struct reindex *r = ud;
	r->building = building;
	r->err = err;
	int rc = bk_store_foreach(r->store, r->collection, feed_doc, r, err);
	return rc ? -1 : 0;
}

int cmd_reindex(int argc, char **argv)
{
	const struct bk_command *cmd = bk_command_find("reindex");
	struct reindex r = { 0 };
	struct bk_error err;
	const char *archive = NULL;
	char *index_dir = NULL;
	int rc = BK_EXIT_FAIL;

	bk_error_init(&err);
	static const struct option longopts[] = {
		{ "collection", required_argument, NULL, 0 },
		{ 0 }
	};
	struct bk_args it;
	bk_args_init(&it, cmd, argc, argv, "", longopts);
	while (bk_args_next(&it)) {
		if (it.opt) { /* --collection, the only option */
			r.collection = it.value;
		} else if (!archive) {
			archive = it.value;
		} else {
			return bk_usage_error(cmd, "unexpected argument '%s'", it.value);
		}
	}
	if (it.done)
		return it.status;
	if (!archive)
		return bk_usage_error(cmd, "an archive is needed");
	if (bk_store_open(&r.store, archive, &err))
		goto report;
	if (!(index_dir = bk_path_join(archive, "index"))) {
		bk_error_set(&err, "out of memory");
		goto report;
	}
	if (bk_index_rebuild(index_dir, r.collection, feed_all, &r, &err))
		goto report;
	printf("reindexed %ld documents, %ld pages\n", r.docs, r.pages);
	rc = BK_EXIT_OK;
	goto out;
report:
	bk_die(err.msg);
out:
	bk_store_free(&r.store);
	free(index_dir);
	return rc;
}
