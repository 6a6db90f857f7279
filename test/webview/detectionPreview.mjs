// Dev harness for the detection review page (not part of `npm test`): serves dist/webview and the
// page's real HTML shell and CSP on 127.0.0.1, plays the extension host with the real query engine
// (out/src/core/evaluate/detection/browse.js) over 5,000 generated images of 100 predictions each,
// drives it in headless Chromium (scrolling, keyboard, slider, filters, crops) and takes screenshots.
//
//   npx tsc -p . && node esbuild.mjs && node test/webview/detectionPreview.mjs [--images 5000] [--theme dark]
import { randomBytes } from 'crypto';
import { mkdirSync } from 'fs';
import { createServer } from 'http';
import { readFileSync } from 'fs';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { createRequire } from 'module';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import { THEMES } from './themes.mjs';

const require = createRequire(import.meta.url);
const { pageHtml } = require('../../out/src/extension/panels/pageHtml.js');
const { DETECTION_PAGE, parseFromDetectionPage } = require('../../out/src/shared/detection/contract.js');
const browse = require('../../out/src/core/evaluate/detection/browse.js');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = path.join(root, 'test-results', 'screenshots');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const COUNT = Number(arg('--images', 5000));
const THEME = arg('--theme', 'dark');

// ---- a generated evaluation ------------------------------------------------------------------
const CLASSES = ['person', 'car', 'bicycle', 'dog', 'cat', 'bus', 'truck', 'bird'];
const K = CLASSES.length;
let seed = 11;
const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const REASONS = ['background', 'localisation', 'wrong-class', 'duplicate'];

function makeImage(i) {
  const W = 640;
  const H = i % 3 === 0 ? 480 : 427;
  const truths = [];
  const predictions = [];
  const nTruth = 2 + Math.floor(rnd() * 6);
  for (let k = 0; k < nTruth; k++) {
    const w = 20 + rnd() * 200;
    const h = 20 + rnd() * 200;
    const bbox = [rnd() * (W - w), rnd() * (H - h), w, h];
    const label = Math.floor(rnd() * K);
    const t = { id: i * 100 + k + 1, label, bbox, area: w * h, outcome: 'fn' };
    if (rnd() < 0.75) {
      const score = 0.3 + rnd() * 0.7;
      const j = 0.06 * w;
      const p = {
        id: predictions.length,
        label,
        bbox: [bbox[0] + j, bbox[1] - j, w, h],
        score,
        outcome: 'tp',
        truthId: t.id,
        iou: 0.8,
      };
      predictions.push(p);
      Object.assign(t, { outcome: 'matched', predictionId: p.id, iou: 0.8, score });
    }
    truths.push(t);
  }
  while (predictions.length < 100) {
    const w = 10 + rnd() * 150;
    const h = 10 + rnd() * 150;
    // Most spare predictions are low-confidence noise, as a detector's 100 per image are.
    const score = rnd() ** 4 * 0.9;
    predictions.push({
      id: predictions.length,
      label: Math.floor(rnd() * K),
      bbox: [rnd() * (W - w), rnd() * (H - h), w, h],
      score,
      outcome: 'fp',
      reason: REASONS[Math.floor(rnd() * REASONS.length)],
    });
  }
  return {
    outcome: { imageId: i + 1, sampleId: `val2017/${String(i + 1).padStart(12, '0')}.jpg`, truths, predictions },
    W,
    H,
  };
}

const generated = Array.from({ length: COUNT }, (_, i) => makeImage(i));
const images = generated.map((g) => g.outcome);
const sizes = generated.map((g) => [g.W, g.H]);

/** A few real PNG pictures (gradients), every fifth image without a file (blank canvas). */
const PICTURES = [0, 1, 2, 3].map((n) => {
  const png = new PNG({ width: 640, height: 480 });
  for (let y = 0; y < 480; y++)
    for (let x = 0; x < 640; x++) {
      const o = (y * 640 + x) * 4;
      png.data[o] = (x * (n + 1)) % 256;
      png.data[o + 1] = (y * (4 - n)) % 256;
      png.data[o + 2] = 120 + n * 30;
      png.data[o + 3] = 255;
    }
  return PNG.sync.write(png);
});

const curve = (i) => {
  const recall = Array.from({ length: 101 }, (_, j) => j / 100);
  const top = 0.55 + (i % 4) * 0.1;
  return {
    class: CLASSES[i],
    recall,
    precision: recall.map((r) => (r > 0.85 - i * 0.03 ? null : top * (1 - r ** (2 + i)))),
  };
};

const view = {
  id: 42,
  ref: 'yolo-s@v3',
  status: 'done',
  dataset: { name: 'coco-val-sample', manifestSha256: 'ab12cd34ef56ab12cd34ef56', split: 'val' },
  evaluator: 'predictions',
  git: { commit: '9f2c4e1a7b3d5e6f8a9b0c1d', dirty: false },
  finishedAt: '2026-12-01T10:00:00Z',
  imageCount: COUNT,
  classes: CLASSES,
  metrics: {
    AP: 0.372,
    AP50: 0.561,
    AP75: 0.398,
    APs: 0.211,
    APm: 0.41,
    APl: 0.488,
    AR1: 0.31,
    AR10: 0.49,
    AR100: 0.522,
    ARs: 0.33,
    ARm: 0.56,
    ARl: 0.67,
    VOC_AP50: 0.566,
    VOC07_AP50: 0.548,
    mAP50: 0.569,
    'mAP50-95': 0.379,
    precision: 0.61,
    recall: 0.55,
    F1: 0.58,
    bestF1: 0.6,
    bestF1Confidence: 0.41,
  },
  perClass: CLASSES.map((c, i) => ({ class: c, support: 900 + i * 10, AP: 0.3 + i * 0.02, AP50: 0.5 + i * 0.02 })),
  prCurves: CLASSES.map((_, i) => curve(i)),
  notes: [
    'COCO averages precision at 101 recall points over IoU 0.50:0.95 with crowd regions ignored; VOC interpolates at every recall (VOC07: 11 points) at IoU 0.5; Ultralytics integrates an interpolated curve at 101 points and ignores crowd flags, so the same predictions score slightly differently.',
  ],
  confidence: 0.25,
  iou: 0.5,
  imagesMissing: false,
};

// ---- server ----------------------------------------------------------------------------------
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };
function shell(origin, nonce, theme) {
  return pageHtml(DETECTION_PAGE, {
    cspSource: origin,
    dist: `${origin}/dist/webview`,
    nonce,
    beforeScript: `
<script nonce="${nonce}">
  const t = ${JSON.stringify(THEMES[theme])};
  for (const [k, v] of Object.entries(t.vars)) document.documentElement.style.setProperty(k, v);
  document.body.classList.add(t.bodyClass);
  window.__posted = [];
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  let state;
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => { window.__posted.push(m); window.__toHost && window.__toHost(m); },
    setState: (s) => { state = s; window.__state = s; },
    getState: () => state,
  });
</script>`,
  });
}
function startServer() {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        shell(
          `http://${req.headers.host}`,
          randomBytes(16).toString('base64'),
          url.searchParams.get('theme') ?? 'dark',
        ),
      );
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const pic = /^\/images\/(\d)\.png$/.exec(url.pathname);
    if (pic) {
      res.writeHead(200, { 'content-type': 'image/png' }).end(PICTURES[Number(pic[1])]);
      return;
    }
    const file = url.pathname.startsWith('/dist/webview/') ? path.join(root, url.pathname.slice(1)) : null;
    try {
      if (!file || !file.startsWith(path.join(root, 'dist', 'webview'))) throw new Error();
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---- the host, with the real queries ---------------------------------------------------------
const srcOf = (index) => (index % 5 === 4 ? undefined : `/images/${index % 4}.png`);
const timings = [];
class Host {
  constructor(page) {
    this.page = page;
    this.received = [];
  }
  send(msg) {
    return this.page.evaluate((m) => window.postMessage(m, '*'), msg);
  }
  async onMessage(raw) {
    const msg = parseFromDetectionPage(raw, K);
    if (!msg) throw new Error(`the page sent a message its contract rejects: ${JSON.stringify(raw).slice(0, 200)}`);
    this.received.push(msg);
    const t0 = performance.now();
    if (msg.type === 'ready') return this.send({ type: 'init', payload: view });
    if (msg.type === 'stats') {
      const { request, confidence } = msg.payload;
      const counts = browse.countsAt(images, confidence, K);
      const confusion = browse.confusionAt(images, confidence, K);
      timings.push(['stats', performance.now() - t0]);
      return this.send({ type: 'stats', payload: { request, stats: { confidence, ...counts, confusion } } });
    }
    if (msg.type === 'images') {
      const { request, query, offset, limit } = msg.payload;
      const r = browse.browseImages(images, {
        ...query,
        cls: query.cls ?? undefined,
        outcome: query.outcome ?? undefined,
        offset,
        limit,
      });
      timings.push(['images', performance.now() - t0]);
      const tiles = r.images.map(({ index, image, counts }) => ({
        index,
        sampleId: image.sampleId,
        width: sizes[index][0],
        height: sizes[index][1],
        counts,
        predictions: image.predictions,
        truths: image.truths,
        ...(srcOf(index) ? { src: srcOf(index), thumb: srcOf(index) } : {}),
      }));
      return this.send({ type: 'images', payload: { request, offset, total: r.total, images: tiles } });
    }
    if (msg.type === 'image') {
      const { request, confidence, index } = msg.payload;
      const b = browse.imageAt(images, index, confidence);
      const tile = {
        index,
        sampleId: b.image.sampleId,
        width: sizes[index][0],
        height: sizes[index][1],
        counts: b.counts,
        predictions: b.image.predictions,
        truths: b.image.truths,
        ...(srcOf(index) ? { src: srcOf(index) } : {}),
      };
      return this.send({ type: 'image', payload: { request, image: tile } });
    }
    if (msg.type === 'crops') {
      const { request, confidence, query } = msg.payload;
      const r = browse.boxCrops(images, confidence, query, K);
      const crops = r.crops.map((c) => ({
        ...c,
        width: sizes[c.index][0],
        height: sizes[c.index][1],
        ...(srcOf(c.index) ? { src: srcOf(c.index) } : {}),
      }));
      return this.send({ type: 'crops', payload: { request, query, total: r.total, crops } });
    }
  }
  last(type) {
    return this.received.filter((m) => m.type === type).at(-1);
  }
}

// ---- checks ----------------------------------------------------------------------------------
const failures = [];
function check(name, ok, detail = '') {
  console.log(`${ok ? '  ok ' : 'FAIL '} ${name}${detail ? ` — ${detail}` : ''}`);
  if (!ok) failures.push(name);
}
const until = async (fn, ms = 5000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  return fn();
};

async function main() {
  const server = await startServer();
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(shots, { recursive: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    const host = new Host(page);
    await page.exposeBinding('__toHost', (_s, m) => host.onMessage(m).catch((e) => errors.push(String(e))));
    await page.goto(`${origin}/?theme=${THEME}`);
    const scroller = page.locator('.grid-scroller');
    await until(
      async () =>
        Number(await scroller.getAttribute('data-cells')) > 0 &&
        (await page.locator('.tile[data-ready="1"]').count()) > 0,
    );
    check('posts ready first', (await page.evaluate(() => window.__posted[0]?.type)) === 'ready');
    check('keeps the evaluation id as state', (await page.evaluate(() => window.__state?.evaluationId)) === 42);
    const cells = Number(await scroller.getAttribute('data-cells'));
    check(`only the visible rows are in the DOM (${cells} cells for ${COUNT} images)`, cells > 0 && cells < 120);
    await page.screenshot({ path: path.join(shots, `webview-detection-${THEME}-top.png`), fullPage: false });

    // The browser, scrolled into view.
    await scroller.scrollIntoViewIfNeeded();
    await page.evaluate(() => document.querySelector('.grid-scroller').scrollIntoView());
    await page.waitForTimeout(200);
    await page.screenshot({ path: path.join(shots, `webview-detection-${THEME}-grid.png`) });

    // Scroll to the end: the last images are asked for and drawn; the DOM stays small.
    await page.evaluate(() => {
      const s = document.querySelector('.grid-scroller');
      s.scrollTop = s.scrollHeight;
    });
    const lastId = `val2017/${String(COUNT).padStart(12, '0')}.jpg`;
    const lastCell = await until(() => page.locator('.tile[data-ready="1"]', { hasText: lastId }).count());
    check('scrolling to the end draws the last image', lastCell === 1);
    check('the DOM stays small at the end', Number(await scroller.getAttribute('data-cells')) < 120);

    // Keyboard: focus the grid, move, open, close.
    await page.evaluate(() => (document.querySelector('.grid-scroller').scrollTop = 0));
    await scroller.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    const active = await scroller.getAttribute('aria-activedescendant');
    const cols = await page.evaluate(() =>
      Math.floor((document.querySelector('.grid-scroller').clientWidth + 8) / 204),
    );
    check('arrow keys move the selection', active === `cell-${1 + cols}`, `${active}, ${cols} columns`);
    await page.keyboard.press('Enter');
    await until(() => page.locator('.viewer:not([hidden])').count());
    check('Enter opens the large view', (await page.locator('.viewer:not([hidden])').count()) === 1);
    check('the large view labels its boxes', (await page.locator('.viewer .box-label').count()) > 0);
    await page.screenshot({ path: path.join(shots, `webview-detection-${THEME}-viewer.png`) });
    await page.keyboard.press('ArrowRight');
    check(
      'right arrow steps to the next image',
      (await scroller.getAttribute('aria-activedescendant')) === `cell-${2 + cols}`,
    );
    await page.keyboard.press('Escape');
    check(
      'Escape closes it and the grid has the focus again',
      (await page.locator('.viewer:not([hidden])').count()) === 0 &&
        (await page.evaluate(() => document.activeElement?.classList.contains('grid-scroller'))),
    );

    // The slider: one stats request after the moves stop (debounced), answered with new counts.
    const statsBefore = host.received.filter((m) => m.type === 'stats').length;
    const fnBefore = await page.locator('table.classes tbody tr').first().locator('td').nth(6).textContent();
    for (const v of ['0.4', '0.5', '0.6', '0.7'])
      await page.locator('#confidence').evaluate((e, x) => {
        e.value = x;
        e.dispatchEvent(new Event('input'));
      }, v);
    await until(() => host.received.filter((m) => m.type === 'stats').length > statsBefore);
    await page.waitForTimeout(300);
    const statsAsked = host.received.filter((m) => m.type === 'stats').slice(statsBefore);
    check(
      'the slider asks once, after it stops',
      statsAsked.length === 1 && statsAsked[0].payload.confidence === 0.7,
      JSON.stringify(statsAsked.map((m) => m.payload.confidence)),
    );
    const fnAfter = await until(async () => {
      const t = await page.locator('table.classes tbody tr').first().locator('td').nth(6).textContent();
      return t !== fnBefore ? t : undefined;
    });
    check(
      'raising the confidence raises the misses in the table',
      Number(fnAfter) > Number(fnBefore),
      `${fnBefore} → ${fnAfter}`,
    );

    // Filters and the sort: images with a missed bicycle, largest first.
    await page.locator('#class-filter').selectOption({ label: 'bicycle' });
    await page.locator('#outcome-filter').selectOption('fn');
    await page.locator('#sort').selectOption('fn-area');
    await until(() => host.last('images')?.payload.query.sort === 'fn-area');
    const q = host.last('images').payload.query;
    check('filters reach the host', q.cls === 2 && q.outcome === 'fn' && q.sort === 'fn-area', JSON.stringify(q));
    const expected = browse.browseImages(images, { confidence: 0.7, cls: 2, outcome: 'fn', sort: 'fn-area', limit: 1 });
    await until(
      async () =>
        (await page.locator('.tile[data-ready="1"]').count()) > 0 &&
        (await page.locator('.toolbar [role=status]').textContent()).startsWith(`${expected.total} `),
    );
    check(
      'the count of matching images shows',
      (await page.locator('.toolbar [role=status]').textContent()).startsWith(`${expected.total} images`),
    );
    const firstShown = await page.locator('#cell-0 .sample-id').textContent();
    check('largest missed bicycle first', firstShown === expected.images[0].image.sampleId, firstShown);
    await page.evaluate(() => document.querySelector('.grid-scroller').scrollIntoView());
    await page.screenshot({ path: path.join(shots, `webview-detection-${THEME}-filtered.png`) });

    // A confusion cell → its crops; a class's FN count → its crops.
    const cell = page.getByRole('button', { name: /(box|boxes): invented car$/ });
    await cell.scrollIntoViewIfNeeded();
    const n = Number(await cell.textContent());
    await cell.click();
    await until(() => page.locator('ul.crops li').count());
    await page
      .locator('#matrix-title')
      .locator('xpath=..')
      .screenshot({ path: path.join(shots, `webview-detection-${THEME}-matrix.png`) });
    const status = await page.locator('#crops [role=status]').textContent();
    check(
      'a confusion cell lists its boxes',
      status.includes(n > 500 ? `of ${n} boxes` : `${n} box`),
      `${n}: ${status}`,
    );
    const missed = page.getByRole('button', { name: /missed of dog: show the boxes/ });
    await missed.click();
    await until(async () => (await page.locator('#crops h2').textContent()) === 'Missed dog objects');
    await until(() => page.locator('ul.crops li').count());
    check('a class FN count lists its misses', (await page.locator('ul.crops li').count()) > 0);
    await page.locator('#crops').screenshot({ path: path.join(shots, `webview-detection-${THEME}-crops.png`) });
    // A crop opens its whole image, asked of the host by its place in the evaluation; Escape gives the focus back.
    const firstCrop = page.locator('ul.crops button.crop-open').first();
    const cropImage = (await firstCrop.getAttribute('title')).replace(/^Open /, '');
    await firstCrop.focus();
    await page.keyboard.press('Enter');
    await until(
      async () =>
        (await page.locator('#viewer-title').textContent()) === cropImage &&
        (await page.locator('.viewer:not([hidden])').count()),
    );
    check('a crop opens its image large', (await page.locator('#viewer-title').textContent()) === cropImage, cropImage);
    await page.screenshot({ path: path.join(shots, `webview-detection-${THEME}-crop-viewer.png`) });
    await page.keyboard.press('Escape');
    check(
      'Escape returns the focus to the crop',
      await page.evaluate(() => document.activeElement?.classList.contains('crop-open')),
    );
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, `webview-detection-${THEME}-full.png`), fullPage: true });

    const csp = await page.evaluate(() => window.__csp);
    check('no CSP violations', csp.length === 0, csp.join('; '));
    check('no console errors', errors.length === 0, errors.join('; '));
    const med = (k) => {
      const xs = timings
        .filter((t) => t[0] === k)
        .map((t) => t[1])
        .sort((a, b) => a - b);
      return xs.length
        ? `${xs[Math.floor(xs.length / 2)].toFixed(1)} ms (median of ${xs.length}, max ${xs.at(-1).toFixed(1)})`
        : 'none';
    };
    console.log(`host queries over ${COUNT} images × 100 predictions: images ${med('images')}, stats ${med('stats')}`);
  } finally {
    await browser.close();
    server.close();
  }
  if (failures.length) {
    console.error(`${failures.length} check(s) failed`);
    process.exitCode = 1;
  }
}

await main();
