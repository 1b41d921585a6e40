// tests/browser/page-hits.mjs CHROMIUM URL SCREENSHOT.png
//
// Loads a bunko page view in headless Chromium (the Debian package, driven
// by puppeteer-core) with JavaScript off, as the page is without its
// deep-zoom viewer (tests/browser/deepzoom.mjs has that), and measures
// what the browser drew: where the SVG of the page image and each hit box
// landed on the screen, and, from a
// screenshot, how much of each box's outline is the hit colour and how
// much of its inside is ink (the characters of the page image under it).
// Prints one JSON object; the assertions are the C test's
// (tests/test_cli_serve.c). Saves the screenshot as the test's artefact.
import { writeFileSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import { decodePng, pixelAt, red, dark } from './png.mjs';

const [chromium, url, shot] = process.argv.slice(2);

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000, deviceScaleFactor: 1 });
  // the plain page, as without JavaScript: the image with its boxes in an <svg>
  await page.setJavaScriptEnabled(false);
  const resp = await page.goto(url, { waitUntil: 'networkidle0' });
  const layout = await page.evaluate(() => {
    const svg = document.querySelector('figure svg');
    const box = (e) => { const r = e.getBoundingClientRect(); return { left: r.left + scrollX, top: r.top + scrollY, width: r.width, height: r.height }; };
    return {
      lang: document.documentElement.lang,
      svg: box(svg),
      viewBox: { width: svg.viewBox.baseVal.width, height: svg.viewBox.baseVal.height },
      rects: [...svg.querySelectorAll('rect.hit')].map((r) => ({
        x: r.x.baseVal.value, y: r.y.baseVal.value, w: r.width.baseVal.value, h: r.height.baseVal.value,
        screen: box(r), stroke: getComputedStyle(r).stroke,
      })),
    };
  });
  const png = await page.screenshot({ fullPage: true, type: 'png' });
  writeFileSync(shot, png);
  const img = decodePng(Buffer.from(png));
  const px = (x, y) => pixelAt(img, x, y);
  for (const r of layout.rects) {
    const s = r.screen;
    let onEdge = 0, edge = 0, ink = 0, inside = 0;
    // the outline: the pixels on the four edges, 1 px in (the stroke is 3 px, centred)
    for (let x = s.left + 1; x < s.left + s.width - 1; x++) {
      edge += 2;
      onEdge += red(px(x, s.top)) + red(px(x, s.top + s.height - 1));
    }
    for (let y = s.top + 1; y < s.top + s.height - 1; y++) {
      edge += 2;
      onEdge += red(px(s.left, y)) + red(px(s.left + s.width - 1, y));
    }
    for (let y = s.top + 3; y < s.top + s.height - 3; y++)
      for (let x = s.left + 3; x < s.left + s.width - 3; x++) {
        inside++;
        ink += dark(px(x, y));
      }
    r.edgeRed = edge ? onEdge / edge : 0;
    r.insideInk = inside ? ink / inside : 0;
  }
  // ink over the whole page image: it was drawn
  let ink = 0, n = 0;
  for (let y = layout.svg.top + 2; y < layout.svg.top + layout.svg.height - 2; y += 4)
    for (let x = layout.svg.left + 2; x < layout.svg.left + layout.svg.width - 2; x += 4) {
      n++;
      ink += dark(px(x, y));
    }
  layout.imageInk = n ? ink / n : 0;
  layout.status = resp.status();
  process.stdout.write(JSON.stringify(layout) + '\n');
} finally {
  await browser.close();
}
