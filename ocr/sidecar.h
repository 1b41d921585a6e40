/*
 * ocr/sidecar.h — hOCR and ALTO sidecars, written from page models
 * (bunko/page.h) one page at a time, so a document of any length streams
 * through without being held in memory.
 *
 * Use: *_begin once, which makes the document's writer (struct bk_xml,
 * ocr/xml.h: libxml2), *_page for each page in order, *_end once, which
 * closes the document and frees the writer (*x NULL afterwards; on an error
 * in between, bk_xml_free). The FILE stays the caller's. Each returns 0, or
 * -1 when the stream reports a write error or memory runs out (the caller
 * names the file in its message); each page is flushed to the stream before
 * *_page returns. Output is UTF-8 XML made by libxml2, which escapes text
 * and attribute values; bytes that XML 1.0 forbids (control characters,
 * invalid UTF-8) are replaced by U+FFFD, so the files always parse.
 *
 * hOCR: XHTML with ocr_page / ocr_carea / ocr_line / ocrx_word elements,
 * title attributes "bbox x0 y0 x1 y1; x_wconf N", lang per block, and
 * dir/style hints for vertical blocks.
 * ALTO 4 (http://www.loc.gov/standards/alto/ns-v4#): Page / PrintSpace /
 * TextBlock / TextLine / String with HPOS VPOS WIDTH HEIGHT WC CONTENT;
 * vertical blocks carry BASEDIRECTION="ttb" (ALTO 4.3); SP appears only
 * between two Latin words (Japanese has no spaces); lines without words are
 * left out.
 */
#ifndef BUNKO_OCR_SIDECAR_H
#define BUNKO_OCR_SIDECAR_H

#include <stdio.h>

#include "bunko/page.h"
#include "ocr/xml.h"

/* *x is NULLed on entry and set on success. */
int bk_hocr_begin(struct bk_xml **x, FILE *fp, const char *title);
int bk_hocr_page(struct bk_xml *x, const struct bk_page *page);
int bk_hocr_end(struct bk_xml **x);

int bk_alto_begin(struct bk_xml **x, FILE *fp, const char *source_name);
int bk_alto_page(struct bk_xml *x, const struct bk_page *page);
int bk_alto_end(struct bk_xml **x);

/* Language code of a block for hOCR/ALTO (ISO 639-1 from the Tesseract
 * model name: "jpn", "jpn_vert" -> "ja", "eng" -> "en"; NULL if unknown). */
const char *bk_block_language(const struct bk_block *block);

#endif
