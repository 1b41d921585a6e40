/*
 * web/auth.h — staff accounts and sessions of the web archive.
 *
 * Accounts: ARCHIVE/auth/users, one line per user, "NAME ROLE HASH", ROLE
 * staff or admin, HASH the password's Argon2id string from libsodium
 * (crypto_pwhash_str at the interactive limits: salt and parameters in
 * the string). ARCHIVE/auth/ is made 0700, so the file is 0600: readable
 * by the archive's owner only, who runs `bunko user add` and `bunko
 * serve`. Names are 1 to 64 of [A-Za-z0-9._-].
 *
 * Sessions live in the server's memory only (a restart logs everyone
 * out): a random 256-bit token (hex) in an HttpOnly SameSite=Strict
 * cookie, a CSRF token of its own for the forms of the session, and an
 * expiry 8 hours after login. Failed logins are limited per client
 * address: after BK_AUTH_MAX_FAILS within BK_AUTH_FAIL_WINDOW seconds,
 * further attempts are refused until the window has passed.
 */
#ifndef BUNKO_WEB_AUTH_H
#define BUNKO_WEB_AUTH_H

#include <stdbool.h>
#include <time.h>

#include "bunko/common.h"
#include "index/index.h"

#define BK_AUTH_TOKEN_HEX 65   /* 32 random bytes as hex, and the NUL */
#define BK_AUTH_SESSION_S (8 * 3600)
#define BK_AUTH_MAX_FAILS 5
#define BK_AUTH_FAIL_WINDOW 60
#define BK_AUTH_NAME_MAX 64

/* Adds or replaces user `name` with `role` (staff or admin) and the hash
 * of `password` (1 to 1024 bytes), atomically. */
int bk_auth_user_add(const char *archive, const char *name, enum bk_role role, const char *password,
		     struct bk_error *err);
/* Checks name and password against the users file: 1 and *role set when
 * they match, 0 when not (unknown user or wrong password alike), -1 on
 * error (no users file is no user: 0). */
int bk_auth_check(const char *archive, const char *name, const char *password, enum bk_role *role,
		  struct bk_error *err);

struct bk_sessions;
int bk_sessions_new(struct bk_sessions **s, struct bk_error *err);
void bk_sessions_free(struct bk_sessions **s);
/* Starts a session; token and csrf (BK_AUTH_TOKEN_HEX each) are filled. */
int bk_sessions_start(struct bk_sessions *s, const char *name, enum bk_role role, char *token,
		      char *csrf, struct bk_error *err);
/* The live session of `token`: true with its name (copied, up to
 * BK_AUTH_NAME_MAX), role and CSRF token. */
bool bk_sessions_find(struct bk_sessions *s, const char *token, char *name, enum bk_role *role, char *csrf);
void bk_sessions_end(struct bk_sessions *s, const char *token);
/* Rate limit: false when `client` has failed too often lately. */
bool bk_sessions_may_try(struct bk_sessions *s, const char *client);
void bk_sessions_failed(struct bk_sessions *s, const char *client);

/* `n` random bytes as hex into out (2n+1 bytes). */
void bk_auth_random_hex(char *out, size_t n);
/* Constant-time comparison of two NUL-terminated strings. */
bool bk_auth_equal(const char *a, const char *b);

#endif
