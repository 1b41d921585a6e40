/*
 * web/static.c — the page viewer's scripts, embedded in the executable
 * when it is built (web/CMakeLists.txt), so the server needs no files
 * beside it: /static/openseadragon.min.js (OpenSeadragon as pinned in
 * web/package-lock.json, its licence in its first comment) and
 * /static/viewer.js and /static/viewer.css (web/static/).
 */
#include <string.h>

#include "web/site.h"

extern const unsigned char bk_static_osd_js[], bk_static_viewer_js[], bk_static_viewer_css[];
extern const size_t bk_static_osd_js_len, bk_static_viewer_js_len, bk_static_viewer_css_len;

bool bk_web_static(const char *path, struct bk_web_response *r)
{
	const unsigned char *data = NULL;
	const char *type = "text/javascript; charset=utf-8";
	size_t len = 0;

	if (!strcmp(path, "/static/openseadragon.min.js")) {
		data = bk_static_osd_js;
		len = bk_static_osd_js_len;
	} else if (!strcmp(path, "/static/viewer.js")) {
		data = bk_static_viewer_js;
		len = bk_static_viewer_js_len;
	} else if (!strcmp(path, "/static/viewer.css")) {
		data = bk_static_viewer_css;
		len = bk_static_viewer_css_len;
		type = "text/css; charset=utf-8";
	} else
		return false;
	r->status = 200;
	r->type = type;
	r->cache = "public, max-age=3600";
	bk_buf_add(&r->body, data, len);
	return true;
}
