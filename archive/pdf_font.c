/*
 * archive/pdf_font.c — the glyphless TrueType font program behind the
 * invisible text layer, built from the OpenType/TrueType specification.
 *
 * Why a font at all: PDF text needs a font, and PDF/A needs it embedded. The
 * text is never painted (render mode 3), so the font carries no shapes: the
 * PDF maps every CID to glyph 1, which is empty and one em wide, and the
 * ToUnicode CMap (in pdf.c) gives the characters back. Glyph 0 (.notdef) is
 * a plain box, present because the format requires one; no CID maps to it
 * (PDF/A-2 forbids showing .notdef).
 *
 * Layout: an sfnt with the ten tables a TrueType program is expected to
 * carry (OS/2 cmap glyf head hhea hmtx loca maxp name post), each 4-byte
 * aligned, with table checksums and head.checkSumAdjustment computed as the
 * specification describes. unitsPerEm is 1000 so that font units equal PDF
 * glyph-space units and the /W widths match the hmtx advances exactly.
 */
#include "archive/pdf_internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sfnt_buf {
	unsigned char *p;
	size_t len, alloc;
	bool failed;
};

static void put_bytes(struct sfnt_buf *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->alloc) {
		size_t want = b->alloc ? b->alloc * 2 : 512;
		while (want < b->len + n)
			want *= 2;
		unsigned char *q = realloc(b->p, want);
		if (!q) {
			b->failed = true;
			return;
		}
		b->p = q;
		b->alloc = want;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put16(struct sfnt_buf *b, int v)
{
	unsigned char c[2] = { (unsigned char)((unsigned)v >> 8),
			       (unsigned char)v };
	put_bytes(b, c, 2);
}

static void put32(struct sfnt_buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };
	put_bytes(b, c, 4);
}

static void put_tag(struct sfnt_buf *b, const char *tag)
{
	put_bytes(b, tag, 4);
}

static void set32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* The sum of big-endian uint32 words, the data zero-padded to 4 bytes. */
static uint32_t sfnt_checksum(const unsigned char *p, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t word = 0;
		for (size_t k = 0; k < 4; k++)
			word = (word << 8) | (i + k < len ? p[i + k] : 0);
		sum += word;
	}
	return sum;
}

/* .notdef box: on-curve corners, counter-clockwise from bottom left. */
enum { NOTDEF_X0 = 100, NOTDEF_Y0 = 0, NOTDEF_X1 = 800, NOTDEF_Y1 = 700 };
/* A fixed timestamp (2024-01-01, seconds since 1904) keeps output stable. */
#define FONT_TIMESTAMP 3786825600u

static void table_head(struct sfnt_buf *b)
{
	put32(b, 0x00010000);   /* version */
	put32(b, 0x00010000);   /* fontRevision */
	put32(b, 0);            /* checkSumAdjustment, set at the end */
	put32(b, 0x5F0F3CF5);   /* magicNumber */
	put16(b, 0x000B);       /* baseline y=0, lsb x=0, integer ppem */
	put16(b, 1000);         /* unitsPerEm */
	put32(b, 0);            /* created (64-bit) */
	put32(b, FONT_TIMESTAMP);
	put32(b, 0);            /* modified */
	put32(b, FONT_TIMESTAMP);
	put16(b, NOTDEF_X0);    /* xMin yMin xMax yMax over all glyphs */
	put16(b, NOTDEF_Y0);
	put16(b, NOTDEF_X1);
	put16(b, NOTDEF_Y1);
	put16(b, 0);            /* macStyle */
	put16(b, 8);            /* lowestRecPPEM */
	put16(b, 2);            /* fontDirectionHint */
	put16(b, 0);            /* indexToLocFormat: short offsets */
	put16(b, 0);            /* glyphDataFormat */
}

static void table_hhea(struct sfnt_buf *b)
{
	put32(b, 0x00010000);
	put16(b, BK_PDF_FONT_ASCENT);
	put16(b, BK_PDF_FONT_DESCENT);
	put16(b, 0);                   /* lineGap */
	put16(b, BK_PDF_FONT_ADVANCE); /* advanceWidthMax */
	put16(b, 0);                   /* minLeftSideBearing */
	put16(b, 0);                   /* minRightSideBearing */
	put16(b, NOTDEF_X1);           /* xMaxExtent */
	put16(b, 1);                   /* caretSlopeRise */
	put16(b, 0);                   /* caretSlopeRun */
	put16(b, 0);                   /* caretOffset */
	for (int i = 0; i < 4; i++)
		put16(b, 0);           /* reserved */
	put16(b, 0);                   /* metricDataFormat */
	put16(b, 2);                   /* numberOfHMetrics */
}

static void table_maxp(struct sfnt_buf *b)
{
	put32(b, 0x00010000); /* version 1.0: TrueType outlines */
	put16(b, 2);          /* numGlyphs */
	put16(b, 4);          /* maxPoints */
	put16(b, 1);          /* maxContours */
	put16(b, 0);          /* maxCompositePoints */
	put16(b, 0);          /* maxCompositeContours */
	put16(b, 2);          /* maxZones */
	for (int i = 0; i < 9; i++)
		put16(b, 0);  /* twilight, storage, defs, stack, sizes, components */
}

static void table_os2(struct sfnt_buf *b)
{
	put16(b, 3);                   /* version */
	put16(b, BK_PDF_FONT_ADVANCE); /* xAvgCharWidth */
	put16(b, 400);                 /* usWeightClass */
	put16(b, 5);                   /* usWidthClass */
	put16(b, 0);                   /* fsType: installable embedding */
	static const short sub_super_strike[10] = { 650, 600, 0, 75, 650, 600,
						    0, 350, 50, 300 };
	for (int i = 0; i < 10; i++)
		put16(b, sub_super_strike[i]);
	put16(b, 0); /* sFamilyClass */
	for (int i = 0; i < 10; i++)
		put_bytes(b, "", 1); /* panose */
	for (int i = 0; i < 4; i++)
		put32(b, 0); /* ulUnicodeRange1..4 */
	put_tag(b, "NONE");                 /* achVendID */
	put16(b, 0x0040);                   /* fsSelection: REGULAR */
	put16(b, 0x0020);                   /* usFirstCharIndex */
	put16(b, 0xFFFF);                   /* usLastCharIndex */
	put16(b, BK_PDF_FONT_ASCENT);       /* sTypoAscender */
	put16(b, BK_PDF_FONT_DESCENT);      /* sTypoDescender */
	put16(b, 0);                        /* sTypoLineGap */
	put16(b, BK_PDF_FONT_ASCENT);       /* usWinAscent */
	put16(b, -BK_PDF_FONT_DESCENT);     /* usWinDescent */
	put32(b, 0);                        /* ulCodePageRange1 */
	put32(b, 0);                        /* ulCodePageRange2 */
	put16(b, 500);                      /* sxHeight */
	put16(b, NOTDEF_Y1);                /* sCapHeight */
	put16(b, 0);                        /* usDefaultChar */
	put16(b, 0x0020);                   /* usBreakChar */
	put16(b, 0);                        /* usMaxContext */
}

static void table_hmtx(struct sfnt_buf *b)
{
	put16(b, BK_PDF_FONT_ADVANCE); /* glyph 0 */
	put16(b, NOTDEF_X0);
	put16(b, BK_PDF_FONT_ADVANCE); /* glyph 1: empty, lsb 0 */
	put16(b, 0);
}

/* One format-4 subtable (Windows, Unicode BMP) holding only the required
 * final segment: the PDF selects glyphs through CIDToGIDMap, not cmap. */
static void table_cmap(struct sfnt_buf *b)
{
	put16(b, 0);      /* version */
	put16(b, 1);      /* numTables */
	put16(b, 3);      /* platform: Windows */
	put16(b, 1);      /* encoding: Unicode BMP */
	put32(b, 12);     /* offset of the subtable */
	put16(b, 4);      /* format */
	put16(b, 24);     /* length */
	put16(b, 0);      /* language */
	put16(b, 2);      /* segCountX2 */
	put16(b, 2);      /* searchRange */
	put16(b, 0);      /* entrySelector */
	put16(b, 0);      /* rangeShift */
	put16(b, 0xFFFF); /* endCode[0] */
	put16(b, 0);      /* reservedPad */
	put16(b, 0xFFFF); /* startCode[0] */
	put16(b, 1);      /* idDelta[0] */
	put16(b, 0);      /* idRangeOffset[0] */
}

/* glyph 0: one closed contour of 4 on-curve points; glyph 1: no data. */
static void table_glyf(struct sfnt_buf *b)
{
	put16(b, 1); /* numberOfContours */
	put16(b, NOTDEF_X0);
	put16(b, NOTDEF_Y0);
	put16(b, NOTDEF_X1);
	put16(b, NOTDEF_Y1);
	put16(b, 3); /* endPtsOfContours[0] */
	put16(b, 0); /* instructionLength */
	for (int i = 0; i < 4; i++)
		put_bytes(b, "\x01", 1); /* ON_CURVE, 16-bit deltas */
	static const short dx[4] = { NOTDEF_X0, 0, NOTDEF_X1 - NOTDEF_X0, 0 };
	static const short dy[4] = { NOTDEF_Y0, NOTDEF_Y1 - NOTDEF_Y0, 0,
				     NOTDEF_Y0 - NOTDEF_Y1 };
	for (int i = 0; i < 4; i++)
		put16(b, dx[i]);
	for (int i = 0; i < 4; i++)
		put16(b, dy[i]);
	put16(b, 0); /* pad to an even length (short loca offsets) */
}

enum { GLYPH0_LEN = 36 };

static void table_loca(struct sfnt_buf *b)
{
	put16(b, 0);
	put16(b, GLYPH0_LEN / 2);
	put16(b, GLYPH0_LEN / 2); /* glyph 1 is empty: same offset */
}

static void table_name(struct sfnt_buf *b)
{
	static const struct {
		int id;
		const char *text;
	} names[] = {
		{ 1, BK_PDF_FONT_NAME },          { 2, "Regular" },
		{ 3, "bunko: " BK_PDF_FONT_NAME }, { 4, BK_PDF_FONT_NAME },
		{ 5, "Version 1.0" },             { 6, BK_PDF_FONT_NAME },
	};
	const int count = (int)(sizeof(names) / sizeof(names[0]));
	int offset = 0;

	put16(b, 0);                 /* format */
	put16(b, count);
	put16(b, 6 + 12 * count);    /* stringOffset */
	for (int i = 0; i < count; i++) {
		int len = 2 * (int)strlen(names[i].text); /* UTF-16BE */
		put16(b, 3);         /* Windows */
		put16(b, 1);         /* Unicode BMP */
		put16(b, 0x0409);    /* en-US */
		put16(b, names[i].id);
		put16(b, len);
		put16(b, offset);
		offset += len;
	}
	for (int i = 0; i < count; i++)
		for (const char *s = names[i].text; *s; s++)
			put16(b, (unsigned char)*s);
}

static void table_post(struct sfnt_buf *b)
{
	put32(b, 0x00030000); /* version 3: no glyph names */
	put32(b, 0);          /* italicAngle */
	put16(b, -100);       /* underlinePosition */
	put16(b, 50);         /* underlineThickness */
	put32(b, 1);          /* isFixedPitch */
	for (int i = 0; i < 4; i++)
		put32(b, 0);  /* memory usage hints */
}

unsigned char *bk_pdf_glyphless_font(size_t *len)
{
	/* Sorted by tag, as the table directory requires. */
	static const struct {
		const char *tag;
		void (*build)(struct sfnt_buf *);
	} tables[] = {
		{ "OS/2", table_os2 }, { "cmap", table_cmap }, { "glyf", table_glyf },
		{ "head", table_head }, { "hhea", table_hhea }, { "hmtx", table_hmtx },
		{ "loca", table_loca }, { "maxp", table_maxp }, { "name", table_name },
		{ "post", table_post },
	};
	enum { NTABLES = sizeof(tables) / sizeof(tables[0]) };
	struct sfnt_buf font = { 0 };
	size_t head_offset = 0;

	*len = 0;
	/* Offset subtable: searchRange etc. from the largest power of two. */
	int pow2 = 1, log2 = 0;
	while (pow2 * 2 <= NTABLES) {
		pow2 *= 2;
		log2++;
	}
	put32(&font, 0x00010000);
	put16(&font, NTABLES);
	put16(&font, pow2 * 16);
	put16(&font, log2);
	put16(&font, NTABLES * 16 - pow2 * 16);
	size_t dir_offset = font.len;
	for (int i = 0; i < NTABLES * 4; i++)
		put32(&font, 0); /* directory, filled below */

	for (int i = 0; i < NTABLES; i++) {
		struct sfnt_buf table = { 0 };
		tables[i].build(&table);
		if (table.failed || font.failed) {
			free(table.p);
			goto fail;
		}
		size_t offset = font.len;
		if (strcmp(tables[i].tag, "head") == 0)
			head_offset = offset;
		put_bytes(&font, table.p, table.len);
		static const unsigned char zeros[3] = { 0 };
		put_bytes(&font, zeros, (4 - table.len % 4) % 4);
		if (font.failed) {
			free(table.p);
			goto fail;
		}
		unsigned char *entry = font.p + dir_offset + 16 * (size_t)i;
		memcpy(entry, tables[i].tag, 4);
		set32(entry + 4, sfnt_checksum(table.p, table.len));
		set32(entry + 8, (uint32_t)offset);
		set32(entry + 12, (uint32_t)table.len);
		free(table.p);
	}
	/* head.checkSumAdjustment makes the whole font sum to 0xB1B0AFBA. */
	set32(font.p + head_offset + 8,
	      0xB1B0AFBAu - sfnt_checksum(font.p, font.len));
	*len = font.len;
	return font.p;
fail:
	free(font.p);
	return NULL;
}
