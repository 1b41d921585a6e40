// tests/browser/page-hits.mjs CHROMIUM URL SCREENSHOT.png
//
// Loads a bunko page view in headless Chromium (the Debian package, driven
// by puppeteer-core) and measures what the browser drew: where the SVG of
// the page image and each hit box landed on the screen, and, from a
// screenshot, how much of each box's outline is the hit colour and how
// much of its inside is ink (the characters of the page image under it).
// Prints one JSON object; the assertions are the C test's
// (tests/test_cli_serve.c). Saves the screenshot as the test's artefact.
import { readFileSync, writeFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import puppeteer from 'puppeteer-core';

const [chromium, url, shot] = process.argv.slice(2);

// A PNG as {width, height, rgba}: 8-bit RGB or RGBA, not interlaced (what
// Chromium writes).
function decodePng(buf) {
  let pos = 8, width = 0, height = 0, type = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos), kind = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (kind === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('unexpected PNG depth or interlace');
      type = data[9];
    } else if (kind === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const bpp = type === 6 ? 4 : type === 2 ? 3 : 0;
  if (!bpp) throw new Error(`unexpected PNG colour type ${type}`);
  const raw = inflateSync(Buffer.concat(idat)), stride = width * bpp;
  const out = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)], line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      let p = 0;
      if (f === 1) p = a;
      else if (f === 2) p = b;
      else if (f === 3) p = (a + b) >> 1;
      else if (f === 4) {
        const q = a + b - c, pa = Math.abs(q - a), pb = Math.abs(q - b), pc = Math.abs(q - c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[i] = (line[i] + p) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      out[(y * width + x) * 4] = line[x * bpp];
      out[(y * width + x) * 4 + 1] = line[x * bpp + 1];
      out[(y * width + x) * 4 + 2] = line[x * bpp + 2];
      out[(y * width + x) * 4 + 3] = 255;
    }
    prev = line;
  }
  return { width, height, rgba: out };
}

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none'],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000, deviceScaleFactor: 1 });
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
  const px = (x, y) => {
    x = Math.round(x); y = Math.round(y);
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return [255, 255, 255];
    const i = (y * img.width + x) * 4;
    return [img.rgba[i], img.rgba[i + 1], img.rgba[i + 2]];
  };
  const red = ([r, g, b]) => r > 180 && g < 110 && b < 80;
  const dark = ([r, g, b]) => r + g + b < 3 * 110;
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
