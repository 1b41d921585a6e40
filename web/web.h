/*
 * web/web.h — the researchers' web archive behind `bunko serve`: the
 * site (routes, access checks, pages) independent of the HTTP library.
 * web/http.c carries requests from libmicrohttpd to bk_web_handle and its
 * responses back; nothing else in web/ sees the HTTP library.
 *
 * Guarantees:
 * - read-only: the site opens the index read-only (one reader per worker
 *   thread, from a pool) and reads the store's files; it never writes to
 *   the archive, but for an administrator's requeue of a failed job (a
 *   rename in the queue, as `bunko requeue` does) and the cache of
 *   deep-zoom tiles (web/tiles.h), outside the store.
 * - access: a request has a role: BK_ROLE_PUBLIC for anonymous visitors,
 *   staff or admin for a session of a user who logged in (web/auth.h).
 *   The readers of a role open only the index files of its levels, and
 *   every handler checks the document's level again, from the index and
 *   from its bag-info.txt, before it shows, counts or sends anything of
 *   it. A document the role may not see answers exactly as one that does
 *   not exist (404, the same page), so its existence is never hinted at.
 * - everything taken from a request or the archive is HTML-escaped (or
 *   percent-encoded in URLs) before it is written into a page.
 *
 * Ownership: a request's strings belong to the adapter for the call; a
 * response's body, file and file name belong to the response
 * (bk_web_response_release).
 */
#ifndef BUNKO_WEB_WEB_H
#define BUNKO_WEB_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "bunko/buf.h"
#include "bunko/common.h"
#include "index/index.h"

struct bk_web_arg {
	const char *name, *value; /* percent-decoded; value "" when absent */
};

struct bk_web_request {
	const char *method;            /* "GET", "HEAD", ... */
	const char *path;              /* percent-decoded path, starts with '/' */
	const struct bk_web_arg *args; /* the query string, in order */
	int nargs;
	const char *host;              /* the Host header, NULL if none (IIIF ids are absolute) */
	const struct bk_web_arg *form; /* a POST's form fields (urlencoded body) */
	int nform;
	const char *session_cookie;    /* the bunko_session cookie, or NULL */
	const char *csrf_cookie;       /* the bunko_csrf cookie (login form), or NULL */
	const char *client;            /* the client's address, for the login rate limit */
	bool https;                    /* a front server says the client used TLS
					  (X-Forwarded-Proto: https): cookies are Secure */
	const char *lang_cookie;       /* the bunko_lang cookie ("ja", "en"), or NULL */
};

struct bk_web_response {
	int status;               /* HTTP status */
	const char *type;         /* Content-Type (static) */
	struct bk_buf body;       /* the body, unless `file` */
	char *file;               /* a file of the archive to send as the body */
	char *download_name;      /* Content-Disposition: attachment, this name (UTF-8) */
	char *location;           /* Location of a redirect */
	const char *cache;        /* Cache-Control (static), NULL: no-store */
	char *set_cookie[2];      /* Set-Cookie headers, NULL: none */
	bool cors;                /* Access-Control-Allow-Origin: * (IIIF) */
	int lang;                 /* enum bk_lang of the request: error pages are written in it */
};

void bk_web_response_release(struct bk_web_response *r);

struct bk_status;
/* The queue, for the records staff's page: the pipeline's functions (the
 * site does not link the pipeline, which links the site). */
struct bk_web_queue_ops {
	int (*collect)(const char *archive, struct bk_status *st, struct bk_error *err);
	void (*release)(struct bk_status *st);
	/* 0 requeued, 1 not a failed job, -1 error */
	int (*requeue)(const char *archive, const char *job_id, struct bk_error *err);
};

struct bk_web_options {
	const char *archive;
	int readers;         /* searches computed at once (the pool holds a few
				readers more, web/site.c) */
	FILE *audit;         /* the audit log: one line for each request that
				shows a restricted or confidential document,
				"TIME USER ROLE LEVEL DOC PATH" (borrowed;
				NULL: none) */
	const char *tiles;   /* the tile cache's directory (NULL: ARCHIVE/tiles) */
	const struct bk_web_queue_ops *queue; /* NULL: no queue page */
};

struct bk_web;
/* Opens the site on an archive: checks it is one and opens the readers.
 * Errors name the archive ("cannot open the index in 'a/index': ..."). */
int bk_web_open(struct bk_web **w, const struct bk_web_options *o, struct bk_error *err);
void bk_web_free(struct bk_web **w);
/* Answers one request into *resp (initialized here). Thread-safe: takes a
 * reader from the pool when the request needs the index, and computes at
 * most `readers` searches at once (more wait). Never fails: errors become
 * error pages. */
void bk_web_handle(struct bk_web *w, const struct bk_web_request *req, struct bk_web_response *resp);

#endif
