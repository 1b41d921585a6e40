/*
 * ocr/hocr.c — the hOCR sidecar (see sidecar.h) and the XML escaping that
 * the ALTO writer shares.
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
 * lines "textangle 90" (the line box is a column).
 */
#include "ocr/sidecar.h"

#include <math.h>
#include <string.h>
#include <utf8proc.h>

#ifndef BUNKO_VERSION
#define BUNKO_VERSION "0"
#endif

/* Length of the well-formed UTF-8 character at s if XML 1.0 allows it, or
 * 0: no C0 controls but tab, LF and CR; no U+FFFE, U+FFFF. */
static int xml_char_len(const unsigned char *s)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n = utf8proc_iterate(s, -1, &cp);

	if (n <= 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
	    cp == 0xFFFE || cp == 0xFFFF)
		return 0;
	return (int)n;
}

void bk_xml_escape(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		int n = xml_char_len(p);
		if (!n) {
			fputs("\xEF\xBF\xBD", fp); /* U+FFFD */
			p++;
			continue;
		}
		switch (*p) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&apos;", fp); break;
		case '\t': fputs("&#9;", fp); break;
		case '\n': fputs("&#10;", fp); break;
		case '\r': fputs("&#13;", fp); break;
		default: fwrite(p, 1, (size_t)n, fp);
		}
		p += n;
	}
}

const char *bk_block_language(const struct bk_block *block)
{
	if (!strncmp(block->lang, "jpn", 3))
		return "ja";
	if (!strncmp(block->lang, "eng", 3))
		return "en";
	return NULL;
}

int bk_hocr_begin(FILE *fp, const char *title)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
	      "    \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
	      "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"ja\" lang=\"ja\">\n"
	      " <head>\n  <title>", fp);
	bk_xml_escape(fp, title);
	fputs("</title>\n"
	      "  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"/>\n"
	      "  <meta name=\"ocr-system\" content=\"bunko " BUNKO_VERSION "\"/>\n"
	      "  <meta name=\"ocr-capabilities\" content=\"ocr_page ocr_carea "
	      "ocr_line ocrx_word ocrp_lang ocrp_wconf\"/>\n"
	      " </head>\n <body>\n", fp);
	return ferror(fp) ? -1 : 0;
}

static void bbox(FILE *fp, struct bk_box b)
{
	fprintf(fp, "bbox %d %d %d %d", b.x0, b.y0, b.x1, b.y1);
}

static int wconf(float conf)
{
	if (!(conf >= 0)) /* also NaN */
		return 0;
	return conf > 100 ? 100 : (int)lrintf(conf);
}

static void hocr_line(FILE *fp, const struct bk_line *line, int page_no,
		      size_t *line_id, size_t *word_id)
{
	fprintf(fp, "    <span class=\"ocr_line\" id=\"line_%d_%zu\" title=\"",
		page_no, ++*line_id);
	bbox(fp, line->box);
	if (line->dir == BK_DIR_VERTICAL)
		fputs("; textangle 90", fp);
	fputs("\">", fp);
	for (size_t w = 0; w < line->nwords; w++) {
		const struct bk_word *word = &line->words[w];
		if (w && bk_text_needs_space(line->words[w - 1].text, word->text))
			fputc(' ', fp);
		fprintf(fp, "<span class=\"ocrx_word\" id=\"word_%d_%zu\" title=\"",
			page_no, ++*word_id);
		bbox(fp, word->box);
		fprintf(fp, "; x_wconf %d\">", wconf(word->conf));
		bk_xml_escape(fp, word->text);
		fputs("</span>", fp);
	}
	fputs("</span>\n", fp);
}

int bk_hocr_page(FILE *fp, const struct bk_page *page)
{
	size_t line_id = 0, word_id = 0;

	fprintf(fp, "  <div class=\"ocr_page\" id=\"page_%d\" title=\"bbox 0 0 %d %d; "
		"ppageno %d",
		page->number, page->width, page->height,
		page->number > 0 ? page->number - 1 : 0);
	if (page->xres > 0 && page->yres > 0)
		fprintf(fp, "; scan_res %d %d", page->xres, page->yres);
	fputs("\">\n", fp);
	for (size_t b = 0; b < page->nblocks; b++) {
		const struct bk_block *block = &page->blocks[b];
		const char *lang = bk_block_language(block);
		fprintf(fp, "   <div class=\"ocr_carea\" id=\"block_%d_%zu\"",
			page->number, b + 1);
		if (lang)
			fprintf(fp, " lang=\"%s\" xml:lang=\"%s\"", lang, lang);
		if (block->dir == BK_DIR_VERTICAL)
			fputs(" style=\"writing-mode:vertical-rl\"", fp);
		fputs(" title=\"", fp);
		bbox(fp, block->box);
		fputs("\">\n", fp);
		for (size_t l = 0; l < block->nlines; l++)
			hocr_line(fp, &block->lines[l], page->number, &line_id,
				  &word_id);
		fputs("   </div>\n", fp);
	}
	fputs("  </div>\n", fp);
	return ferror(fp) ? -1 : 0;
}

int bk_hocr_end(FILE *fp)
{
	fputs(" </body>\n</html>\n", fp);
	return ferror(fp) ? -1 : 0;
}
