/*
 * bunko/buf.h — the growable byte buffer every writer builds its output in:
 * page text, PDF objects and content streams, the font program and the ICC
 * profile.
 *
 * Guarantees: `data` is NULL or holds `len` bytes followed by a NUL (so a
 * text buffer is a C string; binary data may contain NULs of its own). On
 * allocation failure `failed` is set, the contents stop changing and every
 * later call does nothing, so a writer appends freely and checks `failed`
 * once at the end. Starts zeroed: `struct bk_buf b = { 0 };`.
 *
 * Why a header of static inline functions: the buffer is a handful of
 * small functions used by every stage, and a header (like bunko/common.h)
 * needs no link dependency, so the lowest library and the PDF font and ICC
 * builders use it alike.
 */
#ifndef BUNKO_BUF_H
#define BUNKO_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bk_buf {
	char *data;   /* owned; NUL after the last byte */
	size_t len;   /* bytes held, not counting the NUL */
	size_t alloc; /* bytes allocated */
	bool failed;  /* an allocation failed: the contents are incomplete */
};

/* Makes room for `extra` more bytes and the NUL; false (and `failed` set)
 * when that is impossible. */
static inline bool bk_buf_grow(struct bk_buf *b, size_t extra)
{
	if (b->failed)
		return false;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return false;
	}
	if (b->len + extra + 1 <= b->alloc)
		return true;
	size_t want = b->alloc ? b->alloc : 256;
	while (want < b->len + extra + 1)
		want *= 2;
	char *p = realloc(b->data, want);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->alloc = want;
	return true;
}

static inline void bk_buf_add(struct bk_buf *b, const void *data, size_t n)
{
	if (!bk_buf_grow(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void bk_buf_addstr(struct bk_buf *b, const char *s)
{
	bk_buf_add(b, s, strlen(s));
}

/* Appends printf-formatted text (bk_buf_vaddf: from a va_list, which the
 * caller still ends with va_end). Note: %f follows LC_NUMERIC. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
static inline void bk_buf_vaddf(struct bk_buf *b, const char *fmt, va_list ap)
{
	size_t room = b->alloc - b->len;
	va_list again;
	int n;

	if (b->failed)
		return;
	va_copy(again, ap);
	n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? room : 0, fmt, again);
	va_end(again);
	if (n >= 0 && b->data && (size_t)n < room) {
		b->len += (size_t)n;
		return;
	}
	if (b->data)
		b->data[b->len] = '\0'; /* undo a truncated attempt */
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (!bk_buf_grow(b, (size_t)n))
		return;
	va_copy(again, ap);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
	va_end(again);
	b->len += (size_t)n;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline void bk_buf_addf(struct bk_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bk_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

static inline void bk_buf_add_zeros(struct bk_buf *b, size_t n)
{
	if (!bk_buf_grow(b, n))
		return;
	memset(b->data + b->len, 0, n + 1);
	b->len += n;
}

/* Big-endian integers, as the binary formats (sfnt, ICC) store them. */
static inline void bk_buf_add_be16(struct bk_buf *b, unsigned v)
{
	unsigned char c[2] = { (unsigned char)(v >> 8), (unsigned char)v };
	bk_buf_add(b, c, 2);
}

static inline void bk_buf_add_be32(struct bk_buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };
	bk_buf_add(b, c, 4);
}

/* Overwrites 4 bytes at `p` (inside a buffer) with `v`, big-endian: for
 * sizes and offsets known only once the rest is written. */
static inline void bk_be32_store(void *p, uint32_t v)
{
	unsigned char *c = p;
	c[0] = (unsigned char)(v >> 24);
	c[1] = (unsigned char)(v >> 16);
	c[2] = (unsigned char)(v >> 8);
	c[3] = (unsigned char)v;
}

/* Empties the buffer, keeping its memory (and a failure). */
static inline void bk_buf_reset(struct bk_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static inline void bk_buf_release(struct bk_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Hands the contents to the caller (who frees them), "" when nothing was
 * added, and leaves the buffer empty. NULL if an allocation failed; the
 * buffer is released either way. */
static inline char *bk_buf_detach(struct bk_buf *b, size_t *len)
{
	char *data;

	if (!b->failed && !b->data)
		bk_buf_add(b, "", 0);
	if (b->failed) {
		bk_buf_release(b);
		if (len)
			*len = 0;
		return NULL;
	}
	data = b->data;
	if (len)
		*len = b->len;
	memset(b, 0, sizeof(*b));
	return data;
}

#endif
