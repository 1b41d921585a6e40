/*
 * ocr/hocr.c — the hOCR sidecar (see sidecar.h), written through ocr/xml.h
 * (libxml2), and the block language that the ALTO writer shares.
 *
 * Layout of the file, one ocr_page per bk_hocr_page() call:
 *   <div class="ocr_page" title="bbox 0 0 W H; ppageno N-1; scan_res X Y">
 *    <div class="ocr_carea" lang="ja" title="bbox ...">   one per block
 *     <span class="ocr_line" title="bbox ...">            one per line
 *      <span class="ocrx_word" title="bbox ...; x_wconf C">text</span>
 * Words of a line are written without whitespace between them unless the
 * page model puts a space there (two Latin words), so a consumer that takes
 * the element text gets 東京都 for Japanese and "Tokyo Metropolis" for
 * English. Vertical blocks carry style="writing-mode:vertical-rl" and their
 * lines "textangle 90" (the line box is a column). Elements are always
 * closed with an end tag (never <span/>), so HTML readers parse it too.
 */
#include "ocr/sidecar.h"

#include <math.h>
#include <string.h>

#ifndef BUNKO_VERSION
#define BUNKO_VERSION "0"
#endif

const char *bk_block_language(const struct bk_block *block)
{
	if (!strncmp(block->lang, "jpn", 3))
		return "ja";
	if (!strncmp(block->lang, "eng", 3))
		return "en";
	return NULL;
}

static void meta(struct bk_xml *x, const char *key, const char *name,
		 const char *content)
{
	bk_xml_text(x, "\n  ");
	bk_xml_start(x, "meta");
	bk_xml_attr(x, key, name);
	bk_xml_attr(x, "content", content);
	bk_xml_end(x);
}

int bk_hocr_begin(struct bk_xml **out, FILE *fp, const char *title)
{
	struct bk_xml *x = bk_xml_new_file(fp);

	*out = NULL;
	if (!x)
		return -1;
	bk_xml_declaration(x);
	bk_xml_doctype(x, "html", "-//W3C//DTD XHTML 1.0 Transitional//EN",
		       "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd");
	bk_xml_text(x, "\n");
	bk_xml_start(x, "html");
	bk_xml_attr(x, "xmlns", "http://www.w3.org/1999/xhtml");
	bk_xml_attr(x, "xml:lang", "ja");
	bk_xml_attr(x, "lang", "ja");
	bk_xml_text(x, "\n ");
	bk_xml_start(x, "head");
	bk_xml_text(x, "\n  ");
	bk_xml_start(x, "title");
	bk_xml_text(x, title);
	bk_xml_end_full(x);
	meta(x, "http-equiv", "Content-Type", "text/html; charset=utf-8");
	meta(x, "name", "ocr-system", "bunko " BUNKO_VERSION);
	meta(x, "name", "ocr-capabilities",
	     "ocr_page ocr_carea ocr_line ocrx_word ocrp_lang ocrp_wconf");
	bk_xml_text(x, "\n ");
	bk_xml_end(x); /* head */
	bk_xml_text(x, "\n ");
	bk_xml_start(x, "body");
	bk_xml_text(x, "\n");
	if (bk_xml_flush(x)) {
		bk_xml_free(&x);
		return -1;
	}
	*out = x;
	return 0;
}

static void bbox_attr(struct bk_xml *x, struct bk_box b, const char *more)
{
	bk_xml_attrf(x, "title", "bbox %d %d %d %d%s", b.x0, b.y0, b.x1, b.y1,
		     more);
}

static int wconf(float conf)
{
	if (!(conf >= 0)) /* also NaN */
		return 0;
	return conf > 100 ? 100 : (int)lrintf(conf);
}

static void hocr_line(struct bk_xml *x, const struct bk_line *line, int page_no,
		      size_t *line_id, size_t *word_id)
{
	char more[32];

	bk_xml_text(x, "    ");
	bk_xml_start(x, "span");
	bk_xml_attr(x, "class", "ocr_line");
	bk_xml_attrf(x, "id", "line_%d_%zu", page_no, ++*line_id);
	bbox_attr(x, line->box, line->dir == BK_DIR_VERTICAL ? "; textangle 90" : "");
	for (size_t w = 0; w < line->nwords; w++) {
		const struct bk_word *word = &line->words[w];
		if (w && bk_text_needs_space(line->words[w - 1].text, word->text))
			bk_xml_text(x, " ");
		bk_xml_start(x, "span");
		bk_xml_attr(x, "class", "ocrx_word");
		bk_xml_attrf(x, "id", "word_%d_%zu", page_no, ++*word_id);
		snprintf(more, sizeof(more), "; x_wconf %d", wconf(word->conf));
		bbox_attr(x, word->box, more);
		bk_xml_text(x, word->text);
		bk_xml_end_full(x);
	}
	bk_xml_end_full(x);
	bk_xml_text(x, "\n");
}

int bk_hocr_page(struct bk_xml *x, const struct bk_page *page)
{
	size_t line_id = 0, word_id = 0;
	char title[96];
	int n;

	n = snprintf(title, sizeof(title), "bbox 0 0 %d %d; ppageno %d",
		     page->width, page->height, page->number > 0 ? page->number - 1 : 0);
	if (page->xres > 0 && page->yres > 0)
		snprintf(title + n, sizeof(title) - (size_t)n, "; scan_res %d %d",
			 page->xres, page->yres);
	bk_xml_text(x, "  ");
	bk_xml_start(x, "div");
	bk_xml_attr(x, "class", "ocr_page");
	bk_xml_attrf(x, "id", "page_%d", page->number);
	bk_xml_attr(x, "title", title);
	bk_xml_text(x, "\n");
	for (size_t b = 0; b < page->nblocks; b++) {
		const struct bk_block *block = &page->blocks[b];
		const char *lang = bk_block_language(block);
		bk_xml_text(x, "   ");
		bk_xml_start(x, "div");
		bk_xml_attr(x, "class", "ocr_carea");
		bk_xml_attrf(x, "id", "block_%d_%zu", page->number, b + 1);
		if (lang) {
			bk_xml_attr(x, "lang", lang);
			bk_xml_attr(x, "xml:lang", lang);
		}
		if (block->dir == BK_DIR_VERTICAL)
			bk_xml_attr(x, "style", "writing-mode:vertical-rl");
		bbox_attr(x, block->box, "");
		bk_xml_text(x, "\n");
		for (size_t l = 0; l < block->nlines; l++)
			hocr_line(x, &block->lines[l], page->number, &line_id,
				  &word_id);
		bk_xml_text(x, "   ");
		bk_xml_end_full(x);
		bk_xml_text(x, "\n");
	}
	bk_xml_text(x, "  ");
	bk_xml_end_full(x);
	bk_xml_text(x, "\n");
	return bk_xml_flush(x);
}

int bk_hocr_end(struct bk_xml **x)
{
	if (!*x)
		return -1;
	bk_xml_text(*x, " ");
	bk_xml_end_full(*x); /* body */
	bk_xml_text(*x, "\n");
	bk_xml_end_full(*x); /* html */
	bk_xml_text(*x, "\n");
	return bk_xml_finish(x);
}
