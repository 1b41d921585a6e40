/*
 * bunko/record.h — the one format of the small files the queue writes
 * (job.meta, work/progress, result, reason, the header line of a page
 * checkpoint) and of every `--json` output (search, status, verify): a
 * JSON object, written and parsed by jansson. Nothing else in bunko
 * formats or parses these files or that output; record.c is the only file
 * that sees jansson's types.
 *
 * A record file is one JSON object on one line:
 *   {"format": "bunko-job", "version": 1, "id": "...", ...}
 * `format` names what it is and `version` its layout; a reader names the
 * format it expects and refuses anything else, a duplicated key, a value
 * of the wrong type, or bytes after the object. Because every string is
 * JSON-escaped, no value (a file name with a newline, an '=' or a quote)
 * can add or change a key.
 *
 * Strings: a record holds UTF-8 only. A setter given bytes that are not
 * UTF-8 (an error message quoting a damaged name, OCR text) stores them
 * with each invalid byte replaced by U+FFFD, so the writer never emits
 * invalid UTF-8 and never fails for it. Metadata is validated before it
 * gets here (archive/meta.h, bk_text_check), so what a user typed is kept
 * exactly.
 *
 * Ownership: a record from bk_record_new/bk_record_read is freed with
 * bk_record_free; a record returned by bk_record_add_object,
 * bk_record_set_object or bk_record_object is borrowed from its parent.
 * Strings returned by the getters are borrowed from the record.
 */
#ifndef BUNKO_RECORD_H
#define BUNKO_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bunko/common.h"

struct bk_record; /* a JSON object */

/* A new empty object, with "format" and "version": 1 when `format` is not
 * NULL (files); NULL when out of memory. */
struct bk_record *bk_record_new(const char *format);
void bk_record_free(struct bk_record **r);

/* Setters: 0, or -1 when out of memory. A NULL string is stored as null. */
int bk_record_set_str(struct bk_record *r, const char *key, const char *value);
int bk_record_set_int(struct bk_record *r, const char *key, long long value);
int bk_record_set_real(struct bk_record *r, const char *key, double value);
int bk_record_set_bool(struct bk_record *r, const char *key, bool value);
/* Appends `value` to the array `key` (created empty when missing). */
int bk_record_add_str(struct bk_record *r, const char *key, const char *value);
/* Creates the array `key` if missing (so an empty list is still written). */
int bk_record_set_array(struct bk_record *r, const char *key);
/* Appends a new empty object to the array `key`; borrowed, NULL when out
 * of memory. */
struct bk_record *bk_record_add_object(struct bk_record *r, const char *key);
/* Sets `key` to a new empty object; borrowed, NULL when out of memory. */
struct bk_record *bk_record_set_object(struct bk_record *r, const char *key);

/* Getters. A missing key or a null gives NULL / false. A value of another
 * type is an error the readers report (bk_record_check_types). */
const char *bk_record_str(const struct bk_record *r, const char *key);
/* True and *out set when `key` holds an integer that fits an int. */
bool bk_record_int(const struct bk_record *r, const char *key, int *out);
bool bk_record_long(const struct bk_record *r, const char *key, long long *out);
/* Length of the array `key` (0 when missing), and its string i (NULL when
 * not a string). */
size_t bk_record_count(const struct bk_record *r, const char *key);
const char *bk_record_str_at(const struct bk_record *r, const char *key, size_t i);
/* Object i of the array `key`, borrowed; NULL when it is not an object. */
const struct bk_record *bk_record_object_at(const struct bk_record *r,
					   const char *key, size_t i);

/* What a reader expects of each key it knows: fails, naming `name` and the
 * key, when a key present in `r` has another type. `spec` is a string of
 * "key:T" words separated by spaces, T one of s (string or null),
 * i (integer), a (array of strings), o (array of objects). Keys not listed are ignored (a newer
 * writer may add some). */
int bk_record_check_types(const struct bk_record *r, const char *name,
			  const char *spec, struct bk_error *err);

/* Writes `r` atomically (bunko/atomic.h) as one line. */
int bk_record_write(const struct bk_record *r, const char *path,
		    struct bk_error *err);
/* Reads a record file of `format` (see above). */
int bk_record_read(struct bk_record **r, const char *path, const char *format,
		   struct bk_error *err);
/* Parses `len` bytes of text as a record of `format`; `name` is quoted in
 * errors. */
int bk_record_parse(struct bk_record **r, const char *text, size_t len,
		    const char *name, const char *format, struct bk_error *err);
/* The record as one line of JSON without the newline (newly allocated;
 * NULL when out of memory). `spaced`: ", " and ": " separators. */
char *bk_record_dump(const struct bk_record *r, bool spaced);
/* Prints the record as one line and a newline; -1 on a write error. */
int bk_record_print(const struct bk_record *r, FILE *fp, bool spaced);

#endif
