// tests/browser/deepzoom.mjs CHROMIUM URL SHOT-PREFIX
//
// Loads a bunko page view (with a query) in headless Chromium with
// JavaScript on: the deep-zoom viewer (OpenSeadragon on the page's IIIF
// tiles) replaces the plain image. Waits until every tile of the view is
// drawn, then measures, for each hit overlay, where OpenSeadragon says the
// hit's page-model box lies on the screen and where the overlay is, and
// from a screenshot how much of its outline is the hit colour and how much
// of its inside is ink. Then presses "次の該当箇所" (next hit), waits for
// the zoomed view's tiles, and measures the current hit again. Prints one
// JSON object (the C test, tests/test_cli_serve.c, asserts) and saves the
// screenshots SHOT-PREFIX-home.png and SHOT-PREFIX-zoom.png.
import { writeFileSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import { decodePng, pixelAt, red, dark } from './png.mjs';

const [chromium, url, prefix] = process.argv.slice(2);

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none'],
});

// Where each overlay is and where the image's box for it falls, in page
// coordinates.
async function measure(page) {
  return page.evaluate(() => {
    const box = document.getElementById('deepzoom');
    const viewer = box.viewer, item = viewer.world.getItemAt(0);
    const canvas = viewer.container.getBoundingClientRect();
    const svgRects = [...document.querySelectorAll('figure svg rect.hit')];
    return {
      svgShown: getComputedStyle(document.querySelector('figure svg')).display !== 'none',
      canvas: { left: canvas.left + scrollX, top: canvas.top + scrollY, width: canvas.width, height: canvas.height },
      status: document.getElementById('dz-status').textContent,
      overlays: [...document.querySelectorAll('.hit-overlay')].map((el, i) => {
        const r = el.getBoundingClientRect(), s = svgRects[i];
        const x = +s.getAttribute('x'), y = +s.getAttribute('y');
        const w = +s.getAttribute('width'), h = +s.getAttribute('height');
        const a = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(x, y));
        const b = item.imageToViewerElementCoordinates(new OpenSeadragon.Point(x + w, y + h));
        return {
          current: el.classList.contains('current'),
          screen: { left: r.left + scrollX, top: r.top + scrollY, width: r.width, height: r.height },
          expect: { left: canvas.left + scrollX + a.x, top: canvas.top + scrollY + a.y, width: b.x - a.x, height: b.y - a.y },
        };
      }),
    };
  });
}

// The share of hit-coloured pixels on the overlay's border (3 px, inside
// its box) and of ink inside it.
function colours(img, s) {
  let onEdge = 0, edge = 0, ink = 0, inside = 0;
  const px = (x, y) => pixelAt(img, x, y);
  for (let x = s.left + 2; x < s.left + s.width - 2; x++) {
    edge += 2;
    onEdge += red(px(x, s.top + 1)) + red(px(x, s.top + s.height - 2));
  }
  for (let y = s.top + 2; y < s.top + s.height - 2; y++) {
    edge += 2;
    onEdge += red(px(s.left + 1, y)) + red(px(s.left + s.width - 2, y));
  }
  for (let y = s.top + 4; y < s.top + s.height - 4; y++)
    for (let x = s.left + 4; x < s.left + s.width - 4; x++) {
      inside++;
      ink += dark(px(x, y));
    }
  return { edgeRed: edge ? onEdge / edge : 0, insideInk: inside ? ink / inside : 0 };
}

async function shoot(page, name, m) {
  const png = await page.screenshot({ fullPage: true, type: 'png' });
  writeFileSync(`${prefix}-${name}.png`, png);
  const img = decodePng(Buffer.from(png));
  for (const o of m.overlays) Object.assign(o, colours(img, o.screen));
  return m;
}

try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000, deviceScaleFactor: 1 });
  const tiles = [];
  page.on('response', (r) => {
    if (/\/iiif\/.*\/default\.jpg$/.test(r.url())) tiles.push({ url: r.url(), status: r.status() });
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const resp = await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#deepzoom[data-ready="1"]', { timeout: 120000 });
  const home = await shoot(page, 'home', await measure(page));
  const before = tiles.length;
  await page.click('#dz-next-hit');
  // the view moves and zooms over OpenSeadragon's animation, then loads
  // the finer tiles it needs
  await page.waitForFunction(() => {
    const v = document.getElementById('deepzoom').viewer;
    return !v.viewport.getZoom(true) || Math.abs(v.viewport.getZoom(true) - v.viewport.getZoom(false)) < 1e-6;
  }, { timeout: 30000 });
  await page.waitForSelector('#deepzoom[data-ready="1"]', { timeout: 120000 });
  await new Promise((r) => setTimeout(r, 300));
  await page.waitForSelector('#deepzoom[data-ready="1"]', { timeout: 120000 });
  const zoom = await shoot(page, 'zoom', await measure(page));
  process.stdout.write(JSON.stringify({
    status: resp.status(), errors, home, zoom,
    tiles: tiles.length, zoomTiles: tiles.length - before, tileErrors: tiles.filter((t) => t.status !== 200),
  }) + '\n');
} finally {
  await browser.close();
}
