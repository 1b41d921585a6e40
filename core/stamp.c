/*
 * core/stamp.c — UTC time stamps (see bunko/stamp.h).
 */
#include "bunko/stamp.h"

#include <stdlib.h>
#include <string.h>

char *bk_utc_stamp(time_t t, char buf[BK_STAMP_SIZE])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, BK_STAMP_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm))
		buf[0] = '\0';
	return buf;
}

char *bk_utc_now(void)
{
	char buf[BK_STAMP_SIZE];
	return strdup(bk_utc_stamp(time(NULL), buf));
}
