/*
 * web/render.h — a page of a stored document's PDF as a PNG image for the
 * page viewer, through poppler and cairo (web/render.c is the only file of
 * web/ that sees PopplerDocument).
 *
 * The PDF page is the cleaned scan the page model's boxes refer to (its
 * size is the image's pixels at the image's resolution), so an image of
 * any width shows the boxes in place once scaled to the model's size.
 */
#ifndef BUNKO_WEB_RENDER_H
#define BUNKO_WEB_RENDER_H

#include "bunko/buf.h"
#include "bunko/common.h"

/* Renders page `page` (1-based) of `pdf` at `width` pixels wide (height
 * in proportion, at most 4 times the width) as a PNG into *png. */
int bk_render_page_png(const char *pdf, int page, int width, struct bk_buf *png, struct bk_error *err);

#endif
