/*
 * ocr/image.c — the Leptonica adapter. This is the only file that includes
 * Leptonica's headers; a `struct bk_image` is a Pix of depth 1, 8 or 32 and
 * nothing else (see ocr/image.h for the guarantees).
 *
 * PNG and JPEG are decoded with libpng and libjpeg directly (see "PNG and
 * JPEG" below), so that the codecs' messages become bunko's one error.
 *
 * Leptonica's messages. Leptonica reports its own errors and warnings on
 * stderr, which would break the rule that a failure is reported once, by
 * the command at the top. Its message level is a process-wide setting of
 * the library (Tesseract, which also calls Leptonica, shares it). We do not
 * keep a "silenced already" flag of our own (no mutable globals here);
 * instead every public entry point calls quiet(), which sets the level to
 * L_SEVERITY_NONE. That is idempotent, always writes the same value, costs
 * nothing, and keeps working if another library changes the level between
 * our calls. Failures are detected from return values and reported through
 * `struct bk_error` with the file name.
 *
 * Memory. Every Pix created here is destroyed on the function's single
 * `out:` path. Large intermediate images are avoided: page-level analysis
 * (borders, gutters) works on a reduced copy of at most ANALYSIS_WIDTH
 * pixels across.
 */
#include "ocr/image.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <leptonica/allheaders.h>
#include <malloc.h>
#include <png.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>

struct bk_image {
	PIX *pix;
};

/* Decoding an image this large returns the decoder's freed memory to the
 * system (see bk_image_read_mem). */
#define TRIM_AFTER_PIXELS (16.0 * 1000 * 1000)

/* Width of the reduced copy used to find borders and gutters. */
#define ANALYSIS_WIDTH 1000

static void quiet(void)
{
	setMsgSeverity(L_SEVERITY_NONE);
}

static struct bk_image *wrap(PIX **pix)
{
	struct bk_image *img = calloc(1, sizeof(*img));

	if (!img) {
		pixDestroy(pix);
		return NULL;
	}
	img->pix = *pix;
	*pix = NULL;
	return img;
}

static struct bk_image *wrap_or_fail(PIX **pix, const char *what, struct bk_error *err)
{
	struct bk_image *img;

	if (!*pix) {
		bk_error_set(err, "%s failed (out of memory or invalid image)", what);
		return NULL;
	}
	img = wrap(pix);
	if (!img)
		bk_error_set(err, "%s: out of memory", what);
	return img;
}

/*
 * Brings a decoded Pix to one of the depths this module promises: 1 (kept
 * as is), 8 (gray) or 32 (RGB, alpha composed over white). Consumes *pix.
 */
static PIX *normalize_depth(PIX **pix)
{
	PIX *p = *pix, *q = NULL;
	int d;

	*pix = NULL;
	if (pixGetColormap(p)) {
		q = pixRemoveColormap(p, REMOVE_CMAP_BASED_ON_SRC);
		pixDestroy(&p);
		if (!q)
			return NULL;
		p = q;
		q = NULL;
	}
	d = pixGetDepth(p);
	if (d == 32 && pixGetSpp(p) == 4) {
		q = pixAlphaBlendUniform(p, 0xffffff00);
		pixDestroy(&p);
		if (!q)
			return NULL;
		p = q;
		pixSetSpp(p, 3);
		return p;
	}
	if (d == 1 || d == 8 || d == 32)
		return p;
	if (d == 24)
		q = pixConvert24To32(p);
	else if (d == 16)
		q = pixConvert16To8(p, L_MS_BYTE);
	else
		q = pixConvertTo8(p, FALSE);
	if (q)
		pixCopyResolution(q, p);
	pixDestroy(&p);
	return q;
}

static bool supported_format(int format)
{
	switch (format) {
	case IFF_BMP:
	case IFF_JFIF_JPEG:
	case IFF_PNG:
	case IFF_TIFF:
	case IFF_TIFF_PACKBITS:
	case IFF_TIFF_RLE:
	case IFF_TIFF_G3:
	case IFF_TIFF_G4:
	case IFF_TIFF_LZW:
	case IFF_TIFF_ZIP:
	case IFF_TIFF_JPEG:
	case IFF_PNM:
		return true;
	default:
		return false;
	}
}

/* ---- PNG and JPEG through their own libraries ------------------------
 *
 * Leptonica decodes PNG and JPEG with the codecs' default message handlers,
 * which print to stderr ("libpng error: ...", "Premature end of JPEG
 * file") before bunko reports the same failure: two or three lines for one
 * damaged file. So these two formats are decoded here, with handlers that
 * put the codec's own words into the one bunko error instead. The rows go
 * straight into the Pix (in the codec's byte order, then swapped to
 * Leptonica's 32-bit words with pixEndianByteSwap), so no second copy of a
 * large image is held. */

struct codec_msg {
	jmp_buf jump;
	char text[200]; /* the codec's first error or warning */
};

struct png_input {
	const l_uint8 *data;
	size_t len, pos;
};

static void png_on_error(png_structp png, png_const_charp msg)
{
	struct codec_msg *m = png_get_error_ptr(png);
	if (!m->text[0])
		snprintf(m->text, sizeof(m->text), "%s", msg);
	longjmp(m->jump, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
	(void)png; /* benign (a stale iCCP profile, say): not printed, not fatal */
	(void)msg;
}

static void png_read_mem(png_structp png, png_bytep out, size_t n)
{
	struct png_input *in = png_get_io_ptr(png);
	if (n > in->len - in->pos)
		png_error(png, "the file ends early (truncated)");
	memcpy(out, in->data + in->pos, n);
	in->pos += n;
}

/* 1 (bilevel), 8 (gray) or 32 (RGB, alpha composed over white) bits. */
static PIX *decode_png(const l_uint8 *data, size_t len, const char *name,
		       struct bk_error *err)
{
	struct codec_msg msg = { .text = "" };
	struct png_input in = { data, len, 0 };
	png_structp png = NULL;
	png_infop info = NULL;
	png_bytep *volatile rows = NULL;
	PIX *volatile pix = NULL;
	png_uint_32 w, h, xppm = 0, yppm = 0;
	int depth, color, unit = 0, d;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &msg, png_on_error,
				     png_on_warning);
	info = png ? png_create_info_struct(png) : NULL;
	if (!info) {
		snprintf(msg.text, sizeof(msg.text), "out of memory");
		goto fail;
	}
	if (setjmp(msg.jump))
		goto fail;
	png_set_read_fn(png, &in, png_read_mem);
	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &color, NULL, NULL, NULL);
	d = (color == PNG_COLOR_TYPE_GRAY && depth == 1) ? 1
	    : (color & PNG_COLOR_MASK_COLOR) ? 32 : 8;
	png_set_strip_16(png);
	if (color == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(png);
	if (color == PNG_COLOR_TYPE_GRAY && depth > 1 && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (png_get_valid(png, info, PNG_INFO_tRNS))
		png_set_tRNS_to_alpha(png);
	if ((color & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS)) {
		png_color_16 white = { 0, 255, 255, 255, 255 };
		if (d == 1)
			d = 8;
		if (d == 8 && !(color & PNG_COLOR_MASK_COLOR) && depth < 8)
			white.gray = (png_uint_16)((1 << depth) - 1);
		png_set_background(png, &white, PNG_BACKGROUND_GAMMA_FILE, 1, 1.0);
	}
	if (d == 32)
		png_set_filler(png, 0xff, PNG_FILLER_AFTER);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	if (png_get_rowbytes(png, info) > (size_t)w * (size_t)(d == 1 ? 1 : d / 8) + 4)
		png_error(png, "unexpected row layout");
	pix = pixCreate((l_int32)w, (l_int32)h, d);
	rows = pix ? malloc(h * sizeof(*rows)) : NULL;
	if (!rows)
		png_error(png, "out of memory");
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = (png_bytep)(pixGetData(pix) + (size_t)y * (size_t)pixGetWpl(pix));
	png_read_image(png, rows);
	png_read_end(png, NULL);
	if (png_get_pHYs(png, info, &xppm, &yppm, &unit) && unit == PNG_RESOLUTION_METER)
		pixSetResolution(pix, (l_int32)(xppm * 0.0254 + 0.5),
				 (l_int32)(yppm * 0.0254 + 0.5));
	png_destroy_read_struct(&png, &info, NULL);
	free(rows);
	pixEndianByteSwap(pix);
	if (d == 1)
		pixInvert(pix, pix); /* PNG: 0 is black; Leptonica: 1 is */
	if (d == 32)
		pixSetSpp(pix, 3);
	return pix;
fail:
	png_destroy_read_struct(&png, &info, NULL);
	free(rows);
	pixDestroy((PIX **)&pix);
	bk_error_set(err, "'%s': cannot decode PNG data: %s", name, msg.text);
	return NULL;
}

struct jpeg_msg {
	struct jpeg_error_mgr mgr; /* first: libjpeg passes the struct back */
	struct codec_msg msg;
	int warnings;
};

static void jpeg_keep_message(j_common_ptr c)
{
	struct jpeg_msg *m = (struct jpeg_msg *)c->err;
	if (!m->msg.text[0])
		c->err->format_message(c, m->msg.text);
}

static void jpeg_on_error(j_common_ptr c)
{
	jpeg_keep_message(c);
	longjmp(((struct jpeg_msg *)c->err)->msg.jump, 1);
}

static void jpeg_on_message(j_common_ptr c, int level)
{
	if (level < 0) { /* a warning: the decoder patched damaged data */
		((struct jpeg_msg *)c->err)->warnings++;
		jpeg_keep_message(c);
	}
}

/* Gives cinfo bunko's handlers: messages kept in jm, none printed. */
static void jpeg_msg_attach(struct jpeg_decompress_struct *cinfo, struct jpeg_msg *jm)
{
	memset(jm, 0, sizeof(*jm));
	cinfo->err = jpeg_std_error(&jm->mgr);
	jm->mgr.error_exit = jpeg_on_error;
	jm->mgr.emit_message = jpeg_on_message;
	jm->mgr.output_message = jpeg_keep_message;
}

int bk_jpeg_damaged(const void *data, size_t len, char *why, size_t whysize)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_msg jm;
	JSAMPLE *volatile row = NULL;
	volatile int damaged = 0;

	if (whysize)
		why[0] = '\0';
	jpeg_msg_attach(&cinfo, &jm);
	if (setjmp(jm.msg.jump)) {
		damaged = 1; /* libjpeg gave up: so would any reader built on it */
		goto out;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, (unsigned long)len);
	jpeg_read_header(&cinfo, TRUE);
	jpeg_start_decompress(&cinfo);
	if (!(row = malloc((size_t)cinfo.output_width * (size_t)cinfo.output_components)))
		goto out; /* out of memory is not damage: the reader reports it */
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW r = row;
		jpeg_read_scanlines(&cinfo, &r, 1);
	}
	jpeg_finish_decompress(&cinfo);
	damaged = jm.warnings > 0;
out:
	jpeg_destroy_decompress(&cinfo);
	free(row);
	if (damaged && whysize)
		snprintf(why, whysize, "%s", jm.msg.text);
	return damaged;
}

/* Decodes a JPEG, refusing data the decoder had to patch up (truncated or
 * damaged files decode to gray fill with only a warning). 8 or 32 bits. */
static PIX *decode_jpeg(const l_uint8 *data, size_t len, const char *name,
			struct bk_error *err)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_msg jm;
	PIX *volatile pix = NULL;
	JSAMPLE *volatile cmyk = NULL;

	jpeg_msg_attach(&cinfo, &jm);
	if (setjmp(jm.msg.jump))
		goto fail;
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, (unsigned long)len);
	jpeg_read_header(&cinfo, TRUE);
	bool is_cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
	bool gray = cinfo.num_components == 1;
	cinfo.out_color_space = gray ? JCS_GRAYSCALE : is_cmyk ? JCS_CMYK : JCS_EXT_RGBX;
	jpeg_start_decompress(&cinfo);
	pix = pixCreate((l_int32)cinfo.output_width, (l_int32)cinfo.output_height, gray ? 8 : 32);
	if (!pix || (is_cmyk && !(cmyk = malloc((size_t)cinfo.output_width * 4)))) {
		snprintf(jm.msg.text, sizeof(jm.msg.text), "out of memory");
		goto fail;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		l_uint32 *line = pixGetData(pix) + (size_t)cinfo.output_scanline * pixGetWpl(pix);
		JSAMPROW row = is_cmyk ? cmyk : (JSAMPROW)line;
		jpeg_read_scanlines(&cinfo, &row, 1);
		for (JDIMENSION x = 0; is_cmyk && x < cinfo.output_width; x++) {
			/* Adobe writes CMYK inverted: each value is 255 - ink */
			unsigned c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2],
				 k = cmyk[4 * x + 3];
			if (!cinfo.saw_Adobe_marker) {
				c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
			}
			composeRGBPixel((l_int32)(c * k / 255), (l_int32)(m * k / 255),
					(l_int32)(y * k / 255), &line[x]);
		}
	}
	if (cinfo.density_unit == 1 || cinfo.density_unit == 2) {
		double f = cinfo.density_unit == 2 ? 2.54 : 1.0;
		pixSetResolution(pix, (l_int32)(cinfo.X_density * f + 0.5),
				 (l_int32)(cinfo.Y_density * f + 0.5));
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	free(cmyk);
	if (jm.warnings) {
		bk_error_set(err, "'%s': damaged or truncated JPEG data: %s", name, jm.msg.text);
		pixDestroy((PIX **)&pix);
		return NULL;
	}
	if (!is_cmyk) /* the rows hold bytes; a CMYK row was converted to words */
		pixEndianByteSwap(pix);
	if (!gray)
		pixSetSpp(pix, 3);
	return pix;
fail:
	jpeg_destroy_decompress(&cinfo);
	free(cmyk);
	pixDestroy((PIX **)&pix);
	bk_error_set(err, "'%s': cannot decode JPEG data: %s", name, jm.msg.text);
	return NULL;
}

struct bk_image *bk_image_read_mem(const void *data, size_t len, const char *name,
				   long max_pixels, struct bk_error *err)
{
	static const char unsupported[] = "not a supported image (PNG, JPEG, TIFF, PNM, BMP)";
	const l_uint8 *bytes = data;
	l_uint8 head[16] = { 0 };
	int format = IFF_UNKNOWN, w = 0, h = 0, bps = 0, spp = 0, iscmap = 0;
	PIX *pix = NULL;
	struct bk_image *img = NULL;

	quiet();
	if (!name)
		name = "image";
	if (max_pixels <= 0)
		max_pixels = BK_IMAGE_MAX_PIXELS_DEFAULT;
	if (!data || len == 0) {
		bk_error_set(err, "'%s': %s: the file is empty", name, unsupported);
		goto out;
	}
	/* findFileFormatBuffer looks at the first 12 bytes: pad short data. */
	memcpy(head, bytes, len < sizeof(head) ? len : sizeof(head));
	if (findFileFormatBuffer(head, &format) || !supported_format(format)) {
		bk_error_set(err, "'%s': %s", name, unsupported);
		goto out;
	}
	if (pixReadHeaderMem(bytes, len, &format, &w, &h, &bps, &spp, &iscmap) ||
	    w <= 0 || h <= 0) {
		bk_error_set(err, "'%s': damaged image header", name);
		goto out;
	}
	if ((double)w * (double)h > (double)max_pixels) {
		bk_error_set(err, "'%s': image of %dx%d pixels exceeds the limit of %ld",
			     name, w, h, max_pixels);
		goto out;
	}
	if (format == IFF_JFIF_JPEG)
		pix = decode_jpeg(bytes, len, name, err);
	else if (format == IFF_PNG)
		pix = decode_png(bytes, len, name, err);
	else if ((pix = pixReadMem(bytes, len)) == NULL)
		bk_error_set(err, "'%s': cannot decode image (damaged or truncated)", name);
	if (!pix)
		goto out;
	pix = normalize_depth(&pix);
	if (!pix) {
		bk_error_set(err, "'%s': cannot convert image (out of memory)", name);
		goto out;
	}
	/* Leptonica's PNG decoder holds the whole image as rows allocated one
	 * by one on the heap before it builds the Pix; freed, they stay in
	 * the process (330 MB for a 12000x9000 map) unless given back. */
	if ((double)w * (double)h >= TRIM_AFTER_PIXELS)
		malloc_trim(0);
	img = wrap(&pix);
	if (!img)
		bk_error_set(err, "'%s': out of memory", name);
out:
	pixDestroy(&pix);
	return img;
}

static void copy_raw_row(l_uint32 *line, const unsigned char *src, int width, int depth)
{
	switch (depth) {
	case 1:
		for (int j = 0; j < (width + 7) / 8; j++)
			SET_DATA_BYTE(line, j, src[j]);
		break;
	case 8:
		for (int x = 0; x < width; x++)
			SET_DATA_BYTE(line, x, src[x]);
		break;
	case 24:
	case 32: {
		int n = depth / 8;

		for (int x = 0; x < width; x++) {
			l_uint32 px;

			composeRGBPixel(src[n * x], src[n * x + 1], src[n * x + 2], &px);
			line[x] = px;
		}
		break;
	}
	}
}

struct bk_image *bk_image_from_raw(int width, int height, int depth,
				   const unsigned char *data, size_t stride,
				   int xres, int yres, struct bk_error *err)
{
	PIX *pix = NULL;
	l_uint32 *base;
	size_t row_bytes;
	int wpl;

	quiet();
	if (width <= 0 || height <= 0 || !data ||
	    (depth != 1 && depth != 8 && depth != 24 && depth != 32)) {
		bk_error_set(err, "invalid raw image: %dx%d, depth %d", width, height, depth);
		return NULL;
	}
	row_bytes = depth == 1 ? ((size_t)width + 7) / 8 : (size_t)width * (size_t)(depth / 8);
	if (stride < row_bytes) {
		bk_error_set(err, "invalid raw image: row stride %zu is shorter than %zu bytes",
			     stride, row_bytes);
		return NULL;
	}
	pix = pixCreate(width, height, depth == 24 ? 32 : depth);
	if (!pix) {
		bk_error_set(err, "cannot allocate an image of %dx%d pixels", width, height);
		return NULL;
	}
	if (depth >= 24)
		pixSetSpp(pix, 3);
	base = pixGetData(pix);
	wpl = pixGetWpl(pix);
	for (int y = 0; y < height; y++)
		copy_raw_row(base + (size_t)y * wpl, data + (size_t)y * stride, width, depth);
	if (depth == 1)
		pixSetPadBits(pix, 0);
	pixSetResolution(pix, xres, yres);
	return wrap_or_fail(&pix, "raw image", err);
}

struct bk_image *bk_image_clone(const struct bk_image *img)
{
	PIX *pix;

	quiet();
	if (!img)
		return NULL;
	pix = pixCopy(NULL, img->pix);
	return pix ? wrap(&pix) : NULL;
}

struct bk_image *bk_image_share(const struct bk_image *img, struct bk_error *err)
{
	PIX *pix;

	quiet();
	pix = pixClone(img->pix); /* Leptonica counts the handles */
	return wrap_or_fail(&pix, "image sharing", err);
}

void bk_image_free(struct bk_image **img)
{
	if (!img || !*img)
		return;
	pixDestroy(&(*img)->pix);
	free(*img);
	*img = NULL;
}

int bk_image_width(const struct bk_image *img)
{
	return img ? pixGetWidth(img->pix) : 0;
}

int bk_image_height(const struct bk_image *img)
{
	return img ? pixGetHeight(img->pix) : 0;
}

int bk_image_depth(const struct bk_image *img)
{
	return img ? pixGetDepth(img->pix) : 0;
}

int bk_image_xres(const struct bk_image *img)
{
	return img ? pixGetXRes(img->pix) : 0;
}

int bk_image_yres(const struct bk_image *img)
{
	return img ? pixGetYRes(img->pix) : 0;
}

void bk_image_set_resolution(struct bk_image *img, int xres, int yres)
{
	if (img)
		pixSetResolution(img->pix, xres, yres);
}

/* New 8-bpp gray Pix of any image: 1 bpp black -> 0, RGB -> luminance. */
static PIX *gray_pix(PIX *pix)
{
	PIX *g;

	switch (pixGetDepth(pix)) {
	case 8:
		g = pixCopy(NULL, pix);
		break;
	case 32:
		g = pixConvertRGBToLuminance(pix);
		break;
	default:
		g = pixConvertTo8(pix, FALSE);
		break;
	}
	if (g)
		pixCopyResolution(g, pix);
	return g;
}

/* The pixels of the 8-bit `g` into out, rows of its width. */
static void copy_gray_out(PIX *g, unsigned char *out)
{
	int w = pixGetWidth(g), h = pixGetHeight(g), wpl = pixGetWpl(g);
	const l_uint32 *base = pixGetData(g);

	for (int y = 0; y < h; y++) {
		const l_uint32 *line = base + (size_t)y * wpl;
		unsigned char *dst = out + (size_t)y * w;

		for (int x = 0; x < w; x++)
			dst[x] = GET_DATA_BYTE(line, x);
	}
}

int bk_image_gray8(const struct bk_image *img, unsigned char **buf, int *width,
		   int *height, int *stride, struct bk_error *err)
{
	PIX *g = NULL;
	unsigned char *out = NULL;
	int w, h, rc = -1;

	quiet();
	*buf = NULL;
	*width = *height = *stride = 0;
	g = gray_pix(img->pix);
	if (!g) {
		bk_error_set(err, "cannot convert image to gray (out of memory)");
		goto out;
	}
	w = pixGetWidth(g);
	h = pixGetHeight(g);
	out = malloc((size_t)w * (size_t)h);
	if (!out) {
		bk_error_set(err, "cannot convert image to gray: out of memory");
		goto out;
	}
	copy_gray_out(g, out);
	*buf = out;
	out = NULL;
	*width = w;
	*height = h;
	*stride = w;
	rc = 0;
out:
	free(out);
	pixDestroy(&g);
	return rc;
}

int bk_gray_magnify(const unsigned char *data, int stride, int x0, int y0, int x1, int y1, int factor,
		    unsigned char **out, int *width, int *height, struct bk_error *err)
{
	PIX *src = NULL, *big = NULL;
	unsigned char *buf = NULL;
	int w = x1 - x0, h = y1 - y0, rc = -1;

	quiet();
	*out = NULL;
	*width = *height = 0;
	if (w <= 0 || h <= 0 || (factor != 2 && factor != 4)) {
		bk_error_set(err, "cannot magnify %dx%d pixels %d times", w, h, factor);
		goto out;
	}
	if (!(src = pixCreate(w, h, 8))) {
		bk_error_set(err, "cannot magnify a line: out of memory");
		goto out;
	}
	for (int y = 0; y < h; y++)
		copy_raw_row(pixGetData(src) + (size_t)y * pixGetWpl(src),
			     data + (size_t)(y0 + y) * (size_t)stride + x0, w, 8);
	big = factor == 2 ? pixScaleGray2xLI(src) : pixScaleGray4xLI(src);
	if (!big || !(buf = malloc((size_t)pixGetWidth(big) * (size_t)pixGetHeight(big)))) {
		bk_error_set(err, "cannot magnify a line: out of memory");
		goto out;
	}
	*width = pixGetWidth(big);
	*height = pixGetHeight(big);
	copy_gray_out(big, buf);
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	pixDestroy(&big);
	pixDestroy(&src);
	return rc;
}

static int gray_at(PIX *pix, const l_uint32 *line, int x);

int bk_image_gray8_rows(const struct bk_image *img, int y0, int y1, unsigned char **buf,
			int *width, int *height, int *stride, struct bk_error *err)
{
	int w = pixGetWidth(img->pix), h = pixGetHeight(img->pix);
	l_uint32 *base = pixGetData(img->pix);
	int wpl = pixGetWpl(img->pix);
	unsigned char *out;

	quiet();
	*buf = NULL;
	*width = *height = *stride = 0;
	y0 = y0 < 0 ? 0 : y0;
	y1 = y1 > h ? h : y1;
	if (y1 <= y0)
		return bk_error_set(err, "no rows %d..%d in an image of %d rows", y0, y1, h);
	out = malloc((size_t)w * (size_t)(y1 - y0));
	if (!out)
		return bk_error_set(err, "cannot convert image to gray: out of memory");
	for (int y = y0; y < y1; y++) {
		const l_uint32 *line = base + (size_t)y * wpl;
		unsigned char *dst = out + (size_t)(y - y0) * w;

		for (int x = 0; x < w; x++)
			dst[x] = (unsigned char)gray_at(img->pix, line, x);
	}
	*buf = out;
	*width = w;
	*height = y1 - y0;
	*stride = w;
	return 0;
}

/* ---- encoding ---------------------------------------------------------- */

static unsigned tiff_u16(const l_uint8 *p, bool le)
{
	return le ? (unsigned)(p[0] | p[1] << 8) : (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t tiff_u32(const l_uint8 *p, bool le)
{
	return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
		  : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * Finds the single G4 strip in a TIFF that Leptonica wrote to memory
 * (pixWriteMemTiff writes one strip of all rows). Only the tags we need
 * are read: compression, photometric, strip offsets and byte counts, each
 * with count 1. Returns 0 and the strip's place, or -1.
 */
static int tiff_g4_strip(const l_uint8 *t, size_t n, size_t *off, size_t *len,
			 bool *min_is_black)
{
	bool le;
	uint32_t ifd;
	unsigned count, compression = 0;
	bool have_off = false, have_len = false;

	*min_is_black = false;
	if (n < 8 || !((t[0] == 'I' && t[1] == 'I') || (t[0] == 'M' && t[1] == 'M')))
		return -1;
	le = t[0] == 'I';
	ifd = tiff_u32(t + 4, le);
	if (ifd > n - 2)
		return -1;
	count = tiff_u16(t + ifd, le);
	if ((size_t)ifd + 2 + (size_t)count * 12 > n)
		return -1;
	for (unsigned i = 0; i < count; i++) {
		const l_uint8 *e = t + ifd + 2 + (size_t)i * 12;
		unsigned tag = tiff_u16(e, le), type = tiff_u16(e + 2, le);
		uint32_t cnt = tiff_u32(e + 4, le);
		uint32_t val = type == 3 ? tiff_u16(e + 8, le) : tiff_u32(e + 8, le);

		if ((tag == 273 || tag == 279) && cnt != 1)
			return -1; /* several strips: not one G4 stream */
		if (tag == 259)
			compression = val;
		else if (tag == 262)
			*min_is_black = val == 1;
		else if (tag == 273) {
			*off = val;
			have_off = true;
		} else if (tag == 279) {
			*len = val;
			have_len = true;
		}
	}
	if (compression != 4 || !have_off || !have_len || *off > n || *len > n - *off)
		return -1;
	return 0;
}

/* New 1-bpp Pix of any image (a global threshold at mid-gray). */
static PIX *bilevel_pix(PIX *pix)
{
	PIX *b;

	if (pixGetDepth(pix) == 1)
		return pixCopy(NULL, pix);
	b = pixConvertTo1(pix, 128);
	if (b)
		pixCopyResolution(b, pix);
	return b;
}

static int encode_g4(PIX *pix, struct bk_encoded_image *out, struct bk_error *err)
{
	PIX *b = NULL;
	l_uint8 *tiff = NULL;
	size_t tiff_len = 0, off = 0, len = 0;
	bool min_is_black;
	int rc = -1;

	b = bilevel_pix(pix);
	if (!b || pixWriteMemTiff(&tiff, &tiff_len, b, IFF_TIFF_G4)) {
		bk_error_set(err, "cannot encode image as CCITT G4");
		goto out;
	}
	if (tiff_g4_strip(tiff, tiff_len, &off, &len, &min_is_black) || min_is_black) {
		bk_error_set(err, "cannot encode image as CCITT G4: unexpected TIFF layout");
		goto out;
	}
	out->data = malloc(len ? len : 1);
	if (!out->data) {
		bk_error_set(err, "cannot encode image as CCITT G4: out of memory");
		goto out;
	}
	memcpy(out->data, tiff + off, len);
	out->size = len;
	out->bits_per_component = 1;
	out->components = 1;
	rc = 0;
out:
	lept_free(tiff);
	pixDestroy(&b);
	return rc;
}

/* New 8-bit gray or RGB Pix fit for JPEG/Flate (1 bpp is expanded). */
/* The pixels to encode: a color image as it is (a second handle, not a
 * copy: the encoders only read it, and a large map is several hundred MB),
 * anything else as gray. */
static PIX *continuous_tone_pix(PIX *pix)
{
	return pixGetDepth(pix) == 32 ? pixClone(pix) : gray_pix(pix);
}

static int encode_jpeg(PIX *pix, int quality, struct bk_encoded_image *out,
		       struct bk_error *err)
{
	PIX *c = continuous_tone_pix(pix);
	int rc = -1;

	if (quality <= 0 || quality > 100)
		quality = 85;
	if (!c || pixWriteMemJpeg(&out->data, &out->size, c, quality, 0)) {
		bk_error_set(err, "cannot encode image as JPEG");
		goto out;
	}
	out->bits_per_component = 8;
	out->components = pixGetDepth(c) == 32 ? 3 : 1;
	rc = 0;
out:
	pixDestroy(&c);
	return rc;
}

static int encode_flate(PIX *pix, struct bk_encoded_image *out, struct bk_error *err)
{
	PIX *c = continuous_tone_pix(pix);
	unsigned char *rows = NULL;
	size_t row_bytes, n;
	int w, h, wpl, ncomp, rc = -1;
	l_uint32 *base;

	if (!c) {
		bk_error_set(err, "cannot encode image as Flate: out of memory");
		goto out;
	}
	w = pixGetWidth(c);
	h = pixGetHeight(c);
	ncomp = pixGetDepth(c) == 32 ? 3 : 1;
	row_bytes = (size_t)w * ncomp;
	rows = malloc(row_bytes * h);
	if (!rows) {
		bk_error_set(err, "cannot encode image as Flate: out of memory");
		goto out;
	}
	base = pixGetData(c);
	wpl = pixGetWpl(c);
	for (int y = 0; y < h; y++) {
		const l_uint32 *line = base + (size_t)y * wpl;
		unsigned char *dst = rows + (size_t)y * row_bytes;

		for (int x = 0; x < w; x++) {
			if (ncomp == 1) {
				dst[x] = GET_DATA_BYTE(line, x);
			} else {
				l_int32 r, g, b;

				extractRGBValues(line[x], &r, &g, &b);
				dst[3 * x] = r;
				dst[3 * x + 1] = g;
				dst[3 * x + 2] = b;
			}
		}
	}
	n = 0;
	out->data = zlibCompress(rows, row_bytes * h, &n);
	if (!out->data) {
		bk_error_set(err, "cannot encode image as Flate");
		goto out;
	}
	out->size = n;
	out->bits_per_component = 8;
	out->components = ncomp;
	rc = 0;
out:
	free(rows);
	pixDestroy(&c);
	return rc;
}

int bk_image_encode(const struct bk_image *img, enum bk_encoding enc, int jpeg_quality,
		    struct bk_encoded_image *out, struct bk_error *err)
{
	int rc;

	quiet();
	memset(out, 0, sizeof(*out));
	switch (enc) {
	case BK_ENC_G4:
		rc = encode_g4(img->pix, out, err);
		break;
	case BK_ENC_JPEG:
		rc = encode_jpeg(img->pix, jpeg_quality, out, err);
		break;
	case BK_ENC_FLATE:
		rc = encode_flate(img->pix, out, err);
		break;
	default:
		return bk_error_set(err, "unknown image encoding %d", (int)enc);
	}
	if (rc)
		return rc;
	out->encoding = enc;
	out->width = pixGetWidth(img->pix);
	out->height = pixGetHeight(img->pix);
	out->xres = pixGetXRes(img->pix);
	out->yres = pixGetYRes(img->pix);
	return 0;
}

int bk_encoded_from_jpeg(const void *jpeg, size_t len, const char *name,
			 struct bk_encoded_image *out, struct bk_error *err)
{
	int w = 0, h = 0, spp = 0, ycck = 0, cmyk = 0, xres = 0, yres = 0, format = IFF_UNKNOWN;
	l_uint8 head[16] = { 0 };

	quiet();
	memset(out, 0, sizeof(*out));
	if (!name)
		name = "image";
	if (jpeg && len)
		memcpy(head, jpeg, len < sizeof(head) ? len : sizeof(head));
	if (!jpeg || len == 0 || findFileFormatBuffer(head, &format) || format != IFF_JFIF_JPEG)
		return bk_error_set(err, "'%s': not a JPEG image", name);
	if (readHeaderMemJpeg(jpeg, len, &w, &h, &spp, &ycck, &cmyk) || w <= 0 || h <= 0)
		return bk_error_set(err, "'%s': damaged JPEG header", name);
	if (cmyk || ycck || (spp != 1 && spp != 3))
		return bk_error_set(err, "'%s': JPEG with %d components (CMYK) cannot be kept as is",
				    name, spp);
	readResolutionMemJpeg(jpeg, len, &xres, &yres);
	out->data = malloc(len);
	if (!out->data)
		return bk_error_set(err, "'%s': out of memory", name);
	memcpy(out->data, jpeg, len);
	out->size = len;
	out->encoding = BK_ENC_JPEG;
	out->width = w;
	out->height = h;
	out->bits_per_component = 8;
	out->components = spp;
	out->xres = xres;
	out->yres = yres;
	return 0;
}

int bk_image_write_png(const struct bk_image *img, const char *path, struct bk_error *err)
{
	quiet();
	errno = 0;
	if (pixWritePng(path, img->pix, 0.0))
		return bk_error_set(err, "cannot write '%s'%s%s", path, errno ? ": " : "",
				    errno ? strerror(errno) : "");
	return 0;
}

/* ---- cleanup primitives ------------------------------------------------ */

struct bk_image *bk_image_rotate_orth(const struct bk_image *img, int degrees_cw,
				      struct bk_error *err)
{
	PIX *pix;
	int quads;

	quiet();
	if (degrees_cw % 90 != 0)
		return bk_error_set(err, "cannot rotate by %d degrees: not a multiple of 90",
				    degrees_cw), NULL;
	quads = ((degrees_cw / 90) % 4 + 4) % 4;
	pix = quads ? pixRotateOrth(img->pix, quads) : pixCopy(NULL, img->pix);
	if (pix)
		pixCopyResolution(pix, img->pix);
	if (pix && (quads & 1))
		pixSetResolution(pix, pixGetYRes(img->pix), pixGetXRes(img->pix));
	return wrap_or_fail(&pix, "rotation", err);
}

/* New 1-bpp Pix for analysis: bilevel as is; gray/color normalized for
 * uneven background, then thresholded. */
static PIX *analysis_bilevel(PIX *pix)
{
	PIX *g, *n, *b;

	if (pixGetDepth(pix) == 1)
		return pixClone(pix);
	g = gray_pix(pix);
	if (!g)
		return NULL;
	n = pixBackgroundNormSimple(g, NULL, NULL);
	b = pixConvertTo1(n ? n : g, 140);
	pixDestroy(&n);
	pixDestroy(&g);
	return b;
}

/*
 * Skew search: ±7° in 1° steps on a 4x reduction, then a binary search on a
 * 2x reduction down to 0.01°. Leptonica scores the sharpness of the row
 * projection (text lines). Japanese text has no baselines and its score is
 * weak (confidence ~2 where Latin text gives 10-30), so the page is also
 * measured turned by 90°: vertical text columns, and the character grid of
 * horizontal text, give a second estimate of the same angle (a rotation by
 * 90° does not change the skew). The more confident estimate is kept when
 * it clears MIN_SKEW_CONF; a blank page or a picture scores near 0.
 */
#define MIN_SKEW_CONF 1.8f

static int skew_estimate(PIX *b, l_float32 *angle, l_float32 *conf)
{
	*angle = 0;
	*conf = 0;
	return pixFindSkewSweepAndSearch(b, angle, conf, 4, 2, 7.0f, 1.0f, 0.01f);
}

int bk_image_find_skew(const struct bk_image *img, double *degrees, bool *found,
		       struct bk_error *err)
{
	PIX *b = NULL, *turned = NULL;
	l_float32 angle_h, conf_h, angle_v, conf_v;
	int rc = -1;

	quiet();
	*degrees = 0;
	*found = false;
	b = analysis_bilevel(img->pix);
	turned = b ? pixRotate90(b, 1) : NULL;
	if (!turned) {
		bk_error_set(err, "cannot measure skew: out of memory");
		goto out;
	}
	if (skew_estimate(b, &angle_h, &conf_h))
		conf_h = 0;
	if (skew_estimate(turned, &angle_v, &conf_v))
		conf_v = 0;
	if (conf_v > conf_h) {
		angle_h = angle_v;
		conf_h = conf_v;
	}
	if (conf_h >= MIN_SKEW_CONF) {
		*degrees = angle_h;
		*found = true;
	}
	rc = 0;
out:
	pixDestroy(&turned);
	pixDestroy(&b);
	return rc;
}

struct bk_image *bk_image_rotate(const struct bk_image *img, double degrees,
				 struct bk_error *err)
{
	PIX *pix;
	int type;

	quiet();
	/* Shear keeps bilevel strokes crisp for small angles; area mapping
	 * interpolates gray and color. */
	type = pixGetDepth(img->pix) == 1 ? L_ROTATE_SHEAR : L_ROTATE_AREA_MAP;
	pix = pixRotate(img->pix, (l_float32)(degrees * M_PI / 180.0), type,
			L_BRING_IN_WHITE, 0, 0);
	if (pix)
		pixCopyResolution(pix, img->pix);
	return wrap_or_fail(&pix, "rotation", err);
}

/* New reduced 8-bpp copy, at most ANALYSIS_WIDTH wide; *scale is the
 * factor from the reduced copy back to full size. */
static PIX *analysis_gray(PIX *pix, double *scale)
{
	int w = pixGetWidth(pix);
	float f = w > ANALYSIS_WIDTH ? (float)ANALYSIS_WIDTH / w : 1.0f;
	PIX *g, *r;

	*scale = 1.0 / f;
	if (pixGetDepth(pix) == 1)
		return f < 1.0f ? pixScaleToGray(pix, f) : pixConvertTo8(pix, FALSE);
	g = gray_pix(pix);
	if (!g || f >= 1.0f)
		return g;
	r = pixScaleAreaMap(g, f, f);
	pixDestroy(&g);
	return r;
}

/* Share of border pixels in row y (or column x when `column`) of a 1-bpp
 * mask, over [from, to). */
static double mask_share(PIX *mask, bool column, int at, int from, int to)
{
	l_uint32 *base = pixGetData(mask);
	int wpl = pixGetWpl(mask), n = 0;

	if (to <= from)
		return 0;
	for (int i = from; i < to; i++) {
		int x = column ? at : i, y = column ? i : at;

		n += GET_DATA_BIT(base + (size_t)y * wpl, x);
	}
	return (double)n / (to - from);
}

/*
 * Moves each side of the box [x0,x1) x [y0,y1) inwards while its edge row or
 * column is more than 3 % border: a border scanned at a slight angle leaves
 * dark wedges in the corners of the light region's bounding box. (A gutter
 * shadow joined to the border covers about 2 % of a row and stays.)
 */
static void shrink_off_border(PIX *border, int *x0, int *y0, int *x1, int *y1)
{
	const double limit = 0.03;
	bool moved = true;

	while (moved && *x1 - *x0 > 2 && *y1 - *y0 > 2) {
		moved = false;
		if (mask_share(border, false, *y0, *x0, *x1) > limit)
			(*y0)++, moved = true;
		if (mask_share(border, false, *y1 - 1, *x0, *x1) > limit)
			(*y1)--, moved = true;
		if (mask_share(border, true, *x0, *y0, *y1) > limit)
			(*x0)++, moved = true;
		if (mask_share(border, true, *x1 - 1, *y0, *y1) > limit)
			(*x1)--, moved = true;
	}
}

/* Gray level below which a reduced pixel counts as film border. */
#define BORDER_DARK 80

/*
 * Page area: threshold the reduced copy for "very dark", keep only the dark
 * regions connected to the image edge (film border, scanner lid), then take
 * the bounding box of the large light regions that remain. A margin of
 * 1 % is cut inside the box so the gradient at the border's edge goes too.
 */
int bk_image_find_page_area(const struct bk_image *img, struct bk_box *area, bool *found,
			    struct bk_error *err)
{
	PIX *g = NULL, *dark = NULL, *inner = NULL, *border = NULL, *light = NULL;
	BOXA *boxa = NULL;
	double scale;
	int w = pixGetWidth(img->pix), h = pixGetHeight(img->pix);
	int rw, rh, n, best = 0, rc = -1;
	int x0 = INT_MAX, y0 = INT_MAX, x1 = 0, y1 = 0;

	quiet();
	*area = (struct bk_box){ 0, 0, w, h };
	*found = false;
	g = analysis_gray(img->pix, &scale);
	dark = g ? pixThresholdToBinary(g, BORDER_DARK) : NULL;
	inner = dark ? pixRemoveBorderConnComps(dark, 8) : NULL;
	border = inner ? pixXor(NULL, dark, inner) : NULL;
	light = border ? pixInvert(NULL, border) : NULL;
	boxa = light ? pixConnComp(light, NULL, 4) : NULL;
	if (!boxa) {
		bk_error_set(err, "cannot find the page area: out of memory");
		goto out;
	}
	rw = pixGetWidth(g);
	rh = pixGetHeight(g);
	n = boxaGetCount(boxa);
	for (int i = 0; i < n; i++) {
		int bx, by, bw, bh;

		boxaGetBoxGeometry(boxa, i, &bx, &by, &bw, &bh);
		if (bw * bh > best)
			best = bw * bh;
	}
	for (int i = 0; i < n; i++) {
		int bx, by, bw, bh;

		boxaGetBoxGeometry(boxa, i, &bx, &by, &bw, &bh);
		if (bw * bh * 10 < best)
			continue; /* specks of light inside the border */
		x0 = bx < x0 ? bx : x0;
		y0 = by < y0 ? by : y0;
		x1 = bx + bw > x1 ? bx + bw : x1;
		y1 = by + bh > y1 ? by + bh : y1;
	}
	rc = 0;
	if (best == 0)
		goto out; /* all dark: leave the image alone */
	/* A border thinner than 0.5 % of the side is not worth a crop. */
	if (x0 * 200 < rw && y0 * 200 < rh && (rw - x1) * 200 < rw && (rh - y1) * 200 < rh)
		goto out;
	shrink_off_border(border, &x0, &y0, &x1, &y1);
	{
		int mx = rw / 100, my = rh / 100;

		x0 = x0 > 0 ? x0 + mx : 0;
		y0 = y0 > 0 ? y0 + my : 0;
		x1 = x1 < rw ? x1 - mx : rw;
		y1 = y1 < rh ? y1 - my : rh;
	}
	if (x1 - x0 < rw / 4 || y1 - y0 < rh / 4)
		goto out; /* implausibly small page: probably a dark picture */
	area->x0 = (int)(x0 * scale);
	area->y0 = (int)(y0 * scale);
	area->x1 = x1 >= rw ? w : (int)(x1 * scale);
	area->y1 = y1 >= rh ? h : (int)(y1 * scale);
	if (area->x1 > w)
		area->x1 = w;
	if (area->y1 > h)
		area->y1 = h;
	*found = true;
out:
	boxaDestroy(&boxa);
	pixDestroy(&light);
	pixDestroy(&border);
	pixDestroy(&inner);
	pixDestroy(&dark);
	pixDestroy(&g);
	return rc;
}

struct bk_image *bk_image_new_white(int width, int height, int depth, int xres, int yres,
				    struct bk_error *err)
{
	PIX *pix = NULL;

	quiet();
	if (width <= 0 || height <= 0 || (depth != 1 && depth != 8 && depth != 32)) {
		bk_error_set(err, "invalid image: %dx%d, depth %d", width, height, depth);
		return NULL;
	}
	pix = pixCreate(width, height, depth);
	if (!pix) {
		bk_error_set(err, "cannot allocate an image of %dx%d pixels", width, height);
		return NULL;
	}
	/* pixCreate clears to 0: white for 1 bpp, black for gray and RGB */
	if (depth != 1)
		pixSetAll(pix);
	pixSetResolution(pix, xres, yres);
	return wrap_or_fail(&pix, "image", err);
}

int bk_image_paste(struct bk_image *dst, int x, int y, const struct bk_image *src,
		   struct bk_error *err)
{
	quiet();
	if (pixGetDepth(src->pix) != pixGetDepth(dst->pix))
		return bk_error_set(err, "cannot paste an image of depth %d into one of depth %d",
				    pixGetDepth(src->pix), pixGetDepth(dst->pix));
	if (pixRasterop(dst->pix, x, y, pixGetWidth(src->pix), pixGetHeight(src->pix), PIX_SRC,
			src->pix, 0, 0))
		return bk_error_set(err, "cannot paste an image at %d,%d", x, y);
	return 0;
}

struct bk_image *bk_image_shrink_gray(const struct bk_image *img, int k, struct bk_error *err)
{
	struct bk_image *gray = NULL, *out = NULL;
	int w = bk_image_width(img), h = bk_image_height(img);

	quiet();
	if (k < 1) {
		bk_error_set(err, "cannot shrink an image by %d", k);
		goto out;
	}
	if (!(gray = bk_image_depth(img) == 8 ? bk_image_share(img, err)
					      : bk_image_to_gray(img, err)))
		goto out;
	if (!(out = bk_image_new_white((w + k - 1) / k, (h + k - 1) / k, 8,
				       pixGetXRes(img->pix) / k, pixGetYRes(img->pix) / k, err)))
		goto out;
	const l_uint32 *sbase = pixGetData(gray->pix);
	l_uint32 *dbase = pixGetData(out->pix);
	int swpl = pixGetWpl(gray->pix), dwpl = pixGetWpl(out->pix);
	for (int oy = 0; oy * k < h; oy++) {
		for (int ox = 0; ox * k < w; ox++) {
			long sum = 0, n = 0;
			for (int y = oy * k; y < h && y < (oy + 1) * k; y++) {
				const l_uint32 *line = sbase + (size_t)y * swpl;
				for (int x = ox * k; x < w && x < (ox + 1) * k; x++, n++)
					sum += GET_DATA_BYTE(line, x);
			}
			SET_DATA_BYTE(dbase + (size_t)oy * dwpl, ox, (int)((sum + n / 2) / n));
		}
	}
out:
	bk_image_free(&gray);
	return out;
}

struct bk_image *bk_image_crop(const struct bk_image *img, struct bk_box b,
			       struct bk_error *err)
{
	BOX *box;
	PIX *pix = NULL;

	quiet();
	if (b.x1 <= b.x0 || b.y1 <= b.y0) {
		bk_error_set(err, "cannot crop to an empty box");
		return NULL;
	}
	box = boxCreate(b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0);
	if (box)
		pix = pixClipRectangle(img->pix, box, NULL);
	boxDestroy(&box);
	if (pix)
		pixCopyResolution(pix, img->pix);
	return wrap_or_fail(&pix, "crop", err);
}

/*
 * Gutter of a spread, on the reduced copy. Two signs are looked for in the
 * middle 30 % of the width, over the middle 90 % of the height:
 *  - a shadow: a run of columns that are dark (mostly "ink") from top to
 *    bottom — the fold of a bound book under the camera;
 *  - a gap: the widest run of columns without ink, clearly wider (2x) than
 *    any other gap between text columns or words.
 * The shadow wins when present; its centre is the gutter.
 */
struct column_profile {
	float *ink; /* share of dark pixels per column, 0..1 */
	int n;
};

static int column_ink(PIX *g, struct column_profile *p)
{
	int w = pixGetWidth(g), h = pixGetHeight(g);
	int y0 = h / 20, y1 = h - h / 20;
	l_uint32 *base = pixGetData(g);
	int wpl = pixGetWpl(g);

	p->n = w;
	p->ink = calloc(w, sizeof(float));
	if (!p->ink)
		return -1;
	for (int y = y0; y < y1; y++) {
		const l_uint32 *line = base + (size_t)y * wpl;

		for (int x = 0; x < w; x++)
			if (GET_DATA_BYTE(line, x) < 128)
				p->ink[x] += 1.0f;
	}
	for (int x = 0; x < w; x++)
		p->ink[x] /= (float)(y1 - y0);
	return 0;
}

/* Longest run of columns in [lo, hi) with `pred`; returns its length. */
static int longest_run(const struct column_profile *p, int lo, int hi, bool shadow,
		       int *start)
{
	int best = 0, run = 0;

	*start = -1;
	for (int x = lo; x < hi; x++) {
		bool hit = shadow ? p->ink[x] > 0.6f : p->ink[x] < 0.002f;

		run = hit ? run + 1 : 0;
		if (run > best) {
			best = run;
			*start = x - run + 1;
		}
	}
	return best;
}

/* Widest ink-free run outside [skip0, skip1) within the text area. */
static int widest_other_gap(const struct column_profile *p, int skip0, int skip1)
{
	int lo = 0, hi = p->n, best = 0, run = 0;

	while (lo < hi && p->ink[lo] < 0.002f)
		lo++; /* margins are not gaps */
	while (hi > lo && p->ink[hi - 1] < 0.002f)
		hi--;
	for (int x = lo; x < hi; x++) {
		bool gap = p->ink[x] < 0.002f && (x < skip0 || x >= skip1);

		run = gap ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/* Number of columns in [lo, hi) with some ink: a gap is a gutter only
 * between two pages that both carry text. */
static int inked_columns(const struct column_profile *p, int lo, int hi)
{
	int n = 0;

	for (int x = lo; x < hi; x++)
		n += p->ink[x] >= 0.002f;
	return n;
}

int bk_image_find_gutter(const struct bk_image *img, int *gutter_x, bool *found,
			 struct bk_error *err)
{
	PIX *g = NULL;
	struct column_profile prof = { NULL, 0 };
	double scale;
	int lo, hi, start, len, rc = -1;

	quiet();
	*gutter_x = 0;
	*found = false;
	g = analysis_gray(img->pix, &scale);
	if (!g || column_ink(g, &prof)) {
		bk_error_set(err, "cannot look for a gutter: out of memory");
		goto out;
	}
	lo = prof.n * 35 / 100;
	hi = prof.n * 65 / 100;
	rc = 0;
	len = longest_run(&prof, lo, hi, true, &start);
	if (len >= 2 && len < prof.n / 10 && inked_columns(&prof, 0, start) >= prof.n / 10 &&
	    inked_columns(&prof, start + len, prof.n) >= prof.n / 10) {
		*gutter_x = (int)((start + len / 2.0) * scale);
		*found = true;
		goto out;
	}
	len = longest_run(&prof, lo, hi, false, &start);
	if (len >= prof.n / 50 && inked_columns(&prof, 0, start) >= prof.n / 10 &&
	    inked_columns(&prof, start + len, prof.n) >= prof.n / 10 &&
	    len >= 2 * widest_other_gap(&prof, start, start + len)) {
		*gutter_x = (int)((start + len / 2.0) * scale);
		*found = true;
	}
out:
	free(prof.ink);
	pixDestroy(&g);
	return rc;
}

struct bk_image *bk_image_to_gray(const struct bk_image *img, struct bk_error *err)
{
	PIX *pix;

	quiet();
	pix = gray_pix(img->pix);
	return wrap_or_fail(&pix, "gray conversion", err);
}

struct bk_image *bk_image_normalize(const struct bk_image *img, struct bk_error *err)
{
	PIX *g = NULL, *n = NULL;
	struct bk_image *out = NULL;

	quiet();
	g = gray_pix(img->pix);
	if (!g) {
		bk_error_set(err, "contrast normalization: out of memory");
		goto out;
	}
	/* Flatten the background to white (tiles adapt to uneven lighting),
	 * then map [black 70, white 190] onto the full range. */
	n = pixCleanBackgroundToWhite(g, NULL, NULL, 1.0f, 70, 190);
	if (n)
		pixCopyResolution(n, g);
	out = wrap_or_fail(n ? &n : &g, "contrast normalization", err);
out:
	pixDestroy(&n);
	pixDestroy(&g);
	return out;
}

struct bk_image *bk_image_binarize(const struct bk_image *img, enum bk_binarize_method method,
				   struct bk_error *err)
{
	PIX *g = NULL, *b = NULL;
	struct bk_image *out = NULL;
	int w, h;

	quiet();
	if (pixGetDepth(img->pix) == 1) {
		b = pixCopy(NULL, img->pix);
		return wrap_or_fail(&b, "binarization", err);
	}
	g = gray_pix(img->pix);
	if (!g) {
		bk_error_set(err, "binarization: out of memory");
		goto out;
	}
	w = pixGetWidth(g);
	h = pixGetHeight(g);
	if (method == BK_BINARIZE_SAUVOLA) {
		/* Window about 1/6 inch, k = 0.2: the textbook k = 0.34 with
		 * a 1/12-inch window broke faint thin strokes on h-kokuji.png
		 * (CER 0.23 against 0.06). Tiles of ~1000 px bound the memory
		 * of the local statistics. */
		int res = pixGetXRes(g) > 0 ? pixGetXRes(g) : 300;
		int whsize = res / 6 < 8 ? 8 : res / 6;
		int nx = w / 1000 > 1 ? w / 1000 : 1, ny = h / 1000 > 1 ? h / 1000 : 1;

		pixSauvolaBinarizeTiled(g, whsize, 0.2f, nx, ny, NULL, &b);
	} else {
		/* One tile the size of the page: a global Otsu threshold. */
		pixOtsuAdaptiveThreshold(g, w, h, 0, 0, 0.1f, NULL, &b);
	}
	if (b)
		pixCopyResolution(b, g);
	out = wrap_or_fail(&b, "binarization", err);
out:
	pixDestroy(&b);
	pixDestroy(&g);
	return out;
}

int bk_image_despeckle(struct bk_image *img, int max_size, struct bk_error *err)
{
	PIX *kept = NULL;
	int before = 0, after = 0, rc = -1;

	quiet();
	if (pixGetDepth(img->pix) != 1)
		return bk_error_set(err, "despeckle needs a bilevel image");
	if (max_size <= 0)
		return 0;
	/* Keep components wider OR taller than max_size. */
	kept = pixSelectBySize(img->pix, max_size, max_size, 8, L_SELECT_IF_EITHER,
			       L_SELECT_IF_GT, NULL);
	if (!kept || pixCountConnComp(img->pix, 8, &before) ||
	    pixCountConnComp(kept, 8, &after)) {
		bk_error_set(err, "despeckle: out of memory");
		goto out;
	}
	pixCopyResolution(kept, img->pix);
	pixDestroy(&img->pix);
	img->pix = kept;
	kept = NULL;
	rc = before - after;
out:
	pixDestroy(&kept);
	return rc;
}

int bk_image_remove_lines(struct bk_image *img, int min_length, struct bk_error *err)
{
	PIX *hl = NULL, *vl = NULL, *lines = NULL, *kept = NULL;
	int rc = -1;

	quiet();
	if (pixGetDepth(img->pix) != 1)
		return bk_error_set(err, "line removal needs a bilevel image");
	if (min_length < 10)
		min_length = 10;
	/* An opening with a long thin brick keeps only straight runs at least
	 * that long; they are widened by one pixel to catch ragged edges and
	 * then subtracted. */
	hl = pixOpenBrick(NULL, img->pix, min_length, 1);
	vl = pixOpenBrick(NULL, img->pix, 1, min_length);
	lines = hl && vl ? pixOr(NULL, hl, vl) : NULL;
	/* A new Pix rather than a change in place: the pixels may be shared
	 * (bk_image_share). */
	kept = lines && pixDilateBrick(lines, lines, 3, 3)
		       ? pixSubtract(NULL, img->pix, lines)
		       : NULL;
	if (!kept) {
		bk_error_set(err, "line removal: out of memory");
		goto out;
	}
	pixCopyResolution(kept, img->pix);
	pixDestroy(&img->pix);
	img->pix = kept;
	kept = NULL;
	rc = 0;
out:
	pixDestroy(&kept);
	pixDestroy(&lines);
	pixDestroy(&vl);
	pixDestroy(&hl);
	return rc;
}

/* Gray value (0 black .. 255 white) of pixel x of a row of `pix`, with
 * the weights of pixConvertRGBToLuminance; no copy of the image. */
static int gray_at(PIX *pix, const l_uint32 *line, int x)
{
	l_uint32 px;

	switch (pixGetDepth(pix)) {
	case 1:
		return GET_DATA_BIT(line, x) ? 0 : 255;
	case 8:
		return GET_DATA_BYTE(line, x);
	default:
		px = line[x];
		return (int)(L_RED_WEIGHT * ((px >> L_RED_SHIFT) & 0xff) +
			     L_GREEN_WEIGHT * ((px >> L_GREEN_SHIFT) & 0xff) +
			     L_BLUE_WEIGHT * ((px >> L_BLUE_SHIFT) & 0xff) + 0.5f);
	}
}

double bk_image_dark_fraction(const struct bk_image *img, struct bk_box b)
{
	l_uint32 *base;
	int w, h, wpl;
	long dark = 0;

	quiet();
	w = pixGetWidth(img->pix);
	h = pixGetHeight(img->pix);
	b.x0 = b.x0 < 0 ? 0 : b.x0;
	b.y0 = b.y0 < 0 ? 0 : b.y0;
	b.x1 = b.x1 > w ? w : b.x1;
	b.y1 = b.y1 > h ? h : b.y1;
	if (b.x1 <= b.x0 || b.y1 <= b.y0)
		return 0;
	base = pixGetData(img->pix);
	wpl = pixGetWpl(img->pix);
	for (int y = b.y0; y < b.y1; y++) {
		const l_uint32 *line = base + (size_t)y * wpl;

		for (int x = b.x0; x < b.x1; x++)
			dark += gray_at(img->pix, line, x) < 128;
	}
	return (double)dark / ((double)(b.x1 - b.x0) * (double)(b.y1 - b.y0));
}

/* ---- pictures ---------------------------------------------------------- */

struct bk_image *bk_image_dark_ink(const struct bk_image *img, int max_value,
				   int max_chroma, struct bk_error *err)
{
	PIX *src = img->pix, *mask;
	l_uint32 *sbase, *dbase;
	int w, h, swpl, dwpl, d = pixGetDepth(img->pix);

	quiet();
	if (d == 1) {
		mask = pixCopy(NULL, src);
		return wrap_or_fail(&mask, "ink selection", err);
	}
	w = pixGetWidth(src);
	h = pixGetHeight(src);
	mask = pixCreate(w, h, 1);
	if (!mask) {
		bk_error_set(err, "ink selection: cannot allocate %dx%d pixels", w, h);
		return NULL;
	}
	pixCopyResolution(mask, src);
	sbase = pixGetData(src);
	swpl = pixGetWpl(src);
	dbase = pixGetData(mask);
	dwpl = pixGetWpl(mask);
	for (int y = 0; y < h; y++) {
		const l_uint32 *line = sbase + (size_t)y * swpl;
		l_uint32 *out = dbase + (size_t)y * dwpl;

		for (int x = 0; x < w; x++) {
			int hi, lo;
			if (d == 8) {
				hi = lo = GET_DATA_BYTE(line, x);
			} else {
				int r = (line[x] >> L_RED_SHIFT) & 0xff;
				int g = (line[x] >> L_GREEN_SHIFT) & 0xff;
				int b = (line[x] >> L_BLUE_SHIFT) & 0xff;
				hi = r > g ? (r > b ? r : b) : (g > b ? g : b);
				lo = r < g ? (r < b ? r : b) : (g < b ? g : b);
			}
			if (hi <= max_value && hi - lo <= max_chroma)
				SET_DATA_BIT(out, x);
		}
	}
	return wrap_or_fail(&mask, "ink selection", err);
}

/* Panel analysis (see bk_image_find_panels in image.h). */
#define PANEL_DPI 75          /* resolution of the reduced copy */
#define PANEL_MAX_SIDE 1500   /* and its largest side */
#define PANEL_LIGHT 170       /* gray at or above: the panel's paper */
#define PANEL_MAX_SPREAD 12.0 /* std. deviation of a printed panel's paper;
				 clouds, skies and gradients are above 20 */
#define PANEL_MIN_FILL 0.85   /* of its bounding box: a rectangle */
#define PANEL_MIN_ASPECT 1.5  /* long side / short side: a column or a line */
#define PANEL_MAX_AREA 0.25   /* of the picture */
#define PANEL_MIN_INK 0.02
#define PANEL_MAX_INK 0.50

/* New reduced gray copy of `pix` at about PANEL_DPI; *f is the factor from
 * full size to the copy. Color is reduced before it is turned gray, so no
 * full-size intermediate is made. */
static PIX *panel_gray(PIX *pix, double *f)
{
	int w = pixGetWidth(pix), h = pixGetHeight(pix);
	int dpi = pixGetXRes(pix) > 0 ? pixGetXRes(pix) : 300;
	int side = w > h ? w : h;
	double s = (double)PANEL_DPI / dpi;
	PIX *r, *g;

	if (s * side > PANEL_MAX_SIDE)
		s = (double)PANEL_MAX_SIDE / side;
	if (s > 1.0)
		s = 1.0;
	*f = s;
	if (pixGetDepth(pix) == 1)
		return s < 1.0 ? pixScaleToGray(pix, (l_float32)s) : pixConvertTo8(pix, FALSE);
	r = s < 1.0 ? pixScaleAreaMap(pix, (l_float32)s, (l_float32)s) : pixClone(pix);
	if (!r || pixGetDepth(r) == 8)
		return r;
	g = pixConvertRGBToLuminance(r);
	pixDestroy(&r);
	return g;
}

/* Whether component `comp` (placed at x, y of the reduced gray copy `g`,
 * with the light mask `light`) is a flat, rectangular, elongated panel of
 * a plausible size; `min_side` is the smallest side in reduced pixels. */
static bool panel_shape(PIX *g, PIX *light, PIX *comp, int x, int y, int min_side)
{
	int w = pixGetWidth(comp), h = pixGetHeight(comp), n = 0;
	int lo = w < h ? w : h, hi = w < h ? h : w;
	l_float32 spread = 0;
	bool ok = false;
	BOX *box;
	PIX *paper = NULL;

	if (lo < min_side || hi < PANEL_MIN_ASPECT * lo ||
	    (double)w * h > PANEL_MAX_AREA * pixGetWidth(g) * pixGetHeight(g))
		return false;
	if (pixCountPixels(comp, &n, NULL) || n < PANEL_MIN_FILL * w * h)
		return false;
	/* Flatness is measured on the paper only (the light pixels of the
	 * component, away from their edges), not on the marks printed on it
	 * nor on the pixels that the reduction blended with them. */
	box = boxCreate(x, y, w, h);
	paper = box ? pixClipRectangle(light, box, NULL) : NULL;
	if (paper && pixAnd(paper, paper, comp) && pixErodeBrick(paper, paper, 3, 3) &&
	    !pixGetAverageMasked(g, paper, x, y, 1, L_STANDARD_DEVIATION, &spread))
		ok = spread <= PANEL_MAX_SPREAD;
	pixDestroy(&paper);
	boxDestroy(&box);
	return ok;
}

static int cmp_right_to_left(const void *a, const void *b)
{
	const struct bk_box *p = a, *q = b;

	if (p->x1 != q->x1)
		return p->x1 < q->x1 ? 1 : -1;
	return (p->y0 > q->y0) - (p->y0 < q->y0);
}

int bk_image_find_panels(const struct bk_image *img, struct bk_box **boxes,
			 size_t *nboxes, struct bk_error *err)
{
	PIX *g = NULL, *light = NULL, *holes = NULL;
	BOXA *boxa = NULL;
	PIXA *pixa = NULL;
	struct bk_box *out = NULL;
	size_t n = 0;
	double f;
	int dpi = pixGetXRes(img->pix) > 0 ? pixGetXRes(img->pix) : 300;
	int W = pixGetWidth(img->pix), H = pixGetHeight(img->pix), rc = -1;

	quiet();
	*boxes = NULL;
	*nboxes = 0;
	g = panel_gray(img->pix, &f);
	light = g ? pixThresholdToBinary(g, PANEL_LIGHT) : NULL; /* 1 = dark */
	if (!light || !pixInvert(light, light))
		goto nomem;
	/* The marks printed on a panel are holes in its paper: filled, the
	 * panel becomes one solid rectangle. */
	holes = pixHolesByFilling(light, 8);
	if (!holes || !pixOr(holes, holes, light))
		goto nomem;
	boxa = pixConnComp(holes, &pixa, 4);
	out = calloc(BK_MAX_PANELS, sizeof(*out));
	if (!boxa || !pixa || !out)
		goto nomem;
	for (int i = 0; i < boxaGetCount(boxa) && n < BK_MAX_PANELS; i++) {
		int x, y, w, h;
		PIX *comp = pixaGetPix(pixa, i, L_CLONE);
		bool shape = comp && !boxaGetBoxGeometry(boxa, i, &x, &y, &w, &h) &&
			     panel_shape(g, light, comp, x, y,
					 (int)(dpi / 5.0 * f + 0.5));
		pixDestroy(&comp);
		if (!shape)
			continue;
		/* Back to full size, one reduced pixel inside: the panel's
		 * frame must not be read as a stroke. */
		struct bk_box b = {
			(int)((x + 1) / f), (int)((y + 1) / f),
			(int)((x + w - 1) / f), (int)((y + h - 1) / f),
		};
		b.x1 = b.x1 > W ? W : b.x1;
		b.y1 = b.y1 > H ? H : b.y1;
		double ink = bk_image_dark_fraction(img, b);
		if (b.x1 > b.x0 && b.y1 > b.y0 && ink >= PANEL_MIN_INK &&
		    ink <= PANEL_MAX_INK)
			out[n++] = b;
	}
	qsort(out, n, sizeof(*out), cmp_right_to_left);
	if (n) {
		*boxes = out;
		*nboxes = n;
		out = NULL;
	}
	rc = 0;
	goto out;
nomem:
	bk_error_set(err, "finding panels: out of memory");
out:
	free(out);
	pixaDestroy(&pixa);
	boxaDestroy(&boxa);
	pixDestroy(&holes);
	pixDestroy(&light);
	pixDestroy(&g);
	return rc;
}

/* ---- ink components (resolution estimate) ----------------------------- */

struct bk_image *bk_image_ink_mask(const struct bk_image *img, int reduce,
				   struct bk_error *err)
{
	PIX *small = NULL, *b = NULL;
	PIX *src = img->pix;

	quiet();
	if (reduce == 2 && pixGetDepth(src) == 1) {
		/* a pixel is black when any of its four is: thin strokes stay */
		b = pixReduceRankBinary2(src, 1, NULL);
	} else {
		if (reduce == 2) {
			PIX *g = gray_pix(src);
			small = g ? pixScaleAreaMap2(g) : NULL;
			pixDestroy(&g);
			if (!small)
				goto out;
			src = small;
		}
		b = analysis_bilevel(src);
	}
out:
	pixDestroy(&small);
	return wrap_or_fail(&b, "text measurement", err);
}

int bk_image_ink_boxes(const struct bk_image *img, int close_w, int close_h,
		       struct bk_box **boxes, size_t *nboxes, struct bk_error *err)
{
	PIX *closed = NULL;
	BOXA *ba = NULL;
	int n, rc = -1;

	quiet();
	*boxes = NULL;
	*nboxes = 0;
	if (pixGetDepth(img->pix) != 1)
		return bk_error_set(err, "text measurement needs a bilevel image");
	if (close_w > 1 || close_h > 1)
		closed = pixCloseSafeBrick(NULL, img->pix, close_w > 1 ? close_w : 1,
					   close_h > 1 ? close_h : 1);
	if (((close_w > 1 || close_h > 1) && !closed) ||
	    !(ba = pixConnCompBB(closed ? closed : img->pix, 8))) {
		bk_error_set(err, "text measurement: out of memory");
		goto out;
	}
	n = boxaGetCount(ba);
	if (n > 0 && !(*boxes = malloc((size_t)n * sizeof(**boxes)))) {
		bk_error_set(err, "text measurement: out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		l_int32 x, y, w, h;
		boxaGetBoxGeometry(ba, i, &x, &y, &w, &h);
		(*boxes)[i] = (struct bk_box){ x, y, x + w, y + h };
	}
	*nboxes = (size_t)n;
	rc = 0;
out:
	boxaDestroy(&ba);
	pixDestroy(&closed);
	return rc;
}
