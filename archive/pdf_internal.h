/*
 * archive/pdf_internal.h — pieces of the PDF writer (archive/pdf.c) that
 * are built from their specifications in separate files: the glyphless
 * TrueType font program (pdf_font.c) and the sRGB ICC profile (pdf_icc.c, lcms2).
 * Not a public interface: only archive/pdf*.c include it.
 */
#ifndef BUNKO_ARCHIVE_PDF_INTERNAL_H
#define BUNKO_ARCHIVE_PDF_INTERNAL_H

#include <stddef.h>

/* Metrics shared by the font program and the PDF font dictionaries, in
 * font units (1000 per em). Horizontally every glyph advances one em
 * (DW 1000); its box is [0, 1000] x [DESCENT, ASCENT], one em square.
 *
 * Vertically (W2, every CID the same) the glyph advances VADVANCE, a
 * little less than its one-em height, and its position vector is
 * (VORIGIN_X, VORIGIN_Y) = (0, DESCENT): the pen is the bottom-left corner
 * of the glyph box, where poppler, which ignores position vectors, puts
 * it too (see the text-layer protocol in pdf.c). */
#define BK_PDF_FONT_NAME "BunkoGlyphless"
#define BK_PDF_FONT_ADVANCE 1000
#define BK_PDF_FONT_ASCENT 880
#define BK_PDF_FONT_DESCENT (-120)
#define BK_PDF_FONT_VADVANCE (-990)
#define BK_PDF_FONT_VORIGIN_X 0
#define BK_PDF_FONT_VORIGIN_Y BK_PDF_FONT_DESCENT

/* A minimal TrueType font program with two glyphs: 0 (.notdef, a box that
 * is never shown) and 1 (empty, the glyph every CID maps to). Returns a new
 * buffer (caller frees) and its length in *len, or NULL when out of memory. */
unsigned char *bk_pdf_glyphless_font(size_t *len);

/* An ICC version 4.2 display profile for sRGB IEC 61966-2.1, made by
 * lcms2. Returns a new buffer (caller frees) and its length in *len, or
 * NULL when out of memory. */
unsigned char *bk_pdf_srgb_profile(size_t *len);

#endif
