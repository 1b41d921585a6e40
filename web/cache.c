/*
 * web/cache.c — the search page's cache (see cache.h).
 */
#include "web/cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct entry {
	char *key, *version;
	void *data;
	size_t len;
	time_t made; /* CLOCK_MONOTONIC seconds */
};

struct bk_web_cache {
	pthread_mutex_t lock;
	struct entry *slots;
	int n;
};

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* FNV-1a of the key. */
static unsigned slot_of(const struct bk_web_cache *c, const char *key)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % (unsigned)c->n;
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
	if (!c || !(c->slots = calloc((size_t)(entries > 0 ? entries : 1), sizeof(*c->slots)))) {
		free(c);
		return bk_error_set(err, "out of memory");
	}
	c->n = entries > 0 ? entries : 1;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void bk_web_cache_free(struct bk_web_cache **c)
{
	if (!c || !*c)
		return;
	for (int i = 0; i < (*c)->n; i++)
		entry_release(&(*c)->slots[i]);
	pthread_mutex_destroy(&(*c)->lock);
	free((*c)->slots);
	free(*c);
	*c = NULL;
}

bool bk_web_cache_get(struct bk_web_cache *c, const char *key, const char *version, struct bk_buf *out)
{
	bool hit = false;
	pthread_mutex_lock(&c->lock);
	struct entry *e = &c->slots[slot_of(c, key)];
	if (e->key && !strcmp(e->key, key)) {
		if (!strcmp(e->version, version) && now_s() - e->made <= BK_WEB_CACHE_TTL_S) {
			bk_buf_add(out, e->data, e->len);
			hit = true;
		} else
			entry_release(e); /* stale: the index changed, or too old */
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void bk_web_cache_put(struct bk_web_cache *c, const char *key, const char *version, const void *data,
		      size_t len)
{
	struct entry n = { strdup(key), strdup(version), malloc(len ? len : 1), len, now_s() };
	if (!n.key || !n.version || !n.data) {
		entry_release(&n);
		return;
	}
	memcpy(n.data, data, len);
	pthread_mutex_lock(&c->lock);
	struct entry *e = &c->slots[slot_of(c, key)];
	entry_release(e);
	*e = n;
	pthread_mutex_unlock(&c->lock);
}
