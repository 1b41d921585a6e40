/*
 * web/html.c — HTML escaping, URL components and the page frame (see
 * html.h).
 */
#include "web/html.h"

#include <string.h>
#include <utf8proc.h>

/* Written here, not libxml2's xmlEncodeSpecialChars: that one passes ' and
 * control characters through, which html.h promises a page never carries. */
static void escape(struct bk_buf *b, const char *s, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t i = 0;

	if (len == (size_t)-1)
		len = strlen(s);
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0 || (cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7f ||
		    (cp >= 0x80 && cp < 0xa0)) {
			bk_buf_addstr(b, "\xef\xbf\xbd");
			i += n > 0 ? (size_t)n : 1;
			continue;
		}
		switch (cp) {
		case '&': bk_buf_addstr(b, "&amp;"); break;
		case '<': bk_buf_addstr(b, "&lt;"); break;
		case '>': bk_buf_addstr(b, "&gt;"); break;
		case '"': bk_buf_addstr(b, "&quot;"); break;
		case '\'': bk_buf_addstr(b, "&#39;"); break;
		default: bk_buf_add(b, p + i, (size_t)n);
		}
		i += (size_t)n;
	}
}

void bk_html_text(struct bk_buf *b, const char *s, size_t len)
{
	escape(b, s ? s : "", s ? len : 0);
}

void bk_html_attr(struct bk_buf *b, const char *s)
{
	escape(b, s ? s : "", (size_t)-1);
}

void bk_url_component(struct bk_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~')
			bk_buf_add(b, p, 1);
		else
			bk_buf_addf(b, "%%%02X", *p);
	}
}

bool bk_utf8_clean(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	size_t len = strlen(s), i = 0;
	while (i < len) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0 || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7f)
			return false;
		i += (size_t)n;
	}
	return true;
}

/* The path and query of the request with lang=`code` in place of any lang
 * argument, escaped for an attribute. */
static void switch_link(struct bk_buf *b, const struct bk_web_request *req, const char *code)
{
	struct bk_buf u = { 0 };
	bk_buf_addstr(&u, req ? req->path : "/");
	bk_buf_addstr(&u, "?");
	for (int i = 0; req && i < req->nargs; i++) {
		if (!strcmp(req->args[i].name, "lang"))
			continue;
		bk_url_component(&u, req->args[i].name);
		bk_buf_addstr(&u, "=");
		bk_url_component(&u, req->args[i].value);
		bk_buf_addstr(&u, "&");
	}
	bk_buf_addf(&u, "lang=%s", code);
	bk_html_attr(b, u.data ? u.data : "/");
	bk_buf_release(&u);
}

void bk_html_begin_frame(struct bk_buf *b, const struct bk_html_frame *f, const char *title, const char *q)
{
	enum bk_lang l = f->lang;
	enum bk_lang other = l == BK_LANG_JA ? BK_LANG_EN : BK_LANG_JA;
	bk_buf_addf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
		    bk_lang_code(l));
	bk_html_text(b, title, (size_t)-1);
	bk_buf_addstr(b, " — ");
	bk_msg_html(b, l, M_SITE, NULL);
	bk_buf_addstr(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/bunko.css\">\n");
	if (f->refresh_s > 0)
		bk_buf_addf(b, "<meta http-equiv=\"refresh\" content=\"%d\">\n", f->refresh_s);
	bk_buf_addstr(b, "</head>\n<body>\n<a class=\"skip\" href=\"#main\">");
	bk_msg_html(b, l, M_SKIP, NULL);
	bk_buf_addstr(b, "</a>\n<header><a class=\"home\" href=\"/\">");
	bk_msg_html(b, l, M_SITE, NULL);
	bk_buf_addstr(b, "</a>\n<form class=\"search\" action=\"/search\" method=\"get\" role=\"search\">\n"
			 "<label for=\"q\">");
	bk_msg_html(b, l, M_SEARCH_LABEL, NULL);
	bk_buf_addstr(b, "</label>\n<input id=\"q\" name=\"q\" type=\"search\" value=\"");
	bk_html_attr(b, q);
	bk_buf_addstr(b, "\">\n<button type=\"submit\">");
	bk_msg_html(b, l, M_SEARCH_BUTTON, NULL);
	bk_buf_addstr(b, "</button>\n</form>\n");
	if (f->req) {
		bk_buf_addstr(b, "<a class=\"lang\" href=\"");
		switch_link(b, f->req, bk_lang_code(other));
		bk_buf_addf(b, "\" hreflang=\"%s\" lang=\"%s\">", bk_lang_code(other), bk_lang_code(other));
		bk_msg_html(b, l, M_LANG_OTHER, NULL);
		bk_buf_addstr(b, "</a>\n");
	}
	if (f->user) {
		if (f->staff) {
			bk_buf_addstr(b, "<a class=\"queue\" href=\"/queue\">");
			bk_msg_html(b, l, M_QUEUE_LINK, NULL);
			bk_buf_addstr(b, "</a>\n");
		}
		bk_buf_addstr(b, "<form class=\"account\" action=\"/logout\" method=\"post\">\n<span class=\"user\">");
		bk_html_text(b, f->user, (size_t)-1);
		bk_buf_addstr(b, "</span>\n<input type=\"hidden\" name=\"csrf\" value=\"");
		bk_html_attr(b, f->csrf);
		bk_buf_addstr(b, "\">\n<button type=\"submit\">");
		bk_msg_html(b, l, M_LOGOUT, NULL);
		bk_buf_addstr(b, "</button>\n</form>\n");
	} else {
		bk_buf_addstr(b, "<a class=\"login\" href=\"/login\">");
		bk_msg_html(b, l, M_LOGIN_LINK, NULL);
		bk_buf_addstr(b, "</a>\n");
	}
	bk_buf_addstr(b, "</header>\n<main id=\"main\" tabindex=\"-1\">\n");
}

void bk_html_begin(struct bk_buf *b, const char *title, const char *q, const char *user, const char *csrf)
{
	struct bk_html_frame f = { BK_LANG_JA, user, csrf, false, NULL, 0 };
	bk_html_begin_frame(b, &f, title, q);
}

void bk_html_end(struct bk_buf *b)
{
	bk_buf_addstr(b, "</main>\n<footer>文庫 bunko</footer>\n</body>\n</html>\n");
}
