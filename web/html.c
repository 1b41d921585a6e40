/*
 * web/html.c — HTML escaping, URL components and the page frame (see
 * html.h).
 */
#include "web/html.h"

#include <string.h>
#include <utf8proc.h>

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

void bk_html_begin(struct bk_buf *b, const char *title, const char *q, const char *collection)
{
	bk_buf_addstr(b, "<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n"
			 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	bk_html_text(b, title, (size_t)-1);
	bk_buf_addstr(b, " — 文庫デジタルアーカイブ</title>\n"
			 "<link rel=\"stylesheet\" href=\"/static/bunko.css\">\n</head>\n<body>\n"
			 "<header><a class=\"home\" href=\"/\">文庫デジタルアーカイブ</a>\n"
			 "<form class=\"search\" action=\"/search\" method=\"get\" role=\"search\">\n"
			 "<label for=\"q\">全文検索</label>\n"
			 "<input id=\"q\" name=\"q\" type=\"search\" value=\"");
	bk_html_attr(b, q);
	bk_buf_addstr(b, "\">\n");
	if (collection && *collection) {
		bk_buf_addstr(b, "<input type=\"hidden\" name=\"collection\" value=\"");
		bk_html_attr(b, collection);
		bk_buf_addstr(b, "\">\n");
	}
	bk_buf_addstr(b, "<button type=\"submit\">検索</button>\n</form>\n</header>\n<main>\n");
}

void bk_html_end(struct bk_buf *b)
{
	bk_buf_addstr(b, "</main>\n<footer>文庫 bunko</footer>\n</body>\n</html>\n");
}
