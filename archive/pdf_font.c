/*
 * archive/pdf_font.c — the glyphless TrueType font program behind the
 * invisible text layer: Tesseract's pdf.ttf, which it ships for exactly
 * this, embedded into bunko at build time from the installed Tesseract data
 * (archive/CMakeLists.txt generates pdf_ttf.c from it; nothing is copied
 * into the repository).
 *
 * Why a font at all: PDF text needs a font, and PDF/A needs it embedded. The
 * text is never painted (render mode 3), so the font's shapes do not
 * matter: the PDF maps every CID to glyph 1 and the ToUnicode CMap (in
 * pdf.c) gives the characters back, those outside the Basic Multilingual
 * Plane included (they get CIDs of their own; the program needs no cmap).
 * Vertical metrics live in the PDF's W2, not in the program, which has no
 * vertical tables; glyph 1's horizontal advance (half an em) is what the
 * dictionaries declare (pdf_internal.h). Glyph 0 (.notdef) is empty; no CID
 * maps to it (PDF/A-2 forbids showing .notdef).
 */
#include "archive/pdf_internal.h"

#include <stdlib.h>
#include <string.h>

/* generated from Tesseract's tessdata/pdf.ttf (archive/CMakeLists.txt) */
extern const unsigned char bk_pdf_ttf[];
extern const size_t bk_pdf_ttf_len;

unsigned char *bk_pdf_glyphless_font(size_t *len)
{
	unsigned char *copy = malloc(bk_pdf_ttf_len);

	*len = 0;
	if (!copy)
		return NULL;
	memcpy(copy, bk_pdf_ttf, bk_pdf_ttf_len);
	*len = bk_pdf_ttf_len;
	return copy;
}
