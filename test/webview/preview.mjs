// Dev harness for the compare panel's page (not part of `npm test`). Serves dist/webview and a
// page with the panel's HTML shell and CSP on 127.0.0.1, plays the extension host through a stub
// acquireVsCodeApi, and drives it in headless Chromium: time to first chart, a round of
// interactions, and screenshots in light, dark and high-contrast themes.
//
//   node esbuild.mjs && node test/webview/preview.mjs [--versions 10] [--keep-open]
import { randomBytes } from 'crypto';
import { mkdirSync, readFileSync } from 'fs';
import { createServer } from 'http';
import * as path from 'path';
import { fileURLToPath } from 'url';
import { chromium } from 'playwright-core';
import { downsample, makeFixture } from './fixture.mjs';
import { THEMES } from './themes.mjs';
import { createRequire } from 'module';

// Compiled by `npm run compile`.
const require = createRequire(import.meta.url);
const { pageHtml } = require('../../out/src/extension/panels/pageHtml.js');
const { COMPARE_PAGE } = require('../../out/src/shared/compare/contract.js');
const { LiveColumnSeries, withLiveColumns } = require('../../out/src/extension/compare/live.js');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = path.join(root, 'test-results', 'screenshots');
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const perfVersions = Number(arg('--versions', 10));

// ---- server ------------------------------------------------------------------------------------
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };

function shell(origin, nonce, theme) {
  // The extension's own page (src/extension/panels/pageHtml.ts, the compare page's contract) with
  // cspSource = this origin, plus the stub of VS Code's webview API and theme variables, allowed by the same nonce.
  return pageHtml(COMPARE_PAGE, {
    cspSource: origin,
    dist: `${origin}/dist/webview`,
    nonce,
    beforeScript: `
<script nonce="${nonce}">
  window.__themes = ${JSON.stringify(THEMES)};
  window.__setTheme = (name) => {
    const t = window.__themes[name];
    const html = document.documentElement;
    html.removeAttribute('style');
    for (const [k, v] of Object.entries(t.vars)) html.style.setProperty(k, v);
    document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light');
    document.body.classList.add(t.bodyClass);
    document.body.dataset.vscodeThemeKind = t.bodyClass;
  };
  window.__setTheme(${JSON.stringify(theme)});
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
      const origin = `http://${req.headers.host}`;
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(shell(origin, randomBytes(16).toString('base64'), url.searchParams.get('theme') ?? 'light'));
      return;
    }
    const rel = url.pathname.startsWith('/dist/webview/') ? url.pathname.slice(1) : null;
    const file = rel && path.join(root, rel);
    if (!file || !file.startsWith(path.join(root, 'dist', 'webview'))) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---- the extension host's side -----------------------------------------------------------------
class Host {
  constructor(page, options) {
    this.page = page;
    this.options = options;
    this.overrides = {};
    this.fixture = makeFixture(options);
    this.received = [];
  }
  async attach() {
    await this.page.exposeBinding('__toHost', (_source, msg) => this.onMessage(msg));
  }
  send(msg) {
    return this.page.evaluate((m) => {
      window.__sentAt = performance.now();
      window.postMessage(m, '*');
    }, msg);
  }
  sendComparison() {
    return this.send({ type: 'comparison', payload: this.fixture.model });
  }
  async onMessage(msg) {
    this.received.push(msg);
    if (msg.type === 'ready') await this.sendComparison();
    if (msg.type === 'requestWindow') {
      const { requestId, key, axis, min, max } = msg.payload;
      const series = this.fixture.full
        .filter((s) => s.key === key && (axis === 'step' || s.relTimes))
        .map((s) => downsample(s, this.fixture.model.maxPoints, min, max, axis));
      await this.send({ type: 'seriesWindow', payload: { requestId, key, axis, series } });
    }
    if (msg.type === 'setDirection') {
      if (msg.payload.direction === null) delete this.overrides[msg.payload.key];
      else this.overrides[msg.payload.key] = msg.payload.direction;
      this.fixture = makeFixture({ ...this.options, overrides: this.overrides });
      await this.sendComparison();
    }
  }
  last(type) {
    return this.received.filter((m) => m.type === type).at(-1);
  }
}

// ---- checks ------------------------------------------------------------------------------------
const failures = [];
function check(name, ok, detail = '') {
  console.log(`${ok ? '  ok ' : 'FAIL '} ${name}${detail ? ` — ${detail}` : ''}`);
  if (!ok) failures.push(name);
}
const until = async (fn, ms = 3000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  return fn();
};

async function openPage(browser, origin, options, theme = 'light', viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  const host = new Host(page, options);
  await host.attach();
  await page.goto(`${origin}/?theme=${theme}`);
  await page.waitForFunction(() => performance.getEntriesByName('compare:first-chart').length > 0, null, {
    timeout: 10000,
  });
  const timing = await page.evaluate(() => {
    const c = performance.getEntriesByName('compare:comparison')[0].startTime;
    const f = performance.getEntriesByName('compare:first-chart')[0].startTime;
    return { handled: f - c, sent: f - window.__sentAt };
  });
  return { page, host, errors, timing };
}

/** Scrolls through the page so that every lazily built chart exists, then back to the top. */
async function buildAllCharts(page) {
  const cards = page.locator('.chart-card');
  for (let i = 0; i < (await cards.count()); i++) await cards.nth(i).scrollIntoViewIfNeeded();
  await page.waitForFunction(() =>
    [...document.querySelectorAll('.chart-card')].every((c) => c.dataset.chart === 'ready'),
  );
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(100);
}

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
    // 1. Speed: N versions × 5 keys × 2000 points, fresh page each run.
    const runs = [];
    for (let i = 0; i < 5; i++) {
      const { page, timing } = await openPage(browser, origin, { versions: perfVersions });
      runs.push(timing);
      await page.close();
    }
    const med = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const handled = med(runs.map((r) => r.handled));
    const sent = med(runs.map((r) => r.sent));
    console.log(
      `first chart, ${perfVersions} versions × 5 keys × 2000 points: ${handled.toFixed(0)} ms after the comparison message is handled, ${sent.toFixed(0)} ms after it was posted (median of ${runs.length}; runs: ${runs.map((r) => r.handled.toFixed(0)).join(', ')})`,
    );
    check('first chart under 1 s', sent < 1000);

    // 2. The fixture of 3 versions: screenshots, then a round of interactions.
    const { page, host, errors, timing } = await openPage(browser, origin, { versions: 3 });
    console.log(`first chart, 3 versions: ${timing.handled.toFixed(0)} ms`);
    await buildAllCharts(page);
    for (const theme of ['light', 'dark', 'hc']) {
      await page.evaluate((t) => {
        window.__setTheme(t);
        window.scrollTo(0, 0);
      }, theme);
      await page.waitForTimeout(150); // the theme observer redraws on the next frame
      const file = path.join(shots, `webview-compare-${theme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`screenshot ${path.relative(root, file)}`);
      if (process.argv.includes('--details')) {
        // Close-ups at full resolution, for reading details the full page shot shrinks.
        for (const part of [
          '.page-head',
          '#summary',
          '#metrics',
          '.chart-card >> nth=0',
          '#params',
          '.code-card >> nth=0',
        ]) {
          const name = part.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '');
          await page
            .locator(part)
            .first()
            .screenshot({ path: `/tmp/webview-compare-${theme}-${name}.png` });
        }
      }
    }
    await page.evaluate(() => window.__setTheme('light'));
    await interact(page, host);
    await liveColumn(page, host);
    const csp = await page.evaluate(() => window.__csp);
    check('no CSP violations', csp.length === 0, csp.join('; '));
    check('no console errors', errors.length === 0, errors.join('; '));
    if (process.argv.includes('--keep-open')) {
      console.log(`serving on ${origin} (Ctrl+C to stop); the page needs this script as its host`);
      await new Promise(() => {});
    }
  } finally {
    await browser.close();
    server.close();
  }
  if (failures.length) {
    console.error(`${failures.length} check(s) failed`);
    process.exitCode = 1;
  }
}

async function interact(page, host) {
  const posted = () => page.evaluate(() => window.__posted);
  check('posts ready first', (await posted())[0]?.type === 'ready');
  const state = await page.evaluate(() => window.__state);
  check(
    'saves the version ids as state',
    JSON.stringify(state) === JSON.stringify({ versionIds: [101, 102, 103] }),
    JSON.stringify(state),
  );
  check('a chart card per key with curves', (await page.locator('.chart-card').count()) === 5);
  check('best value marked', (await page.locator('.metrics-table tr[data-key="loss"] td.best').count()) === 1);
  check(
    'missing value shows a dash',
    (await page.locator('.metrics-table tr[data-key="f1"] td.missing').textContent()) === '—',
  );

  // Sorting and filtering the metrics.
  const keys = () => page.locator('.metrics-table tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.key));
  await page.locator('.metrics-table th[data-sort="key"] button').click();
  check('sort by key descending', (await keys())[0] === 'test_accuracy', (await keys()).join(','));
  await page.locator('.metrics-table th[data-sort="103"] button').click();
  const byValue = await keys();
  check('sort by a version value', byValue[0] === 'learning_rate', byValue.join(','));
  await page.locator('#metrics vscode-textfield input').fill('loss');
  check('filter metrics (still sorted by v3)', (await keys()).join(',') === 'loss,eval_loss', (await keys()).join(','));

  // Baseline: deltas are computed against v2 after picking it.
  await page.locator('#baseline').click();
  await page
    .locator('#baseline')
    .getByText('bert-sentiment:v2')
    .last()
    .click()
    .catch(async () => {
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
    });
  await until(
    async () =>
      (await page.locator('.metrics-table th .badge.baseline').locator('xpath=..').getAttribute('data-sort')) === '102',
  );
  check(
    'baseline switch',
    (await page.locator('.metrics-table th .badge.baseline').locator('xpath=..').getAttribute('data-sort')) === '102',
  );
  await page.locator('.toolbar vscode-button').first().click();
  check(
    'export with the baseline',
    JSON.stringify(host.last('export')?.payload) === JSON.stringify({ format: 'csv', baselineVersionId: 102 }),
    JSON.stringify(host.last('export')),
  );

  // Legend toggle applies to all charts; the axis switch.
  await page.locator('.legend-item[data-version-id="102"]').click();
  check(
    'legend toggle',
    (await page.locator('.legend-item[data-version-id="102"]').getAttribute('aria-pressed')) === 'false',
  );
  await page.locator('#curves').scrollIntoViewIfNeeded();

  // Drag-zoom the loss chart: a window request goes out and is answered.
  const card = page.locator('.chart-card', { has: page.locator('h3', { hasText: /^loss$/ }) });
  await card.scrollIntoViewIfNeeded();
  const box = await card.locator('canvas').boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.4);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.5, { steps: 5 });
  await page.mouse.up();
  const req = await until(() => host.last('requestWindow'));
  check(
    'zoom requests a finer window',
    !!req && req.payload.key === 'loss' && req.payload.min < req.payload.max,
    JSON.stringify(req?.payload),
  );
  await page.waitForTimeout(200);
  await card.screenshot({ path: '/tmp/webview-compare-zoomed.png' });
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.waitForTimeout(100);
  await card.screenshot({ path: '/tmp/webview-compare-tooltip.png' });

  // Copy as PNG: headless Chromium has no clipboard permission, so it falls back to savePng.
  await card.getByRole('button', { name: /Copy as PNG/ }).click();
  const status = await until(
    async () => (await card.locator('.status').textContent()).replace('Copying…', '') || undefined,
    8000,
  );
  const png = host.last('savePng');
  check(
    'copy as PNG (clipboard or savePng)',
    status === 'Copied' || png?.payload.dataUrl.startsWith('data:image/png;base64,'),
    status,
  );

  // Live update: a new version lands; the user's choices stay.
  host.options = { ...host.options, versions: 4 };
  host.fixture = makeFixture(host.options);
  await host.sendComparison();
  await until(async () => (await page.locator('.metrics-table thead th').count()) === 6);
  check('live update adds the column', (await page.locator('.metrics-table thead th').count()) === 6);
  check('keeps the filter', (await page.locator('#metrics vscode-textfield input').inputValue()) === 'loss');
  check(
    'keeps the sort',
    (await page.locator('.metrics-table th[data-sort="103"]').getAttribute('aria-sort')) === 'ascending',
  );
  check(
    'keeps the baseline',
    (await page.locator('.metrics-table th .badge.baseline').locator('xpath=..').getAttribute('data-sort')) === '102',
  );
  check(
    'keeps hidden versions',
    (await page.locator('.legend-item[data-version-id="102"]').getAttribute('aria-pressed')) === 'false',
  );
  check('saves the new version ids', (await page.evaluate(() => window.__state.versionIds.length)) === 4);

  // Direction toggle round trip.
  await page.locator('#metrics vscode-textfield input').fill('');
  const dir = page.locator('.metrics-table tr[data-key="learning_rate"] .direction');
  await dir.click();
  check(
    'direction toggle posts setDirection',
    JSON.stringify(host.last('setDirection')?.payload) === JSON.stringify({ key: 'learning_rate', direction: 'lower' }),
  );
  await until(async () => (await dir.textContent()) === '↓');
  check(
    'direction shows the override',
    (await dir.textContent()) === '↓' && (await dir.getAttribute('class')).includes('overridden'),
  );

  // Commit link, diff button, error banner.
  await page.locator('.commit-link').first().click();
  check('open commit', host.last('openCommit')?.payload.versionId === 101);
  await page.locator('.code-card vscode-button').first().click();
  check(
    'open diff',
    JSON.stringify(host.last('openDiff')?.payload) === JSON.stringify({ baseVersionId: 101, headVersionId: 102 }),
  );
  await host.send({ type: 'error', payload: { message: 'Could not build the comparison: test error' } });
  await until(() => page.locator('.banner.error').count());
  check('error banner', (await page.locator('.banner.error').textContent()).includes('test error'));
  await page.locator('.banner.error button').click();
  check('error banner dismissed', (await page.locator('.banner.error').count()) === 0);

  // Time axis and the "only differences" switch.
  await page.locator('vscode-radio[value="time"]').click();
  await page.waitForTimeout(100);
  const lr = page.locator('.chart-card', { has: page.locator('h3', { hasText: /^learning_rate$/ }) });
  check(
    'time axis leaves out a series without wall times',
    (await lr.locator('.chart-note').textContent()).includes('bert-sentiment:v3'),
  );
  await lr.screenshot({ path: '/tmp/webview-compare-time-axis.png' });
  await page.locator('.params').scrollIntoViewIfNeeded();
  const paramRows = () => page.locator('.params tbody tr').count();
  check(
    'params: only differences on by default (more than 20 rows)',
    (await paramRows()) === 6,
    String(await paramRows()),
  );
  await page.locator('#params vscode-checkbox').click();
  check('params: all rows after unchecking', (await paramRows()) === 26, String(await paramRows()));
  await page.screenshot({ path: '/tmp/webview-compare-after.png', fullPage: true });

  // Empty states: one version without metrics, params or code; then back to the full comparison.
  const one = makeFixture({ versions: 1 }).model;
  await host.send({ type: 'comparison', payload: { ...one, metrics: [], series: [], params: [], code: [] } });
  await until(async () => (await page.locator('#metrics .empty').count()) > 0);
  const text = (sel) => page.locator(sel).first().textContent();
  check('empty: no metrics', (await text('#metrics .empty')) === 'No metric logs in these versions.');
  check('empty: no curves', (await text('#curves .empty')) === 'No metric logs in these versions.');
  check('empty: no params', (await text('#params .empty')) === 'No parameters recorded in these versions.');
  check('empty: no code', (await text('#code .empty')) === 'Only one version: no code to compare.');
  const two = makeFixture({ versions: 2 }).model;
  two.metrics = two.metrics.map((m) => ({ ...m, values: [m.values[0], null], best: m.best.filter((i) => i === 0) }));
  two.series = two.series.filter((x) => x.versionId === 101);
  await host.send({ type: 'comparison', payload: two });
  await until(async () => (await page.locator('.chart-card').count()) === 5);
  check('back to charts after the empty state', (await page.locator('.chart-card').count()) === 5);
  check('a version without metrics says so', (await text('.metrics-table th[data-sort="102"]')).includes('no metrics'));
  await page.screenshot({ path: '/tmp/webview-compare-sparse.png', fullPage: true });
}

/** A running run's metric logs after n logged points (loss and accuracy every 1000 steps, eval_loss every 4000). */
function liveLogs(n) {
  const at = Array.from({ length: n }, (_, i) => (i + 1) * 1000);
  const series = (key, every, f) => {
    const steps = at.filter((s) => s % every === 0);
    return { key, steps, values: steps.map((s) => f(s / 100000)), wallTimes: steps.map((s) => 1.7e9 + s * 0.4) };
  };
  return [
    {
      source: 'metrics.jsonl',
      series: [
        series('loss', 1000, (t) => 2.3 * Math.exp(-6 * t) + 0.12),
        series('accuracy', 1000, (t) => 0.1 + 0.85 * (1 - Math.exp(-7 * t))),
        series('eval_loss', 4000, (t) => 2.2 * Math.exp(-5 * t) + 0.2),
      ],
    },
  ];
}

/** A live column (a training run followed by the panel): its badge, dashed lines, and points appended without a re-render. */
async function liveColumn(page, host) {
  const live = new LiveColumnSeries(-1, 2000);
  live.update(liveLogs(20));
  const model = withLiveColumns(makeFixture({ versions: 3 }).model, [
    {
      run: { id: 'run-7', label: 'bert-sentiment · run-7', output: '/work/outputs/run-7' },
      running: true,
      series: live,
    },
  ]);
  await host.send({ type: 'comparison', payload: model });
  await until(() => page.locator('#summary .badge.running').count());
  check('live column: running badge', (await page.locator('#summary .badge.running').textContent()) === 'running');
  const badge = await page.locator('#summary .badge.running').boundingBox();
  const width = page.viewportSize().width;
  check(
    `live column: the badge is inside the ${width} px window (three versions and a run fit without scrolling)`,
    badge !== null && badge.x + badge.width <= width,
    JSON.stringify(badge),
  );
  await buildAllCharts(page);
  const livePoints = () =>
    page.evaluate(() => {
      const card = [...document.querySelectorAll('.chart-card')].find(
        (c) => c.querySelector('h3').textContent === 'loss',
      );
      const chart = card.querySelector('canvas').__chart;
      const d = chart.data.datasets.find((x) => x.label === 'bert-sentiment · run-7');
      return { points: d?.data.length ?? 0, dashed: (d?.borderDash ?? []).length > 0 };
    });
  const rendered = await page.evaluate(() => document.body.dataset.rendered);
  for (let n = 21; n <= 40; n++) await host.send({ type: 'liveSeries', payload: live.update(liveLogs(n)) });
  const after = await until(async () => ((await livePoints()).points === 40 ? livePoints() : undefined));
  check('live column: 20 appends grow its line to 40 points', after?.points === 40, JSON.stringify(after));
  check('live column: dashed line', after?.dashed === true);
  check(
    'live column: appended without a re-render',
    (await page.evaluate(() => document.body.dataset.rendered)) === rendered,
  );
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => {
      window.__setTheme(t);
      window.scrollTo(0, 0);
    }, theme);
    await page.waitForTimeout(150);
    const file = path.join(shots, `webview-compare-live-${theme}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot ${path.relative(root, file)}`);
    // Close-ups: the column's header and a chart with its dashed line.
    await page.locator('#summary').screenshot({ path: `/tmp/webview-compare-live-${theme}-summary.png` });
    await page
      .locator('.chart-card', { has: page.locator('h3', { hasText: /^loss$/ }) })
      .screenshot({ path: `/tmp/webview-compare-live-${theme}-loss.png` });
  }
}

await main();
