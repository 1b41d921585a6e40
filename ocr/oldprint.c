/*
 * ocr/oldprint.c — the rules of the old-print reading (see oldprint.h).
 *
 * The thresholds were measured with scripts/bench --only oldprint: on the
 * pages scripts/gen-oldprint renders (corpus prose in old forms, mincho,
 * degraded), on the two 1900s NDL pages and on the five modern white-paper
 * pages of the realscans set (which must never be detected as old print).
 */
#include "ocr/oldprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "index/variants.h"

/* A kanji read below this confidence is doubtful. jpn reads old forms it lacks as look-alikes with confidences up
 * to the low 90s (區 as 匠 at 91, 濟 as 浦 at 93), modern print's kanji
 * mostly at 96-99. */
#define BK_DOUBT_CONF 95.0f

/* Detection, per Tesseract call (a region of the page): at least
 * BK_DETECT_MIN_KANJI kanji, a share BK_DETECT_DOUBT_SHARE of them
 * doubtful, and one of the old forms that jpn itself can read among them
 * (JPN_OLD_FORMS). Measured per call with bunko's reader: modern
 * white-paper pages have 0-16% doubtful kanji in their text regions (one
 * figure region 49%) and none of those old forms; the regions of the
 * 1900s NDL pages have 42-64% doubtful and the old forms in the large
 * ones; rendered old print 21-58%. The variant table alone does not tell
 * old print: it also folds modern kanji for search (合→閤, 集→輯, 連→聯),
 * which modern pages are full of. */
#define BK_DETECT_MIN_KANJI 20
#define BK_DETECT_DOUBT_SHARE 0.30

/* Old forms in the jpn/jpn_vert models' character sets that modern text
 * does not use (those also common in modern names or as kanji of their own,
 * 龍 蘭 響 衆 燈 暑, left out). */
static const char JPN_OLD_FORMS[] = "來國學廣應會條櫻澤濱眞萬藝邊鐵";

/* The probe, for a call with many doubtful kanji and none of
 * JPN_OLD_FORMS (a page whose old forms the model lacks every one):
 * a call of at least BK_PROBE_MIN_KANJI kanji, a share
 * BK_PROBE_DOUBT_SHARE of them in words read with confidence under
 * BK_PROBE_WORD_CONF, has its BK_PROBE_LINES lines with the most doubtful
 * kanji read again with chi_tra, and is old print when at least
 * BK_PROBE_MIN_LACKED of those lines' doubtful kanji, and a share
 * BK_PROBE_LACKED_SHARE of them, come back as old forms jpn lacks.
 * Measured per call (calls of 60 kanji or more): modern print (the five
 * white-paper pages, the sample h-kokuji) has 3-18% of its kanji in words
 * under 85, old print 51-64% (the four rendered pages, the rendered page
 * of old forms jpn lacks, the two NDL spreads). Smaller calls are left
 * out: the reader's first look at a page is a call of 20-30 kanji where a
 * modern page's side tab had 67%. Word confidence is Tesseract's lowest
 * of its symbols', so words (not symbols) are what the first look tallies
 * without walking the symbols. The probe, measured on its three lines:
 * modern calls 0 of 11-14 doubtful kanji came back as old forms jpn lacks,
 * old print 3-11 of 20-45 (one IPA Mincho page 1 of 38; it is found by
 * its old forms jpn knows). */
#define BK_PROBE_MIN_KANJI 60
#define BK_PROBE_WORD_CONF 85.0f
#define BK_PROBE_DOUBT_SHARE 0.35
#define BK_PROBE_MIN_LACKED 3
#define BK_PROBE_LACKED_SHARE 0.08

/* Fusion: a chi_tra old form replaces a jpn glyph when chi_tra reads it
 * with at least BK_OLD_MIN_CONF; any other chi_tra kanji only when it is
 * BK_BETTER_BY points more confident than jpn's glyph. Measured (old-form
 * recall on the four rendered pages and the two NDL pages): a margin of 20
 * instead of 10 reads the same old forms at a slightly higher CER;
 * requiring the old form to be as confident as jpn's glyph (within 10
 * points, or at all) loses 1-8 points of recall on each page. */
#define BK_OLD_MIN_CONF 60.0f
#define BK_BETTER_BY 10.0f

int bk_old_print_parse(const char *s, enum bk_old_print *mode)
{
	if (!s)
		return -1;
	if (strcmp(s, "off") == 0)
		*mode = BK_OLD_PRINT_OFF;
	else if (strcmp(s, "auto") == 0)
		*mode = BK_OLD_PRINT_AUTO;
	else if (strcmp(s, "on") == 0)
		*mode = BK_OLD_PRINT_ON;
	else
		return -1;
	return 0;
}

/* First code point of a glyph's text; 0 for an empty or broken one. */
static uint32_t first_cp(const char *text)
{
	utf8proc_int32_t cp = 0;

	if (!text[0] ||
	    utf8proc_iterate((const utf8proc_uint8_t *)text, -1, &cp) <= 0)
		return 0;
	return (uint32_t)cp;
}

static bool is_kanji(uint32_t cp)
{
	return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF);
}

/* Kana, CJK punctuation and marks (々 included), full-width forms, ASCII
 * digits and punctuation, general punctuation: always jpn's. */
static bool keep_jpn(uint32_t cp)
{
	if (cp >= 0x3000 && cp <= 0x30FF)
		return true;
	if (cp >= 0xFF00 && cp <= 0xFFEF)
		return true;
	if (cp >= 0x2000 && cp <= 0x206F)
		return true;
	if (cp < 0x80 && !((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z'))
		return true;
	return false;
}

static bool is_old_form(uint32_t cp)
{
	return is_kanji(cp) && bk_kanji_fold(cp) != cp;
}

/* Whether the `len` bytes at `text` are one of JPN_OLD_FORMS. */
static bool jpn_old_form_at(const char *text, size_t len)
{
	if (len != 3)
		return false;
	for (const char *p = JPN_OLD_FORMS; *p; p += 3) /* all are 3-byte UTF-8 */
		if (memcmp(p, text, 3) == 0)
			return true;
	return false;
}

/* Whether the glyph is one of JPN_OLD_FORMS. */
static bool jpn_old_form(const char *text)
{
	return jpn_old_form_at(text, strlen(text));
}

/* Counts every kanji code point of the word and the old forms among them:
 * at least what bk_oldprint_detect() counts on the same word's glyphs (a
 * glyph counts when its first code point is a kanji, an old form when it
 * is one whole), since a word's text is its glyphs' texts joined. */
void bk_oldprint_tally_word(struct bk_oldprint_tally *t, const char *text,
			    float conf)
{
	const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)text;

	while (*s) {
		utf8proc_int32_t cp = 0;
		utf8proc_ssize_t k = utf8proc_iterate(s, -1, &cp);
		if (k <= 0) {
			s++;
			continue;
		}
		if (is_kanji((uint32_t)cp)) {
			t->kanji++;
			if (jpn_old_form_at((const char *)s, (size_t)k))
				t->old++;
			if (conf < BK_PROBE_WORD_CONF)
				t->doubt++;
		}
		s += k;
	}
}

bool bk_oldprint_may_be(const struct bk_oldprint_tally *t)
{
	return (t->kanji >= BK_DETECT_MIN_KANJI && t->old >= 1) ||
	       bk_oldprint_may_probe(t);
}

bool bk_oldprint_may_probe(const struct bk_oldprint_tally *t)
{
	return t->kanji >= BK_PROBE_MIN_KANJI &&
	       t->doubt >= BK_PROBE_DOUBT_SHARE * (double)t->kanji;
}

bool bk_oldprint_detect(const struct bk_glyph *g, size_t n)
{
	size_t kanji = 0, doubt = 0, old = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t cp = first_cp(g[i].text);
		if (!is_kanji(cp))
			continue;
		kanji++;
		if (g[i].conf < BK_DOUBT_CONF)
			doubt++;
		if (jpn_old_form(g[i].text))
			old++;
	}
	return kanji >= BK_DETECT_MIN_KANJI &&
	       doubt >= BK_DETECT_DOUBT_SHARE * (double)kanji && old >= 1;
}

/* Whether chi_tra's glyph `c` should take the place of jpn's glyph `j`. */
static bool better(const struct bk_glyph *j, const struct bk_glyph *c)
{
	uint32_t jcp = first_cp(j->text), ccp = first_cp(c->text);

	if (!jcp || keep_jpn(jcp) || !is_kanji(ccp) || strcmp(j->text, c->text) == 0)
		return false;
	if (bk_kanji_fold(ccp) == bk_kanji_fold(jcp))
		return true; /* the old form as printed, where jpn has the modern */
	if (is_old_form(ccp) && c->conf >= BK_OLD_MIN_CONF)
		return true;
	return c->conf >= j->conf + BK_BETTER_BY;
}

/* Whether two glyphs align for free: the same text, or the same modern
 * form (jpn's 税 under chi_tra's 稅). */
static bool same_glyph(const struct bk_glyph *a, const struct bk_glyph *b)
{
	uint32_t x = first_cp(a->text), y = first_cp(b->text);

	return strcmp(a->text, b->text) == 0 ||
	       (x && y && bk_kanji_fold(x) == bk_kanji_fold(y));
}

/* Whether two glyph boxes cover the same place: their intersection is at
 * least a third of the smaller box. Glyphs without a box (area 0) are
 * placed by the sequence alone. */
static bool same_place(struct bk_box a, struct bk_box b)
{
	long aa = (long)(a.x1 - a.x0) * (a.y1 - a.y0);
	long ab = (long)(b.x1 - b.x0) * (b.y1 - b.y0);
	int x0 = a.x0 > b.x0 ? a.x0 : b.x0, x1 = a.x1 < b.x1 ? a.x1 : b.x1;
	int y0 = a.y0 > b.y0 ? a.y0 : b.y0, y1 = a.y1 < b.y1 ? a.y1 : b.y1;

	if (aa <= 0 || ab <= 0)
		return true;
	if (x1 <= x0 || y1 <= y0)
		return false;
	return 3L * (x1 - x0) * (y1 - y0) >= (aa < ab ? aa : ab);
}

/* Costs of the alignment, in halves: pairing two glyphs that read the same
 * (or have the same modern form) costs nothing, a misreading 2, leaving a
 * glyph unpaired 2. A misreading where the two boxes are in different
 * places costs one half more: Tesseract's symbol boxes drift by up to a
 * glyph from the ink (measured: trusting them fully lost a tenth of the
 * old forms), so they only decide between otherwise equal alignments. */
#define BK_COST_GAP 2u

static uint32_t sub_cost(const uint32_t *d, size_t w, size_t i, size_t j,
			 const struct bk_glyph *g, const struct bk_glyph *alt)
{
	uint32_t c = 0;

	if (!same_glyph(&g[i - 1], &alt[j - 1]))
		c = same_place(g[i - 1].box, alt[j - 1].box) ? 2 : 3;
	return d[(i - 1) * w + j - 1] + c;
}

long bk_oldprint_fuse(struct bk_glyph *g, size_t n,
		      const struct bk_glyph *alt, size_t nalt)
{
	size_t w = nalt + 1;
	uint32_t *d;
	long changed = 0;

	if (!n || !nalt || n + 1 > BK_FUSE_MAX_CELLS / w)
		return 0;
	if (!(d = malloc((n + 1) * w * sizeof(*d))))
		return -1;
	for (size_t i = 0; i <= n; i++)
		d[i * w] = (uint32_t)i * BK_COST_GAP;
	for (size_t j = 0; j <= nalt; j++)
		d[j] = (uint32_t)j * BK_COST_GAP;
	for (size_t i = 1; i <= n; i++)
		for (size_t j = 1; j <= nalt; j++) {
			uint32_t sub = sub_cost(d, w, i, j, g, alt);
			uint32_t del = d[(i - 1) * w + j] + BK_COST_GAP;
			uint32_t ins = d[i * w + j - 1] + BK_COST_GAP;
			uint32_t m = sub < del ? sub : del;
			d[i * w + j] = m < ins ? m : ins;
		}
	/* Back from the end; a diagonal step pairs g[i-1] with alt[j-1]. */
	for (size_t i = n, j = nalt; i > 0 && j > 0;) {
		uint32_t here = d[i * w + j];
		if (here == sub_cost(d, w, i, j, g, alt)) {
			if (better(&g[i - 1], &alt[j - 1])) {
				snprintf(g[i - 1].text, sizeof(g[i - 1].text), "%s",
					 alt[j - 1].text);
				g[i - 1].conf = alt[j - 1].conf;
				changed++;
			}
			i--;
			j--;
		} else if (here == d[(i - 1) * w + j] + BK_COST_GAP) {
			i--;
		} else {
			j--;
		}
	}
	free(d);
	return changed;
}

static bool doubtful_kanji(const struct bk_glyph *g)
{
	return is_kanji(first_cp(g->text)) && g->conf < BK_DOUBT_CONF;
}

size_t bk_oldprint_probe_lines(const struct bk_glyph *g, size_t n,
			       size_t lines[BK_PROBE_LINES])
{
	size_t count[BK_PROBE_LINES] = { 0 };
	size_t k = 0;

	for (size_t i = 0; i < n;) {
		size_t line = g[i].line, c = 0;
		for (; i < n && g[i].line == line; i++)
			c += doubtful_kanji(&g[i]);
		if (!c)
			continue;
		/* insert by count, descending; an earlier line wins a tie */
		size_t at = k;
		while (at > 0 && count[at - 1] < c)
			at--;
		if (at == BK_PROBE_LINES)
			continue;
		size_t last = k < BK_PROBE_LINES ? k : BK_PROBE_LINES - 1;
		for (size_t q = last; q > at; q--) {
			count[q] = count[q - 1];
			lines[q] = lines[q - 1];
		}
		count[at] = c;
		lines[at] = line;
		if (k < BK_PROBE_LINES)
			k++;
	}
	return k;
}

int bk_oldprint_probe_add(struct bk_oldprint_probe *p, const struct bk_glyph *g,
			  size_t n, const struct bk_glyph *alt, size_t nalt)
{
	struct bk_glyph *f;

	if (!n)
		return 0;
	if (!(f = malloc(n * sizeof(*f))))
		return -1;
	memcpy(f, g, n * sizeof(*f));
	if (bk_oldprint_fuse(f, n, alt, nalt) < 0) {
		free(f);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!doubtful_kanji(&g[i]))
			continue;
		p->doubt++;
		uint32_t jcp = first_cp(g[i].text), fcp = first_cp(f[i].text);
		/* An old form whose modern form is what jpn read says nothing:
		 * chi_tra may lack the modern form and read modern print so. */
		if (strcmp(f[i].text, g[i].text) != 0 && is_old_form(fcp) &&
		    bk_kanji_fold(fcp) != bk_kanji_fold(jcp) && f[i].conf > g[i].conf)
			p->lacked++;
	}
	free(f);
	return 0;
}

bool bk_oldprint_probe_says(const struct bk_oldprint_probe *p)
{
	return p->lacked >= BK_PROBE_MIN_LACKED &&
	       p->lacked >= BK_PROBE_LACKED_SHARE * (double)p->doubt;
}
