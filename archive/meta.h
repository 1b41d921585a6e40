/*
 * archive/meta.h — a stored document's descriptive metadata, and its text
 * form: the "Key: value" lines of the bag's bag-info.txt (BagIt, RFC 8493).
 *
 * bag-info.txt as written by bk_meta_write():
 *   External-Identifier: <id>
 *   Bunko-Collection: <collection>
 *   Bunko-Title: <title>            (omitted when NULL; likewise Date, Lang)
 *   Bunko-Date: <YYYY[-MM[-DD]]>
 *   Bunko-Box: <n>                  (omitted when negative: unknown)
 *   Bunko-Volume: <n>               (omitted when negative)
 *   Bunko-Profile: record|bylaw|ukiyoe|map
 *   Bunko-Access: public|restricted|confidential
 *   Bunko-Lang: <tesseract languages>
 *   Bunko-Source: <original file name>   (one line per source, in order;
 *                 CR, LF and '%' percent-encoded as in manifests)
 *   Bunko-Pages: <n>
 *   Bunko-Created: <YYYY-MM-DDTHH:MM:SSZ>
 *   Bunko-Software: <processing versions>
 *   Bag-Software-Agent: bunko <version>
 *   Bagging-Date: <YYYY-MM-DD>      (when given)
 *   Payload-Oxum: <octets>.<files>  (when given)
 *
 * Values never contain a line break: bk_meta_write() refuses them rather
 * than folding. bk_meta_parse() accepts folded values (continuation lines
 * starting with a space or tab, joined with one space), CRLF line ends and
 * unknown keys (ignored). A bag-info.txt without Bunko-Access reads as
 * confidential: a document whose level cannot be known is never shown to
 * the public by mistake.
 */
#ifndef BUNKO_ARCHIVE_META_H
#define BUNKO_ARCHIVE_META_H

#include <stddef.h>
#include <stdio.h>

#include "bunko/common.h"

#define BK_NAME_MAX 100 /* bytes, for document ids and collection names */
#define BK_TITLE_MAX 1000 /* bytes, for a title */
#define BK_FILE_NAME_MAX 255 /* bytes, for an input file's name (NAME_MAX) */

/* All strings are owned by the struct (malloc'd); NULL means unknown. */
struct bk_doc_meta {
	char *id, *collection, *title, *date;
	int box, volume;          /* negative: unknown */
	enum bk_profile profile;
	enum bk_access access;
	char *lang;               /* e.g. "jpn+jpn_vert" */
	char **sources;           /* original file names of the masters */
	size_t nsources;
	int npages;
	/* what the document lacks, one line each ("'x.tif' page 2: why"):
	 * pages and files of the scans that could not be processed; each has
	 * a placeholder page. bag-info.txt: Bunko-Incomplete: yes and one
	 * Bunko-Missing per line. */
	char **missing;
	size_t nmissing;
	char *created;            /* UTC, "YYYY-MM-DDTHH:MM:SSZ" */
	char *software;           /* processing versions */
};

/* Empty metadata: NULL strings, box = volume = -1, profile record, access
 * public, npages 0. */
void bk_doc_meta_init(struct bk_doc_meta *meta);
/* Frees every string and re-initializes. */
void bk_doc_meta_release(struct bk_doc_meta *meta);
/* Deep copy into `dst`, which this initializes (released again on failure). */
int bk_doc_meta_copy(struct bk_doc_meta *dst, const struct bk_doc_meta *src,
		     struct bk_error *err);
/* Replaces *field with a copy of value (NULL clears it). */
int bk_doc_meta_set(char **field, const char *value, struct bk_error *err);
/* Appends a line to meta->missing. */
int bk_doc_meta_add_missing(struct bk_doc_meta *meta, const char *line,
			    struct bk_error *err);
/* Appends a source file name unless it is already listed. */
int bk_doc_meta_add_source(struct bk_doc_meta *meta, const char *name,
			   struct bk_error *err);

/*
 * Checks a document id or collection name; `what` names it in the message
 * ("document id", "collection"). Valid: 1 to BK_NAME_MAX bytes of UTF-8,
 * no '/', no control character, not starting with '.' (so never "." or
 * "..", and never a hidden or staging name).
 */
int bk_name_check(const char *what, const char *name, struct bk_error *err);
/*
 * Checks one line of text (a title, an input file's name); `what` names it
 * in the message. Valid: 1 to `max` bytes of well-formed UTF-8 without
 * control characters (so no line break or tab either). The message shows
 * the text with control characters as '?', cut when long.
 */
int bk_text_check(const char *what, const char *text, size_t max,
		  struct bk_error *err);

/* BagIt path encoding (RFC 8493 2.1.3): CR, LF and '%', and only those,
 * become %0D, %0A and %25. encode returns a new string (NULL: out of
 * memory); decode works in place. */
char *bk_bag_encode(const char *path);
void bk_bag_decode(char *path);

/* Writes bag-info.txt lines for `meta`; `bagging_date` and `payload_oxum`
 * may be NULL. Fails (writing nothing useful) on a value with a line break. */
int bk_meta_write(FILE *fp, const struct bk_doc_meta *meta,
		  const char *bagging_date, const char *payload_oxum,
		  struct bk_error *err);
/* Parses bag-info.txt text; `meta` is initialized here and released again
 * on failure. `name` is the file name quoted in errors. */
int bk_meta_parse(const char *text, size_t len, const char *name,
		  struct bk_doc_meta *meta, struct bk_error *err);

#endif
