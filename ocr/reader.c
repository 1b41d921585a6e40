/*
 * ocr/reader.c — reading one scanned page (see reader.h).
 *
 * Protocol of bk_read_page():
 *   1. cleanup (ocr/cleanup.h) without rotation, guessing a vertical
 *      (right-to-left) book; if a split spread turns out to hold horizontal
 *      text, cleanup runs again with the left half first;
 *   2. each cleaned page is read with the automatic choice (or the model
 *      the caller named);
 *   3. a page whose words come out with low confidence is checked with
 *      orientation detection; when Tesseract is confident the page is
 *      turned, cleanup runs again with that rotation and the page is read
 *      again; otherwise the opposite writing direction is tried and the
 *      more confident reading kept.
 * Orientation detection runs only in step 3 because it costs a quarter of
 * a reading pass, and an upright page read well needs none. Pictures
 * (ukiyoe, map) are never turned (no step 3): they are read as described
 * under "pictures" below and in reader.h.
 *
 * Pictures are read in bands (struct picture): Tesseract copies the image
 * it is given and builds several images of that size of its own, so a
 * 12000x9000 map handed over whole (with a full-size gray copy) cost
 * 480 MB on top of the decoded picture; in bands of BK_BAND_PIXELS,
 * overlapping by an inch, 150 MB, and each band is a gray copy of those
 * rows only. Each line is kept from the band in whose half of
 * the overlap its middle lies, so a label up to an inch tall is read once.
 *
 * Region finding (bk_find_text_regions) is an X-Y cut on the ink of the
 * cleaned page: a box is cut at empty rows; a box without empty rows is
 * cut at wide empty columns (a quarter inch: wider than the gap between
 * vertical columns or Japanese words, narrower than a gutter); a box that
 * cannot be cut is a leaf and gets a direction from its shape:
 *   one column run                vertical if twice as tall as wide
 *   no empty row, 3x as wide      one line: horizontal
 *   r = height / median width of its ink column runs (about one character)
 *   r <= 1.8                      one line high: horizontal
 *   r >= 2.5, >= 10% empty columns columns with gaps: vertical
 *   r >= 2.5 otherwise            vertical if twice as tall as wide (one
 *                                 column), else horizontal (lines that
 *                                 touch)
 *   in between                    the longer side gives the direction
 * Horizontal leaves stacked one over the other form one region (a
 * paragraph); vertical leaves stay separate (tiers are read one by one).
 */
#include "ocr/reader.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#define BK_INK_THRESHOLD 128
#define BK_LOW_CONFIDENCE 60.0f  /* below: orientation or direction is doubtful */
#define BK_MIN_WORDS_TO_DOUBT 8  /* fewer words say little about a page */
#define BK_OSD_MIN_CONFIDENCE 1.5f
#define BK_PICTURE_LINE_BEST 80.0f  /* pictures: see keep_lettering() */
#define BK_PICTURE_LINE_MEAN 40.0f
#define BK_PICTURE_WORD_FLOOR 10.0f /* below: Tesseract's non-answers */
#define BK_BAND_PIXELS (24L * 1000 * 1000) /* pictures are read in bands this large */
#define BK_MAX_CUT_DEPTH 24
#define BK_LINE_GAP_RATIO 0.3 /* line gap / line height above which rows are lines */

void bk_read_options_init(struct bk_read_options *opt)
{
	opt->lang = "auto";
	opt->profile = BK_PROFILE_RECORD;
	opt->source_page = 0;
	opt->bilevel = false;
}

void bk_read_result_release(struct bk_read_result *r)
{
	if (!r)
		return;
	for (int i = 0; i < 2; i++) {
		bk_page_release(&r->pages[i]);
		bk_image_free(&r->display[i]);
	}
	memset(r, 0, sizeof(*r));
}

/* ---- region finding ---------------------------------------------------- */

enum node_kind { NODE_LEAF, NODE_ROWS, NODE_COLS, NODE_DROPPED };
enum leaf_dir { LEAF_H = BK_DIR_HORIZONTAL, LEAF_V = BK_DIR_VERTICAL };

struct cut_node {
	struct bk_box box;
	enum node_kind kind;
	size_t first_child, nchildren;
	int dir;
	long ink;
};

struct cut_ctx {
	const struct bk_gray *img;
	int gap_rows;   /* smallest empty-row run between two lines */
	int gap_rows_wide; /* smallest empty-row run that cuts any text */
	int gap_cols;   /* smallest empty-column run that cuts */
	int min_extent; /* smaller boxes are specks */
	int *counts;    /* scratch: max(width, height) */
	struct cut_node *nodes;
	size_t nnodes, alloc;
	bool failed;
};

/* Ink per row (by_rows) or per column of `box`, into ctx->counts. */
static long profile(const struct cut_ctx *ctx, struct bk_box box, bool by_rows)
{
	const struct bk_gray *img = ctx->img;
	int n = by_rows ? box.y1 - box.y0 : box.x1 - box.x0;
	long total = 0;

	memset(ctx->counts, 0, (size_t)n * sizeof(int));
	for (int y = box.y0; y < box.y1; y++) {
		const unsigned char *row = img->data + (size_t)y * img->stride;
		const unsigned char *below = y + 1 < img->height ? row + img->stride : row;
		for (int x = box.x0; x < box.x1; x++) {
			/* An isolated pixel is noise: strokes are at least two
			 * pixels wide or tall. */
			if (row[x] < BK_INK_THRESHOLD &&
			    ((x + 1 < img->width && row[x + 1] < BK_INK_THRESHOLD) ||
			     (below != row && below[x] < BK_INK_THRESHOLD))) {
				ctx->counts[by_rows ? y - box.y0 : x - box.x0]++;
				total++;
			}
		}
	}
	return total;
}

/* A row (column) counts as ink when it has more than a trace: specks left
 * by cleanup must not bridge the gap between two lines. */
static int ink_threshold(int length)
{
	int t = length / 150;
	return t < 2 ? 2 : t;
}

/* Shrinks `box` to its ink; false when it holds none. */
static bool shrink(const struct cut_ctx *ctx, struct bk_box *box, long *ink)
{
	int w = box->x1 - box->x0, h = box->y1 - box->y0;
	int t;

	if (w <= 0 || h <= 0)
		return false;
	*ink = profile(ctx, *box, true);
	t = ink_threshold(w);
	int y0 = 0, y1 = h;
	while (y0 < h && ctx->counts[y0] < t)
		y0++;
	while (y1 > y0 && ctx->counts[y1 - 1] < t)
		y1--;
	if (y0 >= y1)
		return false;
	box->y1 = box->y0 + y1;
	box->y0 += y0;
	profile(ctx, *box, false);
	t = ink_threshold(box->y1 - box->y0);
	int x0 = 0, x1 = w;
	while (x0 < w && ctx->counts[x0] < t)
		x0++;
	while (x1 > x0 && ctx->counts[x1 - 1] < t)
		x1--;
	if (x0 >= x1)
		return false;
	box->x1 = box->x0 + x1;
	box->x0 += x0;
	return true;
}

static size_t add_node(struct cut_ctx *ctx, struct bk_box box)
{
	if (ctx->nnodes == ctx->alloc) {
		size_t n = ctx->alloc ? ctx->alloc * 2 : 64;
		struct cut_node *p = realloc(ctx->nodes, n * sizeof(*p));
		if (!p) {
			ctx->failed = true;
			return SIZE_MAX;
		}
		ctx->nodes = p;
		ctx->alloc = n;
	}
	struct cut_node *node = &ctx->nodes[ctx->nnodes];
	memset(node, 0, sizeof(*node));
	node->box = box;
	node->kind = NODE_LEAF;
	return ctx->nnodes++;
}

/* Finds the ink runs of the profile in ctx->counts (length n) separated by
 * at least `min_gap` empty entries; stores up to `max` [start, end) pairs. */
static int find_runs(const int *counts, int n, int threshold, int min_gap,
		     int (*runs)[2], int max)
{
	int nruns = 0, i = 0;

	while (i < n) {
		while (i < n && counts[i] < threshold)
			i++;
		if (i >= n)
			break;
		int start = i, end = i;
		while (i < n) {
			if (counts[i] >= threshold) {
				end = ++i;
				continue;
			}
			int gap = i;
			while (i < n && counts[i] < threshold)
				i++;
			if (i - gap >= min_gap || i >= n)
				break;
		}
		if (nruns < max) {
			runs[nruns][0] = start;
			runs[nruns][1] = end;
		}
		nruns++;
	}
	return nruns < max ? nruns : max;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Shape of a profile: its ink runs (gaps of at least 2 entries between
 * them) and the median run and gap lengths. `gap_ratio` (median gap /
 * median run) tells line spacing (about 0.3 to 1) from the spacing of
 * characters inside a line (0 to 0.2). */
struct run_stats {
	int nruns;
	double run, gap, gap_ratio;
};

static int median_of(int *v, int n)
{
	if (!n)
		return 0;
	qsort(v, (size_t)n, sizeof(int), cmp_int);
	return v[n / 2];
}

static int run_stats(struct cut_ctx *ctx, struct bk_box box, bool by_rows,
		     struct run_stats *st)
{
	int n = by_rows ? box.y1 - box.y0 : box.x1 - box.x0;
	int (*runs)[2] = malloc((size_t)n * sizeof(*runs));
	int *len = malloc((size_t)n * 2 * sizeof(int));

	memset(st, 0, sizeof(*st));
	if (!runs || !len) {
		free(runs);
		free(len);
		ctx->failed = true;
		return -1;
	}
	profile(ctx, box, by_rows);
	st->nruns = find_runs(ctx->counts, n,
			      ink_threshold(by_rows ? box.x1 - box.x0
						    : box.y1 - box.y0),
			      2, runs, n);
	int nlen = 0, ngap = 0;
	for (int i = 0; i < st->nruns; i++)
		len[nlen++] = runs[i][1] - runs[i][0];
	for (int i = 1; i < st->nruns; i++)
		len[n + ngap++] = runs[i][0] - runs[i - 1][1];
	st->run = median_of(len, nlen);
	st->gap = median_of(len + n, ngap);
	st->gap_ratio = st->nruns > 1 && st->run > 0 ? st->gap / st->run : 0;
	free(runs);
	free(len);
	return 0;
}

/* Direction of a box that is not cut further (rules in the file comment).
 * Returns -1 for a ruling line or a speck. */
static int classify_leaf(struct cut_ctx *ctx, const struct cut_node *node)
{
	struct bk_box b = node->box;
	int w = b.x1 - b.x0, h = b.y1 - b.y0;
	int thin = ctx->min_extent * 3 / 2;
	struct run_stats rows, cols;

	if ((w < ctx->min_extent && h < ctx->min_extent) || w < 4 || h < 4 ||
	    node->ink < (long)ctx->min_extent * ctx->min_extent)
		return -1; /* a speck */
	if ((h <= thin && w >= 8 * h) || (w <= thin && h >= 8 * w))
		return -1; /* a ruling line */
	if (run_stats(ctx, b, false, &cols) || run_stats(ctx, b, true, &rows))
		return -1;
	if (cols.nruns <= 1)
		return h >= 2 * w ? LEAF_V : LEAF_H; /* one column, or a blob */
	if (rows.nruns <= 1 && w >= 3 * h)
		return LEAF_H; /* one line: no empty row across it */
	double r = h / (cols.run > 0 ? cols.run : 1);
	if (r <= 1.8)
		return LEAF_H; /* one line high */
	if (r >= 2.5) {
		if (cols.gap_ratio > rows.gap_ratio)
			return LEAF_V; /* columns with gaps between them */
		if (rows.nruns > 1)
			return LEAF_H; /* lines closer than characters */
		return h >= 2 * w ? LEAF_V : LEAF_H;
	}
	return w >= h ? LEAF_H : LEAF_V;
}

/* Cuts node i. Text laid out in lines (empty rows between lines, spaced
 * wider than characters) is cut into its lines; otherwise only wide gaps
 * cut: empty rows of more than a sixth of an inch (between a heading and a
 * vertical body, or between tiers), then empty columns of a quarter inch.
 * Vertical text is never cut between its characters, even when they sit
 * on a grid and leave empty rows. */
static void cut(struct cut_ctx *ctx, size_t i, int depth)
{
	struct bk_box box = ctx->nodes[i].box;
	int w = box.x1 - box.x0, h = box.y1 - box.y0;
	bool by_rows = true;
	int n = h, nruns = 0;
	int (*runs)[2] = NULL;
	struct run_stats rows, cols;

	if (depth > BK_MAX_CUT_DEPTH)
		goto leaf;
	runs = malloc((size_t)(w > h ? w : h) * sizeof(*runs));
	if (!runs || run_stats(ctx, box, true, &rows) ||
	    run_stats(ctx, box, false, &cols)) {
		ctx->failed = true;
		goto out;
	}
	profile(ctx, box, true);
	if (rows.nruns > 1 && rows.gap_ratio >= BK_LINE_GAP_RATIO &&
	    rows.gap_ratio >= cols.gap_ratio)
		nruns = find_runs(ctx->counts, n, ink_threshold(w), ctx->gap_rows,
				  runs, n);
	if (nruns < 2)
		nruns = find_runs(ctx->counts, n, ink_threshold(w),
				  ctx->gap_rows_wide, runs, n);
	if (nruns < 2) {
		by_rows = false;
		n = w;
		profile(ctx, box, false);
		nruns = find_runs(ctx->counts, n, ink_threshold(h), ctx->gap_cols,
				  runs, n);
	}
	if (nruns < 2)
		goto leaf;
	size_t first = ctx->nnodes;
	for (int r = 0; r < nruns; r++) {
		struct bk_box child = box;
		if (by_rows) {
			child.y0 = box.y0 + runs[r][0];
			child.y1 = box.y0 + runs[r][1];
		} else {
			child.x0 = box.x0 + runs[r][0];
			child.x1 = box.x0 + runs[r][1];
		}
		long ink;
		if (!shrink(ctx, &child, &ink))
			continue;
		size_t c = add_node(ctx, child);
		if (c == SIZE_MAX)
			goto out;
		ctx->nodes[c].ink = ink;
	}
	ctx->nodes[i].kind = by_rows ? NODE_ROWS : NODE_COLS;
	ctx->nodes[i].first_child = first;
	ctx->nodes[i].nchildren = ctx->nnodes - first;
	for (size_t c = first; c < first + ctx->nodes[i].nchildren && !ctx->failed; c++)
		cut(ctx, c, depth + 1);
	goto out;
leaf:
	ctx->nodes[i].kind = NODE_LEAF;
	ctx->nodes[i].dir = classify_leaf(ctx, &ctx->nodes[i]);
	if (ctx->nodes[i].dir < 0)
		ctx->nodes[i].kind = NODE_DROPPED;
out:
	free(runs);
}

struct region_list {
	struct bk_text_region *items;
	size_t n, alloc;
	bool failed;
};

static struct bk_text_region *add_region(struct region_list *list,
					 struct bk_box box, enum bk_dir dir)
{
	if (list->n == list->alloc) {
		size_t n = list->alloc ? list->alloc * 2 : 16;
		struct bk_text_region *p = realloc(list->items, n * sizeof(*p));
		if (!p) {
			list->failed = true;
			return NULL;
		}
		list->items = p;
		list->alloc = n;
	}
	struct bk_text_region *r = &list->items[list->n++];
	r->box = box;
	r->dir = dir;
	return r;
}

static struct bk_box box_union(struct bk_box a, struct bk_box b)
{
	struct bk_box u = a;
	if (b.x0 < u.x0) u.x0 = b.x0;
	if (b.y0 < u.y0) u.y0 = b.y0;
	if (b.x1 > u.x1) u.x1 = b.x1;
	if (b.y1 > u.y1) u.y1 = b.y1;
	return u;
}

/* Emits node i's regions in reading order. `merge_from` is the index of the
 * first region emitted by the enclosing row cut: a horizontal leaf joins
 * the region just before it when that one is horizontal and belongs to the
 * same stack. */
static void emit(const struct cut_ctx *ctx, size_t i, enum bk_dir dominant,
		 struct region_list *out)
{
	const struct cut_node *node = &ctx->nodes[i];
	size_t n = node->nchildren;

	switch (node->kind) {
	case NODE_DROPPED:
		return;
	case NODE_LEAF:
		add_region(out, node->box, (enum bk_dir)node->dir);
		return;
	case NODE_ROWS: {
		size_t stack_start = out->n;
		for (size_t c = 0; c < n; c++) {
			const struct cut_node *child = &ctx->nodes[node->first_child + c];
			if (child->kind == NODE_LEAF && child->dir == LEAF_H &&
			    out->n > stack_start &&
			    out->items[out->n - 1].dir == BK_DIR_HORIZONTAL) {
				struct bk_text_region *prev = &out->items[out->n - 1];
				prev->box = box_union(prev->box, child->box);
				continue;
			}
			emit(ctx, node->first_child + c, dominant, out);
		}
		return;
	}
	case NODE_COLS:
		for (size_t c = 0; c < n; c++) {
			size_t k = dominant == BK_DIR_VERTICAL ? n - 1 - c : c;
			emit(ctx, node->first_child + k, dominant, out);
		}
		return;
	}
}

/*
 * Joins the pieces of a narrow column of vertical text that the row cuts
 * took apart. A side tab (柱, 第4章 ...) set in the margin of a horizontal
 * page has its characters level with the body's lines, so the empty rows
 * between those lines cut it into one region per character, each read as
 * a horizontal line (hakusho pp. 46-50: 5 to 8 pieces a page). Pieces are
 * regions at most a fifth of an inch wide; stacked ones (their x ranges
 * overlapping by half the narrower, at most a third of an inch apart: the
 * space between two words of a tab) form a column when there are three
 * or more and the column is three times as tall as wide and covers no
 * more than a tenth of any other region (the row cuts may have stacked
 * its last piece with a short line of the body).
 * The column takes the place of its first piece, as a vertical region.
 */
static void join_columns(struct region_list *list, int dpi)
{
	int narrow = dpi / 5, gap = dpi / 3;
	size_t n = list->n;
	struct bk_text_region *r = list->items;
	unsigned char *gone = calloc(n ? n : 1, 1);
	size_t *member = malloc((n ? n : 1) * sizeof(*member));

	if (!gone || !member) {
		free(gone);
		free(member);
		return; /* an optimisation only: the pieces stay as they are */
	}
	for (size_t i = 0; i < n; i++) {
		size_t nm = 0;
		struct bk_box col = r[i].box;
		if (gone[i] || col.x1 - col.x0 > narrow)
			continue;
		member[nm++] = i;
		for (bool grew = true; grew;) {
			grew = false;
			for (size_t k = 0; k < n; k++) {
				struct bk_box b = r[k].box;
				bool in = false;
				for (size_t m = 0; m < nm; m++)
					in |= member[m] == k;
				if (in || gone[k] || b.x1 - b.x0 > narrow)
					continue;
				int ox = (b.x1 < col.x1 ? b.x1 : col.x1) - (b.x0 > col.x0 ? b.x0 : col.x0);
				int nw = b.x1 - b.x0 < col.x1 - col.x0 ? b.x1 - b.x0 : col.x1 - col.x0;
				int dy = b.y0 >= col.y1 ? b.y0 - col.y1 : col.y0 >= b.y1 ? col.y0 - b.y1 : 0;
				if (2 * ox >= nw && dy <= gap) {
					member[nm++] = k;
					col = box_union(col, b);
					grew = true;
				}
			}
		}
		if (nm < 3 || col.y1 - col.y0 < 3 * (col.x1 - col.x0))
			continue;
		bool clear = true;
		for (size_t k = 0; k < n && clear; k++) {
			bool in = false;
			for (size_t m = 0; m < nm; m++)
				in |= member[m] == k;
			struct bk_box b = r[k].box;
			long ox = (long)(b.x1 < col.x1 ? b.x1 : col.x1) - (b.x0 > col.x0 ? b.x0 : col.x0);
			long oy = (long)(b.y1 < col.y1 ? b.y1 : col.y1) - (b.y0 > col.y0 ? b.y0 : col.y0);
			if (!in && !gone[k] && ox > 0 && oy > 0 &&
			    10 * ox * oy > (long)(b.x1 - b.x0) * (b.y1 - b.y0))
				clear = false;
		}
		if (!clear)
			continue;
		size_t first = member[0];
		for (size_t m = 1; m < nm; m++) {
			if (member[m] < first)
				first = member[m];
		}
		for (size_t m = 0; m < nm; m++)
			gone[member[m]] = 1;
		gone[first] = 0;
		r[first].box = col;
		r[first].dir = BK_DIR_VERTICAL;
	}
	size_t keep = 0;
	for (size_t i = 0; i < n; i++)
		if (!gone[i])
			r[keep++] = r[i];
	list->n = keep;
	free(gone);
	free(member);
}

int bk_find_text_regions(const struct bk_gray *img,
			 struct bk_text_region **regions, size_t *nregions,
			 enum bk_dir *dominant, struct bk_error *err)
{
	struct cut_ctx ctx = { .img = img };
	struct region_list list = { 0 };
	int dpi = img->resolution > 0 ? img->resolution : 300;
	int rc = -1;
	long ink_dir[2] = { 0, 0 };

	*regions = NULL;
	*nregions = 0;
	*dominant = BK_DIR_HORIZONTAL;
	if (!img->data || img->width <= 0 || img->height <= 0)
		return bk_error_set(err, "invalid gray image for region finding");
	ctx.gap_rows = dpi / 100 < 2 ? 2 : dpi / 100;
	ctx.gap_rows_wide = dpi / 6;
	ctx.gap_cols = dpi / 4;
	ctx.min_extent = dpi / 40 < 3 ? 3 : dpi / 40;
	ctx.counts = malloc((size_t)(img->width > img->height ? img->width
							       : img->height) *
			    sizeof(int));
	if (!ctx.counts)
		goto nomem;
	struct bk_box page = { 0, 0, img->width, img->height };
	long ink;
	if (!shrink(&ctx, &page, &ink)) {
		rc = 0; /* blank */
		goto out;
	}
	size_t root = add_node(&ctx, page);
	if (root == SIZE_MAX)
		goto nomem;
	ctx.nodes[root].ink = ink;
	cut(&ctx, root, 0);
	if (ctx.failed)
		goto nomem;
	for (size_t i = 0; i < ctx.nnodes; i++) {
		const struct cut_node *node = &ctx.nodes[i];
		if (node->kind == NODE_LEAF) {
			struct bk_box b = node->box;
			ink_dir[node->dir] += (long)(b.x1 - b.x0) * (b.y1 - b.y0);
		}
	}
	*dominant = ink_dir[BK_DIR_VERTICAL] > ink_dir[BK_DIR_HORIZONTAL]
			    ? BK_DIR_VERTICAL
			    : BK_DIR_HORIZONTAL;
	emit(&ctx, root, *dominant, &list);
	if (list.failed)
		goto nomem;
	join_columns(&list, dpi);
	*regions = list.items;
	*nregions = list.n;
	list.items = NULL;
	rc = 0;
	goto out;
nomem:
	bk_error_set(err, "out of memory finding text regions");
out:
	free(list.items);
	free(ctx.nodes);
	free(ctx.counts);
	return rc;
}

/* ---- reading a cleaned page -------------------------------------------- */

static float mean_confidence(const struct bk_page *page, size_t *nwords)
{
	double sum = 0;
	size_t n = 0;

	for (size_t b = 0; b < page->nblocks; b++)
		for (size_t l = 0; l < page->blocks[b].nlines; l++)
			for (size_t w = 0; w < page->blocks[b].lines[l].nwords; w++) {
				sum += page->blocks[b].lines[l].words[w].conf;
				n++;
			}
	if (nwords)
		*nwords = n;
	return n ? (float)(sum / n) : 0.0f;
}

/* Characters of the page's words. */
static size_t page_chars(const struct bk_page *page)
{
	size_t n = 0;

	for (size_t b = 0; b < page->nblocks; b++)
		for (size_t l = 0; l < page->blocks[b].nlines; l++)
			for (size_t w = 0; w < page->blocks[b].lines[l].nwords; w++) {
				const char *s = page->blocks[b].lines[l].words[w].text;
				while (*s) {
					bk_utf8_next(&s);
					n++;
				}
			}
	return n;
}

/* Share of the page's letters that are ASCII letters or digits. */
static double latin_share(const struct bk_page *page)
{
	size_t latin = 0, total = 0;

	for (size_t b = 0; b < page->nblocks; b++)
		for (size_t l = 0; l < page->blocks[b].nlines; l++)
			for (size_t w = 0; w < page->blocks[b].lines[l].nwords; w++) {
				const unsigned char *s = (const unsigned char *)
					page->blocks[b].lines[l].words[w].text;
				for (; *s; s++) {
					if ((*s & 0xC0) == 0x80)
						continue; /* continuation byte */
					total++;
					if (*s < 0x80 && ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))
						latin++;
				}
			}
	return total ? (double)latin / total : 0;
}

/* Moves the blocks of `from` to the end of `to`. */
static int take_blocks(struct bk_page *to, struct bk_page *from,
		       struct bk_error *err)
{
	for (size_t b = 0; b < from->nblocks; b++) {
		struct bk_block *src = &from->blocks[b];
		struct bk_block *dst = bk_page_add_block(to, src->box, src->dir,
							 src->lang);
		if (!dst)
			return bk_error_set(err, "out of memory storing OCR results");
		dst->lines = src->lines;
		dst->nlines = src->nlines;
		dst->alloc = src->alloc;
		src->lines = NULL;
		src->nlines = src->alloc = 0;
	}
	bk_page_release(from);
	return 0;
}

/* Drops words below `min_conf`, then lines and blocks left empty. */
static void drop_unsure_words(struct bk_page *page, float min_conf)
{
	for (size_t b = 0; b < page->nblocks; b++) {
		struct bk_block *block = &page->blocks[b];
		size_t keep_l = 0;
		for (size_t l = 0; l < block->nlines; l++) {
			struct bk_line *line = &block->lines[l];
			size_t keep_w = 0;
			for (size_t w = 0; w < line->nwords; w++) {
				if (line->words[w].conf >= min_conf)
					line->words[keep_w++] = line->words[w];
				else
					free(line->words[w].text);
			}
			line->nwords = keep_w;
			if (keep_w)
				block->lines[keep_l++] = *line;
			else
				free(line->words);
		}
		block->nlines = keep_l;
	}
	size_t keep_b = 0;
	for (size_t b = 0; b < page->nblocks; b++) {
		if (page->blocks[b].nlines)
			page->blocks[keep_b++] = page->blocks[b];
		else
			free(page->blocks[b].lines);
	}
	page->nblocks = keep_b;
}

/* The rectangle Tesseract reads for region i: the region with a margin of
 * white around it. Tesseract reads characters that touch the rectangle's
 * edge badly (measured: vertical pages at 4-5% CER instead of 0-2%). The
 * margin stops halfway to a neighbouring region, or Tesseract would read
 * the neighbour's edge twice. */
static struct bk_box padded(const struct bk_gray *img,
			    const struct bk_text_region *regions,
			    size_t nregions, size_t i)
{
	struct bk_box b = regions[i].box;
	int pad = (img->resolution > 0 ? img->resolution : 300) / 12;
	struct bk_box r = {
		b.x0 > pad ? b.x0 - pad : 0,
		b.y0 > pad ? b.y0 - pad : 0,
		b.x1 + pad < img->width ? b.x1 + pad : img->width,
		b.y1 + pad < img->height ? b.y1 + pad : img->height,
	};
	for (size_t k = 0; k < nregions; k++) {
		struct bk_box o = regions[k].box;
		if (k == i || o.x0 >= r.x1 || o.x1 <= r.x0 || o.y0 >= r.y1 ||
		    o.y1 <= r.y0)
			continue;
		bool overlap_x = o.x0 < b.x1 && o.x1 > b.x0;
		bool overlap_y = o.y0 < b.y1 && o.y1 > b.y0;
		if (overlap_x && o.y1 <= b.y0 && r.y0 < (o.y1 + b.y0) / 2)
			r.y0 = (o.y1 + b.y0) / 2;
		else if (overlap_x && o.y0 >= b.y1 && r.y1 > (o.y0 + b.y1 + 1) / 2)
			r.y1 = (o.y0 + b.y1 + 1) / 2;
		else if (overlap_y && o.x1 <= b.x0 && r.x0 < (o.x1 + b.x0) / 2)
			r.x0 = (o.x1 + b.x0) / 2;
		else if (overlap_y && o.x0 >= b.x1 && r.x1 > (o.x0 + b.x1 + 1) / 2)
			r.x1 = (o.x0 + b.x1 + 1) / 2;
	}
	return r;
}

/* Reads each region as one block: horizontal ones with `hmodel` as a
 * single block, vertical ones with jpn_vert as a single vertical block.
 * Measured on the cleaned samples, one block per region beat Tesseract's
 * own layout analysis of the whole page for both directions (horizontal:
 * 1-6% against 4-9% CER); on real horizontal pages it lost (see
 * read_auto), so it now reads vertical pages and side tabs only. */
static int read_regions(struct bk_engine *engine, const struct bk_gray *img,
			const struct bk_text_region *regions, size_t nregions,
			const char *hmodel, struct bk_page *page,
			struct bk_error *err)
{
	for (size_t i = 0; i < nregions; i++) {
		bool vert = regions[i].dir == BK_DIR_VERTICAL;
		struct bk_box rect = padded(img, regions, nregions, i);
		if (bk_engine_recognize(engine, img, vert ? "jpn_vert" : hmodel,
					vert ? BK_PSM_SINGLE_BLOCK_VERT
					     : BK_PSM_SINGLE_BLOCK,
					&rect, page, err))
			return -1;
	}
	return 0;
}

struct gray_buf {
	unsigned char *data;
	struct bk_gray gray;
};

static int gray_of(const struct bk_image *img, struct gray_buf *g,
		   struct bk_error *err)
{
	int w, h, stride;

	memset(g, 0, sizeof(*g));
	if (bk_image_gray8(img, &g->data, &w, &h, &stride, err))
		return -1;
	g->gray = (struct bk_gray){ g->data, w, h, stride, bk_image_xres(img) };
	return 0;
}

/* ---- pictures (ukiyoe, map) -------------------------------------------- */

static bool is_auto(const struct bk_read_options *opt)
{
	return !opt->lang || !opt->lang[0] || strcmp(opt->lang, "auto") == 0;
}

/* Whether code point `c` is a letter that names a place or a title: kanji,
 * kana (not the long-vowel mark alone), Latin letters and digits,
 * full-width ones included. */
static bool is_letter(unsigned c)
{
	if (c < 0x80)
		return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9');
	return (c >= 0x3041 && c <= 0x309F) ||                /* hiragana */
	       (c >= 0x30A1 && c <= 0x30FA) ||                /* katakana */
	       (c >= 0x3400 && c <= 0x4DBF) ||                /* kanji ext. A */
	       (c >= 0x4E00 && c <= 0x9FFF) ||                /* kanji */
	       (c >= 0xF900 && c <= 0xFAFF) ||                /* compatibility */
	       c == 0x3005 ||                                 /* 々 */
	       (c >= 0xFF10 && c <= 0xFF19) ||                /* full-width 0-9 */
	       (c >= 0xFF21 && c <= 0xFF3A) ||                /* Ａ-Ｚ */
	       (c >= 0xFF41 && c <= 0xFF5A) ||                /* ａ-ｚ */
	       (c >= 0x20000 && c <= 0x3134F);                /* kanji ext. B.. */
}

/* Strokes that lines, roads, rivers and hatching are read as: a word made
 * of nothing else is not a label. */
static const char *const line_glyphs[] = {
	"一", "ー", "ニ", "二", "三", "口", "ロ", "|", "｜", "丨", "l", "I",
	"1", "_", "-", "=", "＝", "ヘ", "へ", "ノ", "ソ", "ン", "〇", "○",
};

static bool only_line_glyphs(const char *text)
{
	const char *s = text;

	while (*s) {
		size_t k, n = sizeof(line_glyphs) / sizeof(line_glyphs[0]);
		for (k = 0; k < n; k++) {
			size_t len = strlen(line_glyphs[k]);
			if (strncmp(s, line_glyphs[k], len) == 0) {
				s += len;
				break;
			}
		}
		if (k == n)
			return false;
	}
	return true;
}

/* A word worth keeping on a picture: it has a letter, is not just line
 * strokes, is as large as lettering (specks of texture are smaller than
 * 1/25 inch, 12 px at 300 dpi), and Tesseract gave it more than a
 * non-answer. */
static bool plausible_word(const struct bk_word *w, int dpi)
{
	const char *s = w->text;
	bool letter = false;
	int bw = w->box.x1 - w->box.x0, bh = w->box.y1 - w->box.y0;

	while (*s && !letter)
		letter = is_letter(bk_utf8_next(&s));
	return letter && !only_line_glyphs(w->text) && w->conf >= BK_PICTURE_WORD_FLOOR &&
	       (bw < bh ? bw : bh) >= dpi / 25;
}

/* Keeps the words of a picture that read as lettering: a line survives when
 * one of its words is read with confidence (lettering is read well; the
 * texture of a picture is read as unsure scraps) and its words are not
 * mostly guesses; then implausible words are dropped from it. Measured on
 * map.png (PSM 11 on the dark ink): the place names' lines have a best
 * word at 89-97 and a mean of 55-96; picture scraps stay below 75 (best)
 * and 45 (mean). */
static void keep_lettering(struct bk_page *page, int dpi)
{
	for (size_t b = 0; b < page->nblocks; b++) {
		struct bk_block *block = &page->blocks[b];
		for (size_t l = 0; l < block->nlines; l++) {
			struct bk_line *line = &block->lines[l];
			float best = 0, sum = 0;
			for (size_t w = 0; w < line->nwords; w++) {
				sum += line->words[w].conf;
				if (line->words[w].conf > best)
					best = line->words[w].conf;
			}
			bool sure = line->nwords && best >= BK_PICTURE_LINE_BEST &&
				    sum / line->nwords >= BK_PICTURE_LINE_MEAN;
			for (size_t w = 0; w < line->nwords; w++)
				if (!sure || !plausible_word(&line->words[w], dpi))
					line->words[w].conf = -1; /* dropped below */
		}
	}
	drop_unsure_words(page, 0);
}

/* ---- a picture read in bands ---- */

/* A picture to read: a gray view (bk_read_cleaned), or the OCR image
 * (bk_read_page) of which gray bands are made as they are read, so that
 * neither a full-size gray copy nor Tesseract's copy of the whole picture
 * is ever held. */
struct picture {
	const struct bk_gray *gray; /* or NULL */
	const struct bk_image *img; /* or NULL */
	int width, height, dpi;
};

/* Rows [y0, y1) of the picture as gray: a view into pic->gray (band->data
 * stays NULL) or a new copy of those rows of pic->img. */
static int picture_band(const struct picture *pic, int y0, int y1,
			struct gray_buf *band, struct bk_error *err)
{
	int w, h, stride;

	memset(band, 0, sizeof(*band));
	if (pic->gray) {
		band->gray = *pic->gray;
		band->gray.data = pic->gray->data + (size_t)y0 * pic->gray->stride;
		band->gray.height = y1 - y0;
		return 0;
	}
	if (bk_image_gray8_rows(pic->img, y0, y1, &band->data, &w, &h, &stride, err))
		return -1;
	band->gray = (struct bk_gray){ band->data, w, h, stride, pic->dpi };
	return 0;
}

static void shift_box(struct bk_box *box, int dx, int dy)
{
	box->x0 += dx;
	box->x1 += dx;
	box->y0 += dy;
	box->y1 += dy;
}

/* Moves every box of `page` right by dx and down by dy pixels. */
static void shift_page(struct bk_page *page, int dx, int dy)
{
	for (size_t b = 0; b < page->nblocks; b++) {
		struct bk_block *block = &page->blocks[b];
		shift_box(&block->box, dx, dy);
		for (size_t l = 0; l < block->nlines; l++) {
			struct bk_line *line = &block->lines[l];
			shift_box(&line->box, dx, dy);
			for (size_t w = 0; w < line->nwords; w++)
				shift_box(&line->words[w].box, dx, dy);
		}
	}
}

/* Reads `rect` (NULL: whole rows) of rows [y0, y1) of the picture with
 * `model` and `psm`, keeps the lines whose middle lies in [keep0, keep1),
 * and appends them to `page` in picture coordinates. */
static int read_band(struct bk_engine *engine, const struct picture *pic,
		     int y0, int y1, const struct bk_box *rect, const char *model,
		     enum bk_psm psm, int keep0, int keep1, struct bk_page *page,
		     struct bk_error *err)
{
	struct gray_buf band;
	struct bk_page part;
	struct bk_box r;
	int rc = -1;

	bk_page_init(&part);
	if (picture_band(pic, y0, y1, &band, err))
		return -1;
	if (rect) {
		r = *rect;
		r.y0 -= y0;
		r.y1 -= y0;
	}
	if (bk_engine_recognize(engine, &band.gray, model, psm, rect ? &r : NULL,
				&part, err))
		goto out;
	shift_page(&part, 0, y0);
	for (size_t b = 0; b < part.nblocks; b++)
		for (size_t l = 0; l < part.blocks[b].nlines; l++) {
			struct bk_line *line = &part.blocks[b].lines[l];
			int mid = (line->box.y0 + line->box.y1) / 2;
			if (mid < keep0 || mid >= keep1)
				for (size_t w = 0; w < line->nwords; w++)
					line->words[w].conf = -1; /* dropped below */
		}
	drop_unsure_words(&part, 0);
	rc = take_blocks(page, &part, err);
out:
	bk_page_release(&part);
	free(band.data);
	return rc;
}

/* Sparse text over the whole picture, in bands of about BK_BAND_PIXELS
 * that overlap by an inch: a label up to an inch tall lies whole in one
 * of two neighbouring bands, and is kept from the band where its middle
 * falls before the middle of the overlap. */
static int read_sparse_bands(struct bk_engine *engine, const struct picture *pic,
			     const char *model, struct bk_page *page,
			     struct bk_error *err)
{
	int overlap = pic->dpi;
	long rows = BK_BAND_PIXELS / (pic->width > 0 ? pic->width : 1);
	int band = rows < 3L * overlap ? 3 * overlap : (int)rows;

	for (int y0 = 0;; y0 += band - overlap) {
		int y1 = y0 + band < pic->height ? y0 + band : pic->height;
		int keep0 = y0 == 0 ? 0 : y0 + overlap / 2;
		int keep1 = y1 == pic->height ? y1 : y1 - overlap / 2;
		if (read_band(engine, pic, y0, y1, NULL, model, BK_PSM_SPARSE,
			      keep0, keep1, page, err))
			return -1;
		if (y1 == pic->height)
			return 0;
	}
}

/* A title panel is read as one block: a tall one as a column of vertical
 * text (jpn_vert), a wide one as horizontal lines (jpn), or with the model
 * the caller named. */
static const char *panel_model(struct bk_box p, const struct bk_read_options *opt,
			       enum bk_psm *psm)
{
	bool tall = p.y1 - p.y0 > p.x1 - p.x0;
	const char *model = is_auto(opt) ? (tall ? "jpn_vert" : "jpn") : opt->lang;

	*psm = strcmp(model, "jpn_vert") == 0 ? BK_PSM_SINGLE_BLOCK_VERT : BK_PSM_SINGLE_BLOCK;
	return model;
}

/* The panels of a picture, each read as one block (panel_model). Only the
 * panel's rows are handed to Tesseract. */
static int read_panels(struct bk_engine *engine, const struct picture *pic,
		       const struct bk_read_options *opt, struct bk_page *page,
		       struct bk_error *err)
{
	struct bk_box *panels = NULL;
	struct bk_image *own = NULL;
	const struct bk_image *img = pic->img;
	size_t n = 0;
	int rc = -1;

	if (!img) {
		own = bk_image_from_raw(pic->width, pic->height, 8, pic->gray->data,
					(size_t)pic->gray->stride, pic->dpi, pic->dpi, err);
		if (!own)
			return -1;
		img = own;
	}
	if (bk_image_find_panels(img, &panels, &n, err))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct bk_box p = panels[i];
		enum bk_psm psm;
		const char *model = panel_model(p, opt, &psm);
		if (read_band(engine, pic, p.y0, p.y1, &p, model, psm, p.y0, p.y1,
			      page, err))
			goto out;
	}
	rc = 0;
out:
	free(panels);
	bk_image_free(&own);
	return rc;
}

/* Pictures: a print is read in its title panels only (its picture would
 * be read as scraps of characters); a map is read in sparse mode, on the
 * dark-ink copy cleanup made of it, for labels anywhere. What is read then
 * has to look like lettering (keep_lettering). A picture without any
 * gives an empty page. */
static int read_picture(struct bk_engine *engine, const struct picture *pic,
			const struct bk_read_options *opt, struct bk_page *page,
			struct bk_error *err)
{
	if (opt->profile == BK_PROFILE_UKIYOE) {
		if (read_panels(engine, pic, opt, page, err))
			return -1;
	} else if (read_sparse_bands(engine, pic, is_auto(opt) ? "jpn" : opt->lang,
				     page, err)) {
		return -1;
	}
	keep_lettering(page, pic->dpi);
	return 0;
}

/* Whether a vertical region found on a horizontal page is surely a
 * column of vertical text (a side tab, a vertical heading or caption): at
 * least three times as tall as wide. A wider "vertical" leaf on a
 * horizontal page is a shape the rules cannot tell (measured: the
 * footnotes of hakusho p5, small lines set close, came out vertical and
 * cost 13 points of bag-F), so it is left to Tesseract's layout. */
static bool sure_column(const struct bk_text_region *r)
{
	return r->dir == BK_DIR_VERTICAL &&
	       r->box.y1 - r->box.y0 >= 3 * (r->box.x1 - r->box.x0);
}

/* Drops the words of `page` whose middle lies in one of `boxes`. */
static void drop_words_in(struct bk_page *page, const struct bk_box *boxes,
			  size_t nboxes)
{
	for (size_t b = 0; b < page->nblocks; b++)
		for (size_t l = 0; l < page->blocks[b].nlines; l++) {
			struct bk_line *line = &page->blocks[b].lines[l];
			for (size_t w = 0; w < line->nwords; w++) {
				struct bk_box wb = line->words[w].box;
				int mx = (wb.x0 + wb.x1) / 2, my = (wb.y0 + wb.y1) / 2;
				for (size_t k = 0; k < nboxes; k++)
					if (mx >= boxes[k].x0 && mx < boxes[k].x1 &&
					    my >= boxes[k].y0 && my < boxes[k].y1)
						line->words[w].conf = -1; /* dropped below */
			}
		}
	drop_unsure_words(page, 0);
}

/* Whether the text of the page is Latin, from a sample: a band of at most
 * half an inch (two or three lines) across the middle of each of the (up
 * to) three largest regions, read with jpn as horizontal text (which
 * reads Latin letters as well as Japanese), until 20 characters are read.
 * Regions taken for vertical are sampled too, so that Latin text whose
 * shape fooled the region rules is never read with a vertical model;
 * across vertical Japanese columns the band reads as kanji and kana.
 * The band costs a few percent of a page's reading; reading the whole page
 * with jpn first, as bunko did, doubled the cost of every English page. */
static int probe_latin(struct bk_engine *engine, const struct bk_gray *img,
		       const struct bk_text_region *regions, size_t nregions,
		       bool *latin, struct bk_error *err)
{
	struct bk_page sample;
	int band = (img->resolution > 0 ? img->resolution : 300) / 2;
	size_t chosen[3];
	int nchosen = 0, rc = 0;

	*latin = false;
	for (int k = 0; k < 3; k++) {
		long best = -1;
		for (size_t i = 0; i < nregions; i++) {
			struct bk_box b = regions[i].box;
			long area = (long)(b.x1 - b.x0) * (b.y1 - b.y0);
			bool taken = false;
			for (int j = 0; j < nchosen; j++)
				taken |= chosen[j] == i;
			if (!taken && area > best) {
				best = area;
				chosen[nchosen] = i;
			}
		}
		if (best < 0)
			break;
		nchosen++;
	}
	bk_page_init(&sample);
	for (int k = 0; k < nchosen && !rc; k++) {
		struct bk_box r = regions[chosen[k]].box;
		int mid = (r.y0 + r.y1) / 2;
		if (r.y1 - r.y0 > band) {
			r.y0 = mid - band / 2;
			r.y1 = r.y0 + band;
		}
		rc = bk_engine_recognize(engine, img, "jpn", BK_PSM_SINGLE_BLOCK, &r,
					 &sample, err);
		if (!rc && page_chars(&sample) >= 20)
			break;
	}
	if (!rc)
		*latin = latin_share(&sample) >= 0.5;
	bk_page_release(&sample);
	return rc;
}

/*
 * The automatic reading of a cleaned page, without second opinions.
 *
 * Measured on real pages (../shared/realscans, bag-F against human text),
 * reading every region as one block lost to Tesseract's own layout
 * analysis on horizontal pages: a table read as one block gives its
 * ruling lines as ー (hakusho p2: 112 of them, 91.5 against 95.8), a
 * block of footnotes was taken for vertical text (p5: 83.5 against
 * 97.0), and 20-40 separate recognitions cost 1.3-1.5 times one pass.
 * Tesseract's PSM 3 finds tables, rules, figures and columns itself. So:
 *  - a page whose sample reads Latin is read with eng and PSM 3 (never
 *    with a vertical model, whatever the shape of its regions);
 *  - a horizontal Japanese page is read with jpn and PSM 3; only its sure
 *    columns of vertical text (sure_column: side tabs, which jpn's layout
 *    misses or reads sideways) are read with jpn_vert, and jpn's words
 *    there dropped;
 *  - a vertical page is read region by region (jpn_vert PSM 5 for
 *    vertical regions, jpn PSM 6 for horizontal headings), which keeps a
 *    heading before its vertical body; the samples measured this best for
 *    vertical text (0.4-2.5% CER against 0.7-5.6% for jpn_vert PSM 3/5).
 * *latin tells whether the page was read as Latin.
 */
static int read_auto(struct bk_engine *engine, const struct bk_gray *img,
		     const struct bk_text_region *regions, size_t nregions,
		     enum bk_dir dominant, struct bk_page *page, bool *latin,
		     struct bk_error *err)
{
	struct bk_text_region *columns = NULL;
	struct bk_box *boxes = NULL;
	size_t ncolumns = 0;
	int rc = -1;

	*latin = false;
	if (probe_latin(engine, img, regions, nregions, latin, err))
		return -1;
	if (*latin)
		return bk_engine_recognize(engine, img, "eng", BK_PSM_AUTO, NULL, page, err);
	if (dominant == BK_DIR_VERTICAL)
		return read_regions(engine, img, regions, nregions, "jpn", page, err);
	if (bk_engine_recognize(engine, img, "jpn", BK_PSM_AUTO, NULL, page, err))
		return -1;
	columns = malloc((nregions ? nregions : 1) * sizeof(*columns));
	boxes = malloc((nregions ? nregions : 1) * sizeof(*boxes));
	if (!columns || !boxes) {
		bk_error_set(err, "out of memory reading vertical columns");
		goto out;
	}
	for (size_t i = 0; i < nregions; i++)
		if (sure_column(&regions[i]))
			columns[ncolumns++] = regions[i];
	for (size_t i = 0; i < ncolumns; i++)
		boxes[i] = padded(img, columns, ncolumns, i);
	if (ncolumns) {
		drop_words_in(page, boxes, ncolumns);
		if (read_regions(engine, img, columns, ncolumns, "jpn", page, err))
			goto out;
	}
	rc = 0;
out:
	free(columns);
	free(boxes);
	return rc;
}

/* Whether `c` is kana, kanji or Japanese punctuation. */
static bool is_japanese(unsigned c)
{
	return (c >= 0x3000 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x9FFF) ||
	       (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF01 && c <= 0xFF60) ||
	       c >= 0x20000;
}

/* How believable a Japanese reading is: its Japanese characters (kana,
 * kanji, Japanese punctuation), each weighted by its word's confidence.
 * A page read in the wrong direction comes out as scraps, fewer Japanese
 * characters and more Latin letters, digits and symbols, all of them at
 * low confidence. Counting the characters, not only their mean
 * confidence, matters when Tesseract's layout analysis of one copy of the
 * page loses text: on the rendered old-print page oldprint-small its PSM 3
 * on the gray scan ran the ends of the first two lines into one low-
 * confidence word and cut two line ends, 147 characters against 169 on
 * cleanup's binarized copy, yet at a higher mean confidence (97.1 against
 * 95.0); the mean kept the shorter reading and lost a fifth of the old
 * forms (recall 0.74 against 0.91). A mean rewards dropping the doubtful
 * words; the weighted count pays for each character read. On the
 * microfilm spread ndl_meiji_vertical_04 both keep the gray reading
 * (929 characters at 95.9 against 945 at 92.0). */
static double japanese_score(const struct bk_page *page)
{
	double sum = 0;

	for (size_t b = 0; b < page->nblocks; b++)
		for (size_t l = 0; l < page->blocks[b].nlines; l++)
			for (size_t w = 0; w < page->blocks[b].lines[l].nwords; w++) {
				const struct bk_word *word = &page->blocks[b].lines[l].words[w];
				const char *s = word->text;
				size_t ja = 0;
				while (*s)
					ja += is_japanese(bk_utf8_next(&s));
				sum += (double)word->conf * (double)ja;
			}
	return sum;
}

/* How believable a reading is: for Latin text its mean confidence. */
static double reading_score(const struct bk_page *page, bool latin)
{
	return latin ? mean_confidence(page, NULL) : japanese_score(page);
}

/* Reads the whole page with `model` in PSM 3 into a new page and keeps it
 * in `page` when it scores better. */
static int try_layout(struct bk_engine *engine, const struct bk_gray *img,
		      const char *model, bool latin, struct bk_page *page,
		      struct bk_error *err)
{
	struct bk_page alt;
	int rc = 0;

	bk_page_init(&alt);
	if (bk_engine_recognize(engine, img, model, BK_PSM_AUTO, NULL, &alt, err))
		rc = -1;
	else if (reading_score(&alt, latin) > reading_score(page, latin)) {
		bk_page_release(page);
		rc = take_blocks(page, &alt, err);
	}
	bk_page_release(&alt);
	return rc;
}

/*
 * Second readings, by Tesseract's own layout analysis (PSM 3) of the whole
 * page; the reading that scores best (reading_score) is kept:
 *  - when `scan` is given (the gray or color page as scanned, cropped and
 *    deskewed like `img`, when `img` is cleanup's binarized copy of it
 *    because the paper looked unevenly lit), the scan is read with the
 *    model of the page's direction, and Tesseract thresholds it itself.
 *    Measured on the NDL microfilm spread ndl_meiji_vertical_04 (jpn_vert
 *    PSM 3, bag-F): on cleanup's global Otsu copy 74.7, on the gray page
 *    83.5: the film's dark surround makes the page look uneven, and one
 *    threshold for the whole spread breaks the thin strokes of small
 *    type. On h-kokuji (faint print, a dark corner) Otsu stays better
 *    (0.46% CER against 7.31%), so neither copy is right for every page;
 *  - a vertical page read region by region is read with jpn_vert (its
 *    regions may have been cut through tables, film borders or the gutter
 *    of a spread);
 *  - a doubtful page (low confidence) is read with the model of the other
 *    direction too.
 * A Latin page is never read with a Japanese vertical model.
 */
static int second_opinion(struct bk_engine *engine, const struct bk_gray *img,
			  const struct bk_gray *scan, enum bk_dir dominant,
			  bool latin, bool doubt, struct bk_page *page,
			  struct bk_error *err)
{
	const struct bk_gray *layout = scan ? scan : img;
	bool vertical = dominant == BK_DIR_VERTICAL;
	const char *same = latin ? "eng" : vertical ? "jpn_vert" : "jpn";

	if ((scan || (vertical && doubt)) &&
	    try_layout(engine, layout, same, latin, page, err))
		return -1;
	if (latin || !doubt)
		return 0;
	return try_layout(engine, layout, vertical ? "jpn" : "jpn_vert", false,
			  page, err);
}

/* First reading of a cleaned page; *dominant and *latin are kept for a
 * second opinion. *nregions is 0 for pictures, blank pages and a model
 * named by the caller. */
static int read_first(struct bk_engine *engine, const struct bk_gray *img,
		      const struct bk_read_options *opt, struct bk_page *page,
		      size_t *nregions, enum bk_dir *dominant, bool *latin,
		      struct bk_error *err)
{
	struct bk_text_region *regions = NULL;
	int rc;

	*nregions = 0;
	*dominant = BK_DIR_HORIZONTAL;
	*latin = false;
	if (opt->profile == BK_PROFILE_UKIYOE || opt->profile == BK_PROFILE_MAP) {
		struct picture pic = { img, NULL, img->width, img->height,
				       img->resolution > 0 ? img->resolution : 300 };
		return read_picture(engine, &pic, opt, page, err);
	}
	if (!is_auto(opt))
		return bk_engine_recognize(engine, img, opt->lang, BK_PSM_AUTO,
					   NULL, page, err);
	if (bk_find_text_regions(img, &regions, nregions, dominant, err))
		return -1;
	rc = *nregions ? read_auto(engine, img, regions, *nregions, *dominant,
				   page, latin, err)
		       : 0; /* blank page: nothing to read */
	free(regions);
	return rc;
}

static bool doubtful(const struct bk_page *page)
{
	size_t nwords;
	float conf = mean_confidence(page, &nwords);
	return nwords >= BK_MIN_WORDS_TO_DOUBT && conf < BK_LOW_CONFIDENCE;
}

int bk_read_cleaned(struct bk_engine *engine, const struct bk_gray *img,
		    const struct bk_read_options *opt, struct bk_page *page,
		    float *mean_conf, struct bk_error *err)
{
	size_t nregions = 0;
	enum bk_dir dominant;
	bool latin;
	int rc = read_first(engine, img, opt, page, &nregions, &dominant,
			    &latin, err);

	if (!rc && nregions && doubtful(page))
		rc = second_opinion(engine, img, NULL, dominant, latin, true,
				    page, err);
	if (mean_conf)
		*mean_conf = mean_confidence(page, NULL);
	return rc;
}

/* ---- strokes read as letters ------------------------------------------ */

static bool is_japanese_model(const char *model)
{
	return strcmp(model, "jpn") == 0 || strcmp(model, "jpn_vert") == 0;
}

static bool is_bar(unsigned c)
{
	return c == '|' || c == 0xFF5C; /* ｜ */
}

/* What a rule, a border or the edge of the film is read as. */
static bool is_stroke(unsigned c)
{
	return is_bar(c) || c == 'l' || c == 'I' || c == 'i' || c == '!';
}

static bool is_stroke_mark(unsigned c)
{
	return c == '.' || c == ':' || c == ';' || c == '\'' || c == '`';
}

/* Whether the word is strokes only (at least one), and not a Roman
 * numeral (I, II, III: capitals alone, as headings are numbered); *bars:
 * how many characters it has if it is bars only, else 0. */
static bool only_strokes(const char *text, size_t *bars)
{
	size_t n = 0, nbars = 0, strokes = 0, capitals = 0;
	const char *s = text;

	while (*s) {
		unsigned c = bk_utf8_next(&s);
		if (!is_stroke(c) && !is_stroke_mark(c))
			return false;
		strokes += is_stroke(c);
		nbars += is_bar(c);
		capitals += c == 'I';
		n++;
	}
	*bars = nbars == n ? n : 0;
	return strokes > 0 && capitals < n;
}

static bool has_japanese(const struct bk_word *w)
{
	const char *s = w->text;
	while (*s)
		if (is_japanese(bk_utf8_next(&s)))
			return true;
	return false;
}

static bool is_kanji_numeral(unsigned c)
{
	static const unsigned numerals[] = { 0x3007, 0x4E00, 0x4E8C, 0x4E09, 0x56DB, 0x4E94,
					     0x516D, 0x4E03, 0x516B, 0x4E5D, 0x5341, 0x767E,
					     0x5343 }; /* 〇一二三四五六七八九十百千 */
	for (size_t i = 0; i < sizeof(numerals) / sizeof(numerals[0]); i++)
		if (c == numerals[i])
			return true;
	return false;
}

/* The last character of the word before w in its line, the first of the
 * word after: 0 where there is none. */
static unsigned last_char(const char *text)
{
	unsigned c = 0;
	while (*text)
		c = bk_utf8_next(&text);
	return c;
}

static unsigned first_char(const char *text)
{
	return *text ? bk_utf8_next(&text) : 0;
}

/* Rewrites the word with every O, o or 0 that has a kanji numeral beside
 * it (in the word or across its neighbours in the line) as 〇. */
static int mend_zeros(struct bk_line *line, size_t w, struct bk_error *err)
{
	struct bk_word *word = &line->words[w];
	unsigned cps[256];
	size_t n = 0;
	bool changed = false;
	const char *s = word->text;

	while (*s && n < sizeof(cps) / sizeof(cps[0]))
		cps[n++] = bk_utf8_next(&s);
	if (*s)
		return 0; /* a word that long is no number */
	unsigned before = w > 0 ? last_char(line->words[w - 1].text) : 0;
	unsigned after = w + 1 < line->nwords ? first_char(line->words[w + 1].text) : 0;
	for (size_t i = 0; i < n; i++) {
		if (cps[i] != 'O' && cps[i] != 'o' && cps[i] != '0')
			continue;
		unsigned prev = i > 0 ? cps[i - 1] : before, next = i + 1 < n ? cps[i + 1] : after;
		if (is_kanji_numeral(prev) || is_kanji_numeral(next)) {
			cps[i] = 0x3007;
			changed = true;
		}
	}
	if (!changed)
		return 0;
	char *text = malloc(n * 4 + 1), *o = text;
	if (!text)
		return bk_error_set(err, "out of memory mending the text");
	for (size_t i = 0; i < n; i++)
		o += utf8proc_encode_char((utf8proc_int32_t)cps[i], (utf8proc_uint8_t *)o);
	*o = '\0';
	free(word->text);
	word->text = text;
	return 0;
}

/* The dash of vertical print for `bars` bars: U+2015 each. */
static char *dashes(size_t bars)
{
	char *text = malloc(bars * 3 + 1);
	if (!text)
		return NULL;
	for (size_t i = 0; i < bars; i++)
		memcpy(text + i * 3, "\xE2\x80\x95", 3);
	text[bars * 3] = '\0';
	return text;
}

/* A line below this mean word confidence, less than a third of it
 * Japanese, is what a Japanese model made of a border, a picture's edge
 * or the film's: measured on ../shared/realscans, such lines of the NDL
 * spreads read 0 to 12 ("lil.i人lilii", "られ. ai ri hpnpuaa\" lie
 * jij1lIl1["), the lowest real Latin line of the white paper's tables
 * 34 ("[PaLMI5400"). */
#define BK_JUNK_LINE_CONF 15.0

/* Whether a line of a Japanese reading is junk (BK_JUNK_LINE_CONF). */
static bool junk_line(const struct bk_line *line)
{
	size_t chars = 0, japanese = 0;
	double conf = 0;

	for (size_t w = 0; w < line->nwords; w++) {
		const char *s = line->words[w].text;
		while (*s) {
			japanese += is_japanese(bk_utf8_next(&s));
			chars++;
		}
		conf += line->words[w].conf;
	}
	return line->nwords && conf / (double)line->nwords < BK_JUNK_LINE_CONF &&
	       japanese * 3 < chars;
}

int bk_page_mend_strokes(struct bk_page *page, struct bk_error *err)
{
	for (size_t b = 0; b < page->nblocks; b++) {
		struct bk_block *block = &page->blocks[b];
		if (!is_japanese_model(block->lang))
			continue;
		for (size_t l = 0; l < block->nlines; l++) {
			struct bk_line *line = &block->lines[l];
			bool vertical = line->dir == BK_DIR_VERTICAL;
			size_t keep = 0;
			if (junk_line(line)) {
				for (size_t w = 0; w < line->nwords; w++)
					free(line->words[w].text);
				line->nwords = 0;
				continue;
			}
			/* decide on the words as read: a neighbour is a word of
			 * the reading, dropped or not */
			bool *drop = calloc(line->nwords ? line->nwords : 1, sizeof(bool));
			if (!drop)
				return bk_error_set(err, "out of memory mending the text");
			for (size_t w = 0; w < line->nwords; w++) {
				size_t bars;
				if (!only_strokes(line->words[w].text, &bars))
					continue;
				if (vertical && bars && w > 0 && w + 1 < line->nwords &&
				    has_japanese(&line->words[w - 1]) &&
				    has_japanese(&line->words[w + 1])) {
					char *dash = dashes(bars);
					if (!dash) {
						free(drop);
						return bk_error_set(err, "out of memory mending the text");
					}
					free(line->words[w].text);
					line->words[w].text = dash;
				} else {
					drop[w] = true;
				}
			}
			for (size_t w = 0; w < line->nwords; w++) {
				if (drop[w]) {
					free(line->words[w].text);
					continue;
				}
				line->words[keep++] = line->words[w];
			}
			line->nwords = keep;
			free(drop);
			for (size_t w = 0; w < line->nwords; w++)
				if (mend_zeros(line, w, err))
					return -1;
		}
	}
	drop_unsure_words(page, -1.0f); /* only sweeps the lines and blocks left empty */
	return 0;
}

/* ---- one scanned page --------------------------------------------------- */

/* Dominant direction of the cleaned pages together (ink-weighted). */
static int pages_direction(const struct bk_cleaned_page *pages, int npages,
			   enum bk_dir *dir, struct bk_error *err)
{
	long area[2] = { 0, 0 };

	for (int i = 0; i < npages; i++) {
		struct gray_buf g;
		struct bk_text_region *regions;
		size_t n;
		enum bk_dir dominant;
		if (gray_of(pages[i].ocr, &g, err))
			return -1;
		int rc = bk_find_text_regions(&g.gray, &regions, &n, &dominant, err);
		free(g.data);
		if (rc)
			return -1;
		for (size_t r = 0; r < n; r++) {
			struct bk_box b = regions[r].box;
			area[regions[r].dir] += (long)(b.x1 - b.x0) * (b.y1 - b.y0);
		}
		free(regions);
	}
	*dir = area[BK_DIR_VERTICAL] > area[BK_DIR_HORIZONTAL] ? BK_DIR_VERTICAL
							       : BK_DIR_HORIZONTAL;
	return 0;
}

/* Cleans `scan` with `rotate`; a split spread of horizontal text is cleaned
 * again with its left half first. */
static int clean(const struct bk_image *scan, enum bk_profile profile, bool bilevel,
		 int rotate, struct bk_cleaned_page pages[2], int *npages,
		 struct bk_cleanup_report *report, struct bk_error *err)
{
	struct bk_cleanup_options copt;
	enum bk_dir dir;

	bk_cleanup_defaults(&copt, profile);
	copt.rotate = rotate;
	copt.bilevel = bilevel;
	if (bk_cleanup_page(scan, &copt, true, pages, npages, report, err))
		return -1;
	if (*npages < 2 || profile == BK_PROFILE_UKIYOE || profile == BK_PROFILE_MAP)
		return 0;
	if (pages_direction(pages, *npages, &dir, err))
		goto fail;
	if (dir == BK_DIR_VERTICAL)
		return 0;
	for (int i = 0; i < *npages; i++)
		bk_cleaned_page_release(&pages[i]);
	return bk_cleanup_page(scan, &copt, false, pages, npages, report, err);
fail:
	for (int i = 0; i < *npages; i++)
		bk_cleaned_page_release(&pages[i]);
	*npages = 0;
	return -1;
}

/* A picture's OCR image is read in bands of itself: no full-size gray copy
 * (see struct picture). */
static int read_picture_image(struct bk_engine *engine, const struct bk_image *ocr,
			      const struct bk_read_options *opt, struct bk_page *page,
			      struct bk_error *err)
{
	int dpi = bk_image_xres(ocr);
	struct picture pic = { NULL, ocr, bk_image_width(ocr), bk_image_height(ocr),
			       dpi > 0 ? dpi : 300 };

	return read_picture(engine, &pic, opt, page, err);
}

/* ---- small Latin lines read again, magnified ----------------------------
 *
 * Tesseract's eng model misreads type that is small for it, small
 * capitals above all: on the UNLV page 8071_093.3B (300 dpi, body x-height
 * 21 px) the byline "BY RALPH KINNEY BENNETT" comes out of the page's
 * reading as "By Ratpy KInNEY BENNETT" (word confidences 0 and 59), and
 * from the same pixels magnified twice, read as one line, as "By RALpH
 * KINNEY BENNETT". So a line of a horizontal block read with eng whose
 * least sure word is below BK_REREAD_LINE_CONF is cut out with a margin
 * of a quarter of its height, magnified BK_REREAD_SCALE times (Leptonica's
 * linear interpolation, bk_gray_magnify) and read again as one line (PSM
 * 7); the new reading replaces the line's words when their mean
 * confidence is higher (an empty reading changes nothing). Measured with
 * ../shared/realscans/eng (bag-F, CER): 8071_093.3B 98.43 / 5.15 -> 98.54
 * / 5.03, eurotext (97.70 / 2.88) and phototest (100 / 0) unchanged; with
 * a hand-written bilinear magnifier 98.57, the same from a threshold of 50
 * to 85, and 98.58 at 3 times. Magnifying the whole page instead (2 times,
 * gray) gave 8071_093.3B 98.62 but eurotext 97.27, at four times the
 * pixels of every line. Blocks read with the Japanese models are left
 * alone (the white paper and NDL pages read byte for byte the same). */
#define BK_REREAD_LINE_CONF 70.0f
#define BK_REREAD_SCALE 2

/* The confidence of the least sure word of `line`; *mean gets the mean. */
static float line_least_conf(const struct bk_line *line, float *mean)
{
	float least = 100.0f;
	double sum = 0;

	for (size_t w = 0; w < line->nwords; w++) {
		if (line->words[w].conf < least)
			least = line->words[w].conf;
		sum += line->words[w].conf;
	}
	*mean = line->nwords ? (float)(sum / line->nwords) : 0.0f;
	return least;
}

/* Replaces the words of `line` by those of `alt` (all its lines), their
 * boxes shrunk by k and moved by (dx, dy). */
static int take_line_words(struct bk_line *line, const struct bk_page *alt, int k,
			   int dx, int dy, struct bk_error *err)
{
	struct bk_line fresh = { line->box, line->dir, NULL, 0, 0 };

	for (size_t b = 0; b < alt->nblocks; b++)
		for (size_t l = 0; l < alt->blocks[b].nlines; l++)
			for (size_t w = 0; w < alt->blocks[b].lines[l].nwords; w++) {
				const struct bk_word *a = &alt->blocks[b].lines[l].words[w];
				struct bk_box box = { a->box.x0 / k + dx, a->box.y0 / k + dy,
						      (a->box.x1 + k - 1) / k + dx,
						      (a->box.y1 + k - 1) / k + dy };
				if (!bk_line_add_word(&fresh, box, a->conf, a->text,
						      strlen(a->text))) {
					for (size_t i = 0; i < fresh.nwords; i++)
						free(fresh.words[i].text);
					free(fresh.words);
					return bk_error_set(err, "out of memory storing OCR results");
				}
			}
	for (size_t i = 0; i < line->nwords; i++)
		free(line->words[i].text);
	free(line->words);
	*line = fresh;
	return 0;
}

/* Reads the doubtful lines of `page`'s eng blocks again, magnified. */
static int reread_small_lines(struct bk_engine *engine, const struct bk_gray *img,
			      struct bk_page *page, struct bk_error *err)
{
	const int k = BK_REREAD_SCALE;

	for (size_t b = 0; b < page->nblocks; b++) {
		struct bk_block *block = &page->blocks[b];
		if (strcmp(block->lang, "eng") != 0 || block->dir != BK_DIR_HORIZONTAL)
			continue;
		for (size_t l = 0; l < block->nlines; l++) {
			struct bk_line *line = &block->lines[l];
			float mean;
			if (!line->nwords || line_least_conf(line, &mean) >= BK_REREAD_LINE_CONF)
				continue;
			struct bk_box lb = line->box, r;
			int pad = (lb.y1 - lb.y0) / 4;
			if (pad < 2)
				pad = 2;
			r = (struct bk_box){ lb.x0 - pad, lb.y0 - pad, lb.x1 + pad, lb.y1 + pad };
			r.x0 = r.x0 < 0 ? 0 : r.x0;
			r.y0 = r.y0 < 0 ? 0 : r.y0;
			r.x1 = r.x1 > img->width ? img->width : r.x1;
			r.y1 = r.y1 > img->height ? img->height : r.y1;
			if (r.x1 <= r.x0 || r.y1 <= r.y0)
				continue;
			unsigned char *big;
			int bw, bh;
			struct bk_page alt;
			float alt_mean;
			size_t n;
			if (bk_gray_magnify(img->data, img->stride, r.x0, r.y0, r.x1, r.y1, k, &big, &bw, &bh, err))
				return -1;
			struct bk_gray m = { big, bw, bh, bw, (img->resolution > 0 ? img->resolution : 300) * k };
			bk_page_init(&alt);
			int rc = bk_engine_recognize(engine, &m, "eng", BK_PSM_SINGLE_LINE, NULL, &alt, err);
			free(big);
			if (rc) {
				bk_page_release(&alt);
				return -1;
			}
			alt_mean = mean_confidence(&alt, &n);
			if (n && alt_mean > mean &&
			    take_line_words(line, &alt, k, r.x0, r.y0, err)) {
				bk_page_release(&alt);
				return -1;
			}
			bk_page_release(&alt);
		}
	}
	return 0;
}

/* Reads cleaned page i into out->pages[i]. *rotate is set when the page
 * reads badly and orientation detection says it is turned. */
static int read_one(struct bk_engine *engine, const struct bk_cleaned_page *cp,
		    const struct bk_read_options *opt, bool may_rotate,
		    struct bk_page *page, int *rotate, struct bk_error *err)
{
	struct gray_buf g, scan = { 0 };
	size_t nregions = 0;
	enum bk_dir dominant;
	bool latin;
	int rc = -1;

	*rotate = 0;
	if (opt->profile == BK_PROFILE_UKIYOE || opt->profile == BK_PROFILE_MAP)
		return read_picture_image(engine, cp->ocr, opt, page, err);
	if (gray_of(cp->ocr, &g, err))
		return -1;
	if (read_first(engine, &g.gray, opt, page, &nregions, &dominant,
		       &latin, err))
		goto out;
	/* The scan as shown, when Tesseract read a binarized copy of a gray
	 * or color page (see second_opinion). */
	bool gray_scan = bk_image_depth(cp->ocr) == 1 &&
			 bk_image_depth(cp->display) != 1;
	bool doubt = nregions && doubtful(page);
	if (doubt && may_rotate) {
		struct bk_orientation o;
		if (bk_engine_orientation(engine, &g.gray, &o, err))
			goto out;
		if (o.detected && o.rotate && o.confidence >= BK_OSD_MIN_CONFIDENCE) {
			*rotate = o.rotate;
			rc = 0;
			goto out;
		}
	}
	if (nregions && (doubt || gray_scan)) {
		if (gray_scan && gray_of(cp->display, &scan, err))
			goto out;
		if (second_opinion(engine, &g.gray, gray_scan ? &scan.gray : NULL,
				   dominant, latin, doubt, page, err))
			goto out;
	}
	if (reread_small_lines(engine, &g.gray, page, err))
		goto out;
	if (bk_page_mend_strokes(page, err))
		goto out;
	rc = 0;
out:
	free(scan.data);
	free(g.data);
	return rc;
}

/* Prefixes the message with the file and page, unless it names the file
 * already (the report names both, once). */
static void name_the_page(struct bk_error *err, const char *name, int page)
{
	char quoted[256], msg[BK_ERROR_MAX];

	if (!err || !name)
		return;
	snprintf(quoted, sizeof(quoted), "'%s'", name);
	if (strstr(err->msg, quoted))
		return;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	if (page > 0)
		bk_error_set(err, "%s page %d: %s", quoted, page, msg);
	else
		bk_error_set(err, "%s: %s", quoted, msg);
}

/* Rows fetched at a time when a picture is read from its bands: 256 rows
 * of a 20000-pixel-wide RGB picture are 15 MB as decoded and 20 MB as an
 * image. */
#define BK_ROWS_AT_ONCE 256
/* A print's panels are looked for on a gray copy shrunk to at most this
 * many pixels (a 20000x20000 print by 5: 16 million, 16 MB), which is
 * still more than bk_image_find_panels works at (75 dpi, 1500 pixels a
 * side). */
#define BK_PANEL_SEARCH_PIXELS (16L * 1000 * 1000)

/* The map's OCR copy made band by band from `rows` (see
 * bk_read_picture_rows). */
static struct bk_image *ink_from_rows(int width, int height, int dpi, bk_rows_fn rows,
				      void *ud, const struct bk_read_options *opt,
				      struct bk_error *err)
{
	struct bk_cleanup_options copt;
	struct bk_image *ink = NULL, *band = NULL, *part = NULL;

	bk_cleanup_defaults(&copt, opt->profile);
	if (!(ink = bk_image_new_white(width, height, 1, dpi, dpi, err)))
		return NULL;
	for (int y = 0; y < height; y += BK_ROWS_AT_ONCE) {
		int y1 = y + BK_ROWS_AT_ONCE < height ? y + BK_ROWS_AT_ONCE : height;
		if (rows(ud, y, y1, &band, err) ||
		    !(part = bk_cleanup_picture_rows(band, &copt, err)) ||
		    bk_image_paste(ink, 0, y, part, err))
			goto fail;
		bk_image_free(&band);
		bk_image_free(&part);
	}
	return ink;
fail:
	bk_image_free(&band);
	bk_image_free(&part);
	bk_image_free(&ink);
	return NULL;
}

/* A print's title panels, found on a gray copy shrunk band by band, in
 * pixels of the picture (right to left, as bk_image_find_panels gives
 * them). */
static int panels_from_rows(int width, int height, int dpi, bk_rows_fn rows, void *ud,
			    struct bk_box **panels, size_t *npanels, struct bk_error *err)
{
	struct bk_image *small = NULL, *band = NULL, *part = NULL;
	int k = 1, step;
	int rc = -1;

	while ((long)(width / k) * (height / k) > BK_PANEL_SEARCH_PIXELS)
		k++;
	step = BK_ROWS_AT_ONCE / k > 0 ? BK_ROWS_AT_ONCE / k * k : k;
	if (!(small = bk_image_new_white((width + k - 1) / k, (height + k - 1) / k, 8,
					 dpi / k, dpi / k, err)))
		goto out;
	for (int y = 0; y < height; y += step) {
		int y1 = y + step < height ? y + step : height;
		if (rows(ud, y, y1, &band, err) || !(part = bk_image_shrink_gray(band, k, err)) ||
		    bk_image_paste(small, 0, y / k, part, err))
			goto out;
		bk_image_free(&band);
		bk_image_free(&part);
	}
	if (bk_image_find_panels(small, panels, npanels, err))
		goto out;
	for (size_t i = 0; i < *npanels; i++) {
		struct bk_box *p = &(*panels)[i];
		*p = (struct bk_box){ p->x0 * k, p->y0 * k, p->x1 * k, p->y1 * k };
		p->x1 = p->x1 < width ? p->x1 : width;
		p->y1 = p->y1 < height ? p->y1 : height;
	}
	rc = 0;
out:
	bk_image_free(&small);
	bk_image_free(&band);
	bk_image_free(&part);
	return rc;
}

/* The gray pixels of each panel, gathered from one more pass over the
 * rows: crops[i] (owned by the caller) for panels[i]. */
static int crop_panels(int height, int dpi, bk_rows_fn rows, void *ud,
		       const struct bk_box *panels, size_t n, struct bk_image **crops,
		       struct bk_error *err)
{
	struct bk_image *band = NULL, *gray = NULL, *part = NULL;
	int top = height, bottom = 0, rc = -1;

	for (size_t i = 0; i < n; i++) {
		struct bk_box p = panels[i];
		if (!(crops[i] = bk_image_new_white(p.x1 - p.x0, p.y1 - p.y0, 8, dpi, dpi, err)))
			return -1;
		top = p.y0 < top ? p.y0 : top;
		bottom = p.y1 > bottom ? p.y1 : bottom;
	}
	for (int y = top; y < bottom; y += BK_ROWS_AT_ONCE) {
		int y1 = y + BK_ROWS_AT_ONCE < bottom ? y + BK_ROWS_AT_ONCE : bottom;
		if (rows(ud, y, y1, &band, err) || !(gray = bk_image_to_gray(band, err)))
			goto out;
		for (size_t i = 0; i < n; i++) {
			struct bk_box p = panels[i];
			int a = p.y0 > y ? p.y0 : y, b = p.y1 < y1 ? p.y1 : y1;
			if (a >= b)
				continue;
			if (!(part = bk_image_crop(gray, (struct bk_box){ p.x0, a - y, p.x1, b - y },
						   err)) ||
			    bk_image_paste(crops[i], 0, a - p.y0, part, err))
				goto out;
			bk_image_free(&part);
		}
		bk_image_free(&band);
		bk_image_free(&gray);
	}
	rc = 0;
out:
	bk_image_free(&band);
	bk_image_free(&gray);
	bk_image_free(&part);
	return rc;
}

/* A big print: its panels found on a shrunk copy, then each read from its
 * own full-resolution gray pixels, as read_panels reads them. */
static int read_panels_from_rows(struct bk_engine *engine, int width, int height, int dpi,
				 bk_rows_fn rows, void *ud, const struct bk_read_options *opt,
				 struct bk_page *page, struct bk_error *err)
{
	struct bk_image *crops[BK_MAX_PANELS] = { NULL };
	struct bk_box *panels = NULL;
	struct bk_page part;
	size_t n = 0;
	int rc = -1;

	bk_page_init(&part);
	if (panels_from_rows(width, height, dpi, rows, ud, &panels, &n, err) ||
	    crop_panels(height, dpi, rows, ud, panels, n, crops, err))
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct bk_box p = panels[i];
		struct bk_box all = { 0, 0, p.x1 - p.x0, p.y1 - p.y0 };
		struct picture pic = { NULL, crops[i], all.x1, all.y1, dpi };
		enum bk_psm psm;
		const char *model = panel_model(p, opt, &psm);
		if (read_band(engine, &pic, 0, all.y1, &all, model, psm, 0, all.y1, &part, err))
			goto out;
		shift_page(&part, p.x0, p.y0);
		if (take_blocks(page, &part, err))
			goto out;
		bk_page_release(&part);
		bk_image_free(&crops[i]);
	}
	rc = 0;
out:
	for (size_t i = 0; i < BK_MAX_PANELS; i++)
		bk_image_free(&crops[i]);
	bk_page_release(&part);
	free(panels);
	return rc;
}

int bk_read_picture_rows(struct bk_engine *engine, int width, int height, int dpi,
			 bk_rows_fn rows, void *ud, const struct bk_read_options *opt,
			 int first_number, const char *name, struct bk_page *page,
			 struct bk_error *err)
{
	struct bk_image *ink = NULL;
	int rc = -1;

	page->width = width;
	page->height = height;
	page->xres = page->yres = dpi;
	page->number = first_number;
	if (opt->profile == BK_PROFILE_UKIYOE) {
		if (read_panels_from_rows(engine, width, height, dpi, rows, ud, opt, page, err))
			goto out;
		keep_lettering(page, dpi);
		rc = 0;
		goto out;
	}
	if (!(ink = ink_from_rows(width, height, dpi, rows, ud, opt, err)))
		goto out;
	rc = read_picture_image(engine, ink, opt, page, err);
out:
	bk_image_free(&ink);
	if (rc)
		name_the_page(err, name, opt->source_page > 0 ? opt->source_page : first_number);
	return rc;
}

int bk_read_page(struct bk_engine *engine, const struct bk_image *scan,
		 const struct bk_read_options *opt, int first_number,
		 const char *name, struct bk_read_result *out,
		 struct bk_error *err)
{
	struct bk_cleaned_page pages[2];
	int npages = 0, rotate = 0;
	bool pictures = opt->profile == BK_PROFILE_UKIYOE ||
			opt->profile == BK_PROFILE_MAP;

	int failed_page = 0;

	memset(out, 0, sizeof(*out));
	memset(pages, 0, sizeof(pages));
	for (int attempt = 0; attempt < 2; attempt++) {
		int turn = 0;
		if (clean(scan, opt->profile, opt->bilevel, rotate, pages, &npages, &out->report,
			  err))
			goto fail;
		for (int i = 0; i < npages; i++) {
			bk_page_init(&out->pages[i]);
			failed_page = first_number + i;
			if (read_one(engine, &pages[i], opt,
				     attempt == 0 && !pictures, &out->pages[i],
				     &turn, err))
				goto fail;
			if (turn)
				break;
		}
		if (!turn)
			break;
		/* Turned page: read everything again the right way up. */
		for (int i = 0; i < 2; i++) {
			bk_page_release(&out->pages[i]);
			bk_cleaned_page_release(&pages[i]);
		}
		npages = 0;
		rotate = turn;
	}
	out->npages = npages;
	for (int i = 0; i < npages; i++) {
		struct bk_page *p = &out->pages[i];
		p->width = bk_image_width(pages[i].display);
		p->height = bk_image_height(pages[i].display);
		p->xres = bk_image_xres(pages[i].display);
		p->yres = bk_image_yres(pages[i].display);
		p->number = first_number + i;
		p->skew = out->report.skew_degrees;
		p->rotation = out->report.rotation;
		out->display[i] = pages[i].display;
		pages[i].display = NULL;
		bk_cleaned_page_release(&pages[i]);
	}
	return 0;
fail:
	for (int i = 0; i < 2; i++)
		bk_cleaned_page_release(&pages[i]);
	bk_read_result_release(out);
	name_the_page(err, name, opt->source_page > 0 ? opt->source_page : failed_page);
	return -1;
}
