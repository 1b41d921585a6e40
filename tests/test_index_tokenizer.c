/*
 * tests/test_index_tokenizer.c — bunko's tokenizer on its own: NFKC and
 * case folding, old-kanji folding from the embedded NDL table, white space
 * between Japanese characters, bigrams with the run's trailing unigram, and
 * offsets that point into the original text.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/tokenizer.h"
#include "index/variants.h"

struct collected {
	char text[4096];   /* tokens joined by '|', prefix tokens end in '*' */
	char orig[4096];   /* the original bytes each token covers, '|'-joined */
	const char *src;
	int n;
};

static int collect(const struct bk_token *tok, void *ud)
{
	struct collected *c = ud;
	size_t tl = strlen(c->text), ol = strlen(c->orig);
	snprintf(c->text + tl, sizeof(c->text) - tl, "%s%.*s%s", c->n ? "|" : "", tok->len,
		 tok->text, tok->prefix ? "*" : "");
	snprintf(c->orig + ol, sizeof(c->orig) - ol, "%s%.*s", c->n ? "|" : "",
		 tok->end - tok->start, c->src + tok->start);
	c->n++;
	return 0;
}

static struct collected tokens(const char *s, enum bk_tok_mode mode)
{
	struct collected c = { .src = s };
	cr_assert_eq(bk_tokenize(s, strlen(s), mode, collect, &c), 0);
	return c;
}

Test(tokenizer, bigrams_with_trailing_unigram)
{
	struct collected c = tokens("予算案", BK_TOK_DOCUMENT);
	cr_assert_str_eq(c.text, "予算|算案|案");
	c = tokens("区", BK_TOK_DOCUMENT);
	cr_assert_str_eq(c.text, "区");
}

Test(tokenizer, query_mode_drops_last_unigram_and_prefixes_lone_char)
{
	cr_assert_str_eq(tokens("予算案", BK_TOK_QUERY).text, "予算|算案");
	cr_assert_str_eq(tokens("案", BK_TOK_QUERY).text, "案*");
	/* a run that is not last keeps its unigram, so positions line up */
	cr_assert_str_eq(tokens("予算7", BK_TOK_QUERY).text, "予算|算|7");
	cr_assert_str_eq(tokens("予算7", BK_TOK_DOCUMENT).text, "予算|算|7");
}

Test(tokenizer, nfkc_width_and_case_folding)
{
	cr_assert_str_eq(tokens("ｱｲ", BK_TOK_DOCUMENT).text, "アイ|イ");
	cr_assert_str_eq(tokens("ＡＢＣ", BK_TOK_DOCUMENT).text, "abc");
	cr_assert_str_eq(tokens("Tokyo ＬＡＮ １２３", BK_TOK_DOCUMENT).text, "tokyo|lan|123");
	/* half-width voiced mark composes with its base */
	cr_assert_str_eq(tokens("ｶﾞｽ", BK_TOK_DOCUMENT).text, "ガス|ス");
	/* a combining mark after a kana composes too */
	cr_assert_str_eq(tokens("か\xe3\x82\x99き", BK_TOK_DOCUMENT).text, "がき|き");
}

Test(tokenizer, old_kanji_fold_to_modern)
{
	cr_assert_str_eq(tokens("國", BK_TOK_DOCUMENT).text, "国");
	cr_assert_str_eq(tokens("東京市區會", BK_TOK_DOCUMENT).text, "東京|京市|市区|区会|会");
	cr_assert_eq(bk_kanji_fold(0x570B), 0x56FD); /* 國 → 国 */
	cr_assert_eq(bk_kanji_fold(0x56FD), 0x56FD); /* modern stays */
	cr_assert_eq(bk_kanji_fold('a'), 'a');
	/* chains in the table are resolved: 龝 → 穐 → 秋 */
	cr_assert_eq(bk_kanji_fold(0x9F9D), 0x79CB);
}

Test(tokenizer, space_between_japanese_is_ignored)
{
	cr_assert_str_eq(tokens("予 算", BK_TOK_DOCUMENT).text, "予算|算");
	cr_assert_str_eq(tokens("予\n算\u3000案", BK_TOK_DOCUMENT).text, "予算|算案|案");
	/* but punctuation and Latin words break a run */
	cr_assert_str_eq(tokens("予算、決算", BK_TOK_DOCUMENT).text, "予算|算|決算|算");
	cr_assert_str_eq(tokens("全庁LANの保守", BK_TOK_DOCUMENT).text, "全庁|庁|lan|の保|保守|守");
}

Test(tokenizer, offsets_point_at_original_text)
{
	struct collected c = tokens("ｱｲ國 ＡＢＣ 予 算", BK_TOK_DOCUMENT);
	cr_assert_str_eq(c.text, "アイ|イ国|国|abc|予算|算");
	cr_assert_str_eq(c.orig, "ｱｲ|ｲ國|國|ＡＢＣ|予 算|算");
	/* one source character expanding to two (㍻ → 平成) */
	c = tokens("㍻元年", BK_TOK_DOCUMENT);
	cr_assert_str_eq(c.text, "平成|成元|元年|年");
	cr_assert_str_eq(c.orig, "㍻|㍻元|元年|年");
}

Test(tokenizer, invalid_utf8_and_long_words_are_safe)
{
	char bad[] = "予\xff算 abc\xc3";
	struct collected c = tokens(bad, BK_TOK_DOCUMENT);
	cr_assert_str_eq(c.text, "予|算|abc");
	char longword[600];
	memset(longword, 'a', sizeof(longword) - 1);
	longword[sizeof(longword) - 1] = '\0';
	c = tokens(longword, BK_TOK_DOCUMENT);
	cr_assert_eq(c.n, 1);
	cr_assert_eq(strlen(c.text), BK_TOKEN_MAX);
	cr_assert_eq(strlen(c.orig), sizeof(longword) - 1);
}

Test(tokenizer, index_mode_adds_every_unigram)
{
	struct collected c = tokens("予算案", BK_TOK_INDEX);
	cr_assert_str_eq(c.text, "予算|予|算案|算|案");
	cr_assert_str_eq(tokens("予算7", BK_TOK_INDEX).text, "予算|予|算|7");
	c = tokens("國 會", BK_TOK_INDEX);
	cr_assert_str_eq(c.text, "国会|国|会");
	cr_assert_str_eq(c.orig, "國 會|國|會");
	/* combining marks (and U+FF9E, which decomposes to one) join the character before */
	cr_assert(bk_joins_previous(0x3099));
	cr_assert(bk_joins_previous(0xff9e));
	cr_assert_not(bk_joins_previous(0x4e00));
	cr_assert_not(bk_joins_previous(' '));
}
