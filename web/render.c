/*
 * web/render.c — PDF page to PNG with poppler-glib and cairo (see
 * render.h).
 */
#include "web/render.h"

#include <cairo.h>
#include <poppler.h>
#include <stdlib.h>

static cairo_status_t write_png(void *closure, const unsigned char *data, unsigned int length)
{
	struct bk_buf *b = closure;
	bk_buf_add(b, data, length);
	return b->failed ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

int bk_render_page_png(const char *pdf, int page, int width, struct bk_buf *png, struct bk_error *err)
{
	GError *gerr = NULL;
	char *uri = g_filename_to_uri(pdf, NULL, &gerr);
	PopplerDocument *doc = NULL;
	PopplerPage *p = NULL;
	cairo_surface_t *s = NULL;
	cairo_t *cr = NULL;
	double w_pt, h_pt;
	int rc = -1;

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
	if (w_pt <= 0 || h_pt <= 0 || width < 1) {
		bk_error_set(err, "page %d of '%s' has no size", page, pdf);
		goto out;
	}
	double scale = width / w_pt;
	int height = (int)(h_pt * scale + 0.5);
	if (height < 1 || height > 4 * width) {
		bk_error_set(err, "page %d of '%s' is too tall to show", page, pdf);
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
	cairo_scale(cr, scale, scale);
	poppler_page_render(p, cr);
	cairo_surface_flush(s);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS ||
	    cairo_surface_write_to_png_stream(s, write_png, png) != CAIRO_STATUS_SUCCESS) {
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
