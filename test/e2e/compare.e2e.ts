// End to end in code-server + Chromium: select two versions in the Model Registry tree, run
// "Compare Versions…" (context menu in the light pass, Command Palette in the dark one), and check
// the panel inside its webview frames: the final-metrics table marks the right best values and
// the curves are drawn.
import { execFileSync } from 'child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { Frame, Locator, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import {
  contextMenu,
  E2eContext,
  eventually,
  expand,
  STEP_TIMEOUT,
  treeItem,
  waitForAttribute,
  workspaceCli,
} from './workbench';

const THEMES = [
  ['light', 'Default Light Modern'],
  ['dark', 'Default Dark Modern'],
] as const;

/** Two runs of the same model whose val_acc differ: v2 is better. */
function importTwoRuns(ctx: E2eContext, workspace: string): { v1: number; v2: number } {
  const better = path.join(workspace, 'outputs', 'resnet-lr-0.05');
  cpSync(path.join(workspace, 'outputs', 'resnet-cifar'), better, { recursive: true });
  const csv = path.join(better, 'lightning_logs', 'version_0', 'metrics.csv');
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  const col = lines[0].split(',').indexOf('val_acc');
  const bumped = lines.map((l, i) =>
    i === 0
      ? l
      : l
          .split(',')
          .map((c, j) => (j === col && c !== '' ? String(Math.min(1, Number(c) + 0.15)) : c))
          .join(','),
  );
  writeFileSync(csv, bumped.join('\n') + '\n');
  const cli = (out: string) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [path.join(ctx.repoRoot, 'dist', 'cli.js'), 'import', out, '--model', 'resnet', '--json'],
        { cwd: workspace, encoding: 'utf8' },
      ),
    );
  const a = cli('outputs/resnet-cifar');
  const b = cli('outputs/resnet-lr-0.05');
  // Two runs whose logs have no wall times (the CSV logger only): model "steps-only".
  for (const [i, from] of ['resnet-cifar', 'resnet-lr-0.05'].entries()) {
    const out = path.join(workspace, 'outputs', `steps-only-${i}`);
    cpSync(path.join(workspace, 'outputs', from), out, { recursive: true });
    for (const f of readdirSync(path.join(out, 'lightning_logs', 'version_0')))
      if (f.startsWith('events.out.tfevents')) rmSync(path.join(out, 'lightning_logs', 'version_0', f));
    execFileSync(
      process.execPath,
      [path.join(ctx.repoRoot, 'dist', 'cli.js'), 'import', out, '--model', 'steps-only', '--json'],
      { cwd: workspace, encoding: 'utf8' },
    );
  }
  // steps-only@v3: v1 converted to float16 (checked in onnxruntime), sharing v1's metric log.
  workspaceCli(ctx, workspace)('convert', 'steps-only@v1', '--to', 'onnx-fp16');
  const acc = (v: { metrics: { key: string; value: number }[] }) => v.metrics.find((m) => m.key === 'val_acc')!.value;
  return { v1: acc(a), v2: acc(b) };
}

/** The versions' line colours, as the legend's swatches show them. */
async function versionColours(frame: Frame): Promise<number[][]> {
  const styles = await frame
    .locator('.legend .legend-item .swatch')
    .evaluateAll((s) => s.map((e) => e.getAttribute('style') ?? ''));
  const colours = styles
    .map((st) => (/rgb\((\d+), (\d+), (\d+)\)/.exec(st) ?? []).slice(1).map(Number))
    .filter((c) => c.length === 3);
  if (colours.length < 2) throw new Error(`legend shows ${colours.length} version colours: ${styles.join(' | ')}`);
  return colours;
}

/**
 * Every chart whose canvas is wholly inside the panel shows at least one line, judged on a
 * screenshot of the canvas (what a person sees): pixels in a version's colour above the bottom
 * quarter, where the axis title and the legend's colour boxes are. An empty box, or a chart that
 * only drew its axes and grid, has none.
 */
async function assertChartsDrawn(page: Page, frame: Frame, colours: number[][]): Promise<void> {
  const view = await (await frame.frameElement()).boundingBox();
  if (!view) throw new Error('the compare webview has no box');
  const canvases = frame.locator('.chart-card canvas');
  const blank: string[] = [];
  let shown = 0;
  for (let i = 0; i < (await canvases.count()); i++) {
    const canvas = canvases.nth(i);
    const box = await canvas.boundingBox();
    if (!box || box.y < view.y || box.y + box.height > view.y + view.height) continue; // not wholly in view
    shown++;
    const png = PNG.sync.read(await page.screenshot({ clip: box }));
    let linePixels = 0;
    for (let y = 0; y < png.height * 0.75; y++) {
      for (let x = 0; x < png.width; x++) {
        const p = (y * png.width + x) * 4;
        const px = [png.data[p], png.data[p + 1], png.data[p + 2]];
        if (colours.some((c) => c.every((v, k) => Math.abs(v - px[k]) <= 32))) linePixels++;
      }
    }
    if (linePixels < 100) blank.push(`${await canvas.getAttribute('aria-label')} (${linePixels} line pixels)`);
  }
  if (shown === 0) throw new Error('no chart is wholly in view');
  if (blank.length) throw new Error(`${blank.length} of ${shown} charts in view show no line: ${blank.join('; ')}`);
}

async function compareFrame(page: Page): Promise<Frame> {
  return eventually(
    async () => {
      for (const f of page.frames()) {
        if (
          await f
            .locator('.metrics-table')
            .count()
            .catch(() => 0)
        )
          return f;
      }
      throw new Error('no webview frame with the metrics table appeared');
    },
    { timeout: STEP_TIMEOUT, interval: 200 },
  );
}

/** The summary and parameter rows as a person reads them (issue 17's wording). */
async function checkLabels(frame: Frame): Promise<void> {
  const summaryRows = await frame.locator('table.summary tbody th').allTextContents();
  if (summaryRows.includes('Parameters') || !summaryRows.includes('Weights'))
    throw new Error(`the summary should count weights, not "Parameters": rows ${summaryRows.join(', ')}`);
  const rowCells = (name: string) =>
    frame
      .locator('table.summary tbody tr')
      .filter({ has: frame.locator(`th:text-is("${name}")`) })
      .locator('td');
  const weights = await rowCells('Weights').allTextContents();
  if (!weights.every((w) => /^[\d.]+[KMB]? values?$/.test(w.trim())))
    throw new Error(`Weights: ${weights.join(' | ')}`);
  const formats = await rowCells('Format').allTextContents();
  if (formats.some((f) => /^(\S+) · \1$/i.test(f.trim())))
    throw new Error(`Format repeats itself: ${formats.join(' | ')}`);
  // Parameters by their key; the file they come from on hover.
  const lr = frame.locator('table.params tbody th.key').filter({ hasText: /^(≠ )?lr$/ });
  if ((await lr.count()) !== 1)
    throw new Error(
      `no parameter row "lr": ${(await frame.locator('table.params th.key').allTextContents()).join(', ')}`,
    );
  const title = await lr.getAttribute('title');
  if (!title?.includes('lightning_logs/version_0/hparams.yaml')) throw new Error(`lr's hover says "${title}"`);
  // A learning rate is not a result: no "?" and no best value.
  const lrSgd = frame.locator('.metrics-table tr[data-key="lr-SGD"]');
  const arrow = (await lrSgd.locator('button.direction').textContent())?.trim();
  if (arrow !== '–') throw new Error(`lr-SGD's direction shows "${arrow}"`);
  if ((await lrSgd.locator('td.best, .best-mark').count()) !== 0) throw new Error('lr-SGD has a best value marked');
}

/** Step → Time switches every chart to the time axis and leaves the page where it was. */
async function switchToTime(frame: Frame): Promise<void> {
  const scrollY = () => frame.evaluate<number>('window.scrollY');
  const before = await scrollY();
  if (before < 100) throw new Error(`the Curves section should be scrolled to, page at ${before} px`);
  await frame.locator('vscode-radio[value="time"]').click();
  const timed = frame.locator('.chart-card canvas[aria-label*=" by time "]');
  await eventually(
    async () => {
      if ((await timed.count()) === 0) throw new Error('no chart switched to the time axis');
    },
    { timeout: STEP_TIMEOUT, interval: 100 },
  );
  const after = await scrollY();
  if (Math.abs(after - before) > 2)
    throw new Error(`switching the x axis scrolled the page from ${before} to ${after} px`);
}

/**
 * Drag-zooms the train/loss chart into its steep start, then points at the y axis and leaves the
 * canvas: the y axis must hold every visible line with room to spare (the points in the zoomed x
 * range and where the lines cross its edges, judged here from the chart's own data and scales),
 * and no tooltip may stay behind.
 */
async function dragZoom(page: Page, frame: Frame, shot: string): Promise<void> {
  const card = frame.locator('.chart-card').filter({ has: frame.locator('h3:text-is("train/loss")') });
  const canvas = card.locator('canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  if (!box) throw new Error('train/loss has no chart');
  const y = box.y + box.height * 0.4;
  await page.mouse.move(box.x + box.width * 0.3, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.45, y, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.55, y, { steps: 5 });
  await page.mouse.up();
  await page.mouse.move(box.x + 8, y, { steps: 3 }); // over the y axis' labels, still on the canvas
  type State = { tooltip: number; zoomed: boolean; problems: string[] };
  const state = () =>
    canvas.evaluate((c): State => {
      type P = { x: number; y: number | null };
      const chart = (c as unknown as { __chart: any }).__chart;
      const { x, y } = chart.scales;
      const margin = (y.max - y.min) * 0.01;
      const problems: string[] = [];
      chart.data.datasets.forEach((d: { label: string; data: P[] }, i: number) => {
        if (!chart.isDatasetVisible(i)) return;
        const pts = d.data.filter((p) => p.y !== null) as { x: number; y: number }[];
        const seen: number[] = pts.filter((p) => p.x >= x.min && p.x <= x.max).map((p) => p.y);
        for (let k = 0; k + 1 < pts.length; k++) {
          const [p, q] = [pts[k], pts[k + 1]];
          for (const e of [x.min, x.max])
            if (p.x < e && q.x > e) seen.push(p.y + ((q.y - p.y) * (e - p.x)) / (q.x - p.x));
        }
        for (const v of seen)
          if (v < y.min + margin || v > y.max - margin)
            problems.push(
              `${d.label} reaches ${v.toPrecision(4)}, y axis ${y.min.toPrecision(4)}..${y.max.toPrecision(4)}`,
            );
      });
      return { tooltip: chart.tooltip.getActiveElements().length, zoomed: chart.isZoomedOrPanned(), problems };
    });
  await eventually(
    async () => {
      const s = await state();
      if (!s.zoomed) throw new Error('the drag did not zoom the chart');
      if (s.problems.length) throw new Error(`the zoomed y axis clips: ${s.problems.slice(0, 3).join('; ')}`);
    },
    { timeout: STEP_TIMEOUT, interval: 200, message: 'zoomed y axis' },
  );
  await page.screenshot({ path: shot });
  // The pointer rests over the y axis' labels: no point is under it, so no tooltip.
  await eventually(
    async () => {
      const n = (await state()).tooltip;
      if (n) throw new Error(`after the zoom a tooltip with ${n} point(s) stays while the pointer is over the y axis`);
    },
    { timeout: 5000, interval: 100, message: 'tooltip after zoom' },
  );
}

/** Versions whose logs have no wall times: the curves offer no Step/Time choice (time could only draw empty charts). */
async function stepsOnly(page: Page, registry: Locator, shot: string): Promise<void> {
  await page.mouse.move(0, 0);
  await expand(treeItem(registry, page, 'steps-only'));
  // The second v1 and v2 rows: those of steps-only, listed after resnet's.
  const v1 = treeItem(registry, page, 'v1');
  const v2 = treeItem(registry, page, 'v2');
  await eventually(
    async () => {
      if ((await v1.count()) !== 2 || (await v2.count()) !== 2) throw new Error('steps-only did not expand');
    },
    { timeout: STEP_TIMEOUT, interval: 100 },
  );
  await v1.nth(1).click();
  await v2.nth(1).click({ modifiers: ['Control'] });
  await page.keyboard.up('Control');
  for (const row of [v1.nth(1), v2.nth(1)]) await waitForAttribute(row, 'aria-selected', 'true');
  if ((await v1.first().getAttribute('aria-selected')) === 'true') throw new Error("resnet's v1 is still selected");
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.fill('>Model Registry: Compare Versions');
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Compare Versions' }).first().waitFor();
  await page.keyboard.press('Enter');
  const frame = await eventually(
    async () => {
      for (const f of page.frames()) {
        if (
          (await f
            .locator('.chart-card h3:text-is("val_acc")')
            .count()
            .catch(() => 0)) &&
          (await f
            .locator('text=steps-only@v1')
            .count()
            .catch(() => 0))
        )
          return f;
      }
      throw new Error('no compare panel of steps-only@v1, v2 and v3 appeared');
    },
    { timeout: STEP_TIMEOUT, interval: 200 },
  );
  await frame.locator('#curves').scrollIntoViewIfNeeded();
  if (await frame.locator('#curves vscode-radio[value="time"]').isVisible())
    throw new Error('the Step/Time choice shows although no series of steps-only has wall times');
  if (!(await frame.locator('#curves .legend-item').first().isVisible())) throw new Error('the curves have no legend');
  // v3, the conversion of v1, joined the comparison (a newer version of the model): its summary
  // says what the converter did, and its metrics column whose metrics they are.
  const conversion = frame.locator('table.summary tbody tr').filter({ has: frame.locator('th:text-is("Conversion")') });
  await eventually(
    async () => {
      const cells = await conversion.locator('td').allInnerTexts();
      const v3 = cells[cells.length - 1] ?? '';
      if (
        cells.length !== 3 ||
        cells[0].trim() !== '—' ||
        !/onnx-fp16 · fp16/.test(v3) ||
        !/from steps-only@v1/.test(v3) ||
        !/max abs error \S+ \(relative \S+\) over \d+ input sets?/.test(v3)
      )
        throw new Error(`Conversion row: ${JSON.stringify(cells)}`);
    },
    { timeout: STEP_TIMEOUT, interval: 200, message: 'conversion summary' },
  );
  const note = (await frame.locator('.metrics-table thead th').last().innerText()).trim();
  if (!note.includes('metrics of the parent (conversion)')) throw new Error(`v3's metrics column reads "${note}"`);
  await frame.locator('#summary').scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot });
  await narrow(page, frame, shot.replace('.png', '-420px.png'));
}

/**
 * Plot Metric Across Versions from the model row's context menu: a panel in the across mode whose
 * section plots one metric per version, starting on a goal, with the better run (v2) starred.
 */
async function acrossVersions(page: Page, registry: Locator, shot: string): Promise<void> {
  await page.mouse.move(0, 0);
  // The model row alone (v1 and v2 are still selected from the comparison): one click selects it.
  const model = treeItem(registry, page, 'resnet');
  await model.click();
  await waitForAttribute(model, 'aria-selected', 'true');
  await contextMenu(page, model, 'Plot Metric Across Versions');
  const frame = await eventually(
    async () => {
      for (const f of page.frames()) {
        if (
          await f
            .locator('#across:not([hidden]) canvas')
            .count()
            .catch(() => 0)
        )
          return f;
      }
      throw new Error('no compare panel with the Across versions section appeared');
    },
    { timeout: STEP_TIMEOUT, interval: 200 },
  );
  const heading = (await frame.locator('.page-head h1').innerText()).trim();
  if (heading !== 'resnet across versions') throw new Error(`the panel's heading reads "${heading}"`);
  const picker = frame.locator('#across select');
  const first = await picker.inputValue();
  if (!/acc|loss/.test(first)) throw new Error(`the metric picker starts on "${first}", not a goal`);
  await picker.selectOption('val_acc');
  const rows = frame.locator('#across table.across tbody tr');
  await eventually(
    async () => {
      const cells = await rows.allInnerTexts();
      const text = cells.map((c) => c.replace(/\s+/g, ' ').trim());
      if (text.length !== 2 || !text[0].startsWith('resnet@v1') || !/^resnet@v2 .*★$/.test(text[1]))
        throw new Error(`the val_acc points read ${JSON.stringify(text)}`);
    },
    { timeout: STEP_TIMEOUT, interval: 200, message: 'val_acc across versions' },
  );
  const caption = (await frame.locator('#across .across-caption').innerText()).trim();
  if (!caption.startsWith('Best (higher is better): v2')) throw new Error(`the caption reads "${caption}"`);
  const box = await frame.locator('#across canvas').boundingBox();
  if (!box || box.height < 100) throw new Error(`the across chart is ${box?.height ?? 0} px high`);
  await page.screenshot({ path: shot });
}

/**
 * The panel at 420 px (a split editor, as Compare with Parent opens it): nothing scrolls sideways,
 * neither the page nor any table.
 */
async function narrow(page: Page, frame: Frame, shot: string): Promise<void> {
  const width = () => frame.evaluate<number>('document.documentElement.clientWidth');
  for (let i = 0; i < 4 && Math.abs((await width()) - 420) > 6; i++) {
    const size = page.viewportSize()!;
    // Two editor groups share the window's growth: the panel gets about half of it.
    await page.setViewportSize({ width: Math.round(size.width - 2 * ((await width()) - 420)), height: size.height });
    await page.waitForFunction(() => true); // one round trip for the layout
  }
  const w = await width();
  if (Math.abs(w - 420) > 10) throw new Error(`the compare panel is ${w} px wide, not about 420`);
  const overflowing = await frame.evaluate<
    string[]
  >(`[document.scrollingElement, ...document.querySelectorAll('.table-scroll, .section, .page-head')]
      .filter((e) => e.scrollWidth > e.clientWidth)
      .map((e) => (e.id || e.className || e.tagName) + ' ' + e.scrollWidth + ' > ' + e.clientWidth)`);
  if (overflowing.length) throw new Error(`at ${w} px these scroll sideways: ${overflowing.join('; ')}`);
  await frame.locator('#metrics').scrollIntoViewIfNeeded();
  await page.screenshot({ path: shot });
}

export async function run(ctx: E2eContext): Promise<void> {
  const workspace = await ctx.prepareWorkspace();
  const acc = importTwoRuns(ctx, workspace);
  for (const [name, theme] of THEMES) {
    const server = await ctx.startCodeServer({ workspace, settings: { 'workbench.colorTheme': theme } });
    const page = await ctx.openWorkbench(server, workspace);
    page.setDefaultTimeout(STEP_TIMEOUT);
    const tab = page.getByRole('tab', { name: /Model Registry/ });
    await tab.waitFor();
    if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
    const registry = page.locator('[id="workbench.view.extension.modelRegistry"]');
    await expand(treeItem(registry, page, 'resnet'));
    await treeItem(registry, page, 'v1').click();
    await treeItem(registry, page, 'v2').click({ modifiers: ['Control'] });
    const started = Date.now();
    if (name === 'light') {
      // From the context menu of the selection. Hovering first: a click that lands while the menu
      // is still opening does not run the item.
      await page.keyboard.up('Control');
      await treeItem(registry, page, 'v2').click({ button: 'right' });
      const item = page.getByRole('menuitem', { name: /Compare Versions/ });
      await item.waitFor();
      await item.hover();
      await page.waitForTimeout(200);
      await item.click();
    } else {
      // From the Command Palette: with two versions selected in the tree it compares them.
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input.input');
      await input.waitFor();
      await input.fill('>Model Registry: Compare Versions');
      await page
        .locator('.quick-input-list .monaco-list-row')
        .filter({ hasText: 'Compare Versions' })
        .first()
        .waitFor();
      await page.keyboard.press('Enter');
    }

    const frame = await compareFrame(page);
    await frame.locator('canvas').first().waitFor({ timeout: STEP_TIMEOUT });
    ctx.log(`${name}: panel with its first chart ${Date.now() - started} ms after the command`);
    const row = frame.locator('.metrics-table tr[data-key="val_acc"]');
    const cells = row.locator('td.num');
    if ((await cells.count()) !== 2) throw new Error(`val_acc row has ${await cells.count()} value cells`);
    const best = await row.locator('td.best').count();
    const bestText = (await row.locator('td.best span').first().textContent())?.trim();
    if (best !== 1 || Number(bestText) !== Number(acc.v2.toPrecision(4))) {
      throw new Error(`val_acc best should be v2's ${acc.v2}, table marks ${best} cell(s): "${bestText}"`);
    }
    if (!(await row.locator('td.best').evaluate((td) => td === td.parentElement!.lastElementChild)))
      throw new Error('best is not in the v2 column');
    const charts = await frame.locator('canvas').count();
    if (charts < 4) throw new Error(`expected a chart per metric, found ${charts} canvases`);
    await page.screenshot({ path: path.join(ctx.screenshotDir, `e2e-compare-${name}.png`) });
    await checkLabels(frame);
    await frame.locator('#curves').scrollIntoViewIfNeeded();
    // The sticky header must not cover the section it scrolled to (its controls row comes first).
    const head = await frame.locator('.page-head').boundingBox();
    const curves = await frame.locator('#curves').boundingBox();
    const covered = head && curves ? head.y + head.height - curves.y : NaN;
    if (!(covered <= 1))
      throw new Error(`the page header covers the top ${covered.toFixed(0)} px of the Curves section`);
    // Off the tree, whose hover card would cover the first chart.
    await page.mouse.move(0, 0); // the window's title bar
    // Charts are built as they scroll into view: judge (and photograph) them once they are drawn.
    const colours = await versionColours(frame);
    await eventually(() => assertChartsDrawn(page, frame, colours), {
      timeout: STEP_TIMEOUT,
      interval: 250,
      message: `${name}: curves`,
    });
    await page.screenshot({ path: path.join(ctx.screenshotDir, `e2e-compare-${name}-curves.png`) });
    await dragZoom(page, frame, path.join(ctx.screenshotDir, `e2e-compare-${name}-zoom.png`));
    if (name === 'light') await switchToTime(frame);
    if (name === 'light') await acrossVersions(page, registry, path.join(ctx.screenshotDir, 'e2e-compare-across.png'));
    if (name === 'dark')
      await stepsOnly(page, registry, path.join(ctx.screenshotDir, 'e2e-compare-dark-conversion.png'));
    await server.stop();
  }
}
