/*
 * web/tiles.c — the libvips adapter (see tiles.h): a page of the PDF
 * (pdfload, poppler underneath) flattened on white, held in memory once,
 * cut into IIIF 3 tiles by dzsave, its whole-image sizes renamed to
 * "full" and completed, and info.json given its `sizes`.
 */
#include "web/tiles.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "bunko/fs.h"

#define JPEG_Q 85
#define MAX_SIZES 16

/* the smaller whole-page widths offered besides the tiles: the page view's
 * image, two smaller, and the thumbnails */
static const int extra_widths[] = { 1400, 700, 350, 150 };

/* A path into buf (PATH_MAX bytes); true when it did not fit. Every path
 * is at most the page directory's and 60 bytes, so only that one is
 * checked. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static bool pathf(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= PATH_MAX;
}

struct bk_tiles {
	char *dir;
	pthread_mutex_t lock; /* one page made at a time */
};

int bk_tiles_new(struct bk_tiles **out, const char *dir, struct bk_error *err)
{
	struct bk_tiles *t;

	*out = NULL;
	/* vips_init may be called again; it only starts the library once */
	if (VIPS_INIT("bunko")) {
		bk_error_set(err, "cannot start libvips: %s", vips_error_buffer());
		vips_error_clear();
		return -1;
	}
	/* a page is made once and kept on disk: libvips' cache of operations
	 * would only hold whole pages in memory */
	vips_cache_set_max(0);
	if (!(t = calloc(1, sizeof(*t))) || !(t->dir = strdup(dir))) {
		free(t);
		return bk_error_set(err, "out of memory");
	}
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void bk_tiles_free(struct bk_tiles **t)
{
	if (!t || !*t)
		return;
	pthread_mutex_destroy(&(*t)->lock);
	free((*t)->dir);
	free(*t);
	*t = NULL;
}

static int make_dir(const char *path, struct bk_error *err)
{
	if (mkdir(path, 0700) && errno != EEXIST)
		return bk_error_set(err, "cannot create '%s': %s", path, strerror(errno));
	return 0;
}

/* Makes every directory of `path` below the first `keep` bytes. */
static int make_dirs(char *path, size_t keep, struct bk_error *err)
{
	for (char *p = path + keep + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			int rc = make_dir(path, err);
			*p = '/';
			if (rc)
				return -1;
		}
	return make_dir(path, err);
}

static int vips_failed(struct bk_error *err, const char *pdf, int page, const char *what)
{
	bk_error_set(err, "cannot %s page %d of '%s': %s", what, page, pdf, vips_error_buffer());
	vips_error_clear();
	return -1;
}

/* The page at exactly width x height, RGB on white, in memory. */
static VipsImage *load_page(const char *pdf, int page, int width, int height, struct bk_error *err)
{
	VipsImage *head = NULL, *img = NULL, *flat = NULL, *fit = NULL, *mem = NULL;

	/* the header alone (pixels are drawn only when asked for) gives the
	 * page's size at 72 dpi, and so the scale of the model's pixels */
	if (vips_pdfload(pdf, &head, "page", page - 1, NULL)) {
		vips_failed(err, pdf, page, "read");
		goto out;
	}
	double scale = (double)width / vips_image_get_width(head);
	if (vips_pdfload(pdf, &img, "page", page - 1, "scale", scale, NULL) ||
	    vips_flatten(img, &flat, "background", vips_array_double_newv(1, 255.0), NULL)) {
		vips_failed(err, pdf, page, "render");
		goto out;
	}
	/* the rendered size is rounded: stretch to the model's by the pixel
	 * it may be off */
	int fw = vips_image_get_width(flat), fh = vips_image_get_height(flat);
	if (fw != width || fh != height) {
		if (vips_resize(flat, &fit, (double)width / fw, "vscale", (double)height / fh, NULL)) {
			vips_failed(err, pdf, page, "scale");
			goto out;
		}
	} else {
		fit = flat;
		g_object_ref(fit);
	}
	if (!(mem = vips_image_copy_memory(fit)))
		vips_failed(err, pdf, page, "render");
out:
	if (head)
		g_object_unref(head);
	if (img)
		g_object_unref(img);
	if (flat)
		g_object_unref(flat);
	if (fit)
		g_object_unref(fit);
	return mem;
}

/* DIR/full/w,h/0/default.jpg of `img` scaled to w x h (0: as it is, and
 * named "max"). */
static int save_size(VipsImage *img, const char *dir, int w, int h, struct bk_error *err)
{
	char path[PATH_MAX];
	VipsImage *small = NULL;
	int rc = -1;

	if (w)
		pathf(path, "%s/full/%d,%d/0", dir, w, h);
	else
		pathf(path, "%s/full/max/0", dir);
	if (make_dirs(path, strlen(dir), err))
		return -1;
	strncat(path, "/default.jpg", sizeof(path) - strlen(path) - 1);
	if (w && vips_resize(img, &small, (double)w / vips_image_get_width(img), "vscale",
			     (double)h / vips_image_get_height(img), NULL)) {
		bk_error_set(err, "cannot scale '%s': %s", path, vips_error_buffer());
		vips_error_clear();
		goto out;
	}
	if (vips_jpegsave(small ? small : img, path, "Q", JPEG_Q, NULL)) {
		bk_error_set(err, "cannot write '%s': %s", path, vips_error_buffer());
		vips_error_clear();
		goto out;
	}
	rc = 0;
out:
	if (small)
		g_object_unref(small);
	return rc;
}

static int by_width(const void *a, const void *b)
{
	return ((const int *)a)[0] - ((const int *)b)[0];
}

/* info.json as the site serves it: vips' own without its id (made per
 * request), with `sizes` from the directories under full/. */
static int finish_info(const char *dir, struct bk_error *err)
{
	char path[PATH_MAX], full[PATH_MAX];
	int sizes[MAX_SIZES][2], n = 0, rc = -1;
	json_error_t jerr;
	json_t *info = NULL, *list = NULL;
	DIR *d = NULL;
	struct dirent *e;

	pathf(path, "%s/info.json", dir);
	pathf(full, "%s/full", dir);
	if (!(info = json_load_file(path, 0, &jerr)) || !json_is_object(info)) {
		bk_error_set(err, "cannot read '%s': %s", path, jerr.text);
		goto out;
	}
	if (!(d = opendir(full))) {
		bk_error_set(err, "cannot open '%s': %s", full, strerror(errno));
		goto out;
	}
	while ((e = readdir(d)) && n < MAX_SIZES) {
		int w, h, used = 0;
		if (sscanf(e->d_name, "%d,%d%n", &w, &h, &used) == 2 && !e->d_name[used] && w > 0 && h > 0) {
			sizes[n][0] = w;
			sizes[n++][1] = h;
		}
	}
	qsort(sizes, (size_t)n, sizeof(sizes[0]), by_width);
	list = json_array();
	for (int i = 0; list && i < n; i++)
		json_array_append_new(list, json_pack("{s:i,s:i}", "width", sizes[i][0], "height", sizes[i][1]));
	json_object_del(info, "id");
	if (!list || json_object_set_new(info, "sizes", list)) {
		list = NULL;
		bk_error_set(err, "out of memory");
		goto out;
	}
	list = NULL;
	if (json_dump_file(info, path, JSON_INDENT(1))) {
		bk_error_set(err, "cannot write '%s'", path);
		goto out;
	}
	rc = 0;
out:
	if (d)
		closedir(d);
	json_decref(list);
	json_decref(info);
	return rc;
}

/* Makes the page's directory in `stage`/t. */
static int make_page(const char *stage, const char *pdf, int page, int width, int height,
		     struct bk_error *err)
{
	char out[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	VipsImage *img = NULL;
	int rc = -1;

	pathf(out, "%s/t", stage);
	if (!(img = load_page(pdf, page, width, height, err)))
		goto out;
	if (vips_dzsave(img, out, "layout", VIPS_FOREIGN_DZ_LAYOUT_IIIF3, "tile_size", BK_TILE_SIZE,
			"overlap", 0, "suffix", ".jpg[Q=85]", NULL)) {
		vips_failed(err, pdf, page, "tile");
		goto out;
	}
	/* the whole image at the smallest scales: "full", as viewers ask */
	pathf(from, "%s/0,0,%d,%d", out, width, height);
	pathf(to, "%s/full", out);
	if (rename(from, to) && errno != ENOENT) {
		bk_error_set(err, "cannot rename '%s': %s", from, strerror(errno));
		goto out;
	}
	if (save_size(img, out, 0, 0, err))
		goto out;
	for (size_t i = 0; i < sizeof(extra_widths) / sizeof(extra_widths[0]); i++) {
		int w = extra_widths[i], h = (int)((long)height * w / width);
		if (w < width && save_size(img, out, w, h > 0 ? h : 1, err))
			goto out;
	}
	if (finish_info(out, err))
		goto out;
	rc = 0;
out:
	if (img)
		g_object_unref(img);
	return rc;
}

/* True when dir/info.json is there and not older than the PDF. */
static bool fresh(const char *dir, const struct stat *pdf)
{
	char path[PATH_MAX];
	struct stat st;
	pathf(path, "%s/info.json", dir);
	return !stat(path, &st) &&
	       (st.st_mtim.tv_sec > pdf->st_mtim.tv_sec ||
		(st.st_mtim.tv_sec == pdf->st_mtim.tv_sec && st.st_mtim.tv_nsec >= pdf->st_mtim.tv_nsec));
}

/* Makes page directory `path` of document directory `doc` again, under
 * the lock; nothing when another request made it while this one waited. */
static int refresh(struct bk_tiles *t, const char *doc, const char *path, const struct stat *pdf_st,
		   const char *pdf, int page, int width, int height, struct bk_error *err)
{
	char stage[PATH_MAX], old[PATH_MAX];
	bool staged = false;
	int rc = -1;

	pthread_mutex_lock(&t->lock);
	if (fresh(path, pdf_st)) {
		rc = 0;
		goto out;
	}
	if (make_dir(t->dir, err) || make_dir(doc, err))
		goto out;
	pathf(stage, "%s/.%04d-XXXXXX", doc, page);
	if (!mkdtemp(stage)) {
		bk_error_set(err, "cannot create a directory in '%s': %s", doc, strerror(errno));
		goto out;
	}
	staged = true;
	if (make_page(stage, pdf, page, width, height, err))
		goto out;
	/* a stale page is moved into the staging directory, removed with it */
	pathf(old, "%s/old", stage);
	if (rename(path, old) && errno != ENOENT) {
		bk_error_set(err, "cannot replace '%s': %s", path, strerror(errno));
		goto out;
	}
	pathf(old, "%s/t", stage);
	if (rename(old, path)) {
		bk_error_set(err, "cannot rename '%s': %s", old, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (staged)
		bk_rm_tree(stage, NULL); /* what is left of a failed staging */
	pthread_mutex_unlock(&t->lock);
	return rc;
}

int bk_tiles_ready(struct bk_tiles *t, const char *id, const char *pdf, int page, char **dir,
		   struct bk_error *err)
{
	char path[PATH_MAX];
	struct stat st;

	*dir = NULL;
	if (page < 1 || stat(pdf, &st) || pathf(path, "%s/%s/%04d", t->dir, id, page) ||
	    !fresh(path, &st))
		return 0;
	if (!(*dir = strdup(path)))
		return bk_error_set(err, "out of memory");
	return 1;
}

int bk_tiles_page(struct bk_tiles *t, const char *id, const char *pdf, int page, int width, int height,
		  char **dir, struct bk_error *err)
{
	char path[PATH_MAX], doc[PATH_MAX];
	struct stat st;

	*dir = NULL;
	if (width < 1 || height < 1 || page < 1)
		return bk_error_set(err, "page %d of '%s' has no size", page, pdf);
	if (stat(pdf, &st))
		return bk_error_set(err, "cannot open '%s': %s", pdf, strerror(errno));
	pathf(doc, "%s/%s", t->dir, id);
	if (pathf(path, "%s/%04d", doc, page) || strlen(path) > PATH_MAX - 64)
		return bk_error_set(err, "tile directory name too long for '%s'", pdf);
	if (!fresh(path, &st) && refresh(t, doc, path, &st, pdf, page, width, height, err))
		return -1;
	if (!(*dir = strdup(path)))
		return bk_error_set(err, "out of memory");
	return 0;
}
