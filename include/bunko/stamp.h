/*
 * bunko/stamp.h — the one form of a moment in bunko's files (job records,
 * results, bag-info.txt, logs): ISO 8601 in UTC to the second,
 * "2026-03-01T18:04:05Z", so every host writes the same clock whatever its
 * time zone or summer time.
 */
#ifndef BUNKO_STAMP_H
#define BUNKO_STAMP_H

#include <time.h>

#define BK_STAMP_SIZE 32

/* Writes `t` into `buf` (BK_STAMP_SIZE bytes) and returns buf. */
char *bk_utc_stamp(time_t t, char buf[BK_STAMP_SIZE]);
/* The current time, newly allocated (caller frees); NULL when out of memory. */
char *bk_utc_now(void);

#endif
