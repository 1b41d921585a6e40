/*
 * ocr/alto.c — the ALTO 4 sidecar (see sidecar.h), written through
 * ocr/xml.h (libxml2).
 *
 * One <alto> document per file: bk_alto_begin() writes the Description and
 * opens <Layout>, each bk_alto_page() adds one <Page> (ALTO allows many),
 * bk_alto_end() closes the document. Measurements are pixels of the page
 * model's image (MeasurementUnit "pixel"); WC is the word confidence in
 * 0..1. Vertical blocks and their lines carry BASEDIRECTION="ttb" (since
 * ALTO 4.3, hence the 4.3 schema location). An <SP/> goes only between two
 * Latin words: Japanese text has no spaces, and inventing them would break
 * phrase search in consumers. A line without words is left out (an ALTO
 * TextLine holds at least one String). The tests validate the output
 * against tests/data/alto/bunko-alto-4.xsd.
 */
#include "ocr/sidecar.h"

#include <math.h>
#include <string.h>

#ifndef BUNKO_VERSION
#define BUNKO_VERSION "0"
#endif

/* A line break and `depth` spaces before the next element. */
static void indent(struct bk_xml *x, int depth)
{
	char s[16] = "\n";
	memset(s + 1, ' ', (size_t)depth);
	bk_xml_text(x, s);
}

int bk_alto_begin(struct bk_xml **out, FILE *fp, const char *source_name)
{
	struct bk_xml *x = bk_xml_new_file(fp);

	*out = NULL;
	if (!x)
		return -1;
	bk_xml_declaration(x);
	bk_xml_start(x, "alto");
	bk_xml_attr(x, "xmlns", "http://www.loc.gov/standards/alto/ns-v4#");
	bk_xml_attr(x, "xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance");
	bk_xml_attr(x, "xsi:schemaLocation",
		    "http://www.loc.gov/standards/alto/ns-v4# "
		    "http://www.loc.gov/standards/alto/v4/alto-4-3.xsd");
	bk_xml_attr(x, "SCHEMAVERSION", "4.3");
	indent(x, 1);
	bk_xml_start(x, "Description");
	indent(x, 2);
	bk_xml_element(x, "MeasurementUnit", "pixel");
	indent(x, 2);
	bk_xml_start(x, "sourceImageInformation");
	indent(x, 3);
	bk_xml_element(x, "fileName", source_name);
	indent(x, 2);
	bk_xml_end(x);
	indent(x, 2);
	bk_xml_start(x, "OCRProcessing");
	bk_xml_attr(x, "ID", "OCR_0");
	indent(x, 3);
	bk_xml_start(x, "ocrProcessingStep");
	indent(x, 4);
	bk_xml_start(x, "processingSoftware");
	indent(x, 5);
	bk_xml_element(x, "softwareName", "bunko");
	indent(x, 5);
	bk_xml_element(x, "softwareVersion", BUNKO_VERSION);
	indent(x, 4);
	bk_xml_end(x); /* processingSoftware */
	indent(x, 3);
	bk_xml_end(x); /* ocrProcessingStep */
	indent(x, 2);
	bk_xml_end(x); /* OCRProcessing */
	indent(x, 1);
	bk_xml_end(x); /* Description */
	indent(x, 1);
	bk_xml_start(x, "Layout");
	if (bk_xml_flush(x)) {
		bk_xml_free(&x);
		return -1;
	}
	*out = x;
	return 0;
}

static void position(struct bk_xml *x, struct bk_box b)
{
	bk_xml_attrf(x, "HPOS", "%d", b.x0);
	bk_xml_attrf(x, "VPOS", "%d", b.y0);
	bk_xml_attrf(x, "WIDTH", "%d", b.x1 > b.x0 ? b.x1 - b.x0 : 0);
	bk_xml_attrf(x, "HEIGHT", "%d", b.y1 > b.y0 ? b.y1 - b.y0 : 0);
}

static double word_confidence(float conf)
{
	if (!(conf >= 0)) /* also NaN */
		return 0;
	return conf > 100 ? 1.0 : conf / 100.0;
}

static void alto_line(struct bk_xml *x, const struct bk_line *line, int page_no,
		      size_t *line_id, size_t *word_id)
{
	if (!line->nwords)
		return; /* ALTO: a TextLine holds at least one String */
	indent(x, 5);
	bk_xml_start(x, "TextLine");
	bk_xml_attrf(x, "ID", "line_%d_%zu", page_no, ++*line_id);
	position(x, line->box);
	if (line->dir == BK_DIR_VERTICAL)
		bk_xml_attr(x, "BASEDIRECTION", "ttb");
	for (size_t w = 0; w < line->nwords; w++) {
		const struct bk_word *word = &line->words[w];
		if (w && bk_text_needs_space(line->words[w - 1].text, word->text)) {
			const struct bk_box *prev = &line->words[w - 1].box;
			int x0 = prev->x1, x1 = word->box.x0;
			indent(x, 6);
			bk_xml_start(x, "SP");
			bk_xml_attrf(x, "WIDTH", "%d", x1 > x0 ? x1 - x0 : 0);
			bk_xml_attrf(x, "HPOS", "%d", x0);
			bk_xml_attrf(x, "VPOS", "%d", word->box.y0);
			bk_xml_end(x);
		}
		indent(x, 6);
		bk_xml_start(x, "String");
		bk_xml_attrf(x, "ID", "word_%d_%zu", page_no, ++*word_id);
		position(x, word->box);
		bk_xml_attrf(x, "WC", "%.2f", word_confidence(word->conf));
		bk_xml_attr(x, "CONTENT", word->text);
		bk_xml_end(x);
	}
	indent(x, 5);
	bk_xml_end(x); /* TextLine */
}

int bk_alto_page(struct bk_xml *x, const struct bk_page *page)
{
	struct bk_box whole = { 0, 0, page->width, page->height };
	size_t line_id = 0, word_id = 0;

	indent(x, 2);
	bk_xml_start(x, "Page");
	bk_xml_attrf(x, "ID", "page_%d", page->number);
	bk_xml_attrf(x, "PHYSICAL_IMG_NR", "%d", page->number);
	bk_xml_attrf(x, "WIDTH", "%d", page->width);
	bk_xml_attrf(x, "HEIGHT", "%d", page->height);
	indent(x, 3);
	bk_xml_start(x, "PrintSpace");
	position(x, whole);
	for (size_t b = 0; b < page->nblocks; b++) {
		const struct bk_block *block = &page->blocks[b];
		const char *lang = bk_block_language(block);
		indent(x, 4);
		bk_xml_start(x, "TextBlock");
		bk_xml_attrf(x, "ID", "block_%d_%zu", page->number, b + 1);
		position(x, block->box);
		if (lang)
			bk_xml_attr(x, "LANG", lang);
		if (block->dir == BK_DIR_VERTICAL)
			bk_xml_attr(x, "BASEDIRECTION", "ttb");
		for (size_t l = 0; l < block->nlines; l++)
			alto_line(x, &block->lines[l], page->number, &line_id,
				  &word_id);
		indent(x, 4);
		bk_xml_end(x); /* TextBlock */
	}
	indent(x, 3);
	bk_xml_end(x); /* PrintSpace */
	indent(x, 2);
	bk_xml_end(x); /* Page */
	return bk_xml_flush(x);
}

int bk_alto_end(struct bk_xml **x)
{
	if (!*x)
		return -1;
	indent(*x, 1);
	bk_xml_end(*x); /* Layout */
	bk_xml_text(*x, "\n");
	bk_xml_end(*x); /* alto */
	bk_xml_text(*x, "\n");
	return bk_xml_finish(x);
}
