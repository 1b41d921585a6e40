/*
 * tests/test_core_page.c — the page model (core/page.c): construction,
 * Japanese-aware line text, page text layout and the stored format.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "bunko/page.h"

static struct bk_box box(int x0, int y0, int x1, int y1)
{
	return (struct bk_box){ x0, y0, x1, y1 };
}

static void add(struct bk_line *line, const char *text)
{
	cr_assert_not_null(bk_line_add_word(line, box(0, 0, 10, 10), 90.0f,
					    text, strlen(text)));
}

Test(page, japanese_words_join_without_spaces)
{
	struct bk_page page;
	bk_page_init(&page);
	struct bk_block *b = bk_page_add_block(&page, box(0, 0, 100, 100),
					       BK_DIR_VERTICAL, "jpn_vert");
	struct bk_line *l = bk_block_add_line(b, box(0, 0, 10, 100),
					      BK_DIR_VERTICAL);
	add(l, "千代田");
	add(l, "区");
	add(l, "、");
	add(l, "令和");
	add(l, "7");
	add(l, "年");
	char *t = bk_line_text(l);
	cr_assert_str_eq(t, "千代田区、令和7年");
	free(t);
	bk_page_release(&page);
}

Test(page, latin_words_keep_one_space)
{
	struct bk_page page;
	bk_page_init(&page);
	struct bk_block *b = bk_page_add_block(&page, box(0, 0, 100, 100),
					       BK_DIR_HORIZONTAL, "eng");
	struct bk_line *l = bk_block_add_line(b, box(0, 0, 100, 10),
					      BK_DIR_HORIZONTAL);
	add(l, "Article");
	add(l, "12");
	add(l, "of");
	add(l, "東京都");
	add(l, "Ordinance");
	char *t = bk_line_text(l);
	cr_assert_str_eq(t, "Article 12 of東京都Ordinance");
	free(t);
	cr_assert(bk_text_needs_space("abc", "def"));
	cr_assert_not(bk_text_needs_space("abc", "区"));
	cr_assert_not(bk_text_needs_space("。", "A"));
	bk_page_release(&page);
}

Test(page, whitespace_is_trimmed_and_blank_words_dropped)
{
	struct bk_page page;
	bk_page_init(&page);
	struct bk_block *b = bk_page_add_block(&page, box(0, 0, 1, 1),
					       BK_DIR_HORIZONTAL, "jpn");
	struct bk_line *l = bk_block_add_line(b, box(0, 0, 1, 1), BK_DIR_HORIZONTAL);
	cr_assert_null(bk_line_add_word(l, box(0, 0, 1, 1), 50, "  \n", 3));
	cr_assert_eq(l->nwords, 0);
	struct bk_word *w = bk_line_add_word(l, box(0, 0, 1, 1), 50, " 区 ", 5);
	cr_assert_not_null(w);
	cr_assert_str_eq(w->text, "区");
	cr_assert_eq(bk_page_word_count(&page), 1);
	bk_page_release(&page);
	cr_assert_eq(page.nblocks, 0);
	cr_assert_null(page.blocks);
}

Test(page, page_text_separates_blocks_and_skips_empty_ones)
{
	struct bk_page page;
	bk_page_init(&page);
	struct bk_block *b1 = bk_page_add_block(&page, box(0, 0, 9, 9),
						BK_DIR_HORIZONTAL, "jpn");
	add(bk_block_add_line(b1, box(0, 0, 9, 9), BK_DIR_HORIZONTAL), "見出し");
	bk_page_add_block(&page, box(0, 0, 9, 9), BK_DIR_VERTICAL, "jpn_vert");
	struct bk_block *b3 = bk_page_add_block(&page, box(0, 0, 9, 9),
						BK_DIR_VERTICAL, "jpn_vert");
	add(bk_block_add_line(b3, box(0, 0, 9, 9), BK_DIR_VERTICAL), "一行目");
	add(bk_block_add_line(b3, box(0, 0, 9, 9), BK_DIR_VERTICAL), "二行目");
	char *t = bk_page_text(&page);
	cr_assert_str_eq(t, "見出し\n\n一行目\n二行目\n");
	free(t);
	bk_page_release(&page);

	bk_page_init(&page);
	t = bk_page_text(&page);
	cr_assert_str_eq(t, "");
	free(t);
}

Test(page, stored_format_round_trips)
{
	struct bk_page page, back;
	struct bk_error err;
	char *buf = NULL;
	size_t len = 0;

	bk_page_init(&page);
	page.width = 1748;
	page.height = 2480;
	page.xres = page.yres = 300;
	page.number = 3;
	page.skew = -0.75;
	page.rotation = 180;
	struct bk_block *b = bk_page_add_block(&page, box(10, 20, 300, 400),
					       BK_DIR_VERTICAL, "jpn_vert");
	struct bk_line *l = bk_block_add_line(b, box(10, 20, 50, 400),
					      BK_DIR_VERTICAL);
	cr_assert_not_null(bk_line_add_word(l, box(10, 20, 50, 60), 96.5f,
					    "區", strlen("區")));
	cr_assert_not_null(bk_line_add_word(l, box(10, 60, 50, 100), 12.25f,
					    "a\\b\tc", 5));
	FILE *fp = open_memstream(&buf, &len);
	cr_assert_eq(bk_page_write(&page, fp), 0);
	cr_assert_eq(bk_page_write(&page, fp), 0); /* two pages in one stream */
	fclose(fp);

	fp = fmemopen(buf, len, "r");
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(bk_page_read(&back, fp, "p.page", &err), 0, "%s", err.msg);
		cr_assert_eq(back.width, 1748);
		cr_assert_eq(back.number, 3);
		cr_assert_float_eq(back.skew, -0.75, 1e-6);
		cr_assert_eq(back.rotation, 180);
		cr_assert_eq(back.nblocks, 1);
		cr_assert_eq(back.blocks[0].dir, BK_DIR_VERTICAL);
		cr_assert_str_eq(back.blocks[0].lang, "jpn_vert");
		cr_assert_eq(back.blocks[0].lines[0].nwords, 2);
		cr_assert_str_eq(back.blocks[0].lines[0].words[0].text, "區");
		cr_assert_str_eq(back.blocks[0].lines[0].words[1].text, "a\\b\tc");
		cr_assert_float_eq(back.blocks[0].lines[0].words[1].conf, 12.25, 0.01);
		cr_assert_eq(back.blocks[0].lines[0].words[1].box.y1, 100);
		bk_page_release(&back);
	}
	fclose(fp);
	free(buf);
	bk_page_release(&page);
}

static int read_text(const char *text, struct bk_page *page, struct bk_error *err)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int rc = bk_page_read(page, fp, "bad.page", err);
	fclose(fp);
	return rc;
}

Test(page, malformed_input_is_reported_with_the_file_name)
{
	struct bk_page page;
	struct bk_error err;

	cr_assert_eq(read_text("hello\n", &page, &err), -1);
	cr_assert(strstr(err.msg, "'bad.page'"), "%s", err.msg);
	cr_assert_eq(read_text("bunko-page 1\npage 1 2 3 4 5 0 0\nblock 1 2 x\n",
			       &page, &err), -1);
	cr_assert(strstr(err.msg, "line 3"), "%s", err.msg);
	cr_assert_eq(read_text("bunko-page 1\npage 1 2 3 4 5 0 0\n", &page, &err), -1);
	cr_assert(strstr(err.msg, "ends early"), "%s", err.msg);
	cr_assert_eq(page.nblocks, 0);
}
