/*
 * archive/pdf_icc.c — the sRGB ICC profile for the PDF/A output intent,
 * computed at run time from the published definition of sRGB (IEC
 * 61966-2.1): the primaries' and D65 white's chromaticities and the
 * piecewise transfer function.
 *
 * Why computed: PDF/A needs an output intent with an embedded ICC profile,
 * and building it from the definition keeps the writer free of files that
 * may be missing on a host. The profile is a version 2.1 matrix/TRC display
 * profile as the ICC.1:2001 specification describes: header, tag table,
 * desc, cprt, wtpt, rXYZ/gXYZ/bXYZ (the primaries adapted to the D50
 * profile connection space with the Bradford transform) and one sampled
 * curve shared by rTRC/gTRC/bTRC.
 *
 * Why 64 curve points: every PDF/A file carries this profile, so its size
 * is paid per document. A version 2 profile cannot state the sRGB function
 * itself (parametric curves came with version 4); it samples it, and
 * readers interpolate linearly between samples. With 64 samples the
 * interpolated curve, encoded back to sRGB, is never more than 0.11 of an
 * 8-bit level off the exact function (256 samples: 0.02), and the
 * compressed profile shrinks by some 380 bytes.
 */
#include "archive/pdf_internal.h"
#include "bunko/buf.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef double mat3[3][3];

static void mat_mul(const mat3 a, const mat3 b, mat3 out)
{
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			out[i][j] = 0;
			for (int k = 0; k < 3; k++)
				out[i][j] += a[i][k] * b[k][j];
		}
}

static void mat_vec(const mat3 a, const double v[3], double out[3])
{
	for (int i = 0; i < 3; i++)
		out[i] = a[i][0] * v[0] + a[i][1] * v[1] + a[i][2] * v[2];
}

static void mat_inverse(const mat3 m, mat3 out)
{
	double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
		     m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
		     m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			/* cofactor of (j, i), cyclic index form */
			int r0 = (j + 1) % 3, r1 = (j + 2) % 3;
			int c0 = (i + 1) % 3, c1 = (i + 2) % 3;
			out[i][j] = (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det;
		}
}

static void xy_to_xyz(double x, double y, double out[3])
{
	out[0] = x / y;
	out[1] = 1.0;
	out[2] = (1.0 - x - y) / y;
}

/* D50 PCS illuminant as the ICC specification fixes it. */
static const double pcs_d50[3] = { 0.9642, 1.0, 0.8249 };

/* Columns of the result: the red, green and blue primaries in D50 XYZ. */
static void srgb_to_d50(mat3 out)
{
	static const double prim[3][2] = { { 0.64, 0.33 }, { 0.30, 0.60 },
					   { 0.15, 0.06 } };
	static const mat3 bradford = { { 0.8951, 0.2664, -0.1614 },
				       { -0.7502, 1.7135, 0.0367 },
				       { 0.0389, -0.0685, 1.0296 } };
	mat3 p, pinv, rgb_to_xyz, binv, scale = { { 0 } }, tmp, adapt;
	double white[3], s[3], cone65[3], cone50[3];

	for (int c = 0; c < 3; c++) {
		double col[3];
		xy_to_xyz(prim[c][0], prim[c][1], col);
		for (int r = 0; r < 3; r++)
			p[r][c] = col[r];
	}
	xy_to_xyz(0.3127, 0.3290, white);
	mat_inverse(p, pinv);
	mat_vec(pinv, white, s);
	for (int r = 0; r < 3; r++)
		for (int c = 0; c < 3; c++)
			rgb_to_xyz[r][c] = p[r][c] * s[c];

	mat_vec(bradford, white, cone65);
	mat_vec(bradford, pcs_d50, cone50);
	for (int i = 0; i < 3; i++)
		scale[i][i] = cone50[i] / cone65[i];
	mat_inverse(bradford, binv);
	mat_mul(binv, scale, tmp);
	mat_mul(tmp, bradford, adapt);
	mat_mul(adapt, rgb_to_xyz, out);
}

static void icc_s15f16(struct bk_buf *b, double v)
{
	bk_buf_add_be32(b, (uint32_t)(int32_t)lround(v * 65536.0));
}

static void icc_xyz(struct bk_buf *b, const double xyz[3])
{
	bk_buf_add(b, "XYZ ", 4);
	bk_buf_add_be32(b, 0);
	for (int i = 0; i < 3; i++)
		icc_s15f16(b, xyz[i]);
}

static double srgb_decode(double v)
{
	return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

enum { TRC_POINTS = 64 };

static void icc_trc(struct bk_buf *b)
{
	bk_buf_add(b, "curv", 4);
	bk_buf_add_be32(b, 0);
	bk_buf_add_be32(b, TRC_POINTS);
	for (int i = 0; i < TRC_POINTS; i++)
		bk_buf_add_be16(b, (unsigned)lround(srgb_decode(i / (double)(TRC_POINTS - 1)) *
						    65535.0));
}

static const char profile_desc[] = "sRGB IEC61966-2.1";
static const char profile_copyright[] = "No copyright, use freely";

static void icc_desc(struct bk_buf *b)
{
	bk_buf_add(b, "desc", 4);
	bk_buf_add_be32(b, 0);
	bk_buf_add_be32(b, sizeof(profile_desc)); /* ASCII count with NUL */
	bk_buf_add(b, profile_desc, sizeof(profile_desc));
	bk_buf_add_be32(b, 0); /* Unicode language code */
	bk_buf_add_be32(b, 0); /* Unicode count */
	bk_buf_add_be16(b, 0); /* ScriptCode code */
	bk_buf_add_zeros(b, 1 + 67); /* ScriptCode count and its fixed 67 bytes */
}

static void icc_text(struct bk_buf *b)
{
	bk_buf_add(b, "text", 4);
	bk_buf_add_be32(b, 0);
	bk_buf_add(b, profile_copyright, sizeof(profile_copyright));
}

static void icc_header(struct bk_buf *b)
{
	bk_buf_add_be32(b, 0);           /* size, set at the end */
	bk_buf_add_be32(b, 0);           /* preferred CMM */
	bk_buf_add_be32(b, 0x02100000);  /* version 2.1 */
	bk_buf_add(b, "mntrRGB XYZ ", 12);
	static const unsigned date[6] = { 2024, 1, 1, 0, 0, 0 };
	for (int i = 0; i < 6; i++)
		bk_buf_add_be16(b, date[i]);
	bk_buf_add(b, "acsp", 4);
	bk_buf_add_zeros(b, 4 + 4 + 4 + 4 + 8); /* platform, flags, maker, model, attributes */
	bk_buf_add_be32(b, 0);           /* rendering intent: perceptual */
	for (int i = 0; i < 3; i++)
		icc_s15f16(b, pcs_d50[i]);
	bk_buf_add_zeros(b, 4 + 16 + 28);  /* creator, profile ID, reserved */
}

unsigned char *bk_pdf_srgb_profile(size_t *len)
{
	enum { NTAGS = 9 };
	static const char *const tags[NTAGS] = { "desc", "cprt", "wtpt", "rXYZ", "gXYZ",
						 "bXYZ", "rTRC", "gTRC", "bTRC" };
	struct bk_buf b = { 0 };
	uint32_t offsets[NTAGS], sizes[NTAGS];
	mat3 m;

	*len = 0;
	srgb_to_d50(m);
	icc_header(&b);
	bk_buf_add_be32(&b, NTAGS);
	size_t table = b.len;
	bk_buf_add_zeros(&b, 12 * NTAGS);
	for (int t = 0; t < NTAGS; t++) {
		if (t >= 7) { /* gTRC, bTRC share rTRC's data */
			offsets[t] = offsets[6];
			sizes[t] = sizes[6];
			continue;
		}
		bk_buf_add_zeros(&b, (4 - b.len % 4) % 4);
		size_t start = b.len;
		if (t == 0) {
			icc_desc(&b);
		} else if (t == 1) {
			icc_text(&b);
		} else if (t == 2) {
			icc_xyz(&b, pcs_d50);
		} else if (t <= 5) {
			double col[3] = { m[0][t - 3], m[1][t - 3], m[2][t - 3] };
			icc_xyz(&b, col);
		} else {
			icc_trc(&b);
		}
		offsets[t] = (uint32_t)start;
		sizes[t] = (uint32_t)(b.len - start);
	}
	bk_buf_add_zeros(&b, (4 - b.len % 4) % 4);
	if (b.failed) {
		bk_buf_release(&b);
		return NULL;
	}
	for (int t = 0; t < NTAGS; t++) {
		unsigned char *entry = (unsigned char *)b.data + table + 12 * (size_t)t;
		memcpy(entry, tags[t], 4);
		bk_be32_store(entry + 4, offsets[t]);
		bk_be32_store(entry + 8, sizes[t]);
	}
	bk_be32_store(b.data, (uint32_t)b.len);
	return (unsigned char *)bk_buf_detach(&b, len);
}
