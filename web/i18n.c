/*
 * web/i18n.c — the message table of the site (see i18n.h). Each row is
 * one message in both languages, indexed by its enum value, so a message
 * cannot be missing in one language without the test of the table
 * (bk_msg never returns NULL: an empty entry would show as "").
 */
#include "web/i18n.h"

#include <stdio.h>
#include <string.h>

#include "web/html.h"

static const char *const messages[BK_MSG_COUNT][BK_LANGS] = {
	[M_SITE] = { "文庫デジタルアーカイブ", "Bunko Digital Archive" },
	[M_SKIP] = { "本文へ移動", "Skip to the content" },
	[M_SEARCH_LABEL] = { "全文検索", "Full-text search" },
	[M_SEARCH_BUTTON] = { "検索", "Search" },
	[M_LOGIN_LINK] = { "職員ログイン", "Staff login" },
	[M_LOGOUT] = { "ログアウト", "Log out" },
	[M_LANG_OTHER] = { "English", "日本語" },
	[M_QUEUE_LINK] = { "処理状況", "Processing queue" },
	[M_ACCOUNT] = { "アカウント", "Account" },

	[M_HOME] = { "ホーム", "Home" },
	[M_HOME_INTRO] = { "公開されている資料の本文を検索できます。旧字体（國・區など）でも新字体でも同じ結果になります。",
			   "Search the full text of the public records. Old and new kanji forms (國 and 国, 區 and 区) find the same pages." },
	[M_HELP] = { "検索の書き方", "How to search" },
	[M_HELP_AND] = { "両方を含むページ", "pages with both words" },
	[M_HELP_PHRASE] = { "語句そのもの", "the exact phrase" },
	[M_HELP_OR] = { "どちらか", "either word" },
	[M_HELP_NOT] = { "含まないページ", "pages without the word" },

	[M_RESULTS_FOR] = { "「{}」の検索結果", "Results for “{}”" },
	[M_REFINE] = { "絞り込み", "Refine" },
	[M_FACET_COLLECTION] = { "コレクション", "Collection" },
	[M_FACET_PROFILE] = { "資料種別", "Type" },
	[M_FACET_DECADE] = { "年代", "Decade" },
	[M_FACET_ACCESS] = { "公開区分", "Access" },
	[M_ALL] = { "すべて", "All" },
	[M_DECADE] = { "{}年代", "{}s" },
	[M_UNDATED] = { "日付なし", "Undated" },
	[M_PROFILE_RECORD] = { "文書", "Records" },
	[M_PROFILE_BYLAW] = { "例規", "By-laws" },
	[M_PROFILE_UKIYOE] = { "浮世絵", "Ukiyo-e prints" },
	[M_PROFILE_MAP] = { "地図", "Maps" },
	[M_ACCESS_PUBLIC] = { "公開", "Public" },
	[M_ACCESS_RESTRICTED] = { "職員限定", "Restricted" },
	[M_ACCESS_CONFIDENTIAL] = { "秘", "Confidential" },
	[M_DATE_RANGE] = { "期間", "Date range" },
	[M_DATE_FROM] = { "開始", "From" },
	[M_DATE_TO] = { "終了", "To" },
	[M_DATE_HINT] = { "年、年-月、年-月-日（例 1925、1925-04）", "year, year-month or year-month-day (e.g. 1925, 1925-04)" },
	[M_SORT] = { "並び順", "Sort by" },
	[M_SORT_RELEVANCE] = { "関連度順", "Relevance" },
	[M_SORT_OLD] = { "日付の古い順", "Date, oldest first" },
	[M_SORT_NEW] = { "日付の新しい順", "Date, newest first" },
	[M_APPLY] = { "適用", "Apply" },
	[M_TOTAL] = { "{}件", "{} pages" },
	[M_TOTAL_MORE] = { "{}件以上（時間内に数えきれませんでした）", "at least {} pages (not all were counted in time)" },
	[M_NONE] = { "該当するページはありません。", "No page matches." },
	[M_RESULTS] = { "検索結果", "Results" },
	[M_PAGE_N] = { "{}ページ", "page {}" },
	[M_HITS_ON_PAGE] = { "このページに{}件", "{} hits on this page" },
	[M_PAGER] = { "ページ送り", "Result pages" },
	[M_PREV] = { "前へ", "Previous" },
	[M_NEXT] = { "次へ", "Next" },
	[M_RESULT_PAGE] = { "{}ページ目", "Page {}" },
	[M_TOTAL_ABOUT] = { "約{}件（推定）", "about {} pages (estimated)" },
	[M_TOTAL_ABOUT_MORE] = { "約{}件以上（推定）", "about {} pages or more (estimated)" },
	[M_COUNT_ABOUT] = { "約{}", "about {}" },
	[M_COUNT_ABOUT_MORE] = { "約{}以上", "about {} or more" },
	[M_FACETS_ESTIMATED] = { "件数は推定です。索引が候補とした各値のページ数に、本文を確かめた見本{}ページのうち一致した割合を掛けています。",
				 "Counts are estimates: each value's candidate pages in the index times the share of a sample of {} pages whose text matched." },

	[M_BAD_QUERY] = { "検索できません", "Cannot search" },
	[M_BAD_QUERY_TEXT] = { "検索語が長すぎるか、使えない文字を含んでいます。",
			       "The query is too long or holds characters that cannot be searched." },
	[M_BAD_DATE] = { "日付は 1925、1925-04、1925-04-01 の形で入力してください。",
			 "Enter dates as 1925, 1925-04 or 1925-04-01." },
	[M_NOT_FOUND] = { "ページが見つかりません", "Page not found" },
	[M_NOT_FOUND_TEXT] = { "お探しのページは見つかりませんでした。", "The page you asked for was not found." },
	[M_ERROR] = { "エラー", "Error" },

	[M_LOGIN] = { "ログイン", "Log in" },
	[M_LOGIN_HEADING] = { "職員ログイン", "Staff login" },
	[M_USER_NAME] = { "利用者名", "User name" },
	[M_PASSWORD] = { "パスワード", "Password" },
	[M_LOGIN_BUTTON] = { "ログイン", "Log in" },
	[M_LOGIN_WRONG] = { "利用者名またはパスワードが違います。", "Wrong user name or password." },
	[M_LOGIN_LIMITED] = { "ログインの失敗が続いたため、しばらく受け付けません。",
			      "Too many failed logins: try again in a minute." },

	[M_QUEUE] = { "処理状況", "Processing queue" },
	[M_QUEUE_JOBS] = { "ジョブ", "Jobs" },
	[M_QUEUE_QUEUED] = { "待機中", "queued" },
	[M_QUEUE_RUNNING] = { "処理中", "running" },
	[M_QUEUE_DONE] = { "完了", "done" },
	[M_QUEUE_FAILED] = { "失敗", "failed" },
	[M_QUEUE_PAGES] = { "ページ", "Pages" },
	[M_QUEUE_RATE] = { "処理速度（1時間あたりのページ数、直近10分）", "Pages per hour (last 10 minutes)" },
	[M_QUEUE_ETA] = { "残り時間の見込み", "Estimated time left" },
	[M_QUEUE_ETA_UNKNOWN] = { "不明", "unknown" },
	[M_QUEUE_MINUTES] = { "約{}分", "about {} minutes" },
	[M_QUEUE_RUNNING_JOBS] = { "処理中のジョブ", "Running jobs" },
	[M_QUEUE_FAILURES] = { "失敗したジョブ", "Failed jobs" },
	[M_QUEUE_JOB] = { "ジョブ", "Job" },
	[M_QUEUE_COLLECTION] = { "コレクション", "Collection" },
	[M_QUEUE_PROGRESS] = { "進捗", "Progress" },
	[M_QUEUE_WORKER] = { "ワーカー", "Worker" },
	[M_QUEUE_REASON] = { "理由", "Reason" },
	[M_QUEUE_TRIES] = { "試行回数", "Tries" },
	[M_QUEUE_REQUEUE] = { "再実行", "Requeue" },
	[M_QUEUE_REQUEUED] = { "ジョブ {} を再びキューに入れました。", "Job {} is queued again." },
	[M_QUEUE_NOT_FAILED] = { "ジョブ {} は失敗したジョブではありません。", "Job {} is not a failed job." },
	[M_QUEUE_NONE] = { "ありません。", "None." },
	[M_QUEUE_WORKER_ERRORS] = { "ワーカーのエラー", "Worker errors" },
	[M_QUEUE_REFRESH] = { "このページは30秒ごとに更新されます。", "This page refreshes itself every 30 seconds." },
	[M_QUEUE_STOP_REFRESH] = { "自動更新を止める", "Stop refreshing" },
	[M_QUEUE_START_REFRESH] = { "自動更新する", "Refresh automatically" },
	[M_QUEUE_STALE] = { "ワーカーが停止しています。次のワーカーが引き継ぎます", "its worker is gone: the next worker takes it back" },
	[M_QUEUE_FORBIDDEN] = { "再実行できるのは管理者だけです。", "Only administrators can requeue jobs." },
	[M_QUEUE_UPDATED] = { "更新時刻", "Updated" },
};

const char *bk_msg(enum bk_lang lang, enum bk_msg m)
{
	if ((unsigned)m >= BK_MSG_COUNT)
		return "";
	const char *s = messages[m][(unsigned)lang < BK_LANGS ? lang : BK_LANG_JA];
	return s ? s : "";
}

const char *bk_lang_code(enum bk_lang lang)
{
	return lang == BK_LANG_EN ? "en" : "ja";
}

int bk_lang_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "ja"))
		return BK_LANG_JA;
	if (!strcmp(s, "en"))
		return BK_LANG_EN;
	return -1;
}

void bk_msg_html(struct bk_buf *b, enum bk_lang lang, enum bk_msg m, const char *arg)
{
	const char *s = bk_msg(lang, m), *at = strstr(s, "{}");
	if (!at) {
		bk_html_text(b, s, (size_t)-1);
		return;
	}
	bk_html_text(b, s, (size_t)(at - s));
	bk_html_text(b, arg ? arg : "", (size_t)-1);
	bk_html_text(b, at + 2, (size_t)-1);
}

void bk_msg_html_num(struct bk_buf *b, enum bk_lang lang, enum bk_msg m, long n)
{
	char num[32];
	snprintf(num, sizeof(num), "%ld", n);
	bk_msg_html(b, lang, m, num);
}
