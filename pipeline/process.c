/*
 * pipeline/process.c — one source page to logical pages (OCR + encoding),
 * the encoding policy for display images, and page checkpoints. See
 * process.h for the checkpoint format and guarantees.
 *
 * Encoding policy (what the PDF shows):
 * - a bilevel display image (a bilevel scan, or any page with --bilevel)
 *   -> CCITT G4, the smallest lossless form of a bilevel scan.
 * - the untouched JPEG of a scan (the source page was a JPEG file, and
 *   cleanup neither rotated, cropped, deskewed nor split it) -> the
 *   original JPEG bytes, so the PDF shows exactly what was scanned, with
 *   no second generation of JPEG loss.
 * - any other gray or color display image (a gray PNG or TIFF, a JPEG
 *   that was deskewed or cropped, a page of a PDF) -> baseline JPEG at
 *   BK_JPEG_QUALITY, gray as one component, color as three.
 * FLATE (lossless) is not chosen: for scanned gray/color pages it is 5 to
 * 10 times the size of a good JPEG, and lossless preservation is the job
 * of the masters, which the store keeps byte for byte; the PDF is the
 * access copy. What each kind costs per page is in scripts/bench.
 */
#include "pipeline/process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bunko/atomic.h"
#include "bunko/fs.h"
#include "ocr/reader.h"
#include "ocr/resolution.h"
#include "bunko/record.h"

int bk_ocr_mode_parse(const char *s)
{
	static const char *const names[] = { "auto", "force", "skip" };

	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

const char *bk_ocr_mode_name(enum bk_ocr_mode mode)
{
	return mode == BK_OCR_FORCE ? "force" : mode == BK_OCR_SKIP ? "skip" : "auto";
}

static int encode_display(const struct bk_read_result *res, int which,
			  const struct bk_source_page *sp, const char *name,
			  struct bk_encoded_image *out, struct bk_error *err)
{
	const struct bk_image *d = res->display[which];

	if (bk_image_depth(d) == 1)
		return bk_image_encode(d, BK_ENC_G4, 0, out, err);
	if (sp->jpeg && res->npages == 1 && res->report.rotation == 0 &&
	    res->report.skew_degrees == 0 && !res->report.border_removed &&
	    bk_image_width(d) == bk_image_width(sp->image) &&
	    bk_image_height(d) == bk_image_height(sp->image)) {
		struct bk_error why; /* a CMYK JPEG cannot go into the PDF as is */
		if (bk_encoded_from_jpeg(sp->jpeg, sp->jpeg_len, name, out, &why) == 0) {
			/* the resolution decided for the page, not the JPEG's
			 * header: the PDF page size follows it */
			out->xres = bk_image_xres(d);
			out->yres = bk_image_yres(d);
			return 0;
		}
	}
	return bk_image_encode(d, BK_ENC_JPEG, BK_JPEG_QUALITY, out, err);
}

/* Makes the message start with `where` ("'x.tif' page 3"), the subject
 * quoted once: "'x.tif': msg" becomes "'x.tif' page 3: msg"; a message
 * that names the file elsewhere is left alone. */
static void name_source_page(struct bk_error *err, const char *name, const char *where)
{
	struct bk_error inner = *err;
	char *quoted = NULL;
	size_t wlen = strlen(where), qlen;

	if (!strncmp(err->msg, where, wlen) || asprintf(&quoted, "'%s'", name) < 0)
		return;
	qlen = strlen(quoted);
	if (!strncmp(inner.msg, quoted, qlen) && !strncmp(inner.msg + qlen, ": ", 2))
		bk_error_set(err, "%s: %s", where, inner.msg + qlen + 2);
	else if (!strstr(inner.msg, quoted))
		bk_error_set(err, "%s: %s", where, inner.msg);
	free(quoted);
}

/* Whether a page keeps the text it has (see enum bk_ocr_mode). */
static bool keeps_text(const struct bk_source_page *sp, enum bk_ocr_mode mode)
{
	if (!sp->text || mode == BK_OCR_FORCE)
		return false;
	return mode == BK_OCR_SKIP || sp->text_layer == BK_TEXT_TYPESET;
}

/* Emits a page that keeps its own text: the page image as the PDF draws it
 * (binarized when opt->bilevel) and its text as the model. */
static int emit_own_text(struct bk_source_page *sp, const struct bk_process_options *opt,
			 int number, bk_page_emit_fn emit, void *ud, struct bk_error *err)
{
	struct bk_encoded_image enc = { 0 };
	struct bk_image *bilevel = NULL;
	const struct bk_image *shown = sp->image;
	int rc = -1;

	sp->text->number = number;
	if (opt->bilevel && bk_image_depth(shown) != 1) {
		if (!(bilevel = bk_image_binarize(shown, BK_BINARIZE_OTSU, err)))
			goto out;
		shown = bilevel;
	}
	if (bk_image_encode(shown, bk_image_depth(shown) == 1 ? BK_ENC_G4 : BK_ENC_JPEG,
			    BK_JPEG_QUALITY, &enc, err))
		goto out;
	rc = emit(ud, sp->text, &enc, err);
out:
	bk_encoded_image_release(&enc);
	bk_image_free(&bilevel);
	return rc;
}

/* What the reader is told for source page `index` (0-based). */
static void reader_options(struct bk_engine *engine, const struct bk_process_options *opt,
			   int index, struct bk_read_options *ropt)
{
	bk_read_options_init(ropt);
	if (opt->lang)
		ropt->lang = opt->lang;
	ropt->profile = opt->profile;
	ropt->source_page = index + 1;
	ropt->bilevel = opt->bilevel;
	bk_engine_set_old_print(engine, opt->old_print);
}

/* A map or print this large is read from its file band by band
 * (ingest/vips.c, bk_read_picture_rows) rather than decoded whole:
 * decoded, 32 million pixels are 128 MB, and the whole-picture path peaked
 * at 416-427 MB for an 8000x8000 JPEG map (64 million). Smaller pages are
 * read as before. */
#define BK_BIG_PICTURE_PIXELS (32L * 1000 * 1000)

/* A big map or print: its OCR from bands of rows, then its picture for the
 * PDF (a JPEG's own bytes, or encoded as it is decoded), never decoded
 * whole. The resolution is the tag's (pictures are not measured). */
static int process_big(struct bk_engine *engine, struct bk_big_picture *big, bool from_pdf,
		       const struct bk_read_options *ropt, const struct bk_process_options *opt,
		       int first_number, const char *name, bk_page_emit_fn emit, void *ud,
		       int *nemitted, struct bk_error *err)
{
	struct bk_encoded_image enc = { 0 };
	struct bk_page page;
	int w, h, xres, yres, rc = -1;

	bk_page_init(&page);
	bk_big_picture_size(big, &w, &h, &xres, &yres);
	/* a PDF page keeps the size its PDF gives, with or without --dpi */
	if (!from_pdf)
		bk_resolution_of_tag(&xres, &yres, opt->dpi);
	/* pictures are read at one resolution on both axes, as bk_read_page
	 * does */
	if (bk_read_picture_rows(engine, w, h, xres, bk_big_picture_rows, big, ropt,
				 first_number, name, &page, err))
		goto out;
	page.yres = yres;
	if (bk_big_picture_encode(big, BK_JPEG_QUALITY, xres, yres, &enc, err) ||
	    emit(ud, &page, &enc, err))
		goto out;
	*nemitted = 1;
	rc = 0;
out:
	bk_encoded_image_release(&enc);
	bk_page_release(&page);
	return rc;
}

int bk_process_source_page(struct bk_engine *engine, struct bk_source *src,
			   int index, const struct bk_process_options *opt,
			   int first_number, bk_page_emit_fn emit, void *ud,
			   int *nemitted, struct bk_error *err)
{
	struct bk_source_page sp = { 0 };
	struct bk_read_result res;
	struct bk_read_options ropt;
	struct bk_encoded_image enc = { 0 };
	struct bk_big_picture *big = NULL;
	char *where = NULL;
	bool have_res = false;
	int rc = -1;

	*nemitted = 0;
	memset(&res, 0, sizeof(res));
	if (asprintf(&where, "'%s' page %d", bk_source_name(src), index + 1) < 0) {
		where = NULL;
		bk_error_set(err, "out of memory");
		goto out;
	}
	if ((opt->profile == BK_PROFILE_MAP || opt->profile == BK_PROFILE_UKIYOE) &&
	    bk_big_picture_open(&big, src, index, BK_BIG_PICTURE_PIXELS, err))
		goto out;
	if (big) {
		reader_options(engine, opt, index, &ropt);
		rc = process_big(engine, big, bk_source_kind(src) == BK_SOURCE_PDF, &ropt, opt,
				 first_number, bk_source_name(src), emit, ud, nemitted, err);
		goto out;
	}
	if (bk_source_read_page(src, index, &sp, err))
		goto out;
	/* A scan's resolution tag may be missing or false; a PDF page's size
	 * is given by the PDF. Pictures (prints, maps) have too little text
	 * to measure: their tag is kept when plausible. */
	if (bk_source_kind(src) != BK_SOURCE_PDF &&
	    bk_resolution_apply(sp.image, opt->dpi,
				opt->profile == BK_PROFILE_RECORD || opt->profile == BK_PROFILE_BYLAW,
				NULL, err))
		goto out;
	if (keeps_text(&sp, opt->ocr)) {
		if (emit_own_text(&sp, opt, first_number, emit, ud, err))
			goto out;
		*nemitted = 1;
		rc = 0;
		goto out;
	}
	reader_options(engine, opt, index, &ropt);
	/* the reader's messages name the file and this page, quoted once */
	if (bk_read_page(engine, sp.image, &ropt, first_number, bk_source_name(src),
			 &res, err))
		goto out;
	have_res = true;
	for (int i = 0; i < res.npages; i++) {
		if (encode_display(&res, i, &sp, bk_source_name(src), &enc, err))
			goto out;
		if (emit(ud, &res.pages[i], &enc, err))
			goto out;
		bk_encoded_image_release(&enc);
		(*nemitted)++;
	}
	rc = 0;
out:
	if (rc && err->msg[0] && where)
		name_source_page(err, bk_source_name(src), where);
	bk_encoded_image_release(&enc);
	if (have_res)
		bk_read_result_release(&res);
	bk_source_page_release(&sp);
	bk_big_picture_free(&big);
	free(where);
	return rc;
}

/* ---- checkpoints ------------------------------------------------------ */

static const char *const enc_names[] = { "?", "g4", "jpeg", "flate" };

static char *work_path(const char *job_dir, int n, const char *ext)
{
	char *p = NULL;
	if (asprintf(&p, "%s/work/%04d.%s", job_dir, n, ext) < 0)
		return NULL;
	return p;
}

int bk_checkpoint_write(const char *job_dir, int n, const struct bk_page *page,
			const struct bk_encoded_image *img, struct bk_error *err)
{
	struct bk_atomic_file af = { 0 };
	struct bk_record *header = NULL;
	char *line = NULL, *dir = NULL, *img_path = work_path(job_dir, n, "img");
	char *page_path = work_path(job_dir, n, "page");
	int rc = -1;

	if (!img_path || !page_path || !(dir = bk_path_join(job_dir, "work"))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (bk_job_work_dir(job_dir, err)) /* never the job directory itself */
		goto out;
	header = bk_record_new("bunko-img");
	if (!header || bk_record_set_str(header, "encoding", enc_names[img->encoding]) ||
	    bk_record_set_int(header, "width", img->width) ||
	    bk_record_set_int(header, "height", img->height) ||
	    bk_record_set_int(header, "bits_per_component", img->bits_per_component) ||
	    bk_record_set_int(header, "components", img->components) ||
	    bk_record_set_int(header, "xres", img->xres) ||
	    bk_record_set_int(header, "yres", img->yres) ||
	    bk_record_set_int(header, "size", (long long)img->size) ||
	    !(line = bk_record_dump(header, false))) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (bk_atomic_open(&af, img_path, err))
		goto out;
	fprintf(af.fp, "%s\n", line);
	fwrite(img->data, 1, img->size, af.fp);
	if (bk_atomic_commit(&af, err))
		goto out;
	if (bk_atomic_open(&af, page_path, err))
		goto out;
	if (bk_page_write(page, af.fp)) {
		bk_atomic_abort(&af);
		bk_error_set(err, "cannot write '%s'", page_path);
		goto out;
	}
	if (bk_atomic_commit(&af, err))
		goto out;
	rc = 0;
out:
	bk_record_free(&header);
	free(line);
	free(dir);
	free(img_path);
	free(page_path);
	return rc;
}

static int read_img(const char *path, struct bk_encoded_image *img,
		    struct bk_error *err)
{
	struct bk_record *header = NULL;
	char *data = NULL;
	const char *nl, *enc;
	size_t len = 0, hdr;
	long long size = -1;
	int rc = -1;

	memset(img, 0, sizeof(*img));
	if (bk_read_file(path, &data, &len, err))
		return -1;
	nl = memchr(data, '\n', len);
	hdr = nl ? (size_t)(nl - data) + 1 : 0;
	if (!nl || bk_record_parse(&header, data, hdr, path, "bunko-img", err))
		goto bad;
	enc = bk_record_str(header, "encoding");
	if (!bk_record_int(header, "width", &img->width) ||
	    !bk_record_int(header, "height", &img->height) ||
	    !bk_record_int(header, "bits_per_component", &img->bits_per_component) ||
	    !bk_record_int(header, "components", &img->components) ||
	    !bk_record_int(header, "xres", &img->xres) ||
	    !bk_record_int(header, "yres", &img->yres) ||
	    !bk_record_long(header, "size", &size) || size < 0 || !enc ||
	    hdr + (size_t)size != len)
		goto bad;
	img->size = (size_t)size;
	img->encoding = 0;
	for (int e = BK_ENC_G4; e <= BK_ENC_FLATE; e++)
		if (!strcmp(enc, enc_names[e]))
			img->encoding = e;
	if (!img->encoding) {
		bk_error_set(err, "'%s': unknown image encoding '%s'", path, enc);
		goto out;
	}
	img->data = malloc(img->size ? img->size : 1);
	if (!img->data) {
		bk_error_set(err, "out of memory reading '%s'", path);
		goto out;
	}
	memcpy(img->data, data + hdr, img->size);
	rc = 0;
	goto out;
bad:
	bk_error_set(err, "'%s': damaged page checkpoint", path);
out:
	if (rc)
		memset(img, 0, sizeof(*img));
	bk_record_free(&header);
	free(data);
	return rc;
}

int bk_checkpoint_read(const char *job_dir, int n, struct bk_page *page,
		       struct bk_encoded_image *img, struct bk_error *err)
{
	char *img_path = work_path(job_dir, n, "img");
	char *page_path = work_path(job_dir, n, "page");
	FILE *fp = NULL;
	int rc = -1;

	bk_page_init(page);
	memset(img, 0, sizeof(*img));
	if (!img_path || !page_path) {
		bk_error_set(err, "out of memory");
		goto out;
	}
	if (read_img(img_path, img, err))
		goto out;
	fp = fopen(page_path, "r");
	if (!fp) {
		bk_error_set(err, "cannot open '%s': %s", page_path, strerror(errno));
		goto out;
	}
	if (bk_page_read(page, fp, page_path, err))
		goto out;
	rc = 0;
out:
	if (fp)
		fclose(fp);
	if (rc)
		bk_encoded_image_release(img);
	free(img_path);
	free(page_path);
	return rc;
}
