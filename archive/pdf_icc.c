/*
 * archive/pdf_icc.c — the sRGB ICC profile for the PDF/A output intent,
 * made by Little CMS (lcms2): cmsCreate_sRGBProfile, the sRGB of IEC
 * 61966-2.1 (its primaries, D65 white adapted to the D50 connection space,
 * and the exact piecewise transfer function as a parametric curve), saved
 * with cmsSaveProfileToMem. The lcms2 types stay in this file.
 *
 * What is set on lcms2's profile, and why:
 * - version 4.2: the ICC version (ICC.1:2004-10) that PDF/A-2 refers to;
 *   a version 4 profile states the sRGB curve itself instead of sampling
 *   it, and is some 600 bytes.
 * - the description "sRGB IEC61966-2.1", the name the output intent gives.
 * - the creation date in the header (bytes 24..35, ICC.1 7.2.1): lcms2
 *   stamps the time the profile was made and has no call to set it, so it
 *   is written here as a fixed date, and every PDF carries the same profile
 *   bytes. lcms2 leaves the profile ID (an MD5 that would cover the date)
 *   at zero, "not calculated", so nothing else depends on it.
 */
#include "archive/pdf_internal.h"

#include <lcms2.h>
#include <stdlib.h>

static const char profile_desc[] = "sRGB IEC61966-2.1";

/* 2024-01-01 00:00:00 as an ICC dateTimeNumber (six big-endian uInt16) */
static const unsigned char profile_date[12] = { 0x07, 0xe8, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0 };

unsigned char *bk_pdf_srgb_profile(size_t *len)
{
	cmsHPROFILE profile = cmsCreate_sRGBProfile();
	cmsMLU *desc = NULL;
	cmsUInt32Number n = 0;
	unsigned char *icc = NULL;

	*len = 0;
	if (!profile)
		return NULL;
	cmsSetProfileVersion(profile, 4.2);
	desc = cmsMLUalloc(NULL, 1);
	if (!desc || !cmsMLUsetASCII(desc, "en", "US", profile_desc) ||
	    !cmsWriteTag(profile, cmsSigProfileDescriptionTag, desc))
		goto out;
	if (!cmsSaveProfileToMem(profile, NULL, &n) || n < 128)
		goto out;
	icc = malloc(n);
	if (!icc)
		goto out;
	if (!cmsSaveProfileToMem(profile, icc, &n)) {
		free(icc);
		icc = NULL;
		goto out;
	}
	for (int i = 0; i < 12; i++)
		icc[24 + i] = profile_date[i];
	*len = n;
out:
	if (desc)
		cmsMLUfree(desc);
	cmsCloseProfile(profile);
	return icc;
}
