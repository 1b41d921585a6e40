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
#include "bunko/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static void table_head(struct bk_buf *b)
{
	bk_buf_add_be32(b, 0x00010000);   /* version */
	bk_buf_add_be32(b, 0x00010000);   /* fontRevision */
	bk_buf_add_be32(b, 0);            /* checkSumAdjustment, set at the end */
	bk_buf_add_be32(b, 0x5F0F3CF5);   /* magicNumber */
	bk_buf_add_be16(b, 0x000B);       /* baseline y=0, lsb x=0, integer ppem */
	bk_buf_add_be16(b, 1000);         /* unitsPerEm */
	bk_buf_add_be32(b, 0);            /* created (64-bit) */
	bk_buf_add_be32(b, FONT_TIMESTAMP);
	bk_buf_add_be32(b, 0);            /* modified */
	bk_buf_add_be32(b, FONT_TIMESTAMP);
	bk_buf_add_be16(b, NOTDEF_X0);    /* xMin yMin xMax yMax over all glyphs */
	bk_buf_add_be16(b, NOTDEF_Y0);
	bk_buf_add_be16(b, NOTDEF_X1);
	bk_buf_add_be16(b, NOTDEF_Y1);
	bk_buf_add_be16(b, 0);            /* macStyle */
	bk_buf_add_be16(b, 8);            /* lowestRecPPEM */
	bk_buf_add_be16(b, 2);            /* fontDirectionHint */
	bk_buf_add_be16(b, 0);            /* indexToLocFormat: short offsets */
	bk_buf_add_be16(b, 0);            /* glyphDataFormat */
}

static void table_hhea(struct bk_buf *b)
{
	bk_buf_add_be32(b, 0x00010000);
	bk_buf_add_be16(b, BK_PDF_FONT_ASCENT);
	bk_buf_add_be16(b, BK_PDF_FONT_DESCENT);
	bk_buf_add_be16(b, 0);                   /* lineGap */
	bk_buf_add_be16(b, BK_PDF_FONT_ADVANCE); /* advanceWidthMax */
	bk_buf_add_be16(b, 0);                   /* minLeftSideBearing */
	bk_buf_add_be16(b, 0);                   /* minRightSideBearing */
	bk_buf_add_be16(b, NOTDEF_X1);           /* xMaxExtent */
	bk_buf_add_be16(b, 1);                   /* caretSlopeRise */
	bk_buf_add_be16(b, 0);                   /* caretSlopeRun */
	bk_buf_add_be16(b, 0);                   /* caretOffset */
	for (int i = 0; i < 4; i++)
		bk_buf_add_be16(b, 0);           /* reserved */
	bk_buf_add_be16(b, 0);                   /* metricDataFormat */
	bk_buf_add_be16(b, 2);                   /* numberOfHMetrics */
}

static void table_maxp(struct bk_buf *b)
{
	bk_buf_add_be32(b, 0x00010000); /* version 1.0: TrueType outlines */
	bk_buf_add_be16(b, 2);          /* numGlyphs */
	bk_buf_add_be16(b, 4);          /* maxPoints */
	bk_buf_add_be16(b, 1);          /* maxContours */
	bk_buf_add_be16(b, 0);          /* maxCompositePoints */
	bk_buf_add_be16(b, 0);          /* maxCompositeContours */
	bk_buf_add_be16(b, 2);          /* maxZones */
	for (int i = 0; i < 9; i++)
		bk_buf_add_be16(b, 0);  /* twilight, storage, defs, stack, sizes, components */
}

static void table_os2(struct bk_buf *b)
{
	bk_buf_add_be16(b, 3);                   /* version */
	bk_buf_add_be16(b, BK_PDF_FONT_ADVANCE); /* xAvgCharWidth */
	bk_buf_add_be16(b, 400);                 /* usWeightClass */
	bk_buf_add_be16(b, 5);                   /* usWidthClass */
	bk_buf_add_be16(b, 0);                   /* fsType: installable embedding */
	static const short sub_super_strike[10] = { 650, 600, 0, 75, 650, 600,
						    0, 350, 50, 300 };
	for (int i = 0; i < 10; i++)
		bk_buf_add_be16(b, sub_super_strike[i]);
	bk_buf_add_be16(b, 0); /* sFamilyClass */
	for (int i = 0; i < 10; i++)
		bk_buf_add(b, "", 1); /* panose */
	for (int i = 0; i < 4; i++)
		bk_buf_add_be32(b, 0); /* ulUnicodeRange1..4 */
	bk_buf_add(b, "NONE", 4);                     /* achVendID */
	bk_buf_add_be16(b, 0x0040);                   /* fsSelection: REGULAR */
	bk_buf_add_be16(b, 0x0020);                   /* usFirstCharIndex */
	bk_buf_add_be16(b, 0xFFFF);                   /* usLastCharIndex */
	bk_buf_add_be16(b, BK_PDF_FONT_ASCENT);       /* sTypoAscender */
	bk_buf_add_be16(b, BK_PDF_FONT_DESCENT);      /* sTypoDescender */
	bk_buf_add_be16(b, 0);                        /* sTypoLineGap */
	bk_buf_add_be16(b, BK_PDF_FONT_ASCENT);       /* usWinAscent */
	bk_buf_add_be16(b, -BK_PDF_FONT_DESCENT);     /* usWinDescent */
	bk_buf_add_be32(b, 0);                        /* ulCodePageRange1 */
	bk_buf_add_be32(b, 0);                        /* ulCodePageRange2 */
	bk_buf_add_be16(b, 500);                      /* sxHeight */
	bk_buf_add_be16(b, NOTDEF_Y1);                /* sCapHeight */
	bk_buf_add_be16(b, 0);                        /* usDefaultChar */
	bk_buf_add_be16(b, 0x0020);                   /* usBreakChar */
	bk_buf_add_be16(b, 0);                        /* usMaxContext */
}

static void table_hmtx(struct bk_buf *b)
{
	bk_buf_add_be16(b, BK_PDF_FONT_ADVANCE); /* glyph 0 */
	bk_buf_add_be16(b, NOTDEF_X0);
	bk_buf_add_be16(b, BK_PDF_FONT_ADVANCE); /* glyph 1: empty, lsb 0 */
	bk_buf_add_be16(b, 0);
}

/* One format-4 subtable (Windows, Unicode BMP) holding only the required
 * final segment: the PDF selects glyphs through CIDToGIDMap, not cmap. */
static void table_cmap(struct bk_buf *b)
{
	bk_buf_add_be16(b, 0);      /* version */
	bk_buf_add_be16(b, 1);      /* numTables */
	bk_buf_add_be16(b, 3);      /* platform: Windows */
	bk_buf_add_be16(b, 1);      /* encoding: Unicode BMP */
	bk_buf_add_be32(b, 12);     /* offset of the subtable */
	bk_buf_add_be16(b, 4);      /* format */
	bk_buf_add_be16(b, 24);     /* length */
	bk_buf_add_be16(b, 0);      /* language */
	bk_buf_add_be16(b, 2);      /* segCountX2 */
	bk_buf_add_be16(b, 2);      /* searchRange */
	bk_buf_add_be16(b, 0);      /* entrySelector */
	bk_buf_add_be16(b, 0);      /* rangeShift */
	bk_buf_add_be16(b, 0xFFFF); /* endCode[0] */
	bk_buf_add_be16(b, 0);      /* reservedPad */
	bk_buf_add_be16(b, 0xFFFF); /* startCode[0] */
	bk_buf_add_be16(b, 1);      /* idDelta[0] */
	bk_buf_add_be16(b, 0);      /* idRangeOffset[0] */
}

/* glyph 0: one closed contour of 4 on-curve points; glyph 1: no data. */
static void table_glyf(struct bk_buf *b)
{
	bk_buf_add_be16(b, 1); /* numberOfContours */
	bk_buf_add_be16(b, NOTDEF_X0);
	bk_buf_add_be16(b, NOTDEF_Y0);
	bk_buf_add_be16(b, NOTDEF_X1);
	bk_buf_add_be16(b, NOTDEF_Y1);
	bk_buf_add_be16(b, 3); /* endPtsOfContours[0] */
	bk_buf_add_be16(b, 0); /* instructionLength */
	for (int i = 0; i < 4; i++)
		bk_buf_add(b, "\x01", 1); /* ON_CURVE, 16-bit deltas */
	static const short dx[4] = { NOTDEF_X0, 0, NOTDEF_X1 - NOTDEF_X0, 0 };
	static const short dy[4] = { NOTDEF_Y0, NOTDEF_Y1 - NOTDEF_Y0, 0,
				     NOTDEF_Y0 - NOTDEF_Y1 };
	for (int i = 0; i < 4; i++)
		bk_buf_add_be16(b, dx[i]);
	for (int i = 0; i < 4; i++)
		bk_buf_add_be16(b, dy[i]);
	bk_buf_add_be16(b, 0); /* pad to an even length (short loca offsets) */
}

enum { GLYPH0_LEN = 36 };

static void table_loca(struct bk_buf *b)
{
	bk_buf_add_be16(b, 0);
	bk_buf_add_be16(b, GLYPH0_LEN / 2);
	bk_buf_add_be16(b, GLYPH0_LEN / 2); /* glyph 1 is empty: same offset */
}

static void table_name(struct bk_buf *b)
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

	bk_buf_add_be16(b, 0);                 /* format */
	bk_buf_add_be16(b, count);
	bk_buf_add_be16(b, 6 + 12 * count);    /* stringOffset */
	for (int i = 0; i < count; i++) {
		int len = 2 * (int)strlen(names[i].text); /* UTF-16BE */
		bk_buf_add_be16(b, 3);         /* Windows */
		bk_buf_add_be16(b, 1);         /* Unicode BMP */
		bk_buf_add_be16(b, 0x0409);    /* en-US */
		bk_buf_add_be16(b, names[i].id);
		bk_buf_add_be16(b, len);
		bk_buf_add_be16(b, offset);
		offset += len;
	}
	for (int i = 0; i < count; i++)
		for (const char *s = names[i].text; *s; s++)
			bk_buf_add_be16(b, (unsigned char)*s);
}

static void table_post(struct bk_buf *b)
{
	bk_buf_add_be32(b, 0x00030000); /* version 3: no glyph names */
	bk_buf_add_be32(b, 0);          /* italicAngle */
	bk_buf_add_be16(b, -100);       /* underlinePosition */
	bk_buf_add_be16(b, 50);         /* underlineThickness */
	bk_buf_add_be32(b, 1);          /* isFixedPitch */
	for (int i = 0; i < 4; i++)
		bk_buf_add_be32(b, 0);  /* memory usage hints */
}

unsigned char *bk_pdf_glyphless_font(size_t *len)
{
	/* Sorted by tag, as the table directory requires. */
	static const struct {
		const char *tag;
		void (*build)(struct bk_buf *);
	} tables[] = {
		{ "OS/2", table_os2 }, { "cmap", table_cmap }, { "glyf", table_glyf },
		{ "head", table_head }, { "hhea", table_hhea }, { "hmtx", table_hmtx },
		{ "loca", table_loca }, { "maxp", table_maxp }, { "name", table_name },
		{ "post", table_post },
	};
	enum { NTABLES = sizeof(tables) / sizeof(tables[0]) };
	struct bk_buf font = { 0 };
	size_t head_offset = 0;

	*len = 0;
	/* Offset subtable: searchRange etc. from the largest power of two. */
	int pow2 = 1, log2 = 0;
	while (pow2 * 2 <= NTABLES) {
		pow2 *= 2;
		log2++;
	}
	bk_buf_add_be32(&font, 0x00010000);
	bk_buf_add_be16(&font, NTABLES);
	bk_buf_add_be16(&font, pow2 * 16);
	bk_buf_add_be16(&font, log2);
	bk_buf_add_be16(&font, NTABLES * 16 - pow2 * 16);
	size_t dir_offset = font.len;
	for (int i = 0; i < NTABLES * 4; i++)
		bk_buf_add_be32(&font, 0); /* directory, filled below */

	for (int i = 0; i < NTABLES; i++) {
		struct bk_buf table = { 0 };
		tables[i].build(&table);
		if (table.failed || font.failed) {
			bk_buf_release(&table);
			goto fail;
		}
		size_t offset = font.len;
		if (strcmp(tables[i].tag, "head") == 0)
			head_offset = offset;
		bk_buf_add(&font, table.data, table.len);
		bk_buf_add_zeros(&font, (4 - table.len % 4) % 4);
		if (font.failed) {
			bk_buf_release(&table);
			goto fail;
		}
		unsigned char *entry = (unsigned char *)font.data + dir_offset + 16 * (size_t)i;
		memcpy(entry, tables[i].tag, 4);
		bk_be32_store(entry + 4, sfnt_checksum((unsigned char *)table.data, table.len));
		bk_be32_store(entry + 8, (uint32_t)offset);
		bk_be32_store(entry + 12, (uint32_t)table.len);
		bk_buf_release(&table);
	}
	/* head.checkSumAdjustment makes the whole font sum to 0xB1B0AFBA. */
	bk_be32_store(font.data + head_offset + 8,
		      0xB1B0AFBAu - sfnt_checksum((unsigned char *)font.data, font.len));
	return (unsigned char *)bk_buf_detach(&font, len);
fail:
	bk_buf_release(&font);
	return NULL;
}
