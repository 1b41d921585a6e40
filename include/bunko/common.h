/*
 * bunko/common.h — the few types every stage shares: the error report that
 * travels up the call stack, the processing profiles and the access levels.
 *
 * Error convention (after libvips): the function that detects a failure
 * writes one lower-case message into the caller's `struct bk_error`, quoting
 * its subject ("cannot open 'box12.tif': No such file or directory") and
 * returns -1 (or NULL). Callers propagate without adding a second report;
 * only the command at the top prints `err.msg`, once. Library code never
 * prints to stdout and never exits. There is no global error state: each
 * caller owns its `struct bk_error`.
 */
#ifndef BUNKO_COMMON_H
#define BUNKO_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define BK_ERROR_MAX 1024

struct bk_error {
	char msg[BK_ERROR_MAX];
};

static inline void bk_error_init(struct bk_error *err)
{
	if (err)
		err->msg[0] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline int bk_error_set(struct bk_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* How a document is cleaned up and read; chosen per batch with --profile. */
enum bk_profile {
	BK_PROFILE_RECORD = 0, /* text records: bilevel, deskew, borders */
	BK_PROFILE_BYLAW,      /* by-law books: like record, spreads split */
	BK_PROFILE_UKIYOE,     /* color prints: keep color, sparse text */
	BK_PROFILE_MAP,        /* large color maps: sparse place names */
	BK_PROFILE_COUNT
};

/* Who may see a document. Ordered: a role sees every level <= its own. */
enum bk_access {
	BK_ACCESS_PUBLIC = 0,
	BK_ACCESS_RESTRICTED,
	BK_ACCESS_CONFIDENTIAL,
	BK_ACCESS_COUNT
};

static const char *const bk_profile_names[BK_PROFILE_COUNT] = {
	"record", "bylaw", "ukiyoe", "map"
};
static const char *const bk_access_names[BK_ACCESS_COUNT] = {
	"public", "restricted", "confidential"
};

static inline const char *bk_profile_name(enum bk_profile p)
{
	return (unsigned)p < BK_PROFILE_COUNT ? bk_profile_names[p] : "?";
}

static inline const char *bk_access_name(enum bk_access a)
{
	return (unsigned)a < BK_ACCESS_COUNT ? bk_access_names[a] : "?";
}

/* The permission bits of a level's directories: a document's bag and a
 * job's directory in the queue, created with them (bunko/atomic.h: what
 * is inside follows its directory). public 0755 (files 0644), restricted
 * 0750 (0640: the owner and the archive's group, the staff group),
 * confidential 0700 (0600: the archive's owner only). */
static inline unsigned bk_access_dir_mode(enum bk_access a)
{
	static const unsigned modes[BK_ACCESS_COUNT] = { 0755, 0750, 0700 };
	return (unsigned)a < BK_ACCESS_COUNT ? modes[a] : 0700;
}

/* Returns the profile named `s`, or -1. */
static inline int bk_profile_parse(const char *s)
{
	for (int i = 0; s && i < BK_PROFILE_COUNT; i++)
		if (strcmp(s, bk_profile_names[i]) == 0)
			return i;
	return -1;
}

/* True for the dates bunko records and filters by: YYYY, YYYY-MM or
 * YYYY-MM-DD (ISO 8601, as XMP accepts them) with a real month and day. */
static inline bool bk_date_valid(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t n = s ? strlen(s) : 0;
	int y = 0, m = 1, d = 1;

	if (n != 4 && n != 7 && n != 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 4 || i == 7;
		if (dash ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return false;
	}
	for (size_t i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	if (n >= 7)
		m = (s[5] - '0') * 10 + (s[6] - '0');
	if (n == 10)
		d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return !(m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
}

/* True for a language option (`bunko add --lang`, a manifest's lang):
 * "auto" or Tesseract model names joined with '+' (lower case, '_'). */
static inline bool bk_lang_valid(const char *s)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && *p != '_' && *p != '+')
			return false;
	return true;
}

/* Returns the access level named `s`, or -1. */
static inline int bk_access_parse(const char *s)
{
	for (int i = 0; s && i < BK_ACCESS_COUNT; i++)
		if (strcmp(s, bk_access_names[i]) == 0)
			return i;
	return -1;
}

#endif
