/*
 * bunko/utf8.h — reading UTF-8, the one encoding of bunko's text (page
 * models, metadata, records, the index). The rules are utf8proc's: a
 * well-formed character has no overlong form, is no surrogate and is at
 * most U+10FFFF; a cut-short sequence is not well-formed.
 */
#ifndef BUNKO_UTF8_H
#define BUNKO_UTF8_H

#include <stddef.h>

/* Decodes the character at *s (a NUL-terminated UTF-8 string, *s not at
 * its end) and advances *s past it. A byte that does not start a
 * well-formed character yields U+FFFD and advances one byte, so every
 * byte is consumed exactly once. */
unsigned bk_utf8_next(const char **s);

/* 1 if the `len` bytes at `s` are well-formed UTF-8 throughout, else 0. */
int bk_utf8_valid(const char *s, size_t len);

#endif
