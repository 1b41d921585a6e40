/*
 * web/render.h — a page of a stored document's PDF as a PNG or JPEG image
 * for the page viewer and the IIIF Image API, through poppler and cairo
 * (web/render.c is the only file of web/ that sees PopplerDocument, and
 * the only one that calls libjpeg).
 *
 * The PDF page is the cleaned scan the page model's boxes refer to (its
 * size is the image's pixels at the image's resolution), so an image
 * rendered at the model's proportions shows the boxes in place once
 * scaled to the model's size.
 */
#ifndef BUNKO_WEB_RENDER_H
#define BUNKO_WEB_RENDER_H

#include "bunko/buf.h"
#include "bunko/common.h"

enum bk_image_format { BK_IMAGE_PNG, BK_IMAGE_JPEG };

/* Renders page `page` (1-based) of `pdf` stretched to exactly width x
 * height pixels (each at most BK_RENDER_MAX) into *out. */
#define BK_RENDER_MAX 12000
int bk_render_page(const char *pdf, int page, int width, int height, enum bk_image_format format,
		   struct bk_buf *out, struct bk_error *err);

#endif
