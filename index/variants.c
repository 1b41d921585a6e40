/*
 * index/variants.c — look-up in the embedded kanji-variant table.
 */
#include "index/variants.h"

uint32_t bk_kanji_fold(uint32_t cp)
{
	unsigned lo = 0, hi = bk_nvariants;

	if (cp < bk_variants[0].from || cp > 0xffff)
		return cp;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (bk_variants[mid].from < cp)
			lo = mid + 1;
		else if (bk_variants[mid].from > cp)
			hi = mid;
		else
			return bk_variants[mid].to;
	}
	return cp;
}
