/*
 * ocr/xml.c — the libxml2 adapter (see xml.h): an xmlTextWriter on an
 * output buffer whose write callback appends to a FILE or a bunko buffer.
 *
 * What libxml2 does not do and this file does: it copies the bytes of text
 * and attribute values as they are, so a string that is not well-formed
 * XML character data is cleaned (U+FFFD per offending byte) before it is
 * handed over; write errors are kept here (libxml2 would print them); and
 * the writer is never asked to end the document, which
 * would add a line break the formats do not want — open elements are
 * counted here and closed one by one.
 */
#include "ocr/xml.h"

#include <libxml/xmlstring.h>
#include <libxml/chvalid.h>
#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct bk_xml {
	xmlTextWriterPtr w;
	FILE *fp;            /* the stream written to, or NULL */
	struct bk_buf *buf;  /* the buffer appended to, or NULL */
	size_t depth;        /* elements open */
	bool failed;
};

/* libxml2's output callback. A failed write is recorded here and not
 * returned to libxml2, which would print its own message on stderr: the
 * error reaches the caller through bk_xml_flush, once. */
static int write_out(void *ctx, const char *data, int len)
{
	struct bk_xml *x = ctx;

	if (len <= 0 || x->failed)
		return len > 0 ? len : 0;
	if (x->fp) {
		if (fwrite(data, 1, (size_t)len, x->fp) != (size_t)len || ferror(x->fp))
			x->failed = true;
	} else {
		bk_buf_add(x->buf, data, (size_t)len);
		if (x->buf->failed)
			x->failed = true;
	}
	return len;
}

static struct bk_xml *xml_new(FILE *fp, struct bk_buf *buf)
{
	struct bk_xml *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->fp = fp;
	x->buf = buf;
	/* no encoder: the text handed over is UTF-8 already (see clean());
	 * bk_xml_declaration's UTF-8 encoder passes it through unchanged */
	xmlOutputBufferPtr out = xmlOutputBufferCreateIO(write_out, NULL, x, NULL);
	if (!out) {
		free(x);
		return NULL;
	}
	x->w = xmlNewTextWriter(out); /* owns `out` from here, also on failure */
	if (!x->w) {
		free(x);
		return NULL;
	}
	return x;
}

struct bk_xml *bk_xml_new_file(FILE *fp)
{
	return xml_new(fp, NULL);
}

struct bk_xml *bk_xml_new_buf(struct bk_buf *buf)
{
	return xml_new(NULL, buf);
}

void bk_xml_free(struct bk_xml **x)
{
	if (!*x)
		return;
	xmlFreeTextWriter((*x)->w);
	free(*x);
	*x = NULL;
}

static void check(struct bk_xml *x, int rc)
{
	if (rc < 0)
		x->failed = true;
}

/* `s` if it is well-formed XML character data, else a copy with U+FFFD for
 * each byte that does not begin an allowed character (the caller frees a
 * result that is not `s`); NULL when out of memory. */
static const char *clean(const char *s, char **copy)
{
	const unsigned char *p = (const unsigned char *)s;
	struct bk_buf b = { 0 };
	bool dirty = false;

	*copy = NULL;
	while (*p) {
		int len = 4;
		int c = xmlGetUTF8Char(p, &len);
		/* xmlGetUTF8Char takes overlong forms (C0 AF for '/'): refused here */
		bool overlong = (len == 2 && c < 0x80) || (len == 3 && c < 0x800) ||
				(len == 4 && c < 0x10000);
		if (c < 0 || overlong || !xmlIsCharQ(c)) {
			if (!dirty) {
				bk_buf_add(&b, s, (size_t)((const char *)p - s));
				dirty = true;
			}
			bk_buf_addstr(&b, "\xEF\xBF\xBD");
			p++;
			continue;
		}
		if (dirty)
			bk_buf_add(&b, p, (size_t)len);
		p += len;
	}
	if (!dirty)
		return s;
	if (b.failed) {
		bk_buf_release(&b);
		return NULL;
	}
	*copy = b.data;
	return b.data;
}

void bk_xml_declaration(struct bk_xml *x)
{
	if (x->failed)
		return;
	check(x, xmlTextWriterStartDocument(x->w, "1.0", "UTF-8", NULL));
}

void bk_xml_doctype(struct bk_xml *x, const char *root, const char *public_id,
		    const char *system_id)
{
	if (x->failed)
		return;
	check(x, xmlTextWriterWriteDTD(x->w, BAD_CAST root, BAD_CAST public_id,
				       BAD_CAST system_id, NULL));
}

void bk_xml_pi(struct bk_xml *x, const char *target, const char *content)
{
	if (x->failed)
		return;
	check(x, xmlTextWriterWritePI(x->w, BAD_CAST target, BAD_CAST content));
}

void bk_xml_start(struct bk_xml *x, const char *name)
{
	if (x->failed)
		return;
	check(x, xmlTextWriterStartElement(x->w, BAD_CAST name));
	if (!x->failed)
		x->depth++;
}

void bk_xml_attr(struct bk_xml *x, const char *name, const char *value)
{
	char *copy;
	if (x->failed)
		return;
	const char *v = clean(value ? value : "", &copy);
	if (!v) {
		x->failed = true;
		return;
	}
	check(x, xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST v));
	free(copy);
}

void bk_xml_attrf(struct bk_xml *x, const char *name, const char *fmt, ...)
{
	char *value = NULL;
	va_list ap;

	if (x->failed)
		return;
	va_start(ap, fmt);
	int n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0) {
		x->failed = true;
		return;
	}
	bk_xml_attr(x, name, value);
	free(value);
}

void bk_xml_text(struct bk_xml *x, const char *text)
{
	char *copy;
	if (x->failed)
		return;
	const char *t = clean(text ? text : "", &copy);
	if (!t) {
		x->failed = true;
		return;
	}
	check(x, xmlTextWriterWriteString(x->w, BAD_CAST t));
	free(copy);
}

void bk_xml_end(struct bk_xml *x)
{
	if (x->failed || !x->depth)
		return;
	check(x, xmlTextWriterEndElement(x->w));
	x->depth--;
}

void bk_xml_end_full(struct bk_xml *x)
{
	if (x->failed || !x->depth)
		return;
	check(x, xmlTextWriterFullEndElement(x->w));
	x->depth--;
}

void bk_xml_element(struct bk_xml *x, const char *name, const char *text)
{
	bk_xml_start(x, name);
	bk_xml_text(x, text);
	bk_xml_end(x);
}

int bk_xml_flush(struct bk_xml *x)
{
	if (!x->failed)
		check(x, xmlTextWriterFlush(x->w));
	if (!x->failed && x->fp && ferror(x->fp))
		x->failed = true;
	return x->failed ? -1 : 0;
}

int bk_xml_finish(struct bk_xml **x)
{
	if (!*x)
		return -1;
	while ((*x)->depth && !(*x)->failed)
		bk_xml_end(*x);
	int rc = bk_xml_flush(*x);
	bk_xml_free(x);
	return rc;
}
