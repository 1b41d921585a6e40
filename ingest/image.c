/*
 * ingest/image.c — single-image files (PNG, JPEG, PNM, BMP) as a
 * one-page source, decoded by ocr/image.h (which checks the header's size
 * against the pixel limit before decoding).
 *
 * The file is read only when its page is asked for, and not kept after.
 * For a JPEG the original bytes are handed on with the page, so a color
 * print can go into the PDF exactly as it was scanned.
 */
#include "ingest/source_internal.h"

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

static int image_open(struct bk_source *src, struct bk_error *err)
{
	src->npages = 1;
	src->ops = &image_ops;
	src->impl = src; /* no state of its own; non-NULL marks it open */
	return 0;
}

/* PNG, JPEG, BMP, and PNM (P1-P6 followed by white space). */
static bool image_sniff(const unsigned char *h, size_t len)
{
	return (len >= 8 && !memcmp(h, "\x89PNG\r\n\x1a\n", 8)) ||
	       (len >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) ||
	       (len >= 2 && h[0] == 'B' && h[1] == 'M') ||
	       (len >= 3 && h[0] == 'P' && h[1] >= '1' && h[1] <= '6' &&
		(h[2] == ' ' || h[2] == '\n' || h[2] == '\r' || h[2] == '\t'));
}

const struct bk_source_format bk_source_format_image = {
	.kind = BK_SOURCE_IMAGE,
	.sniff = image_sniff,
	.open = image_open,
};
