/*
 * ingest/tiff.c — multi-page TIFF through libtiff. The only file
 * that includes tiffio.h.
 *
 * Pages are directories (IFDs): opening walks the directory chain only, and
 * each read decodes one page, so a 1,000-page TIFF costs the memory of one
 * page. A page's size is checked against the pixel limit before any pixel
 * is decoded.
 *
 * Decoding:
 * - bilevel (1 bit, 1 sample, MinIsWhite or MinIsBlack, strips): scanline by
 *   scanline into 1-bpp rows, inverted for MinIsBlack so that 1 is black.
 *   libtiff itself reverses the bit order of FillOrder=LSB2MSB data before
 *   decoding, so rows arrive MSB-first either way.
 * - 8-bit gray (1 sample, strips): scanlines into gray rows, inverted for
 *   MinIsWhite.
 * - everything else (color, palette, tiles, 16 bit, JPEG-in-TIFF, YCbCr):
 *   TIFFReadRGBAImageOriented, then reduced to gray or bilevel when the
 *   pixels allow (bk_source_image_from_rgbx).
 *
 * libtiff reports problems through handlers; the per-handle handlers of
 * libtiff >= 4.5 (TIFFOpenOptions) put them into this source's own buffer,
 * which the current call copies into its `struct bk_error`. Nothing is
 * printed and no global handler is touched.
 */
#include "ingest/source_internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

struct tiff_source {
	TIFF *tif;
	char msg[512]; /* first libtiff error since the call began */
};

static int on_tiff_error(TIFF *tif, void *ud, const char *module,
			 const char *fmt, va_list ap)
{
	struct tiff_source *t = ud;
	if (t && !t->msg[0]) {
		vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
		/* libtiff starts many messages with the file name, which
		 * bunko's message names already, quoted */
		const char *file = tif ? TIFFFileName(tif) : NULL;
		size_t n = file ? strlen(file) : 0;
		if (n && !strncmp(t->msg, file, n) && !strncmp(t->msg + n, ": ", 2))
			memmove(t->msg, t->msg + n + 2, strlen(t->msg + n + 2) + 1);
	}
	return 1; /* handled: do not call the global handler */
}

static int on_tiff_warning(TIFF *tif, void *ud, const char *module,
			   const char *fmt, va_list ap)
{
	/* Warnings (unknown tags, odd but readable values) are not errors and
	 * are not worth a line on anyone's terminal. */
	return 1;
}

static const char *tiff_msg(const struct tiff_source *t)
{
	return t->msg[0] ? t->msg : "invalid or corrupt TIFF data";
}

static void tiff_close(struct bk_source *src)
{
	struct tiff_source *t = src->impl;
	if (t->tif)
		TIFFClose(t->tif);
	free(t);
	src->impl = NULL;
}

static void resolution(TIFF *tif, int *xres, int *yres)
{
	float xr = 0, yr = 0;
	uint16_t unit = RESUNIT_INCH;

	TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
	if (!TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xr))
		xr = 0;
	if (!TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yr))
		yr = xr;
	if (unit == RESUNIT_CENTIMETER) {
		xr *= 2.54f;
		yr *= 2.54f;
	} else if (unit == RESUNIT_NONE) {
		xr = yr = 0; /* an aspect ratio, not a resolution */
	}
	*xres = xr > 0 && xr < 100000 ? (int)(xr + 0.5f) : 0;
	*yres = yr > 0 && yr < 100000 ? (int)(yr + 0.5f) : *xres;
}

/* 1-bit or 8-bit single-sample scanlines. */
static struct bk_image *read_scanlines(struct bk_source *src, int index,
				       uint32_t w, uint32_t h, int bits,
				       bool invert, int xres, int yres,
				       struct bk_error *err)
{
	struct tiff_source *t = src->impl;
	size_t row_bytes = bits == 1 ? ((size_t)w + 7) / 8 : (size_t)w;
	tmsize_t sl = TIFFScanlineSize(t->tif);
	unsigned char *buf = NULL;
	struct bk_image *img = NULL;

	if (sl <= 0 || (size_t)sl < row_bytes) {
		bk_error_set(err, "'%s' page %d: %s", src->name, index + 1, tiff_msg(t));
		goto out;
	}
	buf = malloc(row_bytes * h + (size_t)sl);
	if (!buf) {
		bk_error_set(err, "'%s' page %d: out of memory for %ux%u pixels",
			     src->name, index + 1, w, h);
		goto out;
	}
	for (uint32_t y = 0; y < h; y++) {
		unsigned char *row = buf + (size_t)y * row_bytes;
		/* a scanline longer than row_bytes (padding) spills into the
		 * next row, overwritten next; the last row has a spare tail */
		if (TIFFReadScanline(t->tif, row, y, 0) < 0) {
			bk_error_set(err, "'%s' page %d: cannot decode row %u: %s",
				     src->name, index + 1, y + 1, tiff_msg(t));
			goto out;
		}
		if (invert)
			for (size_t i = 0; i < row_bytes; i++)
				row[i] = (unsigned char)~row[i];
	}
	img = bk_image_from_raw((int)w, (int)h, bits, buf, row_bytes, xres, yres, err);
out:
	free(buf);
	return img;
}

static struct bk_image *read_rgba(struct bk_source *src, int index, uint32_t w,
				  uint32_t h, int xres, int yres,
				  struct bk_error *err)
{
	struct tiff_source *t = src->impl;
	char emsg[1024] = "";
	uint32_t *raster = NULL;
	struct bk_image *img = NULL;

	if (!TIFFRGBAImageOK(t->tif, emsg)) {
		bk_error_set(err, "'%s' page %d: unsupported TIFF image: %s", src->name,
			     index + 1, emsg);
		goto out;
	}
	raster = malloc((size_t)w * h * sizeof(uint32_t));
	if (!raster) {
		bk_error_set(err, "'%s' page %d: out of memory for %ux%u pixels",
			     src->name, index + 1, w, h);
		goto out;
	}
	if (!TIFFReadRGBAImageOriented(t->tif, w, h, raster, ORIENTATION_TOPLEFT, 1)) {
		bk_error_set(err, "'%s' page %d: cannot decode: %s", src->name,
			     index + 1, tiff_msg(t));
		goto out;
	}
	/* ABGR words -> R,G,B,x bytes, independent of host byte order */
	for (size_t i = 0; i < (size_t)w * h; i++) {
		uint32_t px = raster[i];
		unsigned char *b = (unsigned char *)&raster[i];
		b[0] = (unsigned char)TIFFGetR(px);
		b[1] = (unsigned char)TIFFGetG(px);
		b[2] = (unsigned char)TIFFGetB(px);
		b[3] = 255;
	}
	img = bk_source_image_from_rgbx((unsigned char *)raster, (int)w, (int)h,
					(size_t)w * 4, xres, yres, err);
out:
	free(raster);
	return img;
}

static int tiff_read_page(struct bk_source *src, int index,
			  struct bk_source_page *page, struct bk_error *err)
{
	struct tiff_source *t = src->impl;
	uint32_t w = 0, h = 0;
	uint16_t bps = 1, spp = 1, photometric = PHOTOMETRIC_MINISWHITE, planar = 1;
	int xres, yres;

	t->msg[0] = '\0';
	/* the next page is one step along the directory chain; any other page
	 * is found from the start of the chain */
	int found = (int)TIFFCurrentDirectory(t->tif) + 1 == index
			    ? TIFFReadDirectory(t->tif)
			    : TIFFSetDirectory(t->tif, (tdir_t)index);
	if (!found)
		return bk_error_set(err, "'%s' page %d: cannot read the page: %s",
				    src->name, index + 1, tiff_msg(t));
	if (!TIFFGetField(t->tif, TIFFTAG_IMAGEWIDTH, &w) ||
	    !TIFFGetField(t->tif, TIFFTAG_IMAGELENGTH, &h) || w == 0 || h == 0)
		return bk_error_set(err, "'%s' page %d: the page has no image size",
				    src->name, index + 1);
	if ((double)w * h > (double)src->max_pixels)
		return bk_error_set(err, "'%s' page %d: image of %ux%u pixels exceeds "
				    "the limit of %ld pixels", src->name, index + 1,
				    w, h, src->max_pixels);
	TIFFGetFieldDefaulted(t->tif, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(t->tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(t->tif, TIFFTAG_PLANARCONFIG, &planar);
	if (!TIFFGetField(t->tif, TIFFTAG_PHOTOMETRIC, &photometric))
		photometric = bps == 1 ? PHOTOMETRIC_MINISWHITE : PHOTOMETRIC_MINISBLACK;
	resolution(t->tif, &xres, &yres);

	bool gray_kind = spp == 1 && (photometric == PHOTOMETRIC_MINISWHITE ||
				      photometric == PHOTOMETRIC_MINISBLACK);
	bool strips = !TIFFIsTiled(t->tif) && planar == PLANARCONFIG_CONTIG;
	if (gray_kind && strips && bps == 1)
		page->image = read_scanlines(src, index, w, h, 1,
					     photometric == PHOTOMETRIC_MINISBLACK,
					     xres, yres, err);
	else if (gray_kind && strips && bps == 8)
		page->image = read_scanlines(src, index, w, h, 8,
					     photometric == PHOTOMETRIC_MINISWHITE,
					     xres, yres, err);
	else
		page->image = read_rgba(src, index, w, h, xres, yres, err);
	return page->image ? 0 : -1;
}

static const struct bk_source_ops tiff_ops = { tiff_read_page, tiff_close };

static int tiff_open(struct bk_source *src, struct bk_error *err)
{
	struct tiff_source *t = calloc(1, sizeof(*t));
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
	int rc = -1;

	if (!t || !opts) {
		bk_error_set(err, "out of memory opening '%s'", src->name);
		goto out;
	}
	TIFFOpenOptionsSetErrorHandlerExtR(opts, on_tiff_error, t);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, on_tiff_warning, t);
	/* no single allocation larger than a page of the allowed size needs */
	TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)src->max_pixels * 4 + (1 << 20));
	/* "m": no memory mapping, so a 2 GB TIFF does not show up as 2 GB of
	 * resident pages; one strip is read at a time */
	t->tif = TIFFOpenExt(src->path, "rm", opts);
	if (!t->tif) {
		bk_error_set(err, "cannot open '%s': %s", src->name, tiff_msg(t));
		goto out;
	}
	tdir_t n = TIFFNumberOfDirectories(t->tif);
	if (n == 0 || t->msg[0]) {
		bk_error_set(err, "'%s': %s", src->name,
			     t->msg[0] ? t->msg : "no pages in the TIFF file");
		goto out;
	}
	src->npages = (int)n;
	src->ops = &tiff_ops;
	src->impl = t;
	t = NULL;
	rc = 0;
out:
	if (opts)
		TIFFOpenOptionsFree(opts);
	if (t) {
		if (t->tif)
			TIFFClose(t->tif);
		free(t);
	}
	return rc;
}

/* "II*\0" or "MM\0*" (classic TIFF), "II+\0" or "MM\0+" (BigTIFF). */
static bool tiff_sniff(const unsigned char *h, size_t len)
{
	return len >= 4 && ((h[0] == 'I' && h[1] == 'I' && (h[2] == 42 || h[2] == 43) && h[3] == 0) ||
			    (h[0] == 'M' && h[1] == 'M' && h[2] == 0 && (h[3] == 42 || h[3] == 43)));
}

const struct bk_source_format bk_source_format_tiff = {
	.kind = BK_SOURCE_TIFF,
	.sniff = tiff_sniff,
	.open = tiff_open,
};
