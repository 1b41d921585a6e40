/*
 * pipeline/source_pdf.c — scanned PDFs through poppler-glib. The only file
 * that sees PopplerDocument.
 *
 * A scanned PDF page is normally one image covering the page. Such a page
 * is read at the image's own resolution (poppler decodes the embedded image
 * without resampling), so a 400 dpi bilevel scan stays a 400 dpi bilevel
 * image. Any other page (several images, vector text, an image turned by
 * the page's /Rotate) is rendered with cairo at 300 dpi. Either way the
 * pixels are reduced to gray or 1 bpp when they allow it, so gray and
 * bilevel scans do not come out as color.
 *
 * The page size in pixels is checked against the limit before rendering.
 * An embedded image, though, is decoded by poppler before we learn its
 * size (poppler-glib does not expose an image's dimensions), so the limit
 * does not protect poppler's own decoding of an oversized embedded image.
 */
#include "pipeline/source_impl.h"

#include <cairo.h>
#include <math.h>
#include <stdint.h>
#include <poppler.h>
#include <stdlib.h>
#include <string.h>

#define PDF_RENDER_DPI 300.0

struct pdf_source {
	PopplerDocument *doc;
};

static void pdf_close(struct bk_source *src)
{
	struct pdf_source *p = src->impl;
	if (p->doc)
		g_object_unref(p->doc);
	free(p);
	src->impl = NULL;
}

/* Copies a cairo image surface (ARGB32/RGB24: native-endian words) into
 * R,G,B,x bytes and reduces it. */
static struct bk_image *from_surface(cairo_surface_t *s, int xres, int yres,
				     struct bk_error *err)
{
	int w = cairo_image_surface_get_width(s);
	int h = cairo_image_surface_get_height(s);
	int stride = cairo_image_surface_get_stride(s);
	const unsigned char *data;
	unsigned char *buf;
	struct bk_image *img;

	cairo_surface_flush(s);
	data = cairo_image_surface_get_data(s);
	buf = malloc((size_t)w * h * 4);
	if (!buf || !data) {
		free(buf);
		bk_error_set(err, "out of memory for %dx%d pixels", w, h);
		return NULL;
	}
	for (int y = 0; y < h; y++) {
		const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
		unsigned char *o = buf + (size_t)y * w * 4;
		for (int x = 0; x < w; x++) {
			uint32_t px = row[x];
			o[4 * x] = (unsigned char)(px >> 16);
			o[4 * x + 1] = (unsigned char)(px >> 8);
			o[4 * x + 2] = (unsigned char)px;
			o[4 * x + 3] = 255;
		}
	}
	img = bk_source_image_from_rgbx(buf, w, h, (size_t)w * 4, xres, yres, err);
	free(buf);
	return img;
}

/* The page's one image at its own resolution, or NULL (not an error) when
 * the page is not simply one upright image covering it. */
static struct bk_image *single_image(PopplerPage *page, double pw, double ph,
				     long max_pixels, struct bk_error *err)
{
	GList *maps = poppler_page_get_image_mapping(page);
	cairo_surface_t *s = NULL;
	struct bk_image *img = NULL;

	if (!maps || maps->next)
		goto out;
	PopplerImageMapping *m = maps->data;
	double aw = fabs(m->area.x2 - m->area.x1), ah = fabs(m->area.y2 - m->area.y1);
	if (aw < 0.9 * pw || ah < 0.9 * ph)
		goto out;
	s = poppler_page_get_image(page, m->image_id);
	if (!s || cairo_surface_status(s) != CAIRO_STATUS_SUCCESS ||
	    (cairo_image_surface_get_format(s) != CAIRO_FORMAT_ARGB32 &&
	     cairo_image_surface_get_format(s) != CAIRO_FORMAT_RGB24))
		goto out;
	int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
	if (w <= 0 || h <= 0 || (double)w * h > (double)max_pixels)
		goto out; /* rendering will check and report the size */
	/* an image turned by /Rotate has the page's aspect ratio swapped */
	double ratio = ((double)w / h) / (aw / ah);
	if (ratio < 0.98 || ratio > 1.02)
		goto out;
	int xres = (int)lround(w / (aw / 72.0)), yres = (int)lround(h / (ah / 72.0));
	if (xres < 50 || yres < 50 || xres > 4800 || yres > 4800)
		goto out;
	img = from_surface(s, xres, yres, err);
out:
	if (s)
		cairo_surface_destroy(s);
	if (maps)
		poppler_page_free_image_mapping(maps);
	return img;
}

static struct bk_image *render(PopplerPage *page, double pw, double ph,
			       const char *name, int index, long max_pixels,
			       struct bk_error *err)
{
	double scale = PDF_RENDER_DPI / 72.0;
	double wpx = ceil(pw * scale), hpx = ceil(ph * scale);
	cairo_surface_t *s = NULL;
	cairo_t *cr = NULL;
	struct bk_image *img = NULL;

	if (wpx < 1 || hpx < 1 || wpx * hpx > (double)max_pixels) {
		bk_error_set(err, "'%s' page %d: page of %.0fx%.0f pixels at %.0f dpi "
			     "exceeds the limit of %ld pixels", name, index + 1,
			     wpx, hpx, PDF_RENDER_DPI, max_pixels);
		return NULL;
	}
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)wpx, (int)hpx);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		bk_error_set(err, "'%s' page %d: out of memory rendering %.0fx%.0f pixels",
			     name, index + 1, wpx, hpx);
		goto out;
	}
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, scale, scale);
	poppler_page_render_for_printing(page, cr);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
		bk_error_set(err, "'%s' page %d: cannot render: %s", name, index + 1,
			     cairo_status_to_string(cairo_status(cr)));
		goto out;
	}
	img = from_surface(s, (int)PDF_RENDER_DPI, (int)PDF_RENDER_DPI, err);
	if (!img) {
		struct bk_error inner = *err;
		bk_error_set(err, "'%s' page %d: %s", name, index + 1, inner.msg);
	}
out:
	if (cr)
		cairo_destroy(cr);
	if (s)
		cairo_surface_destroy(s);
	return img;
}

static int pdf_read_page(struct bk_source *src, int index,
			 struct bk_source_page *out, struct bk_error *err)
{
	struct pdf_source *p = src->impl;
	PopplerPage *page = poppler_document_get_page(p->doc, index);
	double pw = 0, ph = 0;

	if (!page)
		return bk_error_set(err, "'%s' page %d: cannot read the page",
				    src->name, index + 1);
	poppler_page_get_size(page, &pw, &ph);
	out->image = single_image(page, pw, ph, src->max_pixels, err);
	if (!out->image)
		out->image = render(page, pw, ph, src->name, index, src->max_pixels, err);
	g_object_unref(page);
	return out->image ? 0 : -1;
}

static const struct bk_source_ops pdf_ops = { pdf_read_page, pdf_close };

int bk_source_pdf_open(struct bk_source *src, struct bk_error *err)
{
	struct pdf_source *p = calloc(1, sizeof(*p));
	GError *gerr = NULL;
	char *abs = NULL, *uri = NULL;
	int rc = -1;

	if (!p) {
		bk_error_set(err, "out of memory opening '%s'", src->name);
		goto out;
	}
	abs = realpath(src->path, NULL);
	uri = abs ? g_filename_to_uri(abs, NULL, &gerr) : NULL;
	if (!uri) {
		bk_error_set(err, "cannot open '%s': %s", src->name,
			     gerr ? gerr->message : "cannot resolve the path");
		goto out;
	}
	p->doc = poppler_document_new_from_file(uri, NULL, &gerr);
	if (!p->doc) {
		bk_error_set(err, "cannot open '%s': %s", src->name,
			     gerr ? gerr->message : "not a readable PDF");
		goto out;
	}
	src->npages = poppler_document_get_n_pages(p->doc);
	if (src->npages <= 0) {
		bk_error_set(err, "'%s': the PDF has no pages", src->name);
		goto out;
	}
	src->ops = &pdf_ops;
	src->impl = p;
	p = NULL;
	rc = 0;
out:
	if (gerr)
		g_error_free(gerr);
	g_free(uri);
	free(abs);
	if (p) {
		if (p->doc)
			g_object_unref(p->doc);
		free(p);
	}
	return rc;
}
