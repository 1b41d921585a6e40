/*
 * web/auth.c — accounts (Argon2id through libsodium) and sessions (see
 * auth.h).
 */
#include "web/auth.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bunko/atomic.h"
#include "bunko/buf.h"
#include "bunko/fs.h"

#define MAX_SESSIONS 1024
#define MAX_CLIENTS 256

static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	return n >= 1 && n <= BK_AUTH_NAME_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static char *users_path(const char *archive)
{
	char *p = NULL;
	return asprintf(&p, "%s/auth/users", archive) < 0 ? NULL : p;
}

int bk_auth_user_add(const char *archive, const char *name, enum bk_role role, const char *password,
		     struct bk_error *err)
{
	char hash[crypto_pwhash_STRBYTES];
	char *path = users_path(archive), *dir = NULL, *old = NULL;
	struct bk_buf out = { 0 };
	size_t len = 0;
	int rc = -1;

	if (!path || !(dir = bk_path_join(archive, "auth"))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (!name_ok(name)) {
		bk_error_set(err, "invalid user name '%s': 1 to %d of A-Z a-z 0-9 . _ -", name, BK_AUTH_NAME_MAX);
		goto out;
	}
	if (role != BK_ROLE_STAFF && role != BK_ROLE_ADMIN) {
		bk_error_set(err, "a user's role is staff or admin, not '%s'", bk_role_name(role));
		goto out;
	}
	if (!*password || strlen(password) > 1024) {
		bk_error_set(err, "the password for '%s' must be 1 to 1024 bytes", name);
		goto out;
	}
	if (sodium_init() < 0) {
		bk_error_set(err, "cannot initialize libsodium");
		goto out;
	}
	if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE)) {
		bk_error_set(err, "cannot hash the password of '%s': out of memory", name);
		goto out;
	}
	struct stat st;
	if (stat(dir, &st) && (errno != ENOENT || bk_mkdir_mode(dir, 0700, err)))
		goto out;
	if (bk_read_file(path, &old, &len, NULL)) {
		old = NULL;
		len = 0;
	}
	/* keep the other users' lines */
	for (char *line = old, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		size_t n = next ? (size_t)(next - line) : strlen(line);
		next = next ? next + 1 : line + n;
		size_t nl = strcspn(line, " ");
		if (nl == strlen(name) && !strncmp(line, name, nl))
			continue;
		bk_buf_add(&out, line, n);
		bk_buf_addstr(&out, "\n");
	}
	bk_buf_addf(&out, "%s %s %s\n", name, bk_role_name(role), hash);
	if (out.failed) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	rc = bk_atomic_write(path, out.data, out.len, err);
out:
	sodium_memzero(hash, sizeof(hash));
	bk_buf_release(&out);
	free(old);
	free(dir);
	free(path);
	return rc;
}

int bk_auth_check(const char *archive, const char *name, const char *password, enum bk_role *role,
		  struct bk_error *err)
{
	char *path = users_path(archive), *text = NULL;
	size_t len = 0;
	int rc = 0;
	bool seen = false;

	if (!path)
		return bk_error_set(err, "out of memory");
	if (sodium_init() < 0) {
		free(path);
		return bk_error_set(err, "cannot initialize libsodium");
	}
	if (bk_read_file(path, &text, &len, NULL))
		text = NULL;
	for (char *line = text, *next; line && *line && !seen; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		if (!sp2)
			continue;
		*sp1 = *sp2 = '\0';
		if (strcmp(line, name))
			continue;
		seen = true;
		int r = bk_role_parse(sp1 + 1);
		if ((r == BK_ROLE_STAFF || r == BK_ROLE_ADMIN) &&
		    crypto_pwhash_str_verify(sp2 + 1, password, strlen(password)) == 0) {
			*role = (enum bk_role)r;
			rc = 1;
		}
	}
	if (!seen) {
		/* spend on an unknown name the time a wrong password costs (one
		 * Argon2id computation), so the answer's timing tells nothing */
		char dummy[crypto_pwhash_STRBYTES];
		if (crypto_pwhash_str(dummy, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
				      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
			rc = 0;
	}
	free(text);
	free(path);
	return rc;
}

/* ---- sessions ---------------------------------------------------------------- */

struct session {
	char token[BK_AUTH_TOKEN_HEX], csrf[BK_AUTH_TOKEN_HEX];
	char name[BK_AUTH_NAME_MAX + 1];
	enum bk_role role;
	time_t expires; /* 0: free slot */
};

struct client {
	char addr[64];
	int fails;
	time_t since;
};

struct bk_sessions {
	pthread_mutex_t lock;
	struct session s[MAX_SESSIONS];
	struct client c[MAX_CLIENTS];
};

void bk_auth_random_hex(char *out, size_t n)
{
	unsigned char b[64];
	if (n > sizeof(b))
		n = sizeof(b);
	randombytes_buf(b, n);
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

bool bk_auth_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

int bk_sessions_new(struct bk_sessions **out, struct bk_error *err)
{
	*out = NULL;
	if (sodium_init() < 0)
		return bk_error_set(err, "cannot initialize libsodium");
	struct bk_sessions *s = calloc(1, sizeof(*s));
	if (!s)
		return bk_error_set(err, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

void bk_sessions_free(struct bk_sessions **s)
{
	if (!s || !*s)
		return;
	pthread_mutex_destroy(&(*s)->lock);
	sodium_memzero(*s, sizeof(**s));
	free(*s);
	*s = NULL;
}

int bk_sessions_start(struct bk_sessions *s, const char *name, enum bk_role role, char *token,
		      char *csrf, struct bk_error *err)
{
	time_t now = time(NULL);
	struct session *slot = NULL;

	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < MAX_SESSIONS; i++) {
		if (s->s[i].expires <= now) {
			slot = &s->s[i];
			break;
		}
		/* full: the session closest to its end makes room */
		if (!slot || s->s[i].expires < slot->expires)
			slot = &s->s[i];
	}
	bk_auth_random_hex(slot->token, 32);
	bk_auth_random_hex(slot->csrf, 32);
	snprintf(slot->name, sizeof(slot->name), "%s", name);
	slot->role = role;
	slot->expires = now + BK_AUTH_SESSION_S;
	memcpy(token, slot->token, BK_AUTH_TOKEN_HEX);
	memcpy(csrf, slot->csrf, BK_AUTH_TOKEN_HEX);
	pthread_mutex_unlock(&s->lock);
	(void)err;
	return 0;
}

bool bk_sessions_find(struct bk_sessions *s, const char *token, char *name, enum bk_role *role, char *csrf)
{
	time_t now = time(NULL);
	bool found = false;

	if (!token || strlen(token) != BK_AUTH_TOKEN_HEX - 1)
		return false;
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < MAX_SESSIONS && !found; i++) {
		struct session *x = &s->s[i];
		if (x->expires > now && bk_auth_equal(x->token, token)) {
			found = true;
			snprintf(name, BK_AUTH_NAME_MAX + 1, "%s", x->name);
			*role = x->role;
			memcpy(csrf, x->csrf, BK_AUTH_TOKEN_HEX);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return found;
}

void bk_sessions_end(struct bk_sessions *s, const char *token)
{
	if (!token)
		return;
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (s->s[i].expires && bk_auth_equal(s->s[i].token, token))
			memset(&s->s[i], 0, sizeof(s->s[i]));
	pthread_mutex_unlock(&s->lock);
}

static struct client *client_of(struct bk_sessions *s, const char *addr, bool make)
{
	struct client *oldest = &s->c[0];
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (!strcmp(s->c[i].addr, addr))
			return &s->c[i];
		if (s->c[i].since < oldest->since)
			oldest = &s->c[i];
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
	return oldest;
}

bool bk_sessions_may_try(struct bk_sessions *s, const char *client)
{
	bool ok = true;
	pthread_mutex_lock(&s->lock);
	struct client *c = client_of(s, client ? client : "?", false);
	if (c && c->fails >= BK_AUTH_MAX_FAILS && time(NULL) - c->since < BK_AUTH_FAIL_WINDOW)
		ok = false;
	pthread_mutex_unlock(&s->lock);
	return ok;
}

void bk_sessions_failed(struct bk_sessions *s, const char *client)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&s->lock);
	struct client *c = client_of(s, client ? client : "?", true);
	if (now - c->since >= BK_AUTH_FAIL_WINDOW) {
		c->fails = 0;
		c->since = now;
	}
	c->fails++;
	pthread_mutex_unlock(&s->lock);
}
