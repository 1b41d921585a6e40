// tests/browser/mirador.mjs CHROMIUM MANIFEST-URL QUERY SHOT.png
//
// Interoperability: loads a bunko IIIF manifest into Mirador, a third-party
// IIIF viewer (the npm package pinned in package-lock.json, its own
// dist/mirador.min.js), served here from a local web server of its own on
// another port, so Mirador reads bunko as it would any other site's IIIF
// (cross-origin). Mirador opens the manifest with its search panel open;
// QUERY is typed into it: Mirador finds the manifest's Content Search
// service, asks it, lists the hits and marks them on the page, which it
// shows through the manifest's Image API service (tiles).
// Prints one JSON object for the C test (tests/test_cli_serve.c): what
// Mirador asked bunko for and the answers, the hits it lists, and how much
// of its image area is ink; saves the screenshot SHOT.png.
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { decodePng, pixelAt, dark } from './png.mjs';

const [chromium, manifest, query, shot] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const mirador = readFileSync(join(here, 'node_modules/mirador/dist/mirador.min.js'));

const config = {
  id: 'viewer',
  windows: [{ manifestId: manifest }],
  window: { sideBarOpenByDefault: true, defaultSideBarPanel: 'search', allowClose: false },
  workspaceControlPanel: { enabled: false },
};
const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Mirador</title></head>
<body style="margin:0"><div id="viewer" style="position:absolute;inset:0"></div>
<script src="/mirador.min.js"></script>
<script src="/config.js"></script></body></html>`;
const server = createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
  } else if (req.url === '/mirador.min.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(mirador);
  } else if (req.url === '/config.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(`Mirador.viewer(${JSON.stringify(config)});`);
  } else res.writeHead(404).end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const site = `http://127.0.0.1:${server.address().port}/`;

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000, deviceScaleFactor: 1 });
  const asked = [];
  page.on('response', (r) => {
    if (r.url().startsWith(new URL(manifest).origin)) asked.push({ url: r.url(), status: r.status() });
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(site, { waitUntil: 'load' });
  // a researcher's search: the query typed into Mirador's search panel
  const input = await page.waitForSelector('input[id^="search-"]', { timeout: 120000 });
  await input.type(query);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /\d+ of \d+/.test(document.body.innerText), { timeout: 120000 });
  // the page image: OpenSeadragon's canvas, once its tiles have come
  await page.waitForFunction(() => [...document.querySelectorAll('.openseadragon-canvas canvas')].some((c) => c.width > 0), { timeout: 120000 });
  await page.waitForNetworkIdle({ idleTime: 1500, timeout: 120000 });
  await new Promise((r) => setTimeout(r, 1000));
  const seen = await page.evaluate(() => {
    const osd = document.querySelector('.openseadragon-canvas');
    const r = osd.getBoundingClientRect();
    const text = document.body.innerText;
    return {
      osd: { left: r.left, top: r.top, width: r.width, height: r.height },
      text,
    };
  });
  const png = await page.screenshot({ type: 'png' });
  writeFileSync(shot, png);
  const img = decodePng(Buffer.from(png));
  let ink = 0, n = 0;
  for (let y = seen.osd.top + 2; y < seen.osd.top + seen.osd.height - 2; y += 3)
    for (let x = seen.osd.left + 2; x < seen.osd.left + seen.osd.width - 2; x += 3) {
      n++;
      ink += dark(pixelAt(img, x, y));
    }
  // the selected hit, which Mirador fills yellow on the image: the
  // bounding box of those pixels
  const yellow = ([r, g, b]) => r > 200 && g > 200 && b < 140;
  const sel = { n: 0, left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity };
  for (let y = seen.osd.top; y < seen.osd.top + seen.osd.height; y++)
    for (let x = seen.osd.left; x < seen.osd.left + seen.osd.width; x++)
      if (yellow(pixelAt(img, x, y))) {
        sel.n++;
        sel.left = Math.min(sel.left, x); sel.right = Math.max(sel.right, x + 1);
        sel.top = Math.min(sel.top, y); sel.bottom = Math.max(sel.bottom, y + 1);
      }
  const counter = /(\d+) of (\d+)/.exec(seen.text);
  process.stdout.write(JSON.stringify({
    errors, asked, hitsListed: counter ? +counter[2] : 0, text: seen.text, osd: seen.osd,
    imageInk: n ? ink / n : 0, selected: sel,
  }) + '\n');
} finally {
  await browser.close();
  server.close();
}
