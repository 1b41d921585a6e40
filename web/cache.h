/*
 * web/cache.h — the search page's cache: the HTML of a results page (what
 * follows the page's frame, which holds the user's name and token and is
 * never cached), by a key the caller makes of the role, the language and
 * every argument of the search, valid while the index's version
 * (bk_index_version: a put or a rebuild changes it) is the one it was made
 * at, and for at most the lifetime it was put with.
 *
 * Why: a results page costs a search and its facets (for a common word,
 * a walk of the index's candidates and a sample of their text: index.h,
 * BK_FACET_EXACT); researchers repeat queries (paging, facets, the back
 * button), and a repeated query then costs a copy. Estimated facets are
 * kept too (the same index gives the same estimate). A page cut short by
 * the time limit is kept for a shorter while (BK_WEB_CACHE_CUT_TTL_S): it
 * says it is incomplete, and under load computing it again for every
 * visitor who asks would only be cut short again, holding a search slot
 * each time.
 *
 * Thread-safe (one mutex, held for a lookup or an insertion and its copy).
 * Set-associative by a hash of the key, four entries a set: an insertion
 * replaces the least recently used entry of its set.
 */
#ifndef BUNKO_WEB_CACHE_H
#define BUNKO_WEB_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "bunko/buf.h"
#include "bunko/common.h"

#define BK_WEB_CACHE_ENTRIES 1024
#define BK_WEB_CACHE_TTL_S 300    /* a complete page */
#define BK_WEB_CACHE_CUT_TTL_S 60 /* a page cut short by the time limit */

struct bk_web_cache;

int bk_web_cache_new(struct bk_web_cache **c, int entries, struct bk_error *err);
void bk_web_cache_free(struct bk_web_cache **c);
/* Appends the entry of `key` made at `version` to out: true if there is
 * one, not older than the lifetime it was put with. */
bool bk_web_cache_get(struct bk_web_cache *c, const char *key, const char *version, struct bk_buf *out);
/* Keeps a copy of data[0..len) for `key` at `version`, for ttl_s seconds
 * (silently not, when out of memory). */
void bk_web_cache_put(struct bk_web_cache *c, const char *key, const char *version, const void *data,
		      size_t len, int ttl_s);

#endif
