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
 * The declared pixel sizes of the images a PDF page draws, read before
 * anything is decoded (source_pdf_images.c, qpdf). check_page returns -1
 * with "'NAME' page N: image of WxH pixels exceeds the limit of M pixels"
 * when one of them is larger than max_pixels.
 */
struct bk_pdf_images;
int bk_pdf_images_open(struct bk_pdf_images **out, const char *path, const char *name,
		       struct bk_error *err);
int bk_pdf_images_check_page(struct bk_pdf_images *pi, int index, long max_pixels,
			     const char *name, struct bk_error *err);
void bk_pdf_images_free(struct bk_pdf_images **pi);

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
