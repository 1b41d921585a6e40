/*
 * ingest/vips.c — big pictures (see bk_big_picture_open in ingest/source.h):
 * a page of a JPEG, PNG or TIFF file, or a PDF page that is one JPEG image
 * and nothing else (its bytes taken from the PDF by ingest/pdf.c), read by
 * libvips without ever being decoded whole. The only file that sees
 * VipsImage.
 *
 * libvips decodes on demand: an image opened for sequential access is
 * decoded only as far as its rows are asked for, and keeps only a few of
 * them, so handing out bands of rows top to bottom costs one band of
 * memory whatever the picture's size. Encoding for the PDF goes the same
 * way: a JPEG file is passed on as its own bytes (read when asked for, not
 * while the picture is read), anything else is encoded as JPEG by libvips
 * straight from the file, row by row.
 *
 * Guarantees: the file is never written to; its size is checked against
 * the source's pixel limit from its header (a picture over the limit is no
 * big picture, and the ordinary reader refuses it with its usual message);
 * libvips's messages become the one error, naming the file and page.
 */
#include "ingest/source_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "bunko/atomic.h"

struct bk_big_picture {
	char *path, *name; /* name: for messages ("'x.jpg' page 1") */
	int page;          /* 0-based page of a TIFF or PDF, 0 for other files */
	bool tiff, jpeg;   /* what the file is (jpeg: or the PDF page's image) */
	/* a PDF page's image: its JPEG bytes as the PDF holds them, read
	 * from memory (owned) */
	unsigned char *held;
	size_t held_len;
	int width, height, xres, yres;
	VipsImage *rows;   /* sequential, as 8-bit gray or sRGB without alpha */
	VipsRegion *region;
	int next_row;      /* rows below this were handed out */
};

static int vips_failed(struct bk_error *err, const struct bk_big_picture *p, const char *what)
{
	char msg[BK_ERROR_MAX];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", vips_error_buffer());
	vips_error_clear();
	/* libvips ends each of its messages with a line break */
	for (n = strlen(msg); n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '); n--)
		msg[n - 1] = '\0';
	for (char *c = msg; *c; c++)
		if (*c == '\n')
			*c = ' ';
	return bk_error_set(err, "'%s' page %d: cannot %s: %s", p->name, p->page + 1, what,
			    msg[0] ? msg : "libvips failed");
}

/* The file opened for sequential access; a truncated file is an error,
 * not a picture with gray rows. */
static int load(const struct bk_big_picture *p, VipsImage **out, struct bk_error *err)
{
	int rc;

	*out = NULL;
	if (p->held) {
		*out = vips_image_new_from_buffer(p->held, p->held_len, "", "access",
						  VIPS_ACCESS_SEQUENTIAL, "fail_on",
						  VIPS_FAIL_ON_TRUNCATED, NULL);
		rc = *out ? 0 : -1;
	} else if (p->tiff) {
		rc = vips_tiffload(p->path, out, "page", p->page, "access",
				   VIPS_ACCESS_SEQUENTIAL, "fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
	} else {
		*out = vips_image_new_from_file(p->path, "access", VIPS_ACCESS_SEQUENTIAL,
						"fail_on", VIPS_FAIL_ON_TRUNCATED, NULL);
		rc = *out ? 0 : -1;
	}
	if (rc)
		return vips_failed(err, p, "read the image");
	return 0;
}

/* `in` as 8-bit gray (one band in, or two with alpha) or 8-bit sRGB,
 * alpha laid over white: what the OCR and the PDF take. Consumes `in`. */
static int to_display(const struct bk_big_picture *p, VipsImage *in, VipsImage **out,
		      struct bk_error *err)
{
	VipsImage *t[3] = { NULL, NULL, NULL };
	bool gray = vips_image_get_bands(in) - (vips_image_hasalpha(in) ? 1 : 0) == 1 &&
		    vips_image_get_interpretation(in) != VIPS_INTERPRETATION_CMYK;
	int rc = -1;

	*out = NULL;
	if (vips_colourspace(in, &t[0], gray ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB,
			     NULL))
		goto fail;
	if (vips_image_hasalpha(t[0])) {
		if (vips_flatten(t[0], &t[1], "background", vips_array_double_newv(1, 255.0),
				 NULL))
			goto fail;
	} else {
		t[1] = t[0];
		g_object_ref(t[1]);
	}
	if (vips_cast_uchar(t[1], &t[2], NULL))
		goto fail;
	*out = t[2];
	t[2] = NULL;
	rc = 0;
	goto out;
fail:
	vips_failed(err, p, "convert the image");
out:
	for (int i = 0; i < 3; i++)
		if (t[i])
			g_object_unref(t[i]);
	g_object_unref(in);
	return rc;
}

static int start_rows(struct bk_big_picture *p, struct bk_error *err)
{
	VipsImage *in = NULL;

	if (load(p, &in, err) || to_display(p, in, &p->rows, err))
		return -1;
	if (!(p->region = vips_region_new(p->rows)))
		return vips_failed(err, p, "read the image");
	p->next_row = 0;
	return 0;
}

static void stop_rows(struct bk_big_picture *p)
{
	if (p->region)
		g_object_unref(p->region);
	if (p->rows)
		g_object_unref(p->rows);
	p->region = NULL;
	p->rows = NULL;
}

/* libvips keeps resolutions in pixels per millimetre; 0 when the file has
 * none (libvips then says 1 per millimetre, 25 dpi, which no scan is). */
static int dpi_of(double per_mm)
{
	int dpi = (int)lround(per_mm * 25.4);

	return dpi <= 25 ? 0 : dpi;
}

int bk_big_picture_open(struct bk_big_picture **out, struct bk_source *src, int index,
			long min_pixels, struct bk_error *err)
{
	struct bk_big_picture *p = NULL;
	VipsImage *head = NULL;
	FILE *fp = NULL;
	unsigned char magic[3] = { 0 };
	long long pixels;
	int rc = -1;

	*out = NULL;
	/* vips_init may be called again; it only starts the library once */
	if (VIPS_INIT("bunko")) {
		bk_error_set(err, "cannot start libvips: %s", vips_error_buffer());
		vips_error_clear();
		return -1;
	}
	/* each picture is read once: the cache of operations would only keep
	 * decoded rows alive */
	vips_cache_set_max(0);
	if (!(p = calloc(1, sizeof(*p))) || !(p->path = strdup(src->path)) ||
	    !(p->name = strdup(src->name))) {
		bk_error_set(err, "out of memory opening '%s'", src->name);
		goto out;
	}
	p->page = index;
	p->tiff = src->kind == BK_SOURCE_TIFF;
	if (src->kind == BK_SOURCE_PDF) {
		int xres = 0, yres = 0;
		bk_pdf_page_jpeg(src, index, min_pixels, &p->held, &p->held_len, &xres, &yres);
		if (!p->held) {
			rc = 0;
			goto out;
		}
		p->jpeg = true;
		if (load(p, &head, err))
			goto out;
		/* the PDF's resolution, not the JPEG header's: the page size
		 * stays the one the PDF gives */
		p->xres = xres;
		p->yres = yres;
		goto sized;
	}
	if ((fp = fopen(src->path, "rb")) && fread(magic, 1, 3, fp) == 3)
		p->jpeg = magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF;
	if (!p->tiff && !p->jpeg && !vips_foreign_find_load(src->path)) {
		vips_error_clear(); /* a format libvips does not read (BMP, PNM) */
		rc = 0;
		goto out;
	}
	if (load(p, &head, err))
		goto out;
	p->xres = dpi_of(vips_image_get_xres(head));
	p->yres = dpi_of(vips_image_get_yres(head));
sized:
	p->width = vips_image_get_width(head);
	p->height = vips_image_get_height(head);
	pixels = (long long)p->width * p->height;
	if (pixels < min_pixels || pixels > src->max_pixels) {
		rc = 0; /* the ordinary reader's to take, or to refuse */
		goto out;
	}
	*out = p;
	p = NULL;
	rc = 0;
out:
	if (fp)
		fclose(fp);
	if (head)
		g_object_unref(head);
	bk_big_picture_free(&p);
	return rc;
}

void bk_big_picture_free(struct bk_big_picture **pp)
{
	struct bk_big_picture *p = *pp;

	if (!p)
		return;
	stop_rows(p);
	free(p->held);
	free(p->path);
	free(p->name);
	free(p);
	*pp = NULL;
}

void bk_big_picture_size(const struct bk_big_picture *p, int *width, int *height,
			 int *xres, int *yres)
{
	*width = p->width;
	*height = p->height;
	*xres = p->xres;
	*yres = p->yres;
}

int bk_big_picture_rows(void *ud, int y0, int y1, struct bk_image **out,
			struct bk_error *err)
{
	struct bk_big_picture *p = ud;
	VipsRect r = { 0, y0, p->width, y1 - y0 };
	bool gray;

	*out = NULL;
	if (y0 < 0 || y1 > p->height || y1 <= y0)
		return bk_error_set(err, "'%s' page %d: no rows %d to %d in a picture of %d",
				    p->name, p->page + 1, y0, y1, p->height);
	/* a sequential image is read once, top to bottom: going back starts
	 * the file again */
	if (p->rows && y0 < p->next_row)
		stop_rows(p);
	if (!p->rows && start_rows(p, err))
		return -1;
	if (vips_region_prepare(p->region, &r))
		return vips_failed(err, p, "decode the image");
	gray = vips_image_get_bands(p->rows) == 1;
	*out = bk_image_from_raw(p->width, y1 - y0, gray ? 8 : 24,
				 (const unsigned char *)VIPS_REGION_ADDR(p->region, 0, y0),
				 (size_t)VIPS_REGION_LSKIP(p->region), p->xres, p->yres, err);
	if (!*out)
		return -1;
	p->next_row = y1;
	return 0;
}

int bk_big_picture_encode(struct bk_big_picture *p, int quality, int xres, int yres,
			  struct bk_encoded_image *out, struct bk_error *err)
{
	struct bk_error why;
	VipsImage *in = NULL, *img = NULL;
	void *buf = NULL;
	char *data = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	/* the rows are done with: what they hold is not needed twice */
	stop_rows(p);
	if (p->held) {
		/* a CMYK JPEG cannot go into the PDF as is: encoded below */
		if (bk_encoded_from_jpeg(p->held, p->held_len, p->name, out, &why) == 0)
			goto done;
	} else if (p->jpeg) {
		if (bk_read_file(p->path, &data, &len, err))
			return -1;
		rc = bk_encoded_from_jpeg(data, len, p->name, out, &why);
		free(data);
		if (rc == 0)
			goto done;
	}
	rc = -1;
	if (load(p, &in, err) || to_display(p, in, &img, err))
		goto out;
	if (vips_jpegsave_buffer(img, &buf, &len, "Q", quality, "strip", TRUE, NULL)) {
		vips_failed(err, p, "encode the image");
		goto out;
	}
	out->encoding = BK_ENC_JPEG;
	out->width = p->width;
	out->height = p->height;
	out->bits_per_component = 8;
	out->components = vips_image_get_bands(img);
	/* GLib allocates with the system's malloc (since 2.46), so the buffer
	 * is the encoded image's own without a copy of it */
	out->data = buf;
	out->size = len;
	buf = NULL;
done:
	/* the resolution decided for the page, not the file's header: the PDF
	 * page size follows it */
	out->xres = xres;
	out->yres = yres;
	rc = 0;
out:
	if (img)
		g_object_unref(img);
	if (buf)
		g_free(buf);
	if (rc)
		bk_encoded_image_release(out);
	return rc;
}
