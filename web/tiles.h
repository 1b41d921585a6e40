/*
 * web/tiles.h — deep-zoom tiles of the page images: IIIF Image API 3.0
 * level 0 static files, made by libvips (web/tiles.c is the only file of
 * bunko that sees VipsImage) from the stored PDF's page at the page
 * model's size, so the tiles' pixels are the model's and the hit boxes lie
 * on them without scaling. A colour print or map, whose PDF carries the
 * colour scan untouched, is tiled from it at full resolution.
 *
 * Layout of one page's directory (DIR/ID/NNNN), as a viewer asks for it:
 *   info.json                     the service without its id (the site adds
 *                                 it per request): width, height, tiles
 *                                 (512 px, the scale factors), sizes
 *   X,Y,W,H/w,h/0/default.jpg     the tiles (dzsave --layout iiif3)
 *   full/w,h/0/default.jpg        each whole-image size: libvips 8.14 names
 *                                 them 0,0,W,H where viewers ask for
 *                                 "full", so they are renamed; 1400, 700,
 *                                 350 and 150 px wide are added (those
 *                                 below the page's width), and listed in
 *                                 info.json's `sizes`
 *   full/max/0/default.jpg        the full size, which level 0 requires
 *
 * Pages are made on first request, one at a time (a lock in struct
 * bk_tiles: each can take seconds and a whole page in memory), into a
 * staging directory renamed into place, so a reader never sees half a
 * page, and again when the PDF is newer than the page's info.json.
 * Directories are made 0700: the tiles of restricted and confidential
 * documents are readable only by the server, which checks the role before
 * it makes or sends any (web/iiif.c).
 *
 * Ownership: *dir from bk_tiles_page belongs to the caller.
 */
#ifndef BUNKO_WEB_TILES_H
#define BUNKO_WEB_TILES_H

#include "bunko/common.h"

#define BK_TILE_SIZE 512

struct bk_tiles;

/* Opens the tile cache at `dir` (made when the first page is). Starts
 * libvips. Errors: "cannot start libvips: ...". */
int bk_tiles_new(struct bk_tiles **t, const char *dir, struct bk_error *err);
void bk_tiles_free(struct bk_tiles **t);

/* The directory of page `page` of document `id` (a checked name), made
 * from page `page` of `pdf` at width x height pixels when it is missing
 * or older than the PDF. Errors name the PDF and page. */
int bk_tiles_page(struct bk_tiles *t, const char *id, const char *pdf, int page, int width, int height,
		  char **dir, struct bk_error *err);

/* The directory of page `page` of document `id` when its tiles are
 * there and not older than `pdf`: 1 and *dir set; 0 when they are not
 * (then bk_tiles_page makes them); -1 on error. Takes no lock and reads
 * no image: what a viewer's many tile requests cost once a page is made
 * (two stat calls). */
int bk_tiles_ready(struct bk_tiles *t, const char *id, const char *pdf, int page, char **dir,
		   struct bk_error *err);

#endif
