/*
 * archive/pdf_internal.h — pieces of the PDF writer (archive/pdf.c) kept
 * in files of their own: the glyphless TrueType font program (pdf_font.c,
 * Tesseract's pdf.ttf) and the sRGB ICC profile (pdf_icc.c, lcms2).
 * Not a public interface: only archive/pdf*.c include it.
 */
#ifndef BUNKO_ARCHIVE_PDF_INTERNAL_H
#define BUNKO_ARCHIVE_PDF_INTERNAL_H

#include <stddef.h>

/* Metrics of the font program and the PDF font dictionaries, in PDF glyph
 * units (1000 per em). The program is Tesseract's glyphless pdf.ttf
 * (pdf_font.c), whose glyph 1 advances 1024 of its 2048 units: half an em,
 * so DW is ADVANCE (500), as PDF/A wants the widths to agree with the
 * program, and the text matrices stretch x by XSCALE (1000 / ADVANCE) so
 * that a glyph covers one em of its matrix. Its box as bunko's layout
 * counts it is then [0, 1000] x [DESCENT, ASCENT], one em square.
 *
 * Vertically (W2, every CID the same) the glyph advances VADVANCE, a
 * little less than its one-em height, and its position vector is
 * (VORIGIN_X, VORIGIN_Y) = (0, DESCENT): the pen is the bottom-left corner
 * of the glyph box, where poppler, which ignores position vectors, puts
 * it too (see the text-layer protocol in pdf.c). */
#define BK_PDF_FONT_NAME "BunkoGlyphless"
#define BK_PDF_FONT_EM 1000
#define BK_PDF_FONT_ADVANCE 500
#define BK_PDF_FONT_XSCALE ((double)BK_PDF_FONT_EM / BK_PDF_FONT_ADVANCE)
#define BK_PDF_FONT_ASCENT 880
#define BK_PDF_FONT_DESCENT (-120)
#define BK_PDF_FONT_VADVANCE (-990)
#define BK_PDF_FONT_VORIGIN_X 0
#define BK_PDF_FONT_VORIGIN_Y BK_PDF_FONT_DESCENT

/* The glyphless TrueType program: Tesseract's pdf.ttf, embedded at build
 * time from the installed Tesseract data (two glyphs: 0, .notdef, empty
 * and never shown, and 1, the glyph every CID maps to). Returns a new
 * buffer (caller frees) and its length in *len, or NULL when out of
 * memory. */
unsigned char *bk_pdf_glyphless_font(size_t *len);

/* An ICC version 4.2 display profile for sRGB IEC 61966-2.1, made by
 * lcms2. Returns a new buffer (caller frees) and its length in *len, or
 * NULL when out of memory. */
unsigned char *bk_pdf_srgb_profile(size_t *len);

#endif
