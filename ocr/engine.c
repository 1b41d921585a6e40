/*
 * ocr/engine.c — the Tesseract adapter (see engine.h). The only file in
 * bunko that includes tesseract/capi.h; TessBaseAPI never leaves it.
 *
 * Protocol with Tesseract, per call:
 *   handle_for(model)      the model's handle, initialized once (lazily)
 *   SetImage + resolution  the gray buffer is copied by Tesseract
 *   [SetRectangle]         restricts layout and recognition to a box; the
 *                          iterator's boxes stay in full-image coordinates
 *   SetPageSegMode, Recognize / AnalyseLayout / DetectOrientationScript
 *   walk the iterator      into bunko's page model or region list
 *   Clear                  drops the page's results, keeps the model
 *
 * Old print (ocr/oldprint.h) adds, between Recognize and the walk into the
 * page model: a walk of the jpn symbols into glyphs, a chi_tra reading of
 * the same rectangle in the same mode on the chi_tra handle, the fusion,
 * and the walk into the page model taking each word's text from its fused
 * glyphs. The jpn handle's results stay untouched while chi_tra reads:
 * each model has its own handle. Under auto, until a call of the page is
 * old print, the words are walked into the page model first, tallying
 * their kanji; only a call whose tally allows old print has its symbols
 * walked and detection asked, and one found to be old print has its
 * words replaced by the fused ones (oldprint.h, steps 1-2).
 */
#include "ocr/engine.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <tesseract/capi.h>

#define BK_ENGINE_MAX_MODELS 8
#define BK_MODEL_NAME_MAX 32
#define BK_DEFAULT_DPI 300

struct bk_model_handle {
	char name[BK_MODEL_NAME_MAX];
	TessBaseAPI *api;
};

struct bk_engine {
	char *tessdata_dir; /* NULL: Tesseract's default */
	struct bk_model_handle models[BK_ENGINE_MAX_MODELS];
	size_t nmodels;
	enum bk_old_print old_print;
	bool old_print_seen; /* AUTO: a reading since the last set was old print */
	struct bk_oldprint_stats stats;
};

struct bk_engine *bk_engine_new(const char *tessdata_dir, struct bk_error *err)
{
	struct bk_engine *engine = calloc(1, sizeof(*engine));

	if (!engine) {
		bk_error_set(err, "out of memory creating the OCR engine");
		return NULL;
	}
	if (tessdata_dir && !(engine->tessdata_dir = strdup(tessdata_dir))) {
		free(engine);
		bk_error_set(err, "out of memory creating the OCR engine");
		return NULL;
	}
	engine->old_print = BK_OLD_PRINT_OFF;
	return engine;
}

void bk_engine_free(struct bk_engine **engine)
{
	if (!engine || !*engine)
		return;
	for (size_t i = 0; i < (*engine)->nmodels; i++) {
		TessBaseAPIEnd((*engine)->models[i].api);
		TessBaseAPIDelete((*engine)->models[i].api);
	}
	free((*engine)->tessdata_dir);
	free(*engine);
	*engine = NULL;
}

void bk_engine_set_old_print(struct bk_engine *engine, enum bk_old_print mode)
{
	engine->old_print = mode;
	engine->old_print_seen = false;
}

struct bk_oldprint_stats bk_engine_oldprint_stats(const struct bk_engine *engine)
{
	return engine->stats;
}

size_t bk_engine_handle_count(const struct bk_engine *engine)
{
	return engine ? engine->nmodels : 0;
}

/* Model names are traineddata names joined by '+': nothing else reaches
 * Tesseract's file lookup. */
static bool model_name_ok(const char *model)
{
	size_t len = model ? strlen(model) : 0;

	if (!len || len >= BK_MODEL_NAME_MAX || model[0] == '+' ||
	    model[len - 1] == '+')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)model[i]) && model[i] != '_' &&
		    model[i] != '+' && model[i] != '-')
			return false;
	return true;
}

/* Creates and initializes a handle for `model`. Variables are passed to
 * Init so that they also govern the loading itself (debug_file silences
 * Tesseract's messages). OSD is a legacy-engine model. */
static TessBaseAPI *open_handle(const struct bk_engine *engine,
				const char *model, struct bk_error *err)
{
	char *names[] = { "debug_file" };
	char *values[] = { "/dev/null" };
	TessOcrEngineMode oem = strcmp(model, "osd") == 0 ? OEM_TESSERACT_ONLY
							  : OEM_DEFAULT;
	TessBaseAPI *api = TessBaseAPICreate();

	if (!api) {
		bk_error_set(err, "out of memory creating Tesseract for model '%s'",
			     model);
		return NULL;
	}
	/* Before Init too: the setting is process-wide in Tesseract and
	 * covers messages printed while the model file is opened. */
	TessBaseAPISetVariable(api, "debug_file", "/dev/null");
	if (TessBaseAPIInit4(api, engine->tessdata_dir, model, oem, NULL, 0,
			     names, values, 1, 0) != 0) {
		TessBaseAPIDelete(api);
		if (engine->tessdata_dir)
			bk_error_set(err, "cannot load Tesseract model '%s' from '%s'",
				     model, engine->tessdata_dir);
		else
			bk_error_set(err, "cannot load Tesseract model '%s' from the "
				     "default tessdata directory", model);
		return NULL;
	}
	return api;
}

static TessBaseAPI *handle_for(struct bk_engine *engine, const char *model,
			       struct bk_error *err)
{
	if (!model_name_ok(model)) {
		bk_error_set(err, "invalid OCR model name '%s'", model ? model : "");
		return NULL;
	}
	for (size_t i = 0; i < engine->nmodels; i++)
		if (strcmp(engine->models[i].name, model) == 0)
			return engine->models[i].api;
	if (engine->nmodels == BK_ENGINE_MAX_MODELS) {
		bk_error_set(err, "cannot load OCR model '%s': more than %d models in use",
			     model, BK_ENGINE_MAX_MODELS);
		return NULL;
	}
	TessBaseAPI *api = open_handle(engine, model, err);
	if (!api)
		return NULL;
	struct bk_model_handle *h = &engine->models[engine->nmodels++];
	snprintf(h->name, sizeof(h->name), "%s", model);
	h->api = api;
	return api;
}

int bk_engine_load(struct bk_engine *engine, const char *model,
		   struct bk_error *err)
{
	return handle_for(engine, model, err) ? 0 : -1;
}

/* The handle for `model` with `img` set on it (results of an earlier page
 * cleared), or NULL with `err` filled when the image is unusable or the
 * model cannot be loaded. */
static TessBaseAPI *handle_with_image(struct bk_engine *engine, const char *model,
				      const struct bk_gray *img, struct bk_error *err)
{
	if (!img || !img->data || img->width <= 0 || img->height <= 0 ||
	    img->stride < img->width) {
		bk_error_set(err, "invalid gray image given to the OCR engine");
		return NULL;
	}
	TessBaseAPI *api = handle_for(engine, model, err);
	if (!api)
		return NULL;
	TessBaseAPIClear(api);
	TessBaseAPISetImage(api, img->data, img->width, img->height, 1,
			    img->stride);
	TessBaseAPISetSourceResolution(api, img->resolution > 0 ? img->resolution
								: BK_DEFAULT_DPI);
	return api;
}

/* Clips `rect` to the image; false when nothing is left. */
static bool clip_rect(const struct bk_gray *img, const struct bk_box *rect,
		      struct bk_box *out)
{
	out->x0 = rect->x0 < 0 ? 0 : rect->x0;
	out->y0 = rect->y0 < 0 ? 0 : rect->y0;
	out->x1 = rect->x1 > img->width ? img->width : rect->x1;
	out->y1 = rect->y1 > img->height ? img->height : rect->y1;
	return out->x1 > out->x0 && out->y1 > out->y0;
}

static struct bk_box iter_box(const TessPageIterator *pi,
			      TessPageIteratorLevel level)
{
	struct bk_box b = { 0, 0, 0, 0 };

	if (!TessPageIteratorBoundingBox(pi, level, &b.x0, &b.y0, &b.x1, &b.y1))
		memset(&b, 0, sizeof(b));
	return b;
}

static bool iter_vertical(TessPageIterator *pi)
{
	TessOrientation orientation;
	TessWritingDirection direction;
	TessTextlineOrder order;
	float deskew;

	if (TessPageIteratorBlockType(pi) == PT_VERTICAL_TEXT)
		return true;
	TessPageIteratorOrientation(pi, &orientation, &direction, &order,
				    &deskew);
	return direction == WRITING_DIRECTION_TOP_TO_BOTTOM;
}

/* The glyphs of one call, in iteration order. */
struct glyph_set {
	struct bk_glyph *g;
	struct bk_box *word_box; /* by glyph: its word's box, to check the walk */
	size_t n, alloc;
};

static void glyph_set_release(struct glyph_set *gs)
{
	free(gs->g);
	free(gs->word_box);
	memset(gs, 0, sizeof(*gs));
}

/* The text of word number `word` (box `box`) from the glyphs, starting the
 * search at *cursor; false when the glyphs do not cover that word (then
 * Tesseract's own text is kept). */
static bool fused_word(const struct glyph_set *gs, size_t *cursor, size_t word,
		       struct bk_box box, char *out, size_t outsize)
{
	size_t i = *cursor, len = 0;

	while (i < gs->n && gs->g[i].word < word)
		i++;
	*cursor = i;
	if (i == gs->n || gs->g[i].word != word ||
	    memcmp(&gs->word_box[i], &box, sizeof(box)) != 0)
		return false;
	out[0] = '\0';
	for (; i < gs->n && gs->g[i].word == word; i++) {
		size_t l = strlen(gs->g[i].text);
		if (len + l + 1 > outsize)
			return false;
		memcpy(out + len, gs->g[i].text, l + 1);
		len += l;
	}
	*cursor = i;
	return true;
}

/* Walks the result iterator word by word into `page`. A block or line is
 * created when its first non-blank word arrives, so Tesseract's empty
 * blocks (pictures, rules) leave nothing behind. With `gs`, a word's text
 * comes from its fused glyphs; its confidence stays Tesseract's word
 * confidence of the jpn reading. The mean of the glyphs' confidences
 * (chi_tra's for a replaced glyph) is on another scale: on the NDL spread
 * ndl_meiji_vertical_01 it made the fused reading 61.6 (91.4 under
 * --old-print on) where the same words read 47.0, so the reader took the
 * page for sure and never tried the other layouts a doubtful page gets
 * (bag-F 48.8 against 56.8 without old print); readings are compared by
 * confidence, fused or not, so all must be on Tesseract's scale. */
static int collect_words(TessResultIterator *ri, const char *model,
			 enum bk_psm psm, const struct glyph_set *gs,
			 struct bk_oldprint_tally *tally, struct bk_page *page,
			 struct bk_error *err)
{
	TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
	struct bk_block *block = NULL;
	struct bk_line *line = NULL;
	size_t word = 0, cursor = 0;
	char fused[256];
	int rc = 0;

	do {
		if (TessPageIteratorIsAtBeginningOf(pi, RIL_BLOCK))
			block = NULL;
		if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE))
			line = NULL;
		char *tess_text = TessResultIteratorGetUTF8Text(ri, RIL_WORD);
		if (!tess_text)
			continue;
		const char *text = tess_text;
		float conf = TessResultIteratorConfidence(ri, RIL_WORD);
		if (gs && fused_word(gs, &cursor, word, iter_box(pi, RIL_WORD),
				     fused, sizeof(fused)))
			text = fused;
		word++;
		if (tally)
			bk_oldprint_tally_word(tally, text, conf);
		size_t len = strlen(text);
		size_t i = 0;
		while (i < len && isspace((unsigned char)text[i]))
			i++;
		if (i < len) {
			enum bk_dir dir = BK_DIR_HORIZONTAL;
			if (psm == BK_PSM_SINGLE_BLOCK_VERT || iter_vertical(pi))
				dir = BK_DIR_VERTICAL;
			if (!block) {
				block = bk_page_add_block(page, iter_box(pi, RIL_BLOCK),
							  dir, model);
				line = NULL;
			}
			if (block && !line)
				line = bk_block_add_line(block,
							 iter_box(pi, RIL_TEXTLINE),
							 block->dir);
			if (!block || !line ||
			    !bk_line_add_word(line, iter_box(pi, RIL_WORD), conf,
					      text, len))
				rc = bk_error_set(err, "out of memory storing OCR results");
		}
		TessDeleteText(tess_text);
	} while (rc == 0 && TessPageIteratorNext(pi, RIL_WORD));
	return rc;
}

static int glyph_push(struct glyph_set *gs, const struct bk_glyph *g,
		      struct bk_box word_box)
{
	if (gs->n == gs->alloc) {
		size_t n = gs->alloc ? gs->alloc * 2 : 256;
		struct bk_glyph *p = realloc(gs->g, n * sizeof(*p));
		if (!p)
			return -1;
		gs->g = p;
		struct bk_box *w = realloc(gs->word_box, n * sizeof(*w));
		if (!w)
			return -1;
		gs->word_box = w;
		gs->alloc = n;
	}
	gs->word_box[gs->n] = word_box;
	gs->g[gs->n++] = *g;
	return 0;
}

/* Walks the iterator symbol by symbol into glyphs with their line and word
 * ordinals, then puts the iterator back at the start. -1: out of memory. A
 * symbol longer than a glyph holds: with `whole` (the jpn reading) -2, and
 * the call is then not fused at all, rather than lose text; otherwise (the
 * chi_tra reading, which only offers replacements) it is left out. */
static int collect_glyphs(TessResultIterator *ri, bool whole,
			  struct glyph_set *gs)
{
	TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
	size_t line = 0, word = 0;
	bool any = false;
	int rc = 0;

	do {
		if (any && TessPageIteratorIsAtBeginningOf(pi, RIL_WORD))
			word++;
		if (any && TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE))
			line++;
		any = true;
		char *text = TessResultIteratorGetUTF8Text(ri, RIL_SYMBOL);
		if (!text)
			continue;
		struct bk_glyph g = { .box = iter_box(pi, RIL_SYMBOL),
				      .conf = TessResultIteratorConfidence(ri, RIL_SYMBOL),
				      .line = line, .word = word };
		bool fits = strlen(text) < sizeof(g.text);
		if (fits)
			memcpy(g.text, text, strlen(text) + 1);
		else if (whole)
			rc = -2;
		TessDeleteText(text);
		if (fits && glyph_push(gs, &g, iter_box(pi, RIL_WORD)))
			rc = -1;
	} while (rc == 0 && TessPageIteratorNext(pi, RIL_SYMBOL));
	TessPageIteratorBegin(pi);
	return rc;
}

/* Tesseract's vertical models give symbol boxes of no width or height
 * (measured with jpn_vert and chi_tra_vert 4.1/5.3) while their word boxes
 * are right: such a word's glyphs get equal shares of the word box along
 * its longer side. */
static void place_glyphs(struct glyph_set *gs)
{
	for (size_t i = 0; i < gs->n;) {
		size_t end = i, bad = 0;
		while (end < gs->n && gs->g[end].word == gs->g[i].word) {
			struct bk_box b = gs->g[end].box;
			if (b.x1 <= b.x0 || b.y1 <= b.y0)
				bad++;
			end++;
		}
		if (bad) {
			struct bk_box w = gs->word_box[i];
			int k = (int)(end - i);
			bool tall = w.y1 - w.y0 > w.x1 - w.x0;
			for (int q = 0; q < k; q++) {
				struct bk_box b = w;
				if (tall) {
					b.y0 = w.y0 + (w.y1 - w.y0) * q / k;
					b.y1 = w.y0 + (w.y1 - w.y0) * (q + 1) / k;
				} else {
					b.x0 = w.x0 + (w.x1 - w.x0) * q / k;
					b.x1 = w.x0 + (w.x1 - w.x0) * (q + 1) / k;
				}
				gs->g[i + (size_t)q].box = b;
			}
		}
		i = end;
	}
}

static bool is_jpn_model(const char *model)
{
	return strcmp(model, "jpn") == 0 || strcmp(model, "jpn_vert") == 0;
}

/* Reads `rect` (NULL: all) of the image set on `api` in mode `psm`: 0 with
 * *ri Tesseract's results (NULL when it has none), or -1 with `err` set. */
static int run_tesseract(TessBaseAPI *api, const char *model, const struct bk_box *rect,
			 enum bk_psm psm, TessResultIterator **ri, struct bk_error *err)
{
	*ri = NULL;
	if (rect)
		TessBaseAPISetRectangle(api, rect->x0, rect->y0, rect->x1 - rect->x0,
					rect->y1 - rect->y0);
	TessBaseAPISetPageSegMode(api, (TessPageSegMode)psm);
	if (TessBaseAPIRecognize(api, NULL) != 0)
		return bk_error_set(err, "tesseract could not read the page with model '%s'",
				    model);
	*ri = TessBaseAPIGetIterator(api);
	return 0;
}

/* Reads the same rectangle again with chi_tra (chi_tra_vert for vertical
 * text) in the same segmentation mode, and fuses its glyphs into `gs`.
 * Measured on the rendered old-print pages: chi_tra reading the whole
 * block finds 97-100% of the old forms, reading line by line (PSM 7 on
 * each jpn line) clearly fewer, at about the same cost. */
static int reread(struct bk_engine *engine, const struct bk_gray *img,
		  const struct bk_box *rect, enum bk_psm psm, bool vertical,
		  struct glyph_set *gs, struct bk_error *err)
{
	struct glyph_set alt = { 0 };
	TessResultIterator *ri = NULL;
	const char *model = vertical ? "chi_tra_vert" : "chi_tra";
	int rc = -1;

	TessBaseAPI *api = handle_with_image(engine, model, img, err);
	if (!api)
		return -1;
	if (run_tesseract(api, model, rect, psm, &ri, err))
		goto out;
	if (ri && collect_glyphs(ri, false, &alt) == -1) {
		bk_error_set(err, "out of memory in the old-print reading");
		goto out;
	}
	place_glyphs(gs);
	place_glyphs(&alt);
	long k = bk_oldprint_fuse(gs->g, gs->n, alt.g, alt.n);
	if (k < 0) {
		bk_error_set(err, "out of memory in the old-print reading");
		goto out;
	}
	engine->stats.replaced += (size_t)k;
	rc = 0;
out:
	if (ri)
		TessResultIteratorDelete(ri);
	glyph_set_release(&alt);
	TessBaseAPIClear(api);
	return rc;
}

/* The box of line `line` of the glyphs, [*first, *end): the union of its
 * words' boxes (a vertical model's symbol boxes are empty, its word boxes
 * right), widened on every side by a quarter of its thickness so that
 * chi_tra sees whole glyphs, and clipped to the image. */
static bool line_rect(const struct glyph_set *gs, size_t line,
		      const struct bk_gray *img, size_t *first, size_t *end,
		      struct bk_box *out)
{
	size_t i = 0;

	while (i < gs->n && gs->g[i].line != line)
		i++;
	*first = i;
	struct bk_box b = i < gs->n ? gs->word_box[i] : (struct bk_box){ 0, 0, 0, 0 };
	for (; i < gs->n && gs->g[i].line == line; i++) {
		struct bk_box w = gs->word_box[i];
		b.x0 = w.x0 < b.x0 ? w.x0 : b.x0;
		b.y0 = w.y0 < b.y0 ? w.y0 : b.y0;
		b.x1 = w.x1 > b.x1 ? w.x1 : b.x1;
		b.y1 = w.y1 > b.y1 ? w.y1 : b.y1;
	}
	*end = i;
	int w = b.x1 - b.x0, h = b.y1 - b.y0;
	int pad = (w < h ? w : h) / 4;
	struct bk_box padded = { b.x0 - pad, b.y0 - pad, b.x1 + pad, b.y1 + pad };
	return *end > *first && clip_rect(img, &padded, out);
}

/* The probe (oldprint.h): the call's lines with the most doubtful kanji
 * read again one by one with chi_tra (chi_tra_vert and a vertical block
 * for vertical text); *old says whether they tell old print. The image
 * is set once; each rectangle clears the previous line's results. */
static int probe(struct bk_engine *engine, const struct bk_gray *img,
		 bool vertical, struct glyph_set *gs, bool *old,
		 struct bk_error *err)
{
	struct bk_oldprint_probe p = { 0, 0 };
	size_t lines[BK_PROBE_LINES];
	const char *model = vertical ? "chi_tra_vert" : "chi_tra";
	int rc = -1;

	*old = false;
	size_t k = bk_oldprint_probe_lines(gs->g, gs->n, lines);
	TessBaseAPI *api = handle_with_image(engine, model, img, err);
	if (!api)
		return -1;
	engine->stats.calls_probed++;
	place_glyphs(gs);
	TessBaseAPISetPageSegMode(api, vertical ? PSM_SINGLE_BLOCK_VERT_TEXT
						: PSM_SINGLE_LINE);
	for (size_t q = 0; q < k; q++) {
		size_t first, end;
		struct bk_box r;
		if (!line_rect(gs, lines[q], img, &first, &end, &r))
			continue;
		TessBaseAPISetRectangle(api, r.x0, r.y0, r.x1 - r.x0, r.y1 - r.y0);
		if (TessBaseAPIRecognize(api, NULL) != 0) {
			bk_error_set(err, "tesseract could not read the page with model '%s'",
				     model);
			goto out;
		}
		struct glyph_set alt = { 0 };
		TessResultIterator *ri = TessBaseAPIGetIterator(api);
		int crc = ri ? collect_glyphs(ri, false, &alt) : 0;
		if (ri)
			TessResultIteratorDelete(ri);
		if (crc == 0) {
			place_glyphs(&alt);
			crc = bk_oldprint_probe_add(&p, gs->g + first, end - first,
						    alt.g, alt.n);
		}
		glyph_set_release(&alt);
		if (crc) {
			bk_error_set(err, "out of memory in the old-print probe");
			goto out;
		}
	}
	*old = bk_oldprint_probe_says(&p);
	rc = 0;
out:
	TessBaseAPIClear(api);
	return rc;
}

/* The old-print step of a jpn/jpn_vert call: the glyphs, fused where the
 * call is (or is asked to be) old print. `tally` is the first look's
 * (AUTO, until a call of the page was old print), NULL otherwise. *use is
 * false when the words are to be taken as Tesseract gave them. */
static int old_print_glyphs(struct bk_engine *engine, const struct bk_gray *img,
			    TessResultIterator *ri, const struct bk_box *rect,
			    enum bk_psm psm, bool vertical,
			    const struct bk_oldprint_tally *tally,
			    struct glyph_set *gs, bool *use, struct bk_error *err)
{
	*use = false;
	int crc = collect_glyphs(ri, true, gs);
	if (crc == -1)
		return bk_error_set(err, "out of memory in the old-print reading");
	if (crc == -2 || !gs->n)
		return 0;
	if (tally) {
		if (!bk_oldprint_detect(gs->g, gs->n)) {
			bool old = false;
			if (!bk_oldprint_may_probe(tally))
				return 0;
			if (probe(engine, img, vertical, gs, &old, err))
				return -1;
			if (!old)
				return 0;
		}
		engine->old_print_seen = true;
	}
	engine->stats.calls_read++;
	if (reread(engine, img, rect, psm, vertical, gs, err))
		return -1;
	*use = true;
	return 0;
}

int bk_engine_recognize(struct bk_engine *engine, const struct bk_gray *img,
			const char *model, enum bk_psm psm,
			const struct bk_box *rect, struct bk_page *page,
			struct bk_error *err)
{
	TessResultIterator *ri = NULL;
	struct glyph_set gs = { 0 };
	bool use_glyphs = false;
	struct bk_oldprint_tally tally = { 0, 0, 0 };
	struct bk_box clipped;
	int rc = -1;

	TessBaseAPI *api = handle_with_image(engine, model, img, err);
	if (!api)
		return -1;
	if (rect && !clip_rect(img, rect, &clipped)) {
		rc = 0;
		goto out;
	}
	if (run_tesseract(api, model, rect ? &clipped : NULL, psm, &ri, err))
		goto out;
	if (!ri) {
		rc = 0;
		goto out;
	}
	bool old_print = engine->old_print != BK_OLD_PRINT_OFF && is_jpn_model(model);
	bool look = old_print && engine->old_print == BK_OLD_PRINT_AUTO &&
		    !engine->old_print_seen;
	size_t first = page->nblocks;
	if (!old_print || look) {
		/* The words as Tesseract gave them; under auto tallied, the
		 * cheap first look (oldprint.h, step 1). */
		if (collect_words(ri, model, psm, NULL, look ? &tally : NULL, page,
				  err))
			goto out;
		if (!look || !bk_oldprint_may_be(&tally)) {
			rc = 0;
			goto out;
		}
		TessPageIteratorBegin(TessResultIteratorGetPageIterator(ri));
	}
	bool vertical = psm == BK_PSM_SINGLE_BLOCK_VERT ||
			strcmp(model, "jpn_vert") == 0;
	if (old_print_glyphs(engine, img, ri, rect ? &clipped : NULL, psm,
			     vertical, look ? &tally : NULL, &gs, &use_glyphs, err))
		goto out;
	if (look && !use_glyphs) {
		rc = 0; /* not old print: step 1's words stay */
		goto out;
	}
	bk_page_truncate(page, first);
	rc = collect_words(ri, model, psm, use_glyphs ? &gs : NULL, NULL, page,
			   err);
out:
	if (ri)
		TessResultIteratorDelete(ri);
	glyph_set_release(&gs);
	TessBaseAPIClear(api);
	return rc;
}

static enum bk_region_kind region_kind(TessPolyBlockType type)
{
	switch (type) {
	case PT_FLOWING_TEXT:
	case PT_HEADING_TEXT:
	case PT_PULLOUT_TEXT:
	case PT_VERTICAL_TEXT:
	case PT_CAPTION_TEXT:
	case PT_TABLE:
	case PT_INLINE_EQUATION:
		return BK_REGION_TEXT;
	case PT_FLOWING_IMAGE:
	case PT_HEADING_IMAGE:
	case PT_PULLOUT_IMAGE:
		return BK_REGION_IMAGE;
	case PT_HORZ_LINE:
	case PT_VERT_LINE:
		return BK_REGION_RULE;
	default:
		return BK_REGION_OTHER;
	}
}

/* Appends one region per block, counting each block's text lines. */
static int collect_regions(TessPageIterator *pi, struct bk_region **regions,
			   size_t *nregions, struct bk_error *err)
{
	size_t alloc = 0;

	do {
		if (TessPageIteratorIsAtBeginningOf(pi, RIL_BLOCK)) {
			if (*nregions == alloc) {
				size_t n = alloc ? alloc * 2 : 16;
				struct bk_region *p = realloc(*regions, n * sizeof(*p));
				if (!p)
					return bk_error_set(err, "out of memory in layout analysis");
				*regions = p;
				alloc = n;
			}
			struct bk_region *r = &(*regions)[(*nregions)++];
			r->box = iter_box(pi, RIL_BLOCK);
			r->kind = region_kind(TessPageIteratorBlockType(pi));
			r->tess_vertical = iter_vertical(pi);
			r->nlines = 0;
		}
		if (*nregions)
			(*regions)[*nregions - 1].nlines++;
	} while (TessPageIteratorNext(pi, RIL_TEXTLINE));
	return 0;
}

int bk_engine_layout(struct bk_engine *engine, const struct bk_gray *img,
		     const char *model, struct bk_region **regions,
		     size_t *nregions, struct bk_error *err)
{
	TessPageIterator *pi = NULL;
	int rc = -1;

	*regions = NULL;
	*nregions = 0;
	TessBaseAPI *api = handle_with_image(engine, model, img, err);
	if (!api)
		return -1;
	TessBaseAPISetPageSegMode(api, PSM_AUTO);
	pi = TessBaseAPIAnalyseLayout(api);
	rc = pi ? collect_regions(pi, regions, nregions, err) : 0;
	if (pi)
		TessPageIteratorDelete(pi);
	TessBaseAPIClear(api);
	if (rc) {
		free(*regions);
		*regions = NULL;
		*nregions = 0;
	}
	return rc;
}

int bk_engine_orientation(struct bk_engine *engine, const struct bk_gray *img,
			  struct bk_orientation *out, struct bk_error *err)
{
	int degrees = 0;
	float conf = 0, script_conf = 0;
	const char *script = NULL;

	memset(out, 0, sizeof(*out));
	TessBaseAPI *api = handle_with_image(engine, "osd", img, err);
	if (!api)
		return -1;
	TessBaseAPISetPageSegMode(api, PSM_OSD_ONLY);
	/* Fails (returns false) when too few characters are found; that is
	 * an answer ("unknown"), not an error. The script name points into
	 * the model's tables and is not freed. */
	if (TessBaseAPIDetectOrientationScript(api, &degrees, &conf, &script,
					       &script_conf)) {
		/* Tesseract reports how far the page was turned clockwise;
		 * undoing that is the opposite turn. */
		out->rotate = (360 - degrees % 360) % 360;
		out->confidence = conf;
		out->script_confidence = script_conf;
		snprintf(out->script, sizeof(out->script), "%s",
			 script ? script : "");
		out->detected = true;
	}
	TessBaseAPIClear(api);
	return 0;
}
