/*
 * tests/test_index_query.c — the query language compiles to FTS5 syntax
 * built only from tokens: operators, phrases, errors with messages, and
 * input that tries to smuggle FTS5 syntax in.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "index/query.h"

static char *compile_ok(const char *q)
{
	struct bk_error err;
	char *out = NULL;
	bk_error_init(&err);
	cr_assert_eq(bk_query_compile(q, &out, &err), 0, "query '%s': %s", q, err.msg);
	return out;
}

static void compile_err(const char *q, const char *expect)
{
	struct bk_error err;
	char *out = NULL;
	bk_error_init(&err);
	cr_assert_eq(bk_query_compile(q, &out, &err), -1, "query '%s' compiled to %s", q,
		     out ? out : "");
	cr_assert_null(out);
	cr_assert(strstr(err.msg, expect), "query '%s': message '%s' lacks '%s'", q, err.msg,
		  expect);
}

Test(query, japanese_term_is_bigram_phrase)
{
	char *s = compile_ok("予算案");
	cr_assert_str_eq(s, "(\"予算\" + \"算案\")");
	free(s);
	s = compile_ok("案");
	cr_assert_str_eq(s, "(\"案\"*)");
	free(s);
	s = compile_ok("國會");
	cr_assert_str_eq(s, "(\"国会\")");
	free(s);
}

Test(query, and_or_not_phrase)
{
	char *s = compile_ok("予算 決算 OR 補正 -\"防災 意識\" -lan");
	cr_assert_str_eq(s, "(\"予算\" AND (\"決算\" OR \"補正\")) NOT \"防災\" + \"災意\" + \"意識\""
			    " NOT \"lan\"");
	free(s);
	s = compile_ok("\"Tokyo Ward\"");
	cr_assert_str_eq(s, "(\"tokyo\" + \"ward\")");
	free(s);
	s = compile_ok("or and not");
	cr_assert_str_eq(s, "(\"or\" AND \"and\" AND \"not\")");
	free(s);
}

Test(query, spaced_single_characters_join)
{
	char *s = compile_ok("予 算");
	cr_assert_str_eq(s, "(\"予算\")");
	free(s);
	s = compile_ok("予算 決算");
	cr_assert_str_eq(s, "(\"予算\" AND \"決算\")");
	free(s);
}

Test(query, errors_have_messages)
{
	compile_err("\"予算", "unbalanced quote in query '\"予算'");
	compile_err("予算 \"決算\" \"", "unbalanced quote");
	compile_err("-予算", "only excluded terms");
	compile_err("-予算 -決算", "only excluded terms");
	compile_err("OR 予算", "'OR' needs a term on each side");
	compile_err("予算 OR", "'OR' needs a term on each side");
	compile_err("予算 OR OR 決算", "'OR' needs a term");
	compile_err("-予算 OR 決算", "excluded term");
	compile_err("", "empty query");
	compile_err("、。* ; ()", "no searchable words");
}

Test(query, fts5_syntax_in_input_is_plain_text)
{
	const char *attempts[] = {
		"text:予算", "NEAR(予算 決算)", "予算*", "^予算", "予算\"; DROP TABLE doc; --\"",
		"a\"\"b\"", "{text}: x", "予算 AND 決算", "x NOT y", "col:\"x\"",
	};
	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		struct bk_error err;
		char *out = NULL;
		bk_error_init(&err);
		if (bk_query_compile(attempts[i], &out, &err))
			continue; /* a clean error is fine too */
		/* every quoted string is one token: letters, digits or kana/kanji */
		for (const char *p = out; *p; p++) {
			if (*p != '"')
				continue;
			const char *end = strchr(p + 1, '"');
			cr_assert_not_null(end, "unbalanced output %s", out);
			for (const char *q = p + 1; q < end; q++)
				cr_assert(!strchr(":*^(){};-\" ", *q), "'%s' → %s", attempts[i], out);
			p = end;
		}
		cr_assert_null(strstr(out, "NEAR"), "'%s' → %s", attempts[i], out);
		free(out);
	}
}

Test(query, candidate_form_for_the_position_free_index)
{
	struct bk_query q;
	struct bk_error err;
	bk_error_init(&err);
	cr_assert_eq(bk_query_parse("予算 決算 OR 補正 -\"防災 意識\" -lan", &q, &err), 0, "%s", err.msg);
	cr_assert_eq(q.ngroups, 2);
	cr_assert_eq(q.groups[1].nalt, 2);
	cr_assert_eq(q.nexcluded, 2);
	cr_assert_eq(q.excluded[0].ntok, 3);
	char *s = bk_query_fts5(&q, BK_QUERY_TERMS);
	/* the three-token exclusion is left to the text check */
	cr_assert_str_eq(s, "(\"予算\" AND (\"決算\" OR \"補正\")) NOT \"lan\"");
	free(s);
	bk_query_release(&q);
	cr_assert_eq(bk_query_parse("予算案 lan 案", &q, &err), 0, "%s", err.msg);
	s = bk_query_fts5(&q, BK_QUERY_TERMS);
	/* a phrase is the AND of its trigrams (marked, see tokenizer.h) and
	 * of the tokens no trigram holds; a lone character is the plain
	 * unigram */
	cr_assert_str_eq(s, "((\"\x02予算案\") AND \"lan\" AND \"案\")");
	free(s);
	bk_query_release(&q);
	cr_assert_eq(bk_query_parse("\"予算案の審議\" \"予算 lan\"", &q, &err), 0, "%s", err.msg);
	s = bk_query_fts5(&q, BK_QUERY_TERMS);
	cr_assert_str_eq(s, "((\"\x02予算案\" AND \"\x02算案の\" AND \"\x02案の審\" AND \"\x02の審議\") AND "
			    "(\"予算\" AND \"算\" AND \"lan\"))");
	free(s);
	bk_query_release(&q);
	/* errors release what was parsed and say why */
	cr_assert_eq(bk_query_parse("-予算", &q, &err), -1);
	cr_assert(strstr(err.msg, "only excluded terms"), "%s", err.msg);
	cr_assert_eq(q.ngroups, 0);
}
