/*
 * core/utf8.c — UTF-8 decoding through utf8proc (see bunko/utf8.h).
 */
#include "bunko/utf8.h"

#include <utf8proc.h>

unsigned bk_utf8_next(const char **s)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)*s, -1, &cp);

	if (n <= 0) {
		(*s)++;
		return 0xFFFD;
	}
	*s += n;
	return (unsigned)cp;
}

int bk_utf8_valid(const char *s, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;

	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0)
			return 0;
		i += (size_t)n;
	}
	return 1;
}
