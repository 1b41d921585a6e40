/*
 * core/record.c — records as JSON objects through jansson (see
 * record.h). A `struct bk_record *` is a `json_t *` holding an object; the
 * cast is the whole adapter, so no other file needs jansson's headers.
 */
#include "bunko/record.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <utf8proc.h>

#include "bunko/atomic.h"

static json_t *J(const struct bk_record *r)
{
	return (json_t *)r;
}

struct bk_record *bk_record_new(const char *format)
{
	json_t *o = json_object();

	if (o && format &&
	    (json_object_set_new(o, "format", json_string(format)) ||
	     json_object_set_new(o, "version", json_integer(1)))) {
		json_decref(o);
		o = NULL;
	}
	return (struct bk_record *)o;
}

void bk_record_free(struct bk_record **r)
{
	if (r && *r) {
		json_decref(J(*r));
		*r = NULL;
	}
}

/* A JSON string of `s`; bytes that are not UTF-8 become U+FFFD. */
static json_t *utf8_string(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t len = strlen(s), i = 0, o = 0;
	char *fixed;
	json_t *v;

	v = json_stringn(s, len);
	if (v)
		return v;
	/* invalid UTF-8: at most 3 output bytes per input byte */
	fixed = malloc(len * 3 + 1);
	if (!fixed)
		return NULL;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n > 0) {
			memcpy(fixed + o, s + i, (size_t)n);
			o += (size_t)n;
			i += (size_t)n;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	v = json_stringn(fixed, o);
	free(fixed);
	return v;
}

int bk_record_set_str(struct bk_record *r, const char *key, const char *value)
{
	json_t *v = value ? utf8_string(value) : json_null();
	return v && json_object_set_new(J(r), key, v) == 0 ? 0 : -1;
}

int bk_record_set_int(struct bk_record *r, const char *key, long long value)
{
	return json_object_set_new(J(r), key, json_integer(value)) ? -1 : 0;
}

int bk_record_set_real(struct bk_record *r, const char *key, double value)
{
	return json_object_set_new(J(r), key, json_real(value)) ? -1 : 0;
}

int bk_record_set_bool(struct bk_record *r, const char *key, bool value)
{
	return json_object_set_new(J(r), key, json_boolean(value)) ? -1 : 0;
}

static json_t *array_of(struct bk_record *r, const char *key)
{
	json_t *a = json_object_get(J(r), key);

	if (json_is_array(a))
		return a;
	a = json_array();
	if (!a || json_object_set_new(J(r), key, a))
		return NULL;
	return a;
}

int bk_record_set_array(struct bk_record *r, const char *key)
{
	return array_of(r, key) ? 0 : -1;
}

int bk_record_add_str(struct bk_record *r, const char *key, const char *value)
{
	json_t *a = array_of(r, key);
	json_t *v = a ? (value ? utf8_string(value) : json_null()) : NULL;
	return v && json_array_append_new(a, v) == 0 ? 0 : -1;
}

struct bk_record *bk_record_add_object(struct bk_record *r, const char *key)
{
	json_t *a = array_of(r, key);
	json_t *o = a ? json_object() : NULL;

	if (!o || json_array_append_new(a, o))
		return NULL;
	return (struct bk_record *)o;
}

struct bk_record *bk_record_set_object(struct bk_record *r, const char *key)
{
	json_t *o = json_object();

	if (!o || json_object_set_new(J(r), key, o))
		return NULL;
	return (struct bk_record *)o;
}

const char *bk_record_str(const struct bk_record *r, const char *key)
{
	return json_string_value(json_object_get(J(r), key));
}

bool bk_record_long(const struct bk_record *r, const char *key, long long *out)
{
	json_t *v = json_object_get(J(r), key);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

bool bk_record_int(const struct bk_record *r, const char *key, int *out)
{
	long long v;

	if (!bk_record_long(r, key, &v) || v < INT_MIN || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

size_t bk_record_count(const struct bk_record *r, const char *key)
{
	return json_array_size(json_object_get(J(r), key));
}

const char *bk_record_str_at(const struct bk_record *r, const char *key, size_t i)
{
	return json_string_value(json_array_get(json_object_get(J(r), key), i));
}

const struct bk_record *bk_record_object_at(const struct bk_record *r,
					   const char *key, size_t i)
{
	json_t *o = json_array_get(json_object_get(J(r), key), i);
	return json_is_object(o) ? (const struct bk_record *)o : NULL;
}

static bool has_type(json_t *v, char type)
{
	switch (type) {
	case 'o':
		if (!json_is_array(v))
			return false;
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!json_is_object(json_array_get(v, i)))
				return false;
		return true;
	case 's':
		return json_is_string(v) || json_is_null(v);
	case 'i':
		return json_is_integer(v) && json_integer_value(v) >= INT_MIN &&
		       json_integer_value(v) <= INT_MAX;
	case 'a':
		if (!json_is_array(v))
			return false;
		for (size_t i = 0; i < json_array_size(v); i++)
			if (!json_is_string(json_array_get(v, i)))
				return false;
		return true;
	}
	return false;
}

int bk_record_check_types(const struct bk_record *r, const char *name,
			  const char *spec, struct bk_error *err)
{
	static const char *const type_names[] = { "a string", "an integer",
						  "a list of strings", "a list of objects" };

	for (const char *p = spec; *p;) {
		char key[64];
		size_t n = strcspn(p, ":");
		char type = p[n] == ':' ? p[n + 1] : '\0';
		if (n >= sizeof(key) || !type)
			return bk_error_set(err, "bad record spec '%s'", spec);
		memcpy(key, p, n);
		key[n] = '\0';
		json_t *v = json_object_get(J(r), key);
		if (v && !has_type(v, type))
			return bk_error_set(err, "'%s': '%s' is not %s", name, key,
					    type_names[type == 's' ? 0 : type == 'i' ? 1 : type == 'a' ? 2 : 3]);
		p += n + 2;
		while (*p == ' ')
			p++;
	}
	return 0;
}

char *bk_record_dump(const struct bk_record *r, bool spaced)
{
	/* 10 significant digits: a score or a time, not float noise */
	return json_dumps(J(r), (spaced ? 0 : JSON_COMPACT) | JSON_REAL_PRECISION(10));
}

int bk_record_print(const struct bk_record *r, FILE *fp, bool spaced)
{
	char *text = bk_record_dump(r, spaced);
	int rc = -1;

	if (text && fputs(text, fp) >= 0 && fputc('\n', fp) != EOF)
		rc = 0;
	free(text);
	return rc;
}

int bk_record_write(const struct bk_record *r, const char *path,
		    struct bk_error *err)
{
	char *text = bk_record_dump(r, false);
	int rc;

	if (!text)
		return bk_error_set(err, "out of memory writing '%s'", path);
	size_t n = strlen(text);
	text[n] = '\n'; /* the NUL's byte: the file is the line, not a string */
	rc = bk_atomic_write(path, text, n + 1, err);
	free(text);
	return rc;
}

int bk_record_parse(struct bk_record **r, const char *text, size_t len,
		    const char *name, const char *format, struct bk_error *err)
{
	json_error_t je;
	json_t *o;
	const char *f;

	*r = NULL;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return bk_error_set(err, "'%s' is not a %s record: %s (line %d)",
				    name, format, je.text, je.line);
	f = json_string_value(json_object_get(o, "format"));
	if (!json_is_object(o) || !f || strcmp(f, format)) {
		json_decref(o);
		return bk_error_set(err, "'%s' is not a %s record", name, format);
	}
	if (json_integer_value(json_object_get(o, "version")) != 1) {
		json_decref(o);
		return bk_error_set(err, "'%s': unknown %s record version", name, format);
	}
	*r = (struct bk_record *)o;
	return 0;
}

int bk_record_read(struct bk_record **r, const char *path, const char *format,
		   struct bk_error *err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*r = NULL;
	if (bk_read_file(path, &data, &len, err))
		return -1;
	rc = bk_record_parse(r, data, len, path, format, err);
	free(data);
	return rc;
}
