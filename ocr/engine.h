/*
 * ocr/engine.h — the Tesseract adapter. ocr/engine.c is the only file that
 * sees Tesseract's types; everything here speaks bunko's own: gray pixel
 * buffers in, page models (bunko/page.h) and plain structs out.
 *
 * A `struct bk_engine` belongs to one worker (it is not thread-safe). It
 * holds one initialized Tesseract handle per model ("jpn", "jpn_vert",
 * "eng", "osd", or a combination such as "jpn+eng"), created the first time
 * the model is asked for and reused for every later page: loading a model
 * costs far more than reading a page, so a handle is never re-initialized.
 *
 * Tesseract's own diagnostics are sent to /dev/null: library code does not
 * print.
 */
#ifndef BUNKO_OCR_ENGINE_H
#define BUNKO_OCR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "bunko/common.h"
#include "ocr/oldprint.h"
#include "bunko/page.h"

struct bk_engine;

/* An 8-bit gray image as Tesseract reads it (0 = black). Borrowed: the
 * engine copies what it needs before returning. */
struct bk_gray {
	const unsigned char *data;
	int width, height;
	int stride;     /* bytes per row */
	int resolution; /* dots per inch; 0 = unknown (300 is assumed) */
};

/* Page segmentation modes bunko uses (the values are Tesseract's). */
enum bk_psm {
	BK_PSM_AUTO = 3,              /* full layout analysis */
	BK_PSM_SINGLE_BLOCK_VERT = 5, /* one block of vertical text */
	BK_PSM_SINGLE_BLOCK = 6,      /* one block of horizontal text */
	BK_PSM_SINGLE_LINE = 7,
	BK_PSM_SPARSE = 11            /* as much text as possible, any order */
};

/* What layout analysis found: one region per Tesseract block. */
enum bk_region_kind {
	BK_REGION_TEXT = 0,
	BK_REGION_IMAGE,
	BK_REGION_RULE, /* horizontal or vertical line */
	BK_REGION_OTHER /* noise, tables, anything else */
};

struct bk_region {
	struct bk_box box;
	enum bk_region_kind kind;
	bool tess_vertical; /* Tesseract itself classed the block as vertical */
	int nlines;         /* text lines Tesseract found in it */
};

/* Result of orientation and script detection. */
struct bk_orientation {
	int rotate;       /* 0, 90, 180 or 270: clockwise turn that makes the page upright */
	float confidence; /* Tesseract's orientation confidence; 0 when unknown */
	char script[24];  /* "Japanese", "Latin", "Han"... or "" when unknown */
	float script_confidence;
	bool detected;    /* false: too little text, rotate is 0 by default */
};

/* NULL tessdata_dir: Tesseract's default (TESSDATA_PREFIX or the built-in
 * path). Models are loaded lazily, so this only checks that Tesseract can be
 * created. Caller frees with bk_engine_free(). */
struct bk_engine *bk_engine_new(const char *tessdata_dir, struct bk_error *err);
void bk_engine_free(struct bk_engine **engine);

/* Loads `model` now (normally done on first use); -1 with a message if the
 * model cannot be loaded. */
int bk_engine_load(struct bk_engine *engine, const char *model,
		   struct bk_error *err);

/*
 * Old print (see ocr/oldprint.h): under BK_OLD_PRINT_ON every later
 * reading with jpn or jpn_vert has its doubtful lines read again with
 * chi_tra / chi_tra_vert and fused glyph by glyph; under BK_OLD_PRINT_AUTO
 * only readings that bk_oldprint_detect() finds to be old print, and every
 * reading after such a one until the next call of this function (the
 * pipeline calls it per page, so a page is old print once one of its
 * regions is: its small regions, headings and captions give too few kanji
 * to tell); under BK_OLD_PRINT_OFF (a new engine's setting) none. Other
 * models are never affected.
 */
void bk_engine_set_old_print(struct bk_engine *engine, enum bk_old_print mode);

/* What the old-print reading did so far (summed over all calls). */
struct bk_oldprint_stats bk_engine_oldprint_stats(const struct bk_engine *engine);

/* Number of Tesseract handles created so far (one per distinct model). */
size_t bk_engine_handle_count(const struct bk_engine *engine);

/*
 * Recognizes `img` (or only `rect` of it, NULL = all) with `model` in page
 * segmentation mode `psm` and appends the text to `page` as blocks, lines
 * and words, with boxes in pixels of `img`. Each new block records `model`
 * and its direction: vertical for BK_PSM_SINGLE_BLOCK_VERT, otherwise what
 * Tesseract's iterator reports for the block. Words are added one by one
 * with their boxes and confidences; Tesseract's words that are only
 * whitespace are dropped. With old print on (bk_engine_set_old_print),
 * jpn/jpn_vert words carry the fused text. `page` keeps its width/height/etc.: the caller
 * sets them. On error the blocks added so far stay in `page`.
 */
int bk_engine_recognize(struct bk_engine *engine, const struct bk_gray *img,
			const char *model, enum bk_psm psm,
			const struct bk_box *rect, struct bk_page *page,
			struct bk_error *err);

/*
 * Layout analysis only (no recognition) of `img` with `model`'s handle in
 * PSM_AUTO: the blocks Tesseract would read, in its order. *regions is
 * newly allocated (caller frees; NULL when none).
 */
int bk_engine_layout(struct bk_engine *engine, const struct bk_gray *img,
		     const char *model, struct bk_region **regions,
		     size_t *nregions, struct bk_error *err);

/*
 * Orientation and script detection with the "osd" model. A page with too
 * little text (blank, picture) is not an error: out->detected is false and
 * out->rotate 0.
 */
int bk_engine_orientation(struct bk_engine *engine, const struct bk_gray *img,
			  struct bk_orientation *out, struct bk_error *err);

#endif
