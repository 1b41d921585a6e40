/*
 * web/html.h — writing HTML safely: text and attribute escaping, URL
 * components, and the frame every page of the site shares.
 *
 * Guarantees: bk_html_text and bk_html_attr write the bytes of a valid
 * UTF-8 string with & < > " ' escaped; a byte that is not part of
 * well-formed UTF-8 and any control character other than tab and
 * newline become U+FFFD, so no input reaches a page as markup or breaks
 * its encoding. bk_url_component percent-encodes every byte outside
 * RFC 3986's unreserved set.
 */
#ifndef BUNKO_WEB_HTML_H
#define BUNKO_WEB_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "bunko/buf.h"
#include "web/i18n.h"
#include "web/web.h"

/* Escaped text of s[0..len) (len (size_t)-1: up to the NUL). */
void bk_html_text(struct bk_buf *b, const char *s, size_t len);
/* Like bk_html_text, for an attribute value between double quotes. */
void bk_html_attr(struct bk_buf *b, const char *s);
/* s percent-encoded as one URL component (path segment or query value). */
void bk_url_component(struct bk_buf *b, const char *s);
/* True when s is well-formed UTF-8 without control characters other
 * than tab, CR and LF. */
bool bk_utf8_clean(const char *s);

/* What the frame of a page shows besides its title. */
struct bk_html_frame {
	enum bk_lang lang;
	const char *user, *csrf;             /* logged in: the logout form with the session's token */
	bool staff;                          /* a link to the queue page */
	const struct bk_web_request *req;    /* the language switch links to this path and query
						with lang= changed; NULL: to / */
	int refresh_s;                       /* > 0: the page reloads itself after this many seconds */
};

/* The page's head (lang="ja" or "en", title escaped, the stylesheet), a
 * link to skip to the content, its header with the search form (q kept),
 * the language switch and the login link, or for a logged-in user the
 * logout form, and <main id="main">. */
void bk_html_begin_frame(struct bk_buf *b, const struct bk_html_frame *f, const char *title, const char *q);
/* The same in Japanese, without the language switch. */
void bk_html_begin(struct bk_buf *b, const char *title, const char *q, const char *user, const char *csrf);
/* Closes <main> and the page. */
void bk_html_end(struct bk_buf *b);

#endif
