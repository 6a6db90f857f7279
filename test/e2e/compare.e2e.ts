// End to end in code-server + Chromium: select two versions in the Model Registry tree, run
// "Compare Versions…" (context menu in the light pass, Command Palette in the dark one), and check
// the panel inside its webview frames: the final-metrics table marks the right best values and
// the curves are drawn.
import { execFileSync } from 'child_process';
import { cpSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { Frame, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { E2eContext, eventually, expand, STEP_TIMEOUT, treeItem } from './workbench';

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
    await server.stop();
  }
}
