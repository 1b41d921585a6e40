/*
 * core/page.c — the page model (see page.h): construction, reading-order text
 * with Japanese-aware spacing, the stored text format, and the one UTF-8
 * decoder the writers share (bk_utf8_next, on utf8proc).
 */
#include "bunko/page.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bunko/buf.h"

void bk_page_init(struct bk_page *page)
{
	memset(page, 0, sizeof(*page));
}

void bk_page_truncate(struct bk_page *page, size_t nblocks)
{
	if (!page)
		return;
	for (size_t b = nblocks; b < page->nblocks; b++) {
		struct bk_block *block = &page->blocks[b];
		for (size_t l = 0; l < block->nlines; l++) {
			struct bk_line *line = &block->lines[l];
			for (size_t w = 0; w < line->nwords; w++)
				free(line->words[w].text);
			free(line->words);
		}
		free(block->lines);
	}
	if (nblocks < page->nblocks)
		page->nblocks = nblocks;
}

void bk_page_release(struct bk_page *page)
{
	if (!page)
		return;
	bk_page_truncate(page, 0);
	free(page->blocks);
	bk_page_init(page);
}

/* Grows *items to hold one more element of `size` bytes. */
static int grow(void **items, size_t *alloc, size_t count, size_t size)
{
	if (count < *alloc)
		return 0;
	size_t n = *alloc ? *alloc * 2 : 8;
	void *p = realloc(*items, n * size);
	if (!p)
		return -1;
	*items = p;
	*alloc = n;
	return 0;
}

struct bk_block *bk_page_add_block(struct bk_page *page, struct bk_box box,
				   enum bk_dir dir, const char *lang)
{
	if (grow((void **)&page->blocks, &page->alloc, page->nblocks,
		 sizeof(*page->blocks)))
		return NULL;
	struct bk_block *block = &page->blocks[page->nblocks++];
	memset(block, 0, sizeof(*block));
	block->box = box;
	block->dir = dir;
	snprintf(block->lang, sizeof(block->lang), "%s", lang ? lang : "");
	return block;
}

struct bk_line *bk_block_add_line(struct bk_block *block, struct bk_box box,
				  enum bk_dir dir)
{
	if (grow((void **)&block->lines, &block->alloc, block->nlines,
		 sizeof(*block->lines)))
		return NULL;
	struct bk_line *line = &block->lines[block->nlines++];
	memset(line, 0, sizeof(*line));
	line->box = box;
	line->dir = dir;
	return line;
}

struct bk_word *bk_line_add_word(struct bk_line *line, struct bk_box box,
				 float conf, const char *text, size_t len)
{
	while (len && isspace((unsigned char)*text)) {
		text++;
		len--;
	}
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	if (!len)
		return line->nwords ? &line->words[line->nwords - 1] : NULL;
	if (grow((void **)&line->words, &line->alloc, line->nwords,
		 sizeof(*line->words)))
		return NULL;
	char *copy = malloc(len + 1);
	if (!copy)
		return NULL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	struct bk_word *word = &line->words[line->nwords++];
	word->box = box;
	word->conf = conf;
	word->text = copy;
	return word;
}

bool bk_codepoint_is_cjk(unsigned cp)
{
	return (cp >= 0x2E80 && cp <= 0x2FDF) ||   /* radicals */
	       (cp >= 0x3000 && cp <= 0x30FF) ||   /* punctuation, kana */
	       (cp >= 0x3190 && cp <= 0x31FF) ||   /* kanbun, kana ext. */
	       (cp >= 0x3200 && cp <= 0x33FF) ||   /* enclosed, compat. */
	       (cp >= 0x3400 && cp <= 0x4DBF) ||   /* ext. A */
	       (cp >= 0x4E00 && cp <= 0x9FFF) ||   /* unified ideographs */
	       (cp >= 0xF900 && cp <= 0xFAFF) ||   /* compat. ideographs */
	       (cp >= 0xFE30 && cp <= 0xFE4F) ||   /* CJK compat. forms */
	       (cp >= 0xFF00 && cp <= 0xFFEF) ||   /* full/half width */
	       (cp >= 0x20000 && cp <= 0x3FFFF);   /* ext. B and beyond */
}

static unsigned first_codepoint(const char *s)
{
	return *s ? bk_utf8_next(&s) : 0;
}

static unsigned last_codepoint(const char *s)
{
	size_t len = strlen(s);
	if (!len)
		return 0;
	size_t i = len - 1;
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	s += i;
	return bk_utf8_next(&s);
}

bool bk_text_needs_space(const char *prev_word, const char *next_word)
{
	unsigned a = last_codepoint(prev_word);
	unsigned b = first_codepoint(next_word);
	return a && b && !bk_codepoint_is_cjk(a) && !bk_codepoint_is_cjk(b);
}

/* Appends a line's words, writing each word's byte offset in sb to
 * *starts (advanced) when starts is not NULL. */
static void add_line_text(struct bk_buf *sb, const struct bk_line *line, size_t **starts)
{
	for (size_t w = 0; w < line->nwords; w++) {
		const char *t = line->words[w].text;
		if (w && bk_text_needs_space(line->words[w - 1].text, t))
			bk_buf_addstr(sb, " ");
		if (starts)
			*(*starts)++ = sb->len;
		bk_buf_addstr(sb, t);
	}
}

char *bk_line_text(const struct bk_line *line)
{
	struct bk_buf sb = { 0 };
	add_line_text(&sb, line, NULL);
	return bk_buf_detach(&sb, NULL);
}

char *bk_page_text_at(const struct bk_page *page, size_t *word_starts)
{
	struct bk_buf sb = { 0 };
	bool first_block = true;
	size_t *at = word_starts;

	for (size_t b = 0; b < page->nblocks; b++) {
		const struct bk_block *block = &page->blocks[b];
		bool any = false;
		for (size_t l = 0; l < block->nlines; l++)
			any |= block->lines[l].nwords > 0;
		if (!any)
			continue;
		if (!first_block)
			bk_buf_addstr(&sb, "\n");
		first_block = false;
		for (size_t l = 0; l < block->nlines; l++) {
			if (!block->lines[l].nwords)
				continue;
			add_line_text(&sb, &block->lines[l], at ? &at : NULL);
			bk_buf_addstr(&sb, "\n");
		}
	}
	return bk_buf_detach(&sb, NULL);
}

char *bk_page_text(const struct bk_page *page)
{
	return bk_page_text_at(page, NULL);
}

size_t bk_page_word_count(const struct bk_page *page)
{
	size_t n = 0;
	for (size_t b = 0; b < page->nblocks; b++)
		for (size_t l = 0; l < page->blocks[b].nlines; l++)
			n += page->blocks[b].lines[l].nwords;
	return n;
}

/* ---- stored format ---------------------------------------------------- */

/* The page format's own escaping of a word's text (\\, \t, \n, so that
 * a word stays one field of one line), not JSON or XML: see page.h. */
static void write_escaped(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\': fputs("\\\\", fp); break;
		case '\t': fputs("\\t", fp); break;
		case '\n': fputs("\\n", fp); break;
		default: fputc(*s, fp);
		}
	}
}

static void unescape(char *s)
{
	char *out = s;
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*out++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

int bk_page_write(const struct bk_page *page, FILE *fp)
{
	fprintf(fp, "bunko-page 1\npage %d %d %d %d %d %.3f %d\n", page->width,
		page->height, page->xres, page->yres, page->number, page->skew,
		page->rotation);
	for (size_t b = 0; b < page->nblocks; b++) {
		const struct bk_block *bl = &page->blocks[b];
		fprintf(fp, "block %d %d %d %d %c %s\n", bl->box.x0, bl->box.y0,
			bl->box.x1, bl->box.y1,
			bl->dir == BK_DIR_VERTICAL ? 'v' : 'h',
			bl->lang[0] ? bl->lang : "-");
		for (size_t l = 0; l < bl->nlines; l++) {
			const struct bk_line *li = &bl->lines[l];
			fprintf(fp, "line %d %d %d %d %c\n", li->box.x0,
				li->box.y0, li->box.x1, li->box.y1,
				li->dir == BK_DIR_VERTICAL ? 'v' : 'h');
			for (size_t w = 0; w < li->nwords; w++) {
				const struct bk_word *wo = &li->words[w];
				fprintf(fp, "word %d %d %d %d %.2f ", wo->box.x0,
					wo->box.y0, wo->box.x1, wo->box.y1,
					wo->conf);
				write_escaped(fp, wo->text);
				fputc('\n', fp);
			}
		}
	}
	fputs("end\n", fp);
	return ferror(fp) ? -1 : 0;
}

int bk_page_read(struct bk_page *page, FILE *fp, const char *name,
		 struct bk_error *err)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rc = -1;
	bool seen_header = false, seen_page = false;
	struct bk_block *block = NULL;
	struct bk_line *line = NULL;

	bk_page_init(page);
	while ((n = getline(&buf, &cap, fp)) >= 0) {
		lineno++;
		if (n && buf[n - 1] == '\n')
			buf[--n] = '\0';
		struct bk_box box;
		char dir, lang[16];
		int off = 0;
		float conf;

		if (!seen_header) {
			if (strcmp(buf, "bunko-page 1") != 0) {
				bk_error_set(err, "'%s' line %ld: not a bunko page model",
					     name, lineno);
				goto out;
			}
			seen_header = true;
		} else if (!strncmp(buf, "page ", 5)) {
			if (sscanf(buf, "page %d %d %d %d %d %lf %d", &page->width,
				   &page->height, &page->xres, &page->yres,
				   &page->number, &page->skew,
				   &page->rotation) != 7)
				goto bad;
			seen_page = true;
		} else if (!strncmp(buf, "block ", 6) && seen_page) {
			if (sscanf(buf, "block %d %d %d %d %c %15s", &box.x0,
				   &box.y0, &box.x1, &box.y1, &dir, lang) != 6)
				goto bad;
			block = bk_page_add_block(page, box,
						  dir == 'v' ? BK_DIR_VERTICAL : BK_DIR_HORIZONTAL,
						  strcmp(lang, "-") ? lang : "");
			if (!block)
				goto nomem;
			line = NULL;
		} else if (!strncmp(buf, "line ", 5) && block) {
			if (sscanf(buf, "line %d %d %d %d %c", &box.x0, &box.y0,
				   &box.x1, &box.y1, &dir) != 5)
				goto bad;
			line = bk_block_add_line(block, box,
						 dir == 'v' ? BK_DIR_VERTICAL : BK_DIR_HORIZONTAL);
			if (!line)
				goto nomem;
		} else if (!strncmp(buf, "word ", 5) && line) {
			if (sscanf(buf, "word %d %d %d %d %f %n", &box.x0, &box.y0,
				   &box.x1, &box.y1, &conf, &off) != 5 || !off)
				goto bad;
			unescape(buf + off);
			size_t before = line->nwords;
			if (!bk_line_add_word(line, box, conf, buf + off,
					      strlen(buf + off)) &&
			    before == line->nwords && buf[off])
				goto nomem;
		} else if (!strcmp(buf, "end") && seen_page) {
			rc = 0;
			goto out;
		} else {
			goto bad;
		}
	}
	bk_error_set(err, "'%s': page model ends early (line %ld)", name, lineno);
	goto out;
bad:
	bk_error_set(err, "'%s' line %ld: malformed page model line", name, lineno);
	goto out;
nomem:
	bk_error_set(err, "'%s': out of memory reading page model", name);
out:
	free(buf);
	if (rc)
		bk_page_release(page);
	return rc;
}
