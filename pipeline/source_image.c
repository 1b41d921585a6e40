/*
 * pipeline/source_image.c — single-image files (PNG, JPEG, PNM, BMP) as a
 * one-page source, decoded by ocr/image.h (which checks the header's size
 * against the pixel limit before decoding).
 *
 * The file is read only when its page is asked for, and not kept after.
 * For a JPEG the original bytes are handed on with the page, so a color
 * print can go into the PDF exactly as it was scanned.
 */
#include "pipeline/source_impl.h"

#include <stdlib.h>
#include <string.h>

#include "bunko/atomic.h"

static void image_close(struct bk_source *src)
{
	src->impl = NULL;
}

static int image_read_page(struct bk_source *src, int index,
			   struct bk_source_page *page, struct bk_error *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc = -1;

	if (bk_read_file(src->path, &data, &len, err))
		return -1;
	page->image = bk_image_read_mem(data, len, src->name, src->max_pixels, err);
	if (!page->image)
		goto out;
	if (len >= 3 && (unsigned char)data[0] == 0xFF &&
	    (unsigned char)data[1] == 0xD8 && (unsigned char)data[2] == 0xFF) {
		page->jpeg = (unsigned char *)data;
		page->jpeg_len = len;
		data = NULL;
	}
	rc = 0;
out:
	free(data);
	return rc;
}

static const struct bk_source_ops image_ops = { image_read_page, image_close };

int bk_source_image_open(struct bk_source *src, struct bk_error *err)
{
	src->npages = 1;
	src->ops = &image_ops;
	src->impl = src; /* no state of its own; non-NULL marks it open */
	return 0;
}
