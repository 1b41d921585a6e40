/*
 * ingest/source.c — opening a page source: recognizes the format from the
 * file's first bytes and hands over to the adapter for it. Also the pixel
 * format reduction every adapter shares (bk_source_image_from_rgbx).
 */
#include "ingest/source_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The formats, in the order they are tried. */
static const struct bk_source_format *const formats[] = {
	&bk_source_format_tiff,
	&bk_source_format_pdf,
	&bk_source_format_image,
};

static const struct bk_source_format *find_format(enum bk_source_kind kind)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i]->kind == kind)
			return formats[i];
	return NULL;
}

int bk_source_sniff(const unsigned char *h, size_t len, const char *name,
		    enum bk_source_kind *kind, struct bk_error *err)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i]->sniff(h, len)) {
			*kind = formats[i]->kind;
			return 0;
		}
	return bk_error_set(err, "'%s': not a TIFF, PDF, PNG, JPEG, PNM or BMP image",
			    name);
}

int bk_source_open(struct bk_source **out, const char *path, const char *name,
		   long max_pixels, struct bk_error *err)
{
	struct bk_source *src = NULL;
	unsigned char head[1024];
	ssize_t n = 0;
	struct stat st;
	int fd = -1, rc = -1;

	*out = NULL;
	if (!name)
		name = path;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bk_error_set(err, "cannot open '%s': %s", name, strerror(errno));
	if (fstat(fd, &st)) {
		bk_error_set(err, "cannot open '%s': %s", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		bk_error_set(err, "'%s': not a regular file", name);
		goto out;
	}
	if (st.st_size == 0) {
		bk_error_set(err, "'%s': empty file", name);
		goto out;
	}
	do
		n = read(fd, head, sizeof(head));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		bk_error_set(err, "cannot read '%s': %s", name, strerror(errno));
		goto out;
	}
	src = calloc(1, sizeof(*src));
	if (!src || !(src->path = strdup(path)) || !(src->name = strdup(name))) {
		bk_error_set(err, "out of memory opening '%s'", name);
		goto out;
	}
	src->max_pixels = max_pixels > 0 ? max_pixels : BK_IMAGE_MAX_PIXELS_DEFAULT;
	if (bk_source_sniff(head, (size_t)n, name, &src->kind, err))
		goto out;
	if (find_format(src->kind)->open(src, err))
		goto out;
	*out = src;
	src = NULL;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	bk_source_free(&src);
	return rc;
}

void bk_source_free(struct bk_source **psrc)
{
	struct bk_source *src = *psrc;

	if (!src)
		return;
	if (src->ops && src->impl)
		src->ops->close(src);
	free(src->path);
	free(src->name);
	free(src);
	*psrc = NULL;
}

enum bk_source_kind bk_source_kind(const struct bk_source *src)
{
	return src->kind;
}

const char *bk_source_name(const struct bk_source *src)
{
	return src->name;
}

int bk_source_page_count(const struct bk_source *src)
{
	return src->npages;
}

int bk_source_read_page(struct bk_source *src, int index,
			struct bk_source_page *page, struct bk_error *err)
{
	memset(page, 0, sizeof(*page));
	if (index < 0 || index >= src->npages)
		return bk_error_set(err, "'%s' page %d: no such page (the file has %d)",
				    src->name, index + 1, src->npages);
	return src->ops->read_page(src, index, page, err);
}

void bk_source_page_release(struct bk_source_page *page)
{
	bk_image_free(&page->image);
	free(page->jpeg);
	if (page->text)
		bk_page_release(page->text);
	free(page->text);
	memset(page, 0, sizeof(*page));
}

struct bk_image *bk_source_image_from_rgbx(unsigned char *rgbx, int width,
					   int height, size_t stride, int xres,
					   int yres, struct bk_error *err)
{
	bool gray = true, bilevel = true;

	for (int y = 0; y < height && gray; y++) {
		const unsigned char *p = rgbx + (size_t)y * stride;
		for (int x = 0; x < width; x++, p += 4) {
			if (p[0] != p[1] || p[1] != p[2]) {
				gray = bilevel = false;
				break;
			}
			if (p[0] != 0 && p[0] != 255)
				bilevel = false;
		}
	}
	if (!gray)
		return bk_image_from_raw(width, height, 32, rgbx, stride, xres, yres, err);
	/* Reduce in place: each row shrinks, so it fits where it was read. */
	if (bilevel) {
		size_t out_stride = ((size_t)width + 7) / 8;
		for (int y = 0; y < height; y++) {
			const unsigned char *p = rgbx + (size_t)y * stride;
			unsigned char *o = rgbx + (size_t)y * out_stride;
			unsigned char acc = 0;
			int x;
			for (x = 0; x < width; x++) {
				acc = (unsigned char)(acc << 1 | (p[4 * x] == 0));
				if ((x & 7) == 7) {
					o[x >> 3] = acc;
					acc = 0;
				}
			}
			if (x & 7)
				o[x >> 3] = (unsigned char)(acc << (8 - (x & 7)));
		}
		return bk_image_from_raw(width, height, 1, rgbx, out_stride, xres, yres, err);
	}
	for (int y = 0; y < height; y++) {
		const unsigned char *p = rgbx + (size_t)y * stride;
		unsigned char *o = rgbx + (size_t)y * width;
		for (int x = 0; x < width; x++)
			o[x] = p[4 * x];
	}
	return bk_image_from_raw(width, height, 8, rgbx, (size_t)width, xres, yres, err);
}
