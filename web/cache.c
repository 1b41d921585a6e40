/*
 * web/cache.c — the search page's cache (see cache.h).
 */
#include "web/cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Entries per set: a key may sit in any slot of its set, so two keys of
 * the same hash slot do not keep evicting each other (direct-mapped, 200
 * queries in 1,024 slots already collide about 18 times). */
#define WAYS 4

struct entry {
	char *key, *version;
	void *data;
	size_t len;
	time_t expires;     /* CLOCK_MONOTONIC seconds */
	unsigned long used; /* the cache's tick at the last get or put: the least recent is replaced */
};

struct bk_web_cache {
	pthread_mutex_t lock;
	pthread_cond_t unclaimed; /* a claim was given back (CLOCK_MONOTONIC) */
	struct entry *slots;
	int sets;
	unsigned long tick;
	char *claims[BK_WEB_CACHE_CLAIMS]; /* keys being computed; NULL: free */
};

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The first slot of the key's set, by FNV-1a of the key. */
static struct entry *set_of(const struct bk_web_cache *c, const char *key)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &c->slots[(size_t)(h % (unsigned)c->sets) * WAYS];
}

static void entry_release(struct entry *e)
{
	free(e->key);
	free(e->version);
	free(e->data);
	memset(e, 0, sizeof(*e));
}

int bk_web_cache_new(struct bk_web_cache **out, int entries, struct bk_error *err)
{
	struct bk_web_cache *c = calloc(1, sizeof(*c));
	*out = NULL;
	int sets = entries > WAYS ? entries / WAYS : 1;
	if (!c || !(c->slots = calloc((size_t)sets * WAYS, sizeof(*c->slots)))) {
		free(c);
		return bk_error_set(err, "out of memory");
	}
	c->sets = sets;
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->unclaimed, &attr);
	pthread_condattr_destroy(&attr);
	*out = c;
	return 0;
}

void bk_web_cache_free(struct bk_web_cache **c)
{
	if (!c || !*c)
		return;
	for (int i = 0; i < (*c)->sets * WAYS; i++)
		entry_release(&(*c)->slots[i]);
	for (int i = 0; i < BK_WEB_CACHE_CLAIMS; i++)
		free((*c)->claims[i]);
	pthread_mutex_destroy(&(*c)->lock);
	pthread_cond_destroy(&(*c)->unclaimed);
	free((*c)->slots);
	free(*c);
	*c = NULL;
}

/* The entry of `key` at `version`, under the lock: a stale one is dropped. */
static bool lookup(struct bk_web_cache *c, const char *key, const char *version, struct bk_buf *out)
{
	bool hit = false;
	struct entry *set = set_of(c, key);
	for (struct entry *e = set; e < set + WAYS; e++)
		if (e->key && !strcmp(e->key, key)) {
			if (!strcmp(e->version, version) && now_s() <= e->expires) {
				bk_buf_add(out, e->data, e->len);
				e->used = ++c->tick;
				hit = true;
			} else
				entry_release(e); /* stale: the index changed, or too old */
			break;
		}
	return hit;
}

enum bk_web_cache_claim bk_web_cache_claim(struct bk_web_cache *c, const char *key, const char *version,
					   struct bk_buf *out, int wait_ms)
{
	enum bk_web_cache_claim got = BK_WEB_CACHE_UNCLAIMED;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L)
		until.tv_sec++, until.tv_nsec -= 1000000000L;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		if (lookup(c, key, version, out)) {
			got = BK_WEB_CACHE_HIT;
			break;
		}
		int mine = -1, free_claim = -1;
		for (int i = 0; i < BK_WEB_CACHE_CLAIMS; i++)
			if (c->claims[i] && !strcmp(c->claims[i], key))
				mine = i;
			else if (!c->claims[i] && free_claim < 0)
				free_claim = i;
		if (mine < 0) {
			/* nobody computes it: the caller does, under a claim if
			 * one is free (and memory allows) */
			if (free_claim >= 0 && (c->claims[free_claim] = strdup(key)))
				got = BK_WEB_CACHE_CLAIMED;
			break;
		}
		/* another computes it: its unclaim wakes us, to find its
		 * answer (or, if it gave up, to claim it ourselves) */
		if (pthread_cond_timedwait(&c->unclaimed, &c->lock, &until))
			break;
	}
	pthread_mutex_unlock(&c->lock);
	return got;
}

void bk_web_cache_unclaim(struct bk_web_cache *c, const char *key)
{
	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < BK_WEB_CACHE_CLAIMS; i++)
		if (c->claims[i] && !strcmp(c->claims[i], key)) {
			free(c->claims[i]);
			c->claims[i] = NULL;
			break;
		}
	pthread_cond_broadcast(&c->unclaimed);
	pthread_mutex_unlock(&c->lock);
}

void bk_web_cache_put(struct bk_web_cache *c, const char *key, const char *version, const void *data,
		      size_t len, int ttl_s)
{
	struct entry n = { strdup(key), strdup(version), malloc(len ? len : 1), len, now_s() + ttl_s, 0 };
	if (!n.key || !n.version || !n.data) {
		entry_release(&n);
		return;
	}
	memcpy(n.data, data, len);
	pthread_mutex_lock(&c->lock);
	/* the key's own slot if it is there, else an empty one, else the
	 * least recently used */
	struct entry *set = set_of(c, key), *e = NULL;
	for (struct entry *s = set; s < set + WAYS && !e; s++)
		if (s->key && !strcmp(s->key, key))
			e = s;
	for (struct entry *s = set; s < set + WAYS && !e; s++)
		if (!s->key)
			e = s;
	if (!e) {
		e = set;
		for (struct entry *s = set + 1; s < set + WAYS; s++)
			if (s->used < e->used)
				e = s;
	}
	entry_release(e);
	n.used = ++c->tick;
	*e = n;
	pthread_mutex_unlock(&c->lock);
}
