/*
 * archive/meta.c — struct bk_doc_meta and its bag-info.txt form (see meta.h
 * for the format and its guarantees).
 */
#include "archive/meta.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bunko/utf8.h"

void bk_doc_meta_init(struct bk_doc_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->box = -1;
	meta->volume = -1;
	meta->profile = BK_PROFILE_RECORD;
	meta->access = BK_ACCESS_PUBLIC;
}

void bk_doc_meta_release(struct bk_doc_meta *meta)
{
	if (!meta)
		return;
	free(meta->id);
	free(meta->collection);
	free(meta->title);
	free(meta->date);
	free(meta->lang);
	for (size_t i = 0; i < meta->nsources; i++)
		free(meta->sources[i]);
	free(meta->sources);
	for (size_t i = 0; i < meta->nmissing; i++)
		free(meta->missing[i]);
	free(meta->missing);
	free(meta->created);
	free(meta->software);
	bk_doc_meta_init(meta);
}

int bk_doc_meta_set(char **field, const char *value, struct bk_error *err)
{
	char *copy = NULL;

	if (value) {
		copy = strdup(value);
		if (!copy)
			return bk_error_set(err, "out of memory copying metadata");
	}
	free(*field);
	*field = copy;
	return 0;
}

int bk_doc_meta_add_source(struct bk_doc_meta *meta, const char *name,
			   struct bk_error *err)
{
	for (size_t i = 0; i < meta->nsources; i++)
		if (!strcmp(meta->sources[i], name))
			return 0;
	char **grown = realloc(meta->sources,
			       (meta->nsources + 1) * sizeof(*grown));
	if (!grown)
		return bk_error_set(err, "out of memory adding source '%s'", name);
	meta->sources = grown;
	meta->sources[meta->nsources] = strdup(name);
	if (!meta->sources[meta->nsources])
		return bk_error_set(err, "out of memory adding source '%s'", name);
	meta->nsources++;
	return 0;
}

int bk_doc_meta_add_missing(struct bk_doc_meta *meta, const char *line,
			    struct bk_error *err)
{
	char **grown = realloc(meta->missing, (meta->nmissing + 1) * sizeof(*grown));
	if (!grown)
		return bk_error_set(err, "out of memory");
	meta->missing = grown;
	if (!(meta->missing[meta->nmissing] = strdup(line)))
		return bk_error_set(err, "out of memory");
	meta->nmissing++;
	return 0;
}

int bk_doc_meta_copy(struct bk_doc_meta *dst, const struct bk_doc_meta *src,
		     struct bk_error *err)
{
	bk_doc_meta_init(dst);
	dst->box = src->box;
	dst->volume = src->volume;
	dst->profile = src->profile;
	dst->access = src->access;
	dst->npages = src->npages;
	if (bk_doc_meta_set(&dst->id, src->id, err) ||
	    bk_doc_meta_set(&dst->collection, src->collection, err) ||
	    bk_doc_meta_set(&dst->title, src->title, err) ||
	    bk_doc_meta_set(&dst->date, src->date, err) ||
	    bk_doc_meta_set(&dst->lang, src->lang, err) ||
	    bk_doc_meta_set(&dst->created, src->created, err) ||
	    bk_doc_meta_set(&dst->software, src->software, err))
		goto fail;
	for (size_t i = 0; i < src->nsources; i++)
		if (bk_doc_meta_add_source(dst, src->sources[i], err))
			goto fail;
	for (size_t i = 0; i < src->nmissing; i++)
		if (bk_doc_meta_add_missing(dst, src->missing[i], err))
			goto fail;
	return 0;
fail:
	bk_doc_meta_release(dst);
	return -1;
}

/* A copy of `name` fit for an error message: control characters become
 * '?', and long names are cut. */
static void printable_name(char *out, size_t outsize, const char *name)
{
	size_t i = 0;

	for (; name[i] && i + 1 < outsize; i++) {
		unsigned char c = (unsigned char)name[i];
		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
}

int bk_text_check(const char *what, const char *text, size_t max,
		  struct bk_error *err)
{
	char shown[72];
	size_t len = strlen(text);

	printable_name(shown, sizeof(shown), text);
	if (!len)
		return bk_error_set(err, "%s is empty", what);
	if (len > max)
		return bk_error_set(err, "%s '%s...' is longer than %zu bytes", what,
				    shown, max);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7f)
			return bk_error_set(err, "%s '%s' contains a control character",
					    what, shown);
	}
	if (!bk_utf8_valid(text, len))
		return bk_error_set(err, "%s '%s' is not valid UTF-8", what, shown);
	return 0;
}

int bk_name_check(const char *what, const char *name, struct bk_error *err)
{
	char shown[BK_NAME_MAX + 8];

	if (!name || !*name)
		return bk_error_set(err, "%s is empty", what);
	if (bk_text_check(what, name, BK_NAME_MAX, err))
		return -1;
	printable_name(shown, sizeof(shown), name);
	if (strchr(name, '/'))
		return bk_error_set(err, "%s '%s' contains '/'", what, shown);
	if (name[0] == '.')
		return bk_error_set(err, "%s '%s' must not start with '.'", what,
				    shown);
	return 0;
}

/* RFC 8493 2.1.3: CR, LF and '%' (and only those) are percent-encoded. */
char *bk_bag_encode(const char *path)
{
	size_t extra = 0;
	for (const char *p = path; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '%')
			extra += 2;
	char *out = malloc(strlen(path) + extra + 1);
	char *o = out;
	if (!out)
		return NULL;
	for (const char *p = path; *p; p++) {
		if (*p == '\r' || *p == '\n' || *p == '%') {
			o += sprintf(o, "%%%02X", (unsigned char)*p);
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

void bk_bag_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '%' && p[1] == '0' && (p[2] == 'A' || p[2] == 'a')) {
			*o++ = '\n';
			p += 2;
		} else if (p[0] == '%' && p[1] == '0' && (p[2] == 'D' || p[2] == 'd')) {
			*o++ = '\r';
			p += 2;
		} else if (p[0] == '%' && p[1] == '2' && p[2] == '5') {
			*o++ = '%';
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

static int check_value(const char *key, const char *value, struct bk_error *err)
{
	if (value && strpbrk(value, "\r\n"))
		return bk_error_set(err, "metadata '%s' contains a line break", key);
	return 0;
}

static int write_field(FILE *fp, const char *key, const char *value,
		       struct bk_error *err)
{
	if (!value)
		return 0;
	if (check_value(key, value, err))
		return -1;
	fprintf(fp, "%s: %s\n", key, value);
	return 0;
}

static int write_int(FILE *fp, const char *key, int value)
{
	if (value >= 0)
		fprintf(fp, "%s: %d\n", key, value);
	return 0;
}

int bk_meta_write(FILE *fp, const struct bk_doc_meta *meta,
		  const char *bagging_date, const char *payload_oxum,
		  struct bk_error *err)
{
	if (write_field(fp, "External-Identifier", meta->id, err) ||
	    write_field(fp, "Bunko-Collection", meta->collection, err) ||
	    write_field(fp, "Bunko-Title", meta->title, err) ||
	    write_field(fp, "Bunko-Date", meta->date, err) ||
	    write_int(fp, "Bunko-Box", meta->box) ||
	    write_int(fp, "Bunko-Volume", meta->volume) ||
	    write_field(fp, "Bunko-Profile", bk_profile_name(meta->profile), err) ||
	    write_field(fp, "Bunko-Access", bk_access_name(meta->access), err) ||
	    write_field(fp, "Bunko-Lang", meta->lang, err))
		return -1;
	for (size_t i = 0; i < meta->nsources; i++) {
		/* a file name may hold a line break: encoded as in manifests */
		char *enc = bk_bag_encode(meta->sources[i]);
		int bad = !enc || write_field(fp, "Bunko-Source", enc, err);
		if (!enc)
			bk_error_set(err, "out of memory writing metadata");
		free(enc);
		if (bad)
			return -1;
	}
	fprintf(fp, "Bunko-Pages: %d\n", meta->npages > 0 ? meta->npages : 0);
	if (meta->nmissing)
		fprintf(fp, "Bunko-Incomplete: yes\n");
	for (size_t i = 0; i < meta->nmissing; i++) {
		char *enc = bk_bag_encode(meta->missing[i]);
		int bad = !enc || write_field(fp, "Bunko-Missing", enc, err);
		if (!enc)
			bk_error_set(err, "out of memory writing metadata");
		free(enc);
		if (bad)
			return -1;
	}
	if (write_field(fp, "Bunko-Created", meta->created, err) ||
	    write_field(fp, "Bunko-Software", meta->software, err) ||
	    write_field(fp, "Bag-Software-Agent", "bunko " BUNKO_VERSION, err) ||
	    write_field(fp, "Bagging-Date", bagging_date, err) ||
	    write_field(fp, "Payload-Oxum", payload_oxum, err))
		return -1;
	if (ferror(fp))
		return bk_error_set(err, "cannot write metadata: %s", strerror(errno));
	return 0;
}

/* Where one parse stands: the file name and line number for messages. */
struct meta_parser {
	const char *name;
	int lineno;
	int seen_access;
	struct bk_doc_meta *meta;
};

static int parse_int(struct meta_parser *mp, const char *key, const char *value,
		     int *out, struct bk_error *err)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < 0 || v > INT_MAX)
		return bk_error_set(err, "'%s' line %d: %s '%s' is not a number",
				    mp->name, mp->lineno, key, value);
	*out = (int)v;
	return 0;
}

static int apply_field(struct meta_parser *mp, const char *key,
		       const char *value, struct bk_error *err)
{
	struct bk_doc_meta *meta = mp->meta;

	if (!strcasecmp(key, "External-Identifier"))
		return bk_doc_meta_set(&meta->id, value, err);
	if (!strcasecmp(key, "Bunko-Collection"))
		return bk_doc_meta_set(&meta->collection, value, err);
	if (!strcasecmp(key, "Bunko-Title"))
		return bk_doc_meta_set(&meta->title, value, err);
	if (!strcasecmp(key, "Bunko-Date"))
		return bk_doc_meta_set(&meta->date, value, err);
	if (!strcasecmp(key, "Bunko-Lang"))
		return bk_doc_meta_set(&meta->lang, value, err);
	if (!strcasecmp(key, "Bunko-Created"))
		return bk_doc_meta_set(&meta->created, value, err);
	if (!strcasecmp(key, "Bunko-Software"))
		return bk_doc_meta_set(&meta->software, value, err);
	if (!strcasecmp(key, "Bunko-Source")) {
		char *name = strdup(value);
		if (!name)
			return bk_error_set(err, "out of memory reading '%s'", mp->name);
		bk_bag_decode(name);
		int rc = bk_doc_meta_add_source(meta, name, err);
		free(name);
		return rc;
	}
	if (!strcasecmp(key, "Bunko-Missing")) {
		char *line = strdup(value);
		if (!line)
			return bk_error_set(err, "out of memory reading '%s'", mp->name);
		bk_bag_decode(line);
		int rc = bk_doc_meta_add_missing(meta, line, err);
		free(line);
		return rc;
	}
	if (!strcasecmp(key, "Bunko-Box"))
		return parse_int(mp, key, value, &meta->box, err);
	if (!strcasecmp(key, "Bunko-Volume"))
		return parse_int(mp, key, value, &meta->volume, err);
	if (!strcasecmp(key, "Bunko-Pages"))
		return parse_int(mp, key, value, &meta->npages, err);
	if (!strcasecmp(key, "Bunko-Profile")) {
		int p = bk_profile_parse(value);
		if (p < 0)
			return bk_error_set(err, "'%s' line %d: unknown profile '%s'",
					    mp->name, mp->lineno, value);
		meta->profile = (enum bk_profile)p;
		return 0;
	}
	if (!strcasecmp(key, "Bunko-Access")) {
		int a = bk_access_parse(value);
		if (a < 0)
			return bk_error_set(err, "'%s' line %d: unknown access level '%s'",
					    mp->name, mp->lineno, value);
		/* Repeated: the most restrictive level wins. */
		if (!mp->seen_access || (enum bk_access)a > meta->access)
			meta->access = (enum bk_access)a;
		mp->seen_access = 1;
		return 0;
	}
	return 0; /* BagIt's own keys and anything newer: not ours to keep */
}

/* Splits one unfolded "Key: value" line (modified in place) and applies it. */
static int parse_logical_line(struct meta_parser *mp, char *line,
			      struct bk_error *err)
{
	char *colon = strchr(line, ':');
	char *key_end, *value;

	if (!colon || colon == line)
		return bk_error_set(err, "'%s' line %d: expected 'Key: value'",
				    mp->name, mp->lineno);
	key_end = colon;
	while (key_end > line && (key_end[-1] == ' ' || key_end[-1] == '\t'))
		key_end--;
	*key_end = '\0';
	value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	return apply_field(mp, line, value, err);
}

int bk_meta_parse(const char *text, size_t len, const char *name,
		  struct bk_doc_meta *meta, struct bk_error *err)
{
	struct meta_parser mp = { name, 0, 0, meta };
	char *logical = NULL;  /* the current unfolded line */
	size_t llen = 0;
	int logical_lineno = 0, rc = -1;
	size_t pos = 0;

	bk_doc_meta_init(meta);
	logical = malloc(len + 1);
	if (!logical) {
		bk_error_set(err, "cannot parse '%s': out of memory", name);
		goto out;
	}
	while (pos < len) {
		size_t start = pos, end;
		while (pos < len && text[pos] != '\n')
			pos++;
		end = pos;
		if (pos < len)
			pos++;
		if (end > start && text[end - 1] == '\r')
			end--;
		mp.lineno++;
		if (memchr(text + start, '\0', end - start)) {
			bk_error_set(err, "'%s' line %d: contains a NUL byte", name,
				     mp.lineno);
			goto out;
		}
		int continuation = end > start &&
				   (text[start] == ' ' || text[start] == '\t');
		if (continuation && llen) {
			while (start < end && (text[start] == ' ' || text[start] == '\t'))
				start++;
			logical[llen++] = ' ';
			memcpy(logical + llen, text + start, end - start);
			llen += end - start;
			continue;
		}
		if (llen) {
			logical[llen] = '\0';
			int here = mp.lineno;
			mp.lineno = logical_lineno;
			if (parse_logical_line(&mp, logical, err))
				goto out;
			mp.lineno = here;
			llen = 0;
		}
		if (end == start)
			continue; /* blank lines are tolerated */
		memcpy(logical, text + start, end - start);
		llen = end - start;
		logical_lineno = mp.lineno;
	}
	if (llen) {
		logical[llen] = '\0';
		mp.lineno = logical_lineno;
		if (parse_logical_line(&mp, logical, err))
			goto out;
	}
	if (!mp.seen_access)
		meta->access = BK_ACCESS_CONFIDENTIAL;
	rc = 0;
out:
	free(logical);
	if (rc)
		bk_doc_meta_release(meta);
	return rc;
}
