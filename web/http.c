/*
 * web/http.c — the libmicrohttpd adapter (see http.h): the only file that
 * sees struct MHD_Daemon and MHD_Connection.
 *
 * The listening socket is made here (getaddrinfo, bind, listen) and handed
 * to libmicrohttpd, so that a bad address or a port in use is reported as
 * one clear error, and port 0 can be told back as the real port. A request
 * is answered on its first call (GET and HEAD carry no body); a POST's
 * urlencoded body (the login and logout forms, 8 KiB at most) is
 * gathered over the calls libmicrohttpd makes and answered on the last.
 * Arguments are checked against their lengths, so one holding a NUL byte
 * (%00) is refused instead of being cut short silently.
 */
#include "web/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BK_HTTP_MAX_ARGS 32
#define BK_HTTP_TIMEOUT_S 30u
/* The connections' threads' nice value above the search threads' (those
 * of the thread that starts the server): 5 above another weighs about a
 * third of it in Linux's scheduler. */
#define BK_HTTP_NICE 5

struct bk_http_server {
	struct MHD_Daemon *daemon;
	struct bk_web *site;
	int fd;
	char url[128];
	int connection_nice; /* the starting thread's nice value + BK_HTTP_NICE */
};

#define BK_HTTP_MAX_BODY 8192

struct args {
	struct bk_web_arg v[BK_HTTP_MAX_ARGS];
	int n;
	bool bad; /* a NUL inside, or too many */
};

/* A POST being received: its urlencoded body. */
struct post {
	struct bk_buf body;
	bool too_big;
};

/* Splits an application/x-www-form-urlencoded body in place into a. */
static void parse_form(char *body, struct args *a)
{
	for (char *field = body, *next; field && *field; field = next) {
		next = strchr(field, '&');
		if (next)
			*next++ = '\0';
		char *eq = strchr(field, '=');
		char *value = eq ? eq + 1 : field + strlen(field);
		if (eq)
			*eq = '\0';
		for (char *p = field; *p; p++)
			if (*p == '+')
				*p = ' ';
		for (char *p = value; *p; p++)
			if (*p == '+')
				*p = ' ';
		size_t klen = MHD_http_unescape(field), vlen = MHD_http_unescape(value);
		if (strlen(field) != klen || strlen(value) != vlen || a->n == BK_HTTP_MAX_ARGS) {
			a->bad = true;
			return;
		}
		a->v[a->n++] = (struct bk_web_arg){ field, value };
	}
}

/* What a GET or HEAD request's context points at after its first call
 * (on_request): a request without a body has nothing to keep. */
static const char no_body;

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct post *p = *con_cls;
	if (p == (const void *)&no_body) {
		*con_cls = NULL;
		return;
	}
	if (p) {
		bk_buf_release(&p->body);
		free(p);
		*con_cls = NULL;
	}
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   size_t key_size, const char *value, size_t value_size)
{
	struct args *a = cls;
	if (!key || strlen(key) != key_size || (value && strlen(value) != value_size) ||
	    a->n == BK_HTTP_MAX_ARGS) {
		a->bad = true;
		return MHD_NO;
	}
	a->v[a->n++] = (struct bk_web_arg){ key, value ? value : "" };
	return MHD_YES;
}

/* scripts only from this site's files (the page viewer's), never inline;
 * connect-src for the viewer's fetch of info.json */
static const char csp[] = "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
			  "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/* attachment; filename="<ASCII or _>"; filename*=UTF-8''<percent-encoded> */
static void add_disposition(struct MHD_Response *r, const char *name)
{
	struct bk_buf b = { 0 };
	bk_buf_addstr(&b, "attachment; filename=\"");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		bk_buf_addf(&b, "%c", *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\' ? *p : '_');
	bk_buf_addstr(&b, "\"; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p))
			bk_buf_addf(&b, "%c", *p);
		else
			bk_buf_addf(&b, "%%%02X", *p);
	}
	if (!b.failed)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, b.data);
	bk_buf_release(&b);
}

/* The response for a site's answer; NULL when out of memory or the file
 * is gone (then a plain 500 goes out). */
static struct MHD_Response *make_response(struct bk_web_response *w)
{
	struct MHD_Response *r = NULL;

	if (w->file) {
		struct stat st;
		int fd = open(w->file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return NULL;
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
		    !(r = MHD_create_response_from_fd((size_t)st.st_size, fd))) {
			close(fd);
			return NULL;
		}
	} else {
		size_t len = 0;
		char *body = bk_buf_detach(&w->body, &len);
		if (!body)
			return NULL;
		if (!(r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE))) {
			free(body);
			return NULL;
		}
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, w->type ? w->type : "text/plain");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, w->cache ? w->cache : "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", csp);
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	if (w->location)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, w->location);
	if (w->cors)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
	if (w->download_name)
		add_disposition(r, w->download_name);
	for (int i = 0; i < 2; i++)
		if (w->set_cookie[i])
			MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, w->set_cookie[i]);
	return r;
}

static enum MHD_Result plain(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct bk_http_server *s = cls;
	struct bk_web_response w;
	struct args a = { .n = 0 }, form = { .n = 0 };
	struct MHD_Response *r;
	struct post *post = *con_cls;
	char client[INET6_ADDRSTRLEN] = "?";
	bool is_post = !strcmp(method, MHD_HTTP_METHOD_POST);

	if (!*con_cls)
		/* this connection's thread yields to the search threads (web/site.c):
		 * Linux sets a thread's nice value alone; raising it back would need
		 * privilege, and the thread serves only this connection */
		setpriority(PRIO_PROCESS, (id_t)gettid(), s->connection_nice);
	if (!is_post && strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return plain(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (is_post) {
		/* the body comes in pieces: keep it (up to a limit) until the last call */
		if (!post) {
			const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								       MHD_HTTP_HEADER_CONTENT_TYPE);
			if (!type || strncmp(type, "application/x-www-form-urlencoded", 33))
				return plain(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "a form is expected\n");
			if (!(post = calloc(1, sizeof(*post))))
				return MHD_NO;
			*con_cls = post;
			return MHD_YES;
		}
		if (*upload_data_size) {
			if (post->body.len + *upload_data_size > BK_HTTP_MAX_BODY)
				post->too_big = true;
			else
				bk_buf_add(&post->body, upload_data, *upload_data_size);
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (post->too_big || post->body.failed)
			return plain(c, MHD_HTTP_CONTENT_TOO_LARGE, "form too large\n");
		if (post->body.data)
			parse_form(post->body.data, &form);
	} else if (!*con_cls) {
		/* The first call has the headers only. Answering it at once makes
		 * libmicrohttpd close the connection after the answer (a body
		 * might follow that it has not read), so that every request of a
		 * visitor, and of nginx in front, paid a new connection and a new
		 * thread; the answer comes at the next call. */
		*con_cls = (void *)&no_body;
		return MHD_YES;
	} else if (*upload_data_size)
		return plain(c, MHD_HTTP_BAD_REQUEST, "a GET request has no body\n");
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
	if (a.bad || form.bad || !url || url[0] != '/')
		return plain(c, MHD_HTTP_BAD_REQUEST, "bad request\n");
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, client, sizeof(client));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, client, sizeof(client));
	}
	struct bk_web_request req = {
		method, url, a.v, a.n,
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
		form.v, form.n,
		MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "bunko_session"),
		MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "bunko_csrf"),
		client, false, NULL,
	};
	const char *proto = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Proto");
	req.https = proto && !strcmp(proto, "https");
	req.lang_cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "bunko_lang");
	bk_web_handle(s->site, &req, &w);
	r = make_response(&w);
	unsigned status = (unsigned)w.status;
	bk_web_response_release(&w);
	if (!r)
		return plain(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
	enum MHD_Result ok = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Splits "HOST:PORT" or "[V6]:PORT" into host and port. */
static int split_listen(const char *listen, char *host, size_t hostsz, char *port, size_t portsz)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen;
	size_t hlen;

	if (!colon || !colon[1] || strlen(colon + 1) >= portsz ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']')
		h++, hlen -= 2;
	if (!hlen || hlen >= hostsz)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	strcpy(port, colon + 1);
	return atoi(port) <= 65535 ? 0 : -1;
}

static int open_listener(const char *listen_at, char *url, size_t urlsz, struct bk_error *err)
{
	char host[256], port[8], name[INET6_ADDRSTRLEN];
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(sa);
	int fd = -1, one = 1, rc;

	if (split_listen(listen_at, host, sizeof(host), port, sizeof(port)))
		return bk_error_set(err, "invalid address '%s': expected HOST:PORT", listen_at);
	if ((rc = getaddrinfo(host, port, &hints, &ai)))
		return bk_error_set(err, "cannot listen on '%s': %s", listen_at, gai_strerror(rc));
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen)) {
		bk_error_set(err, "cannot listen on '%s': %s", listen_at, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	if (sa.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, name, sizeof(name));
		snprintf(url, urlsz, "http://[%s]:%u/", name, ntohs(in6->sin6_port));
	} else {
		struct sockaddr_in *in4 = (struct sockaddr_in *)&sa;
		inet_ntop(AF_INET, &in4->sin_addr, name, sizeof(name));
		snprintf(url, urlsz, "http://%s:%u/", name, ntohs(in4->sin_port));
	}
	return fd;
}

int bk_http_start(struct bk_http_server **out, const char *listen_at, int per_address,
		  struct bk_web *site, struct bk_error *err)
{
	struct bk_http_server *s = NULL;

	*out = NULL;
	if (per_address < 1 || per_address > BK_HTTP_CONNECTIONS)
		return bk_error_set(err, "invalid connections per address '%d': expected 1 to %d", per_address,
				    BK_HTTP_CONNECTIONS);
	if (!(s = calloc(1, sizeof(*s))))
		return bk_error_set(err, "out of memory");
	s->site = site;
	s->connection_nice = getpriority(PRIO_PROCESS, (id_t)gettid()) + BK_HTTP_NICE;
	if ((s->fd = open_listener(listen_at, s->url, sizeof(s->url), err)) < 0) {
		free(s);
		return -1;
	}
	/* A thread per connection, not a pool of threads that each serve
	 * their share of the connections one request at a time: in a pool, a
	 * connection waits behind whatever its thread is computing (a search
	 * of a common word), even for a page the cache holds; the bound on
	 * the work is the site's (its searches at once, web.h), the bound on
	 * the threads the connection limit. */
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
					     MHD_USE_AUTO | MHD_USE_ITC,
				     0, NULL, NULL, on_request, s,
				     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->fd,
				     MHD_OPTION_CONNECTION_TIMEOUT, BK_HTTP_TIMEOUT_S,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned)BK_HTTP_CONNECTIONS,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)per_address,
				     MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
				     MHD_OPTION_END);
	if (!s->daemon) {
		close(s->fd);
		free(s);
		return bk_error_set(err, "cannot start the HTTP server on '%s'", listen_at);
	}
	*out = s;
	return 0;
}

const char *bk_http_url(const struct bk_http_server *s)
{
	return s->url;
}

void bk_http_stop(struct bk_http_server **s)
{
	if (!s || !*s)
		return;
	/* stop accepting first; then MHD_stop_daemon joins the workers, each
	 * finishing the request it is answering */
	MHD_quiesce_daemon((*s)->daemon);
	MHD_stop_daemon((*s)->daemon);
	close((*s)->fd);
	free(*s);
	*s = NULL;
}
