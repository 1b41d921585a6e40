/*
 * index/pagetext.h — how a page's text is stored in the index: as UTF-16
 * (little-endian) when that is smaller than its UTF-8, else as is.
 * Internal to index/.
 *
 * Why UTF-16 and not a compressor: Japanese characters take 3 bytes in
 * UTF-8 and 2 in UTF-16, so a Japanese page shrinks by about a quarter,
 * and converting back costs a few microseconds a page, where inflating
 * deflate costs ten times that (deflate would save another quarter, but a
 * search reads the text of every candidate page; see db.c). The
 * conversion is exact (the FTS5 'delete' command needs the very text that
 * was indexed): text that is not valid UTF-8 is kept as is.
 *
 * The stored form is a BLOB when converted and TEXT when not, so a reader
 * tells them apart by the column's type and no flag byte is needed. Short
 * pages (under BK_PAGETEXT_MIN_PACK bytes) are kept as text.
 */
#ifndef BUNKO_INDEX_PAGETEXT_H
#define BUNKO_INDEX_PAGETEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "bunko/common.h"

#define BK_PAGETEXT_MIN_PACK 256

/* Converts `len` bytes of text into a new buffer *out (caller frees) of
 * *outlen bytes; *packed is false (and *out NULL) when the text is better
 * stored as is. -1: out of memory. */
int bk_pagetext_pack(const char *text, size_t len, unsigned char **out, size_t *outlen,
		     bool *packed, struct bk_error *err);

/* Converts a packed page back into *buf (grown with realloc as needed;
 * *cap is its size), NUL-terminated; sets *len to the text's length. */
int bk_pagetext_unpack(const unsigned char *blob, size_t bloblen, char **buf, size_t *cap,
		       size_t *len, struct bk_error *err);

#endif
