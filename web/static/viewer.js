// web/static/viewer.js — the page view's deep-zoom viewer: OpenSeadragon
// (/static/openseadragon.min.js) on the page's IIIF level 0 tiles, with
// each hit box of the plain image (the <svg> the server wrote, in the
// page model's pixels) drawn again as an overlay on the deep-zoom image,
// and buttons that step from hit to hit (past the last one, to the next
// page with a hit). Without this script, or when the tiles cannot be
// opened, the plain image with its boxes stays as it is.
(function () {
  'use strict';

  function start() {
    var box = document.getElementById('deepzoom');
    var svg = document.querySelector('figure svg');
    if (!box || !svg || typeof OpenSeadragon !== 'function') return;
    var status = document.getElementById('dz-status');
    var hits = Array.prototype.map.call(svg.querySelectorAll('rect.hit'), function (r) {
      var t = r.querySelector('title');
      return {
        x: +r.getAttribute('x'), y: +r.getAttribute('y'),
        w: +r.getAttribute('width'), h: +r.getAttribute('height'),
        hit: +r.getAttribute('data-hit'), text: t ? t.textContent : ''
      };
    });
    // OpenSeadragon measures its element when it starts: show it first
    box.hidden = false;
    svg.style.display = 'none';
    var viewer = OpenSeadragon({
      element: document.getElementById('dz-canvas'),
      tileSources: box.getAttribute('data-info'),
      zoomInButton: 'dz-in',
      zoomOutButton: 'dz-out',
      homeButton: 'dz-home',
      fullPageButton: 'dz-full',
      showRotationControl: false,
      visibilityRatio: 0.5,
      maxZoomPixelRatio: 4
    });
    var current = -1, overlays = [];
    box.viewer = viewer; // for the browser test, which asks where the image lies

    function say(text) { if (status) status.textContent = text; }

    function show(i) {
      if (current >= 0) overlays[current].classList.remove('current');
      current = i;
      var h = hits[i], el = overlays[i];
      el.classList.add('current');
      // the box with room around it, so the line it stands in is seen
      var pad = Math.max(h.w, h.h) * 2;
      viewer.viewport.fitBoundsWithConstraints(viewer.viewport.imageToViewportRectangle(
        h.x - pad, h.y - pad, h.w + 2 * pad, h.h + 2 * pad));
      say('該当箇所 ' + (i + 1) + ' / ' + hits.length + '：' + h.text);
    }

    function step(dir) {
      var next = current + dir;
      if (next >= 0 && next < hits.length) { show(next); return; }
      // past the ends of this page: the page with the next (previous) hit
      var link = document.querySelector(dir > 0 ? 'nav.hitnav a.next-hit' : 'nav.hitnav a.prev-hit');
      if (link) window.location.href = link.href;
      else say(dir > 0 ? '次の該当箇所はありません' : '前の該当箇所はありません');
    }

    viewer.addHandler('open', function () {
      viewer.canvas.setAttribute('aria-label',
        'ページ画像（拡大表示：矢印キーで移動、+ と - で拡大・縮小、0 で全体）');
      hits.forEach(function (h) {
        var el = document.createElement('div');
        el.className = 'hit-overlay';
        el.setAttribute('data-hit', String(h.hit));
        el.title = h.text;
        viewer.addOverlay({ element: el, location: viewer.viewport.imageToViewportRectangle(h.x, h.y, h.w, h.h) });
        overlays.push(el);
      });
      var item = viewer.world.getItemAt(0);
      // data-ready: every tile the view needs is drawn (the browser test waits for it)
      var ready = function () { box.setAttribute('data-ready', item.getFullyLoaded() ? '1' : '0'); };
      item.addHandler('fully-loaded-change', ready);
      ready();
      box.setAttribute('data-open', '1');
    });
    viewer.addHandler('open-failed', function () {
      // no tiles: back to the plain image, which has the boxes too
      viewer.destroy();
      box.hidden = true;
      svg.style.display = '';
    });
    var prev = document.getElementById('dz-prev-hit'), next = document.getElementById('dz-next-hit');
    if (!hits.length) {
      prev.hidden = true;
      next.hidden = true;
    }
    prev.addEventListener('click', function () { step(-1); });
    next.addEventListener('click', function () { step(1); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
