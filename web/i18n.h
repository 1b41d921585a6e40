/*
 * web/i18n.h — the site's words in Japanese and English: one message
 * table (web/i18n.c), so every label of a page comes from one place and
 * a page is all in one language.
 *
 * The language of a request: `?lang=en` or `?lang=ja` chooses (and the
 * site remembers it in the bunko_lang cookie), else the cookie, else
 * Japanese. Messages are UTF-8 text, not HTML; "{}" in one marks where
 * bk_msg_html puts its argument.
 */
#ifndef BUNKO_WEB_I18N_H
#define BUNKO_WEB_I18N_H

#include "bunko/buf.h"
#include "bunko/common.h"

enum bk_lang { BK_LANG_JA, BK_LANG_EN };
#define BK_LANGS 2

enum bk_msg {
	/* the frame */
	M_SITE, M_SKIP, M_SEARCH_LABEL, M_SEARCH_BUTTON, M_LOGIN_LINK, M_LOGOUT, M_LANG_OTHER,
	M_QUEUE_LINK, M_ACCOUNT,
	/* home */
	M_HOME, M_HOME_INTRO, M_HELP, M_HELP_AND, M_HELP_PHRASE, M_HELP_OR, M_HELP_NOT,
	/* search */
	M_RESULTS_FOR, M_REFINE, M_FACET_COLLECTION, M_FACET_PROFILE, M_FACET_DECADE, M_FACET_ACCESS,
	M_ALL, M_DECADE, M_UNDATED, M_PROFILE_RECORD, M_PROFILE_BYLAW, M_PROFILE_UKIYOE, M_PROFILE_MAP,
	M_ACCESS_PUBLIC, M_ACCESS_RESTRICTED, M_ACCESS_CONFIDENTIAL, M_DATE_RANGE, M_DATE_FROM,
	M_DATE_TO, M_DATE_HINT, M_SORT, M_SORT_RELEVANCE, M_SORT_OLD, M_SORT_NEW, M_APPLY,
	M_TOTAL, M_TOTAL_MORE, M_NONE, M_RESULTS, M_PAGE_N, M_HITS_ON_PAGE, M_PAGER, M_PREV, M_NEXT,
	M_RESULT_PAGE, M_TOTAL_ABOUT, M_TOTAL_ABOUT_MORE, M_COUNT_ABOUT, M_COUNT_ABOUT_MORE,
	M_FACETS_ESTIMATED,
	/* errors */
	M_BAD_QUERY, M_BAD_QUERY_TEXT, M_BAD_DATE, M_NOT_FOUND, M_NOT_FOUND_TEXT, M_ERROR,
	/* login */
	M_LOGIN, M_LOGIN_HEADING, M_USER_NAME, M_PASSWORD, M_LOGIN_BUTTON, M_LOGIN_WRONG,
	M_LOGIN_LIMITED,
	/* the queue */
	M_QUEUE, M_QUEUE_JOBS, M_QUEUE_QUEUED, M_QUEUE_RUNNING, M_QUEUE_DONE, M_QUEUE_FAILED,
	M_QUEUE_PAGES, M_QUEUE_RATE, M_QUEUE_ETA, M_QUEUE_ETA_UNKNOWN, M_QUEUE_MINUTES,
	M_QUEUE_RUNNING_JOBS, M_QUEUE_FAILURES, M_QUEUE_JOB, M_QUEUE_COLLECTION, M_QUEUE_PROGRESS,
	M_QUEUE_WORKER, M_QUEUE_REASON, M_QUEUE_TRIES, M_QUEUE_REQUEUE, M_QUEUE_REQUEUED,
	M_QUEUE_NOT_FAILED, M_QUEUE_NONE, M_QUEUE_WORKER_ERRORS, M_QUEUE_REFRESH, M_QUEUE_STOP_REFRESH,
	M_QUEUE_START_REFRESH, M_QUEUE_STALE, M_QUEUE_FORBIDDEN, M_QUEUE_UPDATED,
	BK_MSG_COUNT
};

/* The message in `lang` (never NULL). */
const char *bk_msg(enum bk_lang lang, enum bk_msg m);
/* "ja" or "en". */
const char *bk_lang_code(enum bk_lang lang);
/* The language `s` names ("ja", "en"), or -1. */
int bk_lang_parse(const char *s);
/* The message HTML-escaped, with "{}" replaced by `arg` (escaped too). */
void bk_msg_html(struct bk_buf *b, enum bk_lang lang, enum bk_msg m, const char *arg);
/* The same with a number as the argument. */
void bk_msg_html_num(struct bk_buf *b, enum bk_lang lang, enum bk_msg m, long n);

#endif
