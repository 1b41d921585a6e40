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
 * One computation per page: when many visitors ask for the same page
 * that is not there yet (a link on a busy page, a class's assignment),
 * the first claims it (bk_web_cache_claim) and the others wait for its
 * answer instead of each computing the same search, which under load
 * would multiply the work of the very pages everyone is waiting for.
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
#define BK_WEB_CACHE_CLAIMS 64    /* pages being computed at once under a claim */

struct bk_web_cache;

int bk_web_cache_new(struct bk_web_cache **c, int entries, struct bk_error *err);
void bk_web_cache_free(struct bk_web_cache **c);
/* Keeps a copy of data[0..len) for `key` at `version`, for ttl_s seconds
 * (silently not, when out of memory). */
void bk_web_cache_put(struct bk_web_cache *c, const char *key, const char *version, const void *data,
		      size_t len, int ttl_s);

enum bk_web_cache_claim {
	BK_WEB_CACHE_HIT,     /* the entry was there (or came while waiting): appended to out */
	BK_WEB_CACHE_CLAIMED, /* the caller computes it, puts it, and unclaims */
	BK_WEB_CACHE_UNCLAIMED /* compute it without a claim: every claim is taken, or
				  the one computing it took longer than wait_ms */
};
/* Looks `key` up at `version`: BK_WEB_CACHE_HIT when its entry is there
 * and not older than the lifetime it was put with (appended to out).
 * When it is not there and another request is computing it, waits for
 * that one's answer (at most wait_ms), else claims it for the caller. A caller that gets BK_WEB_CACHE_CLAIMED must
 * call bk_web_cache_unclaim once, after bk_web_cache_put or instead of it. */
enum bk_web_cache_claim bk_web_cache_claim(struct bk_web_cache *c, const char *key, const char *version,
					   struct bk_buf *out, int wait_ms);
/* Gives the claim of `key` back and wakes the requests waiting for it. */
void bk_web_cache_unclaim(struct bk_web_cache *c, const char *key);

#endif
