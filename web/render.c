/*
 * web/render.c — PDF page to PNG or JPEG with poppler-glib, cairo and
 * libjpeg (see render.h).
 */
#include "web/render.h"

#include <cairo.h>
#include <jpeglib.h>
#include <poppler.h>
#include <stdint.h>
#include <stdlib.h>

#define JPEG_QUALITY 85

static cairo_status_t write_png(void *closure, const unsigned char *data, unsigned int length)
{
	struct bk_buf *b = closure;
	bk_buf_add(b, data, length);
	return b->failed ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

/* cairo's RGB24 (native-endian 32-bit xRGB words) as a baseline JPEG. */
static int write_jpeg(cairo_surface_t *s, struct bk_buf *out)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	unsigned char *mem = NULL, *row = NULL;
	unsigned long size = 0;
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	const unsigned char *data = cairo_image_surface_get_data(s);

	if (!(row = malloc((size_t)w * 3)))
		return -1;
	/* libjpeg's default error handler exits only on a broken program
	 * (bad parameters); out of memory in jpeg_mem_dest is the one runtime
	 * failure, and it is reported the same way, so sizes are bounded by
	 * BK_RENDER_MAX before */
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &mem, &size);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, JPEG_QUALITY, TRUE);
	jpeg_start_compress(&c, TRUE);
	for (int y = 0; y < h; y++) {
		const uint32_t *px = (const uint32_t *)(data + (size_t)y * (size_t)stride);
		for (int x = 0; x < w; x++) {
			row[3 * x] = (unsigned char)(px[x] >> 16);
			row[3 * x + 1] = (unsigned char)(px[x] >> 8);
			row[3 * x + 2] = (unsigned char)px[x];
		}
		JSAMPROW rows[1] = { row };
		jpeg_write_scanlines(&c, rows, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	bk_buf_add(out, mem, size);
	free(mem);
	free(row);
	return out->failed ? -1 : 0;
}

int bk_render_page(const char *pdf, int page, int width, int height, enum bk_image_format format,
		   struct bk_buf *out, struct bk_error *err)
{
	GError *gerr = NULL;
	char *uri = g_filename_to_uri(pdf, NULL, &gerr);
	PopplerDocument *doc = NULL;
	PopplerPage *p = NULL;
	cairo_surface_t *s = NULL;
	cairo_t *cr = NULL;
	double w_pt, h_pt;
	int rc = -1;

	if (width < 1 || height < 1 || width > BK_RENDER_MAX || height > BK_RENDER_MAX) {
		bk_error_set(err, "cannot render page %d of '%s' at %d x %d pixels", page, pdf, width, height);
		goto out;
	}
	if (!uri || !(doc = poppler_document_new_from_file(uri, NULL, &gerr))) {
		bk_error_set(err, "cannot open '%s': %s", pdf, gerr ? gerr->message : "out of memory");
		goto out;
	}
	if (page < 1 || page > poppler_document_get_n_pages(doc) ||
	    !(p = poppler_document_get_page(doc, page - 1))) {
		bk_error_set(err, "'%s' has no page %d", pdf, page);
		goto out;
	}
	poppler_page_get_size(p, &w_pt, &h_pt);
	if (w_pt <= 0 || h_pt <= 0) {
		bk_error_set(err, "page %d of '%s' has no size", page, pdf);
		goto out;
	}
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, width / w_pt, height / h_pt);
	poppler_page_render(p, cr);
	cairo_surface_flush(s);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS ||
	    (format == BK_IMAGE_PNG ? cairo_surface_write_to_png_stream(s, write_png, out) != CAIRO_STATUS_SUCCESS
				    : write_jpeg(s, out) != 0)) {
		bk_error_set(err, "cannot render page %d of '%s'", page, pdf);
		goto out;
	}
	rc = 0;
out:
	if (cr)
		cairo_destroy(cr);
	if (s)
		cairo_surface_destroy(s);
	if (p)
		g_object_unref(p);
	if (doc)
		g_object_unref(doc);
	if (gerr)
		g_error_free(gerr);
	g_free(uri);
	return rc;
}
