/*
 * ocr/xml.h — the one XML writer of bunko: every XML file it writes (the
 * hOCR and ALTO sidecars, the PDFs' XMP packet) is made by libxml2's
 * xmlTextWriter through this interface, which keeps libxml2's types inside
 * ocr/xml.c.
 *
 * Guarantees: the markup, the quoting and the escaping of text and
 * attribute values are libxml2's, so the output always parses; text that
 * XML 1.0 cannot carry (bytes that are not UTF-8, an encoded surrogate or
 * overlong form, control characters other than tab, LF and CR, U+FFFE,
 * U+FFFF) is written as U+FFFD, one per offending byte, everything else
 * (characters outside the Basic Multilingual Plane included) as its UTF-8
 * bytes. Nothing is indented for the caller: whitespace between elements is
 * written as text (bk_xml_text), so the layout of each format is its
 * writer's choice and mixed content (hOCR words) gets no stray spaces.
 *
 * Errors are sticky, as in bunko/buf.h: after a failed write or allocation
 * every call does nothing, and bk_xml_flush / bk_xml_finish report it once.
 */
#ifndef BUNKO_OCR_XML_H
#define BUNKO_OCR_XML_H

#include <stdio.h>

#include "bunko/buf.h"

struct bk_xml;

/* A writer onto `fp` (not owned: bk_xml_free leaves it open), or one that
 * appends to `buf` (not owned); NULL when out of memory. */
struct bk_xml *bk_xml_new_file(FILE *fp);
struct bk_xml *bk_xml_new_buf(struct bk_buf *buf);
void bk_xml_free(struct bk_xml **x);

/* <?xml version="1.0" encoding="UTF-8"?> and a line break. */
void bk_xml_declaration(struct bk_xml *x);
/* <!DOCTYPE root PUBLIC "public_id" "system_id"> */
void bk_xml_doctype(struct bk_xml *x, const char *root, const char *public_id,
		    const char *system_id);
/* <?target content?> */
void bk_xml_pi(struct bk_xml *x, const char *target, const char *content);

void bk_xml_start(struct bk_xml *x, const char *name);
void bk_xml_attr(struct bk_xml *x, const char *name, const char *value);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void bk_xml_attrf(struct bk_xml *x, const char *name, const char *fmt, ...);
void bk_xml_text(struct bk_xml *x, const char *text);
/* Closes the innermost open element (<name/> when it has no content). */
void bk_xml_end(struct bk_xml *x);
/* The same, always as <name></name>: for XHTML, whose HTML readers take
 * <span/> for an opening tag. */
void bk_xml_end_full(struct bk_xml *x);
/* <name>text</name> */
void bk_xml_element(struct bk_xml *x, const char *name, const char *text);

/* Writes out what libxml2 holds back: 0, or -1 when any call so far failed
 * (a write error of the stream, an allocation). */
int bk_xml_flush(struct bk_xml *x);
/* Closes every open element, flushes, frees *x; 0 or -1 as bk_xml_flush.
 * *x is NULL afterwards in both cases. */
int bk_xml_finish(struct bk_xml **x);

#endif
