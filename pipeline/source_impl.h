/*
 * pipeline/source_impl.h — what the format adapters (source_tiff.c,
 * source_pdf.c, source_image.c) share with source.c. Not a public header:
 * only the pipeline's source files include it.
 */
#ifndef BUNKO_PIPELINE_SOURCE_IMPL_H
#define BUNKO_PIPELINE_SOURCE_IMPL_H

#include "pipeline/source.h"

struct bk_source_ops {
	int (*read_page)(struct bk_source *src, int index,
			 struct bk_source_page *page, struct bk_error *err);
	void (*close)(struct bk_source *src);
};

struct bk_source {
	const struct bk_source_ops *ops;
	enum bk_source_kind kind;
	char *path;      /* as given to bk_source_open */
	char *name;      /* for messages */
	long max_pixels; /* > 0 */
	int npages;      /* set by the adapter's open */
	void *impl;      /* the adapter's state */
};

/* Each adapter's open: fills src->ops, src->npages and src->impl, or
 * returns -1 with `err` naming the file. */
int bk_source_tiff_open(struct bk_source *src, struct bk_error *err);
int bk_source_pdf_open(struct bk_source *src, struct bk_error *err);
int bk_source_image_open(struct bk_source *src, struct bk_error *err);

/*
 * Turns a decoded page of 32-bit pixels (bytes R,G,B,x per pixel, rows of
 * `stride` bytes) into the smallest faithful bk_image: 1 bpp when every
 * pixel is pure black or white, 8-bit gray when R=G=B everywhere, RGB
 * otherwise. `rgbx` may be rewritten in place.
 */
struct bk_image *bk_source_image_from_rgbx(unsigned char *rgbx, int width,
					   int height, size_t stride, int xres,
					   int yres, struct bk_error *err);

#endif
