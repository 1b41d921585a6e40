// tests/browser/a11y.mjs CHROMIUM ORIGIN QUERY PAGEPATH OUTDIR KEYQUERY
//
// Accessibility of bunko's pages in headless Chromium (the Debian
// package, driven by puppeteer-core):
// - axe-core (pinned in package-lock.json) runs all its rules on the
//   search results for QUERY, the page view PAGEPATH, the login page and
//   the English search page; each page's violations are reported;
// - a keyboard-only walk: from the home page, Tab until the search box
//   has the focus, type KEYQUERY, Enter, Tab until a hit's link has the
//   focus, Enter: where it landed and what it shows are reported (in a
//   fresh browser context: no language cookie from the pages before).
// The site's Content-Security-Policy allows no scripts, so the page's CSP
// is bypassed for axe's script only (puppeteer's setBypassCSP).
// Prints one JSON object; the assertions are the C test's
// (tests/test_cli_serve.c). Saves a screenshot of each page in OUTDIR.
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');
const [chromium, origin, query, pagePath, outdir, keyQuery] = process.argv.slice(2);
const q = encodeURIComponent(query);
const pages = [
  { name: 'search', path: `/search?q=${q}` },
  { name: 'page', path: pagePath },
  { name: 'login', path: '/login' },
  { name: 'search-en', path: `/search?q=${q}&lang=en` },
];

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--font-render-hinting=none'],
});
const out = { axe: [], keyboard: {} };
try {
  let page = await browser.newPage();
  await page.setBypassCSP(true);
  await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  for (const p of pages) {
    const resp = await page.goto(origin + p.path, { waitUntil: 'networkidle0' });
    await page.addScriptTag({ path: axePath });
    const result = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return {
        lang: document.documentElement.lang,
        violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })),
        passes: r.passes.length,
      };
    });
    out.axe.push({ name: p.name, status: resp.status(), ...result });
    await page.screenshot({ path: `${outdir}/a11y-${p.name}.png`, fullPage: true });
  }

  // the keyboard only
  const k = out.keyboard;
  await page.close();
  page = await (await browser.createBrowserContext()).newPage();
  await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
  await page.goto(origin + '/', { waitUntil: 'networkidle0' });
  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    return { id: e.id, tag: e.tagName, href: e.href || '', hit: !!e.closest('li.hit'), label: e.textContent.trim() };
  });
  k.tabsToSearch = 0;
  for (let i = 1; i <= 10; i++) {
    await page.keyboard.press('Tab');
    if ((await focused()).id === 'q') { k.tabsToSearch = i; break; }
  }
  await page.keyboard.type(keyQuery);
  await Promise.all([page.waitForNavigation({ waitUntil: 'networkidle0' }), page.keyboard.press('Enter')]);
  k.resultsUrl = page.url();
  k.tabsToHit = 0;
  let hit = null;
  for (let i = 1; i <= 80; i++) {
    await page.keyboard.press('Tab');
    const f = await focused();
    if (f.hit && f.tag === 'A') { k.tabsToHit = i; hit = f; break; }
  }
  k.hitHref = hit ? hit.href : '';
  // the focus is visible where it is: an outline is drawn
  k.hitOutline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  await page.screenshot({ path: `${outdir}/keyboard-hit-focused.png` });
  if (hit) {
    const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'networkidle0' }), page.keyboard.press('Enter')]);
    k.openedStatus = resp.status();
    k.openedUrl = page.url();
    k.openedLang = await page.evaluate(() => document.documentElement.lang);
    k.openedImage = await page.evaluate(() => !!document.querySelector('figure svg image'));
    k.openedTitle = await page.title();
    await page.screenshot({ path: `${outdir}/keyboard-opened.png` });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
} finally {
  await browser.close();
}
