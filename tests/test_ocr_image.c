/*
 * tests/test_ocr_image.c — the Leptonica adapter on the real samples and on
 * images built byte by byte: decoding and its refusals, raw import in every
 * depth (checked pixel by pixel through bk_image_gray8), the three PDF
 * encodings (rendered by poppler's pdftoppm to check polarity and channel
 * order), and the cleanup primitives against properties the samples were
 * generated with (skew angles, the gutter position, the film border).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <leptonica/allheaders.h>

#include "ocr/image.h"
#include "test_support.h"

static struct bk_image *read_sample(const char *name, long max_pixels, struct bk_error *err)
{
	char *path = ts_sample(name);
	size_t len = 0;
	char *data = ts_read(path, &len);
	struct bk_image *img;

	cr_assert_not_null(data, "cannot read %s", path);
	img = bk_image_read_mem(data, len, name, max_pixels, err);
	free(data);
	free(path);
	return img;
}

static struct bk_image *must_read(const char *name)
{
	struct bk_error err;
	struct bk_image *img;

	bk_error_init(&err);
	img = read_sample(name, 0, &err);
	cr_assert_not_null(img, "%s: %s", name, err.msg);
	return img;
}

/* Gray value of pixel (x, y). */
static int gray_at(const struct bk_image *img, int x, int y)
{
	unsigned char *buf;
	int w, h, stride, v;
	struct bk_error err;

	cr_assert_eq(bk_image_gray8(img, &buf, &w, &h, &stride, &err), 0, "%s", err.msg);
	v = buf[(size_t)y * stride + x];
	free(buf);
	return v;
}

Test(image, reads_each_sample_type)
{
	static const struct {
		const char *name;
		int depth;
	} cases[] = {
		{ "h-reiki.tif", 1 }, { "v-gian.tif", 1 }, { "h-kokuji.png", 8 },
		{ "ukiyoe.jpg", 32 }, { "map.png", 32 }, { "blank.png", 8 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bk_image *img = must_read(cases[i].name);

		cr_expect_eq(bk_image_depth(img), cases[i].depth, "%s: depth %d", cases[i].name,
			     bk_image_depth(img));
		cr_expect_gt(bk_image_width(img), 500, "%s", cases[i].name);
		cr_expect_gt(bk_image_height(img), 500, "%s", cases[i].name);
		cr_expect_eq(bk_image_xres(img), 300, "%s: %d dpi", cases[i].name,
			     bk_image_xres(img));
		bk_image_free(&img);
		cr_expect_null(img);
	}
}

Test(image, refuses_bad_files_naming_them)
{
	static const struct {
		const char *name, *expect;
	} cases[] = {
		{ "bad/zero.tif", "not a supported image" },
		{ "bad/notimage.png", "not a supported image (PNG, JPEG, TIFF, PNM, BMP)" },
		{ "bad/bomb.png", "image of 100000x100000 pixels exceeds the limit of 400000000" },
		{ "bad/truncated.tif", "damaged or truncated" },
		{ "bad/corrupt.pdf", "not a supported image" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bk_error err;
		char quoted[64];

		bk_error_init(&err);
		cr_expect_null(read_sample(cases[i].name, 0, &err), "%s decoded", cases[i].name);
		snprintf(quoted, sizeof(quoted), "'%s'", cases[i].name);
		cr_expect(strstr(err.msg, quoted) != NULL, "%s: message '%s'", cases[i].name, err.msg);
		cr_expect(strstr(err.msg, cases[i].expect) != NULL, "%s: message '%s'",
			  cases[i].name, err.msg);
	}
}

Test(image, pixel_limit_applies_before_decoding)
{
	struct bk_error err;

	bk_error_init(&err);
	/* h-reiki.tif is 1748x2480: 4.3 million pixels */
	cr_assert_null(read_sample("h-reiki.tif", 1000000, &err));
	cr_expect(strstr(err.msg, "'h-reiki.tif': image of 1748x2480 pixels exceeds the limit of 1000000"),
		  "%s", err.msg);
}

Test(image, raw_depth1_msb_first_one_is_black)
{
	/* 13 pixels wide: the second byte is partly padding. Row 0 has pixels
	 * 0, 7, 8 and 12 black; row 1 is all white. */
	unsigned char rows[2][4] = { { 0x81, 0x88, 0xff, 0xff }, { 0x00, 0x00, 0x00, 0x00 } };
	struct bk_error err;
	struct bk_image *img = bk_image_from_raw(13, 2, 1, &rows[0][0], 4, 200, 200, &err);
	unsigned char *buf;
	int w, h, stride;

	cr_assert_not_null(img, "%s", err.msg);
	cr_expect_eq(bk_image_depth(img), 1);
	cr_expect_eq(bk_image_xres(img), 200);
	cr_assert_eq(bk_image_gray8(img, &buf, &w, &h, &stride, &err), 0);
	cr_assert_eq(w, 13);
	cr_assert_eq(h, 2);
	for (int x = 0; x < 13; x++) {
		bool black = x == 0 || x == 7 || x == 8 || x == 12;

		cr_expect_eq(buf[x], black ? 0 : 255, "pixel %d: %d", x, buf[x]);
		cr_expect_eq(buf[stride + x], 255);
	}
	free(buf);
	bk_image_free(&img);
}

Test(image, raw_depth8_keeps_every_value_in_place)
{
	enum { W = 37, H = 5, STRIDE = 40 };
	unsigned char data[H * STRIDE];
	struct bk_error err;
	struct bk_image *img;
	unsigned char *buf;
	int w, h, stride;

	for (int i = 0; i < H * STRIDE; i++)
		data[i] = (unsigned char)(i * 7 + 3);
	img = bk_image_from_raw(W, H, 8, data, STRIDE, 0, 0, &err);
	cr_assert_not_null(img, "%s", err.msg);
	cr_assert_eq(bk_image_gray8(img, &buf, &w, &h, &stride, &err), 0);
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			cr_expect_eq(buf[y * stride + x], data[y * STRIDE + x], "(%d,%d)", x, y);
	free(buf);
	bk_image_free(&img);
}

/* Raw RGB (24) or RGBx (32): gray pixels must come back unchanged, and the
 * channel order must be R, G, B (luminance weights green > red > blue). */
static void check_rgb(int depth)
{
	enum { W = 9, H = 3 };
	int n = depth / 8, stride = W * n + 2;
	unsigned char *data = calloc((size_t)H * stride, 1);
	struct bk_error err;
	struct bk_image *img;
	int r, g, b;

	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++) {
			unsigned char *p = data + y * stride + x * n;
			int v = 20 * x + 5 * y;

			p[0] = p[1] = p[2] = (unsigned char)v;
			if (n == 4)
				p[3] = 0x5a; /* ignored */
		}
	/* row 2: a pure red, green and blue pixel */
	memcpy(data + 2 * stride + 0 * n, "\xff\x00\x00", 3);
	memcpy(data + 2 * stride + 1 * n, "\x00\xff\x00", 3);
	memcpy(data + 2 * stride + 2 * n, "\x00\x00\xff", 3);
	img = bk_image_from_raw(W, H, depth, data, stride, 300, 300, &err);
	cr_assert_not_null(img, "%s", err.msg);
	cr_expect_eq(bk_image_depth(img), 32);
	for (int y = 0; y < 2; y++)
		for (int x = 0; x < W; x++)
			cr_expect_eq(gray_at(img, x, y), 20 * x + 5 * y, "depth %d (%d,%d)", depth, x, y);
	r = gray_at(img, 0, 2);
	g = gray_at(img, 1, 2);
	b = gray_at(img, 2, 2);
	cr_expect(g > r && r > b && b > 0, "depth %d: red %d green %d blue %d", depth, r, g, b);
	bk_image_free(&img);
	free(data);
}

Test(image, raw_depth24_and_32_channel_order)
{
	check_rgb(24);
	check_rgb(32);
}

Test(image, raw_rejects_bad_geometry)
{
	unsigned char data[16] = { 0 };
	struct bk_error err;

	bk_error_init(&err);
	cr_expect_null(bk_image_from_raw(10, 1, 24, data, 16, 0, 0, &err));
	cr_expect(strstr(err.msg, "stride") != NULL, "%s", err.msg);
	cr_expect_null(bk_image_from_raw(4, 1, 16, data, 16, 0, 0, &err));
}

/* A white W x H bilevel image with a black square [x0,x1) x [y0,y1). */
static struct bk_image *square_image(int w, int h, int x0, int y0, int x1, int y1)
{
	size_t stride = ((size_t)w + 7) / 8;
	unsigned char *data = calloc(stride * h, 1);
	struct bk_error err;
	struct bk_image *img;

	for (int y = y0; y < y1; y++)
		for (int x = x0; x < x1; x++)
			data[y * stride + x / 8] |= (unsigned char)(0x80 >> (x % 8));
	img = bk_image_from_raw(w, h, 1, data, stride, 72, 72, &err);
	free(data);
	cr_assert_not_null(img, "%s", err.msg);
	return img;
}

/*
 * Writes a one-page PDF that shows `enc` at 72 dpi (1 pixel = 1 point)
 * with the filter the PDF writer uses, and renders it with pdftoppm at 72
 * dpi as PPM. Returns the PPM bytes (P6) or NULL without poppler-utils.
 */
static char *render_in_pdf(const struct bk_encoded_image *enc, const char *dir, size_t *len)
{
	char pdfpath[512], prefix[512], cmd[1200], ppm[600], dict[512];
	FILE *fp;
	long off[6];
	long xref;
	const char *space = enc->components == 3 ? "/DeviceRGB" : "/DeviceGray";

	TS_NEED_TOOL("pdftoppm");
	if (enc->encoding == BK_ENC_G4)
		snprintf(dict, sizeof(dict),
			 "/Filter /CCITTFaxDecode /DecodeParms << /K -1 /Columns %d /Rows %d /BlackIs1 false >> /BitsPerComponent 1",
			 enc->width, enc->height);
	else
		snprintf(dict, sizeof(dict), "/Filter /%s /BitsPerComponent 8",
			 enc->encoding == BK_ENC_JPEG ? "DCTDecode" : "FlateDecode");
	snprintf(pdfpath, sizeof(pdfpath), "%s/t.pdf", dir);
	fp = fopen(pdfpath, "wb");
	cr_assert_not_null(fp);
	fprintf(fp, "%%PDF-1.4\n");
	off[1] = ftell(fp);
	fprintf(fp, "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n");
	off[2] = ftell(fp);
	fprintf(fp, "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n");
	off[3] = ftell(fp);
	fprintf(fp, "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
		    "/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >> endobj\n",
		enc->width, enc->height);
	off[4] = ftell(fp);
	fprintf(fp, "4 0 obj << /Type /XObject /Subtype /Image /Width %d /Height %d "
		    "/ColorSpace %s %s /Length %zu >>\nstream\n",
		enc->width, enc->height, space, dict, enc->size);
	fwrite(enc->data, 1, enc->size, fp);
	fprintf(fp, "\nendstream endobj\n");
	off[5] = ftell(fp);
	{
		char content[64];
		int n = snprintf(content, sizeof(content), "q %d 0 0 %d 0 0 cm /Im0 Do Q",
				 enc->width, enc->height);

		fprintf(fp, "5 0 obj << /Length %d >>\nstream\n%s\nendstream endobj\n", n, content);
	}
	xref = ftell(fp);
	fprintf(fp, "xref\n0 6\n0000000000 65535 f \n");
	for (int i = 1; i <= 5; i++)
		fprintf(fp, "%010ld 00000 n \n", off[i]);
	fprintf(fp, "trailer << /Size 6 /Root 1 0 R >>\nstartxref\n%ld\n%%%%EOF\n", xref);
	fclose(fp);
	snprintf(prefix, sizeof(prefix), "%s/r", dir);
	snprintf(cmd, sizeof(cmd), "pdftoppm -r 72 -singlefile '%s' '%s' 2>&1", pdfpath, prefix);
	cr_assert_eq(ts_run(cmd, NULL, 1), 0, "%s", cmd);
	snprintf(ppm, sizeof(ppm), "%s.ppm", prefix);
	return ts_read(ppm, len);
}

/* RGB of pixel (x, y) of a P6 PPM. */
static const unsigned char *ppm_pixel(const char *ppm, size_t len, int x, int y)
{
	int w, h, maxval, n = 0;

	cr_assert_eq(sscanf(ppm, "P6 %d %d %d%n", &w, &h, &maxval, &n), 3);
	cr_assert(x < w && y < h);
	cr_assert((size_t)n + 1 + ((size_t)y * w + x) * 3 + 3 <= len);
	return (const unsigned char *)ppm + n + 1 + ((size_t)y * w + x) * 3;
}

Test(image, g4_is_small_and_shows_black_on_white)
{
	struct bk_image *img = square_image(200, 120, 50, 40, 90, 80);
	struct bk_encoded_image enc;
	struct bk_error err;
	char *dir = ts_mkdtemp("g4");
	char *ppm;
	size_t len = 0;

	cr_assert_eq(bk_image_encode(img, BK_ENC_G4, 0, &enc, &err), 0, "%s", err.msg);
	cr_expect_eq(enc.encoding, BK_ENC_G4);
	cr_expect_eq(enc.width, 200);
	cr_expect_eq(enc.height, 120);
	cr_expect_eq(enc.bits_per_component, 1);
	cr_expect_eq(enc.components, 1);
	cr_expect_eq(enc.xres, 72);
	cr_expect_lt(enc.size, 200 * 120 / 8 / 4, "G4 of a square: %zu bytes", enc.size);
	ppm = render_in_pdf(&enc, dir, &len);
	cr_assert_not_null(ppm, "pdftoppm rendered nothing");
	{
		cr_expect_lt(ppm_pixel(ppm, len, 70, 60)[0], 50, "inside the square is not black");
		cr_expect_gt(ppm_pixel(ppm, len, 10, 10)[0], 200, "the page is not white");
		cr_expect_gt(ppm_pixel(ppm, len, 150, 100)[0], 200, "the page is not white");
		free(ppm);
	}
	bk_encoded_image_release(&enc);
	cr_expect_null(enc.data);
	bk_image_free(&img);
	ts_rmtree(dir);
	free(dir);
}

Test(image, g4_of_a_real_page)
{
	struct bk_image *img = must_read("h-reiki.tif");
	struct bk_encoded_image enc;
	struct bk_error err;
	size_t raw = (size_t)bk_image_width(img) * bk_image_height(img) / 8;

	cr_assert_eq(bk_image_encode(img, BK_ENC_G4, 0, &enc, &err), 0, "%s", err.msg);
	cr_expect_eq(enc.width, bk_image_width(img));
	cr_expect_eq(enc.height, bk_image_height(img));
	cr_expect_eq(enc.xres, 300);
	cr_expect_lt(enc.size * 5, raw, "G4 %zu bytes for %zu raw", enc.size, raw);
	bk_encoded_image_release(&enc);
	bk_image_free(&img);
}

/* Flate and JPEG of an RGB image with a red left half and a blue right
 * half on render show the same colours in the same places. */
static void check_color_encoding(enum bk_encoding which)
{
	enum { W = 64, H = 32 };
	unsigned char data[W * H * 3];
	struct bk_image *img;
	struct bk_encoded_image enc;
	struct bk_error err;
	char *dir = ts_mkdtemp("enc");
	char *ppm;
	size_t len = 0;

	for (int i = 0; i < W * H; i++) {
		bool left = i % W < W / 2;

		data[3 * i] = left ? 220 : 10;
		data[3 * i + 1] = 30;
		data[3 * i + 2] = left ? 10 : 220;
	}
	img = bk_image_from_raw(W, H, 24, data, W * 3, 72, 72, &err);
	cr_assert_not_null(img, "%s", err.msg);
	cr_assert_eq(bk_image_encode(img, which, 90, &enc, &err), 0, "%s", err.msg);
	cr_expect_eq(enc.components, 3);
	cr_expect_eq(enc.bits_per_component, 8);
	cr_expect_eq(enc.width, W);
	ppm = render_in_pdf(&enc, dir, &len);
	cr_assert_not_null(ppm, "pdftoppm rendered nothing");
	{
		const unsigned char *l = ppm_pixel(ppm, len, 8, 16), *r = ppm_pixel(ppm, len, 56, 16);

		cr_expect(l[0] > 180 && l[2] < 60, "left is %d,%d,%d, not red", l[0], l[1], l[2]);
		cr_expect(r[2] > 180 && r[0] < 60, "right is %d,%d,%d, not blue", r[0], r[1], r[2]);
		free(ppm);
	}
	bk_encoded_image_release(&enc);
	bk_image_free(&img);
	ts_rmtree(dir);
	free(dir);
}

Test(image, flate_rgb_rows)
{
	check_color_encoding(BK_ENC_FLATE);
}

Test(image, jpeg_rgb)
{
	check_color_encoding(BK_ENC_JPEG);
}

Test(image, flate_gray_of_bilevel)
{
	struct bk_image *img = square_image(40, 30, 10, 10, 20, 20);
	struct bk_encoded_image enc;
	struct bk_error err;

	cr_assert_eq(bk_image_encode(img, BK_ENC_FLATE, 0, &enc, &err), 0, "%s", err.msg);
	cr_expect_eq(enc.components, 1);
	cr_expect_eq(enc.bits_per_component, 8);
	cr_expect_gt(enc.size, 2);
	bk_encoded_image_release(&enc);
	bk_image_free(&img);
}

Test(image, jpeg_pass_through_keeps_bytes)
{
	char *path = ts_sample("ukiyoe.jpg");
	size_t len = 0;
	char *data = ts_read(path, &len);
	struct bk_encoded_image enc;
	struct bk_error err;
	struct bk_image *img = must_read("ukiyoe.jpg");

	cr_assert_not_null(data);
	cr_assert_eq(bk_encoded_from_jpeg(data, len, "ukiyoe.jpg", &enc, &err), 0, "%s", err.msg);
	cr_expect_eq(enc.encoding, BK_ENC_JPEG);
	cr_expect_eq(enc.width, bk_image_width(img));
	cr_expect_eq(enc.height, bk_image_height(img));
	cr_expect_eq(enc.components, 3);
	cr_expect_eq(enc.xres, 300);
	cr_assert_eq(enc.size, len);
	cr_expect_eq(memcmp(enc.data, data, len), 0);
	bk_encoded_image_release(&enc);
	bk_image_free(&img);
	free(data);
	free(path);

	path = ts_sample("map.png");
	data = ts_read(path, &len);
	bk_error_init(&err);
	cr_expect_neq(bk_encoded_from_jpeg(data, len, "map.png", &enc, &err), 0);
	cr_expect(strstr(err.msg, "'map.png': not a JPEG") != NULL, "%s", err.msg);
	free(data);
	free(path);
}

Test(image, png_round_trip)
{
	struct bk_image *img = square_image(33, 17, 3, 4, 9, 12), *back;
	char *dir = ts_mkdtemp("png");
	char path[512];
	size_t len = 0;
	char *data;
	struct bk_error err;

	snprintf(path, sizeof(path), "%s/x.png", dir);
	cr_assert_eq(bk_image_write_png(img, path, &err), 0, "%s", err.msg);
	data = ts_read(path, &len);
	back = bk_image_read_mem(data, len, "x.png", 0, &err);
	cr_assert_not_null(back, "%s", err.msg);
	cr_expect_eq(bk_image_width(back), 33);
	cr_expect_eq(bk_image_height(back), 17);
	cr_expect_eq(bk_image_depth(back), 1);
	cr_expect_eq(gray_at(back, 5, 6), 0);
	cr_expect_eq(gray_at(back, 20, 6), 255);
	snprintf(path, sizeof(path), "%s/no/such/dir/x.png", dir);
	cr_expect_neq(bk_image_write_png(img, path, &err), 0);
	cr_expect(strstr(err.msg, "cannot write '") != NULL, "%s", err.msg);
	bk_image_free(&back);
	bk_image_free(&img);
	free(data);
	ts_rmtree(dir);
	free(dir);
}

Test(image, orthogonal_rotation_moves_pixels_clockwise)
{
	/* black pixel block at the top-left corner of a 40x20 image */
	struct bk_image *img = square_image(40, 20, 0, 0, 4, 4), *r;
	struct bk_error err;

	r = bk_image_rotate_orth(img, 90, &err);
	cr_assert_not_null(r, "%s", err.msg);
	cr_expect_eq(bk_image_width(r), 20);
	cr_expect_eq(bk_image_height(r), 40);
	cr_expect_eq(gray_at(r, 19, 0), 0, "top-left should go to top-right");
	cr_expect_eq(gray_at(r, 0, 0), 255);
	bk_image_free(&r);
	r = bk_image_rotate_orth(img, 180, &err);
	cr_expect_eq(gray_at(r, 39, 19), 0, "top-left should go to bottom-right");
	bk_image_free(&r);
	r = bk_image_rotate_orth(img, 270, &err);
	cr_expect_eq(gray_at(r, 0, 39), 0, "top-left should go to bottom-left");
	bk_image_free(&r);
	cr_expect_null(bk_image_rotate_orth(img, 45, &err));
	bk_image_free(&img);
}

/* h-reiki.tif page 1 was generated turned 0.8° counter-clockwise. */
Test(image, skew_measures_known_angles)
{
	struct bk_image *img = must_read("h-reiki.tif"), *straight, *turned;
	struct bk_error err;
	double deg, again;
	bool found;

	cr_assert_eq(bk_image_find_skew(img, &deg, &found, &err), 0, "%s", err.msg);
	cr_expect(found);
	cr_expect(deg > 0.5 && deg < 1.1, "measured %.3f, generated 0.8", deg);
	straight = bk_image_rotate(img, deg, &err);
	cr_assert_not_null(straight, "%s", err.msg);
	cr_assert_eq(bk_image_find_skew(straight, &again, &found, &err), 0);
	cr_expect(fabs(again) < 0.3, "still %.3f after deskew", again);
	/* turn the straightened page 1.5° clockwise: correction is -1.5° */
	turned = bk_image_rotate(straight, 1.5, &err);
	cr_assert_not_null(turned, "%s", err.msg);
	cr_assert_eq(bk_image_find_skew(turned, &again, &found, &err), 0);
	cr_expect(found);
	cr_expect(fabs(again + 1.5) < 0.3, "measured %.3f, expected -1.5", again);
	bk_image_free(&turned);
	bk_image_free(&straight);
	bk_image_free(&img);
}

Test(image, vertical_text_skew)
{
	struct bk_image *img = must_read("v-gian.tif"); /* generated at 0.6° */
	struct bk_error err;
	double deg;
	bool found;

	cr_assert_eq(bk_image_find_skew(img, &deg, &found, &err), 0, "%s", err.msg);
	cr_expect(found);
	cr_expect(fabs(deg - 0.6) < 0.3, "measured %.3f, generated 0.6", deg);
	bk_image_free(&img);
}

Test(image, blank_page_has_no_skew_and_no_gutter)
{
	struct bk_image *img = must_read("blank.png");
	struct bk_error err;
	double deg;
	bool found;
	int gx;

	cr_assert_eq(bk_image_find_skew(img, &deg, &found, &err), 0, "%s", err.msg);
	cr_expect_not(found, "skew %.2f on a blank page", deg);
	cr_assert_eq(bk_image_find_gutter(img, &gx, &found, &err), 0);
	cr_expect_not(found, "gutter at %d on a blank page", gx);
	bk_image_free(&img);
}

/* spread-reiki.tif: 90 px film border, pages 1512 px wide: gutter at 1602. */
Test(image, gutter_and_page_area_of_the_spread)
{
	struct bk_image *img = must_read("spread-reiki.tif"), *page;
	struct bk_error err;
	struct bk_box area;
	bool found;
	int gx, w, h;

	cr_assert_eq(bk_image_find_gutter(img, &gx, &found, &err), 0, "%s", err.msg);
	cr_expect(found);
	cr_expect(abs(gx - 1602) < 30, "gutter at %d", gx);
	cr_expect_gt(bk_image_dark_fraction(img, (struct bk_box){ 0, 0, 40, 2000 }), 0.9,
		     "the sample should have a dark border");
	cr_assert_eq(bk_image_find_page_area(img, &area, &found, &err), 0, "%s", err.msg);
	cr_expect(found);
	page = bk_image_crop(img, area, &err);
	cr_assert_not_null(page, "%s", err.msg);
	w = bk_image_width(page);
	h = bk_image_height(page);
	cr_expect(w > 2800 && w < 3100 && h > 1950 && h < 2200, "page %dx%d", w, h);
	/* top and bottom edges, left and right of the gutter shadow (which
	 * belongs to the page and runs from top to bottom) */
	gx -= area.x0;
	for (int side = 0; side < 2; side++) {
		int x0 = side ? gx + 80 : 0, x1 = side ? w : gx - 80;
		double top = bk_image_dark_fraction(page, (struct bk_box){ x0, 0, x1, 15 });
		double bottom = bk_image_dark_fraction(page, (struct bk_box){ x0, h - 15, x1, h });

		cr_expect_lt(top, 0.02, "top %.3f", top);
		cr_expect_lt(bottom, 0.02, "bottom %.3f", bottom);
	}
	cr_expect_lt(bk_image_dark_fraction(page, (struct bk_box){ 0, 0, 15, h }), 0.02, "left");
	cr_expect_lt(bk_image_dark_fraction(page, (struct bk_box){ w - 15, 0, w, h }), 0.02, "right");
	bk_image_free(&page);
	bk_image_free(&img);
}

Test(image, page_without_border_is_left_alone)
{
	struct bk_image *img = must_read("v-gian.tif");
	struct bk_error err;
	struct bk_box area;
	bool found;

	cr_assert_eq(bk_image_find_page_area(img, &area, &found, &err), 0, "%s", err.msg);
	cr_expect_not(found, "border found: %d,%d-%d,%d", area.x0, area.y0, area.x1, area.y1);
	cr_expect_eq(area.x1, bk_image_width(img));
	bk_image_free(&img);
}

Test(image, binarize_gray_page)
{
	struct bk_image *img = must_read("h-kokuji.png");
	struct bk_error err;

	for (int m = BK_BINARIZE_OTSU; m <= BK_BINARIZE_SAUVOLA; m++) {
		struct bk_image *b = bk_image_binarize(img, m, &err);
		double ink;

		cr_assert_not_null(b, "%s", err.msg);
		cr_expect_eq(bk_image_depth(b), 1);
		cr_expect_eq(bk_image_width(b), bk_image_width(img));
		cr_expect_eq(bk_image_height(b), bk_image_height(img));
		/* text, not a black page: a few percent ink */
		ink = bk_image_dark_fraction(b, (struct bk_box){ 0, 0, bk_image_width(b), bk_image_height(b) });
		cr_expect(ink > 0.005 && ink < 0.15, "method %d: %.3f ink", m, ink);
		bk_image_free(&b);
	}
	bk_image_free(&img);
}

Test(image, despeckle_removes_only_specks)
{
	enum { W = 64, H = 64, S = 8 };
	unsigned char data[H * S] = { 0 };
	struct bk_image *img;
	struct bk_error err;

	for (int y = 10; y < 30; y++) /* a 20x20 block */
		for (int x = 10; x < 30; x++)
			data[y * S + x / 8] |= (unsigned char)(0x80 >> (x % 8));
	data[50 * S + 50 / 8] |= 0x80 >> (50 % 8); /* three single-pixel specks */
	data[5 * S + 60 / 8] |= 0x80 >> (60 % 8);
	data[40 * S + 3 / 8] |= 0x80 >> (3 % 8);
	img = bk_image_from_raw(W, H, 1, data, S, 300, 300, &err);
	cr_assert_not_null(img, "%s", err.msg);
	cr_expect_eq(bk_image_despeckle(img, 2, &err), 3);
	cr_expect_eq(gray_at(img, 50, 50), 255);
	cr_expect_eq(gray_at(img, 20, 20), 0);
	bk_image_free(&img);
}

Test(image, ruling_lines_removed_text_kept)
{
	enum { W = 400, H = 100 };
	size_t stride = W / 8;
	unsigned char *data = calloc(stride * H, 1);
	struct bk_image *img;
	struct bk_error err;

	for (int x = 5; x < 395; x++) /* a 2-pixel ruling line at y = 50 */
		for (int y = 50; y < 52; y++)
			data[y * stride + x / 8] |= (unsigned char)(0x80 >> (x % 8));
	for (int y = 10; y < 40; y++) /* a 30x30 glyph-sized block */
		for (int x = 100; x < 130; x++)
			data[y * stride + x / 8] |= (unsigned char)(0x80 >> (x % 8));
	img = bk_image_from_raw(W, H, 1, data, stride, 300, 300, &err);
	cr_assert_not_null(img, "%s", err.msg);
	cr_assert_eq(bk_image_remove_lines(img, 200, &err), 0, "%s", err.msg);
	cr_expect_lt(bk_image_dark_fraction(img, (struct bk_box){ 0, 48, W, 54 }), 0.01);
	cr_expect_gt(bk_image_dark_fraction(img, (struct bk_box){ 100, 10, 130, 40 }), 0.95);
	bk_image_free(&img);
	free(data);
}

Test(image, normalize_and_gray_keep_geometry)
{
	struct bk_image *img = must_read("map.png"), *g, *n;
	struct bk_error err;

	g = bk_image_to_gray(img, &err);
	n = bk_image_normalize(img, &err);
	cr_assert_not_null(g);
	cr_assert_not_null(n, "%s", err.msg);
	cr_expect_eq(bk_image_depth(g), 8);
	cr_expect_eq(bk_image_depth(n), 8);
	cr_expect_eq(bk_image_width(n), bk_image_width(img));
	cr_expect_eq(bk_image_height(n), bk_image_height(img));
	bk_image_free(&n);
	bk_image_free(&g);
	bk_image_free(&img);
}

/*
 * PNG and JPEG are decoded by image.c with libpng/libjpeg directly; what it
 * decodes must be what Leptonica's own reader gives (after the same depth
 * normalization), for every kind of PNG Leptonica writes and for JPEG.
 * The reference goes through Leptonica's reader, the candidate through
 * bk_image_read_mem, and both are compared pixel for pixel as PNGs written
 * by Leptonica.
 */
static PIX *reference_of(PIX *p)
{
	PIX *q;
	if (pixGetColormap(p)) {
		q = pixRemoveColormap(p, REMOVE_CMAP_BASED_ON_SRC);
		pixDestroy(&p);
		p = q;
	}
	if (pixGetDepth(p) == 32 && pixGetSpp(p) == 4) {
		q = pixAlphaBlendUniform(p, 0xffffff00);
		pixDestroy(&p);
		pixSetSpp(q, 3);
		return q;
	}
	if (pixGetDepth(p) == 2 || pixGetDepth(p) == 4) {
		q = pixConvertTo8(p, FALSE);
		pixDestroy(&p);
		return q;
	}
	if (pixGetDepth(p) == 16) {
		q = pixConvert16To8(p, L_MS_BYTE);
		pixDestroy(&p);
		return q;
	}
	return p;
}

static void expect_decodes_like_leptonica(PIX *variant, const char *dir, const char *tag,
					  int format)
{
	char path[512], back_path[512];
	struct bk_error err;
	size_t len = 0;
	int same = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, tag);
	snprintf(back_path, sizeof(back_path), "%s/back-%s.png", dir, tag);
	cr_assert_eq(pixWrite(path, variant, format), 0, "%s", tag);
	PIX *ref = reference_of(pixRead(path));
	cr_assert_not_null(ref, "%s", tag);
	char *data = ts_read(path, &len);
	struct bk_image *img = bk_image_read_mem(data, len, tag, 0, &err);
	cr_assert_not_null(img, "%s: %s", tag, err.msg);
	cr_assert_eq(bk_image_write_png(img, back_path, &err), 0, "%s", err.msg);
	PIX *got = pixRead(back_path);
	cr_assert_not_null(got);
	cr_expect_eq(pixGetDepth(got), pixGetDepth(ref), "%s: depth %d, Leptonica %d", tag,
		     pixGetDepth(got), pixGetDepth(ref));
	if (pixGetDepth(got) == 32) /* compare RGB only */
		pixSetSpp(got, 3), pixSetSpp(ref, 3);
	pixEqual(got, ref, &same);
	cr_expect(same, "%s: pixels differ from Leptonica's decode", tag);
	cr_expect_eq(bk_image_xres(img), pixGetXRes(ref), "%s: %d dpi, Leptonica %d", tag,
		     bk_image_xres(img), pixGetXRes(ref));
	pixDestroy(&got);
	pixDestroy(&ref);
	bk_image_free(&img);
	free(data);
}

Test(image, png_and_jpeg_decode_like_leptonica)
{
	char *dir = ts_mkdtemp("codec");
	char *path = ts_sample("map.png");
	PIX *rgb = pixRead(path), *small, *gray, *bin, *v;
	free(path);
	cr_assert_not_null(rgb);
	small = pixScaleBySampling(rgb, 0.2f, 0.2f);
	pixSetResolution(small, 300, 300);
	gray = pixConvertRGBToLuminance(small);
	bin = pixThresholdToBinary(gray, 128);

	expect_decodes_like_leptonica(small, dir, "rgb.png", IFF_PNG);
	expect_decodes_like_leptonica(gray, dir, "gray.png", IFF_PNG);
	expect_decodes_like_leptonica(bin, dir, "bilevel.png", IFF_PNG);
	v = pixThresholdTo4bpp(gray, 16, 0);
	expect_decodes_like_leptonica(v, dir, "gray4.png", IFF_PNG);
	pixDestroy(&v);
	v = pixThresholdTo2bpp(gray, 4, 0);
	expect_decodes_like_leptonica(v, dir, "gray2.png", IFF_PNG);
	pixDestroy(&v);
	v = pixConvertRGBToColormap(small, 1);
	expect_decodes_like_leptonica(v, dir, "palette.png", IFF_PNG);
	pixDestroy(&v);
	v = pixConvert8To16(gray, 8);
	expect_decodes_like_leptonica(v, dir, "gray16.png", IFF_PNG);
	pixDestroy(&v);
	v = pixCopy(NULL, small);
	pixSetSpp(v, 4);
	pixSetAlphaOverWhite(v);
	expect_decodes_like_leptonica(v, dir, "rgba.png", IFF_PNG);
	pixDestroy(&v);
	expect_decodes_like_leptonica(small, dir, "rgb.jpg", IFF_JFIF_JPEG);
	expect_decodes_like_leptonica(gray, dir, "gray.jpg", IFF_JFIF_JPEG);

	pixDestroy(&bin);
	pixDestroy(&gray);
	pixDestroy(&small);
	pixDestroy(&rgb);
	ts_rmtree(dir);
	free(dir);
}

/* A CMYK JPEG (Adobe's inverted convention, as libjpeg writes with its
 * Adobe marker) decodes to the colours Leptonica's reader gives, within
 * rounding. */
Test(image, cmyk_jpeg_decodes_like_leptonica)
{
	enum { W = 64, H = 32 };
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	unsigned char *jpeg = NULL;
	unsigned long len = 0;
	JSAMPLE row[W * 4];
	struct bk_error err;

	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &jpeg, &len);
	c.image_width = W;
	c.image_height = H;
	c.input_components = 4;
	c.in_color_space = JCS_CMYK;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 95, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < H) {
		for (int x = 0; x < W; x++) {
			/* left half: much cyan; right half: much magenta and yellow */
			bool left = x < W / 2;
			row[4 * x] = left ? 40 : 250;
			row[4 * x + 1] = left ? 230 : 60;
			row[4 * x + 2] = left ? 220 : 50;
			row[4 * x + 3] = 235;
		}
		JSAMPROW r = row;
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);

	PIX *ref = pixReadMemJpeg(jpeg, len, 0, 1, NULL, 0);
	cr_assert_not_null(ref);
	struct bk_image *img = bk_image_read_mem(jpeg, len, "cmyk.jpg", 0, &err);
	cr_assert_not_null(img, "%s", err.msg);
	cr_assert_eq(bk_image_depth(img), 32);
	char *dir = ts_mkdtemp("cmyk");
	char *back = ts_fmt("%s/back.png", dir);
	cr_assert_eq(bk_image_write_png(img, back, &err), 0, "%s", err.msg);
	PIX *got = pixRead(back);
	cr_assert_not_null(got);
	for (int x = 8; x < W; x += 32) {
		l_int32 r1, g1, b1, r2, g2, b2;
		l_uint32 p1, p2;
		pixGetPixel(ref, x, H / 2, &p1);
		pixGetPixel(got, x, H / 2, &p2);
		extractRGBValues(p1, &r1, &g1, &b1);
		extractRGBValues(p2, &r2, &g2, &b2);
		cr_expect(abs(r1 - r2) <= 2 && abs(g1 - g2) <= 2 && abs(b1 - b2) <= 2,
			  "x=%d: %d,%d,%d, Leptonica %d,%d,%d", x, r2, g2, b2, r1, g1, b1);
	}
	pixDestroy(&got);
	pixDestroy(&ref);
	bk_image_free(&img);
	ts_rmtree(dir);
	free(back);
	free(dir);
	free(jpeg);
}
