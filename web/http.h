/*
 * web/http.h — the HTTP server under `bunko serve`: GNU libmicrohttpd
 * with a thread per connection, behind a plain interface so that only
 * web/http.c sees MHD_Connection.
 *
 * Protocol: GET and HEAD, and POST of a urlencoded form (other methods:
 * 405; a POST of anything else: 415, over 8 KiB: 413); the path and query
 * string are percent-decoded by libmicrohttpd ('+' as a space in the
 * query); an argument holding a NUL byte (%00) is a 400; more than
 * BK_HTTP_CONNECTIONS connections, or more than the server's per-address
 * limit from one address, are refused by the library (the connection is
 * closed at once), and connections idle for 30 s are closed. The
 * per-address limit only keeps one address from taking every connection:
 * behind a front server every connection comes from the front server's
 * address, so the front server (scripts/nginx: per-client request rates)
 * is what limits each client. Every response carries
 * X-Content-Type-Options nosniff, a Content-Security-Policy that allows
 * only this site's own images, styles, scripts (files, never inline) and
 * forms, no framing, and Referrer-Policy no-referrer (queries are in
 * URLs); IIIF answers add Access-Control-Allow-Origin: *.
 */
#ifndef BUNKO_WEB_HTTP_H
#define BUNKO_WEB_HTTP_H

#include "bunko/common.h"
#include "web/web.h"

struct bk_http_server;

#define BK_HTTP_CONNECTIONS 256 /* connections at once, from all addresses */
#define BK_HTTP_PER_ADDRESS 64  /* default limit from one address */

/* Parses "HOST:PORT" ("127.0.0.1:8080", "[::1]:8080", "localhost:0") and
 * listens there; port 0 picks a free one (see bk_http_url). Requests go
 * to bk_web_handle(site, ...) on each connection's own thread (the site
 * bounds the work and must outlive the server). At most `per_address`
 * connections (1 to BK_HTTP_CONNECTIONS) are accepted from one address. */
int bk_http_start(struct bk_http_server **s, const char *listen, int per_address,
		  struct bk_web *site, struct bk_error *err);
/* The URL the server answers at, "http://127.0.0.1:8080/" (owned by the
 * server). */
const char *bk_http_url(const struct bk_http_server *s);
/* Stops accepting, lets requests being answered finish, closes every
 * connection and joins the threads. NULL-safe. */
void bk_http_stop(struct bk_http_server **s);

#endif
