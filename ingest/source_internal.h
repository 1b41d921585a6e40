/*
 * ingest/source_internal.h — what the format adapters (ingest/tiff.c,
 * ingest/pdf.c, ingest/image.c) share with source.c. Not a public header:
 * only the pipeline's source files include it.
 */
#ifndef BUNKO_INGEST_SOURCE_INTERNAL_H
#define BUNKO_INGEST_SOURCE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "ingest/source.h"

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

/*
 * A format, as its adapter registers it: `sniff` tells from a file's first
 * bytes (at most 1024) whether the file is of the format, and `open` fills
 * src->ops, src->npages and src->impl, or returns -1 with `err` naming the
 * file. Each adapter defines one of these and nothing else public;
 * source.c lists them, in the order they are tried, and is the only file
 * that knows them all, so no adapter includes another.
 */
struct bk_source_format {
	enum bk_source_kind kind;
	bool (*sniff)(const unsigned char *head, size_t len);
	int (*open)(struct bk_source *src, struct bk_error *err);
};

extern const struct bk_source_format bk_source_format_tiff; /* tiff.c */
extern const struct bk_source_format bk_source_format_pdf;  /* pdf.c */
extern const struct bk_source_format bk_source_format_image; /* image.c */

/*
 * The declared pixel sizes of the images a PDF page draws, read before
 * anything is decoded (ingest/pdf_images.c, qpdf). check_page returns -1
 * with "'NAME' page N: image of WxH pixels exceeds the limit of M pixels"
 * when one of them is larger than max_pixels.
 */
struct bk_pdf_images;
int bk_pdf_images_open(struct bk_pdf_images **out, const char *path, const char *name,
		       struct bk_error *err);
int bk_pdf_images_check_page(struct bk_pdf_images *pi, int index, long max_pixels,
			     const char *name, struct bk_error *err);
void bk_pdf_images_free(struct bk_pdf_images **pi);
/* The raw DCTDecode stream of page `index`'s image when the page draws
 * nothing but one 8-bit gray or RGB JPEG image (no mask, no /Decode, no
 * form, pattern or annotation), with its declared size; *jpeg (malloc'd,
 * the caller frees) NULL otherwise. Nothing is decoded. */
int bk_pdf_images_page_jpeg(struct bk_pdf_images *pi, int index, unsigned char **jpeg,
			    size_t *len, int *width, int *height);

/*
 * A PDF page that is one big JPEG picture and nothing else (ingest/pdf.c,
 * for ingest/vips.c): the page draws only that image (above), upright and
 * covering the page, has no text of its own, its declared size is within
 * [min_pixels, max_pixels] and its resolution (pixels over the page's
 * size) plausible. *jpeg (the caller frees) gets the image's bytes as the
 * PDF holds them and x/yres its resolution; NULL when the page is not
 * such a picture (the ordinary reader takes it), which is not an error.
 * Nothing is decoded.
 */
int bk_pdf_page_jpeg(struct bk_source *src, int index, long min_pixels, unsigned char **jpeg,
		     size_t *len, int *xres, int *yres);

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
