/*
 * index/pagetext.c — page text as stored in the index (see pagetext.h):
 * strict UTF-8 → UTF-16LE and back. The decoder rejects everything that
 * would not come back byte for byte (overlong forms, surrogates, code
 * points above U+10FFFF, truncated sequences, NUL).
 */
#include "index/pagetext.h"

#include <stdint.h>
#include <stdlib.h>

/* Decodes one strict UTF-8 character at s (n bytes left); returns its
 * length, or 0 if invalid. */
static int decode_strict(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	int len = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3
		  : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	uint32_t c;

	if (!len || (size_t)len > n)
		return 0;
	c = len == 1 ? s[0] : s[0] & (0x7f >> len);
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || c == 0)
		return 0;
	*cp = c;
	return len;
}

static void put16(unsigned char *p, uint32_t u)
{
	p[0] = (unsigned char)u;
	p[1] = (unsigned char)(u >> 8);
}

int bk_pagetext_pack(const char *text, size_t len, unsigned char **out, size_t *outlen,
		     bool *packed, struct bk_error *err)
{
	const unsigned char *s = (const unsigned char *)text;
	unsigned char *buf;
	size_t o = 0;

	*out = NULL;
	*outlen = 0;
	*packed = false;
	if (len < BK_PAGETEXT_MIN_PACK)
		return 0;
	/* UTF-16 is never more than twice the UTF-8; give up once it is not smaller */
	if (!(buf = malloc(2 * len + 4)))
		return bk_error_set(err, "out of memory");
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		int n = decode_strict(s + i, len - i, &cp);
		if (!n || o >= len) {
			free(buf);
			return 0;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			put16(buf + o, 0xd800 | (cp >> 10));
			put16(buf + o + 2, 0xdc00 | (cp & 0x3ff));
			o += 4;
		} else {
			put16(buf + o, cp);
			o += 2;
		}
		i += (size_t)n;
	}
	if (o >= len) {
		free(buf);
		return 0;
	}
	*out = buf;
	*outlen = o;
	*packed = true;
	return 0;
}

int bk_pagetext_unpack(const unsigned char *blob, size_t bloblen, char **buf, size_t *cap,
		       size_t *len, struct bk_error *err)
{
	size_t need = bloblen / 2 * 3 + 1, o = 0;

	*len = 0;
	if (bloblen % 2)
		return bk_error_set(err, "packed page of %zu bytes is truncated", bloblen);
	if (*cap < need) {
		char *grown = realloc(*buf, need);
		if (!grown)
			return bk_error_set(err, "out of memory");
		*buf = grown;
		*cap = need;
	}
	unsigned char *d = (unsigned char *)*buf;
	for (size_t i = 0; i < bloblen; i += 2) {
		uint32_t u = blob[i] | (uint32_t)blob[i + 1] << 8;
		if (u >= 0xd800 && u <= 0xdbff && i + 3 < bloblen) {
			uint32_t lo = blob[i + 2] | (uint32_t)blob[i + 3] << 8;
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		if (u < 0x80) {
			d[o++] = (unsigned char)u;
		} else if (u < 0x800) {
			d[o++] = (unsigned char)(0xc0 | u >> 6);
			d[o++] = (unsigned char)(0x80 | (u & 0x3f));
		} else if (u < 0x10000) {
			d[o++] = (unsigned char)(0xe0 | u >> 12);
			d[o++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
			d[o++] = (unsigned char)(0x80 | (u & 0x3f));
		} else {
			d[o++] = (unsigned char)(0xf0 | u >> 18);
			d[o++] = (unsigned char)(0x80 | ((u >> 12) & 0x3f));
			d[o++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
			d[o++] = (unsigned char)(0x80 | (u & 0x3f));
		}
	}
	d[o] = '\0';
	*len = o;
	return 0;
}
