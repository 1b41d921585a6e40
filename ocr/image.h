/*
 * ocr/image.h — the image adapter: decoding scans, converting them for
 * Tesseract, encoding them for the PDF, and the cleanup primitives (rotation,
 * deskew, border and spread detection, binarization, despeckling, ruling
 * lines). It is the only interface to Leptonica: the Pix type lives inside
 * ocr/image.c and nowhere else.
 *
 * Guarantees:
 * - an image has depth 1 (bilevel, 1 = black in Leptonica's sense, shown as
 *   black), 8 (gray, 0 = black) or 32 (RGB); nothing else escapes this
 *   module (colormaps are removed, 2/4/16 bpp are promoted).
 * - bk_image_read_mem() checks the header's width x height against
 *   max_pixels BEFORE decoding, so a decompression bomb costs no memory.
 * - no function here prints anything: Leptonica's own messages are switched
 *   off on entry to each function (see ocr/image.c for why), and failures
 *   are reported once through `struct bk_error`.
 * - every function returning a `struct bk_image *` returns a new image owned
 *   by the caller (free with bk_image_free), or NULL with `err` set; inputs
 *   are never modified unless the name says "in place".
 */
#ifndef BUNKO_OCR_IMAGE_H
#define BUNKO_OCR_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "bunko/common.h"
#include "bunko/encoded.h" /* what bk_image_encode makes */
#include "bunko/page.h"    /* struct bk_box */

struct bk_image; /* opaque, wraps a Leptonica Pix; owned by caller */

#define BK_IMAGE_MAX_PIXELS_DEFAULT (400L * 1000 * 1000) /* decompression-bomb guard */

/* PNG/JPEG/PNM/BMP/single-image TIFF (the first image of a multi-page TIFF);
 * `name` is used in error messages. Header checked against max_pixels
 * (<= 0: BK_IMAGE_MAX_PIXELS_DEFAULT) BEFORE decoding. Resolution is taken
 * from the file (0 if it has none). */
struct bk_image *bk_image_read_mem(const void *data, size_t len, const char *name,
				   long max_pixels, struct bk_error *err);

/* Wraps raw rows from another decoder (libtiff, poppler):
 * depth 1: rows MSB-first packed, 1 = black; 8: gray (0 black);
 * 24: RGB bytes; 32: RGBA/XRGB bytes in the order R,G,B,x.
 * `stride` is the byte distance between rows. Copies the data. */
/* 1 when libjpeg cannot decode the JPEG `data` as it is: it had to patch
 * damaged or missing data, or gave up (its first message in `why`); 0 when
 * it decodes clean. Decodes the whole image a row at a time and prints
 * nothing: for JPEG data another library would hand to libjpeg itself
 * (poppler prints libjpeg's messages on stderr). */
int bk_jpeg_damaged(const void *data, size_t len, char *why, size_t whysize);

struct bk_image *bk_image_from_raw(int width, int height, int depth,
				   const unsigned char *data, size_t stride,
				   int xres, int yres, struct bk_error *err);

struct bk_image *bk_image_clone(const struct bk_image *img); /* deep copy; NULL if out of memory */

/* A new white image (depth 1, 8 or 32), and another image of the same
 * depth pasted into it, in place, with its top left corner at (x, y)
 * (clipped). Together they assemble a picture, or a part of it, from bands
 * decoded one at a time (ocr/reader.c, bk_read_picture_rows). */
struct bk_image *bk_image_new_white(int width, int height, int depth, int xres, int yres,
				    struct bk_error *err);
int bk_image_paste(struct bk_image *dst, int x, int y, const struct bk_image *src,
		   struct bk_error *err);

/* A gray copy shrunk by the whole factor k: each pixel the mean of a k x k
 * block (the last row and column of blocks take what is left), so that
 * bands shrunk one by one and pasted at y / k (y a multiple of k) make the
 * copy the whole picture would give; the resolution is divided by k. */
struct bk_image *bk_image_shrink_gray(const struct bk_image *img, int k, struct bk_error *err);

/* A second handle on the same pixels, without copying them (a large color
 * picture kept for display costs no second copy). Both handles are freed
 * separately. The pixels are read-only from then on: the functions of this
 * module that work "in place" replace a shared image's pixels rather than
 * change them, but bk_image_set_resolution() changes both handles. */
struct bk_image *bk_image_share(const struct bk_image *img, struct bk_error *err);
void bk_image_free(struct bk_image **img);

int bk_image_width(const struct bk_image *img);
int bk_image_height(const struct bk_image *img);
int bk_image_depth(const struct bk_image *img); /* 1, 8 or 32 */
int bk_image_xres(const struct bk_image *img);  /* dpi, 0 if unknown */
int bk_image_yres(const struct bk_image *img);
void bk_image_set_resolution(struct bk_image *img, int xres, int yres);

/* New 8-bit gray copy (for Tesseract): rows of *stride bytes, 0 = black,
 * 255 = white (1-bpp black -> 0). Caller frees *buf with free(). */
int bk_image_gray8(const struct bk_image *img, unsigned char **buf, int *width,
		   int *height, int *stride, struct bk_error *err);
/* The same for rows y0 .. y1-1 only (clipped to the image): a band of a
 * large picture without a full-size gray copy. */
int bk_image_gray8_rows(const struct bk_image *img, int y0, int y1, unsigned char **buf,
			int *width, int *height, int *stride, struct bk_error *err);

/* The rectangle (x0, y0)-(x1, y1) of an 8-bit gray buffer (0 black), magnified
 * 2 or 4 times by Leptonica's linear interpolation, as a new buffer *out
 * (caller frees with free()) of *width x *height bytes, stride *width:
 * small type read again at a size the recognizer reads better. */
int bk_gray_magnify(const unsigned char *data, int stride, int x0, int y0, int x1, int y1, int factor,
		    unsigned char **out, int *width, int *height, struct bk_error *err);

/* G4: decoding with PDF /CCITTFaxDecode <</K -1 /Columns W /Rows H
 * /BlackIs1 false>> into /DeviceGray gives black text on white; an image
 * that is not 1 bpp is thresholded first. JPEG: baseline, `jpeg_quality`
 * 1..100 (0: 85), gray or RGB. FLATE: zlib of rows, 8 bpc, gray or RGB (a
 * 1-bpp image is expanded to gray). `out` is overwritten (release it). */
int bk_image_encode(const struct bk_image *img, enum bk_encoding enc, int jpeg_quality,
		    struct bk_encoded_image *out, struct bk_error *err);
/* Pass-through of an original JPEG: copies the bytes and reads the SOF
 * (dimensions, components) and the resolution from the header. */
int bk_encoded_from_jpeg(const void *jpeg, size_t len, const char *name,
			 struct bk_encoded_image *out, struct bk_error *err);

/* Writes a PNG (debugging, tests). */
int bk_image_write_png(const struct bk_image *img, const char *path, struct bk_error *err);

/*
 * Cleanup primitives. The policy that combines them per profile is
 * ocr/cleanup.h; these are the mechanisms.
 */

/* Rotates clockwise by 0, 90, 180 or 270 degrees (lossless). */
struct bk_image *bk_image_rotate_orth(const struct bk_image *img, int degrees_cw,
				      struct bk_error *err);

/* Measures the skew of the text lines. *degrees is the clockwise angle by
 * which the page must be rotated to straighten it (0 when no reliable skew
 * was found: then *found is false). Works on any depth. */
int bk_image_find_skew(const struct bk_image *img, double *degrees, bool *found,
		       struct bk_error *err);

/* Rotates by `degrees` clockwise about the centre, same size, background
 * filled with white. */
struct bk_image *bk_image_rotate(const struct bk_image *img, double degrees,
				 struct bk_error *err);

/* Finds the page area of a scan with dark film borders: the bounding box
 * of the light region left after dark regions touching the image edges are
 * removed. *found is false (and *area the whole image) when no border was
 * found. */
int bk_image_find_page_area(const struct bk_image *img, struct bk_box *area, bool *found,
			    struct bk_error *err);

/* Copies the pixels inside `box` (clipped to the image). */
struct bk_image *bk_image_crop(const struct bk_image *img, struct bk_box box,
			       struct bk_error *err);

/* Looks for the gutter of a two-page spread: the column near the centre
 * (middle 30 %) that is emptiest of ink or darkest with gutter shadow,
 * standing out clearly from the text on both sides. *found false when the
 * image does not look like a spread. */
int bk_image_find_gutter(const struct bk_image *img, int *gutter_x, bool *found,
			 struct bk_error *err);

/* 8-bit gray copy (RGB -> luminance, 1 bpp -> 0/255). */
struct bk_image *bk_image_to_gray(const struct bk_image *img, struct bk_error *err);

/* Gray copy with the background flattened to white and the contrast
 * stretched (uneven illumination, faint ink). Same geometry. */
struct bk_image *bk_image_normalize(const struct bk_image *img, struct bk_error *err);

enum bk_binarize_method {
	BK_BINARIZE_OTSU = 0,   /* one global threshold */
	BK_BINARIZE_SAUVOLA     /* adaptive, local windows: uneven background */
};

/* 1-bpp copy (a 1-bpp input is copied as is). */
struct bk_image *bk_image_binarize(const struct bk_image *img, enum bk_binarize_method method,
				   struct bk_error *err);

/* 1 bpp only, in place: removes connected components of black whose
 * bounding box fits in max_size x max_size pixels. Returns the number
 * removed, or -1. */
int bk_image_despeckle(struct bk_image *img, int max_size, struct bk_error *err);

/* 1 bpp only, in place: removes long straight horizontal and vertical
 * ruling lines (tables, frames) longer than `min_length` pixels.
 * Returns 0 or -1. */
int bk_image_remove_lines(struct bk_image *img, int min_length, struct bk_error *err);

/* Share (0..1) of dark pixels (gray < 128) inside `box` (clipped). */
double bk_image_dark_fraction(const struct bk_image *img, struct bk_box box);

/*
 * Pictures (prints, maps).
 */

/* 1-bpp copy keeping only dark, colorless marks: a pixel is black when its
 * brightest channel is at most `max_value` and its channels differ by at
 * most `max_chroma` (gray input: value only; bilevel input: copied). The
 * black lettering of a map survives; colored roads, rivers, parks and
 * their edges do not. Made row by row: no full-size intermediate. */
struct bk_image *bk_image_dark_ink(const struct bk_image *img, int max_value,
				   int max_chroma, struct bk_error *err);

/* Most panels bk_image_find_panels() reports. */
#define BK_MAX_PANELS 16

/*
 * Finds title panels (the cartouches of a print, a map's title box): light,
 * flat, rectangular areas that are elongated (a column or a line of text),
 * at least a fifth of an inch across and at most a quarter of the picture,
 * holding dark marks (2-50 % of the area). The work is done on a reduced
 * gray copy (about 75 dpi, at most 1500 px a side), so the cost does not
 * grow with the picture. *boxes (caller frees; NULL when none) receives the
 * panels' interiors in pixels of `img`, right to left (the reading order
 * of a Japanese print's titles), at most BK_MAX_PANELS.
 */
int bk_image_find_panels(const struct bk_image *img, struct bk_box **boxes,
			 size_t *nboxes, struct bk_error *err);

/*
 * Text measurement (ocr/resolution.c). bk_image_ink_mask: a 1-bpp mask of
 * the ink, 1 = ink (bilevel as is; gray or colour flattened for uneven
 * background and thresholded, as for the skew search), reduced by
 * `reduce` (1 or 2) on each axis first. bk_image_ink_boxes: bounding boxes
 * of the 8-connected components of such a mask after a morphological
 * closing with a close_w x close_h brick (a value <= 1: no closing that
 * way; a horizontal brick joins the characters of a line into one
 * component); *boxes (caller frees; NULL when none) in pixels of `mask`.
 */
struct bk_image *bk_image_ink_mask(const struct bk_image *img, int reduce,
				   struct bk_error *err);
int bk_image_ink_boxes(const struct bk_image *mask, int close_w, int close_h,
		       struct bk_box **boxes, size_t *nboxes, struct bk_error *err);

#endif
