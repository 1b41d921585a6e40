/*
 * ocr/alto.c — the ALTO 4 sidecar (see sidecar.h).
 *
 * One <alto> document per file: bk_alto_begin() writes the Description and
 * opens <Layout>, each bk_alto_page() adds one <Page> (ALTO allows many),
 * bk_alto_end() closes the document. Measurements are pixels of the page
 * model's image (MeasurementUnit "pixel"); WC is the word confidence in
 * 0..1. Vertical blocks and their lines carry BASEDIRECTION="ttb" (ALTO
 * 4.2). An <SP/> goes only between two Latin words: Japanese text has no
 * spaces, and inventing them would break phrase search in consumers.
 */
#include "ocr/sidecar.h"

#include <math.h>

#ifndef BUNKO_VERSION
#define BUNKO_VERSION "0"
#endif

int bk_alto_begin(FILE *fp, const char *source_name)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<alto xmlns=\"http://www.loc.gov/standards/alto/ns-v4#\"\n"
	      "      xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n"
	      "      xsi:schemaLocation=\"http://www.loc.gov/standards/alto/ns-v4# "
	      "http://www.loc.gov/alto/v4/alto-4-2.xsd\">\n"
	      " <Description>\n"
	      "  <MeasurementUnit>pixel</MeasurementUnit>\n"
	      "  <sourceImageInformation>\n   <fileName>", fp);
	bk_xml_escape(fp, source_name);
	fputs("</fileName>\n  </sourceImageInformation>\n"
	      "  <OCRProcessing ID=\"OCR_0\">\n   <ocrProcessingStep>\n"
	      "    <processingSoftware>\n"
	      "     <softwareName>bunko</softwareName>\n"
	      "     <softwareVersion>" BUNKO_VERSION "</softwareVersion>\n"
	      "    </processingSoftware>\n   </ocrProcessingStep>\n"
	      "  </OCRProcessing>\n </Description>\n <Layout>\n", fp);
	return ferror(fp) ? -1 : 0;
}

static void position(FILE *fp, struct bk_box b)
{
	fprintf(fp, " HPOS=\"%d\" VPOS=\"%d\" WIDTH=\"%d\" HEIGHT=\"%d\"", b.x0,
		b.y0, b.x1 > b.x0 ? b.x1 - b.x0 : 0,
		b.y1 > b.y0 ? b.y1 - b.y0 : 0);
}

static double word_confidence(float conf)
{
	if (!(conf >= 0)) /* also NaN */
		return 0;
	return conf > 100 ? 1.0 : conf / 100.0;
}

static void alto_line(FILE *fp, const struct bk_line *line, int page_no,
		      size_t *line_id, size_t *word_id)
{
	fprintf(fp, "     <TextLine ID=\"line_%d_%zu\"", page_no, ++*line_id);
	position(fp, line->box);
	if (line->dir == BK_DIR_VERTICAL)
		fputs(" BASEDIRECTION=\"ttb\"", fp);
	fputs(">\n", fp);
	for (size_t w = 0; w < line->nwords; w++) {
		const struct bk_word *word = &line->words[w];
		if (w && bk_text_needs_space(line->words[w - 1].text, word->text)) {
			const struct bk_box *prev = &line->words[w - 1].box;
			struct bk_box gap = { prev->x1, word->box.y0, word->box.x0,
					      word->box.y1 };
			fputs("      <SP", fp);
			fprintf(fp, " WIDTH=\"%d\" HPOS=\"%d\" VPOS=\"%d\"/>\n",
				gap.x1 > gap.x0 ? gap.x1 - gap.x0 : 0, gap.x0,
				gap.y0);
		}
		fprintf(fp, "      <String ID=\"word_%d_%zu\"", page_no, ++*word_id);
		position(fp, word->box);
		fprintf(fp, " WC=\"%.2f\" CONTENT=\"", word_confidence(word->conf));
		bk_xml_escape(fp, word->text);
		fputs("\"/>\n", fp);
	}
	fputs("     </TextLine>\n", fp);
}

int bk_alto_page(FILE *fp, const struct bk_page *page)
{
	struct bk_box whole = { 0, 0, page->width, page->height };
	size_t line_id = 0, word_id = 0;

	fprintf(fp, "  <Page ID=\"page_%d\" PHYSICAL_IMG_NR=\"%d\" WIDTH=\"%d\" "
		"HEIGHT=\"%d\">\n   <PrintSpace",
		page->number, page->number, page->width, page->height);
	position(fp, whole);
	fputs(">\n", fp);
	for (size_t b = 0; b < page->nblocks; b++) {
		const struct bk_block *block = &page->blocks[b];
		const char *lang = bk_block_language(block);
		fprintf(fp, "    <TextBlock ID=\"block_%d_%zu\"", page->number, b + 1);
		position(fp, block->box);
		if (lang)
			fprintf(fp, " LANG=\"%s\"", lang);
		if (block->dir == BK_DIR_VERTICAL)
			fputs(" BASEDIRECTION=\"ttb\"", fp);
		fputs(">\n", fp);
		for (size_t l = 0; l < block->nlines; l++)
			alto_line(fp, &block->lines[l], page->number, &line_id,
				  &word_id);
		fputs("    </TextBlock>\n", fp);
	}
	fputs("   </PrintSpace>\n  </Page>\n", fp);
	return ferror(fp) ? -1 : 0;
}

int bk_alto_end(FILE *fp)
{
	fputs(" </Layout>\n</alto>\n", fp);
	return ferror(fp) ? -1 : 0;
}
