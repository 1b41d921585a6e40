/*
 * ocr/oldprint.h — reading old print (旧字体): the decisions that fuse a
 * second reading with the Traditional Chinese models (chi_tra,
 * chi_tra_vert) into the jpn reading, glyph by glyph. Debian's jpn models
 * lack many old forms outright (區 經 關 參 對 稅 縣 號 證 廳 ...), so
 * Tesseract with jpn can never produce them; chi_tra has them.
 *
 * This file holds only bunko's own types and rules; ocr/engine.c walks
 * Tesseract's results into glyphs, asks these functions what to do, runs
 * the second reading and writes the fused glyphs into the page model.
 *
 * The protocol, per Tesseract call with jpn or jpn_vert:
 *  1. under BK_OLD_PRINT_AUTO (until a call of the page was old print),
 *     the words are first taken as Tesseract gave them and their text
 *     tallied (bk_oldprint_tally_word); a call that bk_oldprint_may_be()
 *     rules out is done: a modern page pays no walk of Tesseract's
 *     symbols (measured with perf on the five white-paper pages through
 *     the queue: that walk and its boxes were about 5% of the CPU time);
 *  2. the jpn reading is walked into glyphs (one per Tesseract symbol, in
 *     reading order, each with its line and word ordinal), and
 *     bk_oldprint_detect() says whether the call looks like old print
 *     (only asked under BK_OLD_PRINT_AUTO; BK_OLD_PRINT_ON always reads);
 *     under AUTO, a call found to be old print has the words of step 1
 *     dropped and taken again from the fused glyphs (step 5);
 *  3. the same rectangle is read again with chi_tra (chi_tra_vert for
 *     vertical text) in the same segmentation mode;
 *  4. bk_oldprint_fuse() replaces the jpn glyphs that the second reading
 *     reads better; kana and punctuation always stay jpn's;
 *  5. each word's text is rebuilt from its glyphs.
 * The text keeps the old form as printed; the index folds it for search.
 */
#ifndef BUNKO_OCR_OLDPRINT_H
#define BUNKO_OCR_OLDPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bunko/page.h"

/* When the second reading is paid for. */
enum bk_old_print {
	BK_OLD_PRINT_AUTO = 0, /* where bk_oldprint_detect() says old print
				  (the default of `bunko ocr` and `bunko add`) */
	BK_OLD_PRINT_OFF,      /* never (jpn only) */
	BK_OLD_PRINT_ON        /* on every jpn/jpn_vert reading */
};

/* "off", "auto", "on" -> *mode; -1 for anything else. */
int bk_old_print_parse(const char *s, enum bk_old_print *mode);

#define BK_GLYPH_TEXT_MAX 16

struct bk_glyph {
	struct bk_box box;             /* a share of its word's box where
					  Tesseract's symbol box is empty */
	float conf;                    /* 0..100 */
	char text[BK_GLYPH_TEXT_MAX];  /* UTF-8; "" once merged into a neighbour */
	size_t line, word;             /* ordinals within the Tesseract call */
};

/* What one call's fusion did, summed by the engine for its report. */
struct bk_oldprint_stats {
	size_t calls_probed; /* calls whose doubtful lines chi_tra read (auto) */
	size_t calls_read; /* Tesseract calls that got a second reading */
	size_t replaced;   /* jpn glyphs replaced by chi_tra glyphs */
};

/* True when the glyphs of one jpn reading look like old print: many
 * kanji read with low confidence, and old forms jpn knows (國 會 學 ...)
 * among those read. Measured on the modern realscans pages (government
 * white paper) this never holds; on 1900s print and on rendered old-print
 * pages it does (see oldprint.c for the numbers). */
bool bk_oldprint_detect(const struct bk_glyph *g, size_t n);

/* What the words of a jpn reading hold, for the cheap first look (step
 * 1): bk_oldprint_may_be() is false only where bk_oldprint_detect() on
 * the same reading's glyphs is false too (fewer kanji than it needs, or
 * none of the old forms jpn knows). */
struct bk_oldprint_tally {
	size_t kanji; /* kanji code points in the words' text */
	size_t old;   /* of them, old forms jpn knows */
	size_t doubt; /* of them, in words read with low confidence */
};

/* Tallies one word of text `text` read with word confidence `conf`. */
void bk_oldprint_tally_word(struct bk_oldprint_tally *t, const char *text,
			    float conf);
bool bk_oldprint_may_be(const struct bk_oldprint_tally *t);
/* Whether a call that bk_oldprint_detect() does not find old print is
 * worth the probe (below): many kanji, a large share of them in words read
 * with low confidence. bk_oldprint_may_be() holds wherever this does. */
bool bk_oldprint_may_probe(const struct bk_oldprint_tally *t);

/*
 * Fuses chi_tra's reading `alt` of the same text into the jpn glyphs `g`
 * (both in reading order). The two are aligned as sequences by position
 * and text (edit distance where two glyphs in the same place pair at cost
 * 0 when they read the same or have the same modern form, 1 otherwise,
 * and glyphs in different places do not pair), because jpn splits or
 * merges the old forms it lacks and the two readings' glyphs do not
 * correspond one by one. A jpn glyph is replaced by the chi_tra glyph aligned with it when
 * it is not kana or punctuation and the chi_tra glyph is a kanji that is
 * the old form of jpn's glyph, or a known old form (the variant table
 * folds it) read with fair confidence, or is read with clearly higher
 * confidence. Returns the number of jpn glyphs changed, -1 when out of
 * memory. Readings of more than BK_FUSE_MAX_CELLS glyph pairs are left as
 * they are (0).
 */
#define BK_FUSE_MAX_CELLS (16u * 1024 * 1024)
long bk_oldprint_fuse(struct bk_glyph *g, size_t n,
		      const struct bk_glyph *alt, size_t nalt);

/*
 * The probe (under BK_OLD_PRINT_AUTO, where bk_oldprint_detect() says no):
 * jpn reads old forms it lacks as look-alikes with low confidence, so a
 * page whose old forms are all outside jpn's character set shows none of
 * the old forms detection looks for. Where bk_oldprint_may_probe() holds,
 * bk_oldprint_probe_lines() picks the lines (by ordinal) with the most
 * doubtful kanji, at most BK_PROBE_LINES; the engine reads each line
 * again with chi_tra, and bk_oldprint_probe_add() counts the doubtful
 * jpn kanji of the line and those the chi_tra reading aligned with them
 * gives as an old form (in the variant table) that is not jpn's glyph's
 * old form and is read with more confidence; bk_oldprint_probe_says()
 * whether that share tells old print. Kana and punctuation never count.
 */
#define BK_PROBE_LINES 3

size_t bk_oldprint_probe_lines(const struct bk_glyph *g, size_t n,
			       size_t lines[BK_PROBE_LINES]);

struct bk_oldprint_probe {
	size_t doubt;  /* doubtful jpn kanji in the lines read */
	size_t lacked; /* of them, read by chi_tra as old forms jpn lacks */
};

/* Adds one line: `g` its jpn glyphs, `alt` chi_tra's. -1: out of memory. */
int bk_oldprint_probe_add(struct bk_oldprint_probe *p, const struct bk_glyph *g,
			  size_t n, const struct bk_glyph *alt, size_t nalt);
bool bk_oldprint_probe_says(const struct bk_oldprint_probe *p);

#endif
