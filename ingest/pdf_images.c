/*
 * ingest/pdf_images.c — the declared sizes of the images a PDF
 * page draws, read from the PDF's objects with qpdf's C API before poppler
 * decodes anything. The only file that sees qpdf_data.
 *
 * Why a second PDF library: poppler-glib tells an image's pixel size only
 * by decoding it (poppler_page_get_image), and rendering a page decodes
 * every image it draws at full size. A few hundred bytes of Flate can
 * declare a 100000x100000 image; the limit must be applied to what the
 * image dictionary declares (/Width x /Height), which qpdf reads without
 * touching the stream data.
 *
 * Damaged JPEG data: the same walk decodes each image whose only filter is
 * DCTDecode (bk_jpeg_damaged) and refuses the page if libjpeg had to patch
 * it, since poppler's decoder lets libjpeg print its warning on stderr,
 * outside bunko's error, and renders gray where the data is missing;
 * bunko's own JPEG reader refuses such data too (ocr/image.c).
 *
 * What is checked for a page (inherited /Resources included): every image
 * XObject and its /SMask and /Mask streams; the resources of form
 * XObjects, tiling patterns and soft-mask groups, recursively (at most
 * MAX_DEPTH levels: a form that draws itself is refused by poppler and
 * costs us nothing more); the appearance streams of the page's
 * annotations, which poppler renders when printing. Not checked: inline
 * images (BI ... ID ... EI inside a content stream, limited in practice to
 * small stamps; finding them needs a content-stream parser) and images
 * inside Type 3 glyphs.
 */
#include "ingest/source_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpdf/qpdf-c.h>

#include "ocr/image.h"

#define MAX_DEPTH 8

struct bk_pdf_images {
	qpdf_data qpdf;
	int npages;
	/* the last page checked and what its check said ("" when it
	 * passed): a page is checked before its big JPEG is passed through
	 * and again before it is read, and the check decodes its JPEGs */
	int checked;
	char refused[BK_ERROR_MAX];
};

/* qpdf's message for the last error, or `fallback`. */
static const char *qpdf_message(qpdf_data q, const char *fallback)
{
	if (!qpdf_has_error(q))
		return fallback;
	qpdf_error e = qpdf_get_error(q);
	const char *m = e ? qpdf_get_error_full_text(q, e) : NULL;
	return m && *m ? m : fallback;
}

int bk_pdf_images_open(struct bk_pdf_images **out, const char *path, const char *name,
		       struct bk_error *err)
{
	struct bk_pdf_images *pi = calloc(1, sizeof(*pi));
	int rc = -1;

	*out = NULL;
	if (!pi || !(pi->qpdf = qpdf_init())) {
		bk_error_set(err, "out of memory opening '%s'", name);
		goto out;
	}
	qpdf_silence_errors(pi->qpdf);
	qpdf_set_suppress_warnings(pi->qpdf, QPDF_TRUE);
	if (qpdf_read(pi->qpdf, path, NULL) & QPDF_ERRORS) {
		bk_error_set(err, "cannot open '%s': %s", name,
			     qpdf_message(pi->qpdf, "not a readable PDF"));
		goto out;
	}
	if (qpdf_push_inherited_attributes_to_page(pi->qpdf) & QPDF_ERRORS) {
		bk_error_set(err, "'%s': damaged page tree: %s", name,
			     qpdf_message(pi->qpdf, "unreadable"));
		goto out;
	}
	pi->npages = qpdf_get_num_pages(pi->qpdf);
	if (pi->npages < 0 || qpdf_has_error(pi->qpdf)) {
		bk_error_set(err, "'%s': damaged page tree: %s", name,
			     qpdf_message(pi->qpdf, "unreadable"));
		goto out;
	}
	*out = pi;
	pi = NULL;
	rc = 0;
out:
	bk_pdf_images_free(&pi);
	return rc;
}

void bk_pdf_images_free(struct bk_pdf_images **ppi)
{
	struct bk_pdf_images *pi = *ppi;

	if (!pi)
		return;
	if (pi->qpdf)
		qpdf_cleanup(&pi->qpdf);
	free(pi);
	*ppi = NULL;
}

struct walk {
	qpdf_data q;
	long max_pixels;
	long width, height; /* the offending image, when found */
	char damaged[200];  /* ... or what libjpeg said of its JPEG data */
};

static bool is_name(struct walk *w, qpdf_oh dict, const char *key, const char *value)
{
	return qpdf_oh_is_name_and_equals(w->q, qpdf_oh_get_key(w->q, dict, key), value);
}

static long int_key(struct walk *w, qpdf_oh dict, const char *key)
{
	qpdf_oh v = qpdf_oh_get_key(w->q, dict, key);
	return qpdf_oh_is_integer(w->q, v) ? (long)qpdf_oh_get_int_value(w->q, v) : 0;
}

/* True when the image's only filter is DCTDecode (its data is a JPEG). */
static bool is_jpeg(struct walk *w, qpdf_oh dict)
{
	qpdf_oh filter = qpdf_oh_get_key(w->q, dict, "/Filter");
	return qpdf_oh_is_name_and_equals(w->q, filter, "/DCTDecode") ||
	       (qpdf_oh_is_array(w->q, filter) && qpdf_oh_get_array_n_items(w->q, filter) == 1 &&
		qpdf_oh_is_name_and_equals(w->q, qpdf_oh_get_array_item(w->q, filter, 0),
					   "/DCTDecode"));
}

/* True when an image's JPEG data is damaged (bk_jpeg_damaged): poppler
 * would hand it to libjpeg, which prints its complaint on stderr and
 * draws gray where the data is missing. */
static bool jpeg_damaged(struct walk *w, qpdf_oh stream, qpdf_oh dict)
{
	unsigned char *data = NULL;
	size_t len = 0;
	bool damaged = false;

	if (!is_jpeg(w, dict))
		return false;
	if (qpdf_oh_get_stream_data(w->q, stream, qpdf_dl_none, NULL, &data, &len) == QPDF_SUCCESS &&
	    data)
		damaged = bk_jpeg_damaged(data, len, w->damaged, sizeof(w->damaged)) == 1;
	free(data);
	return damaged;
}

/* True when an image dictionary declares more pixels than allowed. */
static bool image_too_large(struct walk *w, qpdf_oh dict)
{
	long width = int_key(w, dict, "/Width"), height = int_key(w, dict, "/Height");

	if (width > 0 && height > 0 && (double)width * height > (double)w->max_pixels) {
		w->width = width;
		w->height = height;
		return true;
	}
	return false;
}

static bool stream_too_large(struct walk *w, qpdf_oh stream, int depth);

/* The keys of a dictionary, copied: qpdf's key iterator is one per
 * qpdf_data and the walk nests. NULL-terminated; free each and the array. */
static char **dict_keys(struct walk *w, qpdf_oh dict)
{
	size_t n = 0, alloc = 8;
	char **keys = calloc(alloc + 1, sizeof(*keys));

	if (!keys)
		return NULL;
	qpdf_oh_begin_dict_key_iter(w->q, dict);
	while (qpdf_oh_dict_more_keys(w->q)) {
		const char *k = qpdf_oh_dict_next_key(w->q);
		if (n == alloc) {
			char **more = realloc(keys, (alloc * 2 + 1) * sizeof(*keys));
			if (!more)
				break;
			keys = more;
			alloc *= 2;
		}
		if (!(keys[n] = strdup(k)))
			break;
		keys[++n] = NULL;
	}
	return keys;
}

static void free_keys(char **keys)
{
	for (size_t i = 0; keys && keys[i]; i++)
		free(keys[i]);
	free(keys);
}

/* Every stream value of the dictionary `dict_key` of `res`. */
static bool values_too_large(struct walk *w, qpdf_oh res, const char *dict_key, int depth)
{
	qpdf_oh dict = qpdf_oh_get_key(w->q, res, dict_key);
	char **keys;
	bool found = false;

	if (!qpdf_oh_is_dictionary(w->q, dict))
		return false;
	keys = dict_keys(w, dict);
	for (size_t i = 0; keys && keys[i] && !found; i++) {
		qpdf_oh v = qpdf_oh_get_key(w->q, dict, keys[i]);
		if (!strcmp(dict_key, "/ExtGState")) {
			/* a soft mask's group is a form XObject */
			qpdf_oh mask = qpdf_oh_get_key(w->q, v, "/SMask");
			if (qpdf_oh_is_dictionary(w->q, mask))
				found = stream_too_large(w, qpdf_oh_get_key(w->q, mask, "/G"), depth);
		} else {
			found = stream_too_large(w, v, depth);
		}
	}
	free_keys(keys);
	return found;
}

static bool resources_too_large(struct walk *w, qpdf_oh res, int depth)
{
	if (depth > MAX_DEPTH || !qpdf_oh_is_dictionary(w->q, res))
		return false;
	return values_too_large(w, res, "/XObject", depth) ||
	       values_too_large(w, res, "/Pattern", depth) ||
	       values_too_large(w, res, "/ExtGState", depth);
}

/* An image, or a stream with resources of its own (form, pattern). */
static bool stream_too_large(struct walk *w, qpdf_oh stream, int depth)
{
	qpdf_oh dict;

	if (!qpdf_oh_is_stream(w->q, stream))
		return false;
	dict = qpdf_oh_get_dict(w->q, stream);
	if (is_name(w, dict, "/Subtype", "/Image"))
		return image_too_large(w, dict) || jpeg_damaged(w, stream, dict) ||
		       stream_too_large(w, qpdf_oh_get_key(w->q, dict, "/SMask"), depth + 1) ||
		       stream_too_large(w, qpdf_oh_get_key(w->q, dict, "/Mask"), depth + 1);
	return resources_too_large(w, qpdf_oh_get_key(w->q, dict, "/Resources"), depth + 1);
}

/* Appearance streams of the page's annotations: /AP /N is a form or a
 * dictionary of forms (one per state). */
static bool annotations_too_large(struct walk *w, qpdf_oh page)
{
	qpdf_oh annots = qpdf_oh_get_key(w->q, page, "/Annots");
	int n = qpdf_oh_is_array(w->q, annots) ? qpdf_oh_get_array_n_items(w->q, annots) : 0;

	for (int i = 0; i < n; i++) {
		qpdf_oh ap = qpdf_oh_get_key(w->q, qpdf_oh_get_array_item(w->q, annots, i), "/AP");
		qpdf_oh normal = qpdf_oh_get_key(w->q, ap, "/N");
		if (qpdf_oh_is_stream(w->q, normal) ? stream_too_large(w, normal, 1)
						    : qpdf_oh_is_dictionary(w->q, normal) &&
						      values_too_large(w, ap, "/N", 1))
			return true;
	}
	return false;
}

int bk_pdf_images_check_page(struct bk_pdf_images *pi, int index, long max_pixels,
			     const char *name, struct bk_error *err)
{
	struct walk w = { pi->qpdf, max_pixels, 0, 0, "" };
	qpdf_oh page;
	bool too_large;

	if (index < 0 || index >= pi->npages)
		return 0; /* poppler counts the pages; it reports what is missing */
	if (index + 1 == pi->checked)
		return pi->refused[0] ? bk_error_set(err, "%s", pi->refused) : 0;
	page = qpdf_get_page_n(pi->qpdf, (size_t)index);
	too_large = resources_too_large(&w, qpdf_oh_get_key(pi->qpdf, page, "/Resources"), 0) ||
		    annotations_too_large(&w, page);
	qpdf_oh_release_all(pi->qpdf);
	/* errors while walking (a damaged object) are left to poppler, which
	 * reports them when it reads the page */
	if (qpdf_has_error(pi->qpdf))
		(void)qpdf_get_error(pi->qpdf);
	while (qpdf_more_warnings(pi->qpdf))
		(void)qpdf_next_warning(pi->qpdf);
	pi->checked = index + 1;
	pi->refused[0] = '\0';
	if (!too_large)
		return 0;
	if (w.damaged[0])
		snprintf(pi->refused, sizeof(pi->refused),
			 "'%s' page %d: damaged or truncated JPEG data in an image: %s", name,
			 index + 1, w.damaged);
	else
		snprintf(pi->refused, sizeof(pi->refused),
			 "'%s' page %d: image of %ldx%ld pixels exceeds the limit of %ld pixels",
			 name, index + 1, w.width, w.height, max_pixels);
	return bk_error_set(err, "%s", pi->refused);
}

/* The one image a page draws straight from its resources: its /XObject
 * dictionary holds exactly one entry, an image; 0 when it does not. */
static qpdf_oh only_image(qpdf_data q, qpdf_oh page)
{
	qpdf_oh res = qpdf_oh_get_key(q, page, "/Resources");
	qpdf_oh xobjects = qpdf_oh_get_key(q, res, "/XObject"), image = 0;
	int n = 0;

	if (!qpdf_oh_is_dictionary(q, xobjects) || qpdf_oh_has_key(q, res, "/Pattern") ||
	    qpdf_oh_has_key(q, res, "/Shading") || qpdf_oh_has_key(q, page, "/Annots"))
		return 0;
	qpdf_oh_begin_dict_key_iter(q, xobjects);
	while (qpdf_oh_dict_more_keys(q)) {
		image = qpdf_oh_get_key(q, xobjects, qpdf_oh_dict_next_key(q));
		n++;
	}
	if (n != 1 || !qpdf_oh_is_stream(q, image) ||
	    !qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, qpdf_oh_get_dict(q, image),
							   "/Subtype"), "/Image"))
		return 0;
	return image;
}

int bk_pdf_images_page_jpeg(struct bk_pdf_images *pi, int index, unsigned char **jpeg,
			    size_t *len, int *width, int *height)
{
	qpdf_data q = pi->qpdf;
	struct walk w = { q, 0, 0, 0, "" };
	qpdf_oh image, dict, cs;

	*jpeg = NULL;
	*len = 0;
	if (index < 0 || index >= pi->npages)
		return 0;
	image = only_image(q, qpdf_get_page_n(q, (size_t)index));
	if (!image)
		goto out;
	dict = qpdf_oh_get_dict(q, image);
	cs = qpdf_oh_get_key(q, dict, "/ColorSpace");
	/* what the JPEG's own bytes show as they are: 8-bit gray or RGB, not
	 * masked, not remapped by /Decode */
	if (!is_jpeg(&w, dict) || int_key(&w, dict, "/BitsPerComponent") != 8 ||
	    !(qpdf_oh_is_name_and_equals(q, cs, "/DeviceRGB") ||
	      qpdf_oh_is_name_and_equals(q, cs, "/DeviceGray")) ||
	    qpdf_oh_has_key(q, dict, "/SMask") || qpdf_oh_has_key(q, dict, "/Mask") ||
	    qpdf_oh_has_key(q, dict, "/Decode"))
		goto out;
	*width = (int)int_key(&w, dict, "/Width");
	*height = (int)int_key(&w, dict, "/Height");
	if (*width <= 0 || *height <= 0 ||
	    qpdf_oh_get_stream_data(q, image, qpdf_dl_none, NULL, jpeg, len) & QPDF_ERRORS) {
		free(*jpeg);
		*jpeg = NULL;
		*len = 0;
	}
out:
	qpdf_oh_release_all(q);
	/* a damaged object makes the page no candidate; poppler reports it */
	if (qpdf_has_error(q))
		(void)qpdf_get_error(q);
	while (qpdf_more_warnings(q))
		(void)qpdf_next_warning(q);
	return 0;
}
