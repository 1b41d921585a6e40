/*
 * index/variants.h — the old/variant kanji → modern kanji table (National
 * Diet Library, CC BY 4.0; see index/data/README.md), compiled in from
 * index/data/kanji-variants.tsv at build time by index/gen_variants.c.
 *
 * The array is sorted by `from` and chains are already resolved, so one
 * binary search gives the final modern form. All entries are in the Basic
 * Multilingual Plane.
 */
#ifndef BUNKO_INDEX_VARIANTS_H
#define BUNKO_INDEX_VARIANTS_H

#include <stdint.h>

struct bk_variant {
	uint16_t from, to;
};

extern const struct bk_variant bk_variants[];
extern const unsigned bk_nvariants;

/* Returns the modern form of `cp`, or `cp` itself if it is not a variant. */
uint32_t bk_kanji_fold(uint32_t cp);

#endif
